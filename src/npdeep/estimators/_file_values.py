"""The values an estimator file's header holds, as JSON and back, checked on the way in.

Parameters and states become plain JSON (a dict's keys, class labels, kept with their type
as pairs; non-finite floats as strings); ``classes_`` is stored with its dtype and read back
only if sorted, distinct and held exactly; each fitted state read from a file must have its
type (:data:`_STATE_TYPES`). :mod:`npdeep.estimators.files` describes the format.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import parse_dtype
from ..errors import ConfigurationError, ModelFileError


def _jsonable(value: Any, what: str) -> Any:
    """Return ``value`` as plain JSON types, or raise naming the parameter."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if np.isfinite(value) else None if np.isnan(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, what) for v in value]
    if isinstance(value, dict):
        # keys may be class labels (class_weight): keep them with their type as pairs
        return {"__pairs__": [[_jsonable(k, what), _jsonable(v, what)] for k, v in value.items()]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufU":
        return value.tolist()
    raise ConfigurationError(
        f"cannot save {what}={value!r} in a model file: only numbers, strings, lists and dicts "
        "of them can be stored"
    )


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__pairs__"}:
        return {_key(k): _from_json(v) for k, v in value["__pairs__"]}
    if isinstance(value, list):  # numbers, most often (loss_curve_): kept as they are
        return [_from_json(v) if isinstance(v, (dict, list, str)) else v for v in value]
    if value in ("inf", "-inf"):
        return float(value)
    return value


def _key(k):
    return tuple(k) if isinstance(k, list) else k


def _classes_to_json(classes: np.ndarray) -> dict:
    kind = classes.dtype.kind
    if kind in "biuf":
        return {"dtype": classes.dtype.str, "values": classes.tolist()}
    if kind in "UO" and all(isinstance(c, str) for c in classes.tolist()):
        return {"dtype": "str" if kind == "U" else "object", "values": classes.tolist()}
    raise ConfigurationError(
        f"cannot save classes_ of dtype {classes.dtype}: only numbers and strings are supported"
    )


def _classes_from_json(data: Any, where: str) -> np.ndarray:
    """Return classes_ read from a file: exactly the values stored, sorted and distinct.

    ``fit`` makes classes_ with ``np.unique``, and ``partial_fit`` encodes labels by a binary
    search in it; a file's list in another order, with repeats, or whose values the dtype
    does not hold exactly (1.5 as int64, a non-finite float) is refused.
    """
    classes = _read_classes(data, where)
    values = data["values"]
    exact = classes.ndim == 1 and classes.tolist() == values
    if classes.dtype.kind == "f":
        exact = exact and bool(np.isfinite(classes).all())
    if not exact or (classes.size > 1 and not all(
            a < b for a, b in zip(values[:-1], values[1:], strict=True))):
        raise ModelFileError(
            f"{where}: classes_ must be distinct values in increasing order, each held exactly "
            f"by its dtype {data.get('dtype')!r}; got {values!r:.200}"
        )
    return classes


def _read_classes(data: Any, where: str) -> np.ndarray:
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise ModelFileError(f"{where}: invalid classes_ entry {data!r}")
    dtype, values = data.get("dtype"), data["values"]
    if dtype == "object":
        if not all(isinstance(v, str) for v in values):
            raise ModelFileError(f"{where}: classes_ of dtype object must be strings")
        return np.array(values, dtype=object)
    if dtype == "str":
        return np.array(values, dtype=str)
    parsed = parse_dtype(dtype) if isinstance(dtype, str) and len(dtype) <= 4 else None
    if parsed is None or parsed.kind not in "biuf":
        raise ModelFileError(f"{where}: invalid classes_ dtype {dtype!r}")
    return np.array(values, dtype=parsed)


def feature_names(value: Any, n: int, where: str) -> np.ndarray:
    """Return a fitted ``feature_names_in_`` read from a file: a list of ``n`` strings, as an
    object array (as scikit-learn keeps it)."""
    if not isinstance(value, list) or len(value) != n or \
            not all(isinstance(name, str) for name in value):
        raise ModelFileError(f"{where} feature_names_in_ must be a list of {n} strings, one "
                             f"per input, got {value!r:.100}")
    return np.array(value, dtype=object)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_score(value: Any) -> bool:
    """A number as a state holds it: a float (NaN saved as null, inf as "inf") or an int."""
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


#: What each estimator state must be: a check and its words for the error.
_STATE_TYPES = {
    "n_iter_": (_is_count, "an integer >= 0"),
    "t_": (_is_count, "an integer >= 0"),
    "_no_improvement_count": (_is_count, "an integer >= 0"),
    "n_features_in_": (lambda v: _is_count(v) and v > 0, "an integer >= 1"),
    "n_outputs_": (lambda v: _is_count(v) and v > 0, "an integer >= 1"),
    "loss_curve_": (lambda v: isinstance(v, list) and all(map(_is_score, v)),
                    "a list of numbers"),
    "validation_scores_": (lambda v: v is None or isinstance(v, list) and all(map(_is_score, v)),
                           "a list of numbers or null"),
    "best_loss_": (lambda v: v is not None and _is_score(v), "a number"),
    "best_validation_score_": (_is_score, "a number or null"),
    "_target_type": (lambda v: isinstance(v, str), "a string"),
}


def _state_value(key: str, value: Any, where: str) -> Any:
    """Return a fitted attribute read from a file, refused unless it has its type.

    ``inspect``, ``plot``, ``partial_fit`` and ``predict`` use these as numbers and lists;
    a tampered file must fail here, where the error can name the file and the key.
    """
    check, expected = _STATE_TYPES[key]
    if not check(value):
        raise ModelFileError(f"{where}: estimator state {key} must be {expected}, "
                             f"got {value!r:.100}")
    return value
