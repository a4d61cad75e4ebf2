"""Turn blocks of CSV text cells into float64 features, naming the line and column of a bad cell.

The fast path converts a whole block of rows at once (``np.array(rows, dtype=float64)``,
several times quicker than column by column); only when it fails do the slower per-column
conversions run, and the cell-by-cell search runs only to name the offending cell. With a
decimal comma (``decimal=","``) numeric columns are read column by column through
:func:`pointed`, and :func:`refuse_points` names a number written with a ``.`` in one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from npdeep.data.encoding import Column, one_hot
from npdeep.errors import DataError, MixedTargetError

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
            f"finite number; NaN and inf are not allowed{_nan_hint(values[r, c])}"
        )


def _nan_hint(value: float) -> str:
    return f"; {_MISSING_ADVICE}" if np.isnan(value) else ""


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


_COMMA_NUMBER = re.compile(r"\s*[-+]?(\d+,\d*|,\d+)([eE][-+]?\d+)?\s*", re.ASCII)  # 1,5  -0,25


def pointed(cells: np.ndarray, decimal: str) -> np.ndarray:
    """Cells ``(n,)`` with each decimal-comma number (``1,5``) rewritten with a point (``1.5``)
    when ``decimal`` is ``","``; every other cell, and every cell for ``"."``, as it was (so
    a message quoting a bad cell quotes it as written). ``cells`` itself for ``"."``."""
    if decimal == ".":
        return cells
    out = np.empty(len(cells), dtype=object)
    out[:] = [c.replace(",", ".") if _COMMA_NUMBER.fullmatch(c) else c for c in cells.tolist()]
    return out


def refuse_points(
    cells: np.ndarray, name: str, lines: Sequence[int], path: Path, decimal: str
) -> None:
    """With the decimal comma, refuse a number written with a ``.`` in numeric column ``name``:
    ``1.234`` may be 1.234 or a grouping of 1234, never silently either."""
    if decimal == ".":
        return
    for i, cell in enumerate(cells.tolist()):
        if "." in cell:
            try:
                number(cell)
            except ValueError:
                continue  # not a number: the conversion names it as such
            raise DataError(
                f"{path}: line {lines[i]}, column {name!r}: {cell.strip()!r} holds a '.', but "
                "the decimal sign is ',' (decimal=',', --decimal ,): is it a thousands "
                "separator or a decimal point? write the number without '.', with a decimal "
                "comma (1234 or 1,234)"
            )


_MISSING_ADVICE = ("missing values are not supported: fill them in or drop those rows first "
                   "(pandas: df.dropna() or df.fillna(value))")

#: Cells that mark a missing value (compared stripped and case-folded); ``nan`` reads as a
#: number, NaN, refused as not finite.
MISSING_MARKERS = frozenset({"", "na", "n/a", "#n/a", "nan", "null", "none", "?", "-"})


def is_missing(cell) -> bool:
    """True for a cell that marks a missing value: empty, ``NA``, ``N/A``, ``NaN``, ``null``..."""
    return str(cell).strip().casefold() in MISSING_MARKERS


_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+", re.ASCII)  # 0,5  3,14159 (1,234: _AMBIGUOUS)
_AMBIGUOUS = re.compile(r"[-+]?\d{1,3},\d{3}", re.ASCII)  # 1,234: thousands or decimal comma?
_ZERO_POINT = re.compile(r"[-+]?0,\d+", re.ASCII)  # 0,243: no grouped number starts with 0,
_OR_DECIMAL = "for a decimal comma, read the file with decimal=',' (--decimal ,)"
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3}){2,}", re.ASCII)  # 1,234,567
_PLAIN = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", re.ASCII)
_CURRENCY = "$\u20ac\u00a3\u00a5\u20b9"  # $ euro pound yen rupee
# 1,234.5  1 000  1'000
_GROUPING = re.compile(r"(?<=\d)[,' \u00a0\u2009\u202f](?=\d{3}(?!\d))", re.ASCII)


def formatting(cell) -> str | None:
    """How a cell that is not a plain number is a formatted one, or None.

    ``"decimal"`` (``0,5``, ``-0,803``), ``"ambiguous"`` (``1,234``: a thousands separator or a
    decimal comma), ``"thousands"`` (``1,234,567``), ``"formatted"`` (``1,234.56``, ``10%``, ``$5``,
    ``1 000 000``, ``$1 000``; a lone ``555 123`` is not: a code as likely as a number).
    """
    word = str(cell).strip()
    if _THOUSANDS.fullmatch(word):
        return "thousands"
    if _ZERO_POINT.fullmatch(word):
        return "decimal"
    if _AMBIGUOUS.fullmatch(word):
        return "ambiguous"
    if _DECIMAL_COMMA.fullmatch(word):
        return "decimal"
    signless = word.lstrip("+-")
    symbols = signless.strip(_CURRENCY).strip().removesuffix("%").strip()
    groups = _GROUPING.findall(symbols)
    bare = _GROUPING.sub("", symbols.lstrip("+-"))
    if bare == signless or not _PLAIN.fullmatch(bare):
        return None
    # one group after a space ("555 123", "560 001") is as likely a phone or postal code as
    # a thousand: formatted only beside a currency symbol, a %, a decimal point or more groups
    if len(groups) == 1 and groups[0].isspace() and symbols == signless and "." not in bare:
        return None
    return "formatted"


_FORMAT_HINTS = {
    "decimal": "a decimal comma? write a decimal point",
    "ambiguous": f"a thousands separator? remove it; or, {_OR_DECIMAL}",
    "thousands": "thousands separators? remove them",
    "formatted": "numbers with formatting (thousands separators, %, currency): remove it",
}


def _cell_hint(cell) -> str:
    """``"; ..."``: why a cell that float() refuses or reads differently is not a CSV number."""
    text = str(cell)
    if "_" in text:
        return "; write digits without '_'"
    kind = formatting(text)
    if kind is not None:
        return f"; {_FORMAT_HINTS[kind]}"
    if not text.isascii():
        return "; write numbers with ASCII digits"
    return ""


def not_a_number(cell, name: str, line: int, path: Path) -> DataError:
    """The error of a cell that is not a number in a numeric column."""
    if is_missing(cell):
        what = "empty cell" if not str(cell).strip() else f"{str(cell).strip()!r} marks a " \
            "missing value"
        return DataError(f"{path}: line {line}, column {name!r}: {what}; {_MISSING_ADVICE}")
    return DataError(
        f"{path}: line {line}, column {name!r}: {str(cell)!r} is not a number "
        f"(this column is numeric{_cell_hint(cell)})"
    )


def first_non_number(cells) -> int | None:
    """Index of the first cell that is not a number, or None."""
    for i, cell in enumerate(cells):
        try:
            number(cell)
        except ValueError:
            return i
    return None


def to_float(cells: np.ndarray, name: str, lines: Sequence[int], path: Path) -> np.ndarray:
    """Convert one numeric column ``(n_rows,)``; name the line and column of the first bad cell."""
    values = try_float(cells)
    if values is None:
        i = first_non_number(cells)
        assert i is not None
        raise not_a_number(cells[i], name, lines[i], path) from None
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: line {lines[i]}, column {name!r}: {str(cells[i]).strip()!r} is not a finite "
            f"number; NaN and inf are not allowed{_nan_hint(values[i])}"
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
    rows: list[list[str]], header: list[str], lines: Sequence[int], plan: Plan, path: Path,
    decimal: str = ".",
) -> np.ndarray:
    """Turn rows of text cells into ``X: (n_rows, n_features)`` float64 following ``plan``;
    numeric cells use the decimal sign ``decimal`` (see :func:`pointed`)."""
    if decimal == "." and not any(c.is_categorical for _, c in plan):
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
            refuse_points(cells, col.name, lines, path, decimal)
            parts.append(to_float(pointed(cells, decimal), col.name, lines, path)[:, None])
        else:
            words = text(cells, col.name, lines, path)  # its errors name the file
            try:
                parts.append(one_hot(words, col, lines))
            except DataError as exc:  # name the file (one_hot knows only lines)
                raise DataError(f"{path}: {exc}") from None
    return np.hstack(parts)


_GROUPED = re.compile(r"^[-+]?\d+(_\d+)+(\.\d*)?([eE][-+]?\d+)?$")  # 1_000, 1_000.5

#: Under one-hot encoding, a text column with more distinct values than this, each on one row
#: only, is refused as an identifier (a feature for each row learns nothing).
MAX_IDENTIFIER_CATEGORIES = 100


def _missing_values(cells: np.ndarray, name: str, lines: Sequence[int], path: Path) -> None:
    """Refuse a column of numbers and missing-value markers (``NA``, ``?``, ``NaN``...),
    counting them: such a column was one-hot encoded as text, a feature per distinct number."""
    missing, n_numbers = [], 0
    for i, cell in enumerate(cells):
        if is_missing(cell):
            missing.append(i)
            continue
        try:
            number(cell)
        except ValueError:
            return  # other text: not (only) missing values
        n_numbers += 1
    if not missing or not n_numbers or all(not str(cells[i]).strip() for i in missing):
        return  # a column with empty cells only is named by its first empty cell
    counts: dict[str, int] = {}
    for i in missing:
        counts[str(cells[i]).strip()] = counts.get(str(cells[i]).strip(), 0) + 1
    shown = ", ".join(f"{n} {w!r}" for w, n in sorted(counts.items(), key=lambda c: -c[1]))
    raise DataError(
        f"{path}: column {name!r} holds numbers with missing values ({len(missing)} of "
        f"{len(cells)} cells are {shown if len(counts) > 1 else repr(next(iter(counts)))}, the "
        f"first on line {lines[missing[0]]}): {_MISSING_ADVICE}"
    )


def _formatted_numbers(words: list[str], name: str, lines: Sequence[int], path: Path) -> None:
    """Refuse a text column that is mostly numbers written with a decimal comma, thousands
    separators, % or a currency symbol, saying which (a column of them was read as text)."""
    kinds = [formatting(w) for w in words]
    found = [i for i, k in enumerate(kinds) if k is not None]
    n_plain = sum(1 for w in words if _PLAIN.fullmatch(w))
    if not found or 2 * (len(found) + n_plain) < len(words):
        return
    seen = {kinds[i] for i in found}
    i = found[0]
    example = f"e.g. {words[i]!r} on line {lines[i]}"
    if seen <= {"decimal", "ambiguous"} and "decimal" in seen:
        i = next(i for i in found if kinds[i] == "decimal")
        raise DataError(
            f"{path}: column {name!r} holds numbers written with a decimal comma (e.g. "
            f"{words[i]!r} on line {lines[i]}); write them with a decimal point, or read the "
            "file with decimal=',' (--decimal ,)"
        )
    if seen <= {"thousands", "ambiguous"} and ("thousands" in seen or len(found) > 1):
        raise DataError(
            f"{path}: column {name!r} holds numbers with thousands separators ({example})? "
            "remove them (a CSV number is written 1234 or 1234.5)"
            + ("" if "thousands" in seen else f"; or, {_OR_DECIMAL}")
        )
    if seen == {"ambiguous"}:
        raise DataError(
            f"{path}: column {name!r} holds {words[i]!r} (line {lines[i]}): a number with a "
            "thousands separator (remove it) or with a decimal comma (write a decimal point, "
            "or read the file with decimal=',' (--decimal ,))?"
        )
    raise DataError(
        f"{path}: column {name!r} holds numbers with formatting ({example}): thousands "
        "separators, %, currency symbols; remove it (a CSV number is written 1234 or 1234.5)"
    )


def classify(
    cells: np.ndarray, name: str, lines: Sequence[int], path: Path, categorical: str,
    decimal: str = ".",
) -> tuple[Column, np.ndarray]:
    """Decide how a training column ``(n_rows,)`` is encoded; return it with its features.

    Numeric when at least half its cells are numbers (then any other cell is an error),
    text otherwise: one-hot encoded over its sorted categories when ``categorical="onehot"``,
    an error naming the column when ``categorical="reject"``. Refused in either mode: numbers
    with missing-value markers (``NA``, ``?``...), numbers written with a decimal comma,
    thousands separators, % or a currency symbol; and, under one-hot encoding, a column like
    an identifier (over :data:`MAX_IDENTIFIER_CATEGORIES` values, every one distinct).
    Numbers are written with the decimal sign ``decimal`` (see :func:`pointed`).
    """
    numbers = pointed(cells, decimal)
    values = try_float(numbers)
    if values is None or not np.isfinite(values).all():
        _missing_values(numbers, name, lines, path)
    if values is not None or mostly_numbers(numbers):
        refuse_points(cells, name, lines, path, decimal)
        return Column(name), to_float(numbers, name, lines, path)[:, None]
    words = text(cells, name, lines, path)
    _formatted_numbers(words.tolist(), name, lines, path)
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
    categories = sorted(set(words.tolist()))
    if len(categories) > MAX_IDENTIFIER_CATEGORIES and len(categories) == len(words):
        raise DataError(
            f"{path}: column {name!r} holds {len(categories)} distinct text values in "
            f"{len(words)} rows (e.g. {str(words[0])!r} on line {lines[0]}), like an identifier "
            "or free text: one-hot encoding would make a feature of each, from which nothing "
            f"is learnt; drop it (drop=[{name!r}], --drop {name})"
        )
    column = Column(name, tuple(categories))
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
    cells: np.ndarray, name: str, lines: Sequence[int], task: str | None, path: Path,
    decimal: str = ".",
) -> np.ndarray:
    """Read a target column: integers exactly, other numbers (with the decimal sign
    ``decimal``) as float64 when it is numeric, text labels when it is text.

    A column mostly of numbers with a text cell is a MixedTargetError unless ``task`` is
    ``"classification"`` (its message advises ``--task classification``; a command whose task
    comes from a model words it for that model)."""
    cells = text(cells, name, lines, path)
    exact = integers(cells)
    if exact is not None:
        return exact
    numbers = pointed(cells, decimal)
    if try_float(numbers) is not None:
        refuse_points(cells, name, lines, path, decimal)
        return to_float(numbers, name, lines, path)
    if task != "classification" and mostly_numbers(numbers):
        i = first_non_number(numbers)
        assert i is not None
        if is_missing(cells[i]) or formatting(cells[i]) or "_" in cells[i] \
                or not cells[i].isascii():
            raise not_a_number(cells[i], name, lines[i], path)
        advice = ("multi-label classification needs 0 or 1 in every row" if task == "multilabel"
                  else "for classes use --task classification (task='classification'); "
                  "regression needs a number in every row")
        raise MixedTargetError(
            f"{path}: line {lines[i]}, column {name!r}: the target holds numbers and text "
            f"({cells[i]!r}): {advice}", name, lines[i], cells[i]
        )
    return np.array(cells.tolist(), dtype=str)  # text labels
