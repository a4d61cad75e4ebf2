"""Activation functions g[l], each beside its derivative g'[l].

Every activation is one small object with three methods that work in place on
preallocated arrays of shape ``(n[l], m)``:

- ``forward(Z, out, work=None)``: ``a = g(Z)``;
- ``derivative(Z, A)``: ``g'(Z)`` as a new array (for reading and testing);
- ``backward(dA, Z, A, out, work=None)``: ``dZ = dA * g'(Z)``, written into ``out`` (the
  training hot path).

``work`` is optional scratch from the engine's workspace (an (n[l], m) float array for
``forward``; a pair of (n[l], m) float and boolean arrays for ``backward``), so that a training
step allocates nothing proportional to the batch. Without it the methods allocate their temporaries.

``A`` is the already computed ``g(Z)``: sigmoid and tanh take their derivative from it,
so backpropagation never evaluates an exponential twice.

>>> import numpy as np
>>> from npdeep import activations
>>> g = activations.get("sigmoid")
>>> Z = np.array([[-1e4, 0.0, 1e4]])
>>> g.forward(Z, np.empty_like(Z))
array([[0. , 0.5, 1. ]])
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import expit

from ._registry import build, family
from ._validation import check_fraction

__all__ = [
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "Identity",
    "get",
    "NAMES",
]


@functools.cache
def exp_floor(dtype) -> float:
    """Return ``log(tiny) + 1`` for ``dtype``, a floor above which ``exp`` gives normal numbers.

    Clipping exponents at ``log(tiny)`` itself is not enough: in float32 it rounds to a value
    whose exp is subnormal (1.1754907e-38 < tiny), and ``log1p`` of that raises underflow.
    ``exp`` of the floor is ``e * tiny``, below any term a float sum could still see.
    """
    return float(np.log(np.finfo(dtype).tiny)) + 1.0


class Activation:
    """Base class: an activation g and its derivative g'.

    Subclasses implement ``forward`` and ``derivative``; ``backward`` defaults to
    ``dA * derivative(Z, A)`` and is overridden where an in-place form is faster.
    """

    name: str = ""
    #: True when ``forward(Z, out=Z)`` is allowed (the result may overwrite Z).
    inplace_ok: bool = False
    #: True for activations whose Jacobian is not diagonal (softmax): output layer only.
    output_only: bool = False
    #: True when g' jumps at z = 0 (relu, leaky_relu): the gradient check skips perturbations
    #: that move a pre-activation across it (no derivative exists there).
    kink: bool = False

    def forward(self, Z: np.ndarray, out: np.ndarray, work=None) -> np.ndarray:
        """Compute ``a = g(Z)``.

        Parameters
        ----------
        Z : (n[l], m) array
        out : (n[l], m) array receiving g(Z).
        work : (n[l], m) array, optional scratch (leaky_relu in place, softmax's row sums).
        """
        raise NotImplementedError

    def derivative(self, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        """Return ``g'(Z)``, shape (n[l], m); ``A`` is ``g(Z)``."""
        raise NotImplementedError

    def backward(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: np.ndarray,
                 work=None) -> np.ndarray:
        """Compute ``dZ = dA * g'(Z)`` into ``out`` (may be ``dA`` itself).

        ``work``: optional ``(S, B)`` scratch, float and boolean arrays of shape (n[l], m).
        """
        return np.multiply(dA, self.derivative(Z, A), out=out)

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        """Return ``g(Z)`` as a new array."""
        return self.forward(Z, np.empty_like(Z))

    def get_config(self) -> dict:
        """Return the JSON-serialisable description of this activation."""
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """Logistic sigmoid ``g(z) = 1 / (1 + exp(-z))``, ``g'(z) = g(z)(1 - g(z))``.

    Small arrays use ``scipy.special.expit`` (one call, least overhead); larger ones the same
    formula in four in-place NumPy passes, whose vectorized ``exp`` is 1.1-2x faster than
    ``expit`` there in float32 (on AVX2; more where NumPy has AVX-512 kernels). Both are exact
    to rounding and saturate exactly: ``exp(-z)`` overflowing to inf gives ``g = 0``,
    underflowing to 0 gives ``g = 1`` (those two flags are expected and silenced). (The article
    calls the derivative ``inv_sigmoid``; it is not an inverse.)
    """

    name = "sigmoid"
    inplace_ok = True
    #: arrays larger than this use the four-pass form
    expit_size = 2048

    def forward(self, Z, out, work=None):
        if Z.size <= self.expit_size:
            return expit(Z, out=out)
        with np.errstate(over="ignore", under="ignore"):
            np.negative(Z, out=out)
            np.exp(out, out=out)
            out += 1.0
            return np.reciprocal(out, out=out)

    def derivative(self, Z, A):
        return A * (1.0 - A)

    def backward(self, dA, Z, A, out, work=None):
        # dZ = (dA * A) * (1 - A): never multiplies two tiny numbers (no underflow)
        one_minus_A = np.subtract(1.0, A, out=None if work is None else work[0])
        np.multiply(dA, A, out=out)
        return np.multiply(out, one_minus_A, out=out)


class Tanh(Activation):
    """Hyperbolic tangent ``g(z) = tanh(z)``, ``g'(z) = 1 - g(z)^2``."""

    name = "tanh"
    inplace_ok = True

    def forward(self, Z, out, work=None):
        return np.tanh(Z, out=out)

    def derivative(self, Z, A):
        return 1.0 - A * A

    def backward(self, dA, Z, A, out, work=None):
        d = np.multiply(A, A, out=None if work is None else work[0])
        np.subtract(1.0, d, out=d)
        return np.multiply(dA, d, out=out)


class ReLU(Activation):
    """Rectified linear unit ``g(z) = max(z, 0)``, ``g'(z) = 1 if z > 0 else 0``."""

    name = "relu"
    inplace_ok = True
    kink = True

    def forward(self, Z, out, work=None):
        return np.maximum(Z, 0, out=out)

    def derivative(self, Z, A):
        return (Z > 0).astype(Z.dtype)

    def backward(self, dA, Z, A, out, work=None):
        # A > 0 exactly where Z > 0; multiplying by the boolean mask is far faster than
        # boolean-index assignment (dZ[Z <= 0] = 0).
        mask = np.greater(A, 0, out=None if work is None else work[1])
        return np.multiply(dA, mask, out=out)


class LeakyReLU(Activation):
    """Leaky ReLU ``g(z) = z if z > 0 else alpha * z`` (``0 <= alpha < 1``)."""

    name = "leaky_relu"
    inplace_ok = True
    kink = True

    def __init__(self, alpha: float = 0.01):
        self.alpha = check_fraction(alpha, "leaky_relu alpha")  # a number: "0.1" is refused

    def forward(self, Z, out, work=None):
        if out is Z:
            scaled = np.multiply(Z, self.alpha, out=work)
            return np.maximum(Z, scaled, out=out)
        np.multiply(Z, self.alpha, out=out)
        return np.maximum(out, Z, out=out)

    def derivative(self, Z, A):
        return np.where(Z > 0, 1.0, self.alpha).astype(Z.dtype)

    def backward(self, dA, Z, A, out, work=None):
        # A > 0 exactly where Z > 0 (alpha >= 0); g' = alpha + (1 - alpha) [z > 0]
        if work is None:
            return np.multiply(dA, self.derivative(A, A), out=out)
        d = work[0]
        np.greater(A, 0, out=d)
        d *= 1.0 - self.alpha
        d += self.alpha
        return np.multiply(dA, d, out=out)

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"


class Identity(Activation):
    """Identity ``g(z) = z``, ``g'(z) = 1`` (the output of a regression)."""

    name = "identity"
    inplace_ok = True

    def forward(self, Z, out, work=None):
        if out is not Z:
            np.copyto(out, Z)
        return out

    def derivative(self, Z, A):
        return np.ones_like(Z)

    def backward(self, dA, Z, A, out, work=None):
        if out is not dA:
            np.copyto(out, dA)
        return out


class Softmax(Activation):
    """Softmax over the units of a column: ``a_i = exp(z_i) / sum_j exp(z_j)``.

    Computed as ``exp(z - max z)``, so it never overflows. Its Jacobian is not diagonal:
    ``derivative`` returns the diagonal only, and ``backward`` applies the full
    Jacobian-vector product ``dZ = a * (dA - sum_i(dA_i * a_i))``. Output layer only.
    """

    name = "softmax"
    inplace_ok = True
    output_only = True

    def forward(self, Z, out, work=None):
        work = None if work is None else work[:1]  # (1, m)
        np.subtract(Z, np.maximum.reduce(Z, axis=0, keepdims=True, out=work), out=out)
        # exp(z - max) below e * (the smallest normal number) is 0 for all purposes; clipping
        # there keeps exp from raising underflow (the error is < 4e-38 relative)
        np.maximum(out, exp_floor(out.dtype), out=out)
        np.exp(out, out=out)
        out /= np.add.reduce(out, axis=0, keepdims=True, out=work)
        return out

    def derivative(self, Z, A):
        return A * (1.0 - A)

    def backward(self, dA, Z, A, out, work=None):
        s = np.sum(dA * A, axis=0, keepdims=True)
        np.subtract(dA, s, out=out)
        out *= A
        return out


_REGISTRY: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
    "identity": Identity,
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid", "leakyrelu": "leaky_relu"}
family("activation", Activation, _REGISTRY, _ALIASES)

#: The valid activation names.
NAMES: tuple[str, ...] = tuple(_REGISTRY)
#: The names valid for a hidden layer (softmax is output-only).
HIDDEN_NAMES: tuple[str, ...] = tuple(n for n, cls in _REGISTRY.items() if not cls.output_only)


def get(spec: str | dict | Activation) -> Activation:
    """Return the activation named by ``spec``.

    Parameters
    ----------
    spec : str, dict or Activation
        A name (``"relu"``), a config dict (``{"name": "leaky_relu", "alpha": 0.1}``) or an
        ``Activation``, returned as is.

    Raises
    ------
    ConfigurationError
        For an unknown name (the message lists the valid ones), or an option the activation
        does not take (the message lists those it takes).
    """
    return build(spec, "activation", Activation, _REGISTRY, _ALIASES)
