"""What EarlyStopping, ModelCheckpoint and the plateau schedule share: the best value of a
logged quantity so far (:class:`_Monitor`), whether it rises or falls, and which weights it
measured."""

from __future__ import annotations

import math
import numbers
import warnings

from ._validation import caller_level
from .errors import ConfigurationError

#: what mode='auto' maximises and minimises, by the end of the monitored name
_MAXIMISED = ("accuracy", "acc", "r2")  # acc: Keras's name, logged by a callback
_MINIMISED = ("cost", "loss", "error")


def _with_monitor(cb, args: dict, default: str) -> dict:
    """``args`` with ``monitor`` and ``mode`` (kept in ``cb.tracker``) unless defaults."""
    t = cb.tracker
    if t.monitor != default:
        args = {"monitor": t.monitor, **args}
    if t.given_mode != "auto":
        args["mode"] = t.given_mode
    return args


class _Monitor:
    """Track the best value of a logged quantity (``mode`` 'min', 'max' or 'auto')."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        if not isinstance(monitor, str) or not monitor:
            raise ConfigurationError(f"monitor must be a logged name like 'val_cost', got "
                                     f"{monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ConfigurationError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.given_mode = mode  # as the user gave it (a repr shows it)
        if mode == "auto":
            if not monitor.endswith(_MAXIMISED + _MINIMISED):  # a name of the user's own
                warnings.warn(
                    f"mode='auto' cannot tell whether monitor {monitor!r} should fall or rise "
                    f"(it maximises names ending in {', '.join(_MAXIMISED)}, minimises "
                    f"those ending in {', '.join(_MINIMISED)}): {monitor!r} is minimised; give "
                    "mode='min', or mode='max' for a score", UserWarning,
                    stacklevel=caller_level())
            mode = "max" if monitor.endswith(_MAXIMISED) else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, min_delta
        self.reset()

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.used: str | None = None

    def logged(self, logs: dict) -> bool:
        """Whether ``logs`` holds the monitored name (or, for ``val_x``, ``x``)."""
        return self.monitor in logs or \
            (self.monitor.startswith("val_") and self.monitor[4:] in logs)

    def value(self, logs: dict, in_order: bool = False):
        """Return the monitored value; ``val_x`` falls back to ``x`` without validation data.

        ``in_order``: the caller reads ``logs`` in its own ``on_epoch_end``, before the
        callbacks listed after it: a missing name's message says so.
        """
        if self.monitor in logs:
            self.used = self.monitor
        elif self.monitor.startswith("val_") and self.monitor[4:] in logs:
            self.used = self.monitor[4:]
        else:
            raise ConfigurationError(
                f"monitor {self.monitor!r} is not logged; logged names: "
                f"{[k for k in logs if k != 'gradient_norms']}"
                f"{_keras_hint(self.monitor, logs) or _order_hint(in_order)}"
            )
        value = logs[self.used]
        try:
            if value is not None:  # None: a NaN read back from JSON
                float(value)
        except (TypeError, ValueError):
            numeric = [k for k, v in logs.items() if isinstance(v, numbers.Real)]
            raise ConfigurationError(
                f"monitor {self.monitor!r} logs {type(value).__name__} values, not one number "
                f"per epoch; monitor one of {numeric}"
            ) from None
        return value

    def improved(self, value, epoch: int) -> bool:
        if value is None or not math.isfinite(value):
            return False
        better = (value < self.best - self.min_delta) if self.mode == "min" else \
            (value > self.best + self.min_delta)
        if better:
            self.best, self.best_epoch = float(value), epoch
        return better


def _keras_hint(monitor: str, logs: dict) -> str:
    """``"; did you mean 'val_cost'?"`` for a Keras name (``val_loss``, ``acc``) whose npdeep
    name is logged; else ``""``."""
    guess = monitor.replace("loss", "cost")
    if guess.endswith("acc"):
        guess += "uracy"
    if guess != monitor and (guess in logs or guess.startswith("val_") and guess[4:] in logs):
        return f"; did you mean {guess!r} (npdeep's name for it)?"
    return ""


def _order_hint(in_order: bool) -> str:
    """The hint for a name a callback of the user's may add to ``logs`` after the reader."""
    if not in_order:
        return ""
    return ("; a name your own callback adds to logs must come from a callback listed before "
            "this one in callbacks")


def _measured_before_update(trainer, tracker: _Monitor) -> bool:
    """Whether the monitored value describes the state at the epoch's start (full batch, a
    training value); until the first epoch's end the name used is unknown: assume so."""
    used = tracker.used
    return bool(getattr(trainer, "full_batch", False)) and \
        (used is None or not used.startswith("val_"))
