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
| softmax    | exp(z_i) / sum_j exp(z_j) (output only) | Jacobian-vector product             |

>>> import numpy as np
>>> from npdeep import activations
>>> g = activations.get("sigmoid")
>>> Z = np.array([[-1e4, 0.0, 1e4]])
>>> g.forward(Z, np.empty_like(Z))
array([[0. , 0.5, 1. ]])
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import erfc, expit

from ._registry import build, family
from ._validation import check_fraction, check_nonneg_float

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
    #: True when g' jumps at z = 0 (relu, leaky_relu, selu, elu with alpha != 1): the gradient
    #: check skips perturbations that move a pre-activation across it (no derivative exists
    #: there).
    kink: bool = False
    #: How many (n[l], m) float scratch arrays ``backward`` reads from ``work``: 1 gives
    #: ``(S, B)``, 2 gives ``(S, B, S2)`` (the workspace then holds a scratch twice as large).
    backward_floats: int = 1

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

        ``work``: optional ``(S, B)`` scratch, float and boolean arrays of shape (n[l], m)
        (``(S, B, S2)`` when ``backward_floats`` is 2).
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


class _ExponentialLinear(Activation):
    """``g(z) = scale * (z if z > 0 else alpha (exp(z) - 1))``: elu (scale 1) and selu.

    Computed as ``scale * (max(z, 0) + alpha expm1(min(z, 0)))``: ``exp`` only ever sees
    ``z <= 0`` (no overflow; ``expm1`` of -1e4 is -1 with no underflow) and ``expm1`` keeps
    the small negative values exact. The derivative comes from A alone: with ``alpha >= 0``,
    ``a > 0`` exactly where ``z > 0``, and for ``z <= 0``
    ``g'(z) = scale alpha exp(z) = a + scale alpha``, so a hidden layer may store a[l] over
    Z[l].
    """

    inplace_ok = True
    alpha: float = 1.0
    scale: float = 1.0

    def forward(self, Z, out, work=None):
        # the negative part first, into the scratch: out may be Z itself
        neg = np.minimum(Z, 0, out=work)
        np.expm1(neg, out=neg)
        neg *= self.alpha * self.scale
        np.maximum(Z, 0, out=out)
        if self.scale != 1.0:
            out *= self.scale
        out += neg
        return out

    def derivative(self, Z, A):
        return np.where(A > 0, self.scale, A + self.alpha * self.scale).astype(A.dtype)

    def backward(self, dA, Z, A, out, work=None):
        if work is None:
            return np.multiply(dA, self.derivative(Z, A), out=out)
        d, positive = work[0], work[1]
        np.add(A, self.alpha * self.scale, out=d)     # g' where z <= 0
        np.greater(A, 0, out=positive)
        np.copyto(d, self.scale, where=positive)      # g' = scale where z > 0
        return np.multiply(dA, d, out=out)


class ELU(_ExponentialLinear):
    """Exponential linear unit ``g(z) = z if z > 0 else alpha (exp(z) - 1)`` (``alpha >= 0``).

    ``g'(z) = 1 if z > 0 else alpha exp(z) = g(z) + alpha``, read from A. Clevert et al. 2016;
    Keras' and PyTorch's ``elu`` (default ``alpha = 1``, where g' is continuous at 0; any
    other alpha makes it jump there, a ``kink``). ``alpha = 0`` is relu.
    """

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        # a number >= 0: a negative alpha makes a > 0 for some z < 0 (g' is then not read
        # from A) and a non-monotone g
        self.alpha = check_nonneg_float(alpha, "elu alpha")
        self.kink = self.alpha != 1.0

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"


class SELU(_ExponentialLinear):
    """Scaled ELU ``g(z) = scale * (z if z > 0 else alpha (exp(z) - 1))`` (no options).

    ``g'(z) = scale if z > 0 else scale alpha exp(z) = g(z) + scale alpha``, read from A.
    ``alpha`` and ``scale`` are the fixed constants of Klambauer et al. 2017 ("Self-normalizing
    neural networks"), as PyTorch's ``torch.nn.SELU``: 1.6732632423543772 and
    1.0507009873554805. g' jumps at 0 (from scale alpha = 1.758 to scale = 1.051): a ``kink``.
    Meant for LeCun-normal weights (std sqrt(1 / n[l-1])), npdeep's default for it.
    """

    name = "selu"
    kink = True
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946


class Softplus(Activation):
    """Softplus ``g(z) = log(1 + exp(z))``, ``g'(z) = sigmoid(z) = 1 - exp(-g(z))``.

    Computed as ``max(z, 0) + log1p(exp(-|z|))``, which never overflows; ``exp`` sees at least
    ``log(tiny) + 1`` (see :func:`exp_floor`), so it never underflows either: for z below that
    g is ``e * tiny`` instead of a smaller or subnormal number. The derivative comes from A:
    ``sigmoid(z) = 1 - exp(-g(z)) = -expm1(-a)``, exact to rounding for every z (a >= e * tiny
    > 0), so a hidden layer may store a[l] over Z[l].
    """

    name = "softplus"
    inplace_ok = True

    def forward(self, Z, out, work=None):
        # log1p(exp(-|z|)) first, into the scratch: out may be Z itself
        t = np.absolute(Z, out=work)
        np.negative(t, out=t)
        np.maximum(t, exp_floor(t.dtype), out=t)
        np.exp(t, out=t)
        np.log1p(t, out=t)
        np.maximum(Z, 0, out=out)
        out += t
        return out

    def derivative(self, Z, A):
        return -np.expm1(-A)

    def backward(self, dA, Z, A, out, work=None):
        # dZ = dA * (-expm1(-a))
        d = np.negative(A, out=None if work is None else work[0])
        np.expm1(d, out=d)
        np.negative(d, out=d)
        return np.multiply(dA, d, out=out)


#: 1 / sqrt(2), 1 / sqrt(2 pi)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: |z| above which phi(z) = exp(-z^2 / 2) / sqrt(2 pi) is below every float's tiny: clipping
#: there keeps z^2 finite (float32 z = 1e20) at no cost in accuracy
_PHI_CLIP = 64.0


class GELU(Activation):
    """Gaussian error linear unit ``g(z) = z Phi(z) = 0.5 z (1 + erf(z / sqrt 2))`` (exact).

    ``g'(z) = Phi(z) + z phi(z)``, ``phi(z) = exp(-z^2 / 2) / sqrt(2 pi)``. Hendrycks and Gimpel
    2016; PyTorch's ``gelu`` (``approximate='none'``) and Keras' ``gelu(approximate=False)``.
    ``Phi(z) = 0.5 erfc(-z / sqrt 2)`` (scipy.special.erfc), the same function as
    ``0.5 (1 + erf(z / sqrt 2))`` but without its cancellation for negative z: g(-10) is
    -7.6e-23, not 0. No overflow or warning for any z: erfc saturates at 0 and 2, and phi's
    exponent is clipped (at -z^2/2 >= log(tiny) + 1, see :func:`exp_floor`).
    The derivative needs Z (``inplace_ok`` is False: a hidden layer keeps Z[l] and a[l]) and
    two scratch arrays (``backward_floats = 2``).
    """

    name = "gelu"
    backward_floats = 2

    def forward(self, Z, out, work=None):
        # out must not be Z (inplace_ok is False)
        np.multiply(Z, -_SQRT_HALF, out=out)
        erfc(out, out=out)                      # 2 Phi(z)
        out *= Z
        out *= 0.5
        return out

    def _phi_times_z(self, Z, out):
        """Write ``z phi(z)`` into ``out`` (not Z)."""
        np.clip(Z, -_PHI_CLIP, _PHI_CLIP, out=out)
        np.square(out, out=out)
        out *= -0.5
        np.maximum(out, exp_floor(out.dtype), out=out)
        np.exp(out, out=out)
        out *= _INV_SQRT_2PI
        out *= Z
        return out

    def derivative(self, Z, A):
        d = self._phi_times_z(Z, np.empty_like(Z))
        d += 0.5 * erfc(Z * -_SQRT_HALF)
        return d

    def backward(self, dA, Z, A, out, work=None):
        if work is None:
            return np.multiply(dA, self.derivative(Z, A), out=out)
        d, Phi = work[0], work[2]
        self._phi_times_z(Z, d)
        np.multiply(Z, -_SQRT_HALF, out=Phi)
        erfc(Phi, out=Phi)
        Phi *= 0.5
        d += Phi
        return np.multiply(dA, d, out=out)


class SiLU(Activation):
    """Sigmoid linear unit (swish) ``g(z) = z sigmoid(z)``.

    ``g'(z) = s (1 + z (1 - s))``, ``s = sigmoid(z)``. Elfwing et al. 2017, Ramachandran et
    al. 2017 (swish with beta = 1); PyTorch's ``silu``, Keras' ``silu``/``swish``. The sigmoid
    is ``scipy.special.expit``, exact and saturating without warnings, so g(-1e4) = -0 and
    g(1e4) = 1e4. The derivative needs Z (``inplace_ok`` is False: a hidden layer keeps Z[l]
    and a[l]) and two scratch arrays (``backward_floats = 2``).
    """

    name = "silu"
    backward_floats = 2

    def forward(self, Z, out, work=None):
        # out must not be Z (inplace_ok is False)
        expit(Z, out=out)
        out *= Z
        return out

    def derivative(self, Z, A):
        s = expit(Z)
        return s * (1.0 + Z * (1.0 - s))

    def backward(self, dA, Z, A, out, work=None):
        if work is None:
            return np.multiply(dA, self.derivative(Z, A), out=out)
        s, d = work[0], work[2]
        expit(Z, out=s)
        np.subtract(1.0, s, out=d)
        d *= Z
        d += 1.0
        d *= s                                  # g' = s (1 + z (1 - s))
        return np.multiply(dA, d, out=out)


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
    "elu": ELU,
    "selu": SELU,
    "softplus": Softplus,
    "gelu": GELU,
    "silu": SiLU,
    "softmax": Softmax,
    "identity": Identity,
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid", "leakyrelu": "leaky_relu",
            "swish": "silu"}
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
