"""Checks at the boundary: shapes, finiteness and numbers given by users."""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from ._mmap import PageReleaser
from .errors import ConfigurationError, DataError

_CHUNK = 1 << 20  # elements checked at a time, so a memory-mapped array is never copied whole


def check_finite(arr: np.ndarray, name: str, narrow_to=None) -> None:
    """Raise DataError when ``arr`` holds NaN or inf (checked in chunks, see :func:`blocks`).

    ``narrow_to``: a float dtype the values will be cast into later (a memory-mapped float64
    ``X`` cast batch by batch into a float32 network); values it cannot hold are refused as
    :func:`too_large_error` says, in the same pass over the data.
    """
    if arr.size == 0:
        return
    if arr.ndim == 2 and arr.size > _CHUNK:
        for _, block in blocks(arr):
            _check_block(block, name, narrow_to)
        return
    _check_block(arr, name, narrow_to)


def blocks(arr: np.ndarray):
    """Yield ``(cols, block)``: a 2-D ``arr`` (n, m) in blocks of about a million values.

    ``block`` is ``arr[rows, cols]`` for some rows: each block is one run of memory, columns
    of an (m, n) file read as ``.T`` (F order), rows of an (n, m) file in C order (a block of
    columns of the latter would touch a page, or a larger folio, in every row). A
    memory-mapped ``arr`` has its pages handed back as the walk goes, so its resident memory
    stays small; nothing is copied.
    """
    pages = PageReleaser(arr)
    by_rows = arr.flags.c_contiguous and not arr.flags.f_contiguous
    n, m = arr.shape if not by_rows else arr.shape[::-1]
    step = max(1, _CHUNK // max(1, n))
    try:
        for start in range(0, m, step):
            if by_rows:
                cols, block = slice(None), arr[start : start + step]
            else:
                cols = slice(start, start + step)
                block = arr[:, cols]
            yield cols, block
            pages.touch(block.nbytes)
    finally:  # also when the caller stops early (an error in a block)
        pages.release()


def _check_block(block: np.ndarray, name: str, narrow_to) -> None:
    if not np.isfinite(block).all():
        raise DataError(f"{name} contains NaN or inf values")
    if narrow_to is not None:
        with np.errstate(over="ignore"):
            if not np.isfinite(block.astype(narrow_to)).all():
                raise too_large_error(name, narrow_to)


def parse_dtype(value) -> np.dtype | None:
    """Return ``np.dtype(value)``, or None for anything NumPy cannot read as a dtype.

    NumPy raises TypeError, ValueError or even SyntaxError (``np.dtype("01")``) on a bad
    spelling; callers turn None into an error that names the argument.
    """
    try:
        return np.dtype(value)
    except (TypeError, ValueError, SyntaxError):
        return None


def too_large_error(name: str, dtype) -> DataError:
    """The DataError for finite values that overflow ``dtype`` (wider data than the network's).

    The hint to build a float64 network is given only to a narrower one: values beyond
    float64 (long double data) fit no network.
    """
    dtype = np.dtype(dtype)
    hint = " (a network built with dtype='float64' holds such values)" \
        if dtype.itemsize < np.dtype(np.float64).itemsize else ""
    return DataError(f"{name} has values too large for {dtype.name} "
                     f"(|x| > {np.finfo(dtype).max:.1e}), in which this network "
                     f"computes; rescale it{hint}")


def refuse_sparse(value, name: str) -> None:
    """Raise DataError for a scipy.sparse ``value``: only ``X`` is taken sparse."""
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(value):
        raise DataError(f"{name} must be a dense array, got a scipy.sparse {value.format} "
                        f"matrix of shape {value.shape}; only X may be sparse: pass "
                        f"{name}.toarray()")


def as_numeric_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a numeric ndarray without copying when possible."""
    refuse_sparse(value, name)
    if isinstance(value, np.ma.MaskedArray):  # its arithmetic differs; its data may not count
        if np.ma.getmaskarray(value).any():
            raise DataError(f"{name} is a masked array with {np.ma.count_masked(value)} masked "
                            "(missing) entries; fill or drop them first")
        value = value.data
    if isinstance(value, np.matrix):  # always 2-D, `*` is a matrix product and reductions
        value = np.asarray(value)     # keep 2-D: a plain view (a np.memmap stays as it is)
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except ValueError as exc:  # nested lists of different lengths
            raise DataError(f"{name} must be a rectangular array of numbers ({exc})") from None
    if arr.dtype.kind in "cmM":
        what = "complex numbers" if arr.dtype.kind == "c" else "dates or times"
        raise DataError(f"{name} must hold real numbers, got {what} (dtype {arr.dtype})")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except OverflowError:  # a Python int beyond float64 (10**400) among the values
            raise overflow_error(name, arr) from None
        except (TypeError, ValueError):
            raise DataError(f"{name} must be numeric, got an array of dtype {arr.dtype}"
                            f"{_first_non_number(arr)}") from None
    return arr


def overflow_error(name: str, value) -> DataError:
    """The DataError for ``value`` holding a number beyond float64 (a Python int of 10**400),
    naming ``name`` and, when it is found, the first such entry."""
    where = ""
    try:
        arr = np.asarray(value, dtype=object)
        for index in np.ndindex(arr.shape):
            try:
                float(arr[index])
            except OverflowError:
                at = index[0] if len(index) == 1 else index
                where = f": {str(arr[index])[:12]}... at index {at}"
                break
            except (TypeError, ValueError):
                continue
    except (TypeError, ValueError):
        pass
    return DataError(f"{name} holds a number too large for float64 (|x| > "
                     f"{np.finfo(np.float64).max:.1e}){where}; rescale it")


def real_float64(value, name: str) -> np.ndarray:
    """Return ``value`` as a float64 array; DataError naming ``name`` when it holds complex
    numbers (a cast would silently drop their imaginary parts) or is not numeric."""
    if np.iscomplexobj(value):
        raise DataError(f"{name} must hold real numbers, got complex "
                        f"(dtype {np.asarray(value).dtype})")
    try:
        return np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise overflow_error(name, value) from None
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numeric: {exc}") from None


def _first_non_number(arr: np.ndarray) -> str:
    """Return ' holding VALUE (TYPE) at INDEX' for the first entry that is not a number."""
    for index in np.ndindex(arr.shape):
        item = arr[index]
        if isinstance(item, np.generic):  # np.str_('a') reads as 'a'
            item = item.item()
        try:
            float(item)
        except OverflowError:  # a number, only too large: not the entry to name here
            continue
        except (TypeError, ValueError):
            where = index[0] if len(index) == 1 else index
            return f" holding {item!r:.40} ({type(item).__name__}) at index {where}"
    return ""


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as int, or raise ConfigurationError when it is not an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_flag(value, name: str, none_ok: bool = False) -> bool | None:
    """Return ``value`` as bool, or raise ConfigurationError unless it is True or False
    (or None when ``none_ok``): a string such as ``"no"`` would read as True."""
    if none_ok and value is None:
        return None
    if not isinstance(value, (bool, np.bool_)):
        also = ", or None" if none_ok else ""
        raise ConfigurationError(f"{name} must be True or False{also}, got {value!r:.100}")
    return bool(value)


def check_seed(value, name: str = "seed", generator_ok: bool = False):
    """Return a valid seed: None, an int >= 0 (or a Generator when allowed), else raise."""
    if value is None or (generator_ok and isinstance(value, np.random.Generator)):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        extra = ", a numpy Generator" if generator_ok else ""
        raise ConfigurationError(f"{name} must be None{extra} or an integer >= 0, got {value!r}")
    return int(value)


def _is_finite_real(value) -> bool:
    """True for a real number (not a bool) that is finite as a float; 10**400 is not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond float range (np.isfinite raises TypeError on 10**30)
        return False


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as float, or raise ConfigurationError unless it is finite and > 0."""
    if not _is_finite_real(value) or value <= 0:
        raise ConfigurationError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_nonneg_float(value, name: str) -> float:
    """Return ``value`` as float, or raise ConfigurationError unless it is finite and >= 0."""
    if not _is_finite_real(value) or value < 0:
        raise ConfigurationError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_fraction(value, name: str, low_inclusive=True, high_inclusive=False) -> float:
    """Return ``value`` as float when it lies in [0, 1) (bounds as asked), else raise."""
    ok = _is_finite_real(value)
    if ok:
        v = float(value)
        ok = (v >= 0 if low_inclusive else v > 0) and (v <= 1 if high_inclusive else v < 1)
    if not ok:
        interval = ("[" if low_inclusive else "(") + "0, 1" + ("]" if high_inclusive else ")")
        raise ConfigurationError(f"{name} must be in {interval}, got {value!r}")
    return float(value)


def caller_level() -> int:
    """Return the stacklevel of the first frame outside npdeep (the user's call): warnings
    point at the user's line however deep in npdeep they are raised."""
    import sys

    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("npdeep"):
        frame, level = frame.f_back, level + 1
    return level
