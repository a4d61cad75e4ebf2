"""A CSV file's rows as text: gzip or not, in its dialect's encoding and delimiter, each row
with its line number (see :mod:`npdeep.data.dialect`: UTF-8 and comma or tab by default).

Read with the standard library's :mod:`csv` module so that every error can name the file
line (``reader.line_num``, which counts quoted newlines too). The header row is checked
(every column named, once, and not a row of data; a file without one has its columns named
``"0"``, ``"1"``...) and every data row's width against it;
rows are grouped into blocks for :mod:`npdeep.data.csv` to convert a block at a time.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import re
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from npdeep.data import cells
from npdeep.data.dialect import (
    CsvDialect,
    delimiter_name,
    delimiter_word,
    extension_delimiter,
    shown,
)
from npdeep.errors import DataError

_DEFAULT = CsvDialect()

# the csv module refuses a field over 131,072 characters as "field larger than field limit"
# (a long free-text cell, even in a column that is dropped): allow any that fits a C long,
# while npdeep reads (the limit is the process's: the caller's is put back after)
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _open_text(path: Path, encoding: str = "utf-8") -> io.TextIOBase:
    """Open the (gzipped or plain) file as text; UTF-8's byte-order mark is skipped."""
    encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    if _is_gzip(path):
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> DataError:
    """Name the line and offset of the first byte that is not UTF-8.

    ``exc.start`` counts from the start of the text reader's read-ahead block, not of the
    file, so the file is scanned again line by line (no UTF-8 sequence holds a newline byte).
    A file that starts with UTF-16's or UTF-32's byte-order mark is named as such.
    """
    marked = _bom_encoding(path)
    if marked is not None:
        return DataError(f"{path}: line 1: not a UTF-8 text file{_bom_advice(marked)}")
    offset = 0
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as fh:
        for line, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                return DataError(
                    f"{path}: line {line}: not a UTF-8 text file ({bad.reason} at byte "
                    f"{offset + bad.start}); save it as UTF-8 (Excel: 'CSV UTF-8'), or give its "
                    "encoding (encoding='cp1252', --encoding cp1252)"
                )
            offset += len(raw)
    return DataError(f"{path}: not a UTF-8 text file ({exc.reason})")


# longest first: UTF-32 LE's mark starts with UTF-16 LE's
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _bom_encoding(path: Path) -> str | None:
    """``"utf-16"`` or ``"utf-32"`` when the (gzipped or plain) file starts with that
    encoding's byte-order mark, else None."""
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            start = fh.read(4)
    except (OSError, EOFError, zlib.error):
        return None  # a corrupt gzip stream is named where the rows are read
    return next((name for bom, name in _BOMS if start.startswith(bom)), None)


def _bom_advice(encoding: str) -> str:
    return (f" (it starts with {encoding.upper()}'s byte-order mark): give its encoding "
            f"(encoding={encoding!r}, --encoding {encoding}), or save it as UTF-8")


def _no_byte_order(path: Path, exc: UnicodeError, encoding: str) -> DataError:
    """A UnicodeError that is not a decoding error: UTF-16 or UTF-32 read without knowing the
    byte order (``"UTF-16 stream does not start with BOM"``)."""
    name = codecs.lookup(encoding).name
    if name in ("utf-16", "utf-32"):
        return DataError(
            f"{path}: not {name} text ({exc}): a file without a byte-order mark needs its "
            f"byte order, encoding='{name}-le' or '{name}-be' (--encoding {name}-le or "
            f"{name}-be); or is the encoding right (--encoding)?"
        )
    return DataError(f"{path}: not {encoding} text ({exc}); is the encoding right (--encoding)?")


def _not_encoded(path: Path, exc: UnicodeDecodeError, encoding: str) -> DataError:
    """:func:`_not_utf8` for a file read in another encoding (``encoding=``, ``--encoding``)."""
    if encoding == "utf-8":
        return _not_utf8(path, exc)
    offset = 0
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as fh:  # line by line: right for encodings that keep b"\n" whole
        for line, raw in enumerate(fh, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as bad:
                return DataError(
                    f"{path}: line {line}: not {encoding} text ({bad.reason} at byte "
                    f"{offset + bad.start}); is the encoding right (--encoding)?"
                )
            offset += len(raw)
    return DataError(f"{path}: not {encoding} text ({exc.reason}); is the encoding right "
                     "(--encoding)?")


def _delimiter(path: Path) -> str:
    """Tab for ``.tsv`` and ``.tab`` files (gzipped or not), comma otherwise."""
    return extension_delimiter(path)


def _no_nul(lines: Iterator[str], path: Path) -> Iterator[str]:
    """Pass text lines on; a NUL character is an error naming its line.

    UTF-16 text without a byte-order mark decodes as UTF-8 with a NUL beside every ASCII
    character (header names came out as 'a\\x00'), and NumPy drops a cell's trailing NULs, so
    '2\\x00' would read as 2.
    """
    for number, line in enumerate(lines, start=1):
        if "\0" in line:
            marked = _bom_encoding(path)
            if marked is not None:
                raise DataError(f"{path}: line {number}: holds a NUL character: the file is "
                                f"{marked.upper()} text{_bom_advice(marked)}")
            raise DataError(
                f"{path}: line {number}: holds a NUL character, which no CSV text holds: is the "
                "file UTF-16 (save it as UTF-8, or give its encoding: --encoding utf-16-le) or "
                "not a table at all?"
            )
        yield line


_EXCEL_SEP = re.compile(r"\s*sep=([^\r\n])\s*")  # Excel's first line naming the delimiter


def _first_line(lines: Iterator[str], path: Path) -> Iterator[str]:
    """Pass text lines on without a byte-order mark at the start of the first (read as a
    character by an encoding that keeps it, such as ``utf-16-le``); Excel's ``sep=;`` first
    line is an error saying what it is."""
    first = next(lines, None)
    if first is None:
        return
    first = first.removeprefix("\ufeff")
    sep = _EXCEL_SEP.fullmatch(first)
    if sep is not None:
        delimiter = sep.group(1)
        raise DataError(
            f"{path}: line 1 is {first.strip()!r}, the line Excel writes to name the "
            f"delimiter ({delimiter_name(delimiter)}), not a header: delete that line, and "
            f"read the file with delimiter={delimiter!r} (--delimiter {shown(delimiter)})"
        )
    yield first
    yield from lines


def _rows(path: Path, dialect: CsvDialect = _DEFAULT) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, cells)`` for each non-blank row of the file."""
    delimiter = dialect.delimiter_for(path)
    previous = csv.field_size_limit(_FIELD_LIMIT)
    try:
        with _open_text(path, dialect.encoding) as fh:
            reader = csv.reader(_first_line(_no_nul(fh, path), path), delimiter=delimiter,
                                skipinitialspace=True, strict=True)
            try:
                for row in reader:
                    # a blank line is skipped; ",," is a row of empty cells (refused later)
                    if len(row) > 1 or (row and row[0].strip()):
                        yield reader.line_num, row
            except csv.Error as exc:
                raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise _not_encoded(path, exc, dialect.encoding) from None
    except UnicodeError as exc:  # "UTF-16 stream does not start with BOM"
        raise _no_byte_order(path, exc, dialect.encoding) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt gzip stream ({exc})") from None
    finally:
        csv.field_size_limit(previous)


def _separator_hint(header: list[str], path: Path, dialect: CsvDialect = _DEFAULT) -> str:
    """A hint when a one-column header holds another separator (``a;b;label``, or commas in a
    ``.tsv`` file, which is read with tabs), or when it looks like a comment line."""
    if header and header[0].startswith("#") and dialect.header:
        return (" (is line 1 a comment? npdeep reads the first line as the header naming the "
                "columns: remove comment lines)")
    if len(header) == 1:
        delimiter = dialect.delimiter or _delimiter(path)
        for sep in (";", "\t", ",", "|"):
            if sep != delimiter and sep in header[0]:
                name = delimiter_name(sep)
                if dialect.delimiter is not None:
                    return (f" (the columns seem separated by {name}, but the delimiter given "
                            f"is {shown(delimiter)}: give delimiter={sep!r} (--delimiter "
                            f"{shown(sep)}))")
                return (f" (the columns seem separated by {name}: npdeep reads commas, and tabs "
                        f"in .tsv and .tab files; give delimiter={sep!r} (--delimiter "
                        f"{shown(sep)}))")
    return ""


def _is_number(text: str) -> bool:
    try:
        cells.number(text)
    except ValueError:
        return False
    return True


def _is_decimal(text: str) -> bool:
    """A number written with a fraction or an exponent ("5.1", "1e-3"): no column's name."""
    return _is_number(text) and any(c in text for c in ".eE") and text.lower() not in (
        "nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def _header(
    rows: Iterator[tuple[int, list[str]]], path: Path, dialect: CsvDialect = _DEFAULT
) -> tuple[int, list[str]]:
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: the file is empty; expected a header row and data rows")
    line, header = first
    header = [h.strip() for h in header]
    for i, name in enumerate(header):
        if not name:
            end = f" (a {delimiter_word(dialect.delimiter_for(path))} at the end of the line?)"
            hint = (" (an index written by pandas' to_csv? write with index=False)" if i == 0
                    else end if i == len(header) - 1 else "")
            raise DataError(f"{path}: line {line}: header column {i} has no name{hint}")
    probe = header
    if dialect.decimal != ".":  # a header of decimal-comma numbers is data all the same
        probe = cells.pointed(np.array(header, dtype=object), dialect.decimal).tolist()
    if cells.fast_float([probe]) is not None:
        # 0,1,...,n-1 are pandas' default column names (DataFrame(X).to_csv(index=False)), and
        # also a likely first row of 0/1 data: read as a header, that row would be lost
        pandas = (" (pandas writes 0,1,...,n-1 as the header of a frame without column "
                  "names: name them, DataFrame(X, columns=[...]), before to_csv)"
                  if header == [str(i) for i in range(len(header))] else "")
        raise DataError(
            f"{path}: line {line} looks like data, not a header (every cell is a number); "
            f"the first line must name the columns{pandas}{_no_header_hint()}"
        )
    decimals = [h for h, p in zip(header, probe, strict=True) if _is_decimal(p)]
    if decimals and 2 * len([p for p in probe if _is_number(p)]) > len(header):
        raise DataError(
            f"{path}: line {line} looks like data, not a header (cells such as "
            f"{', '.join(repr(h) for h in decimals[:3])} are numbers, not column names); the "
            f"first line must name the columns{_no_header_hint()}"
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path}: line {line}: column name {name!r} appears more than once")
        seen.add(name)
    return line, header


def _no_header_hint() -> str:
    return "; or, for a file without a header row, give header=False (--no-header)"


def _start(
    path: Path, dialect: CsvDialect = _DEFAULT
) -> tuple[Iterator[tuple[int, list[str]]], int, list[str]]:
    """Open the file's rows: ``(data rows, header line, column names)``.

    Without a header row (``dialect.header`` False) the header line is 0 and the columns are
    named by their 0-based index, ``"0"``, ``"1"``..., as many as the first row has cells.
    """
    rows = _rows(path, dialect)
    if dialect.header:
        line, header = _header(rows, path, dialect)
        return rows, line, header
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: the file is empty; expected data rows (read without a header)")
    return itertools.chain([first], rows), 0, [str(j) for j in range(len(first[1]))]


def read_header(path: Path, dialect: CsvDialect = _DEFAULT) -> list[str]:
    """Return the column names of a CSV file's header row (checked as the readers check it);
    ``"0"``, ``"1"``... for a file read without one."""
    rows = _rows(path, dialect)
    try:
        if not dialect.header:
            first = next(rows, None)
            return [] if first is None else [str(j) for j in range(len(first[1]))]
        return _header(rows, path, dialect)[1]
    finally:
        rows.close()


def _trailing_hint(row: list[str], header: list[str]) -> str:
    """A hint when a row is one empty field too wide: a delimiter at the end of the line."""
    if len(row) == len(header) + 1 and not row[-1].strip():
        return " (a delimiter at the end of the line?)"
    return ""


def _check_width(
    row: list[str], line: int, header: list[str], header_line: int, path: Path,
    dialect: CsvDialect = _DEFAULT,
) -> None:
    if len(row) != len(header):
        where = (f"the header on line {header_line} names {len(header)} columns" if header_line
                 else f"the first row has {len(header)}; the file is read without a header")
        raise DataError(
            f"{path}: line {line} has {len(row)} field{'' if len(row) == 1 else 's'}, "
            f"expected {len(header)} ({where})"
            f"{_trailing_hint(row, header)}{_separator_hint(header, path, dialect)}"
        )


def _chunks(
    rows: Iterator[tuple[int, list[str]]],
    header: list[str],
    header_line: int,
    path: Path,
    chunk_rows: int,
    dialect: CsvDialect = _DEFAULT,
) -> Iterator[tuple[list[list[str]], list[int]]]:
    """Group rows into blocks of at most ``chunk_rows``, checking each row's width."""
    block: list[list[str]] = []
    lines: list[int] = []
    for line, row in rows:
        _check_width(row, line, header, header_line, path, dialect)
        block.append(row)
        lines.append(line)
        if len(block) == chunk_rows:
            yield block, lines
            block, lines = [], []
    if block:
        yield block, lines


def _no_rows(path: Path, header_line: int) -> DataError:
    return DataError(f"{path}: has a header on line {header_line} but no data rows")
