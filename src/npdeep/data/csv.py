"""CSV files: a header row (or none), one sample per line, numeric or text columns.

Read with the standard library's :mod:`csv` module so that every error can name the file line
(``reader.line_num``, which counts quoted newlines too), a block of rows at a time so that only
one block's text is held in memory (see :mod:`npdeep.data.cells` for the conversion).

A column is *numeric* when at least half of its cells read as numbers (a stray word in it is
then an error naming its line), otherwise it is *text*: one-hot encoded when asked for,
rejected by name otherwise. Empty cells, NaN and inf are rejected wherever they appear.
The delimiter, decimal sign, encoding and header row are a :class:`~npdeep.data.dialect.
CsvDialect`'s (by default: comma, or tab by extension; ``.``; UTF-8; a header).

The file's text, rows and header are read in :mod:`npdeep.data._csv_rows`; which columns are
the target, dropped or features (a stored encoding matched to them) is decided in
:mod:`npdeep.data._csv_columns`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from npdeep.data import cells
from npdeep.data._csv_columns import (  # noqa: F401
    _dropped,
    _kept_columns,
    _nearest_column,
    _plan_for,
    _resolve_target,
    _resolve_targets,
)
from npdeep.data._csv_rows import (  # noqa: F401
    _check_width,
    _chunks,
    _delimiter,
    _header,
    _is_decimal,
    _is_gzip,
    _is_number,
    _no_nul,
    _no_rows,
    _not_utf8,
    _open_text,
    _rows,
    _separator_hint,
    _start,
    _trailing_hint,
    read_header,
)
from npdeep.data.cells import Plan
from npdeep.data.dataset import Dataset, label_text, prepare_target, prepare_targets
from npdeep.data.dialect import CsvDialect
from npdeep.data.encoding import Column, FeatureEncoder
from npdeep.errors import DataError, MixedTargetError, NonIntegerLabelsError

# the file's rows and header, and the choice of columns, moved out to _csv_rows and
# _csv_columns; every name this module held before stays importable from here

#: Cells converted at a time while reading a whole file (bounds the text held in memory).
READ_CHUNK_CELLS = 1 << 18


def _chunk_rows(header: list[str]) -> int:
    return max(1, READ_CHUNK_CELLS // len(header))


def read_csv(
    path: Path,
    target: str | int | None = None,
    *,
    task: str | None = None,
    categorical: str = "reject",
    encoder: FeatureEncoder | None = None,
    drop: Sequence[str] = (),
    dialect: CsvDialect | None = None,
) -> Dataset:
    """Load a CSV file with a header row (or, by its dialect, none) into a :class:`Dataset`.

    Parameters
    ----------
    path : Path
    target : str, int or list, optional
        Target column by name, or by integer index (negative counts from the end); default
        last. Several targets: a list of them, or their names or indices separated by
        commas (``"a,b"``); a name holding a comma is one column when the header has it.
    task : {"classification", "regression", "multilabel"}, optional
        Detected from the target when omitted (see :func:`npdeep.data.dataset.detect_task`).
    categorical : {"reject", "onehot"}
        What to do with text feature columns.
    encoder : FeatureEncoder, optional
        A stored encoding to replay (evaluation data): columns are taken as it lists them.
    drop : sequence of str
        Columns left out of the features (an identifier, free text), by name; never read.
    dialect : CsvDialect, optional
        Delimiter, decimal sign, encoding, header row (:func:`npdeep.data.dialect.csv_dialect`);
        default: a header row, comma (tab for ``.tsv``), ``.``, UTF-8.

    Returns
    -------
    Dataset
        ``X: (n_samples, n_features)`` float64, ``y: (n_samples,)``, or ``(n_samples, k)``
        for k targets (numbers: regression; all 0 and 1: multi-label).
    """
    if categorical not in ("reject", "onehot"):
        raise DataError(f"categorical must be 'reject' or 'onehot', got {categorical!r}")
    try:
        return _read_csv(path, target, task, categorical, encoder, drop,
                         dialect or CsvDialect())
    except MemoryError:
        raise _out_of_memory(path) from None
    except DataError as exc:
        raise _header_hint(exc, path, dialect or CsvDialect()) from None


def _header_hint(exc: DataError, path: Path, dialect: CsvDialect) -> DataError:
    """``exc``, saying so when a file read without a header fails on its first row, a row of
    words only: a header, most likely (a model trained ``--no-header`` reads new files so)."""
    if dialect.header or type(exc) is not DataError:
        return exc
    rows = _rows(path, dialect)
    try:
        line, first = next(rows, (0, []))
    finally:
        rows.close()
    words = cells.pointed(np.array(first, dtype=object), dialect.decimal)
    if not line or f": line {line}, " not in str(exc) or any(
            _is_number(w) or not w.strip() for w in words.tolist()):
        return exc
    return DataError(f"{exc} (is line {line} a header? the file is read without one: give "
                     "header=True, --header)")


def _out_of_memory(path: Path) -> DataError:
    return DataError(f"{path}: not enough memory to read it (its features, one-hot columns "
                     "included, do not fit); drop or shorten large columns (--drop NAME)")


def _read_csv(
    path: Path, target: str | int | None, task: str | None, categorical: str,
    encoder: FeatureEncoder | None, drop: Sequence[str], dialect: CsvDialect,
) -> Dataset:
    rows, header_line, header = _start(path, dialect)
    if len(header) < 2:
        where, first = f"the header on line {header_line} names only {header!r}", header
        if not header_line:
            where, first = "its first row has one column (read without a header)", next(rows)[1]
        raise DataError(
            f"{path}: {where}; expected at least one feature column and a target column"
            f"{_separator_hint(first, path, dialect)}"
        )
    ts = _resolve_targets(target, header, path)
    dropped = _dropped(drop, header, ts, path)
    features = [j for j in range(len(header)) if j not in ts and j not in dropped]
    plan: Plan | None = None
    if encoder is not None:
        plan = _plan_for(encoder, header, ts, path, dialect=dialect)
    else:
        plan = [(j, Column(header[j])) for j in features]  # tried first: every column numeric
    X_parts, all_lines = [], []
    y_parts: list[list[np.ndarray]] = [[] for _ in ts]
    for block, lines in _chunks(rows, header, header_line, path, _chunk_rows(header), dialect):
        if encoder is None:
            # text somewhere, or a decimal comma: read the whole file column by column
            values = cells.fast_float(block) if dialect.decimal == "." else None
            if values is None:
                return _read_csv_text(path, header, header_line, ts, task, categorical, dropped,
                                      dialect)
            read = [*features, *ts]  # a dropped column may hold anything
            cells.check_finite(values[:, read], read, block, header, lines, path)
            X_parts.append(values[:, features])
        else:
            X_parts.append(cells.encode(block, header, lines, plan, path, dialect.decimal))
        for parts, t in zip(y_parts, ts, strict=True):
            parts.append(cells.column(block, t))  # read exactly below
        all_lines += lines
    if not all_lines:
        raise _no_rows(path, header_line)
    X = np.vstack(X_parts)
    y = [np.concatenate(parts) for parts in y_parts]
    encoder = encoder or FeatureEncoder(tuple(c for _, c in plan))
    return _dataset(path, X, y, [header[t] for t in ts], task, all_lines, encoder,
                    dialect.decimal)


def _read_csv_text(
    path: Path, header: list[str], header_line: int, ts: list[int], task: str | None,
    categorical: str, dropped: set[int], dialect: CsvDialect,
) -> Dataset:
    """Read a CSV holding text cells: the whole file at once, each column classified."""
    rows = _start(path, dialect)[0]
    block, lines = [], []
    for chunk, chunk_lines in _chunks(rows, header, header_line, path, _chunk_rows(header),
                                      dialect):
        block += chunk
        lines += chunk_lines
    columns, parts = [], []
    for j in range(len(header)):  # column by column: a dropped column is never converted
        if j not in ts and j not in dropped:
            column, part = cells.classify(cells.column(block, j), header[j], lines, path,
                                          categorical, dialect.decimal)
            columns.append(column)
            parts.append(part)
    y = [cells.column(block, t) for t in ts]
    del block
    return _dataset(
        path, np.hstack(parts), y, [header[t] for t in ts], task, lines,
        FeatureEncoder(tuple(columns)), dialect.decimal
    )


def _dataset(
    path: Path,
    X: np.ndarray,
    y_cells: list[np.ndarray],
    target_names: list[str],
    task: str | None,
    lines: list[int],
    encoder: FeatureEncoder,
    decimal: str = ".",
) -> Dataset:
    """The Dataset of features ``X`` and the text cells of each target column (n_rows,),
    numbers written with the decimal sign ``decimal``."""
    try:
        if len(target_names) == 1:
            name = target_names[0]
            y = cells.target_values(y_cells[0], name, lines, task, path, decimal)
            y, task, classes = prepare_target(label_text(y_cells[0], y, task), task, name, lines)
        else:
            name = ",".join(target_names)
            y, task, classes = prepare_targets(
                [cells.target_values(c, n, lines, task if task in ("regression", "multilabel")
                                     else None, path, decimal)
                 for c, n in zip(y_cells, target_names, strict=True)],
                task, target_names, lines)
    except NonIntegerLabelsError as exc:  # keep the kind: evaluate words it for a model
        raise NonIntegerLabelsError(f"{path}: {exc}", exc.target_name, exc.example) from None
    except MixedTargetError:  # keep the kind (its message names the file): evaluate words it
        raise                 # for a model
    except DataError as exc:  # name the file (prepare_target knows only lines)
        message = str(exc)
        raise DataError(message if message.startswith(f"{path}:") else f"{path}: {message}") \
            from None
    return Dataset(
        X=X,
        y=y,
        feature_names=encoder.feature_names,
        target_name=name,
        task=task,
        classes=classes,
        source=f"{path.name} (CSV, {len(lines)} rows, target {name!r})",
        encoder=encoder,
        target_names=tuple(target_names) if len(target_names) > 1 else (),
    )


def iter_csv_chunks(
    path: str | Path,
    chunk_rows: int,
    *,
    encoder: FeatureEncoder | None = None,
    n_features: int | None = None,
    dialect: CsvDialect | None = None,
) -> Iterator[np.ndarray]:
    """Stream a CSV's features in chunks of at most ``chunk_rows`` rows (bounded memory).

    :func:`iter_csv_chunks_keeping` also yields the text of named columns (an identifier).

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
    dialect : CsvDialect, optional
        The file's delimiter, decimal sign, encoding and header row (default: as
        :func:`read_csv`'s).

    Yields
    ------
    ndarray of float64, shape (n_chunk, n_features)
    """
    for X, _ in iter_csv_chunks_keeping(path, chunk_rows, (), encoder=encoder,
                                        n_features=n_features, dialect=dialect):
        yield X


def iter_csv_chunks_keeping(
    path: str | Path,
    chunk_rows: int,
    keep: Sequence[str],
    *,
    encoder: FeatureEncoder | None = None,
    n_features: int | None = None,
    dialect: CsvDialect | None = None,
) -> Iterator[tuple[np.ndarray, list[list[str]]]]:
    """Stream a CSV as :func:`iter_csv_chunks` does, with the cells of the columns ``keep``.

    Yields
    ------
    X : ndarray of float64, shape (n_chunk, n_features)
    kept : list of n_chunk lists of len(keep) str, each row's cells of ``keep`` as written

    A name of ``keep`` that the header lacks is a DataError listing the columns. Without an
    encoder the kept columns are not features (the rest must number ``n_features``).
    """
    path = Path(path)
    if (
        isinstance(chunk_rows, bool)
        or not isinstance(chunk_rows, (int, np.integer))
        or chunk_rows < 1
    ):
        raise DataError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    dialect = dialect or CsvDialect()
    rows, header_line, header = _start(path, dialect)
    kept = _kept_columns(keep, header, path)
    if encoder is None:
        if n_features is not None and len(header) - len(kept) != n_features:
            extra = (
                " (does the file still hold the target column?)" if len(header) > n_features else ""
            )
            raise DataError(
                f"{path}: has {len(header) - len(kept)} columns"
                f"{' besides --keep' if kept else ''} but the model expects "
                f"{n_features} features{extra}"
            )
        encoder = FeatureEncoder.numeric([h for j, h in enumerate(header) if j not in kept])
    plan = _plan_for(encoder, header, None, path, dialect=dialect)
    n_total = 0
    for block, lines in _chunks(rows, header, header_line, path, int(chunk_rows), dialect):
        try:
            X = cells.encode(block, header, lines, plan, path, dialect.decimal)
        except MemoryError:
            raise _out_of_memory(path) from None
        except DataError as exc:
            raise _header_hint(exc, path, dialect) from None
        yield X, [[row[j] for j in kept] for row in block]
        n_total += len(block)
    if n_total == 0:
        raise _no_rows(path, header_line)


def read_csv_features(
    path: Path, encoder: FeatureEncoder | None, n_features: int | None,
    dialect: CsvDialect | None = None,
) -> np.ndarray:
    """Load every row's features (no target needed): ``X: (n_samples, n_features)``."""
    return np.vstack(list(iter_csv_chunks(path, 1024, encoder=encoder, n_features=n_features,
                                          dialect=dialect)))
