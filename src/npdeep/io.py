"""Model files: numeric arrays plus a JSON header in one zip, written atomically, loaded safely.

Format (``format_version`` 1)
-----------------------------
A model file is an ordinary zip archive (members stored or deflated, never encrypted) holding

* ``<name>.npy``, one per array, in NumPy's own ``.npy`` format (version 1.0 or 2.0), written
  with ``allow_pickle=False``; dtypes are numeric only (bool, signed and unsigned integers,
  floats, complex), C order on write;
* ``header.json``, a UTF-8 JSON object (strict JSON: no ``NaN`` or ``Infinity``) holding the
  caller's keys (architecture, training configuration, history, seed...) plus four keys that
  :func:`save_model_file` adds and reserves::

      "format": "npdeep",
      "format_version": 1,
      "npdeep_version": "0.1.0",
      "arrays": {"W1": {"dtype": "<f8", "shape": [4, 3], "sha256": "9f86d0..."}, ...}

  ``dtype`` is the ``.npy`` descriptor string, ``shape`` a list of integers and ``sha256`` the
  hex digest of the whole ``<name>.npy`` member (its ``.npy`` header and data bytes).

Nothing else may be in the archive. Array names use letters, digits, ``_``, ``-`` and ``.``.
Files are byte-for-byte reproducible: same header and arrays, same bytes.

Writing is atomic: the archive is written to a temporary file in the destination folder,
flushed and fsynced, then renamed over the destination with :func:`os.replace`
(:func:`npdeep.atomic.write_atomically`). If anything
fails or is interrupted (``KeyboardInterrupt`` included) the temporary file is removed and a
file already at the destination is left untouched. A destination that is a symbolic link is
followed (the file it points to is replaced, the link stays); one that is a device, pipe or
socket is refused. A file replaced keeps its permission bits; a read-only one (that the user
may not write) is refused and left unchanged; a new file gets ``0o666 & ~umask``. Paths are
``str`` or ``os.PathLike`` (a leading ``~`` is expanded); file objects are refused, since an
atomic write needs a path to rename onto.

Loading never unpickles, never evaluates and never imports anything named in the file. Before
reading any array data it checks, in order: the file is a complete zip archive; ``header.json``
exists, is below ``max_header_bytes``, is valid JSON and nests at most ``MAX_HEADER_DEPTH``
(64) levels; ``format`` is ``"npdeep"`` and ``format_version`` is one this npdeep knows; the
manifest is well formed and its total element count is at most ``max_elements``; the archive
holds exactly the manifest's members; the shapes match ``expected_shapes`` when given. For each
array it then parses the ``.npy`` header alone, refuses object, structured and other
non-numeric dtypes, checks dtype and shape against the manifest and the member's uncompressed size
against ``shape * itemsize + header``, and only then allocates the array and reads its bytes,
verifying the SHA-256 digest (and the zip CRC).
Every failure raises :class:`~npdeep.errors.ModelFileError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from npdeep.atomic import as_path, refuse_folder_name, write_atomically
from npdeep.errors import ModelFileError, NpdeepError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "DEFAULT_MAX_ELEMENTS",
    "DEFAULT_MAX_HEADER_BYTES",
    "save_model_file",
    "load_model_file",
    "header_errors",
    "merged_header",
]

FORMAT_NAME = "npdeep"
FORMAT_VERSION = 1
#: Default cap on the total number of array elements a file may declare (2**28: 2 GiB of float64).
DEFAULT_MAX_ELEMENTS = 2**28
#: Default cap on the size of ``header.json`` (16 MiB).
DEFAULT_MAX_HEADER_BYTES = 16 * 2**20

HEADER_MEMBER = "header.json"
RESERVED_KEYS = ("format", "format_version", "npdeep_version", "arrays")
NUMERIC_KINDS = frozenset("biufc")  # bool, int, uint, float, complex
MAX_NDIM = 32
NPY_MAX_HEADER_SIZE = 10_000  # bytes of .npy header text numpy itself accepts by default
#: Deepest nesting of lists and objects accepted in ``header.json`` (npdeep writes about 8).
MAX_HEADER_DEPTH = 64
CHUNK_BYTES = 16 * 2**20
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamp: reproducible files


def _npdeep_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # our own version only

    try:
        return version("npdeep")
    except PackageNotFoundError:
        return "0+unknown"


def merged_header(header: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``header`` plus a caller's ``extra`` keys; a key the saver writes is refused.

    (An extra ``kind`` or ``architecture`` would otherwise replace npdeep's own and leave a
    file that cannot be loaded.)
    """
    clash = sorted(set(header) & set(extra))
    if clash:
        raise ModelFileError(f"extra header keys {clash} are written by npdeep itself; "
                             "choose other names")
    return {**header, **extra}


@contextmanager
def header_errors(where: str, what: str):
    """Turn what a malformed header makes Python raise into a ModelFileError naming the file.

    The header is untrusted input: a value of the wrong type or a missing key surfaces as a
    KeyError, TypeError, AttributeError... while the model is rebuilt from it.
    """
    try:
        yield
    except ModelFileError:
        raise
    except (NpdeepError, KeyError, TypeError, ValueError, AttributeError, IndexError,
            OverflowError) as exc:
        detail = f"missing key {exc}" if type(exc) is KeyError else str(exc)
        raise ModelFileError(f"{where}: invalid {what}: {detail}") from None


def _nesting_depth(value: Any, limit: int) -> int:
    """Return how deep lists and dicts nest in ``value``; stop counting past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------


class _HashingWriter:
    """Pass bytes through to ``fp`` while hashing them."""

    def __init__(self, fp: BinaryIO) -> None:
        self.fp = fp
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.fp.write(data)


def _check_arrays(arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(arrays, Mapping):
        raise ModelFileError(
            f"arrays must be a mapping of names to NumPy arrays, got {type(arrays).__name__}"
        )
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ModelFileError(
                f"array name {name!r} is not allowed; expected 1-200 characters among letters, "
                "digits, '_', '-' and '.', not starting with '-' or '.'"
            )
        array = np.asarray(value)
        if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields is not None:
            raise ModelFileError(
                f"array {name!r} has dtype {array.dtype}; a model file holds only numeric arrays "
                "(bool, integer, float, complex), never objects or strings"
            )
        checked[name] = array if array.flags.c_contiguous else array.copy(order="C")
    return checked


def _header_bytes(header: Mapping[str, Any], manifest: dict[str, Any]) -> bytes:
    if not isinstance(header, Mapping):
        raise ModelFileError(f"header must be a dict, got {type(header).__name__}")
    reserved = [key for key in RESERVED_KEYS if key in header]
    if reserved:
        raise ModelFileError(
            f"header keys {reserved} are reserved; save_model_file sets {list(RESERVED_KEYS)}"
        )
    full = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "npdeep_version": _npdeep_version(),
        **header,
        "arrays": manifest,
    }
    if _nesting_depth(header, MAX_HEADER_DEPTH) > MAX_HEADER_DEPTH:
        raise ModelFileError(f"header nests lists and dicts more than {MAX_HEADER_DEPTH} "
                             "levels deep; the file would not load")
    try:
        text = json.dumps(full, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(
            f"header is not strict JSON ({exc}); use dicts with str keys, lists, str, int, "
            "finite float, bool and None (convert NumPy scalars with .item())"
        ) from exc
    return text.encode("utf-8")


def _zip_info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


def _write_archive(
    fp: BinaryIO, header: Mapping[str, Any], arrays: dict[str, np.ndarray], compression: int
) -> None:
    manifest: dict[str, Any] = {}
    with zipfile.ZipFile(fp, "w", compression=compression) as archive:
        for name, array in arrays.items():
            big = array.nbytes > 2**31  # zip64 must be decided before a streamed member
            with archive.open(_zip_info(f"{name}.npy", compression), "w", force_zip64=big) as out:
                writer = _HashingWriter(out)
                np.lib.format.write_array(writer, array, allow_pickle=False)
            manifest[name] = {
                "dtype": np.lib.format.dtype_to_descr(array.dtype),
                "shape": list(array.shape),
                "sha256": writer.sha256.hexdigest(),
            }
        archive.writestr(_zip_info(HEADER_MEMBER, compression), _header_bytes(header, manifest))


def save_model_file(
    path: str | os.PathLike[str],
    header: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    *,
    compress: bool = False,
) -> Path:
    """Write ``header`` and ``arrays`` to one model file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file (a leading ``~`` is expanded); its folder must exist. A file already
        there is replaced only once the new one is complete and on disk; a symbolic link is
        followed. File objects such as ``io.BytesIO`` are not supported (TypeError).
    header : Mapping[str, Any]
        JSON-serialisable metadata (architecture, training configuration, history, seed...).
        The keys ``format``, ``format_version``, ``npdeep_version`` and ``arrays`` are reserved.
    arrays : Mapping[str, numpy.ndarray]
        Numeric arrays by name, e.g. ``{'W1': W1, 'b1': b1}`` with ``W1: (n[1], n[0])``.
        Non-finite values are stored as they are; object, string and structured dtypes are
        refused.
    compress : bool, default False
        Deflate the members (smaller files, slower saves); stored otherwise.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ModelFileError
        Missing or unwritable folder, reserved or non-JSON header, bad array name or dtype,
        or any operating-system error while writing.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = save_model_file(os.path.join(folder, "m.npdeep"), {"layers": [2, 1]},
    ...                        {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))})
    >>> header, arrays = load_model_file(path)
    >>> header["layers"], arrays["W1"].shape
    ([2, 1], (1, 2))
    """
    refuse_folder_name(path, "model file")
    path = as_path(path, "save model file")
    checked = _check_arrays(arrays)
    _header_bytes(header, {})  # fail early on a bad header, before touching the disk
    compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    return write_atomically(
        path, lambda fp: _write_archive(fp, header, checked, compression), "model file")


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class _HashingReader:
    """Read from ``fp`` while hashing and counting the bytes."""

    def __init__(self, fp: BinaryIO) -> None:
        self.fp = fp
        self.sha256 = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.fp.read(size)
        self.sha256.update(data)
        self.count += len(data)
        return data


def _not_a_zip_message(path: Path, where: str) -> str:
    with open(path, "rb") as fp:
        head = fp.read(512)
    if head.startswith(b"PK"):
        return f"{where} is truncated or corrupt (not a complete zip archive)"
    if not head:
        reason = "the file is empty"
    elif head.startswith(b"\x93NUMPY"):
        reason = "it is a single NumPy .npy array, not a zip archive"
    elif b"\x00" not in head and _is_utf8(head):
        reason = "it looks like a text file (CSV or similar), not a zip archive"
    else:
        reason = "it is not a zip archive"
    return f"{where}: not an npdeep model file: {reason}"


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # only cut inside the last character
    return True


def _parse_header(raw: bytes, where: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            duplicated = sorted({key for key, _ in pairs if key in seen or seen.add(key)})
            raise ModelFileError(f"{where}: header.json repeats the keys {duplicated}")
        return result

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{where}: header.json is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise ModelFileError(f"{where}: header.json must hold a JSON object")
    if _nesting_depth(header, MAX_HEADER_DEPTH) > MAX_HEADER_DEPTH:
        raise ModelFileError(f"{where}: header.json nests lists and objects more than "
                             f"{MAX_HEADER_DEPTH} levels deep")
    if header.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{where}: not an npdeep model file (header format is {header.get('format')!r}, "
            f"expected {FORMAT_NAME!r})"
        )
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{where}: unknown model file format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: model file format version {version} is newer than this npdeep supports "
            f"({FORMAT_VERSION}); upgrade npdeep"
        )
    return header


def _parse_manifest(header: dict[str, Any], where: str, max_elements: int) -> dict[str, Any]:
    manifest = header.get("arrays")
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{where}: header 'arrays' must be an object, got {manifest!r:.80}")
    total = 0
    for name, entry in manifest.items():
        if not _NAME.fullmatch(name):
            raise ModelFileError(f"{where}: invalid array name {name!r:.80} in the manifest")
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "sha256"}:
            raise ModelFileError(
                f"{where}: manifest entry of {name!r} must have exactly dtype, shape and sha256"
            )
        shape = entry["shape"]
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_NDIM
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise ModelFileError(
                f"{where}: manifest shape of {name!r} is {shape!r:.80}; expected a list of at "
                f"most {MAX_NDIM} non-negative integers"
            )
        if (
            not isinstance(entry["dtype"], str)
            or not isinstance(entry["sha256"], str)
            or not _SHA256.fullmatch(entry["sha256"])
        ):
            raise ModelFileError(f"{where}: manifest dtype or sha256 of {name!r} is malformed")
        total += math.prod(shape)
        if total > max_elements:
            raise ModelFileError(
                f"{where}: arrays declare more than max_elements={max_elements} elements in "
                f"total (array {name!r} has shape {tuple(shape)}); refusing to allocate them"
            )
    return manifest


def _check_expected(
    manifest: dict[str, Any], expected: Mapping[str, tuple[int, ...]], where: str
) -> None:
    missing = [name for name in expected if name not in manifest]
    extra = [name for name in manifest if name not in expected]
    if missing or extra:
        raise ModelFileError(
            f"{where}: arrays do not match the architecture (missing {missing}, unexpected {extra})"
        )
    for name, shape in expected.items():
        found = tuple(manifest[name]["shape"])
        if found != tuple(shape):
            raise ModelFileError(
                f"{where}: array {name!r} has shape {found} but the architecture expects "
                f"{tuple(shape)}"
            )


def _read_array(
    archive: zipfile.ZipFile, name: str, entry: dict[str, Any], where: str
) -> np.ndarray:
    info = archive.getinfo(f"{name}.npy")
    with archive.open(info) as member:
        reader = _HashingReader(member)
        try:
            version = np.lib.format.read_magic(reader)
            if version == (1, 0):
                read_header = np.lib.format.read_array_header_1_0
            elif version == (2, 0):
                read_header = np.lib.format.read_array_header_2_0
            else:
                raise ModelFileError(f"{where}: array {name!r} uses .npy version {version}")
            shape, fortran_order, dtype = read_header(reader, max_header_size=NPY_MAX_HEADER_SIZE)
        except ModelFileError:
            raise
        except (ValueError, TypeError, SyntaxError) as exc:
            raise ModelFileError(
                f"{where}: array {name!r} has a malformed .npy header ({exc})"
            ) from exc
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in NUMERIC_KINDS:
            raise ModelFileError(
                f"{where}: array {name!r} has dtype {dtype}; only numeric dtypes are loaded, "
                "never objects (pickles), strings or structured records"
            )
        descr = np.lib.format.dtype_to_descr(dtype)
        if descr != entry["dtype"] or list(shape) != entry["shape"]:
            raise ModelFileError(
                f"{where}: array {name!r} is {descr} {tuple(shape)} in its .npy header but "
                f"{entry['dtype']} {tuple(entry['shape'])} in the manifest"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != reader.count + nbytes:
            raise ModelFileError(
                f"{where}: array {name!r} declares {nbytes} data bytes but its member holds "
                f"{info.file_size - reader.count}; the file is corrupt"
            )
        flat = np.empty(math.prod(shape), dtype=dtype)
        view = memoryview(flat.view(np.uint8))
        for start in range(0, nbytes, CHUNK_BYTES):
            chunk = view[start : start + CHUNK_BYTES]
            got = member.readinto(chunk)
            if got != len(chunk):
                raise ModelFileError(f"{where}: array {name!r} is truncated; the file is corrupt")
            reader.sha256.update(chunk)
        if member.read(1):
            raise ModelFileError(f"{where}: array {name!r} has trailing bytes; the file is corrupt")
    if reader.sha256.hexdigest() != entry["sha256"]:
        raise ModelFileError(
            f"{where}: array {name!r} fails its SHA-256 checksum; the file is corrupt"
        )
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _load(
    archive: zipfile.ZipFile,
    where: str,
    max_elements: int,
    max_header_bytes: int,
    expected_shapes: Mapping[str, tuple[int, ...]] | None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    names = archive.namelist()
    if HEADER_MEMBER not in names:
        hint = (
            " (it looks like a plain NumPy .npz)" if any(n.endswith(".npy") for n in names) else ""
        )
        raise ModelFileError(f"{where}: not an npdeep model file: no header.json{hint}")
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{where}: member {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(
                f"{where}: member {info.filename!r} uses zip compression {info.compress_type}; "
                "only stored and deflated members are read"
            )
    info = archive.getinfo(HEADER_MEMBER)
    if info.file_size > max_header_bytes:
        raise ModelFileError(
            f"{where}: header.json is {info.file_size} bytes, over "
            f"max_header_bytes={max_header_bytes}"
        )
    with archive.open(info) as member:
        raw = member.read(max_header_bytes + 1)
    header = _parse_header(raw, where)
    manifest = _parse_manifest(header, where, max_elements)
    wanted = sorted([HEADER_MEMBER] + [f"{name}.npy" for name in manifest])
    if sorted(names) != wanted:
        missing = sorted(set(wanted) - set(names))
        extra = sorted(set(names) - set(wanted))
        repeated = sorted({n for n in names if names.count(n) > 1})
        problems = [f"{label} {found}" for label, found in
                    (("missing", missing), ("unexpected", extra), ("repeated", repeated)) if found]
        raise ModelFileError(
            f"{where}: archive members do not match the manifest ({'; '.join(problems)})"
        )
    if expected_shapes is not None:
        _check_expected(manifest, expected_shapes, where)
    arrays = {name: _read_array(archive, name, entry, where) for name, entry in manifest.items()}
    return header, arrays


def load_model_file(
    path: str | os.PathLike[str],
    *,
    max_elements: int = DEFAULT_MAX_ELEMENTS,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    expected_shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file written by :func:`save_model_file`, refusing anything unsafe.

    Parameters
    ----------
    path : str or os.PathLike
        The model file (a leading ``~`` is expanded).
    max_elements : int, default DEFAULT_MAX_ELEMENTS (2**28)
        Largest total number of array elements accepted; checked before any allocation.
    max_header_bytes : int, default DEFAULT_MAX_HEADER_BYTES (16 MiB)
        Largest ``header.json`` accepted.
    expected_shapes : Mapping[str, tuple of int], optional
        The shapes the architecture needs, e.g. ``{'W1': (n[1], n[0]), 'b1': (n[1], 1)}``;
        the file must hold exactly these arrays with exactly these shapes.

    Returns
    -------
    header : dict
        The caller's header plus ``format``, ``format_version``, ``npdeep_version`` and the
        ``arrays`` manifest.
    arrays : dict[str, numpy.ndarray]
        Fresh, writable arrays, in the order they were saved.

    Raises
    ------
    ModelFileError
        Missing, unreadable, truncated, corrupt or foreign file; unknown format version;
        sizes over the caps; unsafe dtypes; shapes that do not match.
    """
    path = as_path(path, "load model file")
    where = f"model file {str(path)!r}"
    try:  # a name too long, or a folder we may not search, raises here (not FileNotFound)
        exists, is_file = path.exists(), path.is_file()
    except OSError as exc:
        raise ModelFileError(f"cannot read {where}: {exc.strerror or exc}") from None
    if not exists:
        raise ModelFileError(f"{where} does not exist")
    if not is_file:
        raise ModelFileError(f"{where} is not a file")
    try:
        if not zipfile.is_zipfile(path):
            raise ModelFileError(_not_a_zip_message(path, where))
        with zipfile.ZipFile(path, "r") as archive:
            return _load(archive, where, max_elements, max_header_bytes, expected_shapes)
    except ModelFileError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        zipfile.LargeZipFile,
        NotImplementedError,
        ValueError,
    ) as exc:
        raise ModelFileError(f"{where} is truncated or corrupt ({exc})") from exc
    except OSError as exc:
        raise ModelFileError(f"cannot read {where}: {exc}") from exc
