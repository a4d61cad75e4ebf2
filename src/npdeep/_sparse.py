"""Sparse inputs: a scipy.sparse ``X`` (n_x, m), checked into CSC, gathered by columns.

Only ``a[0] = X`` is ever sparse: from ``Z[1]`` on every array is dense. Two products of a
training step read ``a[0]``, and they are the only ones that differ (see :mod:`npdeep.engine`)::

    Z[1]  = W[1] . a[0]       dense (n[1], n_x) times sparse (n_x, m)
    dW[1] = dZ[1] . a[0]^T    dense (n[1], m) times sparse (m, n_x)

SciPy computes each as a sparse-times-dense product on the transposes and returns a new array,
which is copied into the workspace: a sparse step allocates, a dense step never does. For a
batch with few stored entries, both products work on the columns of the features present only
(:func:`weights_times_sparse`, :func:`delta_times_sparse_T`): no copy of the whole W[1], no new
(n[1], n_x) product.

CSC is the natural format of ``X`` (n_x, m) here: a column is a sample, so a mini-batch
``X[:, idx]`` is a gather of whole columns, and ``a[0]^T`` is CSR with no conversion.
"""

from __future__ import annotations

import sys

import numpy as np

from ._validation import too_large_error
from .errors import DataError

__all__ = ["is_sparse", "check_sparse", "matmul_into", "weights_times_sparse",
           "delta_times_sparse_T", "SparseGather"]


def is_sparse(X) -> bool:
    """True for a scipy.sparse matrix or array (any format).

    Answers without importing scipy.sparse: a sparse ``X`` exists only once it is imported.
    """
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def check_dtype(X, name: str) -> None:
    """Refuse a sparse ``X`` of complex numbers (scipy.sparse holds no other non-real dtype:
    bool, integers and floats are cast to the network's dtype)."""
    if X.dtype.kind == "c":
        raise DataError(f"{name} must hold real numbers, got complex numbers (a sparse "
                        f"{X.format} matrix of dtype {X.dtype})")


def check_sparse(X, name: str, dtype) -> object:
    """Return a 2-D sparse ``X`` of any format as CSC in ``dtype``, its stored values checked.

    The caller has checked the shape. NaN and inf are refused among the stored entries (the
    others are zeros); integer and bool values are cast, float64 values too large for a
    float32 network are refused. ``X`` itself is never modified.
    """
    check_dtype(X, name)
    X = X.tocsc()
    if not np.isfinite(X.data).all():
        bad = int(np.count_nonzero(~np.isfinite(X.data)))
        raise DataError(f"{name} contains NaN or inf values ({bad} of the {X.nnz} entries "
                        f"stored in the sparse {name})")
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        out = X.astype(dtype)
    if not np.isfinite(out.data).all():
        raise too_large_error(name, dtype)
    return out


_BLOCK = 256  # columns per copy of a transposed product: a block's cache lines stay in L1


def matmul_into(A, B, out: np.ndarray) -> np.ndarray:
    """Write ``A . B`` into ``out`` when one of ``A``, ``B`` is sparse (the other dense).

    The signature of ``np.matmul(A, B, out=out)``, which the engine calls for dense layers.
    SciPy returns ``dZ[1] . a[0]^T`` as the transpose of its (n_x, n[1]) product; that is
    copied into ``dW[1]`` (n[1], n_x) a block of columns at a time (twice as fast as one
    strided copy when n_x is in the tens of thousands).
    """
    P = A @ B
    if P.flags.c_contiguous or P.shape[1] <= _BLOCK:
        np.copyto(out, P)
        return out
    for j in range(0, P.shape[1], _BLOCK):
        np.copyto(out[:, j : j + _BLOCK], P[:, j : j + _BLOCK])
    return out


def weights_times_sparse(W: np.ndarray, X, out: np.ndarray) -> np.ndarray:
    """Write ``Z[1] = W[1] . a[0]`` (n[1], m) into ``out`` for a checked CSC ``X`` (n_x, m).

    SciPy's product copies the whole W[1] (n[1], n_x) into the layout its kernel reads, on
    every call: 200 MB for 256 units on 100,000 features, to predict one sample of a few
    hundred stored entries. When ``X`` stores fewer than ``n_x / 4`` entries (a small batch of
    a wide, very sparse X), only the columns of W[1] of the features it holds are gathered
    (``k`` of them: (n[1], k)), and ``X`` is renumbered onto those ``k`` features. The kernel
    then adds the same terms in the same order: the result is the same, bit for bit. At more
    entries the gather costs more than the copy (its reads are scattered), and SciPy's
    product is kept.
    """
    if X.nnz > X.shape[0] // 4:
        return matmul_into(W, X, out)
    features, local = _renumbered(X)
    # (n[1], k) gathered along W's rows (contiguous), its transpose the (k, n[1]) the kernel reads
    np.copyto(out, (local.T @ np.take(W, features, axis=1).T).T)
    return out


def delta_times_sparse_T(dZ: np.ndarray, XT, out: np.ndarray) -> np.ndarray:
    """Write ``dW[1] = dZ[1] . a[0]^T`` (n[1], n_x) into ``out``; ``XT`` is ``X.T`` (CSR).

    As :func:`weights_times_sparse`: for a batch that stores fewer than ``n_x / 4`` entries,
    only the ``k`` columns of dW[1] of its features are computed, (n[1], k), and the others
    set to 0, instead of SciPy's new (n[1], n_x) product copied into ``out``. Same result,
    bit for bit.
    """
    X = XT.T
    if X.nnz > X.shape[0] // 4:
        return matmul_into(dZ, XT, out)
    features, local = _renumbered(X)
    out.fill(0)
    out[:, features] = (local @ dZ.T).T
    return out


def _renumbered(X):
    """Return the features (k,) that a CSC ``X`` (n_x, m) stores entries of, sorted, and
    ``X`` renumbered onto them: CSC (k, m), its entries in the same order."""
    features = np.unique(X.indices)
    local = type(X)((X.data, np.searchsorted(features, X.indices).astype(X.indices.dtype),
                     X.indptr), shape=(features.size, X.shape[1]))
    return features, local


class SparseGather:
    """Serve mini-batches ``X[:, idx]`` (n_x, m) of a checked CSC ``X`` (n_x, N).

    Each batch is a new CSC matrix of the batch's columns, in the order of ``idx`` (SciPy
    copies the stored entries of those columns only: the data set is never densified).
    """

    feature_chunk = None  # a memory-mapped dense X's setting (see batches.Gather)

    def __init__(self, X):
        self.A = X

    def __call__(self, idx: np.ndarray):
        """Return the batch ``X[:, idx]``: sparse CSC (n_x, m)."""
        return self.A[:, idx]
