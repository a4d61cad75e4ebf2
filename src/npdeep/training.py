"""The training loop: epochs of (mini-)batches, each one forward pass, one backward pass and
one optimizer step, with callbacks around them.

With ``batch_size=None`` every epoch is one step of full-batch gradient descent, exactly
the article's loop, and the epoch's cost is that of its forward pass, before its update.
With a batch size, each epoch visits the samples in a fresh shuffled order, and the epoch's
cost is the mean of its batch costs weighted by batch size (each computed before that batch's
update). Each batch cost holds its own L2 term ``(lambda / 2 m_b) sum_l ||W[l]||^2`` (``m_b``:
the batch's size; its gradient is the one each step applies), so with ``l2 > 0`` the epoch's
cost holds the L2 term once per batch: ``n_batches`` times that of :meth:`Network.cost` on the
whole set, whose data term it equals (up to the updates within the epoch).

Per step the loop adds to forward and backward only whole-buffer NumPy calls: one dot
product for the gradient norm (clipping and the NaN guard; recomputed scaled by ``max |g|``
only when its square overflows a finite gradient), the optimizer's update, and the metric's
count. Per-layer gradient norms are taken from the last batch of each epoch.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from . import optimizers as _optimizers
from . import schedules as _schedules
from ._fit_data import _prepare_data  # the data's checks and split before the loop
from ._fit_guard import one_fit_at_a_time
from ._fp_errors import quieted
from ._mmap import is_memmap
from ._notes import add_note
from ._validation import caller_level, check_positive_float, check_positive_int, check_seed
from .batches import BatchSource, columns
from .callbacks import Callback, CallbackList, History, ProgressBar, TerminateOnNaN
from .errors import ConfigurationError
from .loggers import check_separate_files
from .splits import Metric, weighted_validation
from .trainer import Trainer

__all__ = ["fit", "Trainer", "BatchSource", "evaluate"]

_DIAGNOSE_SAMPLES = 512  # samples used by the end-of-training diagnosis (spread evenly)
#: full-batch training on a memory-mapped X warns when it reads at least this many bytes
#: (smaller files, such as the ones joblib maps for parallel grid searches, are not worth it)
_WHOLE_MEMMAP_WARNING_BYTES = 64 * 2**20


def evaluate(net, X, Y, weights=None, weigh_metric: bool = True) -> tuple[float, float]:
    """Return ``(cost, metric)`` of ``net`` on checked ``X`` (n_x, m; dense or CSC), ``Y`` (n_L, m).

    ``cost`` equals :meth:`Network.cost` (L2 term included); ``metric`` is accuracy for
    sigmoid/softmax outputs and r2 otherwise. With checked sample ``weights`` (m,) the cost
    weighs each sample, and so does the metric unless ``weigh_metric`` is False (``fit``'s
    ``val_`` metric counts samples, as its training metric does). ``X`` may keep another dtype
    (a memory-mapped file): it is read and cast in chunks of samples, the cost summed over
    them.
    """
    m = X.shape[1]
    metric = Metric(net, Y, weights if weigh_metric else None)
    coef = 1.0 / m if weights is None else net.sample_coef(m, weights)
    cost = net._data_cost(X, Y, coef, metric) + net.l2_cost(m)
    return float(cost), float(metric.result())


def _feature_rows_warning(shape: tuple, samples_as_rows: bool) -> str:
    """The warning for a memory-mapped X (n_x, m) whose file is (n_x, m) in C order.

    ``samples_as_rows``: the caller passed ``X.T`` (m, n_x), the transpose of that file (an
    estimator's X), and is told so in its own terms.
    """
    n_x, m = shape
    cost = ("each mini-batch reads a value from every row, that is most pages of the file, "
            "for every batch")
    if samples_as_rows:
        return (f"X of shape ({m}, {n_x}) is a memory-mapped file of shape ({n_x}, {m}) "
                f"read transposed: the file holds the features as rows, so {cost}; save it "
                f"with samples as rows, shape ({m}, {n_x}) (np.save(path, "
                "np.ascontiguousarray(X))), and pass np.load(path, mmap_mode='r') as it is")
    return (f"X is a memory-mapped file of shape {shape} in C order, features as rows: "
            f"{cost}; save it with samples as rows, (m, n_x), and pass "
            "np.load(path, mmap_mode='r').T")


@one_fit_at_a_time
def fit(
    net,
    X,
    Y,
    *,
    epochs: int = 100,
    learning_rate: float = 0.01,
    batch_size: int | None = None,
    optimizer="sgd",
    schedule=None,
    clip_norm: float | None = None,
    shuffle: bool = True,
    sample_weight=None,
    class_weight=None,
    validation_data=None,
    validation_fraction: float | None = None,
    validation_seed: int = 0,
    callbacks=None,
    verbose: int = 0,
    seed=None,
    diagnose: bool = True,
    _resume: dict | None = None,
    _continue: bool = False,
    _rows: np.ndarray | None = None,  # the estimators' early_stopping: train on these columns
    _warn_nan: bool = True,  # the estimators and the CLI report a NaN stop their own way
    _initial_epoch: int = 0,  # the estimators' partial_fit and warm fits: epochs run before
    _samples_as_rows: bool = False,  # the estimators: their users pass X.T, (m, n_x)
    _estimator: dict | None = None,  # the estimators: who trains (ModelCheckpoint records it)
) -> History:
    """Train ``net`` on ``X`` (n_x, m) and ``Y`` (n_L, m, or class labels (m,)).

    ``X`` may be a NumPy array, a memory-mapped one, or a scipy.sparse matrix or array of any
    format (trained on as CSC, in mini-batches of its columns, never densified).

    Parameters
    ----------
    epochs : int >= 1
        Total number of epochs (a resumed run continues up to this number).
    learning_rate : float > 0
        ``alpha`` of the update, before any schedule.
    batch_size : int or None
        None: full batch, the article's gradient descent. Else shuffled mini-batches.
    optimizer : str, dict or Optimizer
        ``sgd`` (alias ``gd``), ``momentum``, ``nesterov``, ``rmsprop``, ``adam``, ``adamw``;
        a dict gives options, ``{"name": "adam", "beta1": 0.8}``. An Optimizer object holds
        its state: one used by a fit running in another thread is refused.
    schedule : str, dict, Schedule or None
        ``constant``, ``step``, ``exponential``, ``cosine``, ``plateau``; a dict gives
        options, ``{"name": "step", "step_size": 5}``.
    clip_norm : float > 0, optional
        Rescale the whole gradient when its L2 norm exceeds this (also a finite float32
        gradient whose squared norm overflows; only NaN or inf in the gradient stop training).
    shuffle : bool
        Shuffle the samples every epoch (mini-batches only).
    sample_weight : (m,) array, optional
    class_weight : dict or 'balanced', optional
        ``{class: weight}`` multiplying each sample's weight (classification only).
    validation_data : (X_val (n_x, m_val), Y_val) or (X_val, Y_val, sample_weight_val), optional
        ``X_val`` dense or scipy.sparse. Its weights weigh ``val_cost`` (as Keras's
        ``val_loss``); ``val_accuracy``/``val_r2`` count samples, as ``accuracy`` does.
    validation_fraction : float in (0, 1), optional
        Hold out this share of the samples (stratified for classification) drawn with
        ``validation_seed``.
    validation_seed : int
        Seed of the draw of ``validation_fraction``'s samples, apart from ``seed``.
    callbacks : list of Callback, optional
        Each object at most once.
    verbose : int >= 0 or bool
        0: silent; 1: a progress bar counting batches (one plain line per epoch when not on
        a terminal, or on one that reports no size); 2 or more: one plain line per epoch
        everywhere (Keras's ``verbose=2``). A :class:`ProgressBar` in ``callbacks`` (not
        ``quiet``) takes the place of this one; beside a ``quiet`` one, this one prints the
        epochs and the quiet one the stop reason and warnings, once.
    seed : int or Generator, optional
        Source of shuffling and dropout draws; default: the network's generator.
    diagnose : bool
        Run :func:`npdeep.diagnostics.diagnose` at the end (``history.diagnosis``).

    Training that stops on NaN or inf (a gradient, or an epoch's cost: the update is skipped
    and finite weights kept) warns with the reason (RuntimeWarning) unless a progress bar
    printed it; ``history.stop_reason`` keeps it. Training whose cost ended over ten times
    above its first epoch's (``history.diagnosis.diverged``) warns the same way. NumPy's own
    overflow, invalid-value and divide-by-zero warnings are silenced around the loop (one
    ``np.errstate`` per fit, leaving a caller's ``"raise"`` as it is), so a diverging run is
    said once; callback hooks written outside npdeep run under the caller's settings.

    A stateful schedule (``plateau``) starts afresh at every call. An Optimizer object keeps
    its state when it trains the same network again, and starts from zero on another one.

    Returns
    -------
    History
        Per epoch: ``cost``, ``accuracy`` or ``r2``, ``val_cost``/``val_...`` with validation,
        ``learning_rate``, ``gradient_norms`` (per layer), ``time``; ``stop_reason``.
    """
    epochs = check_positive_int(epochs, "epochs")
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    if batch_size is not None:
        if batch_size == 0 and not isinstance(batch_size, bool):  # the CLI's --batch-size 0
            raise ConfigurationError(
                "batch_size must be an integer >= 1, got 0; batch_size=None is the full batch "
                "(the command line's --batch-size 0)"
            )
        batch_size = check_positive_int(batch_size, "batch_size")
    if clip_norm is not None:
        clip_norm = check_positive_float(clip_norm, "clip_norm")
    if not isinstance(callbacks, (list, tuple, type(None))):
        raise ConfigurationError(f"callbacks must be a list of Callback, got {callbacks!r}")
    for c in callbacks or ():
        if not isinstance(c, Callback):
            raise ConfigurationError(
                f"callbacks must be Callback objects (npdeep.callbacks), got {c!r}; subclass "
                "Callback and override the on_... methods you need"
            )
    for i, c in enumerate(callbacks or ()):
        if any(c is d for d in callbacks[:i]):
            # each hook would run twice per event: a logger writes every row twice, an
            # EarlyStopping counts each epoch twice against its patience
            raise ConfigurationError(
                f"callbacks lists the same {type(c).__name__} object twice; each of its hooks "
                "would run twice per epoch; list it once (or pass two separate objects)"
            )
    check_separate_files(callbacks)
    if isinstance(verbose, (bool, np.bool_)):
        verbose = int(verbose)
    verbose = check_positive_int(verbose, "verbose", minimum=0)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ConfigurationError(f"shuffle must be True or False, got {shuffle!r}")
    if not isinstance(diagnose, (bool, np.bool_)):  # "no" would read as True
        raise ConfigurationError(f"diagnose must be True or False, got {diagnose!r}")
    check_seed(seed, "seed", generator_ok=True)
    check_seed(validation_seed, "validation_seed")
    opt = _optimizers.get(optimizer)
    sched = _schedules.get(schedule)
    min_lr = getattr(sched, "min_lr", 0.0)
    if min_lr > learning_rate:
        raise ConfigurationError(
            f"schedule {sched.name!r}: min_lr={min_lr:g} is above learning_rate="
            f"{learning_rate:g}, so the rate would not decay from learning_rate; give "
            "min_lr <= learning_rate"
        )
    if _resume is None and not _continue:
        sched.reset()  # a plateau schedule's reductions belong to the fit that made them
    if hasattr(sched, "set_epochs"):
        if _continue and getattr(sched, "period", 0) is None:  # (a user's may have none)
            raise ConfigurationError(
                f"schedule {sched.name!r} with period=None decays over one fit's epochs, but "
                "partial_fit runs one epoch per call and continues the schedule across calls; "
                f"give the number of epochs to decay over: schedule={{'name': {sched.name!r}, "
                "'period': N}")
        sched.set_epochs(epochs)
    X, Y, weights, val, train_idx, m_all = _prepare_data(
        net, X, Y, sample_weight, class_weight, validation_data, validation_fraction,
        validation_seed, _rows, _resume)
    m = X.shape[1] if train_idx is None else train_idx.shape[0]
    coef_full = net.sample_coef(m, weights)
    opt.setup(net.layout)
    rng = net.rng if seed is None else (seed if isinstance(seed, np.random.Generator)
                                        else np.random.default_rng(seed))
    config = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
              "clip_norm": clip_norm, "shuffle": bool(shuffle),
              "validation_fraction": validation_fraction, "validation_seed": validation_seed,
              "class_weight": _jsonable_class_weight(class_weight),
              # what resume checks it is given again: the same number of samples, weighted
              # or not
              "samples": m_all,
              "weighted": sample_weight is not None,
              "validation_weighted": weighted_validation(validation_data)}
    trainer = Trainer(net, opt, learning_rate, sched, clip_norm, rng, config)
    trainer.estimator = _estimator
    history = History()
    # a continued estimator numbers its epochs on from those it ran before (callbacks, logs,
    # history), while its schedule counts the epochs of this call, as a fresh fit's does
    offset = start_epoch = 0 if _resume is not None else int(_initial_epoch)
    end = offset + epochs
    # partial_fit continues the schedule across calls (n_iter_ counts its epochs, as
    # scikit-learn's t_ and Keras's iterations do); a fresh or warm fit starts it at 0
    sched_offset = 0 if _continue else offset
    if _resume is not None:
        start_epoch = int(_resume["epoch"])
        if _resume.get("history"):
            history = History.from_dict(_resume["history"])
        if _resume.get("schedule_state"):
            sched.set_state(_resume["schedule_state"])
    trainer.history = history
    history.optimizer_name, history.initial_learning_rate = opt.name, learning_rate
    cbs = [history, *(callbacks or [])]
    if not any(isinstance(c, TerminateOnNaN) for c in cbs):
        cbs.append(TerminateOnNaN())
    # a progress bar, quiet or not, prints the stop reason and the diagnosis's warnings
    bar = any(isinstance(c, ProgressBar) for c in cbs)
    if verbose and not any(isinstance(c, ProgressBar) and not c.quiet for c in cbs):
        shown = ProgressBar(force_plain=True if verbose >= 2 else None)
        shown._reports = not bar  # a quiet one given prints them: once, not twice
        cbs.append(shown)
        bar = True
    outer = np.geterr()  # the caller's: a user's callback hooks run under it
    quiet = quieted(outer)
    cb = CallbackList(cbs, net, trainer, errors=outer if quiet else None)
    trainer.callbacks = cb.callbacks
    full_batch = trainer.full_batch = batch_size is None or batch_size >= m
    held = m * X.shape[0] * net.dtype.itemsize
    if full_batch and is_memmap(X) and held >= _WHOLE_MEMMAP_WARNING_BYTES:
        # the default (or a batch past m): easy to miss
        given = "batch_size=None" if batch_size is None else f"batch_size={batch_size} >= m"
        warnings.warn(
            f"{given} trains on all m = {m} samples of the memory-mapped X at once: "
            f"they are read into memory whole ({held / 2**20:.1f} MiB as {net.dtype.name}), "
            "with every layer's activations for all of them; give a batch_size to train "
            "from the file in mini-batches without copying it",
            UserWarning, stacklevel=caller_level())
    if full_batch and train_idx is not None:
        X, Y, train_idx = X[:, train_idx], Y[:, train_idx], None
    if full_batch and X.dtype != net.dtype:
        X = X.astype(net.dtype)
    source = None if full_batch else BatchSource(net, X, Y, batch_size, coef_full, train_idx)
    if source is not None and source.X.feature_chunk is not None:
        warnings.warn(_feature_rows_warning(X.shape, _samples_as_rows), UserWarning,
                      stacklevel=caller_level())
    metric = Metric(net, Y if train_idx is None else Y[:, train_idx])

    # NumPy's overflow/invalid/divide warnings, once per fit (not per step): a diverging run
    # is reported once, in words, by the NaN guard and the diagnosis (_fp_errors)
    with np.errstate(**quiet):
        cb.on_train_begin({"epochs": end, "samples": m, "initial_epoch": start_epoch})
        epoch = start_epoch
        rate_warned = False
        try:
            for epoch in range(start_epoch, end):
                if trainer.stop_training:  # stopped in on_train_begin (a resumed EarlyStopping)
                    break
                trainer.epoch = epoch
                trainer.learning_rate = sched.learning_rate(epoch - sched_offset,
                                                            trainer.initial_learning_rate)
                cb.on_epoch_begin(epoch, {"learning_rate": trainer.learning_rate})
                start = time.perf_counter()
                metric.total, metric.count = 0.0, 0
                if full_batch:
                    trainer.batch = 0
                    if cb.wants_batch_begin:
                        cb.on_batch_begin(0, {"size": m})
                    cost = trainer.step(X, Y, coef_full, metric, record=True)
                    if cb.wants_batch_end:
                        cb.on_batch_end(0, {"cost": cost, "size": m})
                else:
                    cost = _run_batches(trainer, source, metric, cb, rng if shuffle else None)
                logs = {"cost": float(cost), metric.name: float(metric.result())}
                if val is not None:
                    vc, vm = evaluate(net, *val, weigh_metric=False)
                    logs["val_cost"], logs[f"val_{metric.name}"] = vc, vm
                logs["learning_rate"] = rate = trainer.learning_rate
                logs["gradient_norms"] = list(trainer.gradient_norms or [])
                logs["time"] = time.perf_counter() - start
                sched.update(epoch - sched_offset, logs)
                cb.on_epoch_end(epoch, logs, sched)
                if trainer.stop_training:
                    break
                if trainer._learning_rate != rate and not rate_warned and epoch + 1 < end:
                    # a callback set it in on_epoch_end: the next epoch's schedule replaces it
                    rate_warned = _warn_rate_replaced(trainer.learning_rate, rate)
        except KeyboardInterrupt:
            net.release_inputs()
            trainer.stop_reason = f"interrupted (KeyboardInterrupt) during epoch {epoch + 1}"
            history.stop_reason = trainer.stop_reason
            net.history = history
            cb.on_train_end({"interrupted": True})  # close files and bars, restore best weights
            history.trainer = None
            raise
        except Exception as exc:
            # an error in a step or a callback: the same clean-up as Ctrl-C, then the error itself
            net.release_inputs()
            trainer.stop_reason = f"error ({type(exc).__name__}) during epoch {epoch + 1}"
            history.stop_reason = trainer.stop_reason
            net.history = history
            try:
                cb.on_train_end({"error": f"{type(exc).__name__}: {exc}"})
            except Exception as cleanup:  # the first error is the one to report
                add_note(exc, f"on_train_end also failed: {type(cleanup).__name__}: {cleanup}")
            history.trainer = None
            raise
        net.release_inputs()  # the workspaces must not keep the training set (full batch) alive
        report = (lambda: _diagnose_end(trainer, X, Y, train_idx)) if diagnose else None
        try:
            cb.on_train_end({}, before_reports=report)
        finally:
            # net.history outlives the fit: it must not keep the trainer, whose optimizer state
            # (Adam: twice the parameters) would stay in memory and travel with every pickle of
            # the network. Set even when a callback's on_train_end fails: the epochs were run.
            history.trainer = None
            net.history = history
    if trainer.nan_stop and _warn_nan and not bar:  # a bar printed the reason already
        warnings.warn(f"training stopped early: {trainer.stop_reason}", RuntimeWarning,
                      stacklevel=caller_level())
    elif _warn_nan and not bar and history.diagnosis is not None and history.diagnosis.diverged:
        warnings.warn(history.diagnosis.warnings[-1], RuntimeWarning, stacklevel=caller_level())
    return history


def _warn_rate_replaced(new: float, used: float) -> bool:
    """Warn that a rate a callback set in ``on_epoch_end`` is replaced; return True."""
    warnings.warn(
        f"a callback set trainer.learning_rate to {new:g} in on_epoch_end (the epoch used "
        f"{used:g}); the schedule sets the rate again when the next epoch begins, so that "
        "value is never used: set trainer.learning_rate in on_epoch_begin, or "
        "trainer.initial_learning_rate to move the schedule's base for the epochs to come "
        "(Keras's ReduceLROnPlateau is schedule='plateau')", UserWarning,
        stacklevel=caller_level())
    return True


def _diagnose_end(trainer, X, Y, train_idx) -> None:
    """Diagnose the weights training ends with (EarlyStopping's restored ones included)."""
    from .diagnostics import diagnose

    pool = np.arange(X.shape[1]) if train_idx is None else train_idx
    k = min(pool.shape[0], _DIAGNOSE_SAMPLES)
    # spread over the training set (a file sorted by label holds one class at its start);
    # a memory-mapped set gives its first samples, where a spread would page in all of it
    pick = pool[:k] if is_memmap(X) else \
        pool[np.linspace(0, pool.shape[0] - 1, k).astype(np.intp)]
    history = trainer.history
    trainer.diagnosis = history.diagnosis = diagnose(
        trainer.net, columns(trainer.net, X, pick), Y[:, pick], history=history,
        updates=getattr(trainer.optimizer, "t", None))


def _run_batches(trainer, source, metric, cb, rng) -> float:
    """Run one epoch of mini-batches; return the mean cost over the samples it visited."""
    total, seen = 0.0, 0
    last = source.n_batches - 1
    # the per-layer norms are logged from the epoch's last batch; a batch hook may end the
    # epoch at any batch, so with such hooks every batch records them (a progress bar's
    # batch hook never ends one: with it alone only the last batch records them)
    every = cb.batches_may_stop
    begin, end = cb.wants_batch_begin, cb.wants_batch_end
    for i, (A0, Yb, coef) in enumerate(source.batches(rng)):
        trainer.batch = i
        if begin:
            cb.on_batch_begin(i, {"size": A0.shape[1]})
        c = trainer.step(A0, Yb, coef, metric, record=every or i == last)
        total += c * A0.shape[1]
        seen += A0.shape[1]
        if end:
            cb.on_batch_end(i, {"cost": c, "size": A0.shape[1]})
        if trainer.stop_training:  # the NaN guard, or a batch hook
            break
    return total / seen


def _jsonable_class_weight(class_weight):
    """``class_weight`` for a checkpoint's JSON: keys as numerals, ``"1"`` for ``1.0`` too."""
    def key(k):
        if isinstance(k, (float, np.floating)) and float(k).is_integer():
            return str(int(k))
        return str(k)

    if isinstance(class_weight, dict):
        return {key(k): float(v) for k, v in class_weight.items()}
    return class_weight
