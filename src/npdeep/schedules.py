"""Learning-rate schedules: the learning rate of each epoch, from the initial one ``lr0``.

| name        | learning rate of epoch e (counted from 0)                                  |
|-------------|----------------------------------------------------------------------------|
| constant    | lr0                                                                        |
| step        | lr0 * factor ** floor(e / step_size)                                       |
| exponential | lr0 * gamma ** e                                                           |
| cosine      | min_lr + (lr0 - min_lr) * (1 + cos(pi * min(e, T) / T)) / 2,  T = period   |
| plateau     | lr multiplied by ``factor`` when ``monitor`` has not improved by more than |
|             | ``min_delta`` for more than ``patience`` epochs (never below ``min_lr``),  |
|             | then ``cooldown`` epochs without counting                                  |

The training loop calls :meth:`Schedule.learning_rate` at the start of every epoch and
:meth:`Schedule.update` with the epoch's logs at its end, before the callbacks' ``on_epoch_end``;
a schedule that sets ``pending`` there (``plateau`` monitoring a name a callback adds to the
logs) has :meth:`Schedule.settle` called once every callback's ``on_epoch_end`` has run. Only
``plateau`` keeps state, and :meth:`Schedule.get_state` / :meth:`Schedule.set_state` carry it
through a checkpoint.
"""

from __future__ import annotations

import math

from ._registry import build, family
from ._validation import _is_finite_real, check_fraction, check_nonneg_float, check_positive_int
from .errors import ConfigurationError

__all__ = ["Schedule", "Constant", "StepDecay", "ExponentialDecay", "CosineDecay",
           "ReduceOnPlateau", "get", "NAMES"]


def _check_factor(value, name: str) -> float:
    return check_fraction(value, name, low_inclusive=False, high_inclusive=True)


class Schedule:
    """Base class: ``learning_rate(epoch, lr0)`` gives the rate of an epoch."""

    name = ""
    #: True between an :meth:`update` that could not yet read the epoch's logs and the
    #: :meth:`settle` that reads them once every callback has ended the epoch
    pending = False

    def learning_rate(self, epoch: int, lr0: float) -> float:
        raise NotImplementedError

    def update(self, epoch: int, logs: dict) -> None:
        """Observe the epoch's logs (used by stateful schedules)."""

    def settle(self) -> None:
        """Finish a ``pending`` :meth:`update` from the same logs, now complete."""

    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`'s dict."""

    def reset(self) -> None:
        """Forget what earlier training observed (a new ``fit`` starts from ``lr0``)."""

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The same learning rate every epoch."""

    name = "constant"

    def learning_rate(self, epoch, lr0):
        return lr0


class StepDecay(Schedule):
    """``lr0 * factor ** floor(epoch / step_size)``."""

    name = "step"

    def __init__(self, step_size: int = 10, factor: float = 0.5):
        self.step_size = check_positive_int(step_size, "step_size")
        self.factor = _check_factor(factor, "factor")

    def learning_rate(self, epoch, lr0):
        return lr0 * self.factor ** (epoch // self.step_size)

    def get_config(self):
        return {"name": self.name, "step_size": self.step_size, "factor": self.factor}


class ExponentialDecay(Schedule):
    """``lr0 * gamma ** epoch``."""

    name = "exponential"

    def __init__(self, gamma: float = 0.95):
        self.gamma = _check_factor(gamma, "gamma")

    def learning_rate(self, epoch, lr0):
        return lr0 * self.gamma**epoch

    def get_config(self):
        return {"name": self.name, "gamma": self.gamma}


class CosineDecay(Schedule):
    """Half a cosine from ``lr0`` down to ``min_lr`` over ``period`` epochs, then ``min_lr``.

    ``period=None`` takes the run's number of epochs (set by the training loop, so such a
    schedule gives no rate outside ``fit``). A run resumed with more ``epochs`` than it started
    with stretches the curve to the new total, so the rate rises again where it resumes; give
    ``period`` to keep one curve (the rate then stays at ``min_lr`` past it).
    """

    name = "cosine"

    def __init__(self, period: int | None = None, min_lr: float = 0.0):
        self.period = None if period is None else check_positive_int(period, "period")
        if self.period is not None and not _is_finite_real(self.period):
            # the formula divides a float by it: an int beyond float range would overflow there
            raise ConfigurationError(f"period must be an integer >= 1 within float range, got "
                                     f"{period!r:.40}...")
        self.min_lr = check_nonneg_float(min_lr, "min_lr")
        self._default_period: int | None = None

    def set_epochs(self, epochs: int) -> None:
        """Called by the training loop with the total number of epochs."""
        self._default_period = max(1, int(epochs))

    def learning_rate(self, epoch, lr0):
        T = self.period or self._default_period
        if T is None:
            raise ConfigurationError(
                "CosineDecay(period=None) decays over fit's number of epochs, unknown outside "
                "fit; give period= (in epochs) to compute its rates yourself")
        return self.min_lr + (lr0 - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * min(epoch, T)
                                                                          / T))

    def get_config(self):
        return {"name": self.name, "period": self.period, "min_lr": self.min_lr}


class ReduceOnPlateau(Schedule):
    """Multiply the learning rate by ``factor`` after more than ``patience`` epochs in a row
    without improvement of ``monitor`` (PyTorch's counting: ``patience=0`` cuts at the first
    epoch that does not improve, where Keras's ``patience=1`` does).

    Parameters
    ----------
    monitor : str
        A logged quantity (``'val_cost'`` falls back to ``'cost'`` without validation data,
        as every ``val_`` name does), or a name a callback adds to the epoch's logs in its
        ``on_epoch_end`` (as Keras's ReduceLROnPlateau callback can read one): that epoch's
        value is then observed once every callback has ended the epoch. A name that is not
        logged raises ConfigurationError at the first epoch's end.
    factor : float in (0, 1)
    patience : int >= 0
    min_delta : float >= 0
        Improvements smaller than this do not count.
    min_lr : float >= 0
    mode : {'auto', 'min', 'max'}
        Whether the monitored value should fall or rise; 'auto' maximises names ending in
        ``accuracy``, ``acc`` or ``r2`` and minimises the others (as
        :class:`~npdeep.callbacks.EarlyStopping` does), with a UserWarning for a name ending
        in neither these nor ``cost``, ``loss`` or ``error``: give ``mode='max'`` for a score
        of your own.
    cooldown : int >= 0
        Epochs after a reduction during which epochs without improvement are not counted
        (Keras's and PyTorch's ``cooldown``).

    Its state (the scale reached, the best value, the epochs waited, the cooldown left)
    starts afresh at every ``fit``; only resuming from a checkpoint restores it.
    """

    name = "plateau"

    def __init__(self, monitor: str = "val_cost", factor: float = 0.5, patience: int = 5,
                 min_delta: float = 1e-4, min_lr: float = 0.0, mode: str = "auto",
                 cooldown: int = 0):
        from .monitors import _Monitor

        self.factor = check_fraction(factor, "factor", low_inclusive=False)
        self.patience = check_positive_int(patience, "patience", minimum=0)
        self.min_delta = check_nonneg_float(min_delta, "min_delta")
        self.min_lr = check_nonneg_float(min_lr, "min_lr")
        self.cooldown = check_positive_int(cooldown, "cooldown", minimum=0)
        self.monitor, self.mode = monitor, mode
        self._tracker = _Monitor(monitor, mode, self.min_delta)
        self.reset()

    @property
    def best(self) -> float:
        return self._tracker.best

    def reset(self) -> None:
        self.scale = 1.0
        self.wait = 0
        self.cooldown_counter = 0
        self._tracker.reset()
        self._late: tuple[int, dict] | None = None

    @property
    def pending(self) -> bool:
        return self._late is not None

    def learning_rate(self, epoch, lr0):
        return max(lr0 * self.scale, self.min_lr)

    def update(self, epoch, logs):
        if not self._tracker.logged(logs):  # perhaps a callback's: read once all have run
            self._late = (epoch, logs)
            return
        self._observe(epoch, self._tracker.value(logs))

    def settle(self):
        """Observe the monitored value a callback added to the epoch's logs after
        :meth:`update` (ConfigurationError naming the logged names when none did)."""
        if self._late is None:
            return
        (epoch, logs), self._late = self._late, None
        self._observe(epoch, self._tracker.value(logs))

    def _observe(self, epoch: int, value) -> None:
        """Count the epoch's monitored ``value`` (PyTorch's ReduceLROnPlateau.step)."""
        if value is None or not math.isfinite(value):
            return
        if self._tracker.improved(value, epoch):
            self.wait = 0
        else:
            self.wait += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.wait > self.patience:
            self.scale *= self.factor
            self.wait = 0
            self.cooldown_counter = self.cooldown

    def get_state(self):
        if self.pending and self._tracker.logged(self._late[1]):
            self.settle()  # a checkpoint is written once every callback has ended the epoch
        best = self._tracker.best
        return {"scale": self.scale, "best": best if math.isfinite(best) else None,
                "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def set_state(self, state):
        """Restore :meth:`get_state`'s dict (read from a checkpoint: every entry is checked)."""
        scale, best, wait = state.get("scale", 1.0), state.get("best"), state.get("wait", 0)
        cooldown_counter = state.get("cooldown_counter", 0)  # absent from older checkpoints
        if not _is_finite_real(scale) or not 0 <= scale <= 1:  # 0: reduced past float range
            raise ConfigurationError(f"plateau state 'scale' must be a number in [0, 1], "
                                     f"got {scale!r:.80}")
        if best is not None and not _is_finite_real(best):
            raise ConfigurationError(f"plateau state 'best' must be a finite number or null, "
                                     f"got {best!r:.80}")
        for key, count in (("wait", wait), ("cooldown_counter", cooldown_counter)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ConfigurationError(f"plateau state {key!r} must be an integer >= 0, "
                                         f"got {count!r:.80}")
        self.reset()
        self.scale = float(scale)
        if best is not None:
            self._tracker.best = float(best)
        self.wait = wait
        self.cooldown_counter = cooldown_counter

    def get_config(self):
        return {"name": self.name, "monitor": self.monitor, "factor": self.factor,
                "patience": self.patience, "min_delta": self.min_delta, "min_lr": self.min_lr,
                "mode": self.mode, "cooldown": self.cooldown}


_REGISTRY: dict[str, type[Schedule]] = {
    "constant": Constant, "step": StepDecay, "exponential": ExponentialDecay,
    "cosine": CosineDecay, "plateau": ReduceOnPlateau,
}
_ALIASES = {"reduce_on_plateau": "plateau", "none": "constant"}
family("schedule", Schedule, _REGISTRY, _ALIASES)

#: The valid schedule names (alias: reduce_on_plateau for plateau).
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get(spec) -> Schedule:
    """Return a schedule from a name, a config dict, a Schedule (as is) or None (constant)."""
    if spec is None:
        return Constant()
    return build(spec, "schedule", Schedule, _REGISTRY, _ALIASES)
