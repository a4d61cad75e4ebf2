"""IDX files, the format of MNIST: a magic number, big-endian dimensions, then raw values.

Layout: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64), the number of dimensions, one big-endian uint32 per dimension, then the data in
C order. Files may be gzipped (detected from their first bytes, not their name).
"""

from __future__ import annotations

import gzip
import math
import re
import zlib
from pathlib import Path

import numpy as np

from npdeep.data.dataset import Dataset, check_features, prepare_target
from npdeep.data.encoding import FeatureEncoder
from npdeep.errors import DataError

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IMAGES = re.compile(r"images-idx\d-ubyte(\.gz)?$")


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read IDX file ({exc})") from None
    return raw


def is_idx(head: bytes) -> bool:
    """True when the (decompressed) first 4 bytes look like an IDX magic number."""
    return len(head) >= 4 and head[:2] == b"\0\0" and head[2] in _DTYPES and 1 <= head[3] <= 4


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (plain or gzipped) into an array of its stored shape.

    Returns
    -------
    ndarray
        For MNIST images ``(n_samples, 28, 28)`` uint8; for labels ``(n_samples,)`` uint8.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if not is_idx(raw[:4]):
        raise DataError(
            f"{path}: not an IDX file (magic bytes {raw[:4].hex()!r}; expected 0000 then a type "
            "code 08/09/0b/0c/0d/0e and 1-4 dimensions)"
        )
    dtype = np.dtype(_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: IDX header is truncated ({len(raw)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize  # Python ints: np.prod wraps at 2**63
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: IDX data holds {len(raw) - header} bytes but its header {shape} of "
            f"{dtype.name} needs {expected} (truncated or corrupt file)"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def check_images(X: np.ndarray, path: Path) -> np.ndarray:
    """Refuse a 1-D IDX array as images ``(n_samples, ...)``: it is a labels file, most likely."""
    if X.ndim < 2:
        raise DataError(
            f"{path}: holds a 1-D IDX array of {X.shape[0]} values (a labels file?); expected "
            "an images file, such as 't10k-images-idx3-ubyte.gz'"
        )
    return X


def labels_path_for(images: Path) -> Path:
    """Return the labels file that goes with an images file (``*-images-idx3-ubyte[.gz]``)."""
    name = images.name
    if not _IMAGES.search(name):
        raise DataError(
            f"{images}: cannot find its labels file: expected an images file named like "
            "'t10k-images-idx3-ubyte.gz' next to 't10k-labels-idx1-ubyte.gz'"
        )
    stem = _IMAGES.sub("", name)
    for candidate in sorted(images.parent.glob(f"{stem}labels-idx1-ubyte*")):
        return candidate
    raise DataError(f"{images}: no labels file '{stem}labels-idx1-ubyte[.gz]' next to it")


def find_images(directory: Path, prefer: str | None = None) -> Path:
    """Return the single images file in a folder (or the one whose name starts with ``prefer``)."""
    found = sorted(p for p in directory.iterdir() if _IMAGES.search(p.name))
    if prefer is not None:
        found = [p for p in found if p.name.startswith(prefer)] or found
    if not found:
        from .builtin import BUILTIN_NAMES

        hidden = (f"; this folder hides the built-in data set {directory.name!r}: run from "
                  "another folder, or rename it" if str(directory) in BUILTIN_NAMES else "")
        raise DataError(
            f"{directory}: no IDX images file (named like 't10k-images-idx3-ubyte.gz') "
            f"here{hidden}"
        )
    if len(found) > 1:
        raise DataError(
            f"{directory}: holds several IDX image sets ({', '.join(p.name for p in found)}); "
            "give the path of the images file you mean"
        )
    return found[0]


def load_idx(
    images: str | Path,
    labels: str | Path | None = None,
    *,
    task: str | None = None,
    name: str | None = None,
) -> Dataset:
    """Load an IDX images file and its labels into a classification :class:`Dataset`.

    Parameters
    ----------
    images : str or Path
        An images file, or a folder holding one images/labels pair.
    labels : str or Path, optional
        Found next to ``images`` when omitted.
    task : {"classification", "regression"}, optional
    name : str, optional
        Shown in ``Dataset.source`` (defaults to the file name).

    Returns
    -------
    Dataset
        ``X: (n_samples, n_pixels)`` float64 raw pixels (0..255 for MNIST), ``y: (n_samples,)``.
    """
    images = Path(images)
    if images.is_dir():
        images = find_images(images)
    labels = labels_path_for(images) if labels is None else Path(labels)
    X = check_images(read_idx(images), images)
    y = read_idx(labels)
    if y.ndim != 1:
        raise DataError(f"{labels}: labels must be 1-D, got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise DataError(
            f"{images} holds {X.shape[0]} images but {labels} holds {y.shape[0]} labels"
        )
    if y.dtype.kind == "f":  # a float labels file: refuse 1.5 rather than truncate it to 1
        bad = np.flatnonzero((y != np.round(y)) | ~np.isfinite(y))
        if bad.size:
            raise DataError(f"{labels}: label {y[bad[0]].item()!r} at index {bad[0]} is not an "
                            "integer; IDX labels must be whole class numbers")
    X = check_features(X, str(images))
    y, task, classes = prepare_target(y.astype(np.int64), task, "label")
    names = [f"pixel_{i}" for i in range(X.shape[1])]
    return Dataset(
        X=X,
        y=y,
        feature_names=names,
        target_name="label",
        task=task,
        classes=classes,
        source=f"{name or images.name} (IDX, {X.shape[0]} images of {X.shape[1]} pixels)",
        encoder=FeatureEncoder.numeric(names),
    )
