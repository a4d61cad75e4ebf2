"""Export a trained network, estimator or ``Pipeline(StandardScaler(), Deep*())`` to ONNX.

Needs the ``onnx`` extra (``pip install npdeep[onnx]``). The graph takes samples as rows, as
ONNX runtimes expect: input ``X`` of shape (N, n_x). Layer l is one ``Gemm``
``Z[l].T = A[l-1].T W[l].T + b[l].T`` with ``W[l]`` stored as in the article, (n[l], n[l-1]),
and ``transB=1``, followed by the node of g[l] (Sigmoid, Tanh, Relu, ``Max(z, alpha z)`` for
leaky ReLU, Elu, Selu, Softplus, Softmax over the units, Identity, ``Exp(Max(z, log(tiny) + 1))``
as npdeep's exp output computes it; gelu as
``0.5 z (1 + Erf(z / sqrt 2))`` and silu as ``z Sigmoid(z)``, from basic operators, since
opset 17 has no Gelu (it came in opset 20) and none has SiLU).

onnxruntime's CPU provider has float32 kernels only for Elu, Selu, Softplus and Erf, so a
float64 graph spells those out in operators it runs in double: elu and selu as
``scale (Max(z, 0) + alpha (Exp(Min(z, 0)) - 1))``, softplus as
``Max(z, 0) + Log(1 + Exp(-|z|))``, silu as ``z / (1 + Exp(-z))`` (onnxruntime 1.18 to 1.23
fuse ``z Sigmoid(z)`` into QuickGelu, which has a float kernel only), and gelu's Erf runs on a
Cast to float32 (its value, below 1.2e-7 off, cast back: gelu's float64 graph is
float32-accurate).

Outputs:

* a :class:`~npdeep.network.Network`: ``a_L`` (N, n[L]);
* a DeepClassifier: ``probabilities`` (N, n_classes) as ``predict_proba`` and ``label`` (N,)
  as ``predict``, the values of ``classes_``: int64 for integer classes, double (float for
  float32 ones) for float classes, string for text, bool for bool;
  multi-label: ``probabilities`` (N, K) and ``label`` (N, K) 0/1;
* a DeepRegressor: ``predictions`` as ``predict``: (N,) for one target, (N, n_outputs) for
  several;
* a network file of ``npdeep train`` (:func:`model_file_to_onnx`, ``npdeep export``): its
  stored feature scaling first, then the outputs of ``npdeep predict``.

>>> from npdeep.onnx_export import to_onnx                      # doctest: +SKIP
>>> to_onnx(clf, "model.onnx")                                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import warnings

import numpy as np

from . import activations as _activations
from ._validation import caller_level, parse_dtype
from .errors import ConfigurationError

__all__ = ["to_onnx", "model_file_to_onnx", "ExportError", "EXPORTABLE_ACTIVATIONS", "OPSET"]

#: The ONNX opset the graphs use by default.
OPSET = 17
#: The oldest opset ``opset=`` accepts (Squeeze takes its axes as an input from 13 on); the
#: newest is the installed onnx package's.
MIN_OPSET = 13
#: An ``input_name``: a letter or ``_``, then letters, digits, ``_``, ``.``, ``-``, ``:``, ``/``.
_INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/\-]{0,199}")
#: Activations with an ONNX equivalent.
EXPORTABLE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus",
                          "gelu", "silu", "softmax", "identity", "exp")


class ExportError(ConfigurationError):
    """The object, or one of its layers, has no ONNX equivalent."""


def _require_onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:  # pragma: no cover - exercised only where onnx is missing
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'npdeep[onnx]'"
        ) from None
    return onnx, helper, numpy_helper


def _split(model):
    """Return ``(scalers, network, estimator or None)`` for what can be exported."""
    from .network import Network

    if isinstance(model, Network):
        return [], model, None
    steps = getattr(model, "steps", None)
    scalers, where = [], ""
    if steps is not None:  # a Pipeline
        *front, (last, model) = steps
        what = "'passthrough'" if model is None or isinstance(model, str) else \
            type(model).__name__
        where = f"pipeline step {last!r} ({what}): "  # which step, in a long pipeline
        for name, step in front:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            if type(step).__name__ == "StandardScaler" and not hasattr(step, "n_features_in_"):
                raise ExportError(
                    f"pipeline step {name!r} (StandardScaler) is not fitted yet; fit the "
                    "pipeline first"
                )
            if type(step).__name__ != "StandardScaler":
                raise ExportError(
                    f"cannot export pipeline step {name!r} ({type(step).__name__}): only fitted "
                    "StandardScaler and 'passthrough' steps followed by a DeepClassifier or "
                    "DeepRegressor export"
                )
            scalers.append(step)
    from .estimators.classifier import DeepClassifier
    from .estimators.regressor import DeepRegressor

    if not isinstance(model, (DeepClassifier, DeepRegressor)):  # subclasses export as their base
        raise ExportError(
            f"{where}cannot export a {type(model).__name__}: to_onnx takes a Network, a "
            "DeepClassifier, a DeepRegressor or a Pipeline of StandardScaler steps ending in "
            "one of them"
            + ("; export its best_estimator_ instead" if hasattr(model, "best_estimator_")
               else "")
        )
    if not hasattr(model, "network_"):
        raise ExportError(f"{where}this {type(model).__name__} is not fitted yet; call fit "
                          "first")
    return scalers, model.network_, model


class _Graph:
    """Collect nodes and initializers with unique names."""

    def __init__(self, helper, numpy_helper, dtype):
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, dtype
        self.nodes, self.inits = [], []

    def const(self, name, value, dtype=None):
        arr = np.asarray(value, dtype=dtype or self.dtype)
        self.inits.append(self.numpy_helper.from_array(arr, name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def _activation(g: _Graph, act, Z: str, l: int) -> str:
    name = act.name
    if name in EXPORTABLE_ACTIVATIONS and type(act) is not _activations._REGISTRY[name]:
        raise ExportError(  # a subclass that kept the name computes something else
            f"layer {l}: activation {type(act).__name__} (a subclass of npdeep's {name!r}) has "
            f"no ONNX equivalent; exportable: npdeep's {', '.join(EXPORTABLE_ACTIVATIONS)}")
    if name not in EXPORTABLE_ACTIVATIONS:
        raise ExportError(
            f"layer {l}: activation {name!r} has no ONNX equivalent; exportable: "
            f"{', '.join(EXPORTABLE_ACTIVATIONS)}"
        )
    out = f"a{l}"
    if name == "identity":
        return g.node("Identity", [Z], out)
    if name == "exp":
        # exp(max(z, log(tiny) + 1)), npdeep's floor: never a subnormal, never exactly 0
        floor = g.const(f"exp_floor{l}", _activations.exp_floor(g.dtype))
        return g.node("Exp", [g.node("Max", [Z, floor], f"floored_Z{l}")], out)
    if name == "leaky_relu":
        # max(z, alpha z) equals leaky ReLU for 0 <= alpha < 1 and runs in float32 and float64
        scaled = g.node("Mul", [Z, g.const(f"alpha{l}", act.alpha)], f"alpha_Z{l}")
        return g.node("Max", [Z, scaled], out)
    native = g.dtype == np.float32  # onnxruntime runs Elu, Selu, Softplus, Erf in float only
    if name == "elu" and native:
        return g.node("Elu", [Z], out, alpha=act.alpha)
    if name == "selu" and native:  # ONNX's gamma is the scale
        return g.node("Selu", [Z], out, alpha=act.alpha, gamma=act.scale)
    if name in ("elu", "selu"):
        return _exponential_linear(g, Z, l, act.alpha, act.scale, out)
    if name == "softplus" and not native:
        # max(z, 0) + log(1 + exp(-|z|)), as npdeep computes it: never overflows
        minus_abs = g.node("Neg", [g.node("Abs", [Z], f"abs_Z{l}")], f"minus_abs_Z{l}")
        one_plus = g.node("Add", [g.node("Exp", [minus_abs], f"exp_minus_abs_Z{l}"),
                                  g.const(f"one{l}", 1.0)], f"one_plus_exp{l}")
        positive = g.node("Max", [Z, g.const(f"zero{l}", 0.0)], f"positive_Z{l}")
        return g.node("Add", [positive, g.node("Log", [one_plus], f"log1p_exp{l}")], out)
    if name == "gelu":
        # 0.5 z (1 + erf(z / sqrt 2)), the exact gelu
        scaled = g.node("Mul", [Z, g.const(f"sqrt_half{l}", np.sqrt(0.5))], f"Z_sqrt_half{l}")
        if native:
            erf = g.node("Erf", [scaled], f"erf{l}")
        else:
            from onnx import TensorProto

            single = g.node("Cast", [scaled], f"Z_sqrt_half_float{l}", to=TensorProto.FLOAT)
            erf = g.node("Cast", [g.node("Erf", [single], f"erf_float{l}")], f"erf{l}",
                         to=TensorProto.DOUBLE)
        one_plus = g.node("Add", [erf, g.const(f"one{l}", 1.0)], f"one_plus_erf{l}")
        half_Z = g.node("Mul", [Z, g.const(f"half{l}", 0.5)], f"half_Z{l}")
        return g.node("Mul", [half_Z, one_plus], out)
    if name == "silu" and native:
        return g.node("Mul", [Z, g.node("Sigmoid", [Z], f"sigmoid_Z{l}")], out)
    if name == "silu":
        # z / (1 + exp(-z)): onnxruntime (1.18-1.23) fuses z Sigmoid(z) into a float-only
        # QuickGelu; exp(-z) overflows to inf for z < -709, where z / inf gives silu's limit, -0
        exp_neg = g.node("Exp", [g.node("Neg", [Z], f"minus_Z{l}")], f"exp_minus_Z{l}")
        one_plus = g.node("Add", [exp_neg, g.const(f"one{l}", 1.0)], f"one_plus_exp_minus_Z{l}")
        return g.node("Div", [Z, one_plus], out)
    op = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softmax": "Softmax",
          "softplus": "Softplus"}[name]
    return g.node(op, [Z], out, **({"axis": 1} if name == "softmax" else {}))


def _exponential_linear(g: _Graph, Z: str, l: int, alpha: float, scale: float, out: str) -> str:
    """Add ``scale (max(z, 0) + alpha (exp(min(z, 0)) - 1))`` (elu, selu) from operators
    that onnxruntime runs in double; return ``out``."""
    zero = g.const(f"zero{l}", 0.0)
    exp_neg = g.node("Exp", [g.node("Min", [Z, zero], f"negative_Z{l}")], f"exp_negative_Z{l}")
    expm1 = g.node("Sub", [exp_neg, g.const(f"one{l}", 1.0)], f"expm1_negative_Z{l}")
    negative = g.node("Mul", [expm1, g.const(f"alpha{l}", alpha * scale)], f"negative_part{l}")
    positive = g.node("Max", [Z, zero], f"positive_Z{l}")
    if scale != 1.0:
        positive = g.node("Mul", [positive, g.const(f"scale{l}", scale)], f"positive_part{l}")
    return g.node("Add", [positive, negative], out)


def _heads(g: _Graph, est, A: str, n_L: int) -> list[tuple[str, object, list]]:
    """Add the estimator's outputs; return ``[(name, elem_type, shape), ...]``."""
    from onnx import TensorProto

    float_type = TensorProto.FLOAT if g.dtype == np.float32 else TensorProto.DOUBLE
    if est is None:
        return [(g.node("Identity", [A], "a_L"), float_type, ["N", n_L])]
    from .estimators.regressor import DeepRegressor

    if isinstance(est, DeepRegressor):
        if n_L == 1:  # (N,) as predict returns for one target (skl2onnx would give (N, 1))
            axis = g.const("axis1", [1], np.int64)
            return [(g.node("Squeeze", [A, axis], "predictions"), float_type, ["N"])]
        return [(g.node("Identity", [A], "predictions"), float_type, ["N", n_L])]
    kind = est._target_type
    if kind == "multilabel":
        P = g.node("Identity", [A], "probabilities")
        above = g.node("Greater", [A, g.const("half", 0.5)], "above")
        label = g.node("Cast", [above], "label", to=TensorProto.INT64)
        return [(label, TensorProto.INT64, ["N", n_L]), (P, float_type, ["N", n_L])]
    return _class_outputs(g, A, n_L, est.classes_)


def _class_outputs(g: _Graph, A: str, n_L: int, classes) -> list[tuple[str, object, list]]:
    """Add ``probabilities`` (N, n_classes) of a sigmoid or softmax output ``A`` (N, n_L)
    (one unit: ``[1 - a, a]``) and ``label`` (N,), the class of the largest, from ``classes``."""
    from onnx import TensorProto

    float_type = TensorProto.FLOAT if g.dtype == np.float32 else TensorProto.DOUBLE
    if n_L == 1:
        one_minus = g.node("Sub", [g.const("one", 1.0), A], "one_minus_a")
        P = g.node("Concat", [one_minus, A], "probabilities", axis=1)
    else:
        P = g.node("Identity", [A], "probabilities")
    index = g.node("ArgMax", [P], "class_index", axis=1, keepdims=0)
    values, label_type = _label_values(np.asarray(classes))
    label = g.node("Gather", [g.const("classes", values, values.dtype), index], "label", axis=0)
    return [(label, label_type, ["N"]), (P, float_type, ["N", len(values)])]


def _label_values(classes: np.ndarray) -> tuple[np.ndarray, int]:
    """Return ``classes_`` (n_classes,) as an ONNX-storable array and its element type.

    The ``label`` output gathers from it, so it equals ``predict``: class 3.0, not index 2.
    """
    from onnx import TensorProto

    if classes.dtype.kind == "O":  # pandas' object columns: strings, or numbers to re-type
        if all(isinstance(c, str) for c in classes.tolist()):
            return np.array(classes.tolist(), dtype=object), TensorProto.STRING
        classes = np.array(classes.tolist())
    kind = classes.dtype.kind
    if kind == "U":
        return np.array(classes.tolist(), dtype=object), TensorProto.STRING
    if kind == "b":
        return classes.astype(np.bool_), TensorProto.BOOL
    if kind in "iu":
        # as Python ints: NumPy 1.x compares uint64 with an int through float64 (2**63 + 5 "fits")
        if int(classes.max()) <= np.iinfo(np.int64).max:
            return classes.astype(np.int64), TensorProto.INT64
        return classes.astype(np.uint64), TensorProto.UINT64
    if kind == "f":
        if classes.dtype == np.float32:
            return classes, TensorProto.FLOAT
        return classes.astype(np.float64), TensorProto.DOUBLE
    raise ExportError(
        f"cannot export classes_ of dtype {classes.dtype} ({classes[:3].tolist()!r:.80}...): "
        "the label output holds integers, floats, strings or bools"
    )


def model_file_to_onnx(m, path: str | os.PathLike | None = None, *, dtype=None, opset=None,
                       input_name: str = "X"):
    """Return (and write to ``path``) the graph of a network file saved by ``npdeep train``.

    ``m`` is the file as the command line loads it (``npdeep.cli._common.load_model``): the
    network plus what ``npdeep predict`` applies around it, which the graph holds too: the
    stored feature scaling ``(X - mean) / scale``, then ``label`` (N,) from the stored classes
    and ``probabilities`` (N, n_classes) for a sigmoid or softmax output (multi-label:
    ``label`` (N, n_L) 0/1 and ``probabilities`` (N, n_L)); for regression
    ``predictions`` (N, n_L), in the target's units when the targets were scaled.

    Raises
    ------
    ExportError
        When the file was trained on CSV text columns, which npdeep encodes before the
        network (the graph would take the encoded numbers, not the CSV's values).

    ``opset`` and ``input_name``: as for :func:`to_onnx`; the metadata holds the file's
    feature names and classes, and ``target_names`` for several regression targets (the
    columns of ``predictions``). A float32 graph warns, as :func:`to_onnx` does, when rounding
    its input moves a scaled column by more than :data:`ROUNDING_TOLERANCE` standardized
    units (large offsets).
    """
    from .data.encoding import FeatureEncoder

    if m.encoder_config and FeatureEncoder.from_config(m.encoder_config).has_categorical:
        raise ExportError(
            f"{m.path}: the network was trained on a CSV with text (categorical) columns, "
            "which npdeep encodes into numbers before the network; an ONNX graph of it would "
            "take the encoded numbers, not the CSV's values, so it is not exported; use "
            "`npdeep predict`, or train a Pipeline with a DeepClassifier/DeepRegressor on "
            "numeric features"
        )
    scalers = []
    if m.header.get("scaling"):
        from .data import Standardizer

        scalers.append(Standardizer.from_config(m.header["scaling"]))
    names = m.encoder.input_names if m.encoder is not None else None
    classes = None if m.classes is None else np.asarray(m.classes).tolist()
    targets = None if getattr(m, "multilabel", False) else getattr(m, "target_names", None)
    return _export(m.net, scalers, lambda g, A: _file_heads(g, A, m), dtype, path, names,
                   classes, opset, input_name, targets)


def _file_heads(g: _Graph, A: str, m) -> list[tuple[str, object, list]]:
    """The outputs of ``npdeep predict`` for a network file (see :func:`model_file_to_onnx`)."""
    from onnx import TensorProto

    float_type = TensorProto.FLOAT if g.dtype == np.float32 else TensorProto.DOUBLE
    n_L = m.net.units[-1]
    if getattr(m, "multilabel", False):  # a sigmoid per label: 0/1 each, as npdeep predict
        P = g.node("Identity", [A], "probabilities")
        above = g.node("Greater", [A, g.const("half", 0.5)], "above")
        label = g.node("Cast", [above], "label", to=TensorProto.INT64)
        return [(label, TensorProto.INT64, ["N", n_L]), (P, float_type, ["N", n_L])]
    if m.task != "classification":
        if m.header.get("target_scaling"):
            from .data import Standardizer

            target = Standardizer.from_config(m.header["target_scaling"])
            A = g.node("Mul", [A, g.const("target_scale", target.scale_)], "unscaled")
            A = g.node("Add", [A, g.const("target_mean", target.mean_)], "predictions")
        else:
            A = g.node("Identity", [A], "predictions")
        return [(A, float_type, ["N", n_L])]
    if m.net.output_activation.name in ("softmax", "sigmoid"):
        # softmax, one sigmoid (binary), or one sigmoid per class: the largest wins
        return _class_outputs(g, A, n_L, m.classes)
    classes, label_type = _label_values(np.asarray(m.classes))
    const = g.const("classes", classes, classes.dtype)
    if n_L == 1:  # scores, no probabilities: class 1 above 0.5
        above = g.node("Greater", [A, g.const("half", 0.5)], "above")
        column = g.node("Cast", [above], "class_column", to=TensorProto.INT64)
        index = g.node("Squeeze", [column, g.const("axis1", [1], np.int64)], "class_index")
    else:
        index = g.node("ArgMax", [A], "class_index", axis=1, keepdims=0)
    label = g.node("Gather", [const, index], "label", axis=0)
    return [(label, label_type, ["N"])]


def to_onnx(model, path: str | os.PathLike | None = None, *, dtype=None, opset=None,
            input_name: str = "X"):
    """Return the ONNX ``ModelProto`` of ``model``; also write it to ``path`` when given.

    Parameters
    ----------
    model : Network, DeepClassifier, DeepRegressor or Pipeline
        A Pipeline may hold fitted StandardScaler (or "passthrough") steps before its final
        Deep* estimator; they become ``(X - mean_) / scale_`` nodes. A Network takes the
        inputs it was trained on: for a file of ``npdeep train``, whose features were scaled
        outside the network, use ``npdeep export`` (:func:`model_file_to_onnx`).
    path : str or os.PathLike, optional
        Where to write the ``.onnx`` file (atomically: a failed write leaves any previous
        file intact).
    dtype : {"float32", "float64"}, optional
        Element type of the graph; default: the network's dtype. With scaler steps, prefer
        "float64" for a float32 network when features have large offsets (e.g. timestamps):
        the graph's float32 input rounds them before the mean is subtracted, while npdeep
        scales in float64 before casting. A float32 export warns (UserWarning, naming the
        columns) when that rounding moves a scaled column by more than
        :data:`ROUNDING_TOLERANCE` (1e-4) standardized units: ``eps32 * |mean_| / scale_``.
    opset : int, optional
        The ONNX opset to declare, from :data:`MIN_OPSET` (13) to the installed onnx's newest;
        default :data:`OPSET` (17). The graph's operators are the same in all of them.
    input_name : str, default "X"
        Name of the graph's input: a letter or ``_``, then letters, digits, ``_ . - : /``;
        not a name the graph uses for a node or a constant.

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (N, n_x) (or ``input_name``); outputs as described in the module
        docstring. ``producer_name`` is "npdeep", ``producer_version`` npdeep's version;
        ``metadata_props`` hold ``npdeep_version``, and as JSON lists ``feature_names``
        (an estimator or pipeline fitted on a DataFrame: ``feature_names_in_``) and
        ``classes`` (a classifier's ``classes_``) when there are any.

    Raises
    ------
    ExportError
        For an object or an activation with no ONNX equivalent, an unfitted estimator, an
        ``opset`` out of range or an invalid ``input_name``, or a ``path`` ending in
        ``.npz``/``.npdeep`` (a model file's suffix: it would be overwritten by a graph).
    ModelFileError
        When ``path`` cannot be written.
    """
    scalers, net, est = _split(model)
    names = _feature_names(model)
    classes = getattr(est, "classes_", None)
    classes = None if classes is None else np.asarray(classes).tolist()
    return _export(net, scalers, lambda g, A: _heads(g, est, A, net.units[-1]), dtype, path,
                   names, classes, opset, input_name)


def _feature_names(model) -> list[str] | None:
    """The feature names a fitted estimator or pipeline saw (``feature_names_in_``), or None."""
    try:
        names = getattr(model, "feature_names_in_", None)
    except AttributeError:  # a pipeline whose first step has none
        names = None
    return None if names is None else [str(n) for n in names]


#: Largest shift, in standardized units, that rounding a float32 input may cause before the
#: scaling (``eps32 * |mean| / scale``) without a warning: npdeep scales in float64, so its
#: standardized values are float32-accurate (about 1e-7).
ROUNDING_TOLERANCE = 1e-4


def float32_rounding_note(scalers: list, names=None) -> str | None:
    """Say which scaled columns a float32 graph input rounds by more than
    :data:`ROUNDING_TOLERANCE` standardized units (features with a large offset, such as
    timestamps: ``eps32 * |mean| / scale``); None when none does."""
    eps = float(np.finfo(np.float32).eps)
    worst = {}
    for scaler in scalers:
        mean, scale = getattr(scaler, "mean_", None), getattr(scaler, "scale_", None)
        if mean is None or not getattr(scaler, "with_mean", True):
            continue
        scale = np.ones_like(mean) if scale is None or not getattr(scaler, "with_std", True) \
            else np.asarray(scale, dtype=np.float64)
        shift = eps * np.abs(np.asarray(mean, dtype=np.float64)) / scale
        for j in np.flatnonzero(shift > ROUNDING_TOLERANCE).tolist():
            worst[j] = max(worst.get(j, 0.0), float(shift[j]))
    if not worst:
        return None
    names = None if names is None else [str(n) for n in names]
    columns = [f"{j} ({names[j]!r})" if names and j < len(names) else str(j)
               for j in sorted(worst)]
    shown = ", ".join(columns[:10]) + (f", ... ({len(columns)} in all)" if len(columns) > 10
                                       else "")
    return (f"a float32 graph rounds its input X before the feature scaling, and column(s) "
            f"{shown} have a mean far above their spread (an offset such as a timestamp's): "
            f"rounding moves their standardized values by up to {max(worst.values()):.2g}, "
            "where npdeep scales in float64 first, so the graph's outputs may differ from "
            "npdeep's; export a float64 graph (dtype='float64', `npdeep export --dtype "
            "float64`) or subtract the offset from those features before training")


def _refuse_model_file_suffix(path) -> None:
    """Refuse a ``path`` that names a model file, data or a drawing (``npdeep export``'s
    rule): ``to_onnx(model, "model.npz")`` would overwrite the model file with a graph."""
    if path is None or not isinstance(path, (str, bytes, os.PathLike)):
        return
    from .cli._paths import _NOT_A_MODEL

    suffix = os.path.splitext(os.fsdecode(os.fspath(path)))[1].lower()
    if suffix in (".npz", ".npdeep", *_NOT_A_MODEL):
        raise ExportError(
            f"path {os.fsdecode(os.fspath(path))!r} ends in {suffix}, which names a model "
            "file, data or a drawing, but to_onnx writes an ONNX graph; name it .onnx")


def _checked_opset(opset) -> int:
    import onnx

    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) \
            or not MIN_OPSET <= opset <= newest:
        raise ExportError(f"opset must be an integer from {MIN_OPSET} to {newest} (the "
                          f"installed onnx's newest), got {opset!r:.80}; default {OPSET}")
    return int(opset)


def _checked_input_name(name) -> str:
    if not isinstance(name, str) or not _INPUT_NAME.fullmatch(name):
        raise ExportError(
            f"input_name must be a name of 1-200 characters, a letter or '_' then letters, "
            f"digits, '_', '.', '-', ':' or '/', got {name!r:.80}")
    return name


def _metadata(names, classes, targets=None) -> dict[str, str]:
    from ._io_save import _npdeep_version

    props = {"npdeep_version": _npdeep_version()}
    if names is not None:
        props["feature_names"] = json.dumps([str(n) for n in names])
    if classes is not None:
        props["classes"] = json.dumps(classes, default=str)
    if targets:  # several CSV targets: which column of predictions is which
        props["target_names"] = json.dumps([str(n) for n in targets])
    return props


def _export(net, scalers: list, heads, dtype, path, names=None, classes=None, opset=None,
            input_name="X", targets=None):
    """Build (and write to ``path``) the graph: ``scalers``, the layers of ``net``, then
    ``heads(g, A)``, which adds the outputs and returns ``[(name, elem_type, shape), ...]``.
    ``names``: the feature names (the float32 rounding warning, the metadata); ``classes``
    (a list) and ``targets`` (several regression targets' names) for the metadata."""
    onnx, helper, numpy_helper = _require_onnx()
    from onnx import TensorProto

    _refuse_model_file_suffix(path)
    opset = _checked_opset(opset)
    input_name = _checked_input_name(input_name)

    np_dtype = parse_dtype(dtype) if dtype is not None else net.dtype
    if np_dtype not in (np.float32, np.float64):
        raise ExportError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    note = float32_rounding_note(scalers, names) if np_dtype == np.float32 else None
    if note:
        warnings.warn(note[0].upper() + note[1:], UserWarning, stacklevel=caller_level())
    g = _Graph(helper, numpy_helper, np_dtype.type)
    A = input_name
    for i, scaler in enumerate(scalers):
        # scikit-learn keeps mean_ with with_mean=False (it only skips it in transform)
        if getattr(scaler, "with_mean", True) and scaler.mean_ is not None:
            A = g.node("Sub", [A, g.const(f"mean{i}", scaler.mean_)], f"centered{i}")
        if getattr(scaler, "with_std", True) and scaler.scale_ is not None:
            A = g.node("Div", [A, g.const(f"scale{i}", scaler.scale_)], f"scaled{i}")
    for l, (W, b) in enumerate(net.layers, start=1):
        Z = g.node("Gemm", [A, g.const(f"W{l}", W), g.const(f"b{l}", b[:, 0])], f"Z{l}",
                   transB=1)
        A = _activation(g, net.activations[l], Z, l)
    outputs = heads(g, A)
    taken = {n.output[0] for n in g.nodes} | {t.name for t in g.inits}
    if input_name in taken:
        raise ExportError(f"input_name {input_name!r} is the name of a node or a constant of "
                          "the graph; choose another")
    float_type = TensorProto.FLOAT if np_dtype == np.float32 else TensorProto.DOUBLE
    graph = helper.make_graph(
        g.nodes, "npdeep",
        [helper.make_tensor_value_info(input_name, float_type, ["N", net.units[0]])],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        initializer=g.inits,
    )
    props = _metadata(names, classes, targets)
    imports = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, producer_name="npdeep",
                              producer_version=props["npdeep_version"], opset_imports=imports)
    # the oldest IR the opset allows: readable by older runtimes (8 for opset 17)
    proto.ir_version = helper.find_min_ir_version_for(imports)
    helper.set_model_props(proto, props)
    proto.doc_string = (f"npdeep network, units {net.units}; input {input_name} is (N, n_x), "
                        "samples as rows")
    onnx.checker.check_model(proto)
    if path is not None:
        from .atomic import write_atomically

        data = proto.SerializeToString()
        write_atomically(path, lambda fp: fp.write(data), "ONNX file")
    return proto
