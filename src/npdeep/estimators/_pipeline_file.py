"""A fitted ``Pipeline(StandardScaler(), ..., Deep*())`` as a model file, and back.

Its header holds ``steps``: a ``"passthrough"`` step has only its name, a StandardScaler
its parameters (its ``mean_``, ``scale_``, ``var_`` as arrays ``"<i>.mean_"``...), and the
final estimator its header as :mod:`._estimator_file` writes it, its arrays as
``"<i>.W1"``... . :mod:`npdeep.estimators.files` describes the format.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._io_format import few
from ..errors import ConfigurationError, ModelFileError
from ..io import header_errors, merged_header, save_model_file
from ._estimator_file import estimator_from_header, estimator_to_header, read_file_of_kind
from ._file_values import _from_json, _is_count, _jsonable, feature_names

__all__ = ["save_pipeline", "load_pipeline", "pipeline_from_header"]


_SCALER_ATTRS = ("mean_", "scale_", "var_")
#: A scaler's ``set_output(transform=...)`` values that a pipeline file keeps.
_OUTPUTS = ("default", "pandas", "polars")


def save_pipeline(pipeline, path: str | os.PathLike, *, compress: bool = False, **extra: Any):
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
    memory = pipeline.memory  # a cache folder (str), joblib.Memory (its folder) or None
    memory = getattr(memory, "location", memory)
    if memory is not None and not isinstance(memory, (str, os.PathLike)):
        raise ConfigurationError(f"cannot save the pipeline's memory={pipeline.memory!r}: "
                                 "only a cache folder (a path) or None can be stored")
    options = {"memory": None if memory is None else os.fspath(memory),
               "verbose": bool(pipeline.verbose)}
    return save_model_file(path, merged_header({"kind": "pipeline", "steps": steps,
                                                "pipeline": options}, extra), arrays,
                           compress=compress)


def load_pipeline(path: str | os.PathLike):
    """Load a pipeline saved by :func:`save_pipeline`."""
    return pipeline_from_header(*read_file_of_kind(path, "pipeline"))


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


def _samples_seen(value, n: int, where: str):
    """Return a scaler's ``n_samples_seen_`` read from a file: a count, or one per feature
    (as scikit-learn keeps it when X held NaN)."""
    value = _from_json(value)
    if _is_whole(value) or (isinstance(value, list) and len(value) == n
                            and all(map(_is_whole, value))):
        return value
    raise ModelFileError(f"{where} n_samples_seen_ must be a whole number >= 0 or a list of "
                         f"{n} of them, got {value!r:.100}")


def _is_whole(value) -> bool:
    """An int >= 0, or a float that holds one (scikit-learn counts samples in floats)."""
    return _is_count(value) or isinstance(value, float) and value.is_integer() and value >= 0


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
    odd = [i for i, entry in enumerate(entries) if not isinstance(entry, dict)]
    if odd:
        raise ModelFileError(f"{where}: pipeline step {odd[0]} is {entries[odd[0]]!r:.100}, "
                             "not a JSON object describing a step")
    indexes = {str(i) for i in range(len(entries))}
    stray = sorted(k for k in arrays if k.partition(".")[0] not in indexes or "." not in k)
    if stray:
        raise ModelFileError(f"{where}: arrays {few(stray)} belong to none of the "
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
                scaler.n_samples_seen_ = _samples_seen(entry["n_samples_seen_"], n,
                                                       f"{where}: step {i}")
                if "feature_names_in_" in entry:
                    scaler.feature_names_in_ = feature_names(entry["feature_names_in_"], n,
                                                             f"{where}: step {i}")
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
    options = header.get("pipeline") or {}  # absent from older files: the defaults
    if not isinstance(options, dict):
        raise ModelFileError(f"{where}: pipeline options must be a JSON object with memory "
                             f"and verbose, got {options!r:.100}")
    memory, verbose = options.get("memory"), options.get("verbose", False)
    if not (memory is None or isinstance(memory, str)) or not isinstance(verbose, bool):
        raise ModelFileError(f"{where}: pipeline options must be memory (a path or null) and "
                             f"verbose (true or false), got {options!r:.100}")
    return Pipeline(steps, memory=memory, verbose=verbose)
