"""A pandas DataFrame's columns encoded as a trained model's: matched by name as a CSV's header.

A model file of ``npdeep train`` stores the columns it was trained on (a
:class:`~npdeep.data.encoding.FeatureEncoder`); :func:`encode_frame` picks a DataFrame's
columns by that encoding exactly as ``npdeep predict`` picks a CSV's
(:func:`~npdeep.data._csv_columns._plan_for`: by name in any order, extra columns such as the
target ignored, by position only when none of the names occur) and one-hot encodes its text
columns over the categories seen in training (:func:`~npdeep.data.encoding.one_hot`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from npdeep.data._csv_columns import _plan_for
from npdeep.data.encoding import Column, FeatureEncoder, one_hot
from npdeep.errors import DataError

_MISSING = ("missing values are not supported: fill them in or drop those rows first "
            "(df.dropna() or df.fillna(value))")


def is_frame(X: Any) -> bool:
    """True for a pandas DataFrame (or anything with its ``columns`` and ``iloc``)."""
    return hasattr(X, "columns") and hasattr(X, "iloc") and getattr(X, "ndim", 2) == 2


def encode_frame(frame: Any, encoder: FeatureEncoder, where: str = "X") -> np.ndarray:
    """Encode a DataFrame's columns as the model was trained on them.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_samples, n_columns)
        Samples as rows; columns named as in training (in any order, extra ones ignored).
    encoder : FeatureEncoder
        The model's stored encoding: its input columns in the order of the features.
    where : str
        What the errors call the data.

    Returns
    -------
    ndarray of float64, shape (n_samples, encoder.n_features)

    Raises
    ------
    DataError
        Naming the columns that are missing, a column given twice, a cell that is not a
        number in a numeric column, a missing value, NaN or inf, or a category not seen in
        training.
    """
    header = [str(c) for c in frame.columns]
    plan = _plan_for(encoder, header, None, where, what="DataFrame")
    twice = sorted({c.name for _, c in plan if header.count(c.name) > 1})
    if twice:
        raise DataError(f"{where}: has the column{'s' if len(twice) > 1 else ''} "
                        f"{', '.join(map(repr, twice))} more than once; which one the model "
                        "should read is ambiguous")
    parts = [_numbers(frame.iloc[:, j], column.name, where) if column.categories is None
             else _one_hot(frame.iloc[:, j], column, where) for j, column in plan]
    return np.hstack(parts)


def _numbers(series: Any, name: str, where: str) -> np.ndarray:
    """A numeric column ``(n_samples,)`` as float64 ``(n_samples, 1)``."""
    if series.dtype.kind in "mM":
        raise DataError(f"{where}: column {name!r} holds dates or durations "
                        f"({series.dtype}); the model was trained on it as numbers")
    try:
        values = np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
    except (TypeError, ValueError):
        bad = next((v for v in series.tolist() if not _is_number(v)), series.dtype)
        raise DataError(f"{where}: column {name!r} holds {bad!r}, which is not a number; the "
                        "model was trained on it as a numeric column") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        if series.isna().iloc[i]:
            raise DataError(f"{where}: row {i}, column {name!r}: missing value; {_MISSING}")
        raise DataError(f"{where}: row {i}, column {name!r}: {values[i]} is not a finite "
                        "number; NaN and inf are not allowed")
    return values[:, None]


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _one_hot(series: Any, column: Column, where: str) -> np.ndarray:
    """A text column ``(n_samples,)`` one-hot encoded: ``(n_samples, len(categories))``."""
    missing = np.flatnonzero(series.isna().to_numpy())
    if missing.size:
        raise DataError(f"{where}: row {int(missing[0])}, column {column.name!r}: missing "
                        f"value; {_MISSING}")
    words = np.char.strip(np.asarray(series.astype(str).to_numpy(), dtype=str))
    try:
        return one_hot(words, column)  # a CSV's cells are stripped so too
    except DataError as exc:  # name the data (one_hot knows only rows)
        raise DataError(f"{where}: {exc}") from None
