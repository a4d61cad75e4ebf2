"""The error for a DataFrame ``X`` whose text, category or date columns cannot be numbers.

scikit-learn and numpy name only the value that failed; the estimators' checks of ``X``
(:meth:`BaseDeepEstimator._validate_X <npdeep.estimators._base.BaseDeepEstimator._validate_X>`)
run inside :func:`_text_columns_named`, which names the columns and says how to encode them,
and turns scikit-learn's other ValueErrors (NaN, a wrong number of features, 1-D ``X``) into
DataError with the same message: every error npdeep raises for rejected input derives from
:class:`~npdeep.errors.NpdeepError` (DataError is still a ValueError).
"""

from __future__ import annotations

import contextlib

from sklearn.exceptions import NotFittedError

from ..errors import DataError, NpdeepError

__all__ = ["_text_columns_named", "refuse_frame_columns"]


def _kind(dtype) -> str:
    """One letter for a DataFrame column's dtype: NumPy's kind for pandas's dtypes ("M" for
    pandas's Period too), and for polars's (which have none) "M" for dates, times and
    durations, "f" for numbers, "b" for booleans, "O" for anything else (text, categories)."""
    kind = getattr(dtype, "kind", None)
    if isinstance(kind, str):
        return "M" if type(dtype).__name__ == "PeriodDtype" else kind
    if callable(getattr(dtype, "is_temporal", None)) and dtype.is_temporal():
        return "M"
    if callable(getattr(dtype, "is_numeric", None)) and dtype.is_numeric():
        return "f"
    return "b" if str(dtype) == "Boolean" else "O"


def _columns(X) -> list[tuple[object, str]]:
    """``(name, kind)`` of each column of a DataFrame ``X`` (pandas, polars), else []."""
    dtypes, names = getattr(X, "dtypes", None), getattr(X, "columns", None)
    if dtypes is None or names is None or isinstance(dtypes, str):
        return []
    try:
        return [(c, _kind(dt)) for c, dt in zip(list(names), list(dtypes), strict=True)]
    except (TypeError, ValueError):  # not a DataFrame after all
        return []


def _dates_error(dates: list) -> DataError:
    return DataError(
        f"X has columns of dates or durations, which the network cannot take as numbers: "
        f"{dates!r:.200}; turn them into numbers first (e.g. the day of the year, or the "
        "days since a start date) or drop them"
    )


def _text_error(text: list, detail: str = "") -> DataError:
    return DataError(
        f"X has columns of text or categories, which the network cannot take as numbers: "
        f"{text!r:.200}{detail}; encode them first, e.g. make_column_transformer("
        f"(OneHotEncoder(), {text!r:.80}), remainder='passthrough')"
    )


def refuse_frame_columns(X) -> None:
    """Refuse a DataFrame ``X`` with date, time, duration or period columns, and a polars one
    with text or category columns (a pandas object column may hold numbers: scikit-learn's
    conversion decides), naming them.

    A polars date column became its day count (18262...) in scikit-learn's conversion, and
    trained silently; its text column raised AttributeError from the error path; a pandas
    Period or Interval column raised a raw TypeError.
    """
    columns = _columns(X)
    dates = [c for c, kind in columns if kind in "mM"]
    if dates:
        raise _dates_error(dates)
    polars = not hasattr(X, "iloc")
    other = [c for c, kind in columns
             if kind not in "biuf" and (polars or kind != "O")]
    if other:
        raise _text_error(other)


@contextlib.contextmanager
def _text_columns_named(X):
    """Name the text, category or date columns of a DataFrame ``X`` that fail the conversion
    to numbers (scikit-learn says only "could not convert string to float: 'red'", or numpy
    "The DType <class 'numpy.dtypes.DateTime64DType'> could not be promoted ..."); any other
    ValueError comes out as a DataError with its message."""
    try:
        yield
    except TypeError as exc:  # numpy's DTypePromotionError: dates or durations among numbers
        if "Feature names are only supported" in str(exc):  # column names 0, "b", 2.5
            raise DataError(f"X's column names must be all strings: {exc}") from None
        columns = _columns(X)
        if not columns:
            raise
        dates = [c for c, kind in columns if kind in "mM"]
        if dates:
            raise _dates_error(dates) from None
        other = [c for c, kind in columns if kind not in "biuf"]  # Interval, objects
        if not other:
            raise
        raise _text_error(other, f" ({exc})") from None
    except ValueError as exc:
        if isinstance(exc, (NpdeepError, NotFittedError)):
            raise
        text = []
        if "could not convert" in str(exc):
            text = [c for c, kind in _columns(X) if kind not in "biufc"]
        if not text:  # scikit-learn's message, as the error npdeep raises for rejected input
            raise DataError(str(exc)) from exc
        raise _text_error(text, f" ({exc})") from None
