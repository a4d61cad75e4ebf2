"""Activation functions g[l], each beside its derivative g'[l].

Every activation is one small object with three methods that work in place on
preallocated arrays of shape ``(n[l], m)``:

- ``forward(Z, out, work=None)``: ``a = g(Z)``;
- ``derivative(Z, A)``: ``g'(Z)`` as a new array (for reading and testing);
- ``backward(dA, Z, A, out, work=None)``: ``dZ = dA * g'(Z)``, written into ``out`` (the
  training hot path).

``work`` is optional scratch from the engine's workspace (an (n[l], m) float array for
``forward``; for ``backward`` a pair ``(S, B)`` of (n[l], m) float and boolean arrays, or a
triple ``(S, B, S2)`` for an activation whose ``backward_floats`` is 2: gelu and silu), so that
a training step allocates nothing proportional to the batch. Without it the methods allocate
their temporaries.

``A`` is the already computed ``g(Z)``: sigmoid, tanh, elu, selu and softplus take their
derivative from it, so backpropagation never evaluates an exponential twice (and their hidden
layers may store a[l] over Z[l]). gelu and silu need Z itself (``inplace_ok`` is False).

| name       | g(z)                                    | g'(z)                               |
|------------|-----------------------------------------|-------------------------------------|
| sigmoid    | 1 / (1 + exp(-z))                       | g (1 - g)                           |
| tanh       | tanh(z)                                 | 1 - g^2                             |
| relu       | max(z, 0)                               | [z > 0]                             |
| leaky_relu | z if z > 0 else alpha z                 | 1 if z > 0 else alpha               |
| elu        | z if z > 0 else alpha (exp(z) - 1)      | 1 if z > 0 else g + alpha           |
| selu       | scale * elu(z) (fixed alpha, scale)     | scale if z > 0 else g + scale alpha |
| softplus   | log(1 + exp(z))                         | sigmoid(z) = 1 - exp(-g)            |
| gelu       | z Phi(z) (Phi: standard normal cdf)     | Phi(z) + z phi(z)                   |
| silu       | z sigmoid(z) (alias swish)              | s (1 + z (1 - s)), s = sigmoid(z)   |
| identity   | z                                       | 1                                   |
| exp        | exp(z) (output only: Poisson counts)    | g                                   |
| softmax    | exp(z_i) / sum_j exp(z_j) (output only) | Jacobian-vector product             |

>>> import numpy as np
>>> from npdeep import activations
>>> g = activations.get("sigmoid")
>>> Z = np.array([[-1e4, 0.0, 1e4]])
>>> g.forward(Z, np.empty_like(Z))
array([[0. , 0.5, 1. ]])
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from ._activation_base import Activation, exp_floor
from ._registry import build, family
from ._smooth_activations import ELU, GELU, SELU, SiLU, Softplus
from ._validation import check_fraction

__all__ = [
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "SELU",
    "Softplus",
    "GELU",
    "SiLU",
    "Softmax",
    "Identity",
    "Exp",
    "get",
    "exp_floor",
    "NAMES",
    "HIDDEN_NAMES",
]


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
    bounds = (0.0, 1.0)
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
    bounds = (-1.0, 1.0)

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
    bounds = (0.0, math.inf)

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

    @property
    def bounds(self):
        return (-math.inf if self.alpha > 0 else 0.0, math.inf)

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


class Exp(Activation):
    """Exponential ``g(z) = exp(z)``, ``g'(z) = g(z)``: the output of a Poisson regression
    (scikit-learn's MLPRegressor ``out_activation_ = 'exp'`` for ``loss='poisson'``), whose
    cost is computed from ``z = log a``. Output layer only, as MLPRegressor has it: in a hidden
    layer each exp compounds the last.

    Exponents below ``log(tiny) + 1`` are raised to it (g is then about ``e * tiny``, not a
    subnormal, and never exactly 0); one above ``log(max)`` gives inf, which prediction refuses
    and training stops on.
    """

    name = "exp"
    inplace_ok = True
    output_only = True
    bounds = (0.0, math.inf)

    def forward(self, Z, out, work=None):
        np.maximum(Z, exp_floor(Z.dtype), out=out)
        with np.errstate(over="ignore"):
            return np.exp(out, out=out)

    def derivative(self, Z, A):
        return A.copy()

    def backward(self, dA, Z, A, out, work=None):
        return np.multiply(dA, A, out=out)


class Softmax(Activation):
    """Softmax over the units of a column: ``a_i = exp(z_i) / sum_j exp(z_j)``.

    Computed as ``exp(z - max z)``, so it never overflows. Its Jacobian is not diagonal:
    ``derivative`` returns the diagonal only, and ``backward`` applies the full
    Jacobian-vector product ``dZ = a * (dA - sum_i(dA_i * a_i))``. Output layer only.
    """

    name = "softmax"
    inplace_ok = True
    output_only = True
    bounds = (0.0, 1.0)

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
    "elu": ELU,
    "selu": SELU,
    "softplus": Softplus,
    "gelu": GELU,
    "silu": SiLU,
    "softmax": Softmax,
    "identity": Identity,
    "exp": Exp,
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid", "leakyrelu": "leaky_relu",
            "swish": "silu"}
family("activation", Activation, _REGISTRY, _ALIASES)

#: The valid activation names.
NAMES: tuple[str, ...] = tuple(_REGISTRY)
#: The names valid for a hidden layer (softmax and exp are output-only).
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
