"""Callbacks that write one line per epoch to a file: CSV and JSON Lines.

Both follow the protocol of :mod:`npdeep.callbacks` (and are importable from there and from
:mod:`npdeep.monitors`). Resuming (``initial_epoch > 0``) continues an existing file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys

import numpy as np

from ._validation import check_flag
from .atomic import as_path, write_atomically
from .callbacks import Callback, keras_keywords
from .errors import ConfigurationError, ModelFileError
from .history import jsonable

__all__ = ["CSVLogger", "JSONLogger", "check_separate_files"]


def _flatten(logs: dict) -> dict:
    """One CSV cell per value: a list, tuple or 1-D NumPy array becomes the columns
    ``name_1..n`` (``gradient_norms``: ``gradient_norm_1..L``), NumPy scalars Python numbers;
    any other value is written as its ``str`` (a 2-D array's on one line)."""
    row = {}
    for key, value in logs.items():
        if isinstance(value, np.ndarray) and value.ndim == 1:
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            for i, v in enumerate(value, start=1):
                row[f"{key[:-1] if key.endswith('s') else key}_{i}"] = _cell(v)
        else:
            row[key] = _cell(value)
    return row


def _cell(value):
    """``value`` as a CSV cell: a NumPy scalar as the Python number, an array on one line."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return " ".join(np.array2string(value, threshold=sys.maxsize,
                                        max_line_width=sys.maxsize).split())
    return value


def _log_path(path, who: str) -> str:
    """``path`` as a string, refused at once when its folder does not exist."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError(f"{who}: path must be a str or os.PathLike naming a file, got "
                                 f"{path!r:.100}")
    path = os.fspath(path)
    if not path:
        raise ConfigurationError(f"{who}: the path is empty; give a file name")
    path = os.path.expanduser(path)  # "~/logs/run.csv", as ModelCheckpoint and plot take it
    check_folder(path, who)
    return path


def check_folder(path: str, who: str) -> None:
    """Raise ConfigurationError naming ``who`` unless the folder of ``path`` exists."""
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        state = "is a file, not a folder" if os.path.exists(folder) else "does not exist"
        raise ConfigurationError(f"{who}: the folder {folder!r} of {path!r} {state}")


def _open_log(path: str, who: str, initial_epoch: int, keep_rows, append: bool,
              newline=None):
    """Open a log for a run starting at ``initial_epoch``: anew, continued (``append``), or,
    resuming, cut back.

    A resumed run continues the file after the rows of epochs ``<= initial_epoch``, so rows
    of epochs trained after the checkpoint by the interrupted run are not written twice; a
    file that ends at that epoch (an estimator's next ``partial_fit``) is appended to as it is.
    ``keep_rows(lines, initial_epoch)`` returns the lines to keep. Returns ``(file, kept)``,
    ``kept`` the lines already in the file.
    """
    try:
        lines: list[str] = []
        if (initial_epoch > 0 or append) and os.path.exists(path):
            with open(path, encoding="utf-8", newline=newline) as fh:
                lines = fh.readlines()
        if initial_epoch > 0:
            kept = keep_rows(lines, initial_epoch)
            if kept and not kept[-1].endswith("\n"):  # a last row cut short: end it
                kept[-1] += "\n"
            if os.path.isfile(path) and kept != lines:
                # resumed: the rows of the interrupted run's later epochs go, in one atomic
                # rewrite (an interruption here must not lose the whole log)
                text = "".join(kept).encode("utf-8")
                try:
                    write_atomically(as_path(path, "write a log"), lambda fp: fp.write(text),
                                     "log")
                except ModelFileError as exc:
                    raise ConfigurationError(f"{who}: {exc}") from None
            # then on from the file's last row (also an estimator's partial_fit or warm fit,
            # which counts its epochs on from those logged)
            fh = open(path, "a" if os.path.isfile(path) else "w", encoding="utf-8",
                      newline=newline)
            return fh, kept
        fh = open(path, "a" if append else "w", encoding="utf-8", newline=newline)
        if lines and not lines[-1].endswith("\n"):  # a last line cut short
            fh.write("\n")
        return fh, lines
    except OSError as exc:
        raise ConfigurationError(f"{who}: cannot write {path!r} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{who}: {path!r} is not a UTF-8 text log, which this run "
                                 "would continue; give another path") from None


def _write_row(logger, write) -> None:
    """Run ``write()`` (one row, then a flush); an OSError (a full disk, a removed mount)
    becomes the error :func:`_open_log` gives, naming the logger and its file."""
    try:
        write()
        logger._file.flush()
    except OSError as exc:
        raise ConfigurationError(
            f"{type(logger).__name__}: cannot write {logger.path!r} "
            f"({exc.strerror or exc}); training stopped, the network keeps its weights"
        ) from None


def _rows_upto(lines: list[str], epoch: int, epoch_of) -> list[str]:
    """The lines of a log to keep when a run resumes after ``epoch`` epochs.

    The resumed run goes on from the interrupted one's row of ``epoch``: the lines after the
    last row of that epoch (the interrupted run's later epochs) are dropped, those before it
    kept, rows of earlier fits (``append``) included. In a file without that row, the rows of
    epochs up to ``epoch`` are kept. ``epoch_of(line)`` is a line's epoch, None for a header
    or a line that is not a row (cut short by a crash), which is dropped.
    """
    rows = [(line, epoch_of(line)) for line in lines]
    last = max((i for i, (_, e) in enumerate(rows) if e == epoch), default=None)
    if last is not None:
        return [line for line, e in rows[:last + 1] if e is not None]
    return [line for line, e in rows if e is not None and e <= epoch]


def _csv_rows_upto(lines: list[str], epoch: int) -> list[str]:
    """The header and the rows of :func:`_rows_upto` (by the ``epoch`` column)."""
    def epoch_of(line):
        head = line.split(",", 1)[0]
        return int(head) if head.isdigit() else None

    return lines[:1] + _rows_upto(lines[1:], epoch, epoch_of) if lines else []


def _json_rows_upto(lines: list[str], epoch: int) -> list[str]:
    """The lines of :func:`_rows_upto` (by each object's ``epoch``)."""
    def epoch_of(line):
        try:
            return int(json.loads(line).get("epoch"))
        except (ValueError, TypeError, AttributeError):
            return None

    return _rows_upto(lines, epoch, epoch_of)


@keras_keywords({"filename": "npdeep's name for it is path, the first argument",
                 "separator": "npdeep's CSVLogger writes commas (RFC 4180 quoting)"})
class CSVLogger(Callback):
    """Write one CSV row per epoch (gradient norms as ``gradient_norm_1..L`` columns).

    The columns are the first epoch's names. A name logged first at a later epoch (a
    callback that adds to ``logs``) becomes a new last column: the file is rewritten
    (atomically) with it in the header and empty cells in the rows before; a name missing
    from an epoch's logs leaves its cell empty. When training resumes (``initial_epoch > 0``)
    an existing file is continued after its rows of epochs up to the checkpoint's (later
    rows, from the interrupted run, are dropped), under its own header.

    A list, tuple or 1-D NumPy array a callback logs gets one column per item
    (``name_1..n``); NumPy scalars are written as numbers.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``~`` expanded), replaced at the start of each fit unless ``append``. Each
        fit needs its own file: parallel fits given one logger (``cross_validate(...,
        n_jobs=2)`` copies it to every worker) write their rows into one file, mixed.
    append : bool, default False
        Continue an existing file (under its header) instead: one log for several fits, each
        of whose epochs count from 1 (as Keras's ``CSVLogger(append=True)``). An estimator's
        ``partial_fit`` calls and warm-started fits need no ``append``: they count their epochs
        on from ``n_iter_`` and continue the file after its rows of the epochs before.
    """

    def __init__(self, path, append: bool = False):
        self.path = _log_path(path, "CSVLogger")
        self.append = check_flag(append, "CSVLogger: append")
        self._file = None
        self._writer = None
        self._fields: list[str] | None = None

    def on_train_begin(self, logs):
        self._file, kept = _open_log(self.path, "CSVLogger", logs.get("initial_epoch", 0),
                                     _csv_rows_upto, self.append, "")
        self._writer = None
        self._fields = next(csv.reader(kept[:1]), None)  # resumed: go on with its columns
        self._known = set(self._fields or ())
        self._header = not self._fields  # a new file: write the header with the first row

    def on_epoch_end(self, epoch, logs):
        row = {"epoch": epoch + 1, **_flatten(logs)}

        def write():
            if self._fields is None:
                self._fields, self._known = list(row), set(row)
            elif not row.keys() <= self._known:
                self._widen([k for k in row if k not in self._known])
            if self._writer is None:
                self._writer = csv.DictWriter(self._file, fieldnames=self._fields)
                if self._header:
                    self._header = False
                    self._writer.writeheader()
            self._writer.writerow(row)

        _write_row(self, write)

    def _widen(self, new: list[str]) -> None:
        """Add the columns ``new`` to the file: rewrite it (atomically) with them in the header
        and empty cells in the rows written so far, then append to it."""
        self._file.flush()
        with open(self.path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        self._fields = self._fields + new
        self._known.update(new)
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        if rows:
            writer.writerow(self._fields)
            writer.writerows(row + [""] * len(new) for row in rows[1:])
            self._header = False
        self._file.close()
        try:
            write_atomically(as_path(self.path, "write a log"),
                             lambda fp: fp.write(text.getvalue().encode("utf-8")), "log")
        except ModelFileError as exc:
            raise OSError(str(exc)) from None  # _write_row names the logger
        finally:
            self._file = open(self.path, "a", encoding="utf-8", newline="")
        self._writer = None

    def on_train_end(self, logs):
        self._writer = None  # it wrote to the file closed here (and cannot be pickled)
        if self._file is not None:
            file, self._file = self._file, None
            file.close()


class JSONLogger(Callback):
    """Write one JSON object per epoch per line (JSON Lines); non-finite numbers as null.

    What a callback adds to ``logs`` is written too: NumPy scalars and arrays as numbers and
    lists, any other object that JSON has no type for as its ``str``.

    Resuming continues an existing file as :class:`CSVLogger` does, and ``append=True``
    continues it at every fit (see :class:`CSVLogger`).
    """

    def __init__(self, path, append: bool = False):
        self.path = _log_path(path, "JSONLogger")
        self.append = check_flag(append, "JSONLogger: append")
        self._file = None

    def on_train_begin(self, logs):
        self._file, _ = _open_log(self.path, "JSONLogger", logs.get("initial_epoch", 0),
                                  _json_rows_upto, self.append)

    def on_epoch_end(self, epoch, logs):
        record = {"epoch": epoch + 1, **{k: jsonable(v) for k, v in logs.items()}}
        line = json.dumps(record, allow_nan=False) + "\n"
        _write_row(self, lambda: self._file.write(line))

    def on_train_end(self, logs):
        if self._file is not None:
            file, self._file = self._file, None
            file.close()


def check_separate_files(callbacks) -> None:
    """Refuse two callbacks of one fit that write the same file: they would overwrite each
    other's (a CSV and a JSON log in one file, a log over a checkpoint, two checkpoints taking
    turns at one file).

    Compares the loggers' paths and the ModelCheckpoints' path templates, each resolved
    (``~``, links, ``..``); raises ConfigurationError naming both callbacks.
    """
    from .monitors import ModelCheckpoint

    seen: dict[str, Callback] = {}
    for cb in callbacks or ():
        if not isinstance(cb, (CSVLogger, JSONLogger, ModelCheckpoint)):
            continue
        key = os.path.realpath(os.path.expanduser(cb.path))
        other = seen.setdefault(key, cb)
        if other is not cb:
            raise ConfigurationError(
                f"{type(other).__name__}({other.path!r}) and {type(cb).__name__}({cb.path!r}) "
                "write the same file, each over the other's; give them separate paths"
            )
