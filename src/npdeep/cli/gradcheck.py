"""``npdeep gradcheck [MODEL]``: backpropagation against central differences.

On a saved model, or on a network built from the options. The check runs on ``--samples``
samples: random (seeded) inputs and targets that fit the output layer, or the first rows of
``--data`` (scaled as the model was trained). Prints the per-layer table and the verdict;
exits 1 when any parameter fails: a parameter passes when
``||num - bp|| < tolerance * max(||num|| + ||bp||, round_off / tolerance)``, that is when its
relative error is below the tolerance or the difference is within the round-off of central
differences (see :mod:`npdeep.gradcheck`).
"""

from __future__ import annotations

import click
import numpy as np

from .. import activations, losses
from ..errors import ConfigurationError, DataError
from ._common import (
    SEED,
    FiniteFloatRange,
    data_name,
    data_source,
    emit,
    json_option,
    load_model,
)
from ._dialect import dialect_options, resolve
from .train import UnitsType, named_choice


def _random_targets(net, m: int, rng: np.random.Generator) -> np.ndarray:
    """Targets that suit the output layer: labels, 0/1 values, counts (poisson), or real
    values. (n_L, m)."""
    n_L = net.units[-1]
    out = net.output_activation.name
    if out == "softmax":
        return np.eye(n_L)[:, rng.integers(0, n_L, size=m)]
    if out == "sigmoid" or net.loss.name == "binary_crossentropy":
        return (rng.random((n_L, m)) > 0.5).astype(np.float64)
    if net.loss.name == "poisson":
        return rng.poisson(2.0, size=(n_L, m)).astype(np.float64)
    return rng.normal(size=(n_L, m))


def _real_targets(m, y: np.ndarray, source: str) -> np.ndarray:
    """The network's targets (n_L, m) for labels or values ``y`` read from data ``source``."""
    n_L = m.net.units[-1]
    if getattr(m, "multilabel", False):  # 0/1 per label, already as the sigmoid units take
        return np.asarray(y, dtype=np.float64).reshape(len(y), -1).T
    if m.task == "classification":
        unseen = np.setdiff1d(np.unique(y), m.classes)
        if unseen.size:  # searchsorted gave them a neighbouring class's target
            raise DataError(
                f"{source}: labels {unseen.tolist()} are not among the classes "
                f"{m.classes.tolist()} of {m.path.name}; the gradient check needs targets its "
                "output layer can hold"
            )
        index = np.searchsorted(m.classes, y)
        index = np.minimum(index, len(m.classes) - 1)
        return index.reshape(1, -1).astype(np.float64) if n_L == 1 else np.eye(n_L)[:, index]
    y2 = y.reshape(len(y), -1).astype(np.float64)
    if m.header.get("target_scaling"):
        from ..data import Standardizer

        y2 = Standardizer.from_config(m.header["target_scaling"]).transform(y2)
    return y2.T


#: Options that describe the network built when no MODEL is given.
NETWORK_OPTIONS = ("inputs", "units", "outputs", "activation", "output_activation", "loss", "l2")


@click.command()
@click.argument("model", required=False)
@click.option("--data", help="With MODEL: check on the first --samples rows of this data ('-': "
              "standard input).")
@dialect_options
@click.option("--inputs", type=click.IntRange(1), default=4, show_default=True,
              help="n_x of the network built from options.")
@click.option("--units", type=UnitsType(), default="5,4", show_default=True,
              help="Hidden layer widths of the network built from options.")
@click.option("--outputs", type=click.IntRange(1), default=3, show_default=True,
              help="n_L of the network built from options.")
@click.option("--activation", type=named_choice(activations, activations.HIDDEN_NAMES),
              default="tanh", show_default=True,
              help="Hidden activation (perturbations across relu's kink at 0 are skipped).")
@click.option("--output-activation", type=named_choice(activations),
              help="Output activation [default: the canonical one of --loss when it is given "
                   "(identity for mean_squared_error); else softmax for several outputs, "
                   "sigmoid for one].")
@click.option("--loss", type=named_choice(losses), help="Loss [default: canonical pair].")
@click.option("--l2", type=FiniteFloatRange(0), default=0.0, show_default=True,
              help="L2 penalty lambda of the network built from options (its gradient is "
                   "checked too).")
@click.option("--samples", type=click.IntRange(1), default=8, show_default=True,
              help="Samples the cost is computed on (random ones, or the first rows of --data).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the random inputs and targets, the built network's weights and the "
                   "entries checked.")
@click.option("--tolerance", type=FiniteFloatRange(0, min_open=True), default=1e-6,
              show_default=True,
              help="Largest relative error that passes; a difference within the round-off "
                   "column (what round-off in the cost can do to central differences) passes "
                   "too, so near-zero gradients of a trained model are not failed for "
                   "round-off.")
@click.option("--epsilon", type=FiniteFloatRange(0, min_open=True), default=1e-3,
              show_default=True, help="Perturbation of each parameter entry.")
@click.option("--max-checks", type=click.IntRange(1), default=200, show_default=True,
              help="Entries perturbed per parameter: a larger one is checked on a seeded "
                   "sample of this many (the table says which).")
@json_option
@click.pass_context
def gradcheck(ctx, model, data, inputs, units, outputs, activation, output_activation, loss,
              l2, samples, seed, tolerance, epsilon, max_checks, as_json, **dialect):
    """Check backpropagation's gradients of MODEL (or of a network given by options).

    MODEL is a network file (`npdeep train`, Network.save, a training checkpoint); a
    scikit-learn estimator saved by npdeep.save is refused.

    A parameter passes when its relative error ||num - bp|| / (||num|| + ||bp||) is below
    --tolerance, or when ||num - bp|| is within its round-off bound (column round-off).
    """
    from ..gradcheck import gradient_check
    from ..network import Network

    rng = np.random.default_rng(seed)
    given = [f"--{k}" for k, v in dialect.items() if v is not None]
    if given and data is None:
        raise click.UsageError(f"{', '.join(given)}: describe(s) the CSV of --data, which is "
                               "not given (--data FILE, with a MODEL)")
    if model is not None:
        built = [f"--{name.replace('_', '-')}" for name in NETWORK_OPTIONS
                 if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]
        if built:
            raise click.UsageError(f"{', '.join(built)}: only for a network built from options; "
                                   "with MODEL the saved network is checked as it is")
        m = load_model(model)
        net = m.net
        source = str(m.path)
        if data is not None:
            from .evaluate import load_labelled

            with data_source(data) as data_path:
                ds = load_labelled(m, data_path, None,
                                   resolve(dialect, m.csv_dialect, data_path))
            X = m.scale(ds.X[:samples]).T
            Y = _real_targets(m, ds.y[:samples], data_name(data))
        else:
            X = rng.normal(size=(net.n_x, samples))
            Y = _random_targets(net, samples, rng)
    else:
        if data is not None:
            raise click.UsageError("--data needs a MODEL (the network built from options "
                                   "checks on random data)")
        try:
            net = Network([inputs, *units, outputs], activation=activation,
                          output_activation=output_activation, loss=loss, dtype="float64",
                          seed=seed, l2=l2)
        except ConfigurationError as exc:  # options that do not go together: a usage error
            if isinstance(exc.__cause__, MemoryError):  # too wide for the memory: exit 1
                raise
            raise click.UsageError(str(exc), click.get_current_context()) from None
        source = repr(net)
        X = rng.normal(size=(inputs, samples))
        Y = _random_targets(net, samples, rng)
    result = gradient_check(net, X, Y, epsilon=epsilon, tolerance=tolerance,
                            max_checks=max_checks, seed=seed)
    # a failed check exits 1, and its JSON says so as every exit-1 JSON does: ok false
    what = "failed" if any(r["passed"] is False for r in result.rows()) else "incomplete"
    failed = {} if result.passed else {"ok": False, "error": f"gradient check {what}",
                                       "exit_code": 1}
    emit(as_json, {**failed, "network": source, "units": net.units, "samples": int(X.shape[1]),
                   "passed": result.passed, "max_error": result.max_error,
                   "tolerance": tolerance, "epsilon": epsilon, "parameters": result.rows(),
                   "notes": result.notes},
         f"gradient check of {source} on {X.shape[1]} samples\n{result}")
    if not result.passed:
        ctx.exit(1)
