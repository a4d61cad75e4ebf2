"""Checks of an estimator's ``X`` (m, n_x) beyond scikit-learn's: the scale of its features.

A feature far from unit size draws a warning (the network trains poorly on it); a memory-mapped
``X`` is measured block by block, which is also where its NaN and inf are refused.
:func:`checked_sample_weight` runs scikit-learn's check of ``sample_weight`` and raises its
refusals as DataError.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from .._mmap import is_memmap
from .._sparse import is_sparse
from .._validation import blocks, caller_level, check_finite, overflow_error
from ..errors import DataError

__all__ = ["warn_if_unscaled", "column_squares", "checked_sample_weight", "plain",
           "plain_targets", "refuse_non_numbers"]

#: Root mean square of a feature column above which fit warns that X looks unscaled.
_UNSCALED_RMS = 10.0
#: ... and below which, for the largest of a dense X's columns, it warns too (features all
#: of 0.1 train to R^2 0.44 where standardized ones reach 0.96; all of 1e-3 stop at the prior)
_TINY_RMS = 0.1


def plain(value, vector: bool = False):
    """Return an ``np.matrix`` ``value`` as a plain ndarray view (scikit-learn refuses the
    matrix class with a TypeError); anything else, a np.memmap included, as it is.

    ``vector``: a matrix of one row or column is flattened (a matrix is never 1-D, so
    sample weights from one come as (1, m) or (m, 1)).
    """
    if not isinstance(value, np.matrix):
        return value
    arr = np.asarray(value)
    return arr.reshape(-1) if vector and 1 in arr.shape else arr


def plain_targets(y, X):
    """Return an ``np.matrix`` ``y`` as a plain ndarray, a column (m, 1) or a row (1, m) of
    targets for the m rows of ``X`` flattened to (m,); anything else as it is."""
    if not isinstance(y, np.matrix):
        return y
    arr = np.asarray(y)
    rows = getattr(X, "shape", (None,))[0]
    if arr.shape[1] == 1 or (arr.shape[0] == 1 and arr.shape[1] == rows):
        return arr.reshape(-1)
    return arr


def refuse_non_numbers(X):
    """Return ``X`` (a list as an array), or raise DataError for dates, times, text or records.

    fit and predict refuse the same arrays with the same message: fit's float64 conversion
    took dates as day counts and numbers stored as text ("1.5") silently, where predict
    refused them (and a memory-mapped file of dates reached a raw TypeError); complex ones
    are refused without scikit-learn's copy of the whole array in the message. A DataFrame, a
    sparse matrix or an object array is left to scikit-learn's checks (the text or date
    columns of a DataFrame are named by the caller).
    """
    if isinstance(X, (list, tuple)):
        try:
            X = np.asarray(X)
        except ValueError:  # ragged rows: scikit-learn's message
            return X
    dtype = getattr(X, "dtype", None)
    if not isinstance(X, np.ndarray) or not isinstance(dtype, np.dtype):
        return X
    if dtype.kind == "c":  # scikit-learn's words (its checks look for them), not its copy
        raise DataError(f"Complex data not supported: X must hold real numbers, got "
                        f"complex numbers (dtype {dtype})")  # of the whole array
    if dtype.kind in "mM":
        raise DataError(f"X must hold real numbers, got dates or times (dtype {dtype}); turn "
                        "them into numbers first (e.g. the days since a start date)")
    if dtype.kind in "US":
        first = X.flat[0].item() if X.size else None
        try:
            float(first)
            hint = (f"it holds numbers as text ({first!r:.40}): convert them with "
                    "X.astype(float)")
        except (TypeError, ValueError):
            hint = (f"it holds text ({first!r:.40}): encode it first (e.g. OneHotEncoder), "
                    "and numbers stored as text with X.astype(float)")
        raise DataError(f"X must hold numbers, got text (dtype {dtype}); {hint}")
    if dtype.kind == "V":
        raise DataError(f"X must be an array of numbers, got a structured array (dtype "
                        f"{dtype}); pass its fields as columns of a plain array")
    return X


def warn_if_unscaled(X, name: str) -> None:
    """Warn when a column of ``X`` (m, n_x) is far from unit size (root mean square > 10), or
    every column of a dense ``X`` is (the largest root mean square < 0.1, all-zero X aside).

    Like scikit-learn's MLP, the estimators train on ``X`` as given; with raw features such
    as pixels in 0..255 or prices in the thousands the first layer saturates and training
    stalls or stops early (wine unscaled: 43% accuracy, standardized: 97%); with features all
    of 1e-3 the first layer's outputs hardly vary, and training stops at the class prior. A
    sparse ``X`` (CSR) is measured from its stored entries, and the advice is a scaler that
    keeps it sparse; it is not warned for small values (many small features, as tf-idf's).
    A memory-mapped ``X`` is measured in blocks (:func:`column_squares`), which also refuse
    NaN and inf.
    """
    if X.shape[0] == 0:
        return
    sparse = is_sparse(X)
    with np.errstate(all="ignore"):
        if sparse:  # from the stored entries: no float64 copies of X (they were 3x X)
            X = X.tocsr()
            if not X.has_canonical_format:  # duplicates add up before they are squared
                X = X.copy()
                X.sum_duplicates()
            squares = np.bincount(X.indices, np.square(X.data, dtype=np.float64),
                                  minlength=X.shape[1])
        else:
            squares = column_squares(X)
        rms = np.sqrt(squares / X.shape[0])
    j = int(np.argmax(rms))
    if rms[j] > _UNSCALED_RMS:
        if np.isinf(rms[j]):  # the squares overflowed: values beyond 1e154
            size = f"values up to {float(abs(X[:, [j]]).max()):.3g}"
        else:
            size = f"a root mean square of {rms[j]:.3g}"
        what = f"column {j} has {size}"
    elif not sparse and 0 < rms[j] < _TINY_RMS:
        what = f"the largest root mean square of a column is {rms[j]:.3g}, column {j}'s"
    else:  # NaN (refused elsewhere) does not warn
        return
    scaler = "MaxAbsScaler()" if sparse else "StandardScaler()"
    keep = (" (one that keeps X sparse; or StandardScaler(with_mean=False))" if sparse
            else "")
    warnings.warn(
        f"{name}: the features of X are not standardized ({what}); the network trains "
        f"poorly on unscaled inputs. Put a scaler before it{keep}: "
        f"make_pipeline({scaler}, {name}(...))",
        UserWarning, stacklevel=caller_level(),
    )


def column_squares(X) -> np.ndarray:
    """Return ``sum_i X[i, j]^2`` for each column j of a dense ``X`` (m, n_x), as (n_x,) float64.

    ``einsum`` casts through small buffers, so no float64 copy of ``X`` is made. A
    memory-mapped ``X`` is read one block at a time (:func:`npdeep._validation.blocks`, pages
    handed back as it goes), and a block holding NaN or inf raises DataError: this pass is
    also the finiteness check that scikit-learn's validation, which would read the whole
    file, skips for a memmap.
    """
    if not is_memmap(X):
        return np.einsum("ij,ij->j", X, X, dtype=np.float64)
    squares = np.zeros(X.shape[1])
    for cols, block in blocks(X):
        check_finite(block, "X")
        squares[cols] += np.einsum("ij,ij->j", block, block, dtype=np.float64)
    return squares


def checked_sample_weight(sample_weight, X, dtype) -> np.ndarray:
    """Return ``sample_weight`` as a (m,) array of ``dtype`` for the m rows of ``X``.

    scikit-learn's check, whose ValueErrors (a wrong length, NaN or inf, 2-D weights, text)
    come out as DataError with the same message: every error npdeep raises for rejected input
    derives from :class:`~npdeep.errors.NpdeepError` (DataError is still a ValueError).

    Parameters
    ----------
    sample_weight : array-like of shape (m,), or a number
        The weight of each row of ``X`` (a number: the same for every row).
    X : array-like of shape (m, n_x) or (m,)
        The rows weighted (only their count is used).
    dtype : numpy dtype
        The float type of the result.
    """
    try:
        return _check_sample_weight(plain(sample_weight, vector=True), plain(X), dtype=dtype)
    except OverflowError:  # a Python int beyond float64 (10**400)
        raise overflow_error("sample_weight", sample_weight) from None
    except (TypeError, ValueError) as exc:  # TypeError: a scipy.sparse sample_weight
        if isinstance(exc, DataError):
            raise
        raise DataError(str(exc)) from exc
