"""Writing a model file (:func:`save_model_file`): arrays and header checked, the zip written
atomically; the format is described in :mod:`npdeep.io`."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from npdeep._io_format import (
    _NAME,
    _ZIP_DATE,
    DEFAULT_MAX_ELEMENTS,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_MEMBER,
    MAX_HEADER_DEPTH,
    NUMERIC_KINDS,
    RESERVED_KEYS,
    _nesting_depth,
)
from npdeep._validation import caller_level
from npdeep.atomic import as_path, refuse_folder_name, write_atomically
from npdeep.errors import ModelFileError


def _npdeep_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # our own version only

    try:
        return version("npdeep")
    except PackageNotFoundError:
        return "0+unknown"


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
    >>> from npdeep.io import load_model_file, save_model_file
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
    written = write_atomically(
        path, lambda fp: _write_archive(fp, header, checked, compression), "model file")
    _warn_if_over_the_cap(written, checked)
    return written


def _warn_if_over_the_cap(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Warn when loading the file needs a ``max_elements`` above the default cap."""
    from npdeep._io_load import TRAINING_STATE_PREFIXES

    total = sum(a.size for a in arrays.values())
    if total <= DEFAULT_MAX_ELEMENTS:
        return
    network = sum(a.size for k, a in arrays.items() if not k.startswith(TRAINING_STATE_PREFIXES))
    alone = "" if network == total else (
        f" (its network alone, as npdeep.load reads it, {network}"
        + (", within the default" if network <= DEFAULT_MAX_ELEMENTS else "") + ")")
    warnings.warn(
        f"{str(path)!r} holds {total} array elements{alone}, over the default cap "
        f"max_elements={DEFAULT_MAX_ELEMENTS} that loading applies; load it with "
        f"max_elements={total} (npdeep.load, Network.load, npdeep.load_trained, "
        "npdeep.checkpoint.resume and load_checkpoint take it; the commands' --max-elements)",
        UserWarning, stacklevel=caller_level())
