"""The :class:`Dataset` every loader returns, and the rules that read a target.

Samples are rows here (``X: (n_samples, n_features)``): this is the edge of the package. The
core works on features x samples, so it receives ``X.T`` (``(n_x, m)`` in the article's terms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from npdeep.data.cells import number
from npdeep.data.encoding import FeatureEncoder
from npdeep.errors import DataError, NonIntegerLabelsError

TASKS = ("classification", "regression", "multilabel")

#: An integer-valued target is read as class labels when it has at most this many distinct values...
MAX_CLASSES = 50
#: ...and at most ``max(SMALL_CLASS_COUNT, CLASS_FRACTION * n_samples)`` of them.
SMALL_CLASS_COUNT = 10
CLASS_FRACTION = 0.05


@dataclass(frozen=True)
class Dataset:
    """Clean arrays loaded from a file or a built-in data set.

    Attributes
    ----------
    X : ndarray of float64, shape (n_samples, n_features)
        Features, samples as rows, every value finite.
    y : ndarray, shape (n_samples,) or (n_samples, k), or None
        Target: class labels (numbers or text) for classification, float64 for regression;
        ``None`` when the data was loaded for prediction only.
    feature_names : list of str
        One name per column of ``X`` (one-hot features are named ``"column=category"``).
    target_name : str or None
        Several targets: their names joined by commas.
    task : {"classification", "regression", "multilabel"} or None
        ``"multilabel"``: ``y`` is ``(n_samples, k)`` of 0 and 1, one column per label.
    classes : ndarray or None
        Sorted distinct labels of a classification target; the k label names (or 0..k-1)
        of a multi-label one, in the order of ``y``'s columns.
    source : str
        What was loaded, for ``npdeep inspect`` (for example ``"iris.csv (CSV, 150 rows)"``).
    encoder : FeatureEncoder
        How the input columns became ``X``; store ``encoder.to_config()`` with a model.
    target_names : tuple of str
        The names of several target columns, in the order of ``y``'s columns; empty for one.
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_name: str | None
    task: str | None
    classes: np.ndarray | None
    source: str
    encoder: FeatureEncoder = field(repr=False)
    target_names: tuple[str, ...] = ()

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def summary(self) -> dict[str, Any]:
        """Return a JSON-serialisable description (source, sizes, task, target, classes;
        ``targets``, their names, when there are several target columns)."""
        summary = {
            "source": self.source,
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "target": self.target_name,
            "task": self.task,
            "classes": None if self.classes is None else self.classes.tolist(),
        }
        if self.target_names:
            summary["targets"] = list(self.target_names)
        return summary

    def to_config(self) -> dict[str, Any]:
        """Return what a model file records about its data, JSON-serialisable.

        ``summary()`` plus ``feature_names`` and ``encoder`` (pass ``config["encoder"]`` back
        as ``encoder_config`` to :func:`npdeep.data.load_features` at predict time).
        """
        return {
            **self.summary(),
            "feature_names": list(self.feature_names),
            "encoder": self.encoder.to_config(),
        }


def _integer_like(y: np.ndarray) -> bool:
    if y.dtype.kind in "biu":
        return True
    return y.dtype.kind == "f" and bool(np.all(np.isfinite(y))) and bool(np.all(y == np.round(y)))


def _one_hot_labels(y: np.ndarray) -> bool:
    """True for a 2-D target of 0s and 1s with exactly one 1 in each row (one-hot labels)."""
    if y.ndim != 2 or y.shape[1] < 2 or not len(y) or y.dtype.kind not in "biuf":
        return False
    return bool(np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1))


def _zeros_and_ones(y: np.ndarray) -> bool:
    """True for a numeric target whose values are all 0 or 1."""
    return y.dtype.kind in "biuf" and bool(np.all((y == 0) | (y == 1)))


def detect_task(y: np.ndarray) -> str:
    """Guess the task from a target.

    Rule: text or boolean labels, or an integer-valued 1-D target with at most
    ``min(50, max(10, 5% of the samples))`` distinct values, is classification; a 2-D target
    of 0s and 1s, both present (scikit-learn's ``type_of_target``:
    ``'multilabel-indicator'``), is multi-label; anything else (non-integer values, many
    distinct integers, another 2-D target) is regression. (:func:`prepare_target` refuses a
    2-D target of one-hot labels unless the task is regression or multilabel.)

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_samples, k)

    Returns
    -------
    {"classification", "regression", "multilabel"}
    """
    if y.ndim != 1:
        multilabel = y.ndim == 2 and y.shape[1] > 1 and _zeros_and_ones(y) \
            and bool(np.any(y == 0)) and bool(np.any(y == 1))
        return "multilabel" if multilabel else "regression"
    if y.dtype.kind in "USOb":
        return "classification"
    if not _integer_like(y):
        return "regression"
    n_distinct = len(np.unique(y))
    limit = min(MAX_CLASSES, max(SMALL_CLASS_COUNT, int(CLASS_FRACTION * len(y))))
    return "classification" if n_distinct <= limit else "regression"


def prepare_target(
    y: np.ndarray,
    task: str | None,
    target_name: str,
    line_numbers: Sequence[int] | None = None,
) -> tuple[np.ndarray, str, np.ndarray | None]:
    """Check a target against the task (detected when ``task`` is None).

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_samples, k)
        Numbers, or text labels (numbers stay numbers: text is only kept where a cell is not one).
    task : {"classification", "regression"} or None
    target_name : str
        Named in error messages.
    line_numbers : sequence of int, optional
        File line of each sample, to name the line of a bad value.

    Returns
    -------
    y : ndarray
        Labels for classification (integers when integer-valued), float64 for regression.
    task : str
    classes : ndarray or None
    """
    if task is not None and task not in TASKS:
        raise DataError(
            f"task must be one of {', '.join(TASKS)} (or None to detect it), got {task!r}"
        )
    if y.dtype.kind == "O":
        raise DataError(
            f"target {target_name!r} holds Python objects; expected numbers or text labels"
        )
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y).reshape(len(y), -1).all(axis=1))[0])
        where = f"line {line_numbers[bad]}" if line_numbers is not None else f"sample {bad}"
        raise DataError(f"{where}: target {target_name!r} is not finite ({y[bad].tolist()!r})")
    if task not in ("regression", "multilabel") and _one_hot_labels(y):
        raise DataError(
            f"target {target_name!r} has shape {y.shape} with a single 1 in each row, like "
            "one-hot encoded labels: save the class numbers instead, y.argmax(axis=1) "
            f"(task='regression', --task regression, fits the {y.shape[1]} columns as numbers; "
            "task='multilabel', --task multilabel, as independent labels)"
        )
    task = task or detect_task(y)
    if task == "multilabel":
        if y.ndim != 2 or y.shape[1] < 2:
            raise DataError(
                f"target {target_name!r} has shape {y.shape}; multi-label needs one column of "
                "0s and 1s per label, at least 2 (a single 0/1 target is binary "
                "classification)")
        _check_zeros_and_ones(y, [f"column {j}" for j in range(y.shape[1])], target_name,
                              line_numbers)
        return y.astype(np.int64), task, np.arange(y.shape[1])
    if task == "regression":
        if y.dtype.kind in "US":
            i = _first_non_number(y)
            where = f"line {line_numbers[i]}" if line_numbers is not None else f"sample {i}"
            raise DataError(
                f"{where}: target {target_name!r} value {str(y[i])!r} is not a number; "
                "regression needs a numeric target"
            )
        return y.astype(np.float64), task, None
    if y.ndim != 1:
        raise DataError(
            f"target {target_name!r} has shape {y.shape}; classification needs one label per sample"
        )
    if y.dtype.kind == "f":
        if not _integer_like(y):
            example = y[~(y == np.round(y))][0].item()
            raise NonIntegerLabelsError(
                f"target {target_name!r} holds non-integer numbers (e.g. {example!r}); "
                "classification needs class labels: use task='regression' (--task regression) "
                "or integer/text labels",
                target_name, example,
            )
        if y.size and np.abs(y).max() >= 2.0**63:  # astype(int64) would wrap them
            big = y[np.abs(y) >= 2.0**63][0].item()
            raise DataError(
                f"target {target_name!r} holds the label {big!r}, beyond the 64-bit integers "
                "class labels are stored as (|label| < 2**63 when read as a float); use text "
                "labels, or task='regression' (--task regression)"
            )
        y = y.astype(np.int64)
    return y, task, np.unique(y)


def _check_zeros_and_ones(y: np.ndarray, columns: Sequence[str], what: str,
                          line_numbers: Sequence[int] | None) -> None:
    """Refuse a multi-label target ``y`` (n_samples, k) holding a value other than 0 and 1,
    naming the line (or sample) and the column ``columns[j]`` of the first."""
    if y.size == 0:
        return
    if y.dtype.kind not in "biuf":
        bad = np.argwhere(np.ones(y.shape, bool))[0]
    elif _zeros_and_ones(y):
        return
    else:
        bad = np.argwhere(~((y == 0) | (y == 1)))[0]
    i, j = int(bad[0]), int(bad[1])
    where = f"line {line_numbers[i]}" if line_numbers is not None else f"sample {i}"
    raise DataError(
        f"{where}: multi-label target {what!r}, {columns[j]}, holds {y[i, j].item()!r}; each "
        "label must be 0 or 1 (for numbers, --task regression, task='regression')"
    )


def prepare_targets(
    columns: Sequence[np.ndarray],
    task: str | None,
    names: Sequence[str],
    line_numbers: Sequence[int] | None = None,
) -> tuple[np.ndarray, str, np.ndarray | None]:
    """Check several target columns against the task (detected when ``task`` is None).

    Rule, as scikit-learn's ``type_of_target`` reads the stacked columns: columns that all
    hold only 0 and 1 are multi-label (``'multilabel-indicator'``), a sigmoid unit per
    label; other numbers are multi-target regression (``'continuous-multioutput'``), one
    identity unit per target. ``task="classification"`` is read as multi-label (one class
    label per column has no other meaning for the network); text is refused.

    Parameters
    ----------
    columns : sequence of k ndarrays, shape (n_samples,)
        Each target column, as :func:`npdeep.data.cells.target_values` reads it.
    task : {"classification", "regression", "multilabel"} or None
    names : sequence of k str
    line_numbers : sequence of int, optional

    Returns
    -------
    y : ndarray, shape (n_samples, k)
        int64 0/1 (multi-label) or float64 (regression).
    task : {"multilabel", "regression"}
    classes : ndarray of str (the k names) or None
    """
    if task is not None and task not in TASKS:
        raise DataError(
            f"task must be one of {', '.join(TASKS)} (or None to detect it), got {task!r}"
        )
    joined = ",".join(names)
    if task is None:
        task = detect_task(np.column_stack(columns)) if all(
            c.dtype.kind in "biuf" for c in columns) else "regression"
        task = "multilabel" if task == "multilabel" else "regression"
    if task == "regression":
        ys = [prepare_target(c, "regression", n, line_numbers)[0]
              for c, n in zip(columns, names, strict=True)]
        return np.column_stack(ys), task, None
    for j, c in enumerate(columns):  # a text column is named before it is stacked
        if c.dtype.kind not in "biuf":
            _check_zeros_and_ones(c.reshape(-1, 1), [f"column {names[j]!r}"], joined,
                                  line_numbers)
    y = np.column_stack(columns)
    _check_zeros_and_ones(y, [f"column {n!r}" for n in names], joined, line_numbers)
    return y.astype(np.int64), "multilabel", np.array(list(names), dtype=str)


def label_text(cells: np.ndarray, y: np.ndarray, task: str | None) -> np.ndarray:
    """Return class labels ``y`` (n_samples,) as the text of their ``cells`` when reading
    them as numbers rewrote one (``007``, ``7.0``, ``+1``, ``1e1`` become 7, 7, 1, 10).

    Rule: a target read as classes (``task``, else :func:`detect_task` of the numbers) keeps
    its labels as written whenever some cell is not its integer's canonical text: numbers
    would merge ``7`` and ``007`` into one class silently, and predictions would give back
    ``7`` for ``007``. Labels that are all written canonically stay numbers, as before.

    Parameters
    ----------
    cells : ndarray of str, shape (n_samples,)
        The target's cells as written (stripped).
    y : ndarray, shape (n_samples,)
        The same cells read as numbers (or text already).
    task : {"classification", "regression", "multilabel"} or None
    """
    if task == "regression" or y.dtype.kind not in "iuf" or not _integer_like(y):
        return y
    if y.dtype.kind == "f":
        if y.size and np.abs(y).max() >= 2.0**63:  # prepare_target refuses these
            return y
        canonical = y.astype(np.int64)
    else:
        canonical = y
    if (task or detect_task(y)) != "classification":
        return y
    written = np.array([str(c).strip() for c in cells.tolist()], dtype=str)
    if np.array_equal(written, canonical.astype(str)):
        return y
    return written


def check_classes(ds: Dataset, minimum: int = 2) -> Dataset:
    """Refuse classification data with fewer than ``minimum`` classes (training needs 2), and,
    for training (``minimum`` >= 2), a regression target with one value: nothing to learn (it
    trained, and scored R^2 of -8e17 on its own test split)."""
    y = ds.y
    if ds.task == "regression" and minimum >= 2 and y is not None and len(y) \
            and np.all(y == y[:1]):
        value = y.reshape(len(y), -1)[0]
        raise DataError(
            f"target {ds.target_name!r} is constant ({', '.join(f'{v:.10g}' for v in value)} in "
            f"all {len(y)} samples): regression needs values that vary"
        )
    if ds.task == "classification" and ds.classes is not None and len(ds.classes) < minimum:
        if len(ds.classes) == 1:
            raise DataError(
                f"target {ds.target_name!r} has a single class ({ds.classes[0].item()!r}) "
                f"in all {len(ds.y)} samples; classification needs at least {minimum} classes"
            )
        raise DataError(
            f"target {ds.target_name!r} has {len(ds.classes)} classes "
            f"({', '.join(repr(c) for c in ds.classes[:10].tolist())}); at least {minimum} "
            "are needed"
        )
    return ds


def _first_non_number(values: np.ndarray) -> int:
    for i, v in enumerate(values):
        try:
            number(v)
        except ValueError:
            return i
    return 0


def check_features(X: np.ndarray, where: str) -> np.ndarray:
    """Return X as float64 ``(n_samples, n_features)``, raising DataError on a bad shape or value.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    where : str
        What X came from, named in error messages.
    """
    if X.dtype.kind == "O":
        raise DataError(f"{where}: X holds Python objects (dtype=object); expected numbers")
    if X.dtype.kind not in "biuf":
        raise DataError(f"{where}: X has dtype {X.dtype}; expected numbers")
    if X.ndim <= 1:
        raise DataError(
            f"{where}: X has shape {X.shape}; expected 2-D (n_samples, n_features) "
            "(use X.reshape(-1, 1) for a single feature)"
        )
    if X.shape[0] == 0 or 0 in X.shape[1:]:  # before the reshape: (0, -1) has no meaning
        raise DataError(
            f"{where}: X has shape {X.shape}; expected at least one sample and one feature"
        )
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    X = np.ascontiguousarray(X, dtype=np.float64)
    finite = np.isfinite(X)
    if not finite.all():
        r, c = (int(v) for v in np.argwhere(~finite)[0])
        raise DataError(f"{where}: X[{r}, {c}] is {X[r, c].item()!r}; NaN and inf are not allowed")
    return X
