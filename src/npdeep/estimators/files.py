"""Estimators and ``Pipeline(StandardScaler(), Deep*())`` in the one model file format.

The container is :mod:`npdeep.io` (zip of ``.npy`` arrays + ``header.json``, atomic writes,
checked loads; nothing is ever unpickled). On top of it:

* an estimator file has ``"kind": "estimator"`` and a header holding ``estimator`` (the class
  name, looked up in a fixed table, never imported from the file), ``params`` (its
  ``get_params()``), ``architecture`` (:meth:`Network.get_config`), ``state`` (``classes_``,
  ``n_iter_``, ``loss_curve_``, ...) and the arrays ``W1, b1, ..., WL, bL`` in the article's
  orientation (W[l]: (n[l], n[l-1])); a ``random_state`` that is a ``numpy.random.RandomState``
  is stored as its MT19937 state (:mod:`._random_state_file`), ``callbacks`` never (a save
  with callbacks warns, and the loaded estimator has ``callbacks=None``);
* a pipeline file has ``"kind": "pipeline"`` and ``steps``: a list of ``{"name", "type",
  ...}``, where a ``"passthrough"`` step has only its name, each StandardScaler stores its
  parameters in the header and ``mean_``, ``scale_``, ``var_`` as arrays ``"<i>.mean_"``...,
  and the final estimator stores its arrays as ``"<i>.W1"``... .

>>> import npdeep                                                     # doctest: +SKIP
>>> npdeep.save(pipeline, "model.npdeep"); same = npdeep.load("model.npdeep")  # doctest: +SKIP

The pieces live in the modules below, and every name this module held before they moved out
stays importable from here: estimators in :mod:`._estimator_file`, pipelines in
:mod:`._pipeline_file`, the header's values as JSON and their checks in :mod:`._file_values`.
"""

from __future__ import annotations

from ._estimator_file import (  # noqa: F401
    _CONFIG_PARAMS,
    _STATE_KEYS,
    _TRAINING_STATE,
    _as_config,
    _check_outputs,
    _classes,
    _search_hint,
    estimator_from_header,
    estimator_to_header,
    load_estimator,
    save_estimator,
)
from ._file_values import (  # noqa: F401
    _STATE_TYPES,
    _classes_from_json,
    _classes_to_json,
    _from_json,
    _is_count,
    _is_score,
    _jsonable,
    _key,
    _read_classes,
    _state_value,
)
from ._pipeline_file import (  # noqa: F401
    _OUTPUTS,
    _SCALER_ATTRS,
    _check_step_names,
    _set_scaler_arrays,
    load_pipeline,
    pipeline_from_header,
    save_pipeline,
)

__all__ = ["save_estimator", "load_estimator", "save_pipeline", "load_pipeline",
           "estimator_to_header", "estimator_from_header"]
