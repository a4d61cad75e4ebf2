"""Turn blocks of CSV text cells into float64 features, naming the line and column of a bad cell.

The fast path converts a whole block of rows at once (``np.array(rows, dtype=float64)``,
several times quicker than column by column); only when it fails do the slower per-column
conversions run, and the cell-by-cell search runs only to name the offending cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from npdeep.data.encoding import Column, one_hot
from npdeep.errors import DataError

Plan = list[tuple[int, Column]]  # (index of the column in the file, how to encode it)


def _suspect(cells) -> bool:
    """True when some cell holds ``_`` or a non-ASCII character, which ``float()`` and NumPy
    read as part of a number (``'1_000'``, Arabic-Indic or full-width digits) but a CSV
    number never holds: such blocks are read cell by cell with :func:`number`."""
    joined = "".join(cells)
    return "_" in joined or not joined.isascii()


def number(cell: str) -> float:
    """Read one cell as a number; ValueError unless it is plain ASCII without ``_``.

    ``float()`` accepts ``'1_000'`` (Python's digit grouping) and digits of any script; a CSV
    cell holding them is text (pandas reads it so too), never silently the number 1000.
    """
    text = str(cell).strip()
    if "_" in text or not text.isascii():
        raise ValueError(f"not a plain number: {text!r}")
    return float(text)


def fast_float(rows: list[list[str]]) -> np.ndarray | None:
    """Return every cell as float64 ``(n_rows, n_columns)``, or None if any cell is not a number."""
    if _suspect(map("".join, rows)):
        return None  # the slower paths name the cell (or read a stray non-ASCII space)
    try:
        return np.array(rows, dtype=np.float64).reshape(len(rows), -1)
    except ValueError:
        return None


def check_finite(
    values: np.ndarray,
    columns: Sequence[int],
    rows: list[list[str]],
    header: list[str],
    lines: Sequence[int],
    path: Path,
) -> None:
    """Raise DataError naming the line and column of the first NaN or inf in ``values``.

    ``values: (n_rows, len(columns))`` holds the file columns ``columns`` of ``rows``.
    """
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        j = columns[c]
        raise DataError(
            f"{path}: line {lines[r]}, column {header[j]!r}: {rows[r][j].strip()!r} is not a "
            "finite number; NaN and inf are not allowed"
        )


def column(rows: list[list[str]], j: int) -> np.ndarray:
    """Return column ``j`` of the rows as an object array ``(n_rows,)`` of Python strings.

    Not a NumPy text array: that gives every cell the width of the longest one, so a single
    20,000-character cell made a 1 MB file of 20,000 rows take gigabytes (even in a dropped
    column, when the whole block was converted). The object array holds references to the
    strings the CSV reader made, 8 bytes a cell.
    """
    out = np.empty(len(rows), dtype=object)
    out[:] = [row[j] for row in rows]
    return out


def try_float(cells: np.ndarray) -> np.ndarray | None:
    """Return text cells as float64 of the same shape, or None if any is not a number."""
    flat = cells.ravel().tolist()
    try:
        if _suspect(flat):
            return np.array([number(c) for c in flat], dtype=np.float64).reshape(cells.shape)
        return np.array(flat, dtype=np.float64).reshape(cells.shape)
    except ValueError:
        return None


def to_float(cells: np.ndarray, name: str, lines: Sequence[int], path: Path) -> np.ndarray:
    """Convert one numeric column ``(n_rows,)``; name the line and column of the first bad cell."""
    values = try_float(cells)
    if values is None:
        for i, cell in enumerate(cells):
            try:
                number(cell)
            except ValueError:
                if not str(cell).strip():
                    raise DataError(
                        f"{path}: line {lines[i]}, column {name!r}: empty cell; "
                        "missing values are not supported: fill them in or drop those rows "
                        "first (pandas: df.dropna() or df.fillna(value))"
                    ) from None
                hint = "; write digits without '_'" if "_" in str(cell) else (
                    "; write numbers with ASCII digits" if not str(cell).isascii() else "")
                raise DataError(
                    f"{path}: line {lines[i]}, column {name!r}: {str(cell)!r} is not a number "
                    f"(this column is numeric{hint})"
                ) from None
    assert values is not None
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: line {lines[i]}, column {name!r}: {str(cells[i]).strip()!r} is not a finite "
            "number; NaN and inf are not allowed"
        )
    return values


def mostly_numbers(cells: np.ndarray) -> bool:
    """True when at least half the non-empty cells read as numbers."""
    n_number = n_filled = 0
    for cell in cells:
        if str(cell).strip():
            n_filled += 1
            try:
                number(cell)
                n_number += 1
            except ValueError:
                pass
    return n_filled > 0 and 2 * n_number >= n_filled


def text(cells: np.ndarray, name: str, lines: Sequence[int], path: Path) -> np.ndarray:
    """Strip text cells ``(n_rows,)``; an empty one is an error naming its line."""
    stripped = np.empty(len(cells), dtype=object)
    stripped[:] = [str(c).strip() for c in cells]
    empty = stripped == ""
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataError(
            f"{path}: line {lines[i]}, column {name!r}: empty cell; "
            "missing values are not supported: fill them in or drop those rows first "
            "(pandas: df.dropna() or df.fillna(value))"
        )
    return stripped


def encode(
    rows: list[list[str]], header: list[str], lines: Sequence[int], plan: Plan, path: Path
) -> np.ndarray:
    """Turn rows of text cells into ``X: (n_rows, n_features)`` float64 following ``plan``."""
    if not any(c.is_categorical for _, c in plan):
        values = fast_float(rows)
        if values is not None:
            columns = [j for j, _ in plan]
            X = values[:, columns]
            check_finite(X, columns, rows, header, lines, path)
            return X
    parts = []
    for j, col in plan:  # only the planned columns are read, one at a time
        cells = column(rows, j)
        if col.categories is None:
            parts.append(to_float(cells, col.name, lines, path)[:, None])
        else:
            words = text(cells, col.name, lines, path)  # its errors name the file
            try:
                parts.append(one_hot(words, col, lines))
            except DataError as exc:  # name the file (one_hot knows only lines)
                raise DataError(f"{path}: {exc}") from None
    return np.hstack(parts)


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_GROUPED = re.compile(r"^[-+]?\d+(_\d+)+(\.\d*)?([eE][-+]?\d+)?$")  # 1_000, 1_000.5


def classify(
    cells: np.ndarray, name: str, lines: Sequence[int], path: Path, categorical: str
) -> tuple[Column, np.ndarray]:
    """Decide how a training column ``(n_rows,)`` is encoded; return it with its features.

    Numeric when at least half its cells are numbers (then any other cell is an error),
    text otherwise: one-hot encoded over its sorted categories when ``categorical="onehot"``,
    an error naming the column when ``categorical="reject"``.
    """
    values = try_float(cells)
    if values is not None or mostly_numbers(cells):
        return Column(name), to_float(cells, name, lines, path)[:, None]
    words = text(cells, name, lines, path)
    decimal_commas = np.mean([bool(_DECIMAL_COMMA.match(w)) for w in words.tolist()]) >= 0.5
    if decimal_commas:
        raise DataError(
            f"{path}: column {name!r} holds numbers written with a decimal comma (e.g. "
            f"{str(words[0])!r} on line {lines[0]}); write them with a decimal point"
        )
    grouped = [w for w in words.tolist() if _GROUPED.match(w)]
    if categorical == "reject" and 2 * len(grouped) >= len(words):  # '2021_01' may be a code
        raise DataError(
            f"{path}: column {name!r} holds numbers with '_' between digits (e.g. "
            f"{grouped[0]!r}), which a CSV number never holds: write them without '_', or, if "
            "they are codes, ask for one-hot encoding of text columns (categorical='onehot', "
            "--categorical onehot)"
        )
    if categorical == "reject":
        raise DataError(
            f"{path}: column {name!r} holds text (e.g. {str(words[0])!r} on line {lines[0]}); "
            f"drop it (drop=[{name!r}], --drop {name}), or ask for one-hot encoding of text "
            "columns (categorical='onehot', --categorical onehot)"
        )
    column = Column(name, tuple(sorted(set(words.tolist()))))
    return column, one_hot(words, column, lines)


def integers(cells: np.ndarray) -> np.ndarray | None:
    """Return text cells ``(n_rows,)`` as exact integers (int64, else uint64), or None.

    float64 holds integers exactly only up to 2**53: read through it, the labels
    9007199254740993 and 9007199254740992 would be one class, and 2**64 - 1 would not fit
    the int64 the labels are cast to.
    """
    flat = cells.tolist()
    if _suspect(flat):
        return None
    for dtype in (np.int64, np.uint64):
        try:
            return np.array(flat, dtype=dtype)
        except (ValueError, OverflowError, TypeError):
            pass
    return None


def target_values(
    cells: np.ndarray, name: str, lines: Sequence[int], task: str | None, path: Path
) -> np.ndarray:
    """Read a target column: integers exactly, other numbers as float64 when it is numeric,
    text labels when it is text."""
    cells = text(cells, name, lines, path)
    exact = integers(cells)
    if exact is not None:
        return exact
    if try_float(cells) is not None or (task != "classification" and mostly_numbers(cells)):
        return to_float(cells, name, lines, path)
    return np.array(cells.tolist(), dtype=str)  # text labels
