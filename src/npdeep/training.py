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

import math
import time
import warnings

import numpy as np

from . import optimizers as _optimizers
from . import schedules as _schedules
from ._mmap import PageReleaser, is_memmap
from ._sparse import SparseGather, is_sparse
from ._validation import check_positive_float, check_positive_int, check_seed
from .callbacks import Callback, CallbackList, History, ProgressBar, TerminateOnNaN
from .engine import backward, forward
from .errors import ConfigurationError
from .splits import Metric, check_validation_data, class_sample_weight, validation_split

__all__ = ["fit", "Trainer", "BatchSource", "evaluate"]

_DIAGNOSE_SAMPLES = 512  # samples used by the end-of-training diagnosis (spread evenly)
#: full-batch training on a memory-mapped X warns when it reads at least this many bytes
#: (smaller files, such as the ones joblib maps for parallel grid searches, are not worth it)
_WHOLE_MEMMAP_WARNING_BYTES = 64 * 2**20


#: The advice that ends the reason of a stop on NaN or inf gradients.
NAN_ADVICE = "Try a smaller learning_rate, clip_norm, or standardized inputs"

class _Gather:
    """Copy the samples ``idx`` of ``A`` (n, N) into a preallocated (n, m) batch.

    The gather runs along the axis the memory layout makes cheap: whole rows of the
    samples-major view ``A.T`` (N, n) when a sample's values are contiguous (F-ordered ``A``,
    e.g. ``rows.T`` or a memory-mapped (N, n) ``.npy`` transposed), else columns of a
    C-ordered ``A``. The wrong one costs 10-1000x more (a strided gather per value).
    Integer or float64 data are cast into the network's dtype per batch.
    """

    def __init__(self, A, dtype):
        self.A = A
        self.by_rows = not A.flags.c_contiguous or A.flags.f_contiguous
        self.source = A.T if self.by_rows else A
        self.dtype = np.dtype(dtype)
        self._buffers: dict = {}
        # a memory-mapped source is read in chunks of rows, its pages released after each
        self.pages = PageReleaser(A)
        self.chunk = self.feature_chunk = None
        if self.pages.active and self.by_rows:
            self.chunk = self.pages.rows_per_release(A.shape[0] * A.dtype.itemsize)
        elif self.pages.active:
            # an (n, N) file in C order: a batch reads a value from each row, so (for a large
            # batch) every page of the row; release after every budget's worth of rows
            self.feature_chunk = max(1, self.pages.budget // (A.shape[1] * A.dtype.itemsize))

    def __call__(self, idx) -> np.ndarray:
        """Return the batch ``A[:, idx]`` as an (n, m) array in the network's dtype."""
        m = idx.shape[0]
        bufs = self._buffers.get(m)
        if bufs is None:
            n, dt = self.A.shape[0], self.A.dtype
            shape = (m, n) if self.by_rows else (n, m)
            bufs = (np.empty(shape, dt), np.empty(shape, self.dtype) if dt != self.dtype else None)
            self._buffers[m] = bufs
        raw, cast = bufs
        # mode="clip": with the default mode="raise" np.take fills a hidden temporary first
        if self.chunk is not None:
            for start in range(0, m, self.chunk):
                part = slice(start, start + self.chunk)
                np.take(self.source, idx[part], axis=0, out=raw[part], mode="clip")
                self.pages.release()
        elif self.feature_chunk is not None:
            for start in range(0, raw.shape[0], self.feature_chunk):
                part = slice(start, start + self.feature_chunk)
                np.take(self.source[part], idx, axis=1, out=raw[part], mode="clip")
                self.pages.release()
        else:
            np.take(self.source, idx, axis=0 if self.by_rows else 1, out=raw, mode="clip")
        if cast is not None:
            np.copyto(cast, raw, casting="unsafe")
            raw = cast
        return raw.T if self.by_rows else raw


class BatchSource:
    """Serve shuffled mini-batches of ``X`` (n_x, N) and ``Y`` (n_L, N) into preallocated buffers.

    Each batch is returned as ``(A0, Y, coef)`` with ``A0`` (n_x, m) and ``Y`` (n_L, m) views
    of reused buffers (nothing proportional to the batch is allocated after the first epoch).
    A sparse ``X`` (CSC) gives each batch as a new CSC matrix of its columns, never densified.
    A memory-mapped ``X`` is read batch by batch, indices sorted within a batch for locality,
    and its pages are handed back to the kernel as training goes, so the data set is never
    copied nor held in memory whole.
    """

    def __init__(self, net, X, Y, batch_size: int, coef_full=None, indices=None):
        # indices: the training samples among X's columns (None: all); coef_full is theirs
        self.indices = indices
        self.N = X.shape[1] if indices is None else indices.shape[0]
        self.batch_size = min(batch_size, self.N)
        self.n_batches = -(-self.N // self.batch_size)
        # a sparse X (checked: CSC in the network's dtype) is gathered column by column
        self.X = SparseGather(X) if is_sparse(X) else _Gather(X, net.dtype)
        self.Y = _Gather(Y, net.dtype)
        weights = None if np.ndim(coef_full) == 0 else np.ravel(coef_full)
        if weights is not None and indices is not None:  # index the weights like X's columns
            full = np.zeros(X.shape[1], weights.dtype)
            full[indices] = weights
            weights = full
        self.weights = weights
        self._coef: dict = {}
        self.sort_indices = is_memmap(X)

    def batches(self, rng: np.random.Generator | None):
        """Yield ``(A0, Y, coef)`` for one epoch, shuffled with ``rng`` (None: in order)."""
        order = rng.permutation(self.N) if rng is not None else np.arange(self.N)
        if self.indices is not None:
            order = self.indices[order]
        for start in range(0, self.N, self.batch_size):
            idx = order[start : start + self.batch_size]
            if self.sort_indices:
                idx.sort()
            m = idx.shape[0]
            A0 = self.X(idx)
            if self.weights is None:
                coef = 1.0 / m
            else:
                coef = self._coef.get(m)
                if coef is None:
                    coef = self._coef[m] = np.empty((1, m), self.weights.dtype)
                # c_i = w_i / sum(w) * N / m: an unbiased estimate of the whole set's weighted
                # cost (the epoch's mean is exactly it); a batch of zero weights adds nothing
                np.take(self.weights, idx, out=coef[0], mode="clip")
                coef *= self.N / m
            yield A0, self.Y(idx), coef


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
        self.nan_stop = False
        self.full_batch = False
        self.gradient_norms: list[float] | None = None
        self.gradient_norm = 0.0
        self.diagnosis = None
        self.history = None
        self.callbacks: list = []  # the run's callbacks (a checkpoint saves EarlyStopping's)
        L = net.layout
        # layer l's parameters W[l], b[l] are one contiguous run of the flat buffer
        self._layer_starts = np.array([L.slices[f"W{l}"].start
                                       for l in range(1, net.L + 1)])
        self._squares = None

    def record_gradient_norms(self) -> float:
        """Store ``||(dW[l], db[l])||`` per layer (before the update); return ``||g||^2``.

        The squares may overflow (inf is returned): :meth:`rescaled_norm` then takes over.
        """
        g = self.net.grad_flat
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
        self.optimizer.step(net.parameters.flat, g, self.learning_rate)
        return cost


def evaluate(net, X, Y) -> tuple[float, float]:
    """Return ``(cost, metric)`` of ``net`` on checked ``X`` (n_x, m; dense or CSC), ``Y`` (n_L, m).

    ``cost`` equals :meth:`Network.cost` (L2 term included); ``metric`` is accuracy for
    sigmoid/softmax outputs and r2 otherwise. ``X`` may keep another dtype (a memory-mapped
    file): it is read and cast in chunks of samples, the cost summed over them.
    """
    m = X.shape[1]
    metric = Metric(net, Y)
    cost = net._data_cost(X, Y, 1.0 / m, metric) + net.l2_cost(m)
    return float(cost), float(metric.result())


def _prepare_data(net, X, Y, sample_weight, class_weight, validation_data,
                  validation_fraction, validation_seed, rows=None):
    """Check the data; return ``(X, Y, weights, val, train_idx)`` for the training loop.

    ``rows``: sorted indices of the columns of ``X`` (n_x, m) to train on (the rest held out
    by the caller). ``train_idx`` is the columns a memory-mapped X is trained on in place
    (None: all of the returned X); others are sliced here.
    """
    # a memory-mapped X keeps its dtype (mini-batches are cast one at a time); others are cast
    # once here, cheaper than at every batch of every epoch
    X = net.check_X(X, cast=not is_memmap(X))
    Y = net.check_Y(Y, X.shape[1])
    weights = None
    if sample_weight is not None:
        net.sample_coef(X.shape[1], sample_weight)  # validates
        weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if class_weight is not None:
        cw = class_sample_weight(net, Y, class_weight)
        weights = cw if weights is None else weights * cw
    val, train_idx = None, None
    if validation_data is not None and validation_fraction:
        raise ConfigurationError("give validation_data or validation_fraction, not both")
    if validation_data is not None:
        val = check_validation_data(net, validation_data)
    elif validation_fraction:
        tr, va = validation_split(net, X, Y, validation_fraction, validation_seed)
        val = (_columns(net, X, va), Y[:, va])
        weights = None if weights is None else weights[tr]
        if is_memmap(X):  # never copy a memory-mapped data set: batches index into it
            train_idx = np.sort(tr)
            weights = None if weights is None else weights[np.argsort(tr)]
        else:
            X, Y = X[:, tr], Y[:, tr]
    if rows is not None:
        assert val is None, "rows and a validation set of fit's own"
        weights = None if weights is None else weights[rows]
        if is_memmap(X):
            train_idx = rows
        else:
            X, Y = X[:, rows], Y[:, rows]
    return X, Y, weights, val, train_idx


def _columns(net, X, idx) -> np.ndarray:
    """Return ``X[:, idx]`` (n_x, k) in the network's dtype, for checked ``X``, sorted ``idx``.

    A memory-mapped X is read as training reads it (pages handed back as it goes): plain
    fancy indexing would leave every page it touched resident, most of the file when the
    samples are spread over it or when the file is (n_x, m) in C order.
    """
    if not is_memmap(X):
        return net.check_X(X[:, idx])
    return np.asfortranarray(_Gather(X, net.dtype)(idx))  # the layout X[:, idx] would have


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
    optimizer : str or Optimizer
        ``sgd`` (alias ``gd``), ``momentum``, ``nesterov``, ``rmsprop``, ``adam``, ``adamw``.
    schedule : str, Schedule or None
        ``constant``, ``step``, ``exponential``, ``cosine``, ``plateau``.
    clip_norm : float > 0, optional
        Rescale the whole gradient when its L2 norm exceeds this (also a finite float32
        gradient whose squared norm overflows; only NaN or inf in the gradient stop training).
    shuffle : bool
        Shuffle the samples every epoch (mini-batches only).
    sample_weight : (m,) array, optional
    class_weight : dict or 'balanced', optional
        ``{class: weight}`` multiplying each sample's weight (classification only).
    validation_data : (X_val (n_x, m_val), Y_val), optional
        ``X_val`` dense or scipy.sparse.
    validation_fraction : float in (0, 1), optional
        Hold out this share of the samples (stratified for classification) drawn with
        ``validation_seed``.
    validation_seed : int
        Seed of the draw of ``validation_fraction``'s samples, apart from ``seed``.
    callbacks : list of Callback, optional
    verbose : int >= 0 or bool
        0: silent; 1: a progress bar (one plain line per epoch when not on a terminal);
        2 or more: one plain line per epoch everywhere (Keras's ``verbose=2``).
    seed : int or Generator, optional
        Source of shuffling and dropout draws; default: the network's generator.
    diagnose : bool
        Run :func:`npdeep.diagnostics.diagnose` at the end (``history.diagnosis``).

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
    if isinstance(verbose, (bool, np.bool_)):
        verbose = int(verbose)
    verbose = check_positive_int(verbose, "verbose", minimum=0)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ConfigurationError(f"shuffle must be True or False, got {shuffle!r}")
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
        sched.set_epochs(epochs)
    X, Y, weights, val, train_idx = _prepare_data(
        net, X, Y, sample_weight, class_weight, validation_data, validation_fraction,
        validation_seed, _rows)
    m = X.shape[1] if train_idx is None else train_idx.shape[0]
    coef_full = net.sample_coef(m, weights)
    opt.setup(net.layout)
    rng = net.rng if seed is None else (seed if isinstance(seed, np.random.Generator)
                                        else np.random.default_rng(seed))
    config = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
              "clip_norm": clip_norm, "shuffle": bool(shuffle),
              "validation_fraction": validation_fraction, "validation_seed": validation_seed,
              "class_weight": _jsonable_class_weight(class_weight)}
    trainer = Trainer(net, opt, learning_rate, sched, clip_norm, rng, config)
    history = History()
    start_epoch = 0
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
    if verbose:
        cbs.append(ProgressBar(force_plain=True if verbose >= 2 else None))
    cb = CallbackList(cbs, net, trainer)
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
            UserWarning, stacklevel=3)
    if full_batch and train_idx is not None:
        X, Y, train_idx = X[:, train_idx], Y[:, train_idx], None
    if full_batch and X.dtype != net.dtype:
        X = X.astype(net.dtype)
    source = None if full_batch else BatchSource(net, X, Y, batch_size, coef_full, train_idx)
    if source is not None and source.X.feature_chunk is not None:
        warnings.warn(
            f"X is a memory-mapped file of shape {X.shape} in C order, features as rows: each "
            "mini-batch reads a value from every row, that is most pages of the file, for "
            "every batch; save it with samples as rows, (m, n_x), and pass "
            "np.load(path, mmap_mode='r').T",
            UserWarning, stacklevel=3)
    metric = Metric(net, Y if train_idx is None else Y[:, train_idx])

    cb.on_train_begin({"epochs": epochs, "samples": m, "initial_epoch": start_epoch})
    epoch = start_epoch
    try:
        for epoch in range(start_epoch, epochs):
            if trainer.stop_training:  # stopped in on_train_begin (a resumed EarlyStopping)
                break
            trainer.epoch = epoch
            trainer.learning_rate = sched.learning_rate(epoch, trainer.initial_learning_rate)
            cb.on_epoch_begin(epoch, {"learning_rate": trainer.learning_rate})
            start = time.perf_counter()
            metric.total, metric.count = 0.0, 0
            if full_batch:
                trainer.batch = 0
                if cb.wants_batches:
                    cb.on_batch_begin(0, {"size": m})
                cost = trainer.step(X, Y, coef_full, metric, record=True)
                if cb.wants_batches:
                    cb.on_batch_end(0, {"cost": cost, "size": m})
            else:
                cost = _run_batches(trainer, source, metric, cb, rng if shuffle else None)
            logs = {"cost": float(cost), metric.name: float(metric.result())}
            if val is not None:
                vc, vm = evaluate(net, *val)
                logs["val_cost"], logs[f"val_{metric.name}"] = vc, vm
            logs["learning_rate"] = trainer.learning_rate
            logs["gradient_norms"] = list(trainer.gradient_norms or [])
            logs["time"] = time.perf_counter() - start
            sched.update(epoch, logs)
            cb.on_epoch_end(epoch, logs)
            if trainer.stop_training:
                break
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
            exc.add_note(f"on_train_end also failed: {type(cleanup).__name__}: {cleanup}")
        history.trainer = None
        raise
    net.release_inputs()  # the workspaces must not keep the training set (full batch) alive
    report = (lambda: _diagnose_end(trainer, X, Y, train_idx)) if diagnose else None
    cb.on_train_end({}, before_reports=report)
    # net.history outlives the fit: it must not keep the trainer, whose optimizer state (Adam:
    # twice the parameters) would stay in memory and travel with every pickle of the network
    history.trainer = None
    net.history = history
    return history


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
        trainer.net, _columns(trainer.net, X, pick), Y[:, pick], history=history)


def _run_batches(trainer, source, metric, cb, rng) -> float:
    """Run one epoch of mini-batches; return the mean cost over the samples it visited."""
    total, seen = 0.0, 0
    last = source.n_batches - 1
    # the per-layer norms are logged from the epoch's last batch; a batch hook may end the
    # epoch at any batch, so with batch hooks every batch records them
    every = cb.wants_batches
    for i, (A0, Yb, coef) in enumerate(source.batches(rng)):
        trainer.batch = i
        if cb.wants_batches:
            cb.on_batch_begin(i, {"size": A0.shape[1]})
        c = trainer.step(A0, Yb, coef, metric, record=every or i == last)
        total += c * A0.shape[1]
        seen += A0.shape[1]
        if cb.wants_batches:
            cb.on_batch_end(i, {"cost": c, "size": A0.shape[1]})
        if trainer.stop_training:  # the NaN guard, or a batch hook
            break
    return total / seen


def _jsonable_class_weight(class_weight):
    if isinstance(class_weight, dict):
        return {str(k): float(v) for k, v in class_weight.items()}
    return class_weight
