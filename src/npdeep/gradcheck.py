"""Gradient checking: backpropagation against central differences.

For each parameter ``theta_i`` the numerical derivative is the central difference
``D(eps) = (J(theta_i + eps) - J(theta_i - eps)) / (2 eps)``, refined by one Richardson step
``(4 D(eps/2) - D(eps)) / 3`` (error O(eps^4) instead of O(eps^2), so a larger ``eps`` keeps
round-off small even where deep layers' gradients are tiny). Each W[l] and b[l] gets the
relative error ``||num - bp|| / max(||num|| + ||bp||, min_scale)``. The floor ``min_scale``
(1e-6) only matters for gradients so small that round-off in the cost (about 1e-16 * J / eps)
is of their size: those are held to an absolute error below ``tolerance * min_scale``.
Computed in float64 (a float32 network is checked through a float64 copy), without dropout,
with the L2 term.

>>> import numpy as np, npdeep
>>> net = npdeep.Network([3, 5, 1], activation="tanh", seed=0)
>>> rng = np.random.default_rng(0)
>>> result = npdeep.gradient_check(net, rng.normal(size=(3, 8)), rng.random((1, 8)) > 0.5)
>>> result.passed
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import check_positive_float

__all__ = ["gradient_check", "GradientCheckResult"]


@dataclass
class GradientCheckResult:
    """Per-parameter relative errors of a gradient check, with the verdict.

    Attributes
    ----------
    errors : dict
        ``{'W1': rel_error, 'b1': ..., ...}``.
    checked : dict
        How many entries of each parameter were perturbed.
    tolerance : float
    passed : bool
        Every relative error is below ``tolerance``.
    """

    errors: dict[str, float]
    checked: dict[str, int]
    tolerance: float
    epsilon: float
    passed: bool = field(init=False)

    def __post_init__(self):
        self.passed = all(e < self.tolerance for e in self.errors.values())

    @property
    def max_error(self) -> float:
        return max(self.errors.values())

    def rows(self) -> list[dict]:
        """Return one dict per parameter: key, layer, relative error, entries checked, verdict."""
        return [
            {"parameter": k, "layer": int(k[1:]), "relative_error": e,
             "checked": self.checked[k], "passed": e < self.tolerance}
            for k, e in self.errors.items()
        ]

    def __str__(self) -> str:
        lines = [f"{'parameter':<10}{'rel. error':>14}{'checked':>10}  verdict"]
        for r in self.rows():
            verdict = "ok" if r["passed"] else "FAIL"
            lines.append(f"{r['parameter']:<10}{r['relative_error']:>14.3e}{r['checked']:>10}  "
                         f"{verdict}")
        verdict = "PASSED" if self.passed else "FAILED"
        lines.append(f"{verdict}: max relative error {self.max_error:.3e} "
                     f"(tolerance {self.tolerance:.0e}, epsilon {self.epsilon:.0e})")
        return "\n".join(lines)


def _float64_copy(net):
    if net.dtype == np.float64:
        return net
    from .network import Network

    clone = Network.from_config({**net.get_config(), "dtype": "float64", "seed": 0})
    clone.parameters = net.parameters
    return clone


def gradient_check(
    net,
    X,
    Y,
    *,
    sample_weight=None,
    epsilon: float = 1e-3,
    tolerance: float = 1e-6,
    max_checks: int | None = 200,
    min_scale: float = 1e-6,
    seed=0,
) -> GradientCheckResult:
    """Compare backpropagation's gradients with central differences of the cost.

    Parameters
    ----------
    net : Network
    X : (n_x, m) array
    Y : (n_L, m) array (or class labels (m,) for a softmax output)
    sample_weight : (m,) array, optional
    epsilon : float
        Largest perturbation of each parameter entry (``epsilon/2`` is used too).
    tolerance : float
        A parameter passes when its relative error is below this.
    max_checks : int or None
        Entries perturbed per parameter, drawn without replacement (seeded) when the parameter
        is larger; None checks every entry.
    min_scale : float
        Floor of the relative error's denominator (see the module docstring).
    seed : int or Generator
        Chooses the entries when a parameter is sampled.

    Returns
    -------
    GradientCheckResult
        Printable as a table; ``.passed`` is the verdict.
    """
    epsilon = check_positive_float(epsilon, "epsilon")
    tolerance = check_positive_float(tolerance, "tolerance")
    rng = np.random.default_rng(seed)
    net64 = _float64_copy(net)
    X = net64.check_X(X)
    Y = net64.check_Y(Y, X.shape[1])
    analytic = net64.gradients(X, Y, sample_weight)
    errors, checked = {}, {}
    for key in net64.layout.keys:
        theta = net64.parameters[key].reshape(-1)  # a view into the flat buffer
        grad = analytic["d" + key].reshape(-1)
        n = theta.size
        if max_checks is None or n <= max_checks:
            idx = np.arange(n)
        else:
            idx = np.sort(rng.choice(n, size=max_checks, replace=False))
        numeric = np.empty(idx.size)
        for j, i in enumerate(idx):
            old = theta[i]
            D = []
            for eps in (epsilon, epsilon / 2):
                theta[i] = old + eps
                J_plus = net64.cost(X, Y, sample_weight)
                theta[i] = old - eps
                J_minus = net64.cost(X, Y, sample_weight)
                D.append((J_plus - J_minus) / (2.0 * eps))
            theta[i] = old
            numeric[j] = (4.0 * D[1] - D[0]) / 3.0
        bp = grad[idx]
        denom = max(np.linalg.norm(numeric) + np.linalg.norm(bp), min_scale)
        errors[key] = float(np.linalg.norm(numeric - bp) / denom)
        checked[key] = int(idx.size)
    return GradientCheckResult(errors=errors, checked=checked, tolerance=tolerance,
                               epsilon=epsilon)
