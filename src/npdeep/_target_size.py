"""The size of regression targets, shared by DeepRegressor and ``npdeep train``: which outputs
scale y, y's root mean square without overflow, the power of two a scale is rounded to, and
when targets trained on as given are far from unit size."""

from __future__ import annotations

import numpy as np

#: Outputs for which y is scaled: identity standardizes it, relu and leaky relu
#: (g(s z) = s g(z)) divide it by its root mean square, exp by its mean (exp(z) s =
#: exp(z + log s)); the others train on y as given.
SCALED_OUTPUTS = ("identity", "relu", "leaky_relu", "exp")

#: A root mean square outside these bounds is far from the unit size an output trained on y
#: as given learns at (tanh on targets of 1e-6 trained to an R^2 of -6.5e8).
UNIT_RANGE = (0.01, 100.0)


def root_mean_square(Y: np.ndarray, sample_weight=None) -> np.ndarray:
    """Return the (weighted) root mean square (n_L,) of ``Y`` (m, n_L), without overflow."""
    peak = np.max(np.abs(Y), axis=0)
    peak = np.where((peak > 0) & np.isfinite(peak), peak, 1.0)
    w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    if w is not None and w.size:
        w = w / w.max() if w.max() > 0 else None
    return peak * np.sqrt(np.average((Y / peak) ** 2, axis=0, weights=w))


def power_of_two(size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the power of two nearest each ``size`` (n_L,) (1 where it is 0 or not finite),
    and where it was: folding such a scale in and out of W[L], b[L] adds no rounding."""
    ok = (size > 0) & np.isfinite(size)
    return np.where(ok, np.exp2(np.round(np.log2(np.where(ok, size, 1.0)))), 1.0), ok


def peak_scale(Y: np.ndarray) -> np.ndarray:
    """Return the power of two (n_L,) near each column's largest ``|y|`` of ``Y`` (m, n_L):
    units in which scores of targets of 1e160 or 1e-300 neither overflow nor underflow (R^2
    does not change with them)."""
    return power_of_two(np.max(np.abs(Y), axis=0).astype(np.float64))[0]


def far_from_unit(Y: np.ndarray, output: str) -> tuple[int, float] | None:
    """Return ``(j, rms)`` of the largest output of ``Y`` (m, n_L) when the output activation
    named ``output`` trains on y as given and that root mean square lies outside
    :data:`UNIT_RANGE`; else None."""
    if Y.size == 0 or output in SCALED_OUTPUTS:
        return None
    rms = root_mean_square(Y)
    j = int(np.argmax(rms))
    low, high = UNIT_RANGE
    return (j, float(rms[j])) if 0 < rms[j] < low or rms[j] > high else None
