"""Writing a file atomically: a temporary file beside the destination, renamed over it.

Model files (:mod:`npdeep.io`), plots, ONNX files and the command line's CSV outputs are all
written this way, so an interrupted or failed write never leaves a partial file and never
damages the file it would have replaced. Paths are ``str`` or ``os.PathLike`` (a leading ``~``
is expanded); every failure is a :class:`~npdeep.errors.ModelFileError` naming the path.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from npdeep.errors import ModelFileError

__all__ = ["as_path", "write_atomically", "replaced_file", "keep_permissions", "refuse_folder_name"]


def as_path(path: Any, action: str) -> Path:
    """Return ``path`` (str, bytes or os.PathLike) as a Path with a leading ``~`` expanded.

    File objects (``io.BytesIO``...) are refused with a TypeError that says why: a model file
    is written atomically, by renaming a finished temporary file, which needs a path.
    """
    if isinstance(path, (str, bytes, os.PathLike)):
        text = os.fsdecode(os.fspath(path))
    else:
        why = (" (file objects such as io.BytesIO are not supported: model files are written "
               "atomically by renaming a temporary file, which needs a path)"
               if hasattr(path, "read") or hasattr(path, "write") else "")
        raise TypeError(f"cannot {action}: path must be a str or os.PathLike naming a file, "
                        f"got {type(path).__name__}{why}")
    if not text:
        raise ModelFileError(f"cannot {action}: the path is empty")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone" without a home directory: take the name as it is
        return Path(text)


#: Most bytes of the destination's name a temporary name keeps: with ``.``, ``.<12 hex>.tmp``
#: it stays within NAME_MAX (255 bytes on most file systems).
_STEM_BYTES = 200


def _short_stem(name: str, limit: int = _STEM_BYTES) -> str:
    """The longest start of ``name`` whose encoded file-system name has at most ``limit``
    bytes, cut between characters (a Chinese character is 3 bytes in UTF-8)."""
    if len(os.fsencode(name)) <= limit:
        return name
    size = 0
    for i, char in enumerate(name):
        size += len(os.fsencode(char))
        if size > limit:
            return name[:i]
    return name


def _open_temporary(folder: Path, stem: str) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    stem = _short_stem(stem)
    for _ in range(100):
        # a long name keeps its first 200 bytes: the temporary name fits NAME_MAX (255)
        temporary = folder / f".{stem}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, flags, 0o666), temporary  # 0o666 & ~umask, like open()
        except FileExistsError:
            continue
    raise ModelFileError(f"could not create a temporary file in {str(folder)!r}")


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows): best effort
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replaced_file(path: Path, what: str) -> os.stat_result | None:
    """Return the status of the regular file a save to ``path`` would replace (None if none).

    A file the user may not write (``chmod a-w``, or another user's file) is refused with a
    ModelFileError, as ``open(path, "w")`` or ``cp`` would refuse it: renaming a temporary
    file over it needs only the folder's permission and would silently defeat the protection.
    Root may write any file, so root replaces it (and its mode is kept, see
    :func:`keep_permissions`).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not _may_write(path):
        raise ModelFileError(
            f"cannot save {what} {str(path)!r}: the file is read-only (mode "
            f"{stat.S_IMODE(st.st_mode):04o}) and is left unchanged; make it writable "
            f"(chmod u+w) or choose another path"
        )
    return st


def _may_write(path: Path) -> bool:
    return os.access(path, os.W_OK)


def keep_permissions(fd: int, replaced: os.stat_result | None) -> None:
    """Give the temporary file ``fd`` the permission bits (and, where allowed, the owner and
    group) of the file it will replace; a new file keeps ``0o666 & ~umask`` from its creation."""
    if replaced is None or not hasattr(os, "fchown"):  # Windows: no POSIX modes to keep
        return
    os.fchmod(fd, stat.S_IMODE(replaced.st_mode) & 0o777)
    current = os.fstat(fd)
    if (current.st_uid, current.st_gid) != (replaced.st_uid, replaced.st_gid):
        try:  # root saving over a user's file: it stays theirs; others may keep the group
            os.fchown(fd, replaced.st_uid, replaced.st_gid)
        except OSError:
            pass


def refuse_folder_name(path, what: str) -> None:
    """Refuse a save path that ends with a separator: ``Path("out/")`` is ``Path("out")``."""
    text = os.fsdecode(os.fspath(path)) if isinstance(path, (str, bytes, os.PathLike)) else ""
    if text.endswith(("/", os.sep)):
        example = {"ONNX file": "model.onnx", "plot": "history.png"}.get(what, "model.npz")
        raise ModelFileError(f"cannot save {what} {text!r}: the path ends with a separator, "
                             f"which names a folder; give a file name, e.g. {text + example!r}")


def write_atomically(path: Path, write, what: str = "model file") -> Path:
    """Call ``write(fp)`` on a temporary file beside ``path``, fsync it, rename it over ``path``.

    Nothing is left at ``path`` when ``write`` fails or is interrupted, and a previous file
    stays intact. A symbolic link is followed: the file it points to is replaced, the link
    stays. A device, pipe or socket at ``path`` is refused, never replaced. A file replaced
    keeps its permission bits (and owner where allowed); a read-only one is refused
    (:func:`replaced_file`). A new file gets ``0o666 & ~umask``, like ``open()``. Raises
    ModelFileError naming ``what`` and the path.
    """
    refuse_folder_name(path, what)
    path = as_path(path, f"save {what}")
    try:
        return _write_atomically(path, write, what)
    except ModelFileError:
        raise
    except OSError as exc:  # a name too long for the file system, a folder we may not search
        raise ModelFileError(f"cannot save {what} {str(path)!r}: {exc.strerror or exc}") from exc


def _write_atomically(path: Path, write, what: str) -> Path:
    if path.is_symlink() and path.exists() and not path.is_dir() and not path.is_file():
        # /dev/stdout -> /proc/self/fd/1 -> a pipe or terminal: its resolved name is no path
        raise ModelFileError(f"cannot save {what} {str(path)!r}: it links to something that is "
                             "not a regular file (a device, pipe or socket), and saving would "
                             "replace it")
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    folder = path.parent
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise ModelFileError(f"cannot save {what} {str(path)!r}: folder {str(folder)!r} {state}")
    if path.is_dir():
        raise ModelFileError(f"cannot save {what} {str(path)!r}: it is a folder")
    if path.exists() and not path.is_file():
        raise ModelFileError(f"cannot save {what} {str(path)!r}: it is not a regular file "
                             "(a device, pipe or socket), and saving would replace it")
    replaced = replaced_file(path, what)
    try:
        fd, temporary = _open_temporary(folder, path.name)
    except PermissionError as exc:
        raise ModelFileError(
            f"cannot save {what} {str(path)!r}: folder {str(folder)!r} is not writable ({exc})"
        ) from exc
    except OSError as exc:
        raise ModelFileError(
            f"cannot save {what} {str(path)!r} in folder {str(folder)!r}: {exc}"
        ) from exc
    try:
        with os.fdopen(fd, "wb") as fp:
            keep_permissions(fd, replaced)
            write(fp)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, ModelFileError):
            reason = "disk full" if exc.errno == errno.ENOSPC else str(exc)
            raise ModelFileError(
                f"could not write {what} {str(path)!r} ({reason}); the previous file, "
                "if any, is unchanged"
            ) from exc
        raise
    _fsync_folder(folder)
    return path
