"""The smooth relu-likes: elu, selu, softplus, gelu and silu, each beside its derivative.

Shapes and methods as in :mod:`npdeep.activations`, which registers them: in place on (n[l], m)
arrays; elu, selu and softplus read g' from ``A`` (``inplace_ok``), gelu and silu from ``Z``
with two float scratch arrays (``backward_floats = 2``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc, expit

from ._activation_base import Activation, exp_floor
from ._validation import check_nonneg_float

__all__ = ["ELU", "SELU", "Softplus", "GELU", "SiLU"]


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

    @property
    def bounds(self):
        return (-self.scale * self.alpha, math.inf)

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
    Meant for LeCun-normal weights (std sqrt(1 / n[l-1])), npdeep's default for it. Dropout in
    a selu layer is alpha dropout (``dropped_value``): a dropped unit takes selu's saturation
    value ``-scale alpha``, and an affine map restores zero mean and unit variance, which plain
    dropout would break (PyTorch's ``nn.AlphaDropout``, Keras' ``AlphaDropout``).
    """

    name = "selu"
    kink = True
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    dropped_value = -scale * alpha


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
    bounds = (0.0, math.inf)

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
    bounds = (-0.16997120747990369, math.inf)  # the minimum, at z = -0.75179

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
    bounds = (-0.27846454276107374, math.inf)  # the minimum, at z = -1.27846

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
