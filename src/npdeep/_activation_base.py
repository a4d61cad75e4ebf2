"""The base class of the activations, and the floor that keeps ``exp`` from underflowing.

See :mod:`npdeep.activations` for the methods' contract (in place on (n[l], m) arrays).
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["Activation", "exp_floor"]


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
    #: True for activations of the output layer only: softmax (its Jacobian is not diagonal),
    #: exp (Poisson regression's output; in a hidden layer it compounds overflow).
    output_only: bool = False
    #: True when g' jumps at z = 0 (relu, leaky_relu, selu, elu with alpha != 1): the gradient
    #: check skips perturbations that move a pre-activation across it (no derivative exists
    #: there).
    kink: bool = False
    #: How many (n[l], m) float scratch arrays ``backward`` reads from ``work``: 1 gives
    #: ``(S, B)``, 2 gives ``(S, B, S2)`` (the workspace then holds a scratch twice as large).
    backward_floats: int = 1
    #: The value a dropped unit of this activation takes in training with dropout. None (the
    #: default): inverted dropout, ``a[l] * mask / keep``, dropped units 0. A number a':
    #: alpha dropout, dropped units a', then the affine map that keeps a[l]'s mean and
    #: variance (selu, whose a' is its saturation value -scale*alpha; Klambauer et al. 2017).
    dropped_value: float | None = None
    #: ``(low, high)``: the infimum and supremum of g's values. A regression target outside
    #: them is out of the output layer's reach (DeepRegressor warns, ``npdeep train`` refuses).
    bounds: tuple[float, float] = (-math.inf, math.inf)

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
