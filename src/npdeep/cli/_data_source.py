"""The DATA argument: ``-`` for standard input, and named pipes, copied to a temporary file."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import DataError, NpdeepError

#: The DATA argument that means standard input, as for Unix tools.
STDIN = "-"
STDIN_NAME = "<stdin>"


def data_name(data: str | None) -> str | None:
    """How messages name DATA: ``<stdin>`` for ``-``, the path or name otherwise."""
    return STDIN_NAME if data == STDIN else data


def _is_stream(data: str) -> bool:
    """True for a pipe or socket: ``<(zcat data.csv.gz)`` is /dev/fd/63, a pipe. (Not a
    character device: /dev/zero would be copied until the disk is full.)"""
    try:
        mode = os.stat(data).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextmanager
def data_source(data: str | None) -> Iterator[str | None]:
    """Yield DATA as something :mod:`npdeep.data` reads: ``-`` becomes a temporary file.

    Standard input is copied to a private temporary folder first (the readers recognise a
    format by its first bytes and may read a file twice), then removed when the block ends.
    Any format works so (CSV, gzipped CSV, ``.npy``, ``.npz``, IDX images); without a name,
    a CSV is comma-separated. Error messages name it ``<stdin>``, not the temporary path.
    A named pipe or a process substitution (``<(zcat data.csv.gz)``) is copied the same way:
    read twice, it would lose the bytes the first reading took. A terminal is refused:
    nobody is going to type a data table.
    """
    if data == STDIN:
        stream, name = sys.stdin, STDIN_NAME
        if stream is None or stream.isatty():
            raise DataError(
                "DATA '-' reads standard input, which is a terminal here; pipe or redirect the "
                "data into it (npdeep predict model.npz - < data.csv)"
            )
        with _copied(getattr(stream, "buffer", stream), "stdin", name) as path:
            yield path
        return
    if data is None or not _is_stream(data):
        yield data
        return
    with open(data, "rb") as stream, _copied(stream, Path(data).name or "data", data) as path:
        yield path


@contextmanager
def _copied(stream, file_name: str, name: str) -> Iterator[str]:
    """Copy ``stream`` to a temporary file called ``file_name``; errors name it ``name``."""
    with tempfile.TemporaryDirectory(prefix="npdeep-stdin-") as folder:
        path = Path(folder) / file_name
        with open(path, "wb") as fh:
            shutil.copyfileobj(stream, fh, 1 << 20)
        try:
            yield str(path)
        except NpdeepError as exc:
            exc.args = tuple(a.replace(str(path), name) if isinstance(a, str) else a
                             for a in exc.args)
            raise
