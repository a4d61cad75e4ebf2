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

__all__ = ["_text_columns_named"]


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
        dtypes = getattr(X, "dtypes", None)
        if dtypes is None or not hasattr(X, "columns"):
            raise
        dates = [c for c, dt in zip(X.columns, dtypes, strict=True) if dt.kind in "mM"]
        if not dates:
            raise
        raise DataError(
            f"X has columns of dates or durations, which the network cannot take as numbers: "
            f"{dates!r:.200}; turn them into numbers first (e.g. the day of the year, or the "
            "days since a start date) or drop them"
        ) from None
    except ValueError as exc:
        if isinstance(exc, (NpdeepError, NotFittedError)):
            raise
        dtypes = getattr(X, "dtypes", None)
        text = []
        if dtypes is not None and hasattr(X, "columns") and "could not convert" in str(exc):
            text = [c for c, dt in zip(X.columns, dtypes, strict=True) if dt.kind not in "biufc"]
        if not text:  # scikit-learn's message, as the error npdeep raises for rejected input
            raise DataError(str(exc)) from exc
        raise DataError(
            f"X has columns of text or categories, which the network cannot take as numbers: "
            f"{text!r:.200} ({exc}); encode them first, e.g. make_column_transformer("
            f"(OneHotEncoder(), {text!r:.80}), remainder='passthrough')"
        ) from None
