"""Reading a model file (:func:`load_model_file`): every check of :mod:`npdeep.io`'s list, in
its order, before any array data is read; nothing is unpickled, evaluated or imported."""

from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from npdeep._io_format import (
    _NAME,
    _SHA256,
    BYTES_PER_ELEMENT,
    CHUNK_BYTES,
    DEFAULT_MAX_ELEMENTS,
    DEFAULT_MAX_HEADER_BYTES,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_MEMBER,
    MAX_ARRAYS,
    MAX_HEADER_DEPTH,
    MAX_NDIM,
    NPY_MAX_HEADER_SIZE,
    NUMERIC_KINDS,
    _nesting_depth,
    few,
)
from npdeep.atomic import as_path
from npdeep.errors import ConfigurationError, ModelFileError

#: ``check_arrays(header, {name: (shape, dtype)}, where)``: see :func:`load_model_file`.
CheckArrays = Callable[[dict[str, Any], dict[str, tuple[tuple[int, ...], np.dtype]], str], None]


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
    elif path.suffix.lower() == ".onnx" or _looks_like_onnx(head):
        reason = ("it looks like an ONNX graph (npdeep export, npdeep.to_onnx writes them for "
                  "other runtimes); npdeep reads its own model files only (.npz, .npdeep), "
                  "so give the model file the graph was exported from")
    elif b"\x00" not in head and _is_utf8(head):
        reason = "it looks like a text file (CSV or similar), not a zip archive"
    else:
        reason = "it is not a zip archive"
    return f"{where}: not an npdeep model file: {reason}"


def _looks_like_onnx(head: bytes) -> bool:
    """An ONNX ModelProto starts with its ir_version (field 1, a small varint: 0x08 n) and
    then, as every writer orders them, opset_import, producer_name... (fields 8, 2-7)."""
    return len(head) > 3 and head[0] == 0x08 and 1 <= head[1] <= 30 and \
        head[2] in (0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a, 0x42)


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


#: The arrays of a checkpoint's training state (:mod:`npdeep.checkpoint`): optimizer moments
#: and EarlyStopping weights, which a load of the network alone neither reads nor counts.
TRAINING_STATE_PREFIXES = ("optimizer.", "early_stopping.")


def _parse_manifest(header: dict[str, Any], where: str, max_elements: int,
                    skip: tuple[str, ...] = ()) -> dict[str, Any]:
    manifest = header.get("arrays")
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{where}: header 'arrays' must be an object, got {manifest!r:.80}")
    if len(manifest) > MAX_ARRAYS:
        raise ModelFileError(f"{where}: the manifest declares {len(manifest)} arrays, more than "
                             f"the {MAX_ARRAYS} a model file may hold (npdeep writes two per "
                             "layer); refusing to read them")
    total, total_bytes, first_over = 0, 0, None
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
        dtype = _manifest_dtype(entry["dtype"], name, where)
        if name.startswith(skip):  # not read: not counted
            continue
        total += math.prod(shape)
        total_bytes += math.prod(shape) * dtype.itemsize
        if total > max_elements and first_over is None:
            first_over = (name, tuple(shape))
    raise_it = ("(a parameter of npdeep.load, Network.load, npdeep.load_trained, "
                "npdeep.checkpoint.resume and load_checkpoint; the commands' --max-elements)")
    if first_over is not None:
        name, shape = first_over
        raise ModelFileError(
            f"{where}: arrays declare more than max_elements={max_elements} elements in "
            f"total (array {name!r} has shape {shape}; {total} elements in all); refusing to "
            f"allocate them. If you trust the file, raise the cap to max_elements={total} "
            + raise_it
        )
    if total_bytes > max_elements * BYTES_PER_ELEMENT:  # wide dtypes: complex, long double
        needed = -(-total_bytes // BYTES_PER_ELEMENT)
        raise ModelFileError(
            f"{where}: arrays declare {total_bytes} bytes in total, more than the "
            f"{max_elements * BYTES_PER_ELEMENT} of max_elements={max_elements} float64 "
            f"elements; refusing to allocate them. If you trust the file, raise the cap to "
            f"max_elements={needed} " + raise_it
        )
    return manifest


def _manifest_dtype(descr: str, name: str, where: str) -> np.dtype:
    """Return the numeric dtype a manifest's descriptor string names, else raise."""
    try:
        dtype = np.lib.format.descr_to_dtype(descr)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise ModelFileError(f"{where}: manifest dtype of {name!r} is malformed "
                             f"({descr!r:.40}: {exc})") from None
    _refuse_non_numeric(dtype, name, where)
    return dtype


def _refuse_non_numeric(dtype: np.dtype, name: str, where: str) -> None:
    """Raise unless ``dtype`` (a manifest's or a .npy header's) is a plain numeric one."""
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in NUMERIC_KINDS:
        raise ModelFileError(
            f"{where}: array {name!r} has dtype {dtype}; only numeric dtypes are loaded, "
            "never objects (pickles), strings or structured records"
        )


def _check_expected(
    manifest: dict[str, Any], expected: Mapping[str, tuple[int, ...]], where: str
) -> None:
    missing = [name for name in expected if name not in manifest]
    extra = [name for name in manifest if name not in expected]
    if missing or extra:
        raise ModelFileError(f"{where}: arrays do not match the architecture (missing "
                             f"{few(missing)}, unexpected {few(extra)})")
    for name, shape in expected.items():
        found = tuple(manifest[name]["shape"])
        if found != tuple(shape):
            raise ModelFileError(
                f"{where}: array {name!r} has shape {found} but the architecture expects "
                f"{tuple(shape)}"
            )


def _open_npy(
    member: BinaryIO, info: zipfile.ZipInfo, name: str, entry: dict[str, Any], where: str
) -> tuple[_HashingReader, tuple[int, ...], bool, np.dtype]:
    """Parse the ``.npy`` header at the start of ``member`` (nothing more is inflated); check
    it against the manifest's ``entry`` and the zip's uncompressed size ``info.file_size``.

    Returns the reader (its hash and count cover the header), shape, fortran order and dtype.
    """
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
    _refuse_non_numeric(dtype, name, where)
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
    return reader, shape, fortran_order, dtype


def _check_npy_header(
    archive: zipfile.ZipFile, name: str, entry: dict[str, Any], where: str
) -> None:
    """Check one member's ``.npy`` header and size (:func:`_open_npy`), reading no data."""
    info = archive.getinfo(f"{name}.npy")
    with archive.open(info) as member:
        _open_npy(member, info, name, entry, where)


def _read_array(
    archive: zipfile.ZipFile, name: str, entry: dict[str, Any], where: str
) -> np.ndarray:
    info = archive.getinfo(f"{name}.npy")
    with archive.open(info) as member:
        reader, shape, fortran_order, dtype = _open_npy(member, info, name, entry, where)
        nbytes = math.prod(shape) * dtype.itemsize
        try:
            flat = np.empty(math.prod(shape), dtype=dtype)
        except MemoryError:
            raise ModelFileError(f"{where}: not enough memory to load array {name!r} "
                                 f"({nbytes} bytes)") from None
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


def check_max_elements(max_elements) -> int:
    """Return ``max_elements`` checked (an int >= 1); None gives ``DEFAULT_MAX_ELEMENTS``."""
    if max_elements is None:
        return DEFAULT_MAX_ELEMENTS
    if isinstance(max_elements, bool) or not isinstance(max_elements, (int, np.integer)) \
            or max_elements < 1:
        raise ConfigurationError(f"max_elements must be an integer >= 1 (the largest total number "
                             f"of array elements to load), got {max_elements!r:.80}")
    return int(max_elements)


def _load(
    archive: zipfile.ZipFile,
    where: str,
    max_elements: int,
    max_header_bytes: int,
    expected_shapes: Mapping[str, tuple[int, ...]] | None,
    network_only: bool = False,
    check_arrays: CheckArrays | None = None,
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
    # a checkpoint's network alone: its training state is neither counted nor read
    skip = TRAINING_STATE_PREFIXES if network_only and header.get("training") else ()
    manifest = _parse_manifest(header, where, max_elements, skip)
    wanted = sorted([HEADER_MEMBER] + [f"{name}.npy" for name in manifest])
    if sorted(names) != wanted:
        missing = sorted(set(wanted) - set(names))
        extra = sorted(set(names) - set(wanted))
        repeated = sorted(n for n, count in Counter(names).items() if count > 1)
        problems = [f"{label} {few(found)}" for label, found in
                    (("missing", missing), ("unexpected", extra), ("repeated", repeated)) if found]
        raise ModelFileError(
            f"{where}: archive members do not match the manifest ({'; '.join(problems)})"
        )
    if expected_shapes is not None:
        _check_expected(manifest, expected_shapes, where)
    if check_arrays is not None:  # what the header implies, before any array is inflated
        check_arrays(header, {name: (tuple(entry["shape"]), np.lib.format.descr_to_dtype(
            entry["dtype"])) for name, entry in manifest.items()}, where)
    read = [name for name in manifest if not name.startswith(skip)]
    for name in read:  # every .npy header and size, before any array's data
        _check_npy_header(archive, name, manifest[name], where)
    arrays = {name: _read_array(archive, name, manifest[name], where) for name in read}
    return header, arrays


def load_model_file(
    path: str | os.PathLike[str],
    *,
    max_elements: int | None = None,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    expected_shapes: Mapping[str, tuple[int, ...]] | None = None,
    network_only: bool = False,
    check_arrays: CheckArrays | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file written by :func:`save_model_file`, refusing anything unsafe.

    Parameters
    ----------
    path : str or os.PathLike
        The model file (a leading ``~`` is expanded).
    max_elements : int, optional
        Largest total number of array elements accepted; checked before any allocation.
        None (the default): ``DEFAULT_MAX_ELEMENTS`` (2**28, 2 GiB of float64).
    max_header_bytes : int, default DEFAULT_MAX_HEADER_BYTES (16 MiB)
        Largest ``header.json`` accepted.
    expected_shapes : Mapping[str, tuple of int], optional
        The shapes the architecture needs, e.g. ``{'W1': (n[1], n[0]), 'b1': (n[1], 1)}``;
        the file must hold exactly these arrays with exactly these shapes.
    network_only : bool, default False
        For a checkpoint (a header with ``training``): leave out its training state, the
        arrays ``'optimizer.*'`` and ``'early_stopping.*'``, which are then neither counted
        against ``max_elements`` nor read (their members must still be there).
    check_arrays : callable, optional
        Called as ``check_arrays(header, declared, where)`` once the header and the manifest
        are checked, before any array data is read, with ``declared``
        ``{name: (shape, dtype)}`` as the manifest declares every array and ``where`` naming
        the file; it raises ModelFileError to refuse arrays the header does not imply
        (npdeep's loaders give :func:`npdeep._file_arrays.check_declared_arrays`).

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
    max_elements = check_max_elements(max_elements)
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
            return _load(archive, where, max_elements, max_header_bytes, expected_shapes,
                         network_only, check_arrays)
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
