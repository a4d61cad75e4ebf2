"""The ``npdeep`` command line.

``npdeep train`` with no arguments trains the default deep network on scikit-learn's
handwritten digits (standardized, 75/25 stratified split, seed 0), prints the test accuracy
and saves the model.
"""

from __future__ import annotations

import sys

import click
import numpy as np

from .errors import NpdeepError

DEFAULT_UNITS = "256,128"
DEFAULT_MODEL_PATH = "npdeep-model.npz"


def _parse_units(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers like 128,64, got {text!r}"
        ) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="npdeep")
def main() -> None:
    """npdeep: deep L-layer neural networks in NumPy, true to the article's equations."""


@main.command()
@click.option("--units", default=DEFAULT_UNITS, show_default=True,
              help="Hidden layer widths n_1..n_{L-1}, comma-separated.")
@click.option("--activation", default="relu", show_default=True,
              help="Hidden activation: sigmoid, tanh, relu, leaky_relu, identity.")
@click.option("--epochs", default=40, show_default=True, type=int, help="Passes over the data.")
@click.option("--learning-rate", "learning_rate", default=0.1, show_default=True, type=float,
              help="Learning rate alpha.")
@click.option("--batch-size", default=32, show_default=True, type=int,
              help="Mini-batch size (0 for full batch, as the article).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32",
              show_default=True, help="Precision of the computation.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every random draw.")
@click.option("-o", "--output", default=DEFAULT_MODEL_PATH, show_default=True,
              help="Where to save the trained model.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def train(units, activation, epochs, learning_rate, batch_size, dtype, seed, output, quiet):
    """Train a deep network on the built-in digits data set and save it."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from .network import Network

    hidden = _parse_units(units)
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    mean, scale = X_tr.mean(axis=0), X_tr.std(axis=0)
    scale[scale == 0] = 1.0
    X_tr, X_te = (X_tr - mean) / scale, (X_te - mean) / scale
    n_classes = int(y.max()) + 1
    try:
        net = Network([X.shape[1], *hidden, n_classes], activation=activation, dtype=dtype,
                      seed=seed)
        net.fit(X_tr.T, y_tr, epochs=epochs, learning_rate=learning_rate,
                batch_size=batch_size or None, verbose=0 if quiet else 1)
        accuracy = float(np.mean(net.predict(X_te.T) == y_te))
        net.save(output, data={"name": "digits", "samples": int(X.shape[0])},
                 scaling={"mean": mean.tolist(), "scale": scale.tolist()})
    except NpdeepError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"test accuracy: {accuracy:.4f}")
    click.echo(f"model saved to {output}")


def run(argv=None) -> int:
    """Run the command line with ``argv``; return the exit code (for tests)."""
    try:
        main.main(args=argv, prog_name="npdeep", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
