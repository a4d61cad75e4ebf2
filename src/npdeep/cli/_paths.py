"""Output paths: checked before any work (folder, permissions, suffix, not an input), then
written atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from io import TextIOWrapper
from pathlib import Path
from typing import Any, TextIO

from ..errors import ConfigurationError


def check_output_path(path: str | os.PathLike, option: str = "--output") -> Path:
    """Check before any work that ``path`` can be written; raise ConfigurationError if not."""
    if str(path) == "":  # Path("") is ".", the current folder
        raise ConfigurationError(f"{option}: the path is empty; give a file name")
    if str(path) == "-":  # the usual name of standard output: never a file called "-"
        raise ConfigurationError(
            f"{option}: '-' (standard output) cannot take this file; give a file name"
        )
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ConfigurationError(f"{option}: {str(p)!r} is a folder; give a file name")
    if not folder.exists():
        raise ConfigurationError(
            f"{option}: the folder {str(folder)!r} of {str(p)!r} does not exist; "
            "create it first or choose another path"
        )
    if not folder.is_dir():
        raise ConfigurationError(
            f"{option}: {str(folder)!r} is not a folder, so {str(p)!r} cannot be written"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"{option}: the folder {str(folder)!r} is not writable (permission denied); "
            "choose another path"
        )
    if p.is_file() and not _may_write(p):  # checked again when saving (npdeep.atomic)
        raise ConfigurationError(
            f"{option}: {str(p)!r} is read-only (mode {p.stat().st_mode & 0o777:04o}); make it "
            "writable (chmod u+w) or choose another path"
        )
    return p


def _may_write(path: Path) -> bool:
    from .. import atomic

    return atomic._may_write(path)


#: Suffixes that say a file is not a model (data, predictions, drawings), and the reverse.
_NOT_A_MODEL = (".csv", ".tsv", ".tab", ".txt", ".gz", ".npy", ".png", ".pdf", ".svg", ".json")
_NOT_A_TABLE = (".npz", ".npdeep", ".npy")


def check_output_suffix(path: Path, option: str, writes: str) -> None:
    """Refuse an output name whose suffix says it holds something else (the arguments mixed
    up: ``train -o data.csv`` would put a model, a zip archive, over a data table)."""
    suffix = path.suffix.lower()
    if writes == "model" and suffix in _NOT_A_MODEL:
        raise ConfigurationError(
            f"{option}: {str(path)!r} ends in {suffix}, which names data or a drawing, but "
            "this writes a model file (a zip archive); name it .npz or .npdeep"
        )
    if writes == "model" and _holds_arrays_only(path):
        raise ConfigurationError(
            f"{option}: {str(path)!r} holds NumPy arrays ({', '.join(_members(path)[:5])}), "
            "not an npdeep model: saving would replace that data; choose another name"
        )
    if writes == "predictions" and suffix in _NOT_A_TABLE:
        raise ConfigurationError(
            f"{option}: {str(path)!r} ends in {suffix}, which names a model or NumPy file, "
            "but the predictions are a CSV table; name it .csv"
        )


def _members(path: Path) -> list[str]:
    """The member names of the zip archive at ``path``; [] for anything else."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return []


def _holds_arrays_only(path: Path) -> bool:
    """Whether an existing ``path`` is a NumPy .npz of data: .npy members, no model header."""
    names = _members(path) if path.is_file() else []
    return bool(names) and all(n.endswith(".npy") for n in names)


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_not_input(out: Path, option: str, inputs: dict[str, Any]) -> None:
    """Refuse an output path that names one of the command's inputs (it would be destroyed).

    ``inputs`` maps a description (``"the model MODEL"``) to a path given by the user, or None;
    inputs that are not existing files (a built-in data set's name) are skipped.
    """
    for what, given in inputs.items():
        if given is None or not Path(given).is_file():
            continue
        if _same_file(Path(out), Path(given)):
            raise ConfigurationError(
                f"{option}: {str(out)!r} is {what}; writing it would destroy it, choose "
                "another path"
            )


def atomic_write_text(path: Path, write: Callable[[TextIO], Any], what: str = "file",
                      compress: bool = False) -> Any:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it over ``path``;
    with ``compress``, the text goes through gzip (a ``.gz`` name).

    The rules of :func:`npdeep.atomic.write_atomically`: nothing is left at ``path`` when
    ``write`` fails or is interrupted; a symbolic link is followed; a device, pipe or socket
    is refused, never replaced (``-o /dev/null`` run as root would otherwise turn /dev/null
    into a regular file); a file replaced keeps its permission bits, a read-only one is
    refused; a new one gets ``0o666 & ~umask``. Returns what ``write`` returns.
    """
    from ..atomic import write_atomically

    result = []

    def write_text(fp) -> None:
        import gzip

        packed = gzip.GzipFile(fileobj=fp, mode="wb", mtime=0) if compress else None
        fh = TextIOWrapper(packed or fp, encoding="utf-8", newline="")
        try:
            result.append(write(fh))
            fh.flush()
        finally:
            fh.detach()  # write_atomically flushes, fsyncs and closes fp itself
            if packed is not None:
                packed.close()  # the gzip trailer; fp stays open

    write_atomically(path, write_text, what)
    return result[0]
