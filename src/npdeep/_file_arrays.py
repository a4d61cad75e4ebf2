"""The arrays a model file's header implies, checked against those its manifest declares before
any array data is read (:func:`check_declared_arrays`, given to
:func:`npdeep.io.load_model_file` by every loader of npdeep's own files).

A hostile file may declare, within ``max_elements``, an extra array of a GiB that deflates
from a few KB; the kind's checks after the load would refuse it, once it had been inflated.
Here each kind's header says which arrays it holds, by name, shape and dtype:

* a network (``kind: "network"``, or none): ``W1, b1, ..., WL, bL``, W[l]: (n[l], n[l-1]),
  b[l]: (n[l], 1), from ``architecture.units``; a checkpoint (a header with ``training``)
  adds ``optimizer.<state>.<parameter>`` and ``early_stopping.<i>.<parameter>``, each of its
  parameter's shape;
* an estimator (``kind: "estimator"``): the network's arrays;
* a pipeline (``kind: "pipeline"``): a StandardScaler step ``i``'s ``<i>.mean_``,
  ``<i>.scale_``, ``<i>.var_`` (n_features_in_,), none for a ``passthrough`` step, and the
  final estimator's arrays as ``<i>.W1``...

Every array holds real numbers (bool, integers, floats), never complex. The messages are
those the kind's own checks give after a load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ._io_format import few
from .errors import ModelFileError

__all__ = ["check_declared_arrays"]

#: What a model file's arrays may hold: real numbers (the network's dtype or any the loaders
#: convert; a scaler's arrays must further be floats, checked when it is rebuilt).
REAL_KINDS = frozenset("biuf")
_PARAMETER = re.compile(r"(\d+\.)?[Wb][1-9]\d*")  # W1, b2, a pipeline's 1.W1
#: Arrays whose kind's check below names their dtype in its own words.
_OWN_WORDS = re.compile(r"\d+\.(mean_|scale_|var_)$|optimizer\.|early_stopping\.")


def check_declared_arrays(header: dict, declared: Mapping[str, tuple[tuple[int, ...], np.dtype]],
                          where: str) -> None:
    """Refuse arrays that the header's kind does not imply, by name, shape or dtype.

    Parameters
    ----------
    header : dict
        The file's parsed ``header.json`` (format and manifest already checked).
    declared : Mapping[str, (tuple of int, numpy.dtype)]
        Each array's shape and dtype as the manifest declares them (and the ``.npy`` headers,
        which the loader then checks against it).
    where : str
        Names the file in errors.

    Raises
    ------
    ModelFileError
        An array the kind does not hold, one missing, a shape the architecture does not imply,
        a complex dtype; a header whose kind or architecture cannot say which arrays it holds.
    """
    from .io import header_errors
    from .serialization import check_kind

    for name, (_, dtype) in declared.items():
        if dtype.kind not in REAL_KINDS and not _OWN_WORDS.match(name):
            what = "parameter" if _PARAMETER.fullmatch(name) else "array"
            raise ModelFileError(f"{where}: {what} {name!r} must hold real numbers, got {dtype} "
                                 "(a model file's weights, optimizer state and scaling are real)")
    shapes = {name: shape for name, (shape, _) in declared.items()}
    dtypes = {name: dtype for name, (_, dtype) in declared.items()}
    kind = check_kind(header, where)
    checks = {"network": (_check_network, "model"),
              "estimator": (_check_estimator, "estimator description"),
              "pipeline": (_check_pipeline, "pipeline description")}
    if not isinstance(kind, str) or kind not in checks:
        raise ModelFileError(f"{where}: unknown kind {kind!r}; expected network, estimator or "
                             "pipeline")
    check, what = checks[kind]
    with header_errors(where, what):
        check(header, shapes, where, dtypes)


def _check_network(header: dict, shapes: dict, where: str, dtypes: dict) -> None:
    from ._io_load import TRAINING_STATE_PREFIXES
    from .serialization import check_layer_arrays, checked_units

    if "architecture" not in header:
        raise ModelFileError(f"{where}: not an npdeep network file (kind "
                             f"{header.get('kind')!r})")
    architecture = header["architecture"]
    if not isinstance(architecture, dict):
        raise ModelFileError(f"{where}: invalid architecture {architecture!r} (expected a JSON "
                             "object)")
    units = checked_units(architecture.get("units"), where)
    training = header.get("training")
    if training is not None and not isinstance(training, dict):
        raise ModelFileError(f"{where}: invalid model header: 'training' must be a JSON "
                             f"object, got {training!r:.100}")
    if training:  # a checkpoint's state (or `npdeep train`'s options, with no state arrays)
        state = {k: v for k, v in shapes.items() if k.startswith(TRAINING_STATE_PREFIXES)}
        _check_training_state(training, state, dtypes, units, where)
        shapes = {k: v for k, v in shapes.items() if k not in state}
    check_layer_arrays(units, shapes, where)


def _check_training_state(training, state: dict, dtypes: dict, units: list[int],
                          where: str) -> None:
    """Refuse a checkpoint's state arrays other than ``optimizer.<state>.<parameter>`` (a state
    of its optimizer, when the header names a known one) and ``early_stopping.<i>.<parameter>``
    (``i`` one of its saved EarlyStoppings), each of its parameter's shape, real numbers."""
    from .serialization import expected_shapes

    parameters = expected_shapes(units)
    names = _optimizer_states(training)
    saved = training.get("early_stopping") if isinstance(training, dict) else None
    stoppings = {str(i) for i in range(len(saved))} if isinstance(saved, list) else None
    unexpected = []
    for name in sorted(state):
        prefix, _, rest = name.partition(".")
        owner, _, key = rest.partition(".")
        optimizer = prefix == "optimizer"
        known = names if optimizer else stoppings
        if (known is not None and owner not in known) or (optimizer and key not in parameters):
            unexpected.append(name)
            continue
        if optimizer:
            what, part = f"optimizer state {name!r}", "training state in the checkpoint"
        elif key not in parameters:
            raise ModelFileError(f"{where}: invalid EarlyStopping state in the checkpoint: "
                                 f"arrays {[name]} are not parameters of the network")
        else:
            what, part = f"best weights {name!r}", "EarlyStopping state in the checkpoint"
        if tuple(state[name]) != parameters[key]:
            verb = "has" if optimizer else "have"
            raise ModelFileError(f"{where}: invalid {part}: {what} {verb} shape "
                                 f"{tuple(state[name])}, the parameter needs {parameters[key]}")
        if dtypes[name].kind not in REAL_KINDS:
            raise ModelFileError(f"{where}: invalid {part}: {what} must hold finite real "
                                 f"numbers (dtype {dtypes[name]})")
    if unexpected:
        config = training.get("optimizer") if isinstance(training, dict) else None
        label = config.get("name") if isinstance(config, dict) else None
        label = f"the {label} optimizer" if isinstance(label, str) else "the checkpoint's optimizer"
        raise ModelFileError(f"{where}: arrays {few(unexpected)} are not state of {label}")


def _optimizer_states(training) -> set[str] | None:
    """Return the state names of the optimizer a checkpoint's ``training`` names; None when it
    names none that builds (a checkpoint's own checks then say why)."""
    from . import optimizers
    from .errors import NpdeepError

    config = training.get("optimizer") if isinstance(training, dict) else None
    if not isinstance(config, dict):
        return None
    try:
        return set(optimizers.get({k: v for k, v in config.items() if k != "t"}).state_names)
    except (NpdeepError, KeyError, TypeError, ValueError):
        return None


def _check_estimator(entry: dict, shapes: dict, where: str, dtypes: dict) -> None:
    from .serialization import check_layer_arrays, checked_units

    architecture = entry.get("architecture")
    if not isinstance(architecture, dict):
        raise ModelFileError(f"{where}: invalid estimator architecture {architecture!r:.100} "
                             "(expected a JSON object)")
    check_layer_arrays(checked_units(architecture.get("units"), where), shapes, where)


def _check_pipeline(header: dict, shapes: dict, where: str, dtypes: dict) -> None:
    steps = header.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ModelFileError(f"{where}: pipeline has no steps")
    indexes = {str(i) for i in range(len(steps))}
    stray = sorted(k for k in shapes if k.partition(".")[0] not in indexes or "." not in k)
    if stray:
        raise ModelFileError(f"{where}: arrays {few(stray)} belong to none of the "
                             f"{len(steps)} pipeline steps")
    odd = [i for i, entry in enumerate(steps) if not isinstance(entry, dict)]
    if odd:
        raise ModelFileError(f"{where}: pipeline step {odd[0]} is {steps[odd[0]]!r:.100}, not "
                             "a JSON object describing a step")
    for i, entry in enumerate(steps):
        prefix = f"{i}."
        mine = {k[len(prefix):]: v for k, v in shapes.items() if k.startswith(prefix)}
        kind = entry.get("type")
        if i == len(steps) - 1:
            if kind != "estimator":
                raise ModelFileError(f"{where}: the last step must be an estimator")
            _check_estimator(entry, mine, where, dtypes)
        elif kind == "passthrough":
            if mine:
                raise ModelFileError(f"{where}: step {i} is a passthrough but has arrays "
                                     f"{sorted(mine)}")
        elif kind == "StandardScaler":
            _check_scaler(entry, mine, f"{where}: step {i}",
                          {k: dtypes[prefix + k] for k in mine})
        else:
            raise ModelFileError(f"{where}: unsupported step type {kind!r}")


def _check_scaler(entry: dict, shapes: dict, where: str, dtypes: dict) -> None:
    """A scaler's arrays: some of ``mean_``, ``scale_``, ``var_`` (which ones its parameters
    decide, checked when it is rebuilt), each (n_features_in_,) of floats."""
    n = entry["n_features_in_"]
    if type(n) is not int or n < 1:
        raise ModelFileError(f"{where} n_features_in_ must be an integer >= 1, got {n!r:.80}")
    extra = sorted(set(shapes) - {"mean_", "scale_", "var_"})
    if extra:
        raise ModelFileError(f"{where} StandardScaler has no arrays {few(extra)}; it holds "
                             "mean_, scale_ and var_")
    for attr, shape in shapes.items():
        if tuple(shape) != (n,):
            raise ModelFileError(f"{where} {attr} has shape {tuple(shape)}, expected ({n},)")
        if dtypes[attr].kind != "f":
            raise ModelFileError(f"{where} {attr} must hold finite floats (dtype "
                                 f"{dtypes[attr]})")
