"""Checks of what the user hands a network: ``X`` (n_x, m), ``Y`` (n_L, m), sample weights.

Every function returns the array the math reads (shape and dtype fixed) or raises a
DataError whose message names the argument, the shape it has and the one it needs.

>>> import numpy as np
>>> from npdeep.inputs import check_X, one_hot
>>> check_X(np.ones((3, 2)), n_x=3, dtype=np.dtype("float32")).dtype
dtype('float32')
>>> one_hot(np.array([2, 0]), n_L=3, dtype=np.dtype("float64"), name="Y")
array([[0., 1.],
       [0., 0.],
       [1., 0.]])
"""

from __future__ import annotations

import numpy as np

from ._sparse import check_dtype as check_sparse_dtype
from ._sparse import check_sparse, is_sparse
from ._validation import as_numeric_array, blocks, check_finite, refuse_sparse, too_large_error
from .errors import DataError

__all__ = ["check_X", "check_Y", "cast", "one_hot", "sample_coef"]


def check_X(X, n_x: int, dtype: np.dtype, name: str = "X", cast_it: bool = True) -> np.ndarray:
    """Validate ``X`` of shape (n_x, m) and return it in ``dtype``.

    With ``cast_it=False`` a valid array keeps its dtype (training casts each mini-batch, so
    a memory-mapped data set is never copied whole).

    A scipy.sparse ``X`` (any format) is returned as CSC in ``dtype``, never densified; NaN or
    inf among its stored entries are refused.
    """
    sparse = is_sparse(X)
    if sparse:
        check_sparse_dtype(X, name)
    else:
        X = as_numeric_array(X, name)
    if X.ndim == 1 and n_x == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2:
        hint = ""
        if X.ndim == 1 and X.shape[0] == n_x:
            hint = f" (one sample of n_x = {n_x} features: pass {name}.reshape(-1, 1))"
        raise DataError(
            f"{name} must be 2-D (n_x, m) = (features, samples), got shape {X.shape}{hint}"
        )
    if X.shape[0] != n_x:
        hint = " (it looks transposed: use X.T)" if X.shape[1] == n_x else ""
        raise DataError(
            f"{name} has {X.shape[0]} rows but the network expects n_x = {n_x} "
            f"features; {name} must be (n_x, m) = (features, samples){hint}"
        )
    if X.shape[1] == 0:
        raise DataError(f"{name} has no samples (shape {X.shape})")
    if sparse:
        return check_sparse(X, name, dtype)
    # uncast (a memory-mapped X cast batch by batch): refuse here what the casts would turn
    # into inf, as cast does for the others
    narrow = not cast_it and X.dtype.kind == "f" and X.dtype.itemsize > dtype.itemsize
    check_finite(X, name, narrow_to=dtype if narrow else None)
    return X if X.dtype == dtype or not cast_it else cast(X, dtype, name)


def cast(arr: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """Return finite ``arr`` in ``dtype``; refuse values it cannot hold (1e300 in float32)."""
    with np.errstate(over="ignore"):
        out = arr.astype(dtype)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > dtype.itemsize and not _all_finite(out):
        raise too_large_error(name, dtype)
    return out


def _all_finite(arr: np.ndarray) -> bool:
    """Whether ``arr`` is finite, checked a block at a time (np.isfinite(arr) whole is a
    bool array the size of ``arr``: 60,000 x 784 float64 data cast to float32, 47 MB)."""
    if arr.ndim != 2:
        return bool(np.isfinite(arr).all())
    return all(np.isfinite(block).all() for _, block in blocks(arr))


def check_Y(Y, m: int, n_L: int, output: str, loss, dtype: np.dtype,
            name: str = "Y") -> np.ndarray:
    """Validate targets ``Y`` for ``m`` samples and return them as (n_L, m) in ``dtype``.

    ``output`` is the name of g[L]; integer class labels of shape (m,) are one-hot encoded
    for a softmax output. ``loss.check_targets`` refuses values the loss cannot take.
    """
    refuse_sparse(Y, name)  # before the labels' hint below, which would not apply
    try:
        Y = as_numeric_array(Y, name)
    except DataError as exc:
        if output not in ("sigmoid", "softmax"):
            raise
        classes = "0 and 1" if output == "sigmoid" else f"0 to {n_L - 1}"
        raise DataError(f"{exc}; give the class labels as integers {classes} "
                        "(npdeep.DeepClassifier takes labels of any kind)") from None
    given_1d = Y.ndim == 1
    if Y.ndim == 1:
        Y = one_hot(Y, n_L, dtype, name) if output == "softmax" else Y.reshape(1, -1)
    if Y.ndim != 2:
        raise DataError(f"{name} must be 2-D (n_L, m), got shape {Y.shape}")
    if Y.shape[1] != m:
        hint = ""
        if Y.shape[0] == m and Y.shape[1] == 1:
            hint = f" (it looks like a column of labels: pass {name}.ravel())"
        elif Y.shape[0] == m:
            hint = f" (it looks transposed: use {name}.T)"
        x_name = name[:-1] + "X" if name.endswith("Y") else "X"  # validation Y's: validation X
        raise DataError(
            f"{x_name} and {name} have different sample counts: {x_name} has m = {m} columns, "
            f"{name} has {Y.shape[1]} (samples are columns){hint}"
        )
    if Y.shape[0] != n_L:
        hint = ""
        if given_1d:
            hint = f" ({name} of shape ({m},) is one target per sample; give ({n_L}, m))"
        elif Y.shape[0] == 1 and output == "softmax":
            hint = f" (class labels go as a 1-D array (m,): pass {name}.ravel())"
        elif Y.shape[0] == 2 and n_L == 1 and output == "sigmoid":
            hint = (f" (for one sigmoid unit give 0/1 labels: the one-hot {name}'s second "
                    f"row, {name}[1])")
        raise DataError(
            f"{name} has {Y.shape[0]} rows but the network has n_L = {n_L} outputs{hint}")
    check_finite(Y, name)
    loss.check_targets(Y)
    return Y if Y.dtype == dtype else cast(Y, dtype, name)


def one_hot(labels: np.ndarray, n_L: int, dtype: np.dtype, name: str) -> np.ndarray:
    """Return the one-hot (n_L, m) matrix of integer class labels (m,) in [0, n_L)."""
    check_finite(labels, name)
    bad = (labels != np.round(labels)) | (labels < 0) | (labels >= n_L)
    if bad.any():
        first = int(np.argmax(bad))
        hint = ""
        if labels.min() == 1 and labels.max() == n_L and not np.any(labels != np.round(labels)):
            hint = f" (they look numbered from 1: pass {name} - 1)"
        raise DataError(
            f"{name} given as labels must hold integers in [0, {n_L}) for {n_L} softmax "
            f"units, got {labels[first].item()!r} at index {first}{hint}"
        )
    Y = np.zeros((n_L, labels.shape[0]), dtype=dtype)
    Y[labels.astype(np.intp), np.arange(labels.shape[0])] = 1
    return Y


def sample_weights(m: int, sample_weight, name: str = "sample_weight") -> np.ndarray | None:
    """Return ``sample_weight`` checked as (m,) float64: finite, >= 0, a positive sum (None
    stays None). A (1, m) row or an (m, 1) column is flattened."""
    if sample_weight is None:
        return None
    w = as_numeric_array(sample_weight, name)
    if w.ndim == 2 and 1 in w.shape:  # a (1, m) row or an (m, 1) column
        w = w.reshape(-1)
    if w.ndim != 1:
        raise DataError(f"{name} must be 1-D (m,) = one weight per sample, got shape "
                        f"{w.shape}")
    w = w.astype(np.float64)
    if w.shape[0] != m:
        raise DataError(f"{name} has {w.shape[0]} entries for m = {m} samples")
    check_finite(w, name)
    if np.any(w < 0):
        i = int(np.argmin(w))
        raise DataError(f"{name} must be >= 0 with a positive sum, got {w[i]:.6g} "
                        f"at index {i}")
    if not np.any(w > 0):
        raise DataError(f"{name} must be >= 0 with a positive sum, got all {m} "
                        "weights 0")
    return w


def sample_coef(m: int, sample_weight, dtype: np.dtype, name: str = "sample_weight"):
    """Return ``c``: ``1/m``, or ``w / sum(w)`` of shape (1, m) in ``dtype`` with weights."""
    if sample_weight is None:
        return 1.0 / m
    w = sample_weights(m, sample_weight, name)
    # normalised in float64 after scaling by the largest weight: no sum overflows (in
    # float32, weights of 1e37 summed to inf and every coefficient became 0)
    w = w / w.max()
    return (w / w.sum()).astype(dtype).reshape(1, m)
