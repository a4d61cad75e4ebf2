"""A CSV file's rows as text: gzip or not, UTF-8, comma or tab, each row with its line number.

Read with the standard library's :mod:`csv` module so that every error can name the file
line (``reader.line_num``, which counts quoted newlines too). The header row is checked
(every column named, once, and not a row of data) and every data row's width against it;
rows are grouped into blocks for :mod:`npdeep.data.csv` to convert a block at a time.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

from npdeep.data import cells
from npdeep.errors import DataError

# the csv module refuses a field over 131,072 characters as "field larger than field limit"
# (a long free-text cell, even in a column that is dropped): allow any that fits a C long,
# while npdeep reads (the limit is the process's: the caller's is put back after)
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _open_text(path: Path) -> io.TextIOBase:
    if _is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> DataError:
    """Name the line and offset of the first byte that is not UTF-8.

    ``exc.start`` counts from the start of the text reader's read-ahead block, not of the
    file, so the file is scanned again line by line (no UTF-8 sequence holds a newline byte).
    """
    offset = 0
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as fh:
        for line, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                return DataError(
                    f"{path}: line {line}: not a UTF-8 text file ({bad.reason} at byte "
                    f"{offset + bad.start}); save it as UTF-8 (Excel: 'CSV UTF-8')"
                )
            offset += len(raw)
    return DataError(f"{path}: not a UTF-8 text file ({exc.reason})")


def _delimiter(path: Path) -> str:
    """Tab for ``.tsv`` and ``.tab`` files (gzipped or not), comma otherwise."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]  # data.tsv.gz is a TSV
    return "\t" if suffixes and suffixes[-1] in (".tsv", ".tab") else ","


def _no_nul(lines: Iterator[str], path: Path) -> Iterator[str]:
    """Pass text lines on; a NUL character is an error naming its line.

    UTF-16 text without a byte-order mark decodes as UTF-8 with a NUL beside every ASCII
    character (header names came out as 'a\\x00'), and NumPy drops a cell's trailing NULs, so
    '2\\x00' would read as 2.
    """
    for number, line in enumerate(lines, start=1):
        if "\0" in line:
            raise DataError(
                f"{path}: line {number}: holds a NUL character, which no CSV text holds: is the "
                "file UTF-16 (save it as UTF-8) or not a table at all?"
            )
        yield line


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, cells)`` for each non-blank row of the file."""
    delimiter = _delimiter(path)
    previous = csv.field_size_limit(_FIELD_LIMIT)
    try:
        with _open_text(path) as fh:
            reader = csv.reader(_no_nul(fh, path), delimiter=delimiter, skipinitialspace=True,
                                strict=True)
            try:
                for row in reader:
                    # a blank line is skipped; ",," is a row of empty cells (refused later)
                    if len(row) > 1 or (row and row[0].strip()):
                        yield reader.line_num, row
            except csv.Error as exc:
                raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt gzip stream ({exc})") from None
    finally:
        csv.field_size_limit(previous)


def _separator_hint(header: list[str], path: Path) -> str:
    """A hint when a one-column header holds another separator (``a;b;label``, or commas in a
    ``.tsv`` file, which is read with tabs), or when it looks like a comment line."""
    if header and header[0].startswith("#"):
        return (" (is line 1 a comment? npdeep reads the first line as the header naming the "
                "columns: remove comment lines)")
    if len(header) == 1:
        others = [(";", "semicolons"), ("\t", "tabs"), (",", "commas")]
        for sep, name in others:
            if sep != _delimiter(path) and sep in header[0]:
                return (f" (the columns seem separated by {name}: npdeep reads commas, and tabs "
                        "in .tsv and .tab files)")
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


def _header(rows: Iterator[tuple[int, list[str]]], path: Path) -> tuple[int, list[str]]:
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: the file is empty; expected a header row and data rows")
    line, header = first
    header = [h.strip() for h in header]
    for i, name in enumerate(header):
        if not name:
            hint = (" (an index written by pandas' to_csv? write with index=False)" if i == 0
                    else " (a comma at the end of the line?)" if i == len(header) - 1 else "")
            raise DataError(f"{path}: line {line}: header column {i} has no name{hint}")
    if cells.fast_float([header]) is not None:
        # 0,1,...,n-1 are pandas' default column names (DataFrame(X).to_csv(index=False)), and
        # also a likely first row of 0/1 data: read as a header, that row would be lost
        pandas = (" (pandas writes 0,1,...,n-1 as the header of a frame without column "
                  "names: name them, DataFrame(X, columns=[...]), before to_csv)"
                  if header == [str(i) for i in range(len(header))] else "")
        raise DataError(
            f"{path}: line {line} looks like data, not a header (every cell is a number); "
            f"the first line must name the columns{pandas}"
        )
    decimals = [h for h in header if _is_decimal(h)]
    if decimals and 2 * len([h for h in header if _is_number(h)]) > len(header):
        raise DataError(
            f"{path}: line {line} looks like data, not a header (cells such as "
            f"{', '.join(repr(h) for h in decimals[:3])} are numbers, not column names); the "
            "first line must name the columns"
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path}: line {line}: column name {name!r} appears more than once")
        seen.add(name)
    return line, header


def read_header(path: Path) -> list[str]:
    """Return the column names of a CSV file's header row (checked as the readers check it)."""
    rows = _rows(path)
    try:
        return _header(rows, path)[1]
    finally:
        rows.close()


def _trailing_hint(row: list[str], header: list[str]) -> str:
    """A hint when a row is one empty field too wide: a delimiter at the end of the line."""
    if len(row) == len(header) + 1 and not row[-1].strip():
        return " (a delimiter at the end of the line?)"
    return ""


def _check_width(
    row: list[str], line: int, header: list[str], header_line: int, path: Path
) -> None:
    if len(row) != len(header):
        raise DataError(
            f"{path}: line {line} has {len(row)} field{'' if len(row) == 1 else 's'}, "
            f"expected {len(header)} "
            f"(the header on line {header_line} names {len(header)} columns)"
            f"{_trailing_hint(row, header)}{_separator_hint(header, path)}"
        )


def _chunks(
    rows: Iterator[tuple[int, list[str]]],
    header: list[str],
    header_line: int,
    path: Path,
    chunk_rows: int,
) -> Iterator[tuple[list[list[str]], list[int]]]:
    """Group rows into blocks of at most ``chunk_rows``, checking each row's width."""
    block: list[list[str]] = []
    lines: list[int] = []
    for line, row in rows:
        _check_width(row, line, header, header_line, path)
        block.append(row)
        lines.append(line)
        if len(block) == chunk_rows:
            yield block, lines
            block, lines = [], []
    if block:
        yield block, lines


def _no_rows(path: Path, header_line: int) -> DataError:
    return DataError(f"{path}: has a header on line {header_line} but no data rows")
