"""A fitted DeepClassifier or DeepRegressor as a model file's header and arrays, and back.

The header holds ``estimator`` (the class name, looked up in a fixed table, never imported
from the file), ``params``, ``architecture``, ``optimizer`` and ``state``; the arrays are
``W1, b1, ..., WL, bL`` in the article's orientation (W[l]: (n[l], n[l-1])). Loading checks
every shape and state against the architecture. :mod:`npdeep.estimators.files` describes
the format.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from .._file_arrays import check_declared_arrays
from .._registry import recorded_config
from .._validation import caller_level
from ..errors import ConfigurationError, ModelFileError
from ..io import header_errors, load_model_file, merged_header, save_model_file
from ..serialization import check_finite_parameters
from ._file_values import (
    _classes_from_json,
    _classes_to_json,
    _from_json,
    _jsonable,
    _state_value,
)
from ._random_state_file import (
    is_saved_random_state,
    random_state_from_json,
    random_state_to_json,
)

__all__ = ["save_estimator", "load_estimator", "estimator_to_header", "estimator_from_header"]

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


def _search_hint(obj, verb: str) -> str:
    """Point a fitted search (GridSearchCV...) to its refitted ``best_estimator_``."""
    if hasattr(obj, "best_estimator_"):
        return f"; {verb} its best_estimator_ instead"
    return ""


#: Parameters that may be an npdeep object, saved as its config dict (:func:`_as_config`).
_CONFIG_PARAMS = ("optimizer", "schedule", "activation", "output_activation", "loss")


def _as_config(value: Any) -> Any:
    """Return an Optimizer, Schedule, Activation or Loss object given as a parameter as its config
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
    if params.get("callbacks"):
        _warn_callbacks_left_out(name, params["callbacks"])
        params["callbacks"] = None
    params = {k: _param_json(k, v) for k, v in params.items()}
    header: dict[str, Any] = {
        "kind": "estimator",
        "estimator": name,
        "params": params,
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


def _param_json(key: str, value: Any) -> Any:
    """Return a parameter as JSON: a RandomState as its tagged state, the rest plain."""
    if key == "random_state":
        value = random_state_to_json(value)
        if is_saved_random_state(value):
            return value
    return _jsonable(value, key)


def _warn_callbacks_left_out(name: str, callbacks) -> None:
    """Warn that a model file keeps no callbacks (code and open files, as Keras's files):
    the loaded estimator has ``callbacks=None``."""
    names = ", ".join(type(c).__name__ for c in callbacks)
    warnings.warn(
        f"{name}'s callbacks [{names}] are not saved in the model file (it holds arrays and "
        "JSON, never code); the loaded estimator has callbacks=None: give them again with "
        "est.set_params(callbacks=[...]) before fitting it further", UserWarning,
        stacklevel=caller_level())


def estimator_from_header(header: dict, arrays: dict, where: str):
    """Rebuild a fitted estimator from :func:`estimator_to_header`'s output (shapes checked)."""
    from .. import optimizers as _optimizers
    from ..network import Network
    from ..serialization import check_layer_arrays, checked_units

    name = header.get("estimator")
    table = _classes()
    if not isinstance(name, str) or name not in table:
        raise ModelFileError(f"{where}: unknown estimator {name!r}; expected one of {list(table)}")
    for key in ("params", "architecture"):
        if not isinstance(header.get(key), dict):
            raise ModelFileError(f"{where}: invalid estimator {key} {header.get(key)!r:.100} "
                                 "(expected a JSON object)")
    with header_errors(where, "estimator description"):
        params = {k: _from_json(v) for k, v in dict(header["params"]).items()}
        if is_saved_random_state(params.get("random_state")):
            params["random_state"] = random_state_from_json(params["random_state"], where)
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        est = table[name](**params)
        est._check_params()
        arch = header["architecture"]
        units = checked_units(arch["units"], where)
        check_layer_arrays(units, {k: v.shape for k, v in arrays.items()}, where)
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
            names = state.pop("feature_names_in_")
            if not isinstance(names, list) or not all(isinstance(f, str) for f in names):
                raise ModelFileError(f"{where}: feature_names_in_ must be a list of strings, "
                                     f"one per input, got {names!r:.100}")
            est.feature_names_in_ = np.array(names, dtype=object)
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
        _check_params_build_it(est, arch, where)
    return est


def _check_params_build_it(est, arch: dict, where: str) -> None:
    """Refuse ``params`` that would build another network than the file's ``architecture``
    (a hand-edited header): ``clone(est).fit`` and warm starts build from the params."""
    from .. import activations

    hidden = len(arch["units"]) - 2
    spec = est.activation
    specs = list(spec) if isinstance(spec, (list, tuple)) else [spec] * hidden
    if [activations.get(s).get_config() for s in specs] != arch["activation"]:
        raise ModelFileError(f"{where}: params activation={spec!r} does not match the "
                             f"architecture's hidden activations {arch['activation']}")
    output = getattr(est, "output_activation", None)  # DeepRegressor's; a classifier's follows
    if output is not None and activations.get(output).get_config() != \
            arch["output_activation"]:
        raise ModelFileError(f"{where}: params output_activation={output!r} does not match "
                             f"the architecture's {arch['output_activation']}")
    loss = est._network_loss()  # DeepRegressor's; a classifier's (None) follows its output
    if loss is not None:
        from .. import losses

        if loss.get_config() != losses.get(arch["loss"]).get_config():
            raise ModelFileError(f"{where}: params loss={est.loss!r} does not match the "
                                 f"architecture's {arch['loss']!r}")
    if np.dtype(est._float()).name != arch["dtype"]:
        raise ModelFileError(f"{where}: params dtype={est.dtype!r} does not match the "
                             f"architecture's {arch['dtype']}")


def _check_outputs(est, units: list[int], where: str) -> None:
    """Refuse a restored state that does not fit the network (inputs, outputs, target type)."""
    if getattr(est, "n_features_in_", units[0]) != units[0]:
        raise ModelFileError(f"{where}: n_features_in_={est.n_features_in_!r} does not match "
                             f"the architecture {units}")
    names = getattr(est, "feature_names_in_", None)
    if names is not None and len(names) != units[0]:
        raise ModelFileError(f"{where}: feature_names_in_ lists {len(names)} names for the "
                             f"{units[0]} inputs of the architecture {units}")
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


def save_estimator(est, path: str | os.PathLike, *, compress: bool = False, **extra: Any):
    """Write a fitted DeepClassifier or DeepRegressor to ``path`` atomically (``compress``
    deflates the arrays; ``extra`` keys go into the header)."""
    header, arrays = estimator_to_header(est)
    return save_model_file(path, merged_header(header, extra), arrays, compress=compress)


def read_file_of_kind(path: str | os.PathLike, kind: str) -> tuple[dict, dict, str]:
    """Return ``(header, arrays, where)`` of a model file whose header's kind is ``kind``
    (``"estimator"`` or ``"pipeline"``), else raise ModelFileError naming the file."""
    header, arrays = load_model_file(path, check_arrays=check_declared_arrays)
    where = f"model file {os.fspath(path)!r}"
    if header.get("kind") != kind:
        article = "an" if kind == "estimator" else "a"
        raise ModelFileError(f"{where}: not {article} {kind} file (kind {header.get('kind')!r})")
    return header, arrays, where


def load_estimator(path: str | os.PathLike):
    """Load an estimator saved by :func:`save_estimator`."""
    return estimator_from_header(*read_file_of_kind(path, "estimator"))
