"""The :class:`EarlyStopping` callback: stop when a logged quantity stops improving, and
restore the weights of its best epoch (importable from :mod:`npdeep.monitors` and
:mod:`npdeep.callbacks`)."""

from __future__ import annotations

import numpy as np

from ._tracker import _measured_before_update, _Monitor, _with_monitor
from ._validation import _is_finite_real, check_nonneg_float, check_positive_int
from .callbacks import Callback, keep_copy, keras_keywords
from .errors import ConfigurationError

__all__ = ["EarlyStopping"]


def _epochs(n: int) -> str:
    """Return ``"1 epoch"`` or ``"n epochs"``."""
    return f"{n} epoch{'' if n == 1 else 's'}"


@keras_keywords({"verbose": "npdeep's EarlyStopping says why it stopped in "
                            "history.stop_reason, which fit(verbose=1) prints"})
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
        As Keras 3's: a value the monitored quantity must beat (by more than ``min_delta``)
        for an epoch to reset the count of epochs without improvement. The best epoch is still
        tracked and restored when it falls short. An epoch that improves on the best never
        stops training; one that improves but falls short of the baseline still counts, so
        the first epoch that does not improve, once ``patience`` epochs in a row have not
        beaten both the best and the baseline, stops it.
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
        value = self.tracker.value(logs, in_order=True)  # in the warm-up too: fails early
        if epoch < self.start_from_epoch:
            return
        if self.tracker.improved(value, epoch):
            weights = self._start if self._before_update() else self.network.parameters.flat
            self.best_weights = keep_copy(self.best_weights, weights)
            # as Keras 3: an improving epoch never stops training; short of the baseline it
            # still counts towards the patience, and the next epoch that does not improve stops
            self.wait = 0 if self._beats_baseline(value) else self.wait + 1
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
