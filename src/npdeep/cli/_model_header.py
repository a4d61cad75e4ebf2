"""The header of a model file, checked against its network: task, class labels, scalings,
feature names and encoding (a hand-edited header is refused with what is wrong)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelFileError

if TYPE_CHECKING:
    from ._model_file import Model


def _label_kind(c) -> str:
    if isinstance(c, bool):
        return "bool"
    if isinstance(c, str):
        return "str"
    if (isinstance(c, int) or (isinstance(c, float) and c.is_integer())) and \
            -2**63 <= c < 2**64:  # what an int64 or uint64 label array holds
        return "int"  # 1.0 is the label 1 (JSON may write it either way)
    return "float"


def label_array(classes: list) -> np.ndarray:
    """The class labels of a header as an array, integers exactly (int64, else uint64).

    ``np.asarray`` would make float64 of integers beyond int64 and merge labels such as
    2**64 - 1 and 2**64 - 2 (or 2**53 and 2**53 + 1).
    """
    if classes and all(_label_kind(c) == "int" for c in classes):
        ints = [int(c) for c in classes]
        return np.array(ints, dtype=np.int64 if max(ints) < 2**63 else np.uint64)
    return np.asarray(classes)


def _check_labels(classes: list) -> None:
    """Refuse class labels ``npdeep train`` never writes: non-integral or non-finite numbers,
    labels of mixed kinds (text and numbers, booleans and numbers), repeats. Predictions are
    these labels, and scoring them against the data's needs one kind."""
    kinds = {_label_kind(c) for c in classes}
    if "float" in kinds or len(kinds) > 1:
        raise ModelFileError(f"'classes' must all be text, all integers or all booleans, got "
                             f"{classes!r:.100}")
    if len(set(classes)) != len(classes):
        raise ModelFileError(f"'classes' must be distinct labels, got {classes!r:.100}")
    if kinds == {"int"} and min(classes) < 0 and max(classes) >= 2**63:
        raise ModelFileError(f"'classes' must fit one 64-bit integer type (no negative labels "
                             f"beside ones of 2**63 or more), got {classes!r:.100}")


def _check_header(m: Model) -> None:
    """Check what the commands read from a (possibly hand-edited) header against the network."""
    from ..data import FeatureEncoder, Standardizer

    h, n_x, n_L = m.header, m.net.n_x, m.net.units[-1]
    if h.get("task") not in (None, "classification", "regression", "multilabel"):
        raise ModelFileError(f"'task' must be 'classification', 'regression' or 'multilabel', "
                             f"got {h['task']!r:.100}")
    if h.get("task") == "multilabel" and (n_L < 2 or m.net.output_activation.name != "sigmoid"):
        raise ModelFileError(f"'task' 'multilabel' needs a sigmoid unit per label (at least 2), "
                             f"the network has {n_L} {m.net.output_activation.name} unit(s)")
    classes = h.get("classes")
    if m.task == "classification" and classes is not None:
        k = 2 if n_L == 1 else n_L
        if not isinstance(classes, list) or len(classes) != k or not all(
                isinstance(c, (str, int, float)) for c in classes):
            raise ModelFileError(f"'classes' must list {k} labels for {n_L} output unit(s), got "
                                 f"{classes!r:.100}")
        _check_labels(classes)
    for key, n in (("scaling", n_x), ("target_scaling", n_L)):
        if h.get(key):
            scaler = Standardizer.from_config(h[key])
            if len(scaler.mean_) != n:
                raise ModelFileError(f"{key!r} holds {len(scaler.mean_)} values, the network "
                                     f"needs {n}")
    for key in ("training", "test_scores"):  # inspect lists their items
        if h.get(key) is not None and not isinstance(h[key], dict):
            raise ModelFileError(f"{key!r} must be a JSON object, got {h[key]!r:.100}")
    data = h.get("data")
    if data is None:
        return
    if not isinstance(data, dict):
        raise ModelFileError(f"'data' must be a JSON object, got {data!r:.100}")
    if data.get("classes") is not None and not isinstance(data["classes"], list):
        raise ModelFileError(f"'data.classes' must be a list, got {data['classes']!r:.100}")
    targets = data.get("targets")
    if targets is not None and (not isinstance(targets, list) or len(targets) != n_L
                                or not all(isinstance(n, str) for n in targets)):
        raise ModelFileError(f"'data.targets' must list {n_L} names, got {targets!r:.100}")
    names = data.get("feature_names")
    if names is not None and (not isinstance(names, list) or len(names) != n_x
                              or not all(isinstance(n, str) for n in names)):
        raise ModelFileError(f"'data.feature_names' must list {n_x} names, got {names!r:.100}")
    if data.get("encoder") is not None:
        encoder = FeatureEncoder.from_config(data["encoder"])
        if encoder.n_features != n_x:
            raise ModelFileError(f"the stored feature encoding makes {encoder.n_features} "
                                 f"features, the network takes {n_x}")
