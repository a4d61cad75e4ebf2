"""The :class:`ModelCheckpoint` callback: save a resumable checkpoint every few epochs or
at each improvement (importable from :mod:`npdeep.monitors` and :mod:`npdeep.callbacks`)."""

from __future__ import annotations

import os
import warnings

import numpy as np

from ._tracker import _measured_before_update, _Monitor, _with_monitor
from ._validation import caller_level, check_flag, check_positive_int
from .callbacks import Callback, keras_keywords
from .early_stopping import EarlyStopping
from .errors import ConfigurationError, ModelFileError
from .loggers import check_folder

__all__ = ["ModelCheckpoint"]


@keras_keywords({
    "filepath": "npdeep's name for it is path, the first argument",
    "save_weights_only": "a checkpoint always holds the weights with the training state that "
                         "npdeep.checkpoint.resume needs; npdeep.load reads its network",
    "save_freq": "save every N epochs with every=N",
    "verbose": "fit(verbose=1) prints each epoch; the files written are in last_saved",
    "initial_value_threshold": "a save_best_only checkpoint writes at the first epoch, then "
                               "at each improvement"})
class ModelCheckpoint(Callback):
    """Save a resumable checkpoint: the model, the optimizer state and the random state.

    Writes are atomic (:func:`npdeep.io.save_model_file`): an interrupted save leaves the
    previous file intact. The file loads with :func:`npdeep.load` (the network) and
    :func:`npdeep.checkpoint.load_checkpoint` / :func:`npdeep.checkpoint.resume` (everything).

    Passed to a DeepClassifier's or DeepRegressor's ``callbacks`` (alone or in a Pipeline),
    it writes the estimator's network only: its outputs are the encoded targets (class
    indices of ``classes_``; a regressor's standardized targets), without the pipeline's
    scaling. The header records that (``estimator_network``: the estimator's class name and
    ``classes_``): :func:`npdeep.load` warns, ``npdeep.load_trained`` and
    ``npdeep predict``/``evaluate``/``export`` refuse the file, ``npdeep inspect`` notes
    it. For predictions, save the fitted estimator or pipeline with :func:`npdeep.save`.

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
        if "{" not in self.path and os.path.isdir(os.path.expanduser(self.path)):
            raise ConfigurationError(f"ModelCheckpoint: {self.path!r} is a folder; give the "
                                     "path of the file to write (for instance "
                                     f"{os.path.join(self.path, 'checkpoint.npz')!r})")
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
            if not self.tracker.improved(self.tracker.value(logs, in_order=True), epoch):
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
