"""Cost functions J and their gradient with respect to the output a[L].

The cost of a batch is a weighted mean of per-sample losses:
``J = sum_i c_i * loss(a[L]_i, y_i)`` with ``c_i = 1/m`` (the article) or, with sample
weights, ``c_i = w_i / sum(w)``. ``coef`` below is that ``c``: a scalar ``1/m`` or an array of
shape ``(1, m)``.

For the canonical pairs (sigmoid + binary cross-entropy, softmax + categorical
cross-entropy, identity + mean squared error, exp + Poisson) the output delta fuses into the
article's ``dZ[L] = (1/m)(a[L] - Y)``, and the cost is computed from the logits ``Z[L]``,
which keeps it finite when an output saturates (no ``log(0)``). The robust losses fuse with
the identity output too, with their own delta (:meth:`Loss.fused_delta`): ``c sign(a - y)`` for the
mean absolute error, ``c clip(a - y, -delta, delta)`` for Huber. Every other pair goes
through ``dZ[L] = dA[L] * g'(Z[L])`` with ``dA[L]`` from :meth:`Loss.gradient`.

The regression losses sum over the n[L] outputs of a sample and average over samples, as the
mean squared error does: ``J = sum_i c_i sum_k loss(a_ki, y_ki)``.

| name                | loss(a, y) per output                  | fused dZ[L] (with the output)  |
|---------------------|----------------------------------------|--------------------------------|
| mean_squared_error  | (a - y)^2 / 2                          | c (a - y)  (identity)          |
| mean_absolute_error | abs(a - y)                             | c sign(a - y)  (identity)      |
| huber               | (a - y)^2 / 2 if abs(a - y) <= delta,  | c clip(a - y, -delta, delta)   |
|                     | else delta (abs(a - y) - delta / 2)    | (identity)                     |
| poisson             | a - y log a  (= exp(z) - y z)          | c (a - y)  (exp)               |
"""

from __future__ import annotations

import numpy as np

from ._registry import build, family
from ._validation import check_positive_float
from .activations import exp_floor
from .errors import DataError

__all__ = [
    "Loss",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "Poisson",
    "fuses",
    "get",
    "NAMES",
]


def _weighted_sum(per_sample: np.ndarray, coef) -> float:
    """Return ``sum_i coef_i * per_sample_i`` for per_sample of shape (m,).

    The plain sum is accumulated in float64: float32 losses near 1e36 each overflow their
    sum over a batch, where the mean is finite.
    """
    if isinstance(coef, float) or np.ndim(coef) == 0:
        return float(coef * per_sample.sum(dtype=np.float64))
    return float(np.dot(np.ravel(coef), per_sample))


def softplus(Z: np.ndarray) -> np.ndarray:
    """Return ``log(1 + exp(Z))`` elementwise: exact for large |Z|, no overflow or underflow."""
    return np.maximum(Z, 0.0) + np.log1p(np.exp(np.maximum(-np.abs(Z), exp_floor(Z.dtype))))


def log_softmax(Z: np.ndarray) -> np.ndarray:
    """Return ``Z - logsumexp(Z)`` over axis 0 (the units), shape (n[L], m)."""
    shifted = Z - Z.max(axis=0, keepdims=True)
    floor = exp_floor(Z.dtype)
    return shifted - np.log(np.exp(np.maximum(shifted, floor)).sum(axis=0, keepdims=True))


class Loss:
    """Base class of the costs. ``Y`` and ``A`` are ``(n[L], m)``."""

    name: str = ""
    #: the output activation paired with this loss: dZ[L] = fused_delta(...), which is
    #: coef * (a[L] - Y) unless the loss says otherwise, and the cost from the logits
    canonical: str = ""
    #: output activations this loss accepts; None means any
    compatible: tuple[str, ...] | None = None
    #: True when dJ/da[L] jumps (the mean absolute error at a = y): the gradient check skips
    #: perturbations that move an output across it, as it does relu's kink
    kink: bool = False
    #: True unless a subclass overrides fused_delta (set per class): the engine then writes
    #: coef * (a[L] - Y) itself, without a method call per step (case b's steps are ~60 calls)
    plain_delta: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.plain_delta = cls.fused_delta is Loss.fused_delta

    def cost(self, A: np.ndarray, Y: np.ndarray, coef, Z: np.ndarray | None = None,
             work=None) -> float:
        """Return the cost J of outputs ``A`` (and, for canonical pairs, logits ``Z``).

        ``work``: optional scratch ``(T1, T2, T3, r)``, three (n[L], m) arrays and one (m,),
        with which the canonical pairs' cost allocates nothing proportional to m.
        """
        raise NotImplementedError

    def gradient(self, A: np.ndarray, Y: np.ndarray, coef) -> np.ndarray:
        """Return ``dA[L] = dJ/da[L]``, shape (n[L], m)."""
        raise NotImplementedError

    def fused_delta(self, A: np.ndarray, Y: np.ndarray, coef, out: np.ndarray) -> np.ndarray:
        """Write the canonical pair's ``dZ[L] = dJ/dZ[L]`` into ``out`` and return it.

        ``A``, ``Y``, ``out``: (n[L], m). The default is ``coef * (a[L] - Y)``, the delta of
        every pair where g[L] is the inverse of the loss's link (sigmoid, softmax, identity
        with squared error, exp); in place, allocation-free.
        """
        np.subtract(A, Y, out=out)
        out *= coef
        return out

    def check_targets(self, Y: np.ndarray) -> None:
        """Raise DataError when targets ``Y`` are outside this loss's domain."""

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_unit_interval(Y: np.ndarray, what: str) -> None:
    if Y.size and (Y.min() < 0 or Y.max() > 1):
        raise DataError(
            f"{what} targets must lie in [0, 1], got values in "
            f"[{Y.min():.6g}, {Y.max():.6g}]; encode the classes as 0/1 (one-hot for several units)"
        )


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy, the article's cost.

    ``J = -sum_i c_i sum_k [y_ki log a_ki + (1 - y_ki) log(1 - a_ki)]``. With a sigmoid
    output it is evaluated from the logits as ``y softplus(-z) + (1 - y) softplus(z)``.
    Several output units are independent binary problems (multi-label).
    """

    name = "binary_crossentropy"
    canonical = "sigmoid"
    compatible = ("sigmoid",)

    def cost(self, A, Y, coef, Z=None, work=None):
        if Z is not None and work is not None:
            # softplus(+-z) = max(+-z, 0) + log1p(exp(-|z|)); the shared term is computed once
            T1, T2, T3, r = work
            np.abs(Z, out=T1)
            np.negative(T1, out=T1)
            np.maximum(T1, exp_floor(Z.dtype), out=T1)
            np.exp(T1, out=T1)
            np.log1p(T1, out=T1)             # log1p(exp(-|z|))
            np.maximum(Z, 0.0, out=T2)       # max(z, 0)
            np.subtract(T2, Z, out=T3)       # max(-z, 0), exact
            T3 *= Y
            T1 += T3                         # + y max(-z, 0)
            np.multiply(Y, T2, out=T3)
            T2 -= T3                         # (1 - y) max(z, 0), exact for 0/1 targets
            T1 += T2
            return _weighted_sum(np.add.reduce(T1, axis=0, out=r), coef)
        if Z is not None:
            per = Y * softplus(-Z) + (1.0 - Y) * softplus(Z)
        else:
            eps = np.finfo(A.dtype).eps
            Ac = np.clip(A, eps, 1.0 - eps)
            per = -(Y * np.log(Ac) + (1.0 - Y) * np.log1p(-Ac))
        return _weighted_sum(per.sum(axis=0), coef)

    def gradient(self, A, Y, coef):
        eps = np.finfo(A.dtype).eps
        Ac = np.clip(A, eps, 1.0 - eps)
        return coef * ((1.0 - Y) / (1.0 - Ac) - Y / Ac)

    def check_targets(self, Y):
        _check_unit_interval(Y, "binary cross-entropy")


class CategoricalCrossEntropy(Loss):
    """Categorical cross-entropy ``J = -sum_i c_i sum_k y_ki log a_ki`` (``Y`` one-hot, or each
    column a distribution over the classes: targets whose columns do not sum to 1 are refused).

    With a softmax output it is evaluated from the logits as ``log a = z - logsumexp(z)``.
    """

    name = "categorical_crossentropy"
    canonical = "softmax"
    compatible = ("softmax",)

    def cost(self, A, Y, coef, Z=None, work=None):
        if Z is not None and work is not None:
            T1, T2, _, r = work
            np.maximum.reduce(Z, axis=0, out=r)
            np.subtract(Z, r, out=T1)
            np.maximum(T1, exp_floor(Z.dtype), out=T2)
            np.exp(T2, out=T2)
            np.log(np.add.reduce(T2, axis=0, out=r), out=r)
            T1 -= r                          # log a = z - logsumexp(z)
            T1 *= Y
            np.negative(np.add.reduce(T1, axis=0, out=r), out=r)
            return _weighted_sum(r, coef)
        if Z is not None:
            log_a = log_softmax(Z)
        else:
            log_a = np.log(np.clip(A, np.finfo(A.dtype).tiny, 1.0))
        return _weighted_sum(-(Y * log_a).sum(axis=0), coef)

    def gradient(self, A, Y, coef):
        return coef * (-Y / np.clip(A, np.finfo(A.dtype).tiny, 1.0))

    def check_targets(self, Y):
        """Refuse targets outside [0, 1], or whose columns do not sum to 1.

        The fused delta ``dZ[L] = coef * (a[L] - Y)`` is the cost's derivative only when
        ``sum_k y_k = 1`` (it is ``a[L] sum_k y_k - Y`` in general), so a multi-hot or
        unnormalised column would train on a gradient of some other cost.
        """
        _check_unit_interval(Y, "categorical cross-entropy")
        if not Y.size:
            return
        sums = np.add.reduce(Y, axis=0, dtype=np.float64)
        eps = np.finfo(Y.dtype if Y.dtype.kind == "f" else np.float64).eps
        off = np.abs(sums - 1.0) > max(1e-6, 4 * Y.shape[0] * eps)
        if off.any():
            j = int(np.argmax(off))
            raise DataError(
                f"categorical cross-entropy targets must sum to 1 over the classes of each "
                f"sample (one-hot, or class probabilities), got {off.sum()} of {Y.shape[1]} "
                f"samples that do not (sample {j} sums to {sums[j]:.6g}); for several labels "
                "per sample use sigmoid outputs with binary_crossentropy (multi-label)"
            )


class MeanSquaredError(Loss):
    """Mean squared error ``J = sum_i c_i * (1/2) ||a_i - y_i||^2``.

    The factor 1/2 makes the identity-output delta exactly ``dZ[L] = (1/m)(a[L] - Y)``.
    """

    name = "mean_squared_error"
    canonical = "identity"
    compatible = None

    def cost(self, A, Y, coef, Z=None, work=None):
        if work is not None:
            D, _, _, r = work
            np.subtract(A, Y, out=D)
            D *= D
            r = np.add.reduce(D, axis=0, out=r)
            r *= 0.5
            return _weighted_sum(r, coef)
        D = A - Y
        return _weighted_sum(0.5 * (D * D).sum(axis=0), coef)

    def gradient(self, A, Y, coef):
        return coef * (A - Y)


class MeanAbsoluteError(Loss):
    """Mean absolute error ``J = sum_i c_i sum_k |a_ki - y_ki|`` (Keras's MeanAbsoluteError,
    PyTorch's L1Loss; summed over the n[L] outputs as the mean squared error is, where those
    average over them).

    The gradient is the subgradient ``c sign(a - y)``, 0 at ``a = y`` exactly (there ``|.|``
    has no derivative: ``kink``). With the identity output it fuses into
    ``dZ[L] = c sign(a[L] - Y)``.
    """

    name = "mean_absolute_error"
    canonical = "identity"
    compatible = None
    kink = True

    def cost(self, A, Y, coef, Z=None, work=None):
        if work is not None:
            D, _, _, r = work
            np.subtract(A, Y, out=D)
            np.abs(D, out=D)
            return _weighted_sum(np.add.reduce(D, axis=0, out=r), coef)
        return _weighted_sum(np.abs(A - Y).sum(axis=0), coef)

    def gradient(self, A, Y, coef):
        return coef * np.sign(A - Y)

    def fused_delta(self, A, Y, coef, out):
        np.subtract(A, Y, out=out)
        np.sign(out, out=out)
        out *= coef
        return out


class Huber(Loss):
    """Huber loss, quadratic within ``delta`` of the target and linear outside::

        loss(a, y) = (a - y)^2 / 2                 if |a - y| <= delta
                     delta (|a - y| - delta / 2)   otherwise

    ``J = sum_i c_i sum_k loss(a_ki, y_ki)`` (Keras's Huber and PyTorch's HuberLoss, with
    their default ``delta = 1``, average over the outputs; this sums, as the mean squared
    error does). Within ``delta`` it is the mean squared error; ``dJ/da = c clip(a - y,
    -delta, delta)`` is continuous (its own derivative jumps at ``|a - y| = delta``, as elu's
    does at 0). With the identity output it fuses into ``dZ[L] = c clip(a[L] - Y, -delta,
    delta)``.

    Parameters
    ----------
    delta : float > 0
        Where the quadratic part ends, in the targets' units (DeepRegressor trains on
        standardized targets: there it is in standard deviations of y).
    """

    name = "huber"
    canonical = "identity"
    compatible = None

    def __init__(self, delta: float = 1.0):
        self.delta = check_positive_float(delta, "huber delta")

    def cost(self, A, Y, coef, Z=None, work=None):
        # with D = |a - y| and T = min(D, delta): loss = T (D - T / 2), both branches at once
        if work is not None:
            D, T, _, r = work
            np.subtract(A, Y, out=D)
            np.abs(D, out=D)
            np.minimum(D, self.delta, out=T)
            T *= 0.5
            D -= T
            T *= 2.0
            D *= T
            return _weighted_sum(np.add.reduce(D, axis=0, out=r), coef)
        D = np.abs(A - Y)
        T = np.minimum(D, self.delta)
        return _weighted_sum((T * (D - 0.5 * T)).sum(axis=0), coef)

    def gradient(self, A, Y, coef):
        return coef * np.clip(A - Y, -self.delta, self.delta)

    def fused_delta(self, A, Y, coef, out):
        np.subtract(A, Y, out=out)
        np.clip(out, -self.delta, self.delta, out=out)
        out *= coef
        return out

    def get_config(self):
        return {"name": self.name, "delta": self.delta}

    def __repr__(self):
        return f"Huber(delta={self.delta})"


class Poisson(Loss):
    """Poisson loss ``J = sum_i c_i sum_k (a_ki - y_ki log a_ki)``, for counts ``y >= 0``.

    That is scikit-learn's half Poisson deviance ``y log(y / a) - y + a`` (MLPRegressor's
    ``loss='poisson'``; ``mean_poisson_deviance`` is twice its mean) less the constant
    ``y log y - y`` (0 log 0 = 0), which does not depend on the network: the same gradients
    (PyTorch's PoissonNLLLoss with ``log_input=True``, Keras's Poisson up to that constant).
    With the exp output (``a = exp(z)``, ``z = log a``) it is computed from the logits,
    ``exp(z) - y z``, so no log of a tiny ``a`` is taken, and fuses into
    ``dZ[L] = c (a[L] - Y)``; other positive outputs (softplus) go through
    ``dJ/da = c (1 - y / a)``.
    """

    name = "poisson"
    canonical = "exp"
    compatible = ("exp", "softplus")

    def cost(self, A, Y, coef, Z=None, work=None):
        if Z is not None and work is not None:
            T1, _, _, r = work
            np.multiply(Y, Z, out=T1)
            np.subtract(A, T1, out=T1)       # exp(z) - y z
            return _weighted_sum(np.add.reduce(T1, axis=0, out=r), coef)
        if Z is not None:
            return _weighted_sum((A - Y * Z).sum(axis=0), coef)
        log_a = np.log(np.maximum(A, np.finfo(A.dtype).tiny))
        return _weighted_sum((A - Y * log_a).sum(axis=0), coef)

    def gradient(self, A, Y, coef):
        return coef * (1.0 - Y / np.maximum(A, np.finfo(A.dtype).tiny))

    def check_targets(self, Y):
        if Y.size and Y.min() < 0:
            raise DataError(
                f"poisson targets must be >= 0 (counts or rates), got values down to "
                f"{Y.min():.6g}; for targets of both signs use mean_squared_error or huber"
            )


def _as_declared(obj, attribute: str, methods: tuple[str, ...]) -> bool:
    """True when no subclass below the class that sets ``attribute`` overrides ``methods``."""
    mro = type(obj).__mro__
    owner = next(i for i, cls in enumerate(mro) if attribute in vars(cls))
    return not any(method in vars(cls) for cls in mro[:owner] for method in methods)


def fuses(g_L, loss: Loss) -> bool:
    """Return whether output activation ``g_L`` and ``loss`` are a canonical pair, trained with
    the fused ``dZ[L] = loss.fused_delta(...)`` (``coef * (a[L] - Y)`` but for the robust
    losses) and costed from the logits.

    The pair is ``loss.canonical`` and the activation of that name, each as the class that
    declares it computes: a subclass that inherits ``canonical`` (or ``name``) but overrides
    ``cost`` or ``gradient`` (``forward``, ``derivative`` or ``backward``), a label-smoothed
    binary cross-entropy say, has another delta and goes through ``dA[L] * g'(Z[L])``.
    """
    return (bool(loss.canonical) and g_L.name == loss.canonical
            and _as_declared(loss, "canonical", ("cost", "gradient", "fused_delta"))
            and _as_declared(g_L, "name", ("forward", "derivative", "backward")))


_REGISTRY: dict[str, type[Loss]] = {
    "binary_crossentropy": BinaryCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "poisson": Poisson,
}
_ALIASES = {
    "bce": "binary_crossentropy",
    "binary_cross_entropy": "binary_crossentropy",
    "log_loss": "binary_crossentropy",
    "cce": "categorical_crossentropy",
    "categorical_cross_entropy": "categorical_crossentropy",
    "crossentropy": "categorical_crossentropy",
    "mse": "mean_squared_error",
    "squared_error": "mean_squared_error",
    "mae": "mean_absolute_error",
    "absolute_error": "mean_absolute_error",
    "huber_loss": "huber",
}
family("loss", Loss, _REGISTRY, _ALIASES)

#: The valid loss names (aliases: bce, cce, mse, mae...).
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get(spec: str | dict | Loss) -> Loss:
    """Return the loss named by ``spec`` (a name, a config dict or a Loss).

    Only huber takes an option, ``delta`` (``{"name": "huber", "delta": 0.5}``); any other key
    of a config dict is refused, not ignored.
    """
    return build(spec, "loss", Loss, _REGISTRY, _ALIASES)
