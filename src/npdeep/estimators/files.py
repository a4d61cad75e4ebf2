"""Estimators and ``Pipeline(StandardScaler(), Deep*())`` in the one model file format.

The container is :mod:`npdeep.io` (zip of ``.npy`` arrays + ``header.json``, atomic writes,
checked loads; nothing is ever unpickled). On top of it:

* an estimator file has ``"kind": "estimator"`` and a header holding ``estimator`` (the class
  name, looked up in a fixed table, never imported from the file), ``params`` (its
  ``get_params()``), ``architecture`` (:meth:`Network.get_config`), ``state`` (``classes_``,
  ``n_iter_``, ``loss_curve_``, ...) and the arrays ``W1, b1, ..., WL, bL`` in the article's
  orientation (W[l]: (n[l], n[l-1]));
* a pipeline file has ``"kind": "pipeline"`` and ``steps``: a list of ``{"name", "type",
  ...}``, where a ``"passthrough"`` step has only its name, each StandardScaler stores its
  parameters in the header and ``mean_``, ``scale_``, ``var_`` as arrays ``"<i>.mean_"``...,
  and the final estimator stores its arrays as ``"<i>.W1"``... .

>>> import npdeep                                                     # doctest: +SKIP
>>> npdeep.save(pipeline, "model.npdeep"); same = npdeep.load("model.npdeep")  # doctest: +SKIP
"""

from __future__ import annotations

import numbers
import os
from typing import Any

import numpy as np

from .._registry import recorded_config
from .._validation import parse_dtype
from ..errors import ConfigurationError, ModelFileError
from ..io import header_errors, load_model_file, merged_header, save_model_file
from ..serialization import check_finite_parameters

__all__ = ["save_estimator", "load_estimator", "save_pipeline", "load_pipeline",
           "estimator_to_header", "estimator_from_header"]

_STATE_KEYS = ("n_iter_", "t_", "loss_curve_", "best_loss_", "validation_scores_",
               "best_validation_score_", "n_features_in_", "n_outputs_", "_target_type",
               "_no_improvement_count")


#: The states every fitted estimator has, and every file since the first has held.
_TRAINING_STATE = ("n_iter_", "t_", "loss_curve_", "best_loss_", "validation_scores_",
                   "best_validation_score_", "_no_improvement_count")


def _classes():
    from .classifier import DeepClassifier
    from .regressor import DeepRegressor

    return {"DeepClassifier": DeepClassifier, "DeepRegressor": DeepRegressor}


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
        "of them can be stored (pass an int random_state; callbacks: "
        "est.set_params(callbacks=None) before saving)"
    )


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__pairs__"}:
        return {_key(k): _from_json(v) for k, v in value["__pairs__"]}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
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


def _search_hint(obj, verb: str) -> str:
    """Point a fitted search (GridSearchCV...) to its refitted ``best_estimator_``."""
    if hasattr(obj, "best_estimator_"):
        return f"; {verb} its best_estimator_ instead"
    return ""


#: Parameters that may be an npdeep object, saved as its config dict (:func:`_as_config`).
_CONFIG_PARAMS = ("optimizer", "schedule", "activation", "output_activation")


def _as_config(value: Any) -> Any:
    """Return an Optimizer, Schedule or Activation object given as a parameter as its config
    dict (a list of them, one activation per layer, as a list of dicts); anything else as is.

    The estimator only ever uses such an object's config (it trains a copy), so the loaded
    estimator, given the dict, trains and reports ``get_params(deep=True)`` as the saved one.
    """
    def config(v):
        return v.get_config() if hasattr(v, "get_config") and not isinstance(v, type) else v

    if isinstance(value, (list, tuple)) and any(config(v) is not v for v in value):
        return [config(v) for v in value]
    return config(value)


def estimator_to_header(est) -> tuple[dict, dict[str, np.ndarray]]:
    """Return ``(header, arrays)`` describing a fitted Deep* estimator."""
    from sklearn.utils.validation import check_is_fitted

    name = type(est).__name__
    if name not in _classes() or type(est) is not _classes()[name]:
        raise ConfigurationError(
            f"cannot save a {name}: model files hold DeepClassifier, DeepRegressor, Network or "
            "a Pipeline of StandardScaler steps ending in one of the estimators"
            + _search_hint(est, "save")
        )
    check_is_fitted(est, "network_")
    params = {k: _as_config(v) if k in _CONFIG_PARAMS else v
              for k, v in est.get_params(deep=False).items()}
    if isinstance(params.get("dtype"), (type, np.dtype)):  # np.float32: stored by name
        params["dtype"] = np.dtype(params["dtype"]).name
    header: dict[str, Any] = {
        "kind": "estimator",
        "estimator": name,
        "params": {k: _jsonable(v, k) for k, v in params.items()},
        "architecture": est.network_.get_config(),
        "optimizer": recorded_config(est.optimizer_),
        "state": {k: _jsonable(getattr(est, k), k) for k in _STATE_KEYS if hasattr(est, k)},
    }
    if hasattr(est, "classes_"):
        header["state"]["classes_"] = _classes_to_json(est.classes_)
    if hasattr(est, "feature_names_in_"):
        header["state"]["feature_names_in_"] = [str(f) for f in est.feature_names_in_]
    check_finite_parameters(est.network_.parameters)
    arrays = {k: np.array(v) for k, v in est.network_.parameters.items()}
    return header, arrays


def estimator_from_header(header: dict, arrays: dict, where: str):
    """Rebuild a fitted estimator from :func:`estimator_to_header`'s output (shapes checked)."""
    from .. import optimizers as _optimizers
    from ..network import Network
    from ..serialization import expected_shapes

    name = header.get("estimator")
    table = _classes()
    if not isinstance(name, str) or name not in table:
        raise ModelFileError(f"{where}: unknown estimator {name!r}; expected one of {list(table)}")
    with header_errors(where, "estimator description"):
        params = {k: _from_json(v) for k, v in dict(header["params"]).items()}
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        est = table[name](**params)
        est._check_params()
        arch = header["architecture"]
        units = arch["units"]
        if not isinstance(units, list) or not all(isinstance(n, int) and n > 0 for n in units):
            raise ModelFileError(f"{where}: invalid architecture units {units!r}")
        shapes = expected_shapes(units)
        if set(arrays) != set(shapes):
            raise ModelFileError(f"{where}: arrays {sorted(arrays)} do not match the "
                                 f"architecture {units} (expected {sorted(shapes)})")
        for key, shape in shapes.items():
            if tuple(arrays[key].shape) != shape:
                raise ModelFileError(f"{where}: array {key!r} has shape {arrays[key].shape}, "
                                     f"the architecture {units} needs {shape}")
        if est._units(units[0], units[-1]) != units:
            raise ModelFileError(f"{where}: hidden_layer_sizes={est.hidden_layer_sizes!r} does "
                                 f"not match the architecture {units}")
        net = Network.from_config(arch)
        net.parameters = arrays
        est.network_ = net
        est.optimizer_ = _optimizers.get(header.get("optimizer", {"name": "sgd"}))
        state = dict(header["state"])
        if "classes_" in state:
            est.classes_ = _classes_from_json(state.pop("classes_"), where)
        if "feature_names_in_" in state:
            est.feature_names_in_ = np.array(state.pop("feature_names_in_"), dtype=object)
        for key, value in state.items():
            if key not in _STATE_KEYS:
                raise ModelFileError(f"{where}: unknown estimator state {key!r}")
            setattr(est, key, _state_value(key, _from_json(value), where))
        missing = [k for k in _TRAINING_STATE if not hasattr(est, k)]
        if missing:  # partial_fit, warm_start and inspect read them
            raise ModelFileError(f"{where}: estimator state lacks {missing}")
        if not hasattr(est, "n_features_in_"):  # predict checks X against it
            est.n_features_in_ = units[0]
        _check_outputs(est, units, where)
    return est


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


def _check_outputs(est, units: list[int], where: str) -> None:
    """Refuse a restored state that does not fit the network (inputs, outputs, target type)."""
    if getattr(est, "n_features_in_", units[0]) != units[0]:
        raise ModelFileError(f"{where}: n_features_in_={est.n_features_in_!r} does not match "
                             f"the architecture {units}")
    if getattr(est, "n_outputs_", units[-1]) != units[-1]:
        raise ModelFileError(f"{where}: n_outputs_={est.n_outputs_!r} does not match the "
                             f"architecture {units}")
    est.n_outputs_ = units[-1]  # classifier files written before n_outputs_ was kept lack it
    if type(est).__name__ != "DeepClassifier":
        return
    target = getattr(est, "_target_type", None)
    if target not in ("binary", "multiclass", "multilabel") or not hasattr(est, "classes_"):
        raise ModelFileError(f"{where}: invalid classifier state: target type {target!r}, "
                             f"classes_ {'present' if hasattr(est, 'classes_') else 'missing'}")
    two_way = target != "multilabel" and (target == "binary") != (len(est.classes_) == 2)
    if est._n_outputs() != units[-1] or two_way:  # multi-label: any number of labels
        raise ModelFileError(f"{where}: classes_ {est.classes_.tolist()} ({target}) do not match "
                             f"the {units[-1]} output units of the architecture {units}")


def save_estimator(est, path: str | os.PathLike, **extra: Any):
    """Write a fitted DeepClassifier or DeepRegressor to ``path`` atomically."""
    header, arrays = estimator_to_header(est)
    return save_model_file(path, merged_header(header, extra), arrays)


def load_estimator(path: str | os.PathLike):
    """Load an estimator saved by :func:`save_estimator`."""
    header, arrays = load_model_file(path)
    where = f"model file {os.fspath(path)!r}"
    if header.get("kind") != "estimator":
        raise ModelFileError(f"{where}: not an estimator file (kind {header.get('kind')!r})")
    return estimator_from_header(header, arrays, where)


_SCALER_ATTRS = ("mean_", "scale_", "var_")
#: A scaler's ``set_output(transform=...)`` values that a pipeline file keeps.
_OUTPUTS = ("default", "pandas", "polars")


def save_pipeline(pipeline, path: str | os.PathLike, **extra: Any):
    """Write a fitted ``Pipeline(StandardScaler(), ..., DeepClassifier or DeepRegressor)``.

    Every step but the last must be a fitted StandardScaler or ``"passthrough"`` (or None,
    loaded as ``"passthrough"``); a scaler's ``mean_``, ``scale_`` and
    ``var_`` (n_x,) are stored as arrays ``"<i>.mean_"``..., the rest in the header.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.preprocessing import StandardScaler

    steps, arrays = [], {}
    *scalers, (last_name, last) = pipeline.steps
    for i, (name, step) in enumerate(scalers):
        if step is None or (isinstance(step, str) and step == "passthrough"):
            steps.append({"name": name, "type": "passthrough"})  # e.g. a grid search's choice
            continue
        if type(step) is not StandardScaler:
            raise ConfigurationError(
                f"cannot save pipeline step {name!r} ({type(step).__name__}): only "
                "StandardScaler and 'passthrough' steps followed by a DeepClassifier or "
                f"DeepRegressor are supported; save the fitted {type(last).__name__} alone, "
                "npdeep.save(pipeline[-1], path), and keep the other steps as you would "
                "any scikit-learn object (for a CSV with text columns, `npdeep train "
                "--categorical onehot` stores its encoding in the model file)"
            )
        if not hasattr(step, "n_features_in_"):
            raise ConfigurationError(f"pipeline step {name!r} is not fitted; fit the pipeline")
        entry = {"name": name, "type": "StandardScaler",
                 "params": {k: _jsonable(v, k) for k, v in step.get_params().items()},
                 "n_features_in_": int(step.n_features_in_),
                 "n_samples_seen_": _jsonable(step.n_samples_seen_, "n_samples_seen_")}
        if hasattr(step, "feature_names_in_"):
            entry["feature_names_in_"] = [str(f) for f in step.feature_names_in_]
        output = getattr(step, "_sklearn_output_config", {}).get("transform")
        if isinstance(output, str):  # set_output(transform="pandas"): the next step saw names
            entry["set_output"] = output
        for attr in _SCALER_ATTRS:
            value = getattr(step, attr)
            entry[attr] = value is not None
            if value is not None:
                arrays[f"{i}.{attr}"] = np.asarray(value)
        steps.append(entry)
    try:
        header, est_arrays = estimator_to_header(last)
    except (ConfigurationError, NotFittedError) as exc:  # which step, in a long pipeline
        what = "'passthrough'" if last is None or isinstance(last, str) else type(last).__name__
        raise type(exc)(f"pipeline step {last_name!r} ({what}): {exc}") from None
    steps.append({"name": last_name, "type": "estimator", **header})
    arrays.update({f"{len(scalers)}.{k}": v for k, v in est_arrays.items()})
    return save_model_file(path, merged_header({"kind": "pipeline", "steps": steps}, extra),
                           arrays)


def load_pipeline(path: str | os.PathLike):
    """Load a pipeline saved by :func:`save_pipeline`."""
    header, arrays = load_model_file(path)
    where = f"model file {os.fspath(path)!r}"
    if header.get("kind") != "pipeline":
        raise ModelFileError(f"{where}: not a pipeline file (kind {header.get('kind')!r})")
    return pipeline_from_header(header, arrays, where)


def _set_scaler_arrays(scaler, arrays: dict, n: int, where: str) -> None:
    """Set ``mean_``, ``scale_``, ``var_`` (n,) from ``arrays``: exactly those the scaler's
    parameters call for (sklearn leaves ``mean_`` None without centring and scaling,
    ``scale_``/``var_`` None without scaling), finite real numbers, scale_ > 0."""
    wanted = {"mean_": scaler.with_mean or scaler.with_std, "scale_": scaler.with_std,
              "var_": scaler.with_std}
    if set(arrays) != {attr for attr in _SCALER_ATTRS if wanted[attr]}:
        raise ModelFileError(f"{where} StandardScaler(with_mean={scaler.with_mean}, with_std="
                             f"{scaler.with_std}) needs arrays "
                             f"{[a for a in _SCALER_ATTRS if wanted[a]]}, the file has "
                             f"{sorted(arrays)}")
    for attr in _SCALER_ATTRS:
        value = arrays.get(attr)
        if value is not None:
            if value.shape != (n,):
                raise ModelFileError(f"{where} {attr} has shape {value.shape}, expected ({n},)")
            if value.dtype.kind != "f" or not np.isfinite(value).all() or (
                    attr == "scale_" and not (value > 0).all()):
                raise ModelFileError(f"{where} {attr} must hold finite floats"
                                     + (" > 0" if attr == "scale_" else "")
                                     + f" (dtype {value.dtype})")
        setattr(scaler, attr, value)


def _check_step_names(names: list, where: str) -> None:
    """Refuse step names scikit-learn's Pipeline would refuse at fit: each a non-empty str
    without ``__``, all distinct."""
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name or "__" in name:
            raise ModelFileError(f"{where}: step {i} has name {name!r:.100}; a pipeline step's "
                                 "name is a non-empty string without '__'")
    if len(set(names)) != len(names):
        raise ModelFileError(f"{where}: pipeline step names {names!r:.200} are not distinct")


def pipeline_from_header(header: dict, arrays: dict, where: str):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    entries = header.get("steps")
    if not isinstance(entries, list) or not entries:
        raise ModelFileError(f"{where}: pipeline has no steps")
    indexes = {str(i) for i in range(len(entries))}
    stray = sorted(k for k in arrays if k.partition(".")[0] not in indexes or "." not in k)
    if stray:
        raise ModelFileError(f"{where}: arrays {stray} belong to none of the "
                             f"{len(entries)} pipeline steps")
    steps = []
    with header_errors(where, "pipeline description"):
        _check_step_names([entry.get("name") for entry in entries], where)
        for i, entry in enumerate(entries):
            prefix = f"{i}."
            mine = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            if i < len(entries) - 1:
                if entry.get("type") == "passthrough":
                    if mine:
                        raise ModelFileError(f"{where}: step {i} is a passthrough but has "
                                             f"arrays {sorted(mine)}")
                    steps.append((entry["name"], "passthrough"))
                    continue
                if entry.get("type") != "StandardScaler":
                    raise ModelFileError(f"{where}: unsupported step type {entry.get('type')!r}")
                scaler = StandardScaler(**{k: _from_json(v)
                                           for k, v in entry["params"].items()})
                n = int(entry["n_features_in_"])
                _set_scaler_arrays(scaler, mine, n, f"{where}: step {i}")
                scaler.n_features_in_ = n
                scaler.n_samples_seen_ = _from_json(entry["n_samples_seen_"])
                if "feature_names_in_" in entry:
                    scaler.feature_names_in_ = np.array(entry["feature_names_in_"], dtype=object)
                if "set_output" in entry:
                    if entry["set_output"] not in _OUTPUTS:
                        raise ModelFileError(f"{where}: step {i} has set_output "
                                             f"{entry['set_output']!r}, expected one of "
                                             f"{list(_OUTPUTS)}")
                    scaler.set_output(transform=entry["set_output"])
                steps.append((entry["name"], scaler))
            else:
                if entry.get("type") != "estimator":
                    raise ModelFileError(f"{where}: the last step must be an estimator")
                steps.append((entry["name"], estimator_from_header(entry, mine, where)))
    return Pipeline(steps)
