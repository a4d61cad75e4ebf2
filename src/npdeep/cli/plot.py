"""``npdeep plot MODEL -o curves.png``: the training curves stored in a model file.

Three panels, one point per epoch: the cost (training and validation), the metric (accuracy
or R^2, training and validation) and the learning rate. matplotlib is an optional extra
(``pip install 'npdeep[plot]'``); without it the command says so and exits 1.
"""

from __future__ import annotations

import io
from pathlib import Path

import click

from ..errors import ConfigurationError, ModelFileError
from ._common import (
    atomic_write_bytes,
    check_not_input,
    check_output_path,
    emit,
    json_option,
    load_model,
)

MISSING = ("drawing curves needs matplotlib, which is not installed; install it with "
           "pip install 'npdeep[plot]' (or pip install matplotlib)")


def check_matplotlib() -> None:
    """Raise ConfigurationError with the install hint when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigurationError(MISSING) from None


#: The file types the curves can be drawn to, by file suffix (none: PNG).
FORMATS = ("png", "pdf", "svg")


def plot_format(path: str | Path, option: str = "--output") -> str:
    """The drawing format named by ``path``'s suffix; ConfigurationError for any other."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if not suffix:
        return "png"
    if suffix not in FORMATS:
        raise ConfigurationError(
            f"{option}: cannot draw to a .{suffix} file ({str(path)!r}); use a name ending in "
            + ", ".join(f".{f}" for f in FORMATS)
        )
    return suffix


def render_curves(history: dict, path: str | Path, title: str = "") -> list[str]:
    """Draw the curves of ``history`` (``History.to_dict()``) to ``path``, atomically.

    The format follows the suffix (see :data:`FORMATS`; PNG without one).

    Returns the names of the curves drawn.
    """
    check_matplotlib()
    form = plot_format(path)
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    epochs = [e + 1 for e in history.get("epoch", [])]
    if not epochs or not history.get("cost"):
        raise ModelFileError("the model holds no training history to plot")
    metric = "accuracy" if "accuracy" in history else "r2" if "r2" in history else None
    panels = [("cost", ["cost", "val_cost"])]
    if metric:
        panels.append(("accuracy" if metric == "accuracy" else "R^2", [metric, f"val_{metric}"]))
    if history.get("learning_rate"):
        panels.append(("learning rate", ["learning_rate"]))
    fig = Figure(figsize=(4.2 * len(panels), 3.6), dpi=100)
    drawn = []
    for i, (label, keys) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), i)
        for key in keys:
            values = history.get(key)
            if not values:
                continue
            ys = [float("nan") if v is None else v for v in values]
            name = ("validation" if key.startswith("val_") else
                    "training" if key != "learning_rate" else "learning rate")
            ax.plot(epochs[: len(ys)], ys, marker="." if len(ys) < 30 else None, label=name)
            drawn.append(key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        if label == "cost" and all((v or 0) > 0 for v in history["cost"]):
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=form)
    atomic_write_bytes(Path(path), lambda fh: fh.write(buf.getvalue()))
    return drawn


@click.command()
@click.argument("model")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="File to write, .png, .pdf or .svg [default: MODEL's name with -curves.png].")
@json_option
def plot(model, output, as_json):
    """Draw MODEL's training curves: cost, metric and learning rate per epoch."""
    check_matplotlib()
    m = load_model(model)
    out = Path(output) if output else m.path.with_name(m.path.stem + "-curves.png")
    check_output_path(out, "--output")
    check_not_input(out, "--output", {"the model file MODEL": model})
    plot_format(out)
    history = m.net.history.to_dict() if m.net.history else {}
    drawn = render_curves(history, out, title=m.path.name)
    emit(as_json, {"output": str(out), "curves": drawn, "epochs": len(history.get("epoch", []))},
         f"drew {', '.join(drawn)} over {len(history.get('epoch', []))} epochs to {out}")
