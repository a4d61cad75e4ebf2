"""Gradient checking: backpropagation against central differences.

For each parameter ``theta_i`` the numerical derivative is the central difference
``D(eps) = (J(theta_i + eps) - J(theta_i - eps)) / (2 eps)``, refined by one Richardson step
``(4 D(eps/2) - D(eps)) / 3`` (error O(eps^4) instead of O(eps^2), so a larger ``eps`` keeps
round-off small even where deep layers' gradients are tiny). The steps are the exactly
representable ``(theta_i + eps) - theta_i``.

Criterion, per W[l] and b[l] (``num``, ``bp``: the k checked entries)::

    error = ||num - bp|| / max(||num|| + ||bp||, noise / tolerance, min_scale)
    noise = sqrt(k) * 3 delta / eps            passes when error < tolerance

``delta`` bounds the round-off of one float64 evaluation of J, a first-order model:
``delta = u (|J| + 1 + sum_l <|W[l]| |a[l-1]| + |b[l]|, |dZ[l]|>)`` (u = 2.2e-16; the 1 stands
for the O(1) terms a loss sums, as log-sum-exp does, the sum for the rounding of every Z[l]
weighted by how much J feels it), and ``3 delta / eps`` bounds its effect on one Richardson
estimate. So a parameter passes when its relative error is below ``tolerance``, or when the
difference is no larger than central differences can resolve (``||num - bp|| < noise``): a
well-trained network, whose gradients are near zero, is not failed for round-off, while a wrong
gradient larger than round-off still fails. Such a pass within round-off counts only where the
round-off is below ``sqrt(tolerance)`` times the norm of the parameter's own gradient (1e-3 at
the default tolerance): with a tiny ``epsilon`` (1e-12), or a first layer of a deep sigmoid
network (1e-11), the round-off of central differences exceeds a tenth of the gradient, a
derivative wrong by 1% or 2x would pass on it too, and such a parameter is reported
``inconclusive`` (verdict "round-off"), never ok; a gradient of exactly 0 found within
round-off of 0 passes. Computed in float64
(a float32 network is checked through a float64 copy of the same activation and loss objects),
without dropout, with the L2 term. An entry whose perturbation moves some pre-activation of a
relu or leaky relu layer across its kink at z = 0, or an output across a loss's kink (the mean
absolute error's at a = y), is skipped (central differences straddle a jump of the derivative
there) and counted in ``skipped``. Parameters holding NaN or inf are refused; a cost or
gradient that overflows fails the parameters it reaches (error inf, with a note).

The Richardson value still carries a truncation error of order ``eps^4`` times the cost's fifth
derivative, which a cost strongly curved at the scale of ``epsilon`` makes visible (unscaled
inputs: a feature of 30 multiplies that derivative along W[1] by 30^5). A parameter that fails
is therefore checked again with steps four times smaller (truncation falls 256 times, the
round-off bound rises 4 times, but the floor of the relative error stays that of the first
step: else a wrong gradient's error, measured against a floor four times higher, would fall
fourfold too), and again, down to ``epsilon/64``, while its error falls at least fourfold at
each step, as a truncation error does and a wrong gradient's does not. A
parameter that passes at a smaller step passes (``epsilons`` says at which); one that does not
is reported as checked at ``epsilon``.

>>> import numpy as np, npdeep
>>> net = npdeep.Network([3, 5, 1], activation="tanh", seed=0)
>>> rng = np.random.default_rng(0)
>>> result = npdeep.gradient_check(net, rng.normal(size=(3, 8)), rng.random((1, 8)) > 0.5)
>>> result.passed
True
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ._gradcheck_result import GradientCheckResult
from ._validation import check_positive_float, check_positive_int, check_seed
from .engine import forward
from .errors import ConfigurationError, DataError

__all__ = ["gradient_check", "GradientCheckResult"]

#: a parameter that fails is checked again with steps this many times smaller, and again
#: (at most _MAX_REFINE times) while its error falls as a truncation error does
_REFINE = 4
_MAX_REFINE = 3


def _float64_copy(net):
    """Return a float64 network with the same objects and values as ``net`` (any dtype).

    The activation and loss *objects* are reused (not rebuilt from their names), so a custom
    Activation or Loss is checked as the network runs it. A copy even of a float64 network:
    the check perturbs its parameters one by one, which on ``net`` itself changed what other
    threads predicted meanwhile, and two checks at once could leave a weight moved for good.
    """
    from .network import Network

    clone = Network(net.units, activation=list(net.activations[1:-1]),
                    output_activation=net.output_activation, loss=net.loss, dtype="float64",
                    l2=net.l2, seed=0)
    clone.parameters = net.parameters
    return clone


def _norm(v: np.ndarray) -> float:
    """Return ``||v||`` (v of shape (k,)) scaled by ``max |v|``: gradients near 1e200 (a huge
    ``l2``) have a finite norm whose squares overflow float64."""
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    return scale * float(np.linalg.norm(v / scale))


def _whole_cost(net, X: np.ndarray, Y: np.ndarray, coef) -> float:
    """Return J on checked X (n_x, m), Y (n_L, m) from one pass in the workspace for ``m``.

    :meth:`Network.cost` works in chunks of samples on a large X; here the workspace for
    all ``m`` samples must hold every Z[l] afterwards, for :func:`_kink_sides` to read.
    """
    ws = net.workspace(X.shape[1], train=False)
    return net.batch_cost(ws, forward(net.layers, net.activations, X, ws), Y, coef)


def _kink_sides(net, m: int, layers: list, Y: np.ndarray) -> list[np.ndarray]:
    """Return, after :func:`_whole_cost` on ``m`` samples, ``Z[l] > 0`` (n[l], m) per kinked
    layer, and ``sign(a[L] - Y)`` (n[L], m) for the entry ``"loss"`` (a loss with a kink: the
    mean absolute error at a = y).

    A hidden layer may hold ``a[l]`` over ``Z[l]``; relu and leaky relu keep the sign of z, so
    the test reads the same either way.
    """
    ws = net.workspace(m, train=False)
    return [np.sign(ws.A[net.L] - Y) if l == "loss" else ws.Z[l] > 0 for l in layers]


def _cost_round_off(net, X: np.ndarray, J: float) -> float:
    """Return ``delta``, a first-order bound on the round-off of one float64 evaluation of J.

    ``u (|J| + 1 + sum_l <|W[l]| |a[l-1]| + |b[l]|, |dZ[l]|>)``: X (n_x, m); the dZ[l] (n[l], m)
    are read from the workspace that :meth:`Network.gradients` just filled.
    """
    dZ = net.workspace(X.shape[1], train=False).dZ
    _, cache = net.forward(X)
    total = abs(J) + 1.0
    for l, (W, b) in enumerate(net.layers, start=1):
        magnitude = np.abs(W) @ np.abs(cache[f"a{l - 1}"]) + np.abs(b)
        total += float(np.vdot(magnitude, np.abs(dZ[l])))
    return float(np.finfo(np.float64).eps) * total


def _central_differences(net, X, Y, coef, theta, idx, epsilon, sides):
    """Return the Richardson estimates (k,) of ``dJ/dtheta[idx]`` from steps epsilon and
    epsilon/2, and a (k,) mask of the entries whose perturbations crossed no kink.

    ``theta`` is a flat view of one parameter, perturbed in place and restored; ``sides``
    maps each kinked layer l to ``Z[l] > 0`` (n[l], m) at the unperturbed parameters.
    """
    m = X.shape[1]
    kinked = list(sides)
    numeric = np.empty(idx.size)
    smooth = np.ones(idx.size, dtype=bool)
    for j, i in enumerate(idx):
        old = theta[i]
        D = []
        try:
            for eps in (epsilon, epsilon / 2):
                J, span = [], 0.0
                for step in (eps, -eps):
                    theta[i] = old + step
                    span += abs(float(theta[i]) - float(old))  # the step actually taken
                    J.append(_whole_cost(net, X, Y, coef))
                    if kinked and smooth[j]:
                        smooth[j] = all(np.array_equal(a, sides[l]) for a, l in
                                        zip(_kink_sides(net, m, kinked, Y), kinked,
                                            strict=True))
                D.append((J[0] - J[1]) / span)
        finally:  # also on Ctrl-C: the copy's parameters stay those of the network
            theta[i] = old
        numeric[j] = (4.0 * D[1] - D[0]) / 3.0
    return numeric, smooth


def _compare(numeric: np.ndarray, bp: np.ndarray, delta: float, epsilon: float,
             tolerance: float, min_scale: float, floor: float | None = None
             ) -> tuple[float, float, bool]:
    """Return ``(error, noise, floored)`` of the k compared entries, ``numeric`` and ``bp`` (k,).

    Each J is off by up to delta: D(eps) by delta/eps, D(eps/2) by 2 delta/eps, the
    Richardson value by (4 * 2 + 1) delta / (3 eps); ``noise`` is that bound on ``||num - bp||``.
    ``floor``: the round-off bound the denominator is floored with, ``noise`` unless given (a
    smaller step checked again keeps the floor of the first: its larger round-off must not
    let a difference pass that the first step could resolve). ``floored``: the relative error
    without the round-off floor is not below ``tolerance`` (an error below it passed on the
    floor: ``||num - bp||`` within round-off).
    """
    noise = float(np.sqrt(numeric.size) * 3.0 * delta / epsilon)
    floor = noise if floor is None else floor
    scale, difference = _norm(numeric) + _norm(bp), _norm(numeric - bp)
    denom = max(scale, floor / tolerance, min_scale)
    floored = not difference < tolerance * max(scale, min_scale)
    return (float(difference / denom) if denom > 0 else 0.0), noise, floored


def _compared_at(step, *, net64, X, Y, coef, theta, idx, bp, sides, delta, tolerance,
                 min_scale, floor=None):
    """Return ``(smooth, error, noise, floored)`` of the entries ``idx`` of ``theta`` checked with
    ``step`` against backpropagation's ``bp`` (k,); None when the step rounds away.
    ``floor``: see :func:`_compare`."""
    if np.any(theta[idx] + step / 2 == theta[idx]):
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        numeric, smooth = _central_differences(net64, X, Y, coef, theta, idx, step, sides)
    return smooth, *_compare(numeric[smooth], bp[smooth], delta, step, tolerance, min_scale,
                             floor)


def _check(net64, X, Y, coef, analytic, epsilon, tolerance, max_checks, min_scale, rng):
    """Return ``(errors, checked, skipped, round_off, epsilons, refined, entries, overflow,
    off_kinks, allowance, sizes)`` of :func:`gradient_check`, for the float64 network
    ``net64`` and checked X (n_x, m), Y (n_L, m).

    ``analytic``: backpropagation's gradients ``{'dW1': ..., ...}``; ``refined``: the keys of
    the parameters that passed only with the smaller steps; ``overflow``: those whose cost or
    gradient was NaN or inf (error inf: nothing was compared); ``off_kinks``: those compared
    with a smaller step because at ``epsilon`` every entry's perturbation crossed a kink;
    ``allowance``: per parameter, the round-off bound its difference was measured against when
    that floor decided its error (0 when its relative error did); ``sizes``: the norm of
    backpropagation's gradient over the entries compared.
    """
    m = X.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow fails the check, below
        delta = _cost_round_off(net64, X, _whole_cost(net64, X, Y, coef))
    kinked: list = [l for l in range(1, net64.L + 1) if net64.activations[l].kink]
    if net64.loss.kink:
        kinked.append("loss")
    sides = dict(zip(kinked, _kink_sides(net64, m, kinked, Y), strict=True))
    errors, checked, skipped, round_off, steps, entries = {}, {}, {}, {}, {}, {}
    allowance: dict[str, float] = {}
    sizes: dict[str, float] = {}  # ||bp|| of the entries compared
    refined: list[str] = []
    overflow: list[str] = []
    off_kinks: list[str] = []
    for key in net64.layout.keys:
        theta = net64.parameters[key].reshape(-1)  # a view into the flat buffer
        grad = analytic["d" + key].reshape(-1)
        n = entries[key] = theta.size
        if max_checks is None or n <= max_checks:
            idx = np.arange(n)
        else:
            idx = np.sort(rng.choice(n, size=max_checks, replace=False))
        stuck = theta[idx] + epsilon / 2 == theta[idx]
        if stuck.any():  # the step rounds away: central differences would divide by zero
            value = float(theta[idx[np.argmax(stuck)]])
            raise ConfigurationError(
                f"gradient_check cannot perturb {key}: it holds {value:.3g}, where a step of "
                f"epsilon/2 = {epsilon / 2:g} is below float64 precision; check a network whose "
                "weights have not diverged, or pass a larger epsilon"
            )
        step = epsilon
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow fails it, below
            numeric, smooth = _central_differences(net64, X, Y, coef, theta, idx, step, sides)
            error, noise, floored = _compare(numeric[smooth], grad[idx][smooth], delta,
                                             step, tolerance, min_scale)
        if not (np.isfinite(numeric).all() and np.isfinite(grad[idx]).all()
                and np.isfinite(delta)):
            error = math.inf  # an overflowing cost or gradient: nothing was compared
            overflow.append(key)
        at = functools.partial(_compared_at, net64=net64, X=X, Y=Y, coef=coef, theta=theta,
                               idx=idx, bp=grad[idx], sides=sides, delta=delta,
                               tolerance=tolerance, min_scale=min_scale)

        # every entry's perturbation crossed a kink (many samples, some with z near 0): smaller
        # steps cross fewer, so the first that leaves an entry to compare decides
        for _ in range(_MAX_REFINE if not smooth.any() and key not in overflow else 0):
            trial = at(step / _REFINE)
            if trial is None:
                break
            step /= _REFINE
            if trial[0].any():
                smooth, error, noise, floored = trial
                off_kinks.append(key)
                break
        # a cost strongly curved at the scale of epsilon (unscaled inputs, |Z| of 100) leaves
        # a truncation error, which falls as step^4; a wrong gradient's error does not fall
        allowance[key] = noise if floored else 0.0
        trial_step, trial_error = step, error
        for _ in range(_MAX_REFINE if not error < tolerance and key not in overflow else 0):
            # the floor stays this step's: floored by the smaller step's (4x larger) round-off,
            # a wrong gradient's error also fell fourfold, and passed at a small enough step
            trial = at(trial_step / _REFINE, floor=noise)
            if trial is None:
                break
            if trial[1] < tolerance:
                floor = noise  # what the trial's difference was measured against
                step, (smooth, error, noise, floored) = trial_step / _REFINE, trial
                allowance[key] = floor if floored else 0.0
                refined.append(key)
                break
            if not trial[1] <= trial_error / _REFINE:  # not truncation: epsilon's verdict
                break
            trial_step, trial_error = trial_step / _REFINE, trial[1]
        errors[key], round_off[key], steps[key] = error, noise, step
        sizes[key] = _norm(grad[idx][smooth])
        checked[key] = int(smooth.sum())
        skipped[key] = int(idx.size - smooth.sum())
    return (errors, checked, skipped, round_off, steps, refined, entries, overflow, off_kinks,
            allowance, sizes)


def gradient_check(
    net,
    X,
    Y,
    *,
    sample_weight=None,
    epsilon: float = 1e-3,
    tolerance: float = 1e-6,
    max_checks: int | None = 200,
    min_scale: float = 0.0,
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
        Largest perturbation of each parameter entry (``epsilon/2`` is used too; a parameter
        that fails is checked again with steps down to ``epsilon/64``, see above).
    tolerance : float
        A parameter passes when its relative error is below this; the relative error's
        denominator is floored at ``round_off / tolerance``, so a difference within the
        round-off of central differences passes (see the module docstring).
    max_checks : int >= 1 or None
        Entries perturbed per parameter, drawn without replacement (seeded) when the parameter
        is larger; None checks every entry. Entries whose perturbation crosses a kink of relu
        or leaky relu (a pre-activation changes sign), or of the mean absolute error (an output
        crosses its target), are skipped and counted.
    min_scale : float >= 0
        An extra fixed floor of the relative error's denominator (0: only the round-off one).
    seed : int or Generator
        Chooses the entries when a parameter is sampled.

    Returns
    -------
    GradientCheckResult
        Printable as a table; ``.passed`` is the verdict.

    Raises
    ------
    ConfigurationError
        For bad options, or a checked entry so large that ``epsilon / 2`` does not change it.
    DataError
        For bad X, Y or sample_weight, or parameters holding NaN or inf.
    """
    from .network import Network

    if not isinstance(net, Network):
        raise ConfigurationError(
            f"gradient_check needs an npdeep Network, got {type(net).__name__}; for an "
            "estimator pass its network_ and X.T (features x samples)"
        )
    epsilon = check_positive_float(epsilon, "epsilon")
    tolerance = check_positive_float(tolerance, "tolerance")
    if isinstance(min_scale, bool) or not isinstance(min_scale, numbers.Real) \
            or not np.isfinite(min_scale) or min_scale < 0:
        raise ConfigurationError(f"min_scale must be a finite number >= 0, got {min_scale!r}")
    if max_checks is not None:
        max_checks = check_positive_int(max_checks, "max_checks")
    rng = np.random.default_rng(check_seed(seed, "seed", generator_ok=True))
    for key, value in net.parameters.items():  # a NaN made every norm NaN: "error 0, ok"
        if not np.isfinite(value).all():
            raise DataError(f"gradient_check needs finite parameters: {key!r} contains NaN or "
                            "inf (did training diverge?)")
    if net.dtype != np.float64:  # the data this network itself trains on, not the copy's
        net.check_X(X)
    net64 = _float64_copy(net)
    X = net64.check_X(X)
    m = X.shape[1]
    Y = net64.check_Y(Y, m)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow fails the check
        analytic = net64.gradients(X, Y, sample_weight)
        coef = net64.sample_coef(m, sample_weight)
    try:
        result = _check(net64, X, Y, coef, analytic, epsilon, tolerance, max_checks,
                        min_scale, rng)
    finally:
        net64.release_inputs()  # the workspaces must not keep X alive
    errors, checked, skipped, round_off, steps, refined, entries, overflow, off_kinks, \
        allowance, sizes = result
    # a difference within round-off says nothing of a gradient error smaller than that
    # round-off: a pass on it counts only where the round-off is below sqrt(tolerance) of the
    # parameter's own gradient (1e-3 at the default: an error of 0.1% of it still shows); a
    # deep sigmoid network's ||dW1|| of 1e-11, below its round-off, passed doubled. A gradient
    # of exactly 0 that central differences find within round-off of 0 passes (two samples on
    # either side of the mean absolute error's kink, a layer of dead units)
    blurred = [k for k, bound in allowance.items()
               if errors[k] < tolerance and sizes[k] > 0
               and bound > math.sqrt(tolerance) * sizes[k]]
    notes = []
    if net.dtype != np.float64:
        notes.append(f"checked on a float64 copy of this {net.dtype.name} network (same "
                     "parameters, activations and loss)")
    if any(net.dropout):
        notes.append("dropout off: the check differentiates the cost without dropout masks")
    if refined:
        at = ", ".join(f"{k} at {steps[k]:g}" for k in refined)
        notes.append(f"checked again with smaller steps ({at}): at epsilon the truncation "
                     "error of central differences, which falls as step^4, exceeded the "
                     "tolerance (a cost strongly curved at the scale of epsilon, as with "
                     "unscaled inputs, or an activation whose curvature jumps at 0 within "
                     "epsilon of a pre-activation, as elu's)")
    if off_kinks:
        at = ", ".join(f"{k} at {steps[k]:g}" for k in off_kinks)
        notes.append(f"checked with smaller steps ({at}): at epsilon every entry's "
                     "perturbation moved some sample's pre-activation across a kink")
    if blurred:
        ways = (["with a larger epsilon (the default 1e-3)"]
                if any(steps[k] < 1e-3 for k in blurred) else [])
        ways.append("where the gradient is not near zero (before training, other samples, "
                    "fewer layers)")
        notes.append(f"round-off: central differences cannot see a difference below "
                     f"{max(allowance[k] for k in blurred):.1e} in "
                     f"{', '.join(f'{k} (||d{k}|| {sizes[k]:.1e})' for k in blurred)}, more "
                     f"than sqrt(tolerance) = {math.sqrt(tolerance):.0e} of that gradient, so a "
                     f"wrong gradient of that size would pass: check {' or '.join(ways)}")
    if overflow:
        notes.append(f"the cost or its gradient is NaN or inf here ({', '.join(overflow)} "
                     "failed for it): check on smaller inputs or weights")
    return GradientCheckResult(errors=errors, checked=checked, tolerance=tolerance,
                               epsilon=epsilon, skipped=skipped, round_off=round_off,
                               notes=notes, entries=entries, epsilons=steps,
                               inconclusive=blurred)
