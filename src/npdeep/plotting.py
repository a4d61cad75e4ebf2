"""Training curves of a :class:`~npdeep.callbacks.History`: cost, metric and learning rate.

``history.plot()`` (or ``plot_history(history)``) draws up to three panels, one point per
epoch: the cost (training and validation, log scale when positive), the metric (accuracy or
R^2, training and validation) and the learning rate. Every panel spans every epoch; the epochs
whose value is NaN or inf, which a line skips, are named on the panel. It returns a
matplotlib ``Figure`` (a notebook shows it once, as pyplot's figure) and, given a path, also
writes it there atomically (PNG, PDF or SVG by the suffix). matplotlib is an optional extra
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


def _draw_panel(ax, data: dict, epochs: list[int], label: str, keys: list[str],
                xlabel: str = "epoch") -> list[str]:
    """Draw the curves of ``keys`` on ``ax`` against ``epochs`` (counted from 1); return the
    keys drawn. Epochs whose value is NaN or inf are named on the panel: a line skips them."""
    from matplotlib.ticker import MaxNLocator

    drawn, finite, notes = [], False, []
    for key in keys:
        values = data.get(key)
        if not values:
            continue
        ys = [float("nan") if v is None else float(v) for v in values]
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
    low, high = min(epochs), max(epochs)
    ax.set_xlim(low - 0.5, high + 0.5)  # every panel spans every epoch
    if high - low < 5:  # a short run: a tick at each epoch (a locator put 0.5 and 1.5 on one)
        ax.set_xticks(range(low, high + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
    ax.set_xlabel(xlabel)
    ax.set_ylabel(label)
    if label == "cost" and _positive(data, keys):
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return drawn


def _is_dataframe(obj) -> bool:
    """Whether ``obj`` is a pandas DataFrame (pandas is not imported to tell)."""
    return any(c.__name__ == "DataFrame" and c.__module__.startswith("pandas")
               for c in type(obj).__mro__)


def _numbers(values, column: str) -> list:
    """A logged column as floats, None for an empty cell."""
    import pandas as pd

    out = []
    for v in values:
        if v is None or v is pd.NA or v is pd.NaT:  # an empty cell (nullable dtypes: NA)
            out.append(None)
            continue
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            raise ValueError(f"the log's column {column!r} must hold numbers, got "
                             f"{v!r:.60}") from None
    return out


def _frame_history(frame) -> tuple[dict, str]:
    """A CSVLogger's or JSONLogger's log read by pandas (``pd.read_csv``,
    ``pd.read_json(lines=True)``) as ``(history dict, x label)``: its columns are the logged
    names, its ``epoch`` column counts from 1. A log several fits appended to (``append=True``,
    each fit's epochs counting from 1 again) is drawn row after row, epochs counted on."""
    columns = [str(c) for c in frame.columns]
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise ValueError(f"the DataFrame has columns named twice, {twice}: a log has one "
                         "column per logged name")
    if "cost" not in columns:
        raise ValueError(f"the DataFrame has no 'cost' column, so it is not a CSVLogger or "
                         f"JSONLogger log (columns: {columns[:10]}); give a History, its "
                         f"to_dict(), or the DataFrame of a log")
    n = len(frame)
    data: dict = {}
    for col, name in zip(frame.columns, columns, strict=True):
        if name in ("cost", "val_cost", "accuracy", "val_accuracy", "r2", "val_r2",
                    "learning_rate"):
            raw = frame[col].tolist()
            data[name] = _numbers([None if v is None else v for v in raw], name)
    xlabel = "epoch"
    epochs = list(range(1, n + 1))
    if "epoch" in columns:
        logged = frame[frame.columns[columns.index("epoch")]].tolist()
        try:
            logged = [int(e) for e in logged]
        except (TypeError, ValueError):
            raise ValueError(f"the log's 'epoch' column must hold whole numbers, got "
                             f"{logged[:5]!r:.100}") from None
        if all(b > a for a, b in zip(logged, logged[1:], strict=False)):
            epochs = logged
        else:  # epochs that restart (append=True) or repeat: the rows in order
            xlabel = "epoch (the fits of the log, one after another)"
    data["epoch"] = [e - 1 for e in epochs]  # History's epochs count from 0
    return data, xlabel


def _dict_history(data: dict) -> dict:
    """``history.history`` (Keras's idiom: no ``epoch``) with epochs numbered from its lists."""
    if "epoch" in data:
        return data
    n = max((len(v) for v in data.values() if isinstance(v, list)), default=0)
    return {"epoch": list(range(n)), **data}


def plot_history(history, path: str | Path | None = None, title: str = ""):
    """Draw the training curves of ``history`` and return the matplotlib Figure.

    Parameters
    ----------
    history : History, dict, DataFrame, Network or a fitted estimator
        A :class:`~npdeep.callbacks.History` (``net.fit``'s result, ``net.history``), its
        :meth:`~npdeep.callbacks.History.to_dict` (or ``to_json``, a model file's header),
        its ``history`` dict (no ``epoch``: the epochs are numbered from the lists, as
        Keras's ``plot(history.history)``) or a trained Network (its history); a pandas
        DataFrame of a :class:`~npdeep.callbacks.CSVLogger`'s or
        :class:`~npdeep.callbacks.JSONLogger`'s file (``pd.read_csv(path)``): its columns
        are the logged names, its ``epoch`` column the epochs (a log several fits appended
        to, whose epochs start again at 1, is drawn row after row; an empty cell, which
        pandas reads as NaN, is named as a NaN epoch); or a fitted DeepClassifier,
        DeepRegressor or Pipeline ending in one: its ``loss_curve_`` and, with early
        stopping, its ``validation_scores_``, as ``npdeep plot`` draws them.
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
        ``history.plot(); plt.show()`` shows it from a script, and a notebook draws it once
        (as a cell's value it draws itself only where pyplot does not: closed, or
        interactive mode off). With ``path`` it is a bare Figure that pyplot never holds
        (nothing stays open, no window).

    Raises
    ------
    ConfigurationError
        matplotlib is missing, or ``path`` has a suffix other than .png, .pdf or .svg.
    ValueError
        The history holds no epoch with a cost (nothing was trained), a dict that is not
        a history (see :meth:`~npdeep.callbacks.History.from_dict`), or a DataFrame without
        a ``cost`` column.
    TypeError
        Any other object (a pandas Series, a list).
    """
    check_matplotlib()
    from .history import History

    form = plot_format(path) if path is not None else None
    xlabel = "epoch"
    if _is_estimator(history):
        data = estimator_history(history)
    elif _is_dataframe(history):  # pd.read_csv of a CSVLogger's file
        data, xlabel = _frame_history(history)
    else:
        if not isinstance(history, (dict, History)) and hasattr(history, "history"):
            # a Network: its net.history (or a Keras History: its history dict)
            history = history.history
        if history is None:  # net.history before fit, or a loaded untrained network's
            raise ValueError("the history holds no trained epoch to plot (history is None: "
                             "the network was not trained)")
        if isinstance(history, dict):  # checked, and "nan"/"inf" of a header read as floats
            history = History.from_dict(_dict_history(history))
        if not isinstance(history, History):
            raise TypeError(f"history must be a History, a dict, a pandas DataFrame of a "
                            f"CSVLogger's or JSONLogger's log, a trained Network or a fitted "
                            f"DeepClassifier or DeepRegressor, got {type(history).__name__}")
        data = history.to_dict()
    epochs = [e + 1 for e in data.get("epoch", [])]
    if not epochs or not data.get("cost"):
        raise ValueError("the history holds no trained epoch to plot")
    panels = _panels(data)
    size = (4.2 * len(panels), 3.6)
    if path is None:  # to be shown: pyplot's figure manager holds it
        import matplotlib.pyplot as plt

        from ._figure import ShownFigure

        fig = plt.figure(figsize=size, dpi=100, FigureClass=ShownFigure)
    else:  # written: a bare Figure, no pyplot state, no GUI backend
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, dpi=100)
    drawn = []
    for i, (label, keys) in enumerate(panels, start=1):
        drawn += _draw_panel(fig.add_subplot(1, len(panels), i), data, epochs, label, keys,
                             xlabel)
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
