"""NumPy files: ``.npz`` with arrays ``X`` and ``y``, or ``.npy`` holding ``X`` alone.

Always loaded with ``allow_pickle=False``: an object array is refused, never unpickled.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from npdeep.data.dataset import Dataset, check_features, prepare_target
from npdeep.data.encoding import FeatureEncoder
from npdeep.errors import DataError, NonIntegerLabelsError

_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}


def _check_declared_size(fp, available: int, where: str) -> None:
    """Refuse an ``.npy`` stream whose header declares more bytes than it holds.

    NumPy allocates the declared shape before reading: a truncated file, or a corrupt header
    declaring a shape of 10**15 elements, would fail with a MemoryError (or allocate gigabytes
    for a file of a few bytes). A stream NumPy cannot parse is left to ``np.load`` to name.
    """
    try:
        version = np.lib.format.read_magic(fp)
        shape, _, dtype = _NPY_HEADERS[version](fp)
    except (ValueError, KeyError, EOFError, OSError):
        return
    if dtype.hasobject:
        return  # refused by np.load(allow_pickle=False) with its own message
    needed = math.prod(shape) * dtype.itemsize
    held = available - fp.tell()
    if needed > held:
        raise DataError(f"{where}: truncated or corrupt: its header declares an array of shape "
                        f"{shape} ({dtype}, {needed:,} bytes) but it holds {max(held, 0):,} bytes "
                        "of data")


def _check_sizes(path: Path) -> None:
    """:func:`_check_declared_size` for an ``.npy`` file or each member of an ``.npz``."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(".npy"):
                        with archive.open(info) as fp:
                            _check_declared_size(fp, info.file_size,
                                                 f"{path}: array {info.filename[:-4]!r}")
        else:
            with open(path, "rb") as fp:
                _check_declared_size(fp, os.fstat(fp.fileno()).st_size, str(path))
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError):
        return  # np.load names what is wrong with the file


def _check_magic(path: Path) -> None:
    """Refuse a path that is no NumPy file before ``np.load`` takes it for a pickle (it says
    'allow_pickle=False' of a CSV given as ``--target y.npy``)."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a NumPy file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not (head == b"\x93NUMPY" or head[:2] == b"PK"):
        raise DataError(f"{path}: not a NumPy file (it does not start with NumPy's or zip's "
                        "magic bytes); save arrays with numpy.save or numpy.savez")


def _load(path: Path) -> np.ndarray | np.lib.npyio.NpzFile:
    _check_magic(path)
    _check_sizes(path)
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataError(
                f"{path}: holds an object array (dtype=object), which could run code when "
                "loaded; save plain numeric arrays instead"
            ) from None
        raise DataError(f"{path}: not a readable NumPy file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable NumPy file ({exc})") from None
    except MemoryError:
        raise _too_large(path) from None


def _too_large(path: Path) -> DataError:
    return DataError(f"{path}: its arrays are larger than the memory available to load them")


def read_npy(path: str | Path) -> np.ndarray:
    """Read one ``.npy`` array without pickle."""
    path = Path(path)
    arr = _load(path)
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{path}: is an .npz archive, expected a single .npy array")
    return arr


def read_npz(
    path: str | Path, x_key: str = "X", y_key: str | None = "y"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read ``X`` and, when present, ``y`` from an ``.npz`` archive without pickle.

    Returns
    -------
    X : ndarray, shape (n_samples, ...)
    y : ndarray or None
    """
    path = Path(path)
    archive = _load(path)
    if isinstance(archive, np.ndarray):
        raise DataError(f"{path}: is a single .npy array, expected an .npz archive")
    with archive:
        names = list(archive.files)
        if x_key not in names and {"format", "shape", "data"} <= set(names):
            raise DataError(
                f"{path}: holds a scipy.sparse matrix (written by scipy.sparse.save_npz), "
                "which the command line does not read; use scipy.sparse.load_npz(path) in "
                "Python (Network and DeepClassifier take a sparse X), or "
                "write it dense with numpy.savez(path, X=X.toarray(), y=y)"
            )
        if x_key not in names:
            raise DataError(
                f"{path}: has no array {x_key!r}; it holds "
                f"{', '.join(map(repr, names)) or 'nothing'} "
                "(expected arrays 'X' and 'y', as written by numpy.savez(path, X=X, y=y))"
            )
        try:
            X = archive[x_key]
            y = archive[y_key] if y_key is not None and y_key in names else None
        except ValueError as exc:
            if "allow_pickle" in str(exc):
                raise DataError(
                    f"{path}: holds an object array (dtype=object), which could run code when "
                    "loaded; save plain numeric arrays instead"
                ) from None
            raise DataError(f"{path}: cannot read its arrays ({exc})") from None
        except MemoryError:
            raise _too_large(path) from None
    return X, y


def _target_array(y: np.ndarray, n: int, where: str) -> np.ndarray:
    if y.dtype.kind == "O":
        raise DataError(f"{where}: y holds Python objects (dtype=object); expected numbers or text")
    if y.dtype.kind not in "biufUS":
        raise DataError(f"{where}: y has dtype {y.dtype}; expected real numbers or text labels")
    if y.dtype.kind == "S":  # bytes labels: text, as a model file stores them (JSON)
        try:
            y = np.char.decode(y, "utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{where}: y holds bytes that are not UTF-8 text ({exc.reason}); "
                            "expected numbers or text labels") from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise DataError(f"{where}: y has shape {y.shape}; expected (n_samples,) or (n_samples, k)")
    if y.shape[0] != n:
        raise DataError(f"{where}: X has {n} samples but y has {y.shape[0]}")
    return y


def load_arrays(
    path: str | Path,
    target: str | Path | None = None,
    *,
    task: str | None = None,
    require_target: bool = True,
) -> Dataset:
    """Load a ``.npz`` (arrays ``X``, ``y``) or a ``.npy`` (``X``; ``target`` a ``.npy`` of y).

    Parameters
    ----------
    path : str or Path
    target : str or Path, optional
        For ``.npz``: the name of the array holding the target (default ``"y"``).
        For ``.npy``: the path of a ``.npy`` file holding ``y``.
    task : {"classification", "regression"}, optional
    require_target : bool
        When False (prediction), a missing target gives ``y=None``.

    Returns
    -------
    Dataset
        ``X: (n_samples, n_features)`` float64 (extra dimensions flattened).
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        if target is not None and str(target) == "":  # Path("") is the current folder
            raise DataError(f"{path}: the target file '' is an empty name; give the .npy file "
                            "holding y")
        if target is not None and Path(target).resolve() == path.resolve():
            raise DataError(f"{path}: the target file is the features file itself; give the "
                            "target as another .npy file")
        X = read_npy(path)
        y = read_npy(Path(target)) if target is not None else None
        y_label = "y" if target is None else Path(target).name
        if y is None and require_target:
            raise DataError(
                f"{path}: a .npy file holds X only; give the target as another .npy file "
                "(target=PATH, --target PATH) or save both with numpy.savez(path, X=X, y=y)"
            )
    else:
        y_key = "y" if target is None else str(target)
        if y_key == "X":
            raise DataError(f"{path}: the target cannot be array 'X', which holds the features; "
                            "name the array that holds the target")
        X, y = read_npz(path, y_key=y_key)
        y_label = y_key
        if y is None and require_target:
            with _load(path) as archive:  # the zip's directory only: no array is read
                others = [n for n in archive.files if n != "X"]
            held = f"; its other arrays: {', '.join(map(repr, others))}" if others else \
                "; it holds no other array"
            raise DataError(f"{path}: has X but no array {y_key!r} for the target{held}")
    X = check_features(X, str(path))
    names = [f"x{i}" for i in range(X.shape[1])]
    classes = None
    if y is not None:
        y = _target_array(y, X.shape[0], str(path))
        try:
            y, task, classes = prepare_target(y, task, y_label)
        except NonIntegerLabelsError as exc:  # keep the kind: evaluate words it for a model
            raise NonIntegerLabelsError(f"{path}: {exc}", exc.target_name, exc.example) from None
        except DataError as exc:  # name the file (prepare_target does not know it)
            raise DataError(f"{path}: {exc}") from None
    else:
        task = None
    return Dataset(
        X=X,
        y=y,
        feature_names=names,
        target_name=y_label if y is not None else None,
        task=task,
        classes=classes,
        source=f"{path.name} (NumPy, {X.shape[0]} samples x {X.shape[1]} features)",
        encoder=FeatureEncoder.numeric(names),
    )
