"""``npdeep evaluate MODEL DATA``: score a saved model on labelled data.

Classification: accuracy, per-class precision/recall/F1 and the confusion matrix. Regression:
MSE, MAE and R^2 (several targets: each target's and their mean). Multi-label: subset
accuracy, Hamming loss and each label's accuracy, precision, recall and F1. All through
:mod:`sklearn.metrics`, in the data's own units (the stored feature scaling and target
scaling are applied and undone by the model). A scikit-learn
estimator or pipeline saved by ``npdeep.save`` is scored on its own predictions (see
:mod:`npdeep.cli._estimators`).
"""

from __future__ import annotations

import dataclasses

import click
import numpy as np

from .._target_size import peak_scale
from ..errors import DataError, MixedTargetError, NonIntegerLabelsError
from ._common import data_name, data_source, emit, json_option, load_model
from ._dialect import dialect_options, resolve
from ._options import max_elements_option


def load_labelled(m, source: str, target: str | None, dialect: dict | None = None):
    """Load DATA for ``m`` (a network's :class:`Model` or an ``EstimatorModel``), replaying
    the stored encoding and reading the target it was trained on (``m.target_for``); a CSV
    in ``dialect`` (the keywords of :func:`npdeep.data.load`; see :mod:`._dialect`)."""
    from .. import data as npdata

    dialect = dialect or {}
    if target is None:
        target = m.target_for(source, dialect)
        _check_stored_target(m, source, target, dialect)
    try:
        task = "multilabel" if getattr(m, "multilabel", False) else m.task
        ds = npdata.load(source, target, task=task, encoder_config=m.encoder_config,
                         min_classes=1, **dialect)  # scoring a subset of one class is fine
    except NonIntegerLabelsError as exc:  # the task is the model's: no --task to suggest
        raise DataError(
            f"{source}: target {exc.target_name!r} holds non-integer numbers (e.g. "
            f"{exc.example!r}), but {m.path.name} is a classifier; name its class-label "
            "column with --target"
        ) from None
    except MixedTargetError as exc:  # the same: the model fixed the task
        trained = ("multi-label classification (0 or 1 in every row of each label column)"
                   if task == "multilabel" else "regression (a number in every row)")
        raise DataError(
            f"{source}: line {exc.line}, column {exc.target_name!r}: {exc.cell!r} is not a "
            f"number, but {m.path.name} was trained for {trained}"
        ) from None
    if ds.n_features != m.n_features:  # no names to pick the columns by: every other one
        hint = (" (does the file hold a target column? it is the last one unless --target "
                "names another)" if ds.n_features == m.n_features - 1 else "")
        raise DataError(
            f"{source}: has {ds.n_features} features besides the target {ds.target_name!r} "
            f"but the model expects {m.n_features} features{hint}"
        )
    return ds


def _check_stored_target(m, source: str, target: str | None, dialect: dict) -> None:
    """Say that the target the model was trained on is missing from CSV ``source`` (the user
    named no target, so 'target column not found' alone would puzzle)."""
    from pathlib import Path

    from ..data import csv_dialect, sniff
    from ..data.csv import read_header

    if target is None or sniff(source) != "csv":
        return
    header = read_header(Path(source), csv_dialect(**dialect))
    shown = ", ".join(repr(h) for h in header[:20]) + (", ..." if len(header) > 20 else "")
    if isinstance(target, list):  # several targets
        missing = [t for t in target if t not in header]
        if missing:
            raise DataError(
                f"{source}: has no column {missing[0]!r}, one of the targets "
                f"({', '.join(map(repr, target))}) {m.path.name} was trained on; name this "
                f"file's target columns with --target a,b (the columns are: {shown})"
            )
        return
    if target not in header:
        raise DataError(
            f"{source}: has no column {target!r}, the target {m.path.name} was trained on; "
            f"name this file's target column with --target (the columns are: {shown})"
        )


def _as_kind_of(y: np.ndarray, classes: np.ndarray, source: str) -> np.ndarray:
    """Read labels ``y`` as the kind of the model's classes (a subset of a text-labelled set
    may hold only numbers, and the reverse); DataError naming the first label that cannot."""
    from ..data import cells

    numeric = "iufb"
    if classes.dtype.kind == "b" and y.dtype.kind in "US":  # an estimator fitted on booleans
        words = np.char.lower(np.char.strip(y.astype(str)))
        if np.isin(words, ("true", "false")).all():
            return words == "true"
    if y.dtype.kind in "iu" and classes.dtype.kind in "iu" and y.dtype != classes.dtype:
        return _same_integers(y, classes, source)
    if (y.dtype.kind in numeric) == (classes.dtype.kind in numeric):
        return y
    if classes.dtype.kind in "US":  # text classes such as '1', '2', 'unknown'
        as_text = np.array([str(v) for v in y.tolist()])
        if np.isin(as_text, classes).all():
            return as_text
        bad = int(np.flatnonzero(~np.isin(as_text, classes))[0])
    else:
        converted = []
        for i, v in enumerate(y.tolist()):
            try:
                number = cells.number(v)
            except ValueError:
                bad = i
                break
            converted.append(int(number) if number.is_integer() else number)
        else:
            return np.asarray(converted, dtype=classes.dtype)
    raise DataError(
        f"{source}: label {y[bad].item()!r} (sample {bad + 1}) is not of the kind the model "
        f"was trained on (classes such as {', '.join(repr(c) for c in classes[:5].tolist())}); "
        "is --target the right column?"
    )


def _same_integers(y: np.ndarray, classes: np.ndarray, source: str) -> np.ndarray:
    """Integer labels ``y`` in the classes' dtype (int64 or uint64): mixed, NumPy would make
    float64 of them and merge labels beyond 2**53."""
    if classes.dtype == np.uint64 and y.min() >= 0:
        return y.astype(np.uint64)
    if classes.dtype == np.int64 and y.max() < 2**63:
        return y.astype(np.int64)
    bad = y[y < 0][0] if classes.dtype == np.uint64 else y[y >= 2**63][0]
    raise DataError(
        f"{source}: label {bad.item()!r} cannot be compared exactly with the model's classes "
        f"(from {classes.min().item()} to {classes.max().item()}): no 64-bit integer type "
        "holds both"
    )


def classification_scores(y: np.ndarray, pred: np.ndarray, classes: np.ndarray,
                          source: str = "the data") -> dict:
    """Accuracy, per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    y = _as_kind_of(y, classes, source)
    unseen = np.setdiff1d(np.unique(y), classes)
    labels = np.concatenate([classes, unseen])
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "per_class": [
            {"class": c, "precision": float(pi), "recall": float(ri), "f1": float(fi),
             "support": int(si)}
            for c, pi, ri, fi, si in zip(labels.tolist(), p, r, f, s, strict=True)
        ],
        "labels": labels.tolist(),
        "confusion_matrix": confusion_matrix(y, pred, labels=labels).tolist(),
        "unseen_labels": unseen.tolist(),
    }


def _check_outputs(ds, pred: np.ndarray, model: str, source: str) -> None:
    """Refuse a target ``(n_samples, k)`` whose width is not the model's outputs'."""
    k = 1 if ds.y.ndim == 1 else ds.y.shape[1]
    n_out = pred.shape[1] if pred.ndim == 2 else 1
    if k != n_out:
        raise DataError(
            f"{source}: the target {ds.target_name!r} holds {k} value{'s' if k > 1 else ''} per "
            f"sample but {model} predicts {n_out}; give the target it was trained on"
        )


#: More classes than these: the text report gives the averages and the worst classes, and
#: the most confused pairs instead of the matrix (--json keeps everything).
_MAX_CLASS_ROWS = 50
_MAX_MATRIX = 20


def _match_targets(ds, model_names):
    """Return ``(ds, names)``: ``ds`` with its target columns (n_samples, k) in the order of
    the model's outputs ``model_names`` when they are the same columns in another order
    (``--target b,a``: each was scored against the other's output, under the other's name),
    and the names to report each column under: the model's, or, for other columns, the
    file's column with the model's output it was scored against."""
    read = list(getattr(ds, "target_names", ()) or ())
    if not model_names or len(read) != len(model_names) or len(model_names) < 2:
        return ds, model_names
    model_names = [str(n) for n in model_names]
    if read == model_names:
        return ds, model_names
    if sorted(read) == sorted(model_names):
        order = [read.index(n) for n in model_names]
        return dataclasses.replace(ds, y=ds.y[:, order], target_names=tuple(model_names)), \
            model_names
    return ds, [r if r == n else f"{r} (as {n})"
                for r, n in zip(read, model_names, strict=True)]


def _g(value) -> str:
    """``value`` to 6 significant digits, ``-`` for None (beyond float64: an MSE of 1e320)."""
    return "-" if value is None else f"{value:.6g}"


def regression_scores(y: np.ndarray, pred: np.ndarray, poisson: bool = False) -> dict:
    """MSE, MAE and R^2 (averaged over outputs); with ``poisson`` (a model trained with the
    poisson loss) also scikit-learn's mean Poisson deviance ``2 mean(y log(y / a) - y + a)``
    over every output, None where a target is negative or a prediction not positive. An MSE
    or MAE beyond float64 (targets of 1e160) is None; R^2 is measured in units where the
    squares neither overflow nor underflow."""
    from scipy.special import xlogy
    from sklearn.metrics import r2_score

    y2 = y.reshape(len(y), -1)
    # measured in units of a power of two near each target's largest value, then scaled back:
    # the squares of targets of 1e160 overflowed (NaN), of 1e-300 underflowed (R^2 read 1.0)
    s = peak_scale(y2) if len(y2) else np.ones(y2.shape[1])
    ys, ps = y2 / s, np.reshape(pred, y2.shape) / s
    with np.errstate(over="ignore", under="ignore"):
        mse = float(np.mean(np.mean((ys - ps) ** 2, axis=0) * s**2))
        mae = float(np.mean(np.mean(np.abs(ys - ps), axis=0) * s))
    scores = {"mse": mse if np.isfinite(mse) else None,
              "mae": mae if np.isfinite(mae) else None}
    scores["r2"] = float(r2_score(ys, ps)) if len(y2) > 1 else None
    if poisson:
        a = pred.reshape(y2.shape)
        valid = y2.size and y2.min() >= 0 and a.min() > 0
        scores["poisson_deviance"] = (float(2 * np.mean(xlogy(y2, y2 / a) - y2 + a))
                                      if valid else None)
    return scores


def target_scores(y: np.ndarray, pred: np.ndarray, names: list, poisson: bool = False) -> dict:
    """:func:`regression_scores` of several targets ``y`` (n_samples, k), their mean over the
    targets, and ``per_target``: each target's, by name."""
    scores = regression_scores(y, pred, poisson)
    scores["per_target"] = [{"target": name, **regression_scores(y[:, j], pred[:, j:j + 1],
                                                                 poisson)}
                            for j, name in enumerate(names)]
    return scores


def multilabel_scores(y: np.ndarray, pred: np.ndarray, labels: list) -> dict:
    """Subset accuracy (every label of a sample right), Hamming loss, and each label's
    accuracy, precision, recall, F1 and support, for 0/1 ``y`` and ``pred`` (n_samples, k)."""
    from sklearn.metrics import accuracy_score, hamming_loss, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    return {
        "subset_accuracy": float(accuracy_score(y, pred)),
        "hamming_loss": float(hamming_loss(y, pred)),
        "per_label": [
            {"label": c, "accuracy": float(np.mean(y[:, j] == pred[:, j])),
             "precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
            for j, (c, pi, ri, fi, si) in enumerate(zip(labels, p, r, f, s, strict=True))
        ],
    }


def _report(scores: dict, task: str) -> str:
    if "subset_accuracy" in scores:
        lines = [f"subset accuracy: {scores['subset_accuracy']:.4f}",
                 f"Hamming loss: {scores['hamming_loss']:.4f}", "",
                 f"{'label':>12} {'accuracy':>10} {'precision':>10} {'recall':>10} "
                 f"{'f1':>10} {'support':>8}"]
        for row in scores["per_label"]:
            lines.append(f"{str(row['label']):>12} {row['accuracy']:>10.4f} "
                         f"{row['precision']:>10.4f} {row['recall']:>10.4f} "
                         f"{row['f1']:>10.4f} {row['support']:>8}")
        return "\n".join(lines)
    if "per_target" in scores:
        lines = [f"{'target':>12} {'MSE':>12} {'MAE':>12} {'R^2':>8}"]
        for row in [*scores["per_target"], {"target": "mean", **scores}]:
            r2 = "-" if row["r2"] is None else f"{row['r2']:.4f}"
            lines.append(f"{str(row['target']):>12} {_g(row['mse']):>12} {_g(row['mae']):>12} "
                         f"{r2:>8}")
        return "\n".join(lines)
    if task == "regression":
        r2 = "-" if scores["r2"] is None else f"{scores['r2']:.4f}"
        text = f"MSE: {_g(scores['mse'])}\nMAE: {_g(scores['mae'])}\nR^2: {r2}"
        if "poisson_deviance" in scores:
            deviance = scores["poisson_deviance"]
            text += f"\nmean Poisson deviance: {'-' if deviance is None else f'{deviance:.6g}'}"
        return text
    lines = [f"accuracy: {scores['accuracy']:.4f}", "",
             f"{'class':>12} {'precision':>10} {'recall':>10} {'f1':>10} {'support':>8}"]
    rows = scores["per_class"]
    shown = rows if len(rows) <= _MAX_CLASS_ROWS else sorted(rows, key=lambda r: r["f1"])[:10]
    for row in shown:
        lines.append(f"{str(row['class']):>12} {row['precision']:>10.4f} {row['recall']:>10.4f} "
                     f"{row['f1']:>10.4f} {row['support']:>8}")
    if len(rows) > _MAX_CLASS_ROWS:  # 600 classes printed 1,207 lines of 4,207 characters
        support = np.array([r["support"] for r in rows], dtype=float)
        for name, w in (("macro avg", None), ("weighted avg", support)):
            avg = [np.average([r[k] for r in rows], weights=w) if w is None or w.sum() else 0.0
                   for k in ("precision", "recall", "f1")]
            lines.append(f"{name:>12} {avg[0]:>10.4f} {avg[1]:>10.4f} {avg[2]:>10.4f} "
                         f"{int(support.sum()):>8}")
        lines.append(f"(the 10 classes of lowest f1 of {len(rows)}, and the averages; every "
                     "class and the confusion matrix: --json)")
    labels = [str(c) for c in scores["labels"]]
    matrix = np.asarray(scores["confusion_matrix"])
    if len(labels) > _MAX_MATRIX:
        off = matrix.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(off, axis=None, kind="stable")[::-1][:10]
        pairs = [(labels[i], labels[j], int(off[i, j]))
                 for i, j in zip(*np.unravel_index(order, off.shape), strict=True) if off[i, j]]
        lines += ["", f"most confused (true -> predicted: samples; the {len(labels)} x "
                      f"{len(labels)} confusion matrix: --json)"]
        lines += [f"  {t} -> {p}: {n}" for t, p, n in pairs] or ["  none"]
    else:
        width = max(6, *(len(s) for s in labels)) + 1
        lines += ["", "confusion matrix (rows: true class, columns: predicted class)",
                  " " * width + "".join(f"{s:>{width}}" for s in labels)]
        for s, row in zip(labels, scores["confusion_matrix"], strict=True):
            lines.append(f"{s:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    if scores["unseen_labels"]:
        lines.append(f"note: labels not seen in training: {scores['unseen_labels']}")
    return "\n".join(lines)


@click.command()
@click.argument("model")
@click.argument("data")
@click.option("--target", help="CSV target column, .npz target array, or for .npy data the "
              ".npy file holding y [default: the one the model was trained on; for an "
              "estimator fitted on a DataFrame, the one column that is not a feature; else "
              "the last column, or y in an .npz].")
@dialect_options
@max_elements_option
@json_option
def evaluate(model, data, target, max_elements, as_json, **dialect):
    """Score MODEL on labelled DATA (same kinds of DATA as train; - reads standard input).

    MODEL is a model file from `npdeep train` or Network.save, or a DeepClassifier,
    DeepRegressor or Pipeline saved by npdeep.save (fitted on a DataFrame: its columns are
    picked by name, and the one other column is the target).

    A CSV DATA is read in the dialect the model was trained on (--delimiter, --decimal,
    --encoding, --header/--no-header); an option given overrides it.
    """
    m = load_model(model, estimators=True, max_elements=max_elements)
    if getattr(m, "multilabel", False) and hasattr(m, "est"):
        raise DataError(f"{m.path}: holds a multi-label classifier; evaluate scores one label "
                        "per sample (use predict, or score it in Python)")
    with data_source(data) as source:
        ds = load_labelled(m, source, target, resolve(dialect, m.csv_dialect, source))
    pred, _ = m.predict_rows(ds.X)
    model_names = (m.classes.tolist() if getattr(m, "multilabel", False)
                   else getattr(m, "target_names", None))
    ds, names = _match_targets(ds, model_names)
    if getattr(m, "multilabel", False):
        _check_outputs(ds, pred, m.path.name, data_name(data))
        scores = multilabel_scores(ds.y, pred, names)
    elif m.task == "classification":
        scores = classification_scores(ds.y, pred, m.classes, data_name(data))
    else:
        _check_outputs(ds, pred, m.path.name, data_name(data))
        if names and pred.shape[1] == len(names):
            scores = target_scores(ds.y, pred, names, poisson=m.loss_name == "poisson")
        else:
            scores = regression_scores(ds.y, pred, poisson=m.loss_name == "poisson")
    task = "multilabel" if getattr(m, "multilabel", False) else m.task
    emit(as_json, {"model": str(m.path), "data": ds.summary(), "task": task, **scores},
         f"{m.path.name} on {ds.source}: {ds.n_samples} samples\n" + _report(scores, m.task))
