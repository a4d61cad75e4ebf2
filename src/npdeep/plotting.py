"""Training curves of a :class:`~npdeep.callbacks.History`: cost, metric and learning rate.

``history.plot()`` (or ``plot_history(history)``) draws up to three panels, one point per
epoch: the cost (training and validation, log scale when positive), the metric (accuracy or
R^2, training and validation) and the learning rate. Every panel spans every epoch; the epochs
whose value is NaN or inf, which a line skips, are named on the panel. It returns a
matplotlib ``Figure`` (shown by a notebook as the cell's value) and, given a path, also writes
it there atomically (PNG, PDF or SVG by the suffix). matplotlib is an optional extra
(``pip install 'npdeep[plot]'``); without it a ConfigurationError says how to install it.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from .errors import ConfigurationError

__all__ = ["plot_history", "FORMATS"]

MISSING = ("drawing curves needs matplotlib, which is not installed; install it with "
           "pip install 'npdeep[plot]' (or pip install matplotlib)")

#: The file types the curves can be drawn to, by file suffix (none: PNG).
FORMATS = ("png", "pdf", "svg")


def check_matplotlib() -> None:
    """Raise ConfigurationError with the install hint when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigurationError(MISSING) from None


def plot_format(path: str | Path, option: str = "path") -> str:
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


def _panels(history: dict) -> list[tuple[str, list[str]]]:
    """(y label, logged names) of each panel that ``history`` has values for."""
    # a scikit-learn estimator's history has validation scores only (validation_scores_)
    metric = next((m for m in ("accuracy", "r2")
                   if history.get(m) or history.get(f"val_{m}")), None)
    panels = [("cost", ["cost", "val_cost"])]
    if metric:
        panels.append(("accuracy" if metric == "accuracy" else "R^2", [metric, f"val_{metric}"]))
    if history.get("learning_rate"):
        panels.append(("learning rate", ["learning_rate"]))
    return panels


def estimator_history(estimator) -> dict:
    """A fitted DeepClassifier's or DeepRegressor's ``loss_curve_`` and ``validation_scores_``
    (early stopping: accuracy, or R^2) as a ``History.to_dict()``; a Pipeline's last step's."""
    steps = getattr(estimator, "steps", None)
    final = steps[-1][1] if steps else estimator
    curve = list(getattr(final, "loss_curve_", None) or [])
    history: dict = {"epoch": list(range(len(curve))), "cost": curve}
    scores = list(getattr(final, "validation_scores_", None) or [])
    if scores:
        # early stopping scores every epoch: accuracy for a classifier, R^2 for a regressor
        key = "val_accuracy" if hasattr(final, "classes_") else "val_r2"
        scores = scores[-len(curve):] if curve else []
        history[key] = [None] * (len(curve) - len(scores)) + scores
    return history


def _is_estimator(obj) -> bool:
    steps = getattr(obj, "steps", None)
    final = steps[-1][1] if steps else obj
    return hasattr(final, "loss_curve_")


def _has_isolated_point(ys: list[float]) -> bool:
    """Whether a finite value of ``ys`` has no finite neighbour: without a marker a line
    would not show it (a metric a callback logs every 10th epoch, None in between)."""
    finite = np.isfinite(np.asarray(ys, dtype=float))
    padded = np.concatenate([[False], finite, [False]])
    return bool((finite & ~padded[:-2] & ~padded[2:]).any())


def _positive(data: dict, keys: list[str]) -> bool:
    """Whether the finite values of ``keys`` are all > 0 (and there is one): a log scale
    would hide any other (a validation cost of exactly 0.0, when the training one is not)."""
    values = [v for key in keys for v in data.get(key) or []
              if v is not None and math.isfinite(v)]
    return bool(values) and min(values) > 0


def _draw_panel(ax, data: dict, epochs: list[int], label: str, keys: list[str]) -> list[str]:
    """Draw the curves of ``keys`` on ``ax`` against ``epochs`` (counted from 1); return the
    keys drawn. Epochs whose value is NaN or inf are named on the panel: a line skips them."""
    from matplotlib.ticker import MaxNLocator

    drawn, finite, notes = [], False, []
    for key in keys:
        values = data.get(key)
        if not values:
            continue
        ys = [float("nan") if v is None else v for v in values]
        finite = finite or bool(np.isfinite(ys).any())
        name = ("validation" if key.startswith("val_") else
                "training" if key != "learning_rate" else "learning rate")
        marker = "." if len(ys) < 30 or _has_isolated_point(ys) else None
        ax.plot(epochs[: len(ys)], ys, marker=marker, label=name)
        drawn.append(key)
        bad = [e for e, v in zip(epochs, values, strict=False)  # a short column: its epochs
               if v is not None and not math.isfinite(v)]
        if bad:
            more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
            notes.append(f"{name}: NaN or inf at epoch {bad[0]}{more}")
    if not finite:  # a run that diverged at once: say so rather than draw empty axes
        ax.text(0.5, 0.5, f"no finite {label}\n(NaN or inf at every epoch)",
                transform=ax.transAxes, ha="center", va="center")
    elif notes:  # a line stops short of them: say where, not only where it stops
        ax.text(0.02, 0.02, "\n".join(notes), transform=ax.transAxes, ha="left",
                va="bottom", fontsize=7)
    ax.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)  # every panel spans every epoch
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    if label == "cost" and _positive(data, keys):
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return drawn


def plot_history(history, path: str | Path | None = None, title: str = ""):
    """Draw the training curves of ``history`` and return the matplotlib Figure.

    Parameters
    ----------
    history : History, dict, Network or a fitted estimator
        A :class:`~npdeep.callbacks.History` (``net.fit``'s result, ``net.history``), its
        :meth:`~npdeep.callbacks.History.to_dict` (or ``to_json``, a model file's header) or a
        trained Network (its history); or a fitted DeepClassifier, DeepRegressor or Pipeline
        ending in one: its ``loss_curve_`` and, with early stopping, its
        ``validation_scores_``, as ``npdeep plot`` draws them.
    path : str or Path, optional
        Also write the figure there (PNG, PDF or SVG by the suffix; PNG without one),
        atomically: an existing file is replaced whole or left as it was.
    title : str
        Drawn above the panels.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per curve family; ``fig.drawn`` lists the logged names drawn. Without
        ``path`` it is a pyplot figure, as pandas' and scikit-learn's plots are:
        ``history.plot(); plt.show()`` shows it from a script, and a notebook draws it. With
        ``path`` it is a bare Figure that pyplot never holds (nothing stays open, no window).

    Raises
    ------
    ConfigurationError
        matplotlib is missing, or ``path`` has a suffix other than .png, .pdf or .svg.
    ValueError
        The history holds no epoch with a cost (nothing was trained), or a dict that is not
        a history (see :meth:`~npdeep.callbacks.History.from_dict`).
    """
    check_matplotlib()
    form = plot_format(path) if path is not None else None
    if _is_estimator(history):
        data = estimator_history(history)
    else:
        if not isinstance(history, dict) and not hasattr(history, "to_dict") \
                and hasattr(history, "history"):  # a Network: its net.history
            history = history.history
        if history is None:  # net.history before fit, or a loaded untrained network's
            raise ValueError("the history holds no trained epoch to plot (history is None: "
                             "the network was not trained)")
        if isinstance(history, dict):  # checked, and "nan"/"inf" of a header read as floats
            from .history import History

            history = History.from_dict(history)
        if not hasattr(history, "to_dict"):
            raise TypeError(f"history must be a History, a dict, a trained Network or a fitted "
                            f"DeepClassifier or DeepRegressor, got {type(history).__name__}")
        data = history.to_dict()
    epochs = [e + 1 for e in data.get("epoch", [])]
    if not epochs or not data.get("cost"):
        raise ValueError("the history holds no trained epoch to plot")
    panels = _panels(data)
    size = (4.2 * len(panels), 3.6)
    if path is None:  # to be shown: pyplot's figure manager holds it
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=size, dpi=100)
    else:  # written: a bare Figure, no pyplot state, no GUI backend
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, dpi=100)
    drawn = []
    for i, (label, keys) in enumerate(panels, start=1):
        drawn += _draw_panel(fig.add_subplot(1, len(panels), i), data, epochs, label, keys)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.drawn = drawn
    if path is not None:
        from .atomic import write_atomically

        buf = io.BytesIO()
        fig.savefig(buf, format=form)
        write_atomically(path, lambda fp: fp.write(buf.getvalue()), what="plot")
    return fig
