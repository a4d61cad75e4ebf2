"""One training step, and the state that persists across the steps of a run.

:class:`Trainer` runs forward propagation, the cost, backpropagation, the gradient norm (for
clipping and the NaN guard) and the optimizer's update on one batch, and holds the optimizer,
schedule, random generator, epoch counter and stop flag that the loop in
:mod:`npdeep.training` and the callbacks share.
"""

from __future__ import annotations

import math

import numpy as np

from . import schedules as _schedules
from ._validation import check_nonneg_float
from .engine import backward, forward
from .errors import ConfigurationError
from .splits import Metric

__all__ = ["Trainer", "NAN_ADVICE"]

#: The advice that ends the reason of a stop on NaN or inf gradients.
NAN_ADVICE = "Try a smaller learning_rate, clip_norm, or standardized inputs"

# largest gradient whose per-layer norms use one (size,) buffer of squares; a larger one is
# summed a layer at a time, so that no fit allocates a buffer as large as the parameters
# (fresh memory costs page faults at every fit: see Network.weight_copies)
_SQUARES_MAX = 1 << 16


def _checked_rate(value, name: str) -> float:
    """Return a rate a callback or schedule set as float, or raise unless finite and >= 0.

    Checked here, where callbacks write it: a negative rate would climb the cost, a string
    would fail deep in the optimizer's arithmetic.
    """
    if type(value) is float and 0.0 <= value < math.inf:  # every epoch's schedule value
        return value
    try:
        return check_nonneg_float(value, f"trainer.{name}")
    except ConfigurationError as exc:
        raise ConfigurationError(f"{exc} (as a callback or schedule set it)") from None


class Trainer:
    """Holds what persists across epochs: optimizer, schedule, rng, epoch, stop flag.

    Attributes
    ----------
    learning_rate : float
        The current epoch's rate (set from the schedule at each epoch start).
    initial_learning_rate : float
        ``lr0``, from which the schedule computes each epoch's rate. A callback may change it
        to move the rate of the epochs to come (a checkpoint saves the changed value).
    stop_training : bool
        Set by a callback (or the NaN guard) to end training: set in a batch hook it ends the
        epoch after that batch (``on_epoch_end`` still runs), else after the current epoch.
    stop_reason : str or None
        Why training stopped early, in plain words.
    callbacks : list of Callback
        The run's callbacks, History first (a checkpoint saves the EarlyStoppings' state).
    full_batch : bool
        Whether every epoch is one step on the whole training set (``batch_size`` None or
        ``>= m``); its ``cost`` and metric then describe the weights at the epoch's start.
    """

    def __init__(self, net, optimizer, learning_rate: float, schedule=None, clip_norm=None,
                 rng=None, config=None):
        self.net = net
        self.optimizer = optimizer
        self.initial_learning_rate = learning_rate
        self.learning_rate = learning_rate
        self.schedule = schedule if schedule is not None else _schedules.Constant()
        self.clip_norm = clip_norm
        self.rng = rng
        self.config = dict(config or {})
        self.epoch = 0
        self.batch = 0
        self.stop_training = False
        self.stop_reason: str | None = None
        self.nan_stop = False  # stopped on NaN/inf: a gradient, or a cost (TerminateOnNaN)
        self.full_batch = False
        self.gradient_norms: list[float] | None = None
        self.gradient_norm = 0.0
        self.diagnosis = None
        self.history = None
        #: set by the estimators' fit: ``{"estimator": class name, "classes": [...]}`` or
        #: ``{"estimator": ..., "standardized_targets": bool}``; a checkpoint records it
        self.estimator = None
        self.callbacks: list = []  # the run's callbacks (a checkpoint saves EarlyStopping's)
        L = net.layout
        # layer l's parameters W[l], b[l] are one contiguous run of the flat buffer
        starts = [L.slices[f"W{l}"].start for l in range(1, net.L + 1)]
        self._layer_starts = np.array(starts)
        self._layer_slices = [slice(a, b) for a, b in zip(starts, [*starts[1:], L.size],
                                                          strict=True)]
        self._squares = None

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._learning_rate = _checked_rate(value, "learning_rate")

    @property
    def initial_learning_rate(self) -> float:
        return self._initial_learning_rate

    @initial_learning_rate.setter
    def initial_learning_rate(self, value) -> None:
        self._initial_learning_rate = _checked_rate(value, "initial_learning_rate")

    def record_gradient_norms(self) -> float:
        """Store ``||(dW[l], db[l])||`` per layer (before the update); return ``||g||^2``.

        The squares may overflow (inf is returned): :meth:`rescaled_norm` then takes over.
        """
        g = self.net.grad_flat
        if g.size > _SQUARES_MAX:
            per_layer = np.array([np.dot(g[s], g[s]) for s in self._layer_slices])
        else:
            if self._squares is None or self._squares.shape != g.shape:
                self._squares = np.empty_like(g)
            sq = np.multiply(g, g, out=self._squares)
            per_layer = np.add.reduceat(sq, self._layer_starts)
        self.gradient_norms = np.sqrt(per_layer).tolist()
        return float(per_layer.sum())

    def rescaled_norm(self, record: bool) -> tuple[float, float] | None:
        """Return ``(s, ||g / s||)`` with ``s = max |g|`` (``||g|| = s ||g / s||``); None when
        ``g`` holds NaN or inf.

        For a finite gradient whose squared norm overflows (``||g||`` past about 1.8e19 in
        float32): the step's plain ``g . g`` is inf there, though clipping can rescale ``g``.
        With ``record``, the per-layer norms are recomputed the same way.
        """
        g = self.net.grad_flat
        if not np.isfinite(g).all():
            return None
        s = float(np.max(np.abs(g)))
        u = g.astype(np.float64)
        u /= s                                       # |u| <= 1: its squares cannot overflow
        per_layer = np.add.reduceat(np.square(u, out=u), self._layer_starts)
        if record:
            self.gradient_norms = (s * np.sqrt(per_layer)).tolist()
        return s, math.sqrt(float(per_layer.sum()))

    def nan_stop_reason(self, cost: float) -> str:
        """Say why training stopped on a NaN/inf gradient, given the batch's ``cost``."""
        where = f"the gradients became NaN or inf at epoch {self.epoch + 1}, batch {self.batch + 1}"
        advice = NAN_ADVICE
        top = float(np.abs(self.net.parameters.flat).max())
        if not math.isfinite(top):  # TerminateOnNaN restores finite weights at the epoch's end
            return (f"{where}, after an update had made the weights themselves NaN or inf; "
                    f"training stopped and the last finite weights restored (from the end of "
                    f"an earlier epoch, or the start). {advice}")
        if math.isfinite(cost):
            return f"{where}; that update was skipped and the last good weights kept. {advice}"
        return (f"{where}; that update was skipped and the last finite weights kept, but their "
                f"cost on this batch was already {cost} (parameters up to {top:.1e} in "
                f"absolute value): predictions from them may not be finite either. {advice}")

    def step(self, A0, Y, coef, metric: Metric | None = None, record: bool = False) -> float:
        """Run one forward/backward/update step on a batch; return its cost (before update).

        A0 : (n_x, m), Y : (n_L, m), coef : ``1/m`` or (1, m) normalised sample weights.
        When the gradient is not finite the update is skipped and training stops.
        """
        net = self.net
        m = A0.shape[1]
        ws = net.workspace(m, train=True)
        keep = net.keep
        A_L = forward(net.layers, net.activations, A0, ws, keep=keep, rng=self.rng)
        cost = net.batch_cost(ws, A_L, Y, coef)
        if metric is not None:
            metric.add(A_L, Y, ws)
        backward(net.layers, net.activations, net.loss, ws, Y, coef, net.grad_layers,
                 net.fused, dropout=keep is not None)
        net.add_l2_gradient(m)
        g = net.grad_flat
        try:  # no np.errstate here: it would cost every step more than the dot itself
            gsq = self.record_gradient_norms() if record else float(np.dot(g, g))
        except FloatingPointError:  # an overflow under np.errstate(over="raise")
            gsq = math.inf
        scale = None
        if math.isfinite(gsq):
            norm = math.sqrt(gsq)
        else:  # NaN/inf in g, or finite values whose squares overflow
            rescaled = self.rescaled_norm(record)
            if rescaled is None:
                self.stop_training = self.nan_stop = True
                self.stop_reason = self.nan_stop_reason(cost)
                return cost
            scale, unit_norm = rescaled
            norm = scale * unit_norm
        self.gradient_norm = norm
        if self.clip_norm is not None and norm > self.clip_norm:
            if scale is not None:  # clip_norm / norm may be subnormal, norm itself inf
                g /= scale
                norm = unit_norm
            g *= self.clip_norm / norm
        self.optimizer.step(net.parameters.flat, g, self._learning_rate)
        return cost
