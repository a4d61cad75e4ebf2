"""The steps of ``npdeep train`` around the training itself: the stratified split, the
network of the options, the target scaling, the test scores, the weights of the best epoch kept
for Ctrl-C, and the message of a run that diverged (:mod:`.train` runs them in order)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._target_size import far_from_unit, power_of_two, root_mean_square
from ..callbacks import Callback, keep_copy
from ..errors import ConfigurationError, DataError, TrainingError
from ..trainer import NAN_ADVICE

__all__ = ["BestWeights"]


class BestWeights(Callback):
    """Keep a copy of the weights of the best epoch (``val_cost``, else ``cost``) for Ctrl-C.

    In full-batch training an epoch's ``cost`` is that of the weights at the epoch's start
    (measured before its update), so those are the ones kept for it.
    """

    def __init__(self):
        self.weights = None
        self.best = np.inf
        self.epoch: int | None = None
        self.monitor = "cost"
        self._start = None
        self.diverged = False  # a NaN/inf gradient, or a last epoch with a non-finite value

    def on_epoch_begin(self, epoch, logs):
        if getattr(self.trainer, "full_batch", False) and self.monitor == "cost":
            self._start = keep_copy(self._start, self.network.parameters.flat)

    def on_epoch_end(self, epoch, logs):
        self.monitor = "val_cost" if "val_cost" in logs else "cost"
        value = logs.get(self.monitor)
        self.diverged = value is not None and not np.isfinite(value)
        if value is not None and np.isfinite(value) and value < self.best:
            self.best, self.epoch = float(value), epoch
            before = self.monitor == "cost" and self._start is not None
            self.weights = keep_copy(self.weights,
                                     self._start if before else self.network.parameters.flat)

    def on_train_end(self, logs):
        # a stop at an epoch's first batch logs no value for that epoch
        self.diverged = self.diverged or getattr(self.trainer, "nan_stop", False)



def _diverged(how: str, net, output: Path, o: dict) -> TrainingError:
    """The error of a run that diverged with no model worth saving (nothing is written)."""
    reason = getattr(net.history, "stop_reason", None) or "a cost that is not finite"
    reason = reason.removesuffix(NAN_ADVICE).rstrip(". ")
    unchanged = f" ({output} is unchanged)" if output.exists() else ""
    return TrainingError(
        f"training diverged {how}, so no model was saved{unchanged}: {reason}. Try a smaller "
        f"--learning-rate (got {o['learning_rate']:g}), --clip-norm, or another --optimizer")


def _split(ds, test_fraction: float, seed: int) -> dict:
    """Split rows into train and test (stratified for classification)."""
    n = ds.n_samples
    if not test_fraction:
        return {"X_train": ds.X, "y_train": ds.y, "X_test": ds.X[:0], "y_test": ds.y[:0]}
    from sklearn.model_selection import train_test_split

    stratify = ds.y if ds.task == "classification" else None
    try:
        X_tr, X_te, y_tr, y_te = train_test_split(ds.X, ds.y, test_size=test_fraction,
                                                  stratify=stratify, random_state=seed)
    except ValueError as exc:
        hint = ""
        if stratify is not None:
            labels, counts = np.unique(ds.y, return_counts=True)
            rare = labels[counts < 2]
            if len(rare):
                hint = (f"; class {rare[0].item()!r} has only 1 sample (a stratified split "
                        "needs at least 2 per class)")
        reason = str(exc) if len(str(exc)) <= 200 else str(exc)[:200] + "..."
        raise DataError(f"cannot hold out a test split of {test_fraction:g} from {n} samples "
                        f"({reason}){hint}; use --test-fraction 0 to train on everything") from None
    return {"X_train": X_tr, "y_train": y_tr, "X_test": X_te, "y_test": y_te}


def _build_network(ds, o):
    from ..network import Network

    if ds.task == "classification":
        k = len(ds.classes)
        n_out = 1 if k == 2 else k
    else:  # regression, or multi-label: one unit per target column
        n_out = 1 if ds.y.ndim == 1 else ds.y.shape[1]
    output_activation = o["output_activation"]
    if ds.task == "multilabel" and output_activation not in (None, "sigmoid"):
        raise ConfigurationError(
            f"--output-activation {output_activation}: a multi-label target ({n_out} columns "
            "of 0 and 1) needs a sigmoid unit per label; drop it (sigmoid then)")
    if output_activation is None and o["loss"] is None:
        if ds.task == "multilabel":
            output_activation = "sigmoid"  # binary cross-entropy, one unit per label
        elif ds.task == "classification":
            output_activation = "sigmoid" if n_out == 1 else "softmax"
        else:
            output_activation = "identity"
    return Network([ds.n_features, *o["units"], n_out], activation=o["activation"],
                   output_activation=output_activation, loss=o["loss"], init=o["init"],
                   dtype=o["dtype"], seed=o["seed"], l2=o["l2"], dropout=o["dropout"])


def _target_names(ds, n: int) -> list[str]:
    """The names of the ``n`` target columns of ``ds`` (one, or those of ``--target a,b``)."""
    return list(ds.target_names) if len(ds.target_names) == n else [ds.target_name] * n


def _target_scaler(y, g, ds, data: str) -> Any:
    """Return the Standardizer of regression targets ``y`` (m, n_L) for output activation ``g``.

    Standardized for the identity output only, as DeepRegressor does; a relu, leaky relu or exp
    output divides them by a power of two near their root mean square (relu) or mean (exp),
    which ``g`` carries through (``g(s z) = s g(z)``; ``exp(z + log s)``). Any other output
    keeps the targets as given. Every one refuses targets outside ``g.bounds``, naming the
    column of ``ds`` and the file ``data``: centred targets fall below 0, out of reach of a sigmoid,
    relu or softplus output (which then predicted no value below the mean, silently), and of
    binary cross-entropy's domain.
    """
    from .. import data as npdata

    scaler = npdata.Standardizer().fit(y)
    if g.name == "identity":
        return scaler
    low, high = g.bounds
    for name, column in zip(_target_names(ds, y.shape[1]), y.T, strict=True):
        if column.size and (column.min() < low or column.max() > high):
            raise DataError(
                f"{data}: target {name!r} has values in [{column.min():.4g}, "
                f"{column.max():.4g}], outside [{low:.4g}, {high:g}] where --output-activation "
                f"{g.name} can reach; shift or scale the target into that range, or use "
                "--output-activation identity (which standardizes it)"
            )
    scaler.mean_, scaler.scale_ = np.zeros_like(scaler.mean_), np.ones_like(scaler.scale_)
    if g.name in ("relu", "leaky_relu", "exp") and y.size:
        # g(z) s: relu(s z) = s relu(z), exp(z) s = exp(z + log s): the network learns y / s
        # for a power of two s near y's root mean square (relu) or mean (exp), as
        # DeepRegressor does: poisson counts near 9,000 trained from exp(0) = 1 to R^2 -11.5
        size = np.mean(y, axis=0) if g.name == "exp" else root_mean_square(y)
        scaler.scale_ = power_of_two(size)[0]
    return scaler


#: Output activations whose targets train scaled (see :func:`_target_scaler`); any other
#: trains on the targets as given.
def _unit_notes(y, g, ds) -> list[str]:
    """A note when regression targets ``y`` (m,) or (m, n_L) are far from unit size (root mean
    square of the largest column below 0.01 or above 100) for an output activation ``g`` that
    trains on them as given (softplus, tanh, sigmoid...), as DeepRegressor warns: poisson
    counts near 5,000 under softplus trained to a test R^2 of -1.76 without a word."""
    Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    far = far_from_unit(Y, g.name)
    if far is None:
        return []
    j, rms = far
    name = _target_names(ds, Y.shape[1])[j]
    return [f"note: target {name!r} has a root mean square of {rms:.3g}, far from the unit "
            f"size that --output-activation {g.name} trains on as given; scale the target (and "
            "the predictions back), or use --output-activation identity (which standardizes "
            "it)"]


def _targets(ds, y, target_scaler) -> np.ndarray:
    """Return the network's targets: one-hot (k, m) / 0-1 row (1, m), 0/1 per label (k, m)
    for multi-label, or scaled (n_L, m)."""
    if ds.task == "multilabel":
        return np.asarray(y, dtype=np.float64).T
    if ds.task == "classification":
        index = np.searchsorted(ds.classes, y)
        if len(ds.classes) == 2:
            return index.reshape(1, -1).astype(np.float64)
        return np.eye(len(ds.classes))[:, index]  # one-hot (k, m): fits any output layer
    return target_scaler.transform(y.reshape(len(y), -1)).T


def _test_scores(net, ds, split, scaler, target_scaler) -> dict:
    if len(split["y_test"]) == 0:
        return {}
    from .. import errors
    from ._common import Model

    header = {"task": ds.task, "classes": None if ds.classes is None else ds.classes.tolist(),
              "scaling": scaler.to_config(),
              "target_scaling": None if target_scaler is None else target_scaler.to_config()}
    model = Model(net=net, header=header, path=Path("<training>"))
    pred, _ = model.predict_rows(split["X_test"])
    y = split["y_test"]
    if ds.task == "multilabel":  # subset accuracy: every label of a sample right
        return {"subset_accuracy": float(np.mean(np.all(pred == y, axis=1))),
                "hamming_loss": float(np.mean(pred != y)), "n_test": len(y)}
    if ds.task == "classification":
        return {"accuracy": float(np.mean(pred == y)), "n_test": len(y)}
    from sklearn.metrics import r2_score

    # in the network's units (y / scale per target): R^2 does not change, and the squares of
    # targets of 1e160 overflowed (NaN, and the model was not saved) or of 1e-300 underflowed
    # (R^2 read 1.0)
    y2 = target_scaler.transform(y.reshape(len(y), -1))
    p2 = target_scaler.transform(np.reshape(pred, y2.shape))
    try:
        r2 = float(r2_score(y2, p2))
        per_target = r2_score(y2, p2, multioutput="raw_values") if ds.target_names else None
    except ValueError as exc:  # pragma: no cover - sklearn refuses too few samples
        raise errors.DataError(f"cannot score the test split: {exc}") from None
    with np.errstate(over="ignore", under="ignore"):
        mse = float(np.mean(np.mean((y2 - p2) ** 2, axis=0) * target_scaler.scale_ ** 2))
    scores = {"r2": r2, "mse": mse if np.isfinite(mse) else None, "n_test": len(y)}
    if per_target is not None:  # several CSV targets: R^2 of each, by name (r2 is their mean)
        scores["r2_per_target"] = dict(zip(ds.target_names, map(float, per_target),
                                           strict=True))
    return scores


def _test_lines(test: dict) -> list[tuple[str, Any]]:
    names = {"accuracy": "test accuracy", "subset_accuracy": "test subset accuracy",
             "hamming_loss": "test Hamming loss", "r2": "test R^2", "mse": "test MSE"}
    lines = [(names[k], v) for k, v in test.items() if k in names]
    lines += [(f"test R^2 of {name!r}", v) for name, v in test.get("r2_per_target", {}).items()]
    return lines


def _final_logs(history) -> dict:
    if history is None or not len(history):
        return {}
    return {k: v[-1] for k, v in history.history.items() if v and isinstance(v[-1], float)}


def _data_notes(ds, task_given: bool) -> list[str]:
    """Notes on what ``train`` decided about ``ds`` on its own, for the user to check.

    A task read from integer labels (up to 50 distinct values count as classes: room counts,
    years, rounded prices) unless they are plainly class numbers (0..k-1 or 1..k, k <= 10);
    regression of a target that is every integer 0..k-1 or 1..k (class numbers, too many of
    them to be read as classes);
    and a feature column of distinct integers in increasing order, a row identifier, from
    which the network would learn the rows' order.
    """
    notes = []
    y, classes = ds.y, ds.classes
    if not task_given and ds.task == "classification" and y is not None \
            and y.dtype.kind in "iuf" and not _class_numbers(classes):
        notes.append(f"note: classification, as {ds.target_name!r} holds {len(ds.classes)} "
                     "distinct integers; --task regression treats them as numbers")
    if not task_given and ds.task == "regression" and y is not None and y.ndim == 1 \
            and len(y) and np.all(y == np.round(y)):
        values = np.unique(y)
        k = len(values)
        if k > 2 and values[0] in (0, 1) and np.array_equal(values, values[0] + np.arange(k)):
            notes.append(f"note: regression, as {ds.target_name!r} holds {k} distinct integers "
                         f"({values[0]:.0f}..{values[-1]:.0f}), too many to be read as classes; "
                         "if they are class numbers, --task classification treats them so")
    if ds.task == "classification" and y is not None and y.dtype.kind == "U" \
            and _all_numbers(classes):
        notes.append(f"note: the labels of {ds.target_name!r} are kept as written "
                     f"({', '.join(map(repr, classes[:5].tolist()))}"
                     f"{', ...' if len(classes) > 5 else ''}): read as numbers, some would be "
                     "written otherwise or merge into one class; predictions give them back "
                     "as written")
    if not task_given and ds.task == "regression" and ds.target_names \
            and all(_class_numbers_like(c) for c in y.T):
        notes.append(f"note: regression of the {len(ds.target_names)} targets "
                     f"{', '.join(map(repr, ds.target_names))} as numbers; they hold integers, "
                     "but multi-label needs only 0 and 1 in every column (--task multilabel "
                     "names the first other value)")
    X = ds.X
    if X.shape[0] >= 3:
        for j, name in enumerate(ds.feature_names):
            col = X[:, j]
            if col[0] < col[1] and col[-2] < col[-1] \
                    and np.all(np.diff(col) > 0) and np.all(col == np.round(col)):
                notes.append(f"note: column {name!r} holds distinct integers in increasing "
                             "order, like a row identifier: the network learns from it as a "
                             f"number (from the rows' order); --drop {name} leaves it out")
    return notes


def _class_numbers(classes: np.ndarray) -> bool:
    """Whether sorted numeric labels read as class numbers: 0..k-1 or 1..k, k <= 10."""
    k = len(classes)
    return k <= 10 and (np.array_equal(classes, np.arange(k))
                        or np.array_equal(classes, np.arange(1, k + 1)))


def _all_numbers(labels: np.ndarray) -> bool:
    """Whether every text label reads as a number (``007``, ``7.0``): kept as written."""
    from ..data.cells import number

    try:
        for label in labels.tolist():
            number(label)
    except ValueError:
        return False
    return True


def _class_numbers_like(y: np.ndarray) -> bool:
    """Whether a regression target column ``y`` (n_samples,) holds few distinct integers."""
    from ..data.dataset import detect_task

    return y.size > 0 and detect_task(y) == "classification"
