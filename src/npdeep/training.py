"""The training loop: epochs of (mini-)batches, each one forward pass, one backward pass and
one optimizer step, with callbacks around them.

With ``batch_size=None`` every epoch is one step of full-batch gradient descent, exactly
the article's loop, and the epoch's cost is that of its forward pass, before its update.
With a batch size, each epoch visits the samples in a fresh shuffled order, and the epoch's
cost is the mean of its batch costs (each computed before that batch's update).
"""

from __future__ import annotations

import time

import numpy as np

from . import optimizers as _optimizers
from ._validation import check_positive_float, check_positive_int
from .callbacks import CallbackList, History, ProgressBar
from .engine import backward, forward
from .errors import ConfigurationError

__all__ = ["fit", "Trainer", "BatchSource"]


class BatchSource:
    """Serve mini-batches of ``X`` (n_x, N) and ``Y`` (n_L, N) into preallocated buffers.

    Samples are gathered row-wise from a samples-major view ``X.T`` (N, n_x), so a batch is one
    contiguous block and a memory-mapped ``.npy`` of shape (N, n_x) is never copied whole.
    Each batch is returned as ``(A0, Y, coef)`` with ``A0`` (n_x, m) and ``Y`` (n_L, m) views
    of the buffers.
    """

    def __init__(self, net, X, Y, batch_size: int, coef_full=None):
        self.net = net
        self.Xr = X.T  # (N, n_x)
        self.Yr = Y.T  # (N, n_L)
        self.N = X.shape[1]
        self.batch_size = min(batch_size, self.N)
        self.weights = None if np.ndim(coef_full) == 0 else np.ravel(coef_full)
        self.sort_indices = isinstance(getattr(X, "base", None), np.memmap) or isinstance(
            X, np.memmap)
        self._buffers: dict = {}

    def _buf(self, m):
        buf = self._buffers.get(m)
        if buf is None:
            dt = self.net.dtype
            buf = (np.empty((m, self.Xr.shape[1]), self.Xr.dtype),
                   np.empty((m, self.Xr.shape[1]), dt) if self.Xr.dtype != dt else None,
                   np.empty((m, self.Yr.shape[1]), self.Yr.dtype))
            self._buffers[m] = buf
        return buf

    def batches(self, rng: np.random.Generator | None):
        """Yield ``(A0, Y, coef)`` for one epoch, shuffled with ``rng`` (None: in order)."""
        order = rng.permutation(self.N) if rng is not None else np.arange(self.N)
        for start in range(0, self.N, self.batch_size):
            idx = order[start : start + self.batch_size]
            if self.sort_indices:
                idx = np.sort(idx)
            m = idx.shape[0]
            xb, xcast, yb = self._buf(m)
            np.take(self.Xr, idx, axis=0, out=xb)
            if xcast is not None:
                np.copyto(xcast, xb, casting="unsafe")
                xb = xcast
            np.take(self.Yr, idx, axis=0, out=yb)
            if self.weights is None:
                coef = 1.0 / m
            else:
                w = self.weights[idx]
                coef = (w / w.sum()).reshape(1, m)
            yield xb.T, yb.T, coef


class Trainer:
    """Holds what persists across epochs: the optimizer, the epoch counter, the stop flag."""

    def __init__(self, net, optimizer, learning_rate: float):
        self.net = net
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epoch = 0
        self.stop_training = False
        self.stop_reason: str | None = None

    def step(self, A0, Y, coef, dropout_rng=None) -> float:
        """Run one forward/backward/update step on a batch; return its cost (before update)."""
        net = self.net
        m = A0.shape[1]
        ws = net.workspace(m, train=True)
        keep = net.keep
        A_L = forward(net.layers, net.activations, A0, ws, keep=keep, rng=dropout_rng)
        cost = net.loss.cost(A_L, Y, coef, ws.Z[net.L] if net.fused else None) + net.l2_cost(m)
        backward(net.layers, net.activations, net.loss, ws, Y, coef, net.grad_layers,
                 net.fused, dropout=keep is not None)
        net.add_l2_gradient(m)
        self.optimizer.step(net.parameters.flat, net.grad_flat, self.learning_rate)
        return cost


def fit(
    net,
    X,
    Y,
    *,
    epochs: int = 100,
    learning_rate: float = 0.01,
    batch_size: int | None = None,
    optimizer="sgd",
    shuffle: bool = True,
    sample_weight=None,
    callbacks=None,
    verbose: int = 0,
    seed=None,
) -> History:
    """Train ``net`` on ``X`` (n_x, m) and ``Y`` (n_L, m, or class labels (m,)).

    Parameters
    ----------
    epochs : int >= 1
    learning_rate : float > 0
        ``alpha`` of the update ``theta <- theta - alpha * d theta``.
    batch_size : int or None
        None: full batch, the article's gradient descent. Else shuffled mini-batches.
    optimizer : str or Optimizer
    shuffle : bool
        Shuffle the samples every epoch (mini-batches only).
    sample_weight : (m,) array, optional
    callbacks : list of Callback, optional
    verbose : int
        0: silent; 1: a progress bar (one plain line per epoch when not on a terminal).
    seed : int or Generator, optional
        Source of shuffling and dropout draws; default: the network's generator.

    Returns
    -------
    History
        ``history.cost``: one float per epoch.
    """
    epochs = check_positive_int(epochs, "epochs")
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    X = net.check_X(X)
    m = X.shape[1]
    Y = net.check_Y(Y, m)
    coef_full = net.sample_coef(m, sample_weight)
    opt = _optimizers.get(optimizer)
    opt.setup(net.layout)
    rng = net.rng if seed is None else np.random.default_rng(seed)
    if not isinstance(callbacks, (list, tuple, type(None))):
        raise ConfigurationError(f"callbacks must be a list of Callback, got {callbacks!r}")

    trainer = Trainer(net, opt, learning_rate)
    history = History()
    cbs = [history, *(callbacks or [])]
    if verbose:
        cbs.append(ProgressBar())
    cb = CallbackList(cbs, net, trainer)
    full_batch = batch_size is None or batch_size >= m
    source = None if full_batch else BatchSource(net, X, Y, batch_size, coef_full)

    cb.on_train_begin({"epochs": epochs, "samples": m})
    for epoch in range(epochs):
        trainer.epoch = epoch
        cb.on_epoch_begin(epoch, {})
        start = time.perf_counter()
        if full_batch:
            cost = trainer.step(X, Y, coef_full, rng)
        else:
            total = 0.0
            for i, (A0, Yb, coef) in enumerate(source.batches(rng if shuffle else None)):
                if cb.wants_batches:
                    cb.on_batch_begin(i, {"size": A0.shape[1]})
                c = trainer.step(A0, Yb, coef, rng)
                total += c * A0.shape[1]
                if cb.wants_batches:
                    cb.on_batch_end(i, {"cost": c, "size": A0.shape[1]})
            cost = total / m
        logs = {"cost": float(cost), "learning_rate": trainer.learning_rate,
                "time": time.perf_counter() - start}
        cb.on_epoch_end(epoch, logs)
        if trainer.stop_training:
            break
    cb.on_train_end({})
    net.history = history
    return history
