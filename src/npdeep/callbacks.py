"""Callbacks: code that runs at fixed points of training.

The protocol (every method optional, each receives a ``logs`` dict)::

    on_train_begin(logs)            once, before the first epoch; logs: {'epochs': total,
                                    'samples': training samples m, 'initial_epoch': first}
    on_epoch_begin(epoch, logs)     epoch counts from 0; logs: {'learning_rate'}
    on_batch_begin(batch, logs)     logs: {'size': batch size}
    on_batch_end(batch, logs)       logs: {'cost': batch cost, 'size': batch size}
    on_epoch_end(epoch, logs)       logs: {'cost', 'learning_rate', ...}
    after_epoch_end(epoch)          once every callback's on_epoch_end has run (where a
                                    ModelCheckpoint listed before an EarlyStopping or a
                                    save_best_only ModelCheckpoint writes, and one whose
                                    plateau schedule waits for a name a callback logs)
    on_train_end(logs)              once, at the end; logs: {} ({'interrupted': True} when a
                                    KeyboardInterrupt ended training, {'error': 'Type: text'}
                                    when an exception did; either propagates after);
                                    runs on every callback even when one fails, whose
                                    error is raised once all have run

Batch hooks run for every step, full-batch training included (one batch of all m samples
per epoch), and only on callbacks that override them.

``set_context(network, trainer)`` runs first; a callback stops training by setting
``trainer.stop_training = True`` (and, by convention, ``trainer.stop_reason``): from a batch
hook, training stops after that batch and ``on_epoch_end`` still runs with the partial
epoch's logs; from an epoch hook, after that epoch. ``trainer.learning_rate`` set in
``on_epoch_begin`` or a batch hook applies to the following steps until the next epoch
begins, where the schedule computes it again from ``trainer.initial_learning_rate`` (which a
callback may change for all the epochs to come).

Epoch logs hold ``cost``, the metric (``accuracy`` or ``r2``), ``val_cost`` and
``val_accuracy``/``val_r2`` with validation data, ``learning_rate``, ``gradient_norms``
(a list, one norm per layer) and ``time`` (seconds).

Here: ProgressBar, TerminateOnNaN and LambdaCallback. History lives in :mod:`npdeep.history`,
EarlyStopping and ModelCheckpoint in :mod:`npdeep.monitors`, CSVLogger and JSONLogger in
:mod:`npdeep.loggers`; all are re-exported here.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import opcode
import os
import sys
import time

import numpy as np

from ._fp_errors import in_callers_state
from ._notes import add_note
from ._validation import check_flag
from .errors import ConfigurationError

__all__ = ["Callback", "CallbackList", "History", "ProgressBar", "TerminateOnNaN",
           "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "JSONLogger"]


class Callback:
    """Base class of callbacks; override the hooks you need."""

    network = None
    trainer = None

    def set_context(self, network, trainer) -> None:
        self.network = network
        self.trainer = trainer

    def __getstate__(self) -> dict:
        """Return the state for pickling and copying, without ``network`` and ``trainer``.

        A copy (``clone`` of an estimator given this callback, a joblib worker's, a pickled
        fitted estimator) is a callback for another run, given its network by set_context;
        the last run's network and optimizer state would only travel and stay in memory.
        """
        state = self.__dict__.copy()
        state.pop("network", None)
        state.pop("trainer", None)
        return state

    def __repr__(self) -> str:
        """``Name(arg=value, ...)``: the constructor's arguments that differ from their
        defaults, as scikit-learn shows estimators (read from :meth:`_repr_args`)."""
        args = ", ".join(f"{k}={v!r}" for k, v in self._repr_args().items())
        return f"{type(self).__name__}({args})"

    def _repr_args(self) -> dict:
        """The constructor's arguments kept as attributes of the same name, without those
        equal to their defaults (a subclass may add the ones it keeps elsewhere)."""
        try:
            params = list(inspect.signature(type(self).__init__).parameters.values())[1:]
        except (TypeError, ValueError):  # a builtin __init__ without a signature
            return {}
        args = {}
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name not in self.__dict__:
                continue
            value = self.__dict__[p.name]
            if p.default is not p.empty and type(value) is type(p.default) \
                    and _equal(value, p.default):
                continue
            args[p.name] = value
        return args

    def on_train_begin(self, logs: dict) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict) -> None: ...
    def on_batch_end(self, batch: int, logs: dict) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...
    def on_train_end(self, logs: dict) -> None: ...


def _equal(a, b) -> bool:
    """``a == b`` as one bool, False where the comparison is not one (arrays) or fails."""
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - any odd __eq__ means "show it"
        return False


def keras_keywords(answers: dict[str, str]):
    """Class decorator: a keyword of ``answers`` (a Keras argument) that ``__init__`` lacks
    raises the TypeError Python would, followed by what npdeep does instead."""
    def decorate(cls):
        init = cls.__init__
        own = inspect.signature(init).parameters

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            for name in kwargs:
                if name in answers and name not in own:
                    raise TypeError(f"{cls.__name__}() got an unexpected keyword argument "
                                    f"{name!r} (a Keras argument): {answers[name]}")
            init(self, *args, **kwargs)

        cls.__init__ = __init__
        return cls
    return decorate


def keep_copy(kept: np.ndarray | None, source: np.ndarray) -> np.ndarray:
    """Copy ``source`` into the buffer ``kept`` (allocated on first use); return the buffer.

    Callbacks that keep weights (best, or an epoch's start) reuse one buffer of the flat
    parameters' shape instead of a new copy per epoch.
    """
    if kept is None:
        return source.copy()
    np.copyto(kept, source)
    return kept


def _overrides(cb: Callback, hook: str) -> bool:
    """True when ``cb`` defines ``hook`` (in its class or as an instance attribute)."""
    fn = getattr(cb, hook, None)
    return fn is not None and getattr(fn, "__func__", fn) is not getattr(Callback, hook)


def _bar_hook(cb: Callback, hook: str) -> bool:
    """True when ``hook`` of ``cb`` is :class:`ProgressBar`'s own (a subclass may define its
    own, which runs, and may stop training, as any callback's)."""
    fn = getattr(cb, hook, None)
    return isinstance(cb, ProgressBar) and getattr(fn, "__func__", fn) is getattr(ProgressBar,
                                                                                  hook)


class CallbackList:
    """Dispatch each hook to every callback; batch hooks only to those that define them.

    ``errors``: the caller's ``np.geterr()`` when ``fit`` silenced NumPy's floating-point
    warnings for its loop; each hook written outside npdeep then runs under it
    (:func:`npdeep._fp_errors.in_callers_state`).
    """

    def __init__(self, callbacks, network, trainer, errors: dict | None = None):
        self.callbacks = list(callbacks)
        self._errors = errors
        for cb in self.callbacks:
            cb.set_context(network, trainer)
        hook = self._hook
        # a ProgressBar's own batch hooks only where it draws a live bar (_batch_hooks); a
        # subclass's hooks of its own always
        self._batch_begin = [hook(cb, "on_batch_begin") for cb in self.callbacks
                             if _overrides(cb, "on_batch_begin")
                             and (not _bar_hook(cb, "on_batch_begin") or cb._batch_hooks)]
        self._batch_end = [hook(cb, "on_batch_end") for cb in self.callbacks
                           if _overrides(cb, "on_batch_end")
                           and (not _bar_hook(cb, "on_batch_end") or cb._batch_hooks)]
        # per-epoch hooks run for every epoch (every step in full-batch training): call only
        # the callbacks that define them
        self._epoch_begin = [hook(cb, "on_epoch_begin") for cb in self.callbacks
                             if _overrides(cb, "on_epoch_begin")]
        self._epoch_end = [hook(cb, "on_epoch_end") for cb in self.callbacks
                           if _overrides(cb, "on_epoch_end")]
        self._after_epoch = [hook(cb, "after_epoch_end") for cb in self.callbacks
                             if hasattr(cb, "after_epoch_end")]
        #: whether any callback has a batch hook (checked at every step, so computed once)
        self.wants_batches = bool(self._batch_begin or self._batch_end)
        self.wants_batch_begin = bool(self._batch_begin)  # each checked at every step
        self.wants_batch_end = bool(self._batch_end)
        #: whether a batch hook may end an epoch early (a progress bar's never does): then
        #: every batch records what the epoch's logs take from its last one
        self.batches_may_stop = any(
            not _bar_hook(cb, name) for name in ("on_batch_begin", "on_batch_end")
            for cb in self.callbacks if _overrides(cb, name)
            and (not _bar_hook(cb, name) or cb._batch_hooks))

    def _hook(self, cb: Callback, name: str):
        """``cb``'s hook ``name``, run under the caller's errstate if not npdeep's code."""
        return in_callers_state(getattr(cb, name), self._errors)

    def on_train_begin(self, logs):
        """Run every ``on_train_begin``; should one fail, end those already begun (a logger
        closes the file it opened) before the error propagates."""
        begun = []
        try:
            for cb in self.callbacks:
                self._hook(cb, "on_train_begin")(logs)
                begun.append(cb)
        except Exception as exc:
            for cb in begun:
                try:
                    self._hook(cb, "on_train_end")({"error": f"{type(exc).__name__}: {exc}"})
                except Exception as cleanup:  # the first error is the one to report
                    add_note(exc, f"on_train_end also failed: {type(cleanup).__name__}: "
                                  f"{cleanup}")
            raise

    def on_epoch_begin(self, epoch, logs):
        for hook in self._epoch_begin:
            hook(epoch, logs)

    def on_batch_begin(self, batch, logs):
        for hook in self._batch_begin:
            hook(batch, logs)

    def on_batch_end(self, batch, logs):
        for hook in self._batch_end:
            hook(batch, logs)

    def on_epoch_end(self, epoch, logs, schedule=None):
        """Run every ``on_epoch_end``; then settle a ``pending`` ``schedule`` (a plateau
        monitoring a name a callback added to ``logs``), then every ``after_epoch_end``."""
        for hook in self._epoch_end:
            hook(epoch, logs)
        if schedule is not None and schedule.pending:
            schedule.settle()
        for hook in self._after_epoch:  # checkpoints: the state once every callback has run
            hook(epoch)

    def on_train_end(self, logs, before_reports=None):
        """Run every ``on_train_end``; progress bars last, after ``before_reports()``.

        ``fit`` passes the end-of-training diagnosis as ``before_reports``: it runs once the
        other callbacks have finished (EarlyStopping has restored the best weights), and a
        :class:`ProgressBar` then prints its warnings about the weights the network keeps.
        """
        reports = [cb for cb in self.callbacks if isinstance(cb, ProgressBar)]
        first = None  # one that fails does not keep the others from ending (closing a log,
        for cb in self.callbacks:  # restoring the best weights); its error is raised after
            if not isinstance(cb, ProgressBar):
                first = _end(cb, self._hook(cb, "on_train_end"), logs, first)
        if before_reports is not None and first is None:
            before_reports()
        for cb in reports:
            first = _end(cb, self._hook(cb, "on_train_end"), logs, first)
        if first is not None:
            raise first


def _end(cb: Callback, hook, logs: dict, first: Exception | None) -> Exception | None:
    """Run ``hook(logs)``, ``cb``'s ``on_train_end``; return the first error of the round (a
    later one becomes a note on it)."""
    try:
        hook(logs)
    except Exception as exc:
        if first is None:
            return exc
        add_note(first, f"{type(cb).__name__}.on_train_end also failed: "
                        f"{type(exc).__name__}: {exc}")
    return first


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default: standard error) is a terminal a live bar can be drawn on.

    A terminal that reports no columns or no rows (``script`` in a CI job, ``docker run -t``
    without a terminal behind it) is not: tqdm draws nothing there, so plain lines are used.
    """
    stream = stream or sys.stderr
    if not (getattr(stream, "isatty", None) and stream.isatty()):
        return False
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return True  # a terminal whose size cannot be asked: tqdm falls back to 80 columns
    return size.columns > 0 and size.lines > 0


def _columns(stream) -> int:
    """The width of the terminal ``stream`` writes to (80 when it cannot be asked, as tqdm)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 80
    return columns if columns > 0 else 80


def _number(value) -> str | None:
    """A logged value as the progress output writes it: a whole number as it is, any other
    real number (a NumPy float32 included) to four digits; None for anything else."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{float(value):.4g}"


#: the room a live bar's line keeps for the bar itself and for its times growing longer
_BAR_ROOM = 10
#: tqdm's line without its rate (batches a second), which took 15 of 80 columns
BAR_FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
              "[{elapsed}<{remaining}{postfix}]")


def fit_postfix(bar, parts: list[tuple[int, str]], stream) -> str:
    """The entries of ``parts`` (``(rank, text)`` in display order) that fit on ``bar``'s
    line, joined by spaces: entries of the highest rank go first, whole, so that no number
    is cut at the screen's edge (where ``0.3805`` read ``0``). The bar keeps some room."""
    from tqdm import tqdm

    width = bar.ncols
    if width is None:  # tqdm cuts no line it cannot measure; a terminal's is measured here
        if not (getattr(stream, "isatty", None) and stream.isatty()):
            return " ".join(t for _, t in parts)
        width = _columns(stream)
    kept = list(parts)
    while True:
        text = " ".join(t for _, t in kept)
        line = tqdm.format_meter(**{**bar.format_dict, "postfix": text, "ncols": None})
        if len(line) + _BAR_ROOM - 10 <= width or not kept:  # format_meter drew a 10-wide bar
            return text
        kept.remove(max(kept, key=lambda p: p[0]))


class ProgressBar(Callback):
    """Show training progress: a live tqdm bar on a terminal, one plain line per epoch otherwise.

    The only callback that prints. Writes to ``stream`` (default: standard error). On a
    terminal (one that reports its size: ``script`` in a CI job or ``docker run -t`` without a
    terminal behind it gets plain lines) the bar counts the batches of the whole run, redrawn
    at most ten times a second, and shows the epoch, its ``cost`` and metric and their
    validation values, each whole: entries that do not fit the terminal's width are left
    out. Plain lines hold every number logged. At the end it prints why training stopped
    early and the diagnostics' warnings, if any. ``quiet=True`` prints only those (no
    per-epoch output); ``fit(verbose=0)`` prints nothing at all.
    """

    #: least seconds between two redraws of the live bar
    mininterval = 0.1
    _reports = True  # fit's own bar leaves the end report to a quiet one given in callbacks
    _pending, _drawn_at, _n_batches = 0, 0.0, 1  # batches not drawn yet, the last redraw

    def __init__(self, stream=None, force_plain: bool | None = None, quiet: bool = False):
        if stream is not None and not callable(getattr(stream, "write", None)):
            raise ConfigurationError(f"ProgressBar stream must be a text stream with a write "
                                     f"method (sys.stdout, a file), got {stream!r:.100}")
        self.stream = stream
        self.quiet = check_flag(quiet, "ProgressBar quiet")
        self._epochs = None
        self.force_plain = check_flag(force_plain, "ProgressBar force_plain", none_ok=True)
        self._bar = None

    def _plain(self) -> bool:
        if self.force_plain is not None:
            return self.force_plain
        return not on_terminal(self.stream)

    @property
    def _batch_hooks(self) -> bool:
        """Whether the batch hooks are called: only for a live bar (CallbackList asks)."""
        return not self.quiet and not self._plain()

    def on_train_begin(self, logs):
        self._epochs = logs.get("epochs")
        self._bar = None
        if not self.quiet and not self._plain():
            from tqdm.auto import tqdm

            samples = int(logs.get("samples") or 1)
            size = (getattr(self.trainer, "config", None) or {}).get("batch_size")
            self._n_batches = 1 if not size or size >= samples else -(-samples // size)
            start = int(logs.get("initial_epoch") or 0)
            self._pending, self._drawn_at = 0, time.perf_counter()
            self._bar = tqdm(total=(self._epochs or 0) * self._n_batches or None,
                             initial=start * self._n_batches,
                             unit="batch" if self._n_batches > 1 else "epoch",
                             file=self.stream or sys.stderr, dynamic_ncols=True, leave=True,
                             mininterval=self.mininterval, bar_format=BAR_FORMAT,
                             desc=f"epoch {start + 1}/{self._epochs}" if self._epochs else None)

    def on_epoch_begin(self, epoch, logs):
        if self._bar is not None and self._epochs:
            self._bar.set_description_str(f"epoch {epoch + 1}/{self._epochs}", refresh=False)

    def on_batch_end(self, batch, logs):
        self._pending += 1
        now = time.perf_counter()
        if now - self._drawn_at >= self.mininterval and self._bar is not None:
            self._drawn_at = now  # a redraw at most ten times a second
            self._bar.update(self._pending)
            self._pending = 0

    @staticmethod
    def _fmt(logs) -> str:
        parts = []
        for key, value in logs.items():
            text = _number(value)
            if text is not None:
                parts.append(f"{key}={text}")
        return " ".join(parts)

    def _postfix(self, logs) -> str:
        """The bar's entries: cost, metric, val_cost, val_metric (no learning rate or time),
        whole; those that do not fit the width are left out: val_cost first, then the
        validation metric, then the metric (an 80-column terminal keeps cost and accuracy)."""
        ranks = {"cost": 0, "accuracy": 1, "r2": 1, "val_accuracy": 2, "val_r2": 2,
                 "val_cost": 3}
        parts = []
        for key in ("cost", "accuracy", "r2", "val_cost", "val_accuracy", "val_r2"):
            text = _number(logs.get(key))
            if text is not None:
                parts.append((ranks[key], f"{key}={text}"))
        return fit_postfix(self._bar, parts, self.stream or sys.stderr)

    def on_epoch_end(self, epoch, logs):
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._pending)  # the epoch's batches not drawn yet
            self._pending = 0
            self._bar.set_postfix_str(self._postfix(logs), refresh=True)
        else:
            total = f"/{self._epochs}" if self._epochs else ""
            print(f"epoch {epoch + 1}{total} {self._fmt(logs)}", file=self.stream or sys.stderr,
                  flush=True)

    def on_train_end(self, logs):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if not self._reports:
            return
        out = self.stream or sys.stderr
        reason = getattr(self.trainer, "stop_reason", None)
        if reason:
            print(f"stopped: {reason}", file=out, flush=True)
        diagnosis = getattr(self.trainer, "diagnosis", None)
        if diagnosis is not None:
            for line in diagnosis.warnings:
                print(f"warning: {line}", file=out, flush=True)


class TerminateOnNaN(Callback):
    """Stop when an epoch's cost is NaN or inf; never leave NaN weights; say why.

    The training loop already skips any update whose gradient is not finite; this callback
    also watches the epoch costs and, should the weights themselves have gone non-finite (an
    update that overflowed), restores the last finite ones seen at an epoch's end with a finite
    cost, or the starting ones. Finite weights whose cost overflowed are kept, and the reason
    says so. ``fit`` adds one when none is given.
    """

    def on_train_begin(self, logs):
        # the weights at the ends of the last two epochs (at first, the starting ones): an
        # epoch's cost is measured before its last update, which may have overflowed the newer
        # copy; then the next epoch's cost is NaN, and the older copy is finite. Checking
        # finiteness only on a stop keeps tiny networks' epochs one copy long. The two copies
        # are the network's scratch, reused by every fit (no page faults on fresh memory)
        self._copies = self.network.weight_copies(2)
        np.copyto(self._copies, self.network.parameters.flat)
        self._newest = 0

    def on_epoch_end(self, epoch, logs):
        flat = self.network.parameters.flat
        bad = not (math.isfinite(logs.get("cost", 0.0))
                   and math.isfinite(logs.get("val_cost", 0.0)))
        if bad or getattr(self.trainer, "nan_stop", False):
            if not np.isfinite(flat).all():
                newer, older = self._copies[self._newest], self._copies[1 - self._newest]
                flat[...] = newer if np.isfinite(newer).all() else older
                kept = "the last finite weights restored"
            else:  # finite weights whose cost overflowed: nothing better to restore
                kept = "its finite weights kept, though their cost was not finite"
            self.trainer.stop_training = self.trainer.nan_stop = True  # callers warn on it
            if not self.trainer.stop_reason:
                self.trainer.stop_reason = (
                    f"the cost became NaN or inf at epoch {epoch + 1}; training stopped with "
                    f"{kept}. Try a smaller learning_rate, clip_norm, or rescaled data"
                )
            return
        self._newest = 1 - self._newest
        np.copyto(self._copies[self._newest], flat)


class LambdaCallback(Callback):
    """A callback from functions, as Keras's: ``LambdaCallback(on_epoch_end=lambda epoch,
    logs: print(epoch, logs["cost"]))``.

    Each function takes the hook's arguments: ``on_train_begin(logs)``,
    ``on_epoch_begin(epoch, logs)``, ``on_batch_begin(batch, logs)``,
    ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``.
    Hooks left None do not run (batch hooks cost a call per step only when given).
    """

    def __init__(self, on_train_begin=None, on_epoch_begin=None, on_batch_begin=None,
                 on_batch_end=None, on_epoch_end=None, on_train_end=None):
        hooks = {"on_train_begin": on_train_begin, "on_epoch_begin": on_epoch_begin,
                 "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
                 "on_epoch_end": on_epoch_end, "on_train_end": on_train_end}
        for hook, fn in hooks.items():
            if fn is not None and not callable(fn):
                raise ConfigurationError(f"LambdaCallback {hook} must be a function or None, "
                                         f"got {fn!r:.80}")
            if fn is not None:  # an instance attribute: CallbackList calls only those given
                setattr(self, hook, fn)


#: Keras callbacks whose work npdeep does elsewhere: what to use instead.
_KERAS_CALLBACKS = {
    "ReduceLROnPlateau": "npdeep's is a learning-rate schedule: fit(..., schedule='plateau') or "
                         "schedule=npdeep.schedules.ReduceOnPlateau(monitor=..., factor=..., "
                         "patience=...)",
    "LearningRateScheduler": "pass fit(..., schedule=...): 'step', 'exponential', 'cosine', "
                             "'plateau', or your own npdeep.schedules.Schedule subclass "
                             "(learning_rate(epoch, lr0))",
    "BackupAndRestore": "use ModelCheckpoint(path) while training and "
                        "npdeep.checkpoint.resume(path, X, Y) after an interruption",
}


def __getattr__(name: str):
    if name in _KERAS_CALLBACKS:
        hint = f"npdeep.callbacks has no {name} (a Keras callback): {_KERAS_CALLBACKS[name]}"
        if _in_from_import(sys._getframe(1)):
            raise ImportError(hint, name=name)
        raise AttributeError(hint, name=name, obj=sys.modules[__name__])
    raise AttributeError(f"module 'npdeep.callbacks' has no attribute {name!r}")


def _in_from_import(frame) -> bool:
    """Whether ``frame`` is running ``from npdeep.callbacks import ...``.

    That statement replaces an AttributeError's message by its own ("cannot import name"),
    so the hint goes out as an ImportError there; everywhere else (``hasattr``, ``getattr``
    with a default, attribute access) a missing name must be an AttributeError.
    """
    try:
        return frame.f_code.co_code[frame.f_lasti] == opcode.opmap["IMPORT_FROM"]
    except (AttributeError, IndexError, KeyError):  # another interpreter: the hint then
        return False                                # reaches attribute access only


from .history import History  # noqa: E402
from .monitors import CSVLogger, EarlyStopping, JSONLogger, ModelCheckpoint  # noqa: E402
