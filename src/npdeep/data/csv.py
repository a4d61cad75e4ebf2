"""CSV files: a header row, one sample per line, numeric or text columns.

Read with the standard library's :mod:`csv` module so that every error can name the file line
(``reader.line_num``, which counts quoted newlines too). Cells are converted to float64 by
numpy a whole column at a time; the slow cell-by-cell search only runs to name a bad cell.

A column is *numeric* when at least half of its cells read as numbers (a stray word in it is
then an error naming its line), otherwise it is *text*: one-hot encoded when asked for,
rejected by name otherwise. Empty cells, NaN and inf are rejected wherever they appear.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from npdeep.data.dataset import Dataset, prepare_target
from npdeep.data.encoding import Column, FeatureEncoder, one_hot
from npdeep.errors import DataError

Plan = list[tuple[int, Column]]  # (index of the column in the file, how to encode it)


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    if gz:
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, cells)`` for each non-blank row of the file."""
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh, delimiter=delimiter, skipinitialspace=True, strict=True)
            try:
                for row in reader:
                    if row and any(cell.strip() for cell in row):
                        yield reader.line_num, row
            except csv.Error as exc:
                raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise DataError(f"{path}: corrupt gzip stream ({exc})") from None


def _header(rows: Iterator[tuple[int, list[str]]], path: Path) -> tuple[int, list[str]]:
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: the file is empty; expected a header row and data rows")
    line, header = first
    header = [h.strip() for h in header]
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: line {line}: header column {i} has no name")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path}: line {line}: column name {name!r} appears more than once")
        seen.add(name)
    return line, header


def _check_width(
    row: list[str], line: int, header: list[str], header_line: int, path: Path
) -> None:
    if len(row) != len(header):
        raise DataError(
            f"{path}: line {line} has {len(row)} fields, expected {len(header)} "
            f"(the header on line {header_line} names {len(header)} columns)"
        )


def _block(rows: list[list[str]]) -> np.ndarray:
    return np.array(rows, dtype=str).reshape(len(rows), -1)


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
        raise DataError(f"{path}: target column {target!r} not found; the columns are: {columns}")
    if not -len(header) <= index < len(header):
        raise DataError(
            f"{path}: target column index {index} is out of range for {len(header)} columns "
            f"({columns})"
        )
    return index % len(header)


def _to_float(cells: np.ndarray, name: str, lines: Sequence[int], path: Path) -> np.ndarray:
    """Convert one numeric column; name the line and column of the first bad cell."""
    try:
        values = cells.astype(np.float64)
    except ValueError:
        for i, cell in enumerate(cells):
            try:
                float(cell)
            except ValueError:
                if not str(cell).strip():
                    raise DataError(
                        f"{path}: line {lines[i]}, column {name!r}: empty cell; "
                        "missing values are not supported"
                    ) from None
                raise DataError(
                    f"{path}: line {lines[i]}, column {name!r}: {str(cell)!r} is not a number "
                    "(the other cells of this column are numbers)"
                ) from None
        raise
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: line {lines[i]}, column {name!r}: {str(cells[i]).strip()!r} is not a finite "
            "number; NaN and inf are not allowed"
        )
    return values


def _is_numeric(cells: np.ndarray) -> bool:
    """True when at least half the non-empty cells read as numbers."""
    try:
        cells.astype(np.float64)
        return True
    except ValueError:
        pass
    n_number = n_filled = 0
    for cell in cells:
        if str(cell).strip():
            n_filled += 1
            try:
                float(cell)
                n_number += 1
            except ValueError:
                pass
    return n_filled > 0 and 2 * n_number >= n_filled


def _text(cells: np.ndarray, name: str, lines: Sequence[int], path: Path) -> np.ndarray:
    stripped = np.char.strip(cells)
    empty = stripped == ""
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataError(
            f"{path}: line {lines[i]}, column {name!r}: empty cell; "
            "missing values are not supported"
        )
    return stripped


def _encode(block: np.ndarray, lines: Sequence[int], plan: Plan, path: Path) -> np.ndarray:
    """Turn a block of text cells ``(n_rows, n_file_columns)`` into ``X: (n_rows, n_features)``."""
    parts = []
    for j, column in plan:
        if column.categories is None:
            parts.append(_to_float(block[:, j], column.name, lines, path)[:, None])
        else:
            parts.append(one_hot(_text(block[:, j], column.name, lines, path), column, lines))
    return np.hstack(parts) if parts else np.empty((len(block), 0))


def _plan_for(encoder: FeatureEncoder, header: list[str], skip: int | None, path: Path) -> Plan:
    """Match a stored encoding to a file's columns: by name, or by position when names differ."""
    if all(name in header for name in encoder.input_names):
        return [(header.index(c.name), c) for c in encoder.columns]
    candidates = [j for j in range(len(header)) if j != skip]
    if not encoder.has_categorical and len(candidates) == encoder.n_features:
        return list(zip(candidates, encoder.columns, strict=True))
    missing = [n for n in encoder.input_names if n not in header]
    hint = (
        " (does the file still hold the target column?)"
        if len(candidates) > encoder.n_features
        else ""
    )
    raise DataError(
        f"{path}: has {len(candidates)} feature columns but the model expects "
        f"{encoder.n_features} features{hint}; columns missing by name: "
        f"{', '.join(repr(m) for m in missing[:20])}"
    )


def read_csv(
    path: Path,
    target: str | int | None = None,
    *,
    task: str | None = None,
    categorical: str = "reject",
    encoder: FeatureEncoder | None = None,
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

    Returns
    -------
    Dataset
        ``X: (n_samples, n_features)`` float64, ``y: (n_samples,)``.
    """
    if categorical not in ("reject", "onehot"):
        raise DataError(f"categorical must be 'reject' or 'onehot', got {categorical!r}")
    rows_iter = _rows(path)
    header_line, header = _header(rows_iter, path)
    if len(header) < 2:
        raise DataError(
            f"{path}: the header on line {header_line} names only {header!r}; "
            "expected at least one feature column and a target column"
        )
    t = _resolve_target(target, header, path)
    rows, lines = [], []
    for line, row in rows_iter:
        _check_width(row, line, header, header_line, path)
        rows.append(row)
        lines.append(line)
    if not rows:
        raise DataError(f"{path}: has a header on line {header_line} but no data rows")
    block = _block(rows)
    del rows
    if encoder is None:
        plan: Plan = []
        for j, name in enumerate(header):
            if j == t:
                continue
            if _is_numeric(block[:, j]):
                plan.append((j, Column(name)))
                continue
            cells = _text(block[:, j], name, lines, path)
            if categorical == "reject":
                raise DataError(
                    f"{path}: column {name!r} holds text "
                    f"(e.g. {str(cells[0])!r} on line {lines[0]}); "
                    "drop it, or ask for one-hot encoding of text columns (categorical='onehot')"
                )
            plan.append((j, Column(name, tuple(sorted(set(cells.tolist()))))))
        encoder = FeatureEncoder(tuple(c for _, c in plan))
    else:
        plan = _plan_for(encoder, header, t, path)
    X = _encode(block, lines, plan, path)
    y = _target(block[:, t], header[t], lines, task, path)
    y, task, classes = prepare_target(y, task, header[t], lines)
    return Dataset(
        X=X,
        y=y,
        feature_names=encoder.feature_names,
        target_name=header[t],
        task=task,
        classes=classes,
        source=f"{path.name} (CSV, {len(lines)} rows, target {header[t]!r})",
        encoder=encoder,
    )


def _target(
    cells: np.ndarray, name: str, lines: Sequence[int], task: str | None, path: Path
) -> np.ndarray:
    """Numbers when the column is numeric; text labels when it is text."""
    cells = _text(cells, name, lines, path)
    try:
        cells.astype(np.float64)
        all_numbers = True
    except ValueError:
        all_numbers = False
    if all_numbers or (task != "classification" and _is_numeric(cells)):
        return _to_float(cells, name, lines, path)
    return cells


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
        target, are ignored) or by position when the names differ.
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
    rows_iter = _rows(path)
    header_line, header = _header(rows_iter, path)
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
    rows: list[list[str]] = []
    lines: list[int] = []
    n_total = 0
    for line, row in rows_iter:
        _check_width(row, line, header, header_line, path)
        rows.append(row)
        lines.append(line)
        if len(rows) == chunk_rows:
            yield _encode(_block(rows), lines, plan, path)
            n_total += len(rows)
            rows, lines = [], []
    if rows:
        yield _encode(_block(rows), lines, plan, path)
        n_total += len(rows)
    if n_total == 0:
        raise DataError(f"{path}: has a header on line {header_line} but no data rows")


def read_csv_features(
    path: Path, encoder: FeatureEncoder | None, n_features: int | None
) -> np.ndarray:
    """Load every row's features (no target needed): ``X: (n_samples, n_features)``."""
    chunks = list(iter_csv_chunks(path, 65536, encoder=encoder, n_features=n_features))
    return np.vstack(chunks)
