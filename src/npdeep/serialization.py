"""Saving and loading networks through the safe model file of :mod:`npdeep.io`.

The header holds ``kind: "network"``, the architecture (:meth:`Network.get_config`), the
training history (:meth:`History.to_json`: NaN and inf as ``"nan"``, ``"inf"``, ``"-inf"``)
and any extra JSON the caller adds (the CLI adds the data description and the feature
scaling); the arrays are ``'W1', 'b1', ..., 'WL', 'bL'``. Loading rebuilds the
network from the architecture, checks every array's shape against it, and copies the arrays
into the freshly built network.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from ._file_arrays import check_declared_arrays
from ._io_format import few
from ._validation import caller_level
from .callbacks import History
from .errors import ConfigurationError, ModelFileError
from .io import header_errors, load_model_file, merged_header, save_model_file

__all__ = ["save", "load", "load_trained", "save_network", "load_network", "read_header",
           "expected_shapes"]


def save_network(net, path: str | os.PathLike, *, compress: bool = False, **extra: Any):
    """Write ``net`` to ``path`` atomically; ``extra`` keys are added to the JSON header
    (:func:`npdeep.io.merged_header`); ``compress`` deflates the arrays."""
    header = {
        "kind": "network",
        "architecture": net.get_config(),
        "history": net.history.to_json() if net.history is not None else None,
    }
    origin = getattr(net, "_estimator_network", None)
    if origin:  # loaded from an estimator's checkpoint: its outputs are still encoded targets
        header["estimator_network"] = origin
    check_finite_parameters(net.parameters)
    arrays = {k: v for k, v in net.parameters.items()}
    return save_model_file(path, merged_header(header, extra), arrays,
                           compress=_checked_compress(compress))


def _checked_compress(compress) -> bool:
    if not isinstance(compress, (bool, np.bool_)):
        raise ConfigurationError(f"compress must be True or False, got {compress!r:.80}")
    return bool(compress)


def check_finite_parameters(parameters) -> None:
    """Refuse to save NaN or inf weights: a file that ``load`` would reject must not be written."""
    for key, value in parameters.items():
        if not np.isfinite(value).all():
            raise ModelFileError(f"cannot save: parameter {key!r} contains NaN or inf (did "
                                 "training diverge? the file would not load)")


def expected_shapes(units: list[int]) -> dict[str, tuple[int, int]]:
    """Return ``{'W1': (n[1], n[0]), 'b1': (n[1], 1), ...}`` for ``units``."""
    shapes = {}
    for l in range(1, len(units)):
        shapes[f"W{l}"] = (units[l], units[l - 1])
        shapes[f"b{l}"] = (units[l], 1)
    return shapes


def checked_units(units, where: str) -> list[int]:
    """Return an architecture's ``units`` [n[0], ..., n[L]], refused unless positive ints."""
    if not isinstance(units, list) or not all(isinstance(n, int) and n > 0 for n in units):
        raise ModelFileError(f"{where}: invalid architecture units {units!r}")
    return units


def check_layer_arrays(units: list[int], shapes: dict, where: str) -> None:
    """Refuse arrays other than ``'W1', 'b1', ..., 'WL', 'bL'`` of the shapes ``units`` implies
    (``shapes``: ``{name: shape}``, as the manifest declares them or as read)."""
    expected = expected_shapes(units)
    if set(shapes) != set(expected):
        raise ModelFileError(
            f"{where}: arrays {few(sorted(shapes))} do not match the architecture "
            f"{few(units)} (expected {few(sorted(expected))})"
        )
    for key, shape in expected.items():
        if tuple(shapes[key]) != shape:
            raise ModelFileError(f"{where}: array {key!r} has shape {tuple(shapes[key])}, the "
                                 f"architecture {units} needs {shape}")


def read_header(path: str | os.PathLike, *, max_elements: int | None = None,
                network_only: bool = False) -> tuple[dict, dict]:
    """Return ``(header, arrays)`` of a network model file, checked against its architecture
    (``max_elements``, ``network_only``: see :func:`npdeep.io.load_model_file`)."""
    header, arrays = load_model_file(path, max_elements=max_elements, network_only=network_only,
                                     check_arrays=check_declared_arrays)
    return _check_network_file(header, arrays, os.fspath(path))


#: Header keys that only an estimator's or a pipeline's file writes.
_SKLEARN_KEYS = ("estimator", "params", "state", "steps", "pipeline")


def check_kind(header: dict, where: str) -> str:
    """Return the file's ``kind``: ``network`` when absent (files of older npdeep), unless the
    header holds an estimator's or pipeline's keys, whose ``kind`` was lost: refused."""
    if "kind" in header:
        return header["kind"]
    found = [k for k in _SKLEARN_KEYS if k in header]
    if found:
        raise ModelFileError(
            f"{where}: header.json has no 'kind', but its keys {found} are those of a "
            "scikit-learn estimator or pipeline file; the file is damaged (its 'kind' was "
            "removed), and read as a bare network it would predict wrongly; save the "
            "estimator again with npdeep.save")
    return "network"


def _check_network_file(header: dict, arrays: dict, where: str) -> tuple[dict, dict]:
    if check_kind(header, where) != "network" or "architecture" not in header:
        raise ModelFileError(f"{where}: not an npdeep network file (kind "
                             f"{header.get('kind')!r})")
    if not isinstance(header["architecture"], dict):
        raise ModelFileError(f"{where}: invalid architecture "
                             f"{header['architecture']!r} (expected a JSON object)")
    units = checked_units(header["architecture"].get("units"), where)
    if header.get("training") is not None and not isinstance(header["training"], dict):
        raise ModelFileError(f"{where}: invalid model header: 'training' must be a JSON "
                             f"object, got {header['training']!r:.100}")
    if header.get("training"):  # a checkpoint (npdeep.checkpoint): skip the training state
        arrays = {k: v for k, v in arrays.items()
                  if not k.startswith(("optimizer.", "early_stopping."))}
    check_layer_arrays(units, {k: v.shape for k, v in arrays.items()}, where)
    return header, arrays


def _network_from_header(header: dict, arrays: dict, where: str):
    from .network import Network

    with header_errors(where, "model"):
        net = Network.from_config(header["architecture"])
        net.parameters = arrays
        if header.get("history"):
            net.history = History.from_dict(header["history"])
    if estimator_network_note(header):  # kept by save: a copy must not lose the warning
        net._estimator_network = dict(header["estimator_network"])
    return net


def _warn_if_scaled(header: dict, where: str) -> None:
    """A file of ``npdeep train`` standardized its features (and targets) around the network:
    the bare network predicts wrongly from raw features, silently (digits: 0.80, not 0.98)."""
    if header.get("scaling") or header.get("target_scaling"):
        warnings.warn(
            f"{where} was saved by `npdeep train`, which standardizes the features before the "
            "network (and encodes the classes): this Network takes standardized X (n_x, m); "
            "npdeep.load_trained(path).predict(X) predicts from raw features, samples as rows, "
            "as `npdeep predict` does", UserWarning, stacklevel=caller_level())


def estimator_network_note(header: dict) -> str | None:
    """Describe a checkpoint that a :class:`~npdeep.monitors.ModelCheckpoint` wrote while a
    DeepClassifier or DeepRegressor (alone or in a Pipeline) trained: the file holds the
    estimator's network only. None for any other file."""
    origin = header.get("estimator_network")
    if not isinstance(origin, dict):
        return None
    name = origin.get("estimator") if isinstance(origin.get("estimator"), str) else "estimator"
    if origin.get("classes") is not None:
        classes = repr(origin["classes"])
        if len(classes) > 200:
            classes = classes[:196] + " ...]"
        outputs = f"class indices of classes_ {classes}, not the labels"
    elif origin.get("standardized_targets"):
        outputs = "the targets standardized as the estimator trains on them, not in y's units"
    else:
        outputs = "the targets as the estimator trains on them"
    return (f"a ModelCheckpoint written while a {name} trained: it holds the estimator's "
            f"network only (its outputs are {outputs}; no feature scaling or pipeline steps)")


def _warn_if_estimator_network(header: dict, where: str) -> None:
    note = estimator_network_note(header)
    if note:
        warnings.warn(
            f"{where} is {note}; this Network takes the features as the estimator received "
            "them, (n_x, m); for predictions save the fitted estimator or pipeline with "
            "npdeep.save(model, path) and load that file", UserWarning,
            stacklevel=caller_level())


def load_network(path: str | os.PathLike, *, max_elements: int | None = None):
    """Load a network saved by :func:`save_network` (arrays copied into a fresh network).

    ``max_elements`` caps the total number of array elements read (default 2**28); a
    checkpoint's optimizer state is neither read nor counted."""
    header, arrays = read_header(path, max_elements=max_elements, network_only=True)
    _warn_if_scaled(header, os.fspath(path))
    _warn_if_estimator_network(header, os.fspath(path))
    return _network_from_header(header, arrays, os.fspath(path))


def load_trained(path: str | os.PathLike, *, max_elements: int | None = None):
    """Load a model file of ``npdeep train`` with what the command stored around its network:
    the column encoding, the feature scaling, the class labels and the target scaling.

    Parameters
    ----------
    path : str or PathLike
        A model file of ``npdeep train`` (or a plain network file: no scaling, classes
        0..k-1). An estimator or pipeline file of :func:`save` is refused: load it with
        :func:`load`, as is a checkpoint a ModelCheckpoint wrote while an estimator trained
        (its network only).
    max_elements : int, optional
        Largest total number of array elements read (default 2**28, 2 GiB of float64); a
        checkpoint's optimizer state is not counted.

    Returns
    -------
    model
        ``predict(X)`` and ``predict_proba(X)`` apply the file as ``npdeep predict`` does, on
        raw features ``X: (n_samples, n_features)``, samples as rows:

        - a pandas DataFrame is matched by its column names as ``npdeep predict`` matches a
          CSV's header: the columns trained on, in any order, are read in the file's order;
          extra columns (the target, an identifier) are ignored; missing ones are named in a
          DataError; only when none of the names occur are the columns taken by position.
          Text columns of a model trained with ``--categorical onehot`` are one-hot encoded
          over the categories seen in training (such a model needs a DataFrame);
        - an array (or a DataFrame, when the file names no columns) is taken by position.

        ``predict`` gives labels ``(n_samples,)``, or regression values in the target's
        units: ``(n_samples,)`` for one target, ``(n_samples, n_outputs)`` for several
        (a multi-label model: 0/1 ``(n_samples, n_labels)``);
        ``predict_proba`` gives ``(n_samples, n_classes)`` in the order of ``.classes``.
        ``.net`` is the Network (it takes standardized ``X: (n_x, m)``), ``.header`` the
        file's header.

    Examples
    --------
    >>> import numpy as np, pandas as pd, npdeep
    >>> from npdeep.cli import main
    >>> df = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7,
    ...                    "target": np.arange(40.0) * 2})
    >>> df.to_csv("lines.csv", index=False)
    >>> _ = main(["train", "lines.csv", "--epochs", "3", "-o", "m.npz"], standalone_mode=False)
    test R^2: ...
    model saved to m.npz
    >>> model = npdeep.load_trained("m.npz")
    >>> model.predict(df).shape    # the target column is ignored; one target: (n_samples,)
    (40,)
    >>> bool((model.predict(df[["b", "a"]]) == model.predict(df)).all())  # matched by name
    True
    """
    from .cli._model_file import model_from_file, read_model_file

    p, header, arrays = read_model_file(path, max_elements=max_elements, network_only=True)
    kind = check_kind(header, str(p))
    if kind in ("estimator", "pipeline"):
        raise ModelFileError(
            f"{p}: holds a scikit-learn {kind} (saved by npdeep.save), not a model of "
            "`npdeep train`; load it with npdeep.load(path), which gives the fitted "
            f"{kind} with its own predict"
        )
    return model_from_file(p, header, arrays)


def save(obj, path: str | os.PathLike, *, compress: bool = False, **extra: Any):
    """Save a Network, a fitted DeepClassifier/DeepRegressor, or a fitted
    ``Pipeline(StandardScaler(), ..., Deep*())`` to one model file (see :mod:`npdeep.io`).

    ``compress=True`` deflates the arrays (smaller file, slower save; loads the same). Any
    other keyword is JSON metadata written into the file's header (``note="v2"``); a keyword
    that reads as an option of the save (``compression``, ``overwrite``, ``dtype``, a
    misspelt ``compress``...) or a key npdeep writes itself is refused (ModelFileError).
    """
    from .network import Network

    compress = _checked_compress(compress)
    if isinstance(obj, Network):
        return save_network(obj, path, compress=compress, **extra)
    from .estimators import files

    if type(obj).__name__ == "Pipeline" and hasattr(obj, "steps"):
        return files.save_pipeline(obj, path, compress=compress, **extra)
    return files.save_estimator(obj, path, compress=compress, **extra)


def load(path: str | os.PathLike, *, max_elements: int | None = None):
    """Load whatever :func:`save` wrote: a Network, an estimator or a Pipeline.

    ``max_elements`` caps the total number of array elements read, checked before any is
    allocated (default 2**28, 2 GiB of float64); raise it for a larger file you trust. A
    checkpoint's training state (optimizer moments, EarlyStopping weights) is neither read
    nor counted: its network alone is loaded.
    """
    # read once: what is checked is what is loaded
    header, arrays = load_model_file(path, max_elements=max_elements, network_only=True,
                                     check_arrays=check_declared_arrays)
    kind = check_kind(header, os.fspath(path))
    if kind == "network":
        where = os.fspath(path)
        _warn_if_scaled(header, where)
        _warn_if_estimator_network(header, where)
        return _network_from_header(*_check_network_file(header, arrays, where), where)
    from .estimators import files

    where = f"model file {os.fspath(path)!r}"
    if kind == "estimator":
        return files.estimator_from_header(header, arrays, where)
    if kind == "pipeline":
        return files.pipeline_from_header(header, arrays, where)
    raise ModelFileError(f"{where}: unknown kind {kind!r}; expected network, estimator or "
                         "pipeline")
