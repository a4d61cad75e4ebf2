"""Why a deep network does not learn: saturation, dead units, vanishing gradients, stuck cost.

:func:`diagnose` looks at a trained (or untrained) network on a sample of data and reports,
per hidden layer l, the share of saturated activations (sigmoid, tanh) or dead units (relu),
the gradient norm ``||dW[l]||`` and the ratio ``||dW[1]|| / ||dW[L]||`` across depth. It
flags training as **stuck** when the cost sits at the entropy of the class prior (the cost
of predicting the class frequencies for every sample, which a network reaches by ignoring
its input; with a history, only after 5 epochs or more) or when the first layers' gradients
have vanished; it flags training as **diverged** when the cost ended far above where it
began, or the gradients are no longer finite. Each verdict comes with the likely causes and
fixes in plain words.

>>> import numpy as np, npdeep
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(4, 64)), (rng.random(64) > 0.5).astype(float)
>>> net = npdeep.Network([4, 4, 4, 4, 1], activation="sigmoid", init="article", seed=0)
>>> history = net.fit(X, y, epochs=300, learning_rate=0.01)   # the article's plain GD
>>> history.diagnosis.stuck
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .engine import backward, forward
from .errors import ConfigurationError

__all__ = ["diagnose", "Diagnosis", "prior_entropy"]

SATURATION = {"sigmoid": 0.02, "tanh": 0.02}  # |a - bound| below this counts as saturated
PRIOR_TOLERANCE = 0.02   # cost within 2% of the prior entropy counts as "at the prior"
VANISHING_RATIO = 1e-3   # ||dW[1]|| / ||dW[L]|| below this counts as vanishing
DIVERGENCE_FACTOR = 10.0  # a last epoch's cost above this many times the first's: diverged
PRIOR_EPOCHS = 5  # a history of fewer epochs is too short to say the cost sits at the prior
PRIOR_UPDATES = 50  # ... unless it took this many gradient steps (mini-batches)


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def prior_entropy(net, Y: np.ndarray) -> float | None:
    """Return the cost of predicting the class frequencies for ``Y`` (n_L, m), or None for
    regression: ``-sum_k p_k log p_k`` (binary: ``-(p log p + (1-p) log(1-p))``).

    None also for a cross-entropy-free classifier (sigmoid or softmax with mean squared
    error): its cost is not in nats, and the entropy says nothing about it.
    """
    if net.loss.name not in ("binary_crossentropy", "categorical_crossentropy"):
        return None
    name = net.output_activation.name
    if name == "softmax":
        p = Y.mean(axis=1)
    elif name == "sigmoid":
        q = Y.mean(axis=1)
        return float(sum(_h(np.array([v, 1.0 - v])) for v in q))
    else:
        return None
    return float(_h(p))


def _h(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


@dataclass
class Diagnosis:
    """What :func:`diagnose` found.

    Attributes
    ----------
    layers : list of dict
        One per layer l = 1..L: ``layer``, ``activation``, ``units``, ``saturated`` (share of
        activations at the flat ends of sigmoid/tanh, or None), ``dead`` (share of relu units
        that output 0 for every sample, or None), ``gradient_norm`` (``||dW[l]||``).
    gradient_ratio : float
        ``||dW[1]|| / ||dW[L]||``; far below 1 means vanishing gradients.
    cost : float
        The cost of the final weights on the data diagnosed (without the L2 term): ``fit``'s
        diagnosis takes up to 512 training samples after the last update, so it differs from
        the last epoch's logged cost (measured during the epoch, L2 term included).
    prior_entropy : float or None
    stuck : bool
        The cost sits at the class prior's entropy, or the first layers' gradients vanished.
    diverged : bool
        The cost of the last epoch is over ``DIVERGENCE_FACTOR`` times the first epoch's (or
        not finite), or a gradient norm is not finite: the steps are too large.
    reasons, warnings : list of str
        Why it looks stuck or diverged; plain-words warnings with causes and fixes.
    """

    layers: list = field(default_factory=list)
    gradient_ratio: float = float("nan")
    cost: float = float("nan")
    prior_entropy: float | None = None
    stuck: bool = False
    diverged: bool = False
    reasons: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{'layer':>5} {'activation':<11}{'units':>6}{'saturated':>11}{'dead':>7}"
                 f"{'||dW||':>11}"]
        for r in self.layers:
            sat = "-" if r["saturated"] is None else f"{r['saturated']:.0%}"
            dead = "-" if r["dead"] is None else f"{r['dead']:.0%}"
            lines.append(f"{r['layer']:>5} {r['activation']:<11}{r['units']:>6}{sat:>11}"
                         f"{dead:>7}{r['gradient_norm']:>11.2e}")
        lines.append(f"gradient ratio ||dW[1]|| / ||dW[L]|| = {self.gradient_ratio:.2e}")
        prior = "" if self.prior_entropy is None else \
            f" (entropy of the class prior {self.prior_entropy:.4f})"
        lines.append(f"cost {_number(self.cost)}{prior}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"layers": self.layers, "gradient_ratio": self.gradient_ratio, "cost": self.cost,
                "prior_entropy": self.prior_entropy, "stuck": self.stuck,
                "diverged": self.diverged,
                "reasons": list(self.reasons), "warnings": list(self.warnings)}


def _number(value: float) -> str:
    """Four decimals for a cost of everyday size, four digits for a tiny or huge one."""
    return f"{value:.4f}" if 1e-3 <= abs(value) < 1e5 else f"{value:.4g}"


def _layer_rows(net, As, grads) -> list[dict]:
    """One row per layer l = 1..L from a[l] = ``As[l]`` (n[l], m) and ``grads[l-1]`` =
    (dW[l], db[l])."""
    rows = []
    for l in range(1, net.L + 1):
        g = net.activations[l].name
        A = As[l]
        saturated = dead = None
        if g == "sigmoid" and l < net.L:
            eps = SATURATION[g]
            saturated = float(np.mean((A < eps) | (A > 1.0 - eps)))
        elif g == "tanh" and l < net.L:
            saturated = float(np.mean(np.abs(A) > 1.0 - SATURATION[g]))
        elif g == "relu" and l < net.L:
            dead = float(np.mean(~(A > 0).any(axis=1)))
        rows.append({"layer": l, "activation": g, "units": net.units[l], "saturated": saturated,
                     "dead": dead, "gradient_norm": float(np.linalg.norm(grads[l - 1][0]))})
    return rows


def _causes(net, history, rows) -> list[str]:
    causes = []
    if net.init in ("article", "normal"):
        what = "all-positive uniform [0, 1)" if net.init == "article" else "tiny (std 0.01)"
        causes.append(f"initialization: init={net.init!r} draws {what} weights, which push "
                      "deep layers to the same output for every sample; use init='glorot' "
                      "(sigmoid/tanh) or 'he' (relu)")
    hidden = {r["activation"] for r in rows[:-1]}
    if "sigmoid" in hidden and net.L >= 3:
        causes.append("activation: sigmoid hidden layers scale gradients by at most 0.25 per "
                      "layer, so they vanish with depth; use activation='relu' or 'tanh'")
    if any((r["saturated"] or 0) > 0.5 for r in rows):
        causes.append("saturation: over half the activations of some layer sit at the flat "
                      "ends of the activation, where the derivative is ~0")
    if any((r["dead"] or 0) > 0.5 for r in rows):
        causes.append("dead units: over half the relu units of some layer never activate; "
                      "lower the learning rate or use leaky_relu")
    opt = getattr(history, "optimizer_name", None)
    lr = getattr(history, "initial_learning_rate", None)
    if opt in (None, "sgd"):
        small = f" with learning rate {lr:g}" if lr is not None else ""
        causes.append(f"optimizer: plain gradient descent{small} barely moves a flat cost; "
                      "use optimizer='adam' (or a larger learning_rate)")
    return causes


def diagnose(net, X, Y, history=None, *, updates: int | None = None) -> Diagnosis:
    """Diagnose ``net`` on ``X`` (n_x, m) and ``Y`` (n_L, m, or labels (m,)).

    Parameters
    ----------
    history : History, optional
        The training history: the cost's trend is taken into account when present. With a
        history of fewer than ``PRIOR_EPOCHS`` (5) epochs and fewer than ``PRIOR_UPDATES``
        (50) ``updates`` (the optimizer's steps; unknown counts as few), a cost at the class
        prior's entropy, where every network starts, is not called stuck; without a history
        it is.
    updates : int, optional
        The gradient steps taken (``fit`` passes its optimizer's count): three epochs of 188
        mini-batches have trained enough to be judged.

    Returns
    -------
    Diagnosis
        Printable; ``.stuck``, ``.reasons`` and ``.warnings`` hold the verdict in words.
    """
    from .network import Network

    if not isinstance(net, Network):
        raise ConfigurationError(
            f"diagnose needs an npdeep Network, got {type(net).__name__}; for an estimator "
            "pass its network_ and X.T (features x samples)"
        )
    X = net.check_X(X)
    m = X.shape[1]
    Y = net.check_Y(Y, m)
    # one forward pass serves the activations, the cost and backpropagation (three passes,
    # with fresh arrays for one of them, took 15% of a one-epoch fit of 784-4096-10)
    ws = net.workspace(m, train=False)
    A_L = forward(net.layers, net.activations, X, ws)
    cost = net.loss.cost(A_L, Y, 1.0 / m, ws.Z[net.L] if net.fused else None, ws.loss_work)
    backward(net.layers, net.activations, net.loss, ws, Y, 1.0 / m, net.grad_layers, net.fused)
    net.add_l2_gradient(m)
    rows = _layer_rows(net, ws.A, net.grad_layers)
    # a relu output that is 0 for every sample has a zero gradient: nothing revives it
    dead_outputs = ([k for k in range(A_L.shape[0]) if not (A_L[k] > 0).any() and (Y[k] > 0).any()]
                    if net.output_activation.name == "relu" else [])
    net.release_inputs()
    first, last = rows[0]["gradient_norm"], rows[-1]["gradient_norm"]
    ratio = first / last if last > 0 else (math.inf if first > 0 else float("nan"))
    diag = Diagnosis(layers=rows, gradient_ratio=ratio, cost=float(cost),
                     prior_entropy=prior_entropy(net, Y))
    logged = (getattr(history, "history", {}) or {}).get("cost", [])
    costs = [c for c in logged if c is not None and math.isfinite(c)]
    moved = len(costs) >= 2 and abs(costs[0] - costs[-1]) > PRIOR_TOLERANCE * abs(costs[0])
    H = diag.prior_entropy
    # every network starts near the prior's entropy: with a history, only a run of
    # PRIOR_EPOCHS epochs or more can be said to sit there (one epoch was flagged stuck)
    early = history is not None and len(logged) < PRIOR_EPOCHS and (updates or 0) < PRIOR_UPDATES
    if H is not None and H > 0 and abs(cost - H) <= PRIOR_TOLERANCE * H and not early:
        held = len(costs)
        diag.reasons.append(
            f"the cost of the final weights, {cost:.4f} on the {m} sample{_s(m)} diagnosed "
            f"(without the L2 term), sits at {H:.4f}, the entropy of the class prior: the "
            "network predicts the class frequencies for every sample, ignoring its input"
            + ("" if moved or not costs else
               f", and the epochs' cost has held there for {held} epoch{_s(held)}"))
    if dead_outputs:
        which = (f"output {dead_outputs[0]} is" if len(dead_outputs) == 1
                 else f"outputs {dead_outputs} are")
        diag.reasons.append(
            f"dead output: the relu {which} 0 for every sample diagnosed, where the targets are "
            "not, and its gradient is 0, so training cannot revive it; use "
            "output_activation='leaky_relu' or 'identity', init='glorot', or a smaller "
            "learning rate")
    if net.L >= 2 and ratio < VANISHING_RATIO:
        diag.reasons.append(
            f"vanishing gradients: ||dW[1]|| / ||dW[L]|| = {ratio:.1e}, the first layers "
            "barely receive any gradient")
    if diag.reasons:
        diag.stuck = True
        causes = _causes(net, history, rows)
        text = "training looks stuck: " + "; ".join(diag.reasons) + "."
        if causes:
            text += " Likely causes and fixes: " + " | ".join(causes) + "."
        diag.warnings.append(text)
    rose = _divergence(history, rows, cost, net, Y)
    if rose:
        diag.diverged = True
        diag.reasons.append(rose)
        lr = getattr(history, "initial_learning_rate", None)
        rate = f" ({lr:g} now)" if lr is not None else ""
        diag.warnings.append(
            f"training diverged: {rose}. The steps are too large: lower learning_rate{rate} "
            "tenfold, or bound the steps with clip_norm; inputs far from unit size need "
            "standardizing (scikit-learn's StandardScaler; npdeep train does it).")
    return diag


def cost_rise(costs) -> str:
    """Say how the epochs' ``costs`` rose if the last is not finite or over
    ``DIVERGENCE_FACTOR`` times the first; else ''."""
    values = [c for c in costs if c is not None]
    if values and math.isfinite(values[0]):  # NaN at the first epoch is TerminateOnNaN's
        first, last = values[0], values[-1]
        if not math.isfinite(last):
            return f"the cost went from {_number(first)} in the first epoch to {last} (not finite)"
        if first > 0 and last > DIVERGENCE_FACTOR * first:
            return (f"the cost rose from {_number(first)} in the first epoch to "
                    f"{_number(last)} in the last ({last / first:.3g} times higher)")
    return ""


def _uniform_cost(net) -> float:
    """The cross-entropy of predicting every class alike: ``log K`` for a softmax of K
    classes, ``n_L log 2`` for n_L sigmoid outputs (where a fresh network starts)."""
    n_L = net.units[-1]
    return math.log(n_L) if net.output_activation.name == "softmax" else n_L * math.log(2.0)


_CROSS_ENTROPIES = ("binary_crossentropy", "categorical_crossentropy")


def constant_cost(net, Y: np.ndarray, coef) -> tuple[float | None, str]:
    """Return the cost of a constant prediction for targets ``Y`` (n_L, m) and what it is:
    for a cross-entropy classifier, every class alike (``log K``; where a fresh network
    starts), else each output's (weighted: ``coef`` (1, m), or ``1/m``) mean of ``Y``
    through the network's loss. ``(None, '')`` when it cannot be computed."""
    if net.loss.name in _CROSS_ENTROPIES:
        if net.output_activation.name not in ("softmax", "sigmoid"):
            return None, ""
        return _uniform_cost(net), "predicting every class alike"
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2 or not Y.size:
        return None, ""
    mean = (Y * coef).sum(axis=1) if np.ndim(coef) else Y.mean(axis=1)
    A = np.repeat(mean[:, None], Y.shape[1], axis=1)
    try:
        with np.errstate(all="ignore"):
            value = float(net.loss.cost(A, Y, coef))
    except (ArithmeticError, ValueError, TypeError):
        return None, ""
    return (value, "predicting the targets' mean") if math.isfinite(value) else (None, "")


def thrown_far(cost, baseline: tuple[float | None, str]) -> str:
    """Say how far ``cost`` (None: unknown) lies above ``baseline``, the cost of a constant
    prediction and what it is (:func:`constant_cost`), if over ``DIVERGENCE_FACTOR`` times
    it; else ''.

    A first epoch already thrown far (adam at a learning rate of 1e6: a cost of 1.9e21,
    falling to 2.4e4 by the tenth, at chance accuracy) never rises above it."""
    U, what = baseline
    if cost is None or U is None or not U > 0:
        return ""
    if not (math.isfinite(cost) and cost > DIVERGENCE_FACTOR * U):
        return ""
    return (f"the final cost, {_number(cost)}, is {cost / U:.3g} times "
            f"{_number(U)}, the cost of {what}")


def _divergence(history, rows, cost: float, net, Y: np.ndarray) -> str:
    """Why training diverged (the cost rose, the final cost lies far above that of a
    constant prediction for ``Y`` (n_L, m), or the gradients are not finite), or ''."""
    rose = cost_rise((getattr(history, "history", {}) or {}).get("cost", ()))
    if rose or (rose := thrown_far(cost, constant_cost(net, Y, 1.0 / Y.shape[1]))):
        return rose
    # a sum of norms (each >= 0) is finite when every norm is, NaN or inf when one is not
    if not math.isfinite(sum([r["gradient_norm"] for r in rows]) + cost):
        return "the cost or the gradients ||dW[l]|| of the final weights are not finite"
    return ""
