"""What DeepClassifier makes of its targets: the kind of ``y``, ``classes_``, the encoding.

:class:`ClassTargets` (a base of :class:`~npdeep.estimators.classifier.DeepClassifier`)
checks the labels, sets ``classes_`` and the target type (binary, multi-class or
multi-label), encodes ``y`` as the network's targets (m, n_L) and turns ``class_weight``
into sample weights. The functions before it check labels that cannot be ordered into
``classes_`` and warn about one-hot ``y``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from .._validation import caller_level
from ..errors import ConfigurationError, DataError
from ._inputs import checked_sample_weight

__all__ = ["ClassTargets"]


def _kind(label) -> str:
    """Return the family a label sorts within: number (bool too), str, or its type's name."""
    if isinstance(label, numbers.Number):
        return "number"
    return "str" if isinstance(label, str) else type(label).__name__


def _check_one_label_kind(labels: np.ndarray, name: str) -> None:
    """Refuse object labels that cannot be sorted, e.g. None, or NaN among strings."""
    if labels.dtype != object:
        return
    examples = {_kind(v): v for v in labels.ravel().tolist()}
    kinds = sorted(examples)
    if len(kinds) > 1:
        raise DataError(
            f"{name} mixes labels of kinds {kinds}, which cannot be ordered into classes_; "
            "use labels of one kind (a missing label such as None or NaN must be dropped or "
            "filled first)"
        )
    for kind, value in examples.items():  # one kind, but maybe one with no order (None)
        try:
            value < value  # noqa: B015 (only whether the comparison exists)
        except TypeError:
            raise DataError(
                f"{name} holds labels of kind {kind!r} (such as {value!r:.40}), which cannot "
                "be ordered into classes_; use numbers or strings (a missing label such as "
                "None must be dropped or filled first)"
            ) from None


def _checked_classes(classes) -> np.ndarray:
    """Return partial_fit's ``classes`` as a 1-D array of orderable labels, or raise."""
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise DataError(
            f"classes must be a 1-D list of every label, e.g. np.unique(y_all), got an "
            f"array of shape {classes.shape}"
        )
    _check_one_label_kind(classes, "classes")
    if classes.dtype.kind == "f" and np.isnan(classes).any():
        raise DataError(
            "classes holds NaN, which is not a label; drop or fill the missing labels first"
        )
    return classes


def _warn_if_one_hot(y) -> None:
    """Warn when a multi-label indicator ``y`` (m, K) has exactly one 1 in every row.

    That is one-hot encoded classes, as Keras's ``to_categorical`` gives them: trained as K
    independent labels (K sigmoids), ``predict`` may give a row no class or several.
    """
    counts = np.asarray(y.sum(axis=1)).ravel()
    if y.shape[0] == 0 or not np.all(counts == 1):
        return
    warnings.warn(
        f"y is a 0/1 matrix of shape {y.shape} with exactly one 1 per row: one-hot encoded "
        f"classes? DeepClassifier trains it as {y.shape[1]} independent labels (a sigmoid "
        "each), and predict may give a row no label or several; for one class per sample, "
        "pass the class labels instead (y.argmax(axis=1)): a softmax over the classes",
        UserWarning, stacklevel=caller_level(),
    )


class ClassTargets:
    """DeepClassifier's target encoding and class weights (the rest is in DeepClassifier)."""

    @staticmethod
    def _target_kind(y) -> str:
        kind = type_of_target(y, input_name="y")
        if kind in ("binary", "multiclass", "multilabel-indicator"):
            return "multilabel" if kind == "multilabel-indicator" else kind
        if kind == "multiclass-multioutput":
            raise DataError(
                "y is a multi-output multi-class target, which DeepClassifier does not support; "
                "use a 1-D class vector or a 0/1 multi-label indicator matrix (m, K)"
            )
        raise DataError(f"Unknown label type: y is {kind!r}")

    def _encode(self, y) -> np.ndarray:
        """Return targets as (m, n_L): 0/1 column, one-hot rows or the indicator matrix."""
        if self._target_type == "multilabel":
            Y = np.asarray(y, dtype=np.float64)
            values = np.unique(Y)
            if not np.isin(values, (0.0, 1.0)).all():
                raise DataError(
                    f"y is a multi-label indicator matrix of shape {Y.shape}, whose entries must "
                    f"be 0 or 1, got the values {values.tolist()!r:.80}; encode each label as "
                    "0/1 (e.g. y == 1)"
                )
            return Y
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise DataError(
                f"y contains labels {unseen.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}; fit again (warm_start=False) to learn new classes"
            )
        idx = np.searchsorted(self.classes_, y)
        if self._target_type == "binary":
            return (idx == 1).astype(np.float64).reshape(-1, 1)
        Y = np.zeros((y.shape[0], self.classes_.shape[0]))
        Y[np.arange(y.shape[0]), idx] = 1.0
        return Y

    def _set_classes(self, y, classes=None) -> None:
        kind = self._target_kind(y)
        if kind == "multilabel":
            self.classes_ = np.arange(y.shape[1])
            self._target_type = kind
            _warn_if_one_hot(y)
            return
        if classes is not None:
            classes = _checked_classes(classes)
        self.classes_ = np.unique(y if classes is None else classes)
        if self.classes_.shape[0] < 2:
            raise DataError(
                f"Classifier can't train when only one class is present: got the 1 class "
                f"{self.classes_.tolist()}; y needs at least 2 classes"
            )
        self._target_type = "binary" if self.classes_.shape[0] == 2 else "multiclass"

    @staticmethod
    def _labels(y) -> np.ndarray:
        """Check a classification target; a column (m, 1) becomes (m,) with a warning."""
        _check_one_label_kind(y, "y")
        try:
            check_classification_targets(y)
        except ValueError as exc:  # "Unknown label type: continuous. ...", as an npdeep error
            raise DataError(str(exc)) from None
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected: y of shape "
                f"{y.shape} was flattened to ({y.shape[0]},) with y.ravel()",
                DataConversionWarning, stacklevel=caller_level(),
            )
            y = y.ravel()
        return y

    def _n_outputs(self) -> int:
        return 1 if self._target_type == "binary" else self.classes_.shape[0]

    def _sample_weight(self, y, sample_weight):
        if self.class_weight is None:
            return sample_weight
        if self._target_type == "multilabel":
            raise ConfigurationError(
                f"class_weight={self.class_weight!r} is not supported for multi-label targets; "
                "pass sample_weight instead"
            )
        self._check_class_weight()
        cw = compute_sample_weight(self.class_weight, y)
        if not np.any(cw > 0):
            raise DataError(
                f"class_weight={self.class_weight!r} gives every sample of y a weight of 0; "
                "give at least one class present in y a positive weight"
            )
        if sample_weight is None:
            return cw
        # checked first: a wrong length is named, not a broadcasting error of the product
        sw = checked_sample_weight(sample_weight, y, dtype=np.float64)
        if np.all(sw >= 0) and np.any(sw > 0) and not np.any(cw * sw > 0):
            raise DataError(
                f"class_weight={self.class_weight!r:.100} times sample_weight is 0 for every "
                "sample: the samples with a positive sample_weight are all of classes weighted "
                "0; give one of their classes a positive class_weight"
            )
        return cw * sw

    def _check_class_weight(self) -> None:
        """Refuse a class_weight that is not 'balanced' or ``{class in classes_: weight >= 0}``."""
        cw = self.class_weight
        if isinstance(cw, str) and cw == "balanced":
            return
        if not isinstance(cw, dict):
            raise ConfigurationError(
                f"class_weight must be a dict {{class: weight}}, 'balanced' or None, got {cw!r}"
            )
        known = set(self.classes_.tolist())
        unknown = [key for key in cw if key not in known]
        if unknown:
            raise ConfigurationError(
                f"class_weight has weights for {unknown!r:.200}, which are not among classes_ "
                f"{self.classes_.tolist()!r:.200}"
            )
        for key, weight in cw.items():
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real) \
                    or not np.isfinite(weight) or weight < 0:
                raise ConfigurationError(
                    f"class_weight[{key!r}] must be a finite number >= 0, got {weight!r}"
                )
