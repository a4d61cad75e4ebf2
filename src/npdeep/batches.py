"""Mini-batches for training: the samples of each batch gathered into reused buffers.

``X`` is (n_x, N) and ``Y`` (n_L, N), samples as columns. A batch is gathered along the axis
the memory layout makes cheap, cast into the network's dtype, and, for a memory-mapped ``X``,
read with its pages handed back to the kernel as it goes, so that a data set larger than
memory trains in shuffled mini-batches without being copied. Prediction and the cost read a
large ``X`` in consecutive blocks of samples (:func:`blocks`), cast and released the same way.
"""

from __future__ import annotations

import numpy as np

from ._mmap import PageReleaser, is_memmap
from ._sparse import SparseGather, is_sparse

__all__ = ["Gather", "BatchSource", "blocks", "columns"]


class Gather:
    """Copy the samples ``idx`` of ``A`` (n, N) into a preallocated (n, m) batch.

    The gather runs along the axis the memory layout makes cheap: whole rows of the
    samples-major view ``A.T`` (N, n) when a sample's values are contiguous (F-ordered ``A``,
    e.g. ``rows.T`` or a memory-mapped (N, n) ``.npy`` transposed), else columns of a
    C-ordered ``A``. The wrong one costs 10-1000x more (a strided gather per value).
    Integer or float64 data are cast into the network's dtype per batch. With
    ``in_file_order`` (a memory-mapped ``A``) the samples are read in increasing index order,
    for locality, then put back in the order of ``idx``: the batch is the one an array in
    memory gives, bit for bit.
    """

    def __init__(self, A, dtype, in_file_order: bool = False):
        self.A = A
        self.in_file_order = in_file_order
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
            bufs = (np.empty(shape, dt), np.empty(shape, self.dtype) if dt != self.dtype else None,
                    np.empty(shape, dt) if self.in_file_order else None)
            self._buffers[m] = bufs
        raw, cast, ordered = bufs
        order = None
        if self.in_file_order:  # read forwards; sample j read is the batch's sample order[j]
            order = np.argsort(idx, kind="stable")
            idx = idx[order]
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
        if order is not None:
            if self.by_rows:
                ordered[order] = raw
            else:
                ordered[:, order] = raw
            raw = ordered
        if cast is not None:
            np.copyto(cast, raw, casting="unsafe")
            raw = cast
        return raw.T if self.by_rows else raw


class BatchSource:
    """Serve shuffled mini-batches of ``X`` (n_x, N) and ``Y`` (n_L, N) into preallocated buffers.

    Each batch is returned as ``(A0, Y, coef)`` with ``A0`` (n_x, m) and ``Y`` (n_L, m) views
    of reused buffers (nothing proportional to the batch is allocated after the first epoch).
    A sparse ``X`` (CSC) gives each batch as a new CSC matrix of its columns, never densified.
    A memory-mapped ``X`` is read batch by batch, each batch's samples in file order for
    locality (then put in the batch's drawn order: the batches of the array in memory; that
    order's two (m,) index arrays are new each batch), and its pages are handed back to the
    kernel as training goes, so the data set is never copied nor held in memory whole.
    """

    def __init__(self, net, X, Y, batch_size: int, coef_full=None, indices=None):
        # indices: the training samples among X's columns (None: all); coef_full is theirs
        self.indices = indices
        self.N = X.shape[1] if indices is None else indices.shape[0]
        self.batch_size = min(batch_size, self.N)
        self.n_batches = -(-self.N // self.batch_size)
        # a sparse X (checked: CSC in the network's dtype) is gathered column by column
        self.X = SparseGather(X) if is_sparse(X) else \
            Gather(X, net.dtype, in_file_order=is_memmap(X))
        self.Y = Gather(Y, net.dtype)
        weights = None if np.ndim(coef_full) == 0 else np.ravel(coef_full)
        if weights is not None and indices is not None:  # index the weights like X's columns
            full = np.zeros(X.shape[1], weights.dtype)
            full[indices] = weights
            weights = full
        self.weights = weights
        self._coef: dict = {}

    def batches(self, rng: np.random.Generator | None):
        """Yield ``(A0, Y, coef)`` for one epoch, shuffled with ``rng`` (None: in order)."""
        order = rng.permutation(self.N) if rng is not None else np.arange(self.N)
        if self.indices is not None:
            order = self.indices[order]
        for start in range(0, self.N, self.batch_size):
            idx = order[start : start + self.batch_size]
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


def columns(net, X, idx) -> np.ndarray:
    """Return ``X[:, idx]`` (n_x, k) in the network's dtype, for checked ``X``, sorted ``idx``.

    A memory-mapped X is read as training reads it (pages handed back as it goes): plain
    fancy indexing would leave every page it touched resident, most of the file when the
    samples are spread over it or when the file is (n_x, m) in C order.
    """
    if not is_memmap(X):
        return net.check_X(X[:, idx])
    return np.asfortranarray(Gather(X, net.dtype)(idx))  # the layout X[:, idx] would have


def blocks(X: np.ndarray, dtype: np.dtype, size: int):
    """Yield ``(start, A0)``: the samples of a checked X (n_x, m) in blocks of ``size``.

    ``A0`` (n_x, k) holds samples ``start:start + k`` in ``dtype`` (a view of X, or a reused
    buffer valid until the next block). An X in another dtype (a memory-mapped file, which
    check_X leaves uncast) is cast one block at a time, and a memory-mapped X's pages are
    handed back as it is read (an (n_x, m) file in C order a few rows at a time), so no copy
    of the whole X is made, in memory or resident.
    """
    m = X.shape[1]
    pages = PageReleaser(X)
    if m <= size:  # one block
        yield 0, (X if X.dtype == dtype else X.astype(dtype))
        pages.release()
        return
    n_x, rows = X.shape[0], X.shape[0]
    if pages.active and not X.flags.f_contiguous:
        # an (n_x, m) file in C order: a block of samples touches every row (and the page or
        # larger folio around each value), so copy it a budget's worth of rows at a time
        rows = max(1, pages.budget // (m * X.dtype.itemsize))
    # one block's buffer in X's memory layout, reused across blocks
    buf = None if X.dtype == dtype and rows == n_x else \
        np.empty_like(X[:, :size], dtype=dtype, subok=False)
    for start in range(0, m, size):
        block = X[:, start : start + size]
        if buf is not None:
            A0 = buf[:, : block.shape[1]]
            for r in range(0, n_x, rows):
                np.copyto(A0[r : r + rows], block[r : r + rows], casting="unsafe")
                if rows < n_x:
                    pages.release()
            block = A0
        yield start, block
        pages.release()
