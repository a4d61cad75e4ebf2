"""Callbacks that watch a logged quantity: early stopping and checkpoints (the log writers
live in :mod:`npdeep.loggers` and are re-exported here).

All follow the protocol of :mod:`npdeep.callbacks` (and are importable from there).
"""

from __future__ import annotations

import math
import numbers
import os
import warnings

import numpy as np

from ._validation import (
    _is_finite_real,
    caller_level,
    check_flag,
    check_nonneg_float,
    check_positive_int,
)
from .callbacks import Callback, keep_copy
from .errors import ConfigurationError, ModelFileError
from .loggers import CSVLogger, JSONLogger, check_folder

__all__ = ["EarlyStopping", "ModelCheckpoint", "CSVLogger", "JSONLogger"]



def _epochs(n: int) -> str:
    """Return ``"1 epoch"`` or ``"n epochs"``."""
    return f"{n} epoch{'' if n == 1 else 's'}"


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

    def value(self, logs: dict):
        """Return the monitored value; ``val_x`` falls back to ``x`` without validation data."""
        if self.monitor in logs:
            self.used = self.monitor
        elif self.monitor.startswith("val_") and self.monitor[4:] in logs:
            self.used = self.monitor[4:]
        else:
            raise ConfigurationError(
                f"monitor {self.monitor!r} is not logged; logged names: "
                f"{[k for k in logs if k != 'gradient_norms']}{_keras_hint(self.monitor, logs)}"
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


def _measured_before_update(trainer, tracker: _Monitor) -> bool:
    """Whether the monitored value describes the state at the epoch's start (full batch, a
    training value); until the first epoch's end the name used is unknown: assume so."""
    used = tracker.used
    return bool(getattr(trainer, "full_batch", False)) and \
        (used is None or not used.startswith("val_"))


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    At the end of training (stopped early, run to the last epoch, or interrupted by
    KeyboardInterrupt) the network gets back the weights that gave the best monitored value,
    and ``trainer.stop_reason`` says why it stopped. A ``val_`` value is measured after the
    epoch's updates, so those are the weights at the best epoch's end. In full-batch training
    the epoch's ``cost`` (and ``accuracy``/``r2``) is measured by the forward pass before its
    update, so monitoring it restores the weights at the best epoch's start, those that had
    that cost. With mini-batches a training value is the mean over the epoch's batches, and
    the weights at the epoch's end are kept (as Keras does).

    A :class:`ModelCheckpoint` saves this state (:meth:`get_state` and the best weights), and
    :func:`npdeep.checkpoint.resume` hands it back to an EarlyStopping passed to it with the
    same ``monitor``, ``mode`` and ``min_delta``, so a resumed run stops and restores as the
    uninterrupted one.

    Parameters
    ----------
    monitor : str
        A logged name; ``'val_cost'`` falls back to ``'cost'`` without validation data.
    patience : int >= 0
        Stop after this many epochs in a row without improvement (Keras's and scikit-learn's
        ``n_iter_no_change`` count; 0 stops at the first epoch that does not improve).
    min_delta : float >= 0
        Smaller changes do not count as improvements.
    mode : {'auto', 'min', 'max'}
        'auto': maximise names ending in accuracy, acc or r2, minimise the rest (with a
        UserWarning for a name ending in neither these nor cost, loss or error: give its mode).
    restore_best_weights : True
        Keras's flag, accepted so ported code runs: npdeep always restores the best weights,
        and False is refused (a run that keeps its last weights needs no EarlyStopping state:
        set ``trainer.stop_training`` from a callback of your own).
    baseline : float or None
        As Keras's: a value the monitored quantity must beat (by more than ``min_delta``) for
        an epoch to reset the count of epochs without improvement. The best epoch is still
        tracked and restored when it falls short: training stops after ``patience`` epochs
        in a row that do not beat both the best value so far and the baseline.
    start_from_epoch : int >= 0
        As Keras's: the first ``start_from_epoch`` epochs (a warm-up) are not monitored;
        they count neither as the best nor as epochs without improvement. Epochs are
        counted from 0 across a resume, so a resumed run skips the same ones.
    """

    def __init__(self, monitor: str = "val_cost", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True,
                 baseline: float | None = None, start_from_epoch: int = 0):
        if restore_best_weights is not True and not (
                isinstance(restore_best_weights, np.bool_) and restore_best_weights):
            raise ConfigurationError(
                f"EarlyStopping always restores the best weights: restore_best_weights must be "
                f"True (Keras's flag, accepted for ported code), got {restore_best_weights!r:.60}"
            )
        self.patience = check_positive_int(patience, "patience", minimum=0)
        self.min_delta = check_nonneg_float(min_delta, "min_delta")
        if baseline is not None and not _is_finite_real(baseline):
            raise ConfigurationError(f"baseline must be a finite number or None, got "
                                     f"{baseline!r:.60}")
        self.baseline = None if baseline is None else float(baseline)
        self.start_from_epoch = check_positive_int(start_from_epoch, "start_from_epoch",
                                                   minimum=0)
        self.tracker = _Monitor(monitor, mode, self.min_delta)
        self.best_weights: np.ndarray | None = None
        self.stopped_epoch: int | None = None
        self.stop_reason: str | None = None
        self.wait = 0
        self._start: np.ndarray | None = None
        self._resume_from: tuple[dict, np.ndarray | None] | None = None  # set by resume()

    @property
    def best(self) -> float:
        return self.tracker.best

    @property
    def best_epoch(self) -> int | None:
        return self.tracker.best_epoch

    def _repr_args(self) -> dict:
        return _with_monitor(self, super()._repr_args(), "val_cost")

    def on_train_begin(self, logs):
        self.tracker.reset()
        self.wait = 0
        self.stopped_epoch = None
        self.stop_reason = None
        self.best_weights = None
        self._start = None
        if self._resume_from is not None:  # checkpoint.resume matched a saved state to us
            state, weights = self._resume_from
            self._resume_from = None
            self._set_state(state, weights)

    def get_state(self) -> dict:
        """Return the JSON part of what a checkpoint stores (the best weights go apart)."""
        t = self.tracker
        return {"monitor": t.monitor, "mode": t.mode, "min_delta": self.min_delta,
                "patience": self.patience,
                "best": None if t.best_epoch is None else t.best, "best_epoch": t.best_epoch,
                "used": t.used, "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "stop_reason": self.stop_reason}

    def matches(self, state: dict) -> bool:
        """Whether a saved state is one of this callback's: same monitor, mode and min_delta
        (what decides the best; ``patience`` may differ)."""
        t = self.tracker
        return (state["monitor"], state["mode"], state["min_delta"]) == \
            (t.monitor, t.mode, self.min_delta)

    def _set_state(self, state: dict, weights: np.ndarray | None) -> None:
        """Take up a checked state (:func:`npdeep.checkpoint.load_checkpoint`) at train begin.

        ``weights``: the best flat parameters, or None when no epoch has improved yet. A
        state saved when this callback had stopped training stops it again before any epoch,
        so the resumed run ends as the uninterrupted one did, unless this callback's
        ``patience`` exceeds the saved count of epochs without improvement: then training
        goes on, as a run with that patience would have.
        """
        t = self.tracker
        if state["best_epoch"] is not None:
            t.best, t.best_epoch = float(state["best"]), state["best_epoch"]
            self.best_weights = weights.copy()
        t.used = state["used"]
        self.wait = state["wait"]
        self.stopped_epoch, self.stop_reason = state["stopped_epoch"], state["stop_reason"]
        if self.wait < max(self.patience, 1):  # a longer patience: it would not have stopped
            self.stopped_epoch = self.stop_reason = None
        if self.stopped_epoch is not None:
            self.trainer.stop_training = True
            self.trainer.stop_reason = self.stop_reason

    def _before_update(self) -> bool:
        """Whether the monitored value describes the weights at the epoch's start."""
        return _measured_before_update(self.trainer, self.tracker)

    def on_epoch_begin(self, epoch, logs):
        if self._before_update():
            self._start = keep_copy(self._start, self.network.parameters.flat)

    def on_epoch_end(self, epoch, logs):
        value = self.tracker.value(logs)  # read in the warm-up too: a wrong name fails early
        if epoch < self.start_from_epoch:
            return
        if self.tracker.improved(value, epoch):
            weights = self._start if self._before_update() else self.network.parameters.flat
            self.best_weights = keep_copy(self.best_weights, weights)
            if self._beats_baseline(value):
                self.wait = 0
                return
        self.wait += 1
        if self.wait >= max(self.patience, 1) and not self.trainer.stop_training:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            used = self.tracker.used
            if self.tracker.best_epoch is None:
                self.trainer.stop_reason = self.stop_reason = (
                    f"early stopping at epoch {epoch + 1}: {used} was never a finite number "
                    f"in {_epochs(self.wait)} (last {value!r}), so no weights were restored"
                )
                return
            beyond = "" if self.baseline is None else f" on both its best and the baseline " \
                f"{self.baseline:g}"
            self.trainer.stop_reason = self.stop_reason = (
                f"early stopping at epoch {epoch + 1}: {used} did not improve{beyond} by more "
                f"than {self.min_delta:g} for {_epochs(self.wait)}; best "
                f"{self.tracker.best:.6g} at epoch {self.tracker.best_epoch + 1}, whose weights "
                f"were restored"
            )

    def _beats_baseline(self, value) -> bool:
        """Whether ``value`` (finite) improves on ``baseline`` by more than ``min_delta``."""
        if self.baseline is None:
            return True
        if self.tracker.mode == "min":
            return value < self.baseline - self.min_delta
        return value > self.baseline + self.min_delta

    def on_train_end(self, logs):
        if self.best_weights is not None:
            self.network.parameters.flat[...] = self.best_weights


class ModelCheckpoint(Callback):
    """Save a resumable checkpoint: the model, the optimizer state and the random state.

    Writes are atomic (:func:`npdeep.io.save_model_file`): an interrupted save leaves the
    previous file intact. The file loads with :func:`npdeep.load` (the network) and
    :func:`npdeep.checkpoint.load_checkpoint` / :func:`npdeep.checkpoint.resume` (everything).

    Parameters
    ----------
    path : str or os.PathLike
        May contain ``{epoch}`` (1-based), e.g. ``"ckpt-{epoch:03d}.npz"``. Its folder must
        exist when training begins (checked then); no other callback of the fit may write
        the same file.
    save_best_only : bool
        Save only when ``monitor`` improves; otherwise every ``every`` epochs.
    every : int >= 1
        Without ``save_best_only`` (with it, only 1 is accepted).
    monitor, mode : see :class:`EarlyStopping`.

    Attributes
    ----------
    last_saved : str or None
        The path of the last file written (``path`` with ``{epoch}`` filled in), None before
        the first. After :func:`~npdeep.checkpoint.resume`, a ``save_best_only`` one that got
        the saved state names the file the uninterrupted run would name, written before or
        after the interruption; one that saves every ``every`` epochs names, until it writes,
        the file of the last multiple of ``every`` up to the checkpoint's epoch, when that
        file exists.

    A checkpoint holds the weights that the monitored value measured, with the optimizer,
    schedule and random state of that moment, so :func:`~npdeep.checkpoint.resume` goes on
    from it exactly. Mostly that is the end of the epoch ``{epoch}`` (a ``val_`` value, or
    any value with mini-batches, as Keras does). In full-batch training a training value
    (``cost``, ``accuracy``/``r2``) is measured by the forward pass before the epoch's
    update, so with ``save_best_only`` on it the file holds the state at the *start* of the
    best epoch: the weights that had the best cost, and ``training.epoch`` one less than
    ``{epoch}`` (resuming repeats that epoch's update). :class:`EarlyStopping` restores the
    same weights.

    The file holds each :class:`EarlyStopping`'s state and each ``save_best_only``
    ModelCheckpoint's (:meth:`get_state`: best value, epoch, last_saved, this one's included) as
    of the epoch's end, whichever comes first in the callbacks list: the file is written in
    :meth:`on_epoch_end`, or, when an EarlyStopping or a ``save_best_only`` ModelCheckpoint
    comes after this callback (or a ``plateau`` schedule monitors a name a callback adds to
    the logs), in :meth:`after_epoch_end`, once every callback has ended the epoch (an
    exception or Ctrl-C in a callback's ``on_epoch_end`` then leaves the previous file, which
    resumes from one epoch earlier). A file holding the state at the best epoch's
    start holds the best values of then, so resuming from it repeats that epoch and its
    write. :func:`npdeep.checkpoint.resume` hands the state back to a ``save_best_only``
    ModelCheckpoint passed to it with the same ``path``, ``monitor`` and ``mode``, which then
    writes the files of the uninterrupted run at the same epochs and has its ``last_saved``.
    """

    def __init__(self, path, save_best_only: bool = False, every: int = 1,
                 monitor: str = "val_cost", mode: str = "auto"):
        if not isinstance(path, (str, os.PathLike)):
            raise ConfigurationError(f"ModelCheckpoint path must be a str or os.PathLike naming "
                                     f"a file, got {path!r:.100}")
        self.path = os.fspath(path)
        if not self.path:
            raise ConfigurationError("ModelCheckpoint path is empty; give a file name, e.g. "
                                     "'ckpt-{epoch}.npz'")
        if self.path.endswith(("/", os.sep)):  # refused now, not by the first save
            raise ConfigurationError(
                f"ModelCheckpoint path {self.path!r} ends with a separator, which names a "
                "folder; give a file name, e.g. "
                f"{self.path + 'ckpt-{epoch}.npz'!r}"
            )
        try:
            self.path.format(epoch=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(
                f"ModelCheckpoint path {self.path!r} is not a valid template ({exc!r}); it may "
                "hold {epoch} (the epoch number, from 1) and nothing else in braces"
            ) from None
        self.save_best_only = check_flag(save_best_only, "ModelCheckpoint save_best_only")
        self.every = check_positive_int(every, "every")
        if self.save_best_only and self.every != 1:  # it would be ignored
            raise ConfigurationError(
                f"ModelCheckpoint: every={self.every} applies without save_best_only; a "
                "save_best_only checkpoint looks at every epoch and writes when monitor "
                "improves; give one of them"
            )
        self.tracker = _Monitor(monitor, mode, 0.0)
        self.last_saved: str | None = None
        self._start = None  # checkpoint.TrainingState at the epoch's start (full batch)
        self._pending: str | None = None  # the path on_epoch_end chose, written after it
        self._defer = False  # write in after_epoch_end (a stateful callback comes after)
        self._resume_from: dict | None = None  # set by resume()

    def _repr_args(self) -> dict:
        return _with_monitor(self, super()._repr_args(), "val_cost")

    def on_train_begin(self, logs):
        if "{" not in os.path.dirname(self.path):  # refused now, not by a save epochs later
            check_folder(os.path.expanduser(self.path), "ModelCheckpoint")
        self.tracker.reset()
        self._start = None  # its buffers have the shapes of the last network trained
        self._pending = None
        if self._resume_from is not None:  # checkpoint.resume matched a saved state to us
            state, self._resume_from = self._resume_from, None
            self._set_state(state)
        start = logs.get("initial_epoch") or 0
        if start and not self.save_best_only:  # resumed: it writes at fixed epochs
            self.last_saved = self._written_before(start)
        # an EarlyStopping or best-only ModelCheckpoint after this one in the list has not
        # yet counted the epoch when on_epoch_end runs: the file is then written in
        # after_epoch_end
        callbacks = list(getattr(self.trainer, "callbacks", None) or ())
        at = next((i for i, c in enumerate(callbacks) if c is self), len(callbacks))
        self._defer = any(isinstance(c, EarlyStopping) or
                          (isinstance(c, ModelCheckpoint) and c.save_best_only)
                          for c in callbacks[at + 1:])

    def _written_before(self, start: int) -> str | None:
        """The file the last multiple of ``every`` up to ``start`` epochs names, None when
        there is none or no such file exists (this callback was not in the run resumed)."""
        last = start - start % self.every
        if last == 0:
            return None
        path = self.path.format(epoch=last)
        return path if os.path.isfile(os.path.expanduser(path)) else None

    def get_state(self) -> dict:
        """Return what a checkpoint stores of a ``save_best_only`` one: its configuration
        (path template, monitor, mode), what decides its next write (best value, epoch) and
        ``last_saved``, counting the file this epoch chose (being written, or written once
        every callback has ended the epoch)."""
        t = self.tracker
        last = self._pending if self._pending is not None else self.last_saved
        return {"path": self.path, "monitor": t.monitor, "mode": t.mode,
                "best": None if t.best_epoch is None else t.best, "best_epoch": t.best_epoch,
                "used": t.used, "last_saved": last}

    def matches(self, state: dict) -> bool:
        """Whether a saved state is this callback's: same path template, monitor and mode."""
        t = self.tracker
        return self.save_best_only and \
            (state["path"], state["monitor"], state["mode"]) == (self.path, t.monitor, t.mode)

    def _set_state(self, state: dict) -> None:
        """Take up a checked state (:func:`npdeep.checkpoint.load_checkpoint`) at train
        begin."""
        t = self.tracker
        if state["best_epoch"] is not None:
            t.best, t.best_epoch = float(state["best"]), state["best_epoch"]
        t.used = state["used"]
        if "last_saved" in state:  # absent from older checkpoints: last_saved is kept
            self.last_saved = state["last_saved"]

    def _before_update(self) -> bool:
        """Whether the monitored value describes the state at the epoch's start."""
        return self.save_best_only and _measured_before_update(self.trainer, self.tracker)

    def on_epoch_begin(self, epoch, logs):
        if self._before_update():
            from .checkpoint import TrainingState

            if self._start is None:
                self._start = TrainingState()
            self._start.capture(self.network, self.trainer, epoch)

    def on_epoch_end(self, epoch, logs):
        self._pending = None
        if self.save_best_only:
            if not self.tracker.improved(self.tracker.value(logs), epoch):
                return
        elif (epoch + 1) % self.every:
            return
        self._pending = self.path.format(epoch=epoch + 1)
        # a plateau schedule waiting for a name a callback adds to the logs: the file holds
        # its state once it has read it, after every on_epoch_end
        if not self._defer and not getattr(getattr(self.trainer, "schedule", None), "pending",
                                           False):
            self._write(epoch)

    def after_epoch_end(self, epoch: int) -> None:
        """Write the file :meth:`on_epoch_end` chose when an :class:`EarlyStopping` comes
        after this callback in the list: once every callback has ended the epoch, so the
        file holds its state of the epoch's end."""
        self._write(epoch)

    def _write(self, epoch: int) -> None:
        path = self._pending
        if path is None:
            return
        from .checkpoint import save_checkpoint

        weights = self._start.flat if self._before_update() else self.network.parameters.flat
        if not np.isfinite(weights).all():  # an update overflowed; TerminateOnNaN undoes it
            self._pending = None
            warnings.warn(f"ModelCheckpoint: the weights of epoch {epoch + 1} are NaN or inf; "
                          f"{path} was not written (the file would not load)", RuntimeWarning,
                          stacklevel=caller_level())
            return
        try:  # _pending still set: the file records itself as last_saved (get_state)
            if self._before_update():
                self._start.save(path, self.network, self.trainer)
            else:
                save_checkpoint(path, self.network, self.trainer, epoch=epoch + 1)
        except ModelFileError as exc:  # a full disk, a removed folder: say who and when
            last = "" if self.last_saved is None else \
                f"; the last checkpoint written is {self.last_saved!r}"
            raise ModelFileError(f"ModelCheckpoint could not save epoch {epoch + 1}: {exc}; "
                                 f"training stopped{last}") from exc
        finally:
            self._pending = None
        self.last_saved = path

