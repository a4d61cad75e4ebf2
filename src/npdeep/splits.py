"""What the training loop needs around the data: validation splits, class weights, metrics.

All arrays are features x samples: ``X`` (n_x, m), ``Y`` (n_L, m).
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from ._mmap import is_memmap
from ._validation import check_fraction
from .errors import ConfigurationError, DataError
from .inputs import sample_weights

__all__ = ["class_labels", "class_sample_weight", "validation_split", "metric_name",
           "Metric"]


def _is_classifier(net) -> bool:
    return net.output_activation.name in ("sigmoid", "softmax")


def class_labels(net, Y: np.ndarray) -> np.ndarray:
    """Return the class index of each sample, shape (m,), for a classification ``Y`` (n_L, m).

    softmax: ``argmax`` of the one-hot rows; one sigmoid unit: the 0/1 value. Raises
    ConfigurationError for other outputs (several sigmoid units, regression).
    """
    name = net.output_activation.name
    if name == "softmax":
        return Y.argmax(axis=0)
    if name == "sigmoid" and Y.shape[0] == 1:
        return (Y[0] > 0.5).astype(np.intp)
    raise ConfigurationError(
        "class weights and stratified validation need a classification network (a softmax "
        f"output, or one sigmoid unit), this one's output is {name!r} with {Y.shape[0]} units"
    )


def _classes(net) -> list[int]:
    return list(range(net.units[-1])) if net.output_activation.name == "softmax" else [0, 1]


def class_sample_weight(net, Y: np.ndarray, class_weight) -> np.ndarray:
    """Return per-sample weights (m,) from ``class_weight``: a dict ``{class: weight}`` or
    ``'balanced'`` (``m / (n_classes * count[c])`` for the classes present).
    """
    labels = class_labels(net, Y)
    classes = _classes(net)
    table = np.ones(len(classes))
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ConfigurationError(
                f"class_weight must be a dict {{class: weight}} or 'balanced', got {class_weight!r}"
            )
        counts = np.bincount(labels, minlength=len(classes)).astype(np.float64)
        present = counts > 0
        table[present] = labels.shape[0] / (present.sum() * counts[present])
        return table[labels]
    if not isinstance(class_weight, dict):
        raise ConfigurationError(
            f"class_weight must be a dict {{class: weight}} or 'balanced', got {class_weight!r}"
        )
    unknown = []
    for key, weight in class_weight.items():
        # a class given as its ASCII numeral (a JSON key): "2"; not "²", whose isdigit() holds
        # but which int() refuses, nor "--1"
        k = int(key) if isinstance(key, str) and re.fullmatch(r"-?[0-9]+", key) else key
        if isinstance(k, numbers.Real) and not isinstance(k, (bool, numbers.Integral)) \
                and math.isfinite(k) and float(k).is_integer():
            k = int(k)  # 1.0, the label of float targets such as y = [0., 1., 2.]
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k not in classes:
            unknown.append(key)
            continue
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real) \
                or not np.isfinite(weight) or weight < 0:
            raise ConfigurationError(
                f"class_weight[{key!r}] must be a finite number >= 0, got {weight!r}"
            )
        table[int(k)] = float(weight)
    if unknown:
        raise DataError(
            f"class_weight has weights for unknown classes {unknown}; the network's classes "
            f"are {classes}"
        )
    return table[labels]


def validation_split(net, X, Y, fraction, seed) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(train_idx, val_idx)``: a seeded split of the m samples, stratified by class.

    For classification each class gives ``round(fraction * count)`` samples (at least one
    when it has two or more); otherwise a plain seeded draw of ``round(fraction * m)``.
    Both index arrays are sorted.
    """
    fraction = check_fraction(fraction, "validation_fraction", low_inclusive=False)
    rng = np.random.default_rng(seed)
    m = X.shape[1]
    if _is_classifier(net) and (net.output_activation.name == "softmax" or Y.shape[0] == 1):
        labels = class_labels(net, Y)
        chosen = []
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            k = int(round(fraction * idx.size))
            if k == 0 and idx.size >= 2:
                k = 1
            k = min(k, idx.size - 1)
            if k > 0:
                chosen.append(rng.permutation(idx)[:k])
        val = np.sort(np.concatenate(chosen)) if chosen else np.empty(0, np.intp)
    else:
        k = min(int(round(fraction * m)), m - 1)
        val = np.sort(rng.permutation(m)[:k])
    if val.size == 0:
        why = ("every class has a single sample, and a class gives validation samples only "
               "when it keeps one for training" if _is_classifier(net) and m >= 2 else
               "too few samples")
        raise DataError(
            f"validation_fraction={fraction} leaves no validation sample out of m = {m} "
            f"({why}); give validation_data, or more samples"
        )
    train = np.setdiff1d(np.arange(m), val, assume_unique=True)
    return train, val


def metric_name(net) -> str:
    """``'accuracy'`` for sigmoid/softmax outputs, ``'r2'`` (coefficient of determination)
    otherwise."""
    return "accuracy" if _is_classifier(net) else "r2"


class Metric:
    """Accumulate the metric over batches: correct counts, or squared errors for r2.

    ``add(A, Y)`` takes outputs ``A`` (n_L, m) and targets ``Y`` (n_L, m). r2 is scikit-learn's
    ``r2_score``: the mean over the n_L outputs of ``1 - SSE_k / SST_k``, an output whose
    target is constant counting 1 when predicted exactly and 0 otherwise (its ``force_finite``),
    so it equals DeepRegressor's ``score``; NaN for fewer than two samples, as there.
    """

    def __init__(self, net, Y_all: np.ndarray | None = None, weights: np.ndarray | None = None):
        self.kind = net.output_activation.name
        self.name = metric_name(net)
        self.total = 0.0
        self.count = 0
        self.sst = None
        # sample weights (m,) of Y_all's columns, met in order by add: a weighted metric
        self.weights = None if weights is None else np.asarray(weights, np.float64).reshape(-1)
        if self.weights is not None and self.weights.size and self.weights.max() > 0:
            # accuracy and r2 do not change with the weights' scale; their sums do overflow
            # (weights of 1e307 gave an accuracy of NaN), as in inputs.sample_coef
            self.weights = self.weights / self.weights.max()
        self.seen = 0
        # one-hot targets let the accuracy count skip argmax, which copies (n_L, m) arrays
        self.one_hot = (self.kind == "softmax" and Y_all is not None
                        and bool(np.isin(Y_all, (0, 1)).all())
                        and bool((Y_all.sum(axis=0) == 1).all()))
        if self.name == "r2" and Y_all is not None and self.weights is not None:
            w = self.weights  # scikit-learn's r2_score(sample_weight=w)
            mean = (Y_all @ w / w.sum())[:, None]
            centred = Y_all - mean
            self.sst = np.einsum("ij,ij,j->i", centred, centred, w)
        elif self.name == "r2" and Y_all is not None:  # SST_k per output, (n_L,)
            centred = Y_all - Y_all.mean(axis=1, keepdims=True, dtype=np.float64)
            self.sst = np.einsum("ij,ij->i", centred, centred)

    def add(self, A: np.ndarray, Y: np.ndarray, ws=None) -> None:
        """Count batch outputs ``A`` (n_L, m) against ``Y`` (n_L, m).

        ``ws``: optional engine Workspace for ``m`` samples whose scratch (``rows``, ``hits``,
        ``S``) receives the temporaries, so counting allocates nothing proportional to m. A
        softmax column whose largest output is tied counts as :meth:`Network.predict` does
        (argmax: the first of the tied classes), as with uniform outputs (dead relu layers).
        With weights, each sample counts its weight (the next ``m`` of them).
        """
        if self.weights is not None:
            self._add_weighted(A, Y)
        elif self.kind == "softmax":
            if ws is None or not self.one_hot:
                hits = A.argmax(axis=0) == Y.argmax(axis=0)
            else:
                # a hit: the true class's output is the column's largest (sum_k y_k a_k = a_true)
                largest, true = ws.rows
                np.maximum.reduce(A, axis=0, out=largest)
                np.add.reduce(np.multiply(Y, A, out=ws.S[-1]), axis=0, out=true)
                hits = np.equal(true, largest, out=ws.hits[0])
                n, m = A.shape
                if np.count_nonzero(np.equal(A, largest, out=ws.hits[n : 2 * n])) > m:
                    # a column with two largest outputs: the comparison counted it as a hit
                    # whichever class argmax picks (every sample, with uniform outputs)
                    hits = A.argmax(axis=0) == Y.argmax(axis=0)
            self.total += np.count_nonzero(hits)
            self.count += A.shape[1]
        elif self.kind == "sigmoid":
            if ws is None:
                hits = (A > 0.5) == (Y > 0.5)
            else:
                n = A.shape[0]
                hits, other = ws.hits[:n], ws.hits[n : 2 * n]
                np.greater(A, 0.5, out=hits)
                np.greater(Y, 0.5, out=other)
                np.equal(hits, other, out=hits)
            self.total += np.count_nonzero(hits)
            self.count += A.size
        else:  # SSE_k per output: total goes from 0.0 to an (n_L,) array
            diff = np.subtract(A, Y, out=None if ws is None else ws.S[-1])
            np.multiply(diff, diff, out=diff)
            # in diff's dtype: a float64 reduce of float32 would cast through an (n_L, m) copy
            self.total = self.total + np.add.reduce(diff, axis=1).astype(np.float64)
            self.count += A.size

    def _add_weighted(self, A: np.ndarray, Y: np.ndarray) -> None:
        """:meth:`add` with sample weights: hits and squared errors weigh w_i each."""
        w = self.weights[self.seen : self.seen + A.shape[1]]
        self.seen += A.shape[1]
        if self.kind == "softmax":
            self.total += float(w @ (A.argmax(axis=0) == Y.argmax(axis=0)))
            self.count += float(w.sum())
        elif self.kind == "sigmoid":
            self.total += float(((A > 0.5) == (Y > 0.5)).sum(axis=0) @ w)
            self.count += A.shape[0] * float(w.sum())
        else:
            diff = A - Y
            self.total = self.total + (diff * diff) @ w
            self.count += A.size

    def result(self) -> float:
        if self.name == "r2":
            # undefined below two samples, as scikit-learn's (which warns and gives nan)
            if self.sst is None or self.count < 2 * self.sst.size:
                return float("nan")
            sse, sst = np.broadcast_to(self.total, self.sst.shape), self.sst
            constant = np.where(sse == 0, 1.0, 0.0)  # a constant target's, as scikit-learn
            r2 = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), constant)
            return float(r2.mean())
        return self.total / self.count if self.count > 0 else 0.0


def check_validation_data(net, validation_data):
    """Return ``(X_val (n_x, m_val), Y_val (n_L, m_val), w_val)`` checked against the network.

    ``validation_data`` is ``(X_val, Y_val)`` or, as in Keras, ``(X_val, Y_val,
    sample_weight_val)``; ``w_val`` is None without weights, else their (m_val,) float64
    values. ``X_val`` is in the network's dtype, except a memory-mapped one, which keeps its
    own.
    """
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        got = (f"a {type(validation_data).__name__} of {len(validation_data)} items"
               if isinstance(validation_data, (tuple, list)) else type(validation_data).__name__)
        raise ConfigurationError(
            "validation_data must be a pair (X_val, Y_val) with X_val (n_x, m_val), or a "
            f"triple (X_val, Y_val, sample_weight_val), got {got}"
        )
    Xv = validation_data[0]
    # dense or scipy.sparse; a memory-mapped X_val keeps its dtype: evaluation casts it chunk
    # by chunk
    Xv = net.check_X(Xv, "validation X", cast=not is_memmap(Xv))
    Yv = net.check_Y(validation_data[1], Xv.shape[1], "validation Y")
    weights = validation_data[2] if len(validation_data) == 3 else None
    return Xv, Yv, sample_weights(Xv.shape[1], weights, "validation sample_weight")


def weighted_validation(validation_data) -> bool:
    """Whether ``validation_data`` is ``(X_val, Y_val, w_val)`` with weights (not None)."""
    return isinstance(validation_data, (tuple, list)) and len(validation_data) == 3 \
        and validation_data[2] is not None
