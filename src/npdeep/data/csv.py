"""CSV files: a header row, one sample per line, numeric or text columns.

Read with the standard library's :mod:`csv` module so that every error can name the file line
(``reader.line_num``, which counts quoted newlines too), a block of rows at a time so that only
one block's text is held in memory (see :mod:`npdeep.data.cells` for the conversion).

A column is *numeric* when at least half of its cells read as numbers (a stray word in it is
then an error naming its line), otherwise it is *text*: one-hot encoded when asked for,
rejected by name otherwise. Empty cells, NaN and inf are rejected wherever they appear.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from npdeep.data import cells
from npdeep.data.cells import Plan
from npdeep.data.dataset import Dataset, prepare_target
from npdeep.data.encoding import Column, FeatureEncoder
from npdeep.errors import DataError, NonIntegerLabelsError

#: Cells converted at a time while reading a whole file (bounds the text held in memory).
READ_CHUNK_CELLS = 1 << 18


def _chunk_rows(header: list[str]) -> int:
    return max(1, READ_CHUNK_CELLS // len(header))


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
        raise DataError(
            f"{path}: line {line} looks like data, not a header (every cell is a number); "
            "the first line must name the columns"
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


def _nearest_column(name: str, header: list[str]) -> str:
    """``"; did you mean 'kind'?"`` for a name that differs from one column by case, spaces or
    a typo; empty otherwise."""
    import difflib

    folded = {h.strip().casefold(): h for h in header}
    if name.strip().casefold() in folded:
        return f"; did you mean {folded[name.strip().casefold()]!r}?"
    near = difflib.get_close_matches(name, header, n=1, cutoff=0.75)
    return f"; did you mean {near[0]!r}?" if near else ""


def _dropped(drop: Sequence[str], header: list[str], t: int, path: Path) -> set[int]:
    """The indices of the columns ``drop`` names; an unknown name or the target is refused."""
    if isinstance(drop, str):
        drop = [drop]
    columns = ", ".join(repr(h) for h in header)
    indices = set()
    for name in drop:
        if name not in header:
            raise DataError(f"{path}: cannot drop column {name!r}, which it does not have; the "
                            f"columns are: {columns}{_nearest_column(str(name), header)}")
        if header.index(name) == t:
            raise DataError(f"{path}: cannot drop column {name!r}: it is the target")
        indices.add(header.index(name))
    if len(indices) == len(header) - 1:
        raise DataError(f"{path}: dropping {', '.join(map(repr, drop))} leaves no feature column")
    return indices


def _resolve_target(target: str | int | None, header: list[str], path: Path) -> int:
    columns = ", ".join(repr(h) for h in header)
    if target is None:
        return len(header) - 1
    if isinstance(target, str) and target in header:
        return header.index(target)
    index: int | None = None
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        index = int(target)
    elif isinstance(target, str) and target.strip().lstrip("-").isdigit():
        index = int(target.strip())
    if index is None:
        raise DataError(f"{path}: target column {target!r} not found; the columns are: {columns}"
                        f"{_nearest_column(target, header)}")
    if not -len(header) <= index < len(header):
        raise DataError(
            f"{path}: target column index {index} is out of range for {len(header)} columns "
            f"({columns})"
        )
    return index % len(header)


def _plan_for(encoder: FeatureEncoder, header: list[str], skip: int | None, path: Path) -> Plan:
    """Match a stored encoding to a file's columns.

    By name when the file holds every feature the model was trained on (in any order, extra
    columns ignored). By position only when *none* of the names occur (a file with generic
    or no meaningful names) and the count fits. A file that holds some of the names but not
    all is refused: matching it by position would silently feed one column as another.
    """
    if all(name in header for name in encoder.input_names):
        return [(header.index(c.name), c) for c in encoder.columns]
    missing = [n for n in encoder.input_names if n not in header]
    shown = ", ".join(repr(m) for m in missing[:20]) + (", ..." if len(missing) > 20 else "")
    candidates = [j for j in range(len(header)) if j != skip]
    if len(missing) < len(encoder.input_names):
        has = ", ".join(repr(h) for h in header[:20]) + (", ..." if len(header) > 20 else "")
        raise DataError(
            f"{path}: lacks {len(missing)} of the feature columns the model was trained on: "
            f"{shown} (the file has {has}); matching the rest by position could feed one "
            "column as another, so name the columns as in training"
        )
    if encoder.has_categorical:  # one-hot columns make more features than columns
        raise DataError(
            f"{path}: holds none of the {len(missing)} columns the model was trained on "
            f"({shown}); a model with one-hot encoded text columns matches columns by name "
            f"only, so name them as in training{_separator_hint(header, path)}"
        )
    if len(candidates) == encoder.n_features:
        return list(zip(candidates, encoder.columns, strict=True))
    hint = (
        " (does the file still hold the target column?)"
        if len(candidates) > encoder.n_features
        else ""
    )
    raise DataError(
        f"{path}: has {len(candidates)} feature column{'' if len(candidates) == 1 else 's'} "
        f"but the model expects {encoder.n_features} features{hint}; columns missing by name: "
        f"{shown}{_separator_hint(header, path)}"
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


def read_csv(
    path: Path,
    target: str | int | None = None,
    *,
    task: str | None = None,
    categorical: str = "reject",
    encoder: FeatureEncoder | None = None,
    drop: Sequence[str] = (),
) -> Dataset:
    """Load a CSV file with a header row into a :class:`Dataset`.

    Parameters
    ----------
    path : Path
    target : str or int, optional
        Target column by name, or by integer index (negative counts from the end); default last.
    task : {"classification", "regression"}, optional
        Detected from the target when omitted (see :func:`npdeep.data.dataset.detect_task`).
    categorical : {"reject", "onehot"}
        What to do with text feature columns.
    encoder : FeatureEncoder, optional
        A stored encoding to replay (evaluation data): columns are taken as it lists them.
    drop : sequence of str
        Columns left out of the features (an identifier, free text), by name; never read.

    Returns
    -------
    Dataset
        ``X: (n_samples, n_features)`` float64, ``y: (n_samples,)``.
    """
    if categorical not in ("reject", "onehot"):
        raise DataError(f"categorical must be 'reject' or 'onehot', got {categorical!r}")
    rows = _rows(path)
    header_line, header = _header(rows, path)
    if len(header) < 2:
        raise DataError(
            f"{path}: the header on line {header_line} names only {header!r}; "
            "expected at least one feature column and a target column"
            f"{_separator_hint(header, path)}"
        )
    t = _resolve_target(target, header, path)
    dropped = _dropped(drop, header, t, path)
    features = [j for j in range(len(header)) if j != t and j not in dropped]
    plan: Plan | None = None
    if encoder is not None:
        plan = _plan_for(encoder, header, t, path)
    else:
        plan = [(j, Column(header[j])) for j in features]  # tried first: every column numeric
    X_parts, y_parts, all_lines = [], [], []
    for block, lines in _chunks(rows, header, header_line, path, _chunk_rows(header)):
        if encoder is None:
            values = cells.fast_float(block)
            if values is None:  # text somewhere: read the whole file column by column
                return _read_csv_text(path, header, header_line, t, task, categorical, dropped)
            read = [*features, t]  # a dropped column may hold anything
            cells.check_finite(values[:, read], read, block, header, lines, path)
            X_parts.append(values[:, features])
            y_parts.append(cells.block([[row[t]] for row in block])[:, 0])  # read exactly below
        else:
            X_parts.append(cells.encode(block, header, lines, plan, path))
            y_parts.append(cells.block([[row[t]] for row in block])[:, 0])
        all_lines += lines
    if not all_lines:
        raise _no_rows(path, header_line)
    X = np.vstack(X_parts)
    y = cells.target_values(np.concatenate(y_parts), header[t], all_lines, task, path)
    encoder = encoder or FeatureEncoder(tuple(c for _, c in plan))
    return _dataset(path, X, y, header[t], task, all_lines, encoder)


def _read_csv_text(
    path: Path, header: list[str], header_line: int, t: int, task: str | None, categorical: str,
    dropped: set[int],
) -> Dataset:
    """Read a CSV holding text cells: the whole file at once, each column classified."""
    rows = _rows(path)
    next(rows)
    block, lines = [], []
    for chunk, chunk_lines in _chunks(rows, header, header_line, path, _chunk_rows(header)):
        block += chunk
        lines += chunk_lines
    text_cells = cells.block(block)
    del block
    columns, parts = [], []
    for j in range(len(header)):
        if j != t and j not in dropped:
            column, part = cells.classify(text_cells[:, j], header[j], lines, path, categorical)
            columns.append(column)
            parts.append(part)
    y = cells.target_values(text_cells[:, t], header[t], lines, task, path)
    return _dataset(
        path, np.hstack(parts), y, header[t], task, lines, FeatureEncoder(tuple(columns))
    )


def _dataset(
    path: Path,
    X: np.ndarray,
    y: np.ndarray,
    target_name: str,
    task: str | None,
    lines: list[int],
    encoder: FeatureEncoder,
) -> Dataset:
    try:
        y, task, classes = prepare_target(y, task, target_name, lines)
    except NonIntegerLabelsError as exc:  # keep the kind: evaluate words it for a model
        raise NonIntegerLabelsError(f"{path}: {exc}", exc.target_name, exc.example) from None
    except DataError as exc:  # name the file (prepare_target knows only lines)
        raise DataError(f"{path}: {exc}") from None
    return Dataset(
        X=X,
        y=y,
        feature_names=encoder.feature_names,
        target_name=target_name,
        task=task,
        classes=classes,
        source=f"{path.name} (CSV, {len(lines)} rows, target {target_name!r})",
        encoder=encoder,
    )


def iter_csv_chunks(
    path: str | Path,
    chunk_rows: int,
    *,
    encoder: FeatureEncoder | None = None,
    n_features: int | None = None,
) -> Iterator[np.ndarray]:
    """Stream a CSV's features in chunks of at most ``chunk_rows`` rows (bounded memory).

    Parameters
    ----------
    path : str or Path
    chunk_rows : int
        Rows per chunk, >= 1.
    encoder : FeatureEncoder, optional
        The model's stored encoding: columns are picked by name (other columns, such as the
        target, are ignored) or by position when none of the names occur; a file holding
        only some of the names is refused.
    n_features : int, optional
        Without an encoder, every column is a numeric feature and their count must equal this.

    Yields
    ------
    ndarray of float64, shape (n_chunk, n_features)
    """
    path = Path(path)
    if (
        isinstance(chunk_rows, bool)
        or not isinstance(chunk_rows, (int, np.integer))
        or chunk_rows < 1
    ):
        raise DataError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    rows = _rows(path)
    header_line, header = _header(rows, path)
    if encoder is None:
        if n_features is not None and len(header) != n_features:
            extra = (
                " (does the file still hold the target column?)" if len(header) > n_features else ""
            )
            raise DataError(
                f"{path}: has {len(header)} columns but the model expects "
                f"{n_features} features{extra}"
            )
        encoder = FeatureEncoder.numeric(header)
    plan = _plan_for(encoder, header, None, path)
    n_total = 0
    for block, lines in _chunks(rows, header, header_line, path, int(chunk_rows)):
        yield cells.encode(block, header, lines, plan, path)
        n_total += len(block)
    if n_total == 0:
        raise _no_rows(path, header_line)


def read_csv_features(
    path: Path, encoder: FeatureEncoder | None, n_features: int | None
) -> np.ndarray:
    """Load every row's features (no target needed): ``X: (n_samples, n_features)``."""
    return np.vstack(list(iter_csv_chunks(path, 1024, encoder=encoder, n_features=n_features)))
