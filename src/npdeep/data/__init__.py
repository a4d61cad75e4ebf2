"""Data loaders for the command line: what a user types in, clean arrays out.

``load`` reads training or evaluation data (features and target); ``load_features`` and
``iter_csv_chunks`` read prediction data (no target needed) and replay the training-time
one-hot encoding. Every problem raises :class:`npdeep.errors.DataError` naming the file, the
line and the column where it can. Arrays have samples as rows (``X: (n_samples, n_features)``):
the core works on ``X.T``, of shape ``(n_x, m)``.

Sources: a CSV file (``.csv``, ``.tsv``, optionally gzipped; another delimiter, a decimal
comma, another encoding or no header row by the keywords ``delimiter``, ``decimal``,
``encoding``, ``header``), ``.npz`` (arrays ``X``, ``y``),
``.npy`` (``X`` only), IDX files (MNIST's format, plain or gzipped; an images file or a folder
holding one images/labels pair), or a built-in name (``digits``, ``breast_cancer``, ``wine``,
``iris``, ``diabetes``, ``mnist-t10k``).
"""

from __future__ import annotations

import difflib
import gzip
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from npdeep.data.arrays import load_arrays, read_npy, read_npz
from npdeep.data.builtin import BUILTIN_NAMES, find_mnist_dir, load_builtin
from npdeep.data.csv import iter_csv_chunks as _iter_csv_chunks
from npdeep.data.csv import iter_csv_chunks_keeping as _iter_csv_chunks_keeping
from npdeep.data.csv import read_csv, read_csv_features
from npdeep.data.dataset import Dataset, check_classes, check_features, detect_task
from npdeep.data.dialect import CsvDialect, csv_dialect
from npdeep.data.encoding import Column, FeatureEncoder
from npdeep.data.idx import check_images, find_images, is_idx, load_idx, read_idx
from npdeep.data.scaling import Standardizer, standardize
from npdeep.errors import DataError

__all__ = [
    "BUILTIN_NAMES",
    "Column",
    "CsvDialect",
    "Dataset",
    "FeatureEncoder",
    "Standardizer",
    "csv_dialect",
    "detect_task",
    "find_mnist_dir",
    "iter_csv_chunks",
    "load",
    "load_features",
    "sniff",
    "standardize",
]

MODEL_SUFFIXES = (".npdeep",)


def _model_file_error(path: Path) -> DataError:
    return DataError(
        f"{path}: looks like a model file, not data; give a data file (CSV, .npz, .npy, IDX) "
        "or a built-in name here"
    )


def sniff(source: str | Path) -> str:
    """Tell what a source is: ``"builtin"``, ``"csv"``, ``"npy"``, ``"npz"`` or ``"idx"``.

    Files are recognised from their first bytes, not only their name. Raises DataError for a
    missing or empty file, a model file, or an archive that is not data.
    """
    if str(source) == "":  # Path("") is ".", the current folder
        raise DataError("the data source '' is an empty name; give a file, a folder or a "
                        f"built-in name ({', '.join(BUILTIN_NAMES)})")
    path = Path(source)
    if not path.exists():
        if str(source) in BUILTIN_NAMES:
            return "builtin"
        near = difflib.get_close_matches(str(source), BUILTIN_NAMES, n=1)
        hint = f"; did you mean the built-in {near[0]!r}?" if near else ""
        raise DataError(
            f"{source}: no such file or folder, and not a built-in data set "
            f"({', '.join(BUILTIN_NAMES)}){hint}"
        )
    if path.is_dir():
        return "idx"
    if path.suffix.lower() in MODEL_SUFFIXES:
        raise _model_file_error(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise DataError(f"{path}: the file is empty")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip's first entry, or an empty zip
        return _sniff_zip(path)  # (not "PK" alone: a CSV whose first column is named PK...)
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    bzip2 = head[:3] == b"BZh" and head[4:8] == b"1AY&"  # then a block's magic, 0x314159...
    for kind, found in (("xz", head.startswith(b"\xfd7zXZ\x00")), ("bzip2", bzip2),
                        ("zstd", head.startswith(b"(\xb5/\xfd"))):
        if found:  # read as text, it was "not a UTF-8 text file"
            raise DataError(f"{path}: compressed with {kind}, which npdeep does not read; "
                            "decompress it, or compress it with gzip (.gz), which it reads")
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                inner = fh.read(4)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt gzip file ({exc})") from None
        if not inner:
            raise DataError(f"{path}: the file is empty (an empty gzip stream)")
        return "idx" if is_idx(inner) else "csv"
    if is_idx(head):
        return "idx"
    if re.search(r"-idx\d-ubyte$", path.name):  # named as IDX: its reader explains what is wrong
        return "idx"
    if path.suffix.lower() in (".npy", ".npz"):
        raise DataError(
            f"{path}: not a NumPy file (it does not start with NumPy's or zip's magic bytes)"
        )
    return "csv"


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError) as exc:
        # a corrupt central directory can claim a zip version zipfile does not implement
        raise DataError(f"{path}: corrupt zip/npz archive ({exc})") from None
    if any(n.endswith(".json") for n in names):
        raise _model_file_error(path)
    if names and all(n.endswith(".npy") for n in names):
        return "npz"
    raise DataError(
        f"{path}: is a zip archive holding {', '.join(names[:10]) or 'nothing'}, not data; "
        "expected an .npz with arrays 'X' and 'y'"
    )


def _encoder(encoder_config: dict[str, Any] | FeatureEncoder | None) -> FeatureEncoder | None:
    if encoder_config is None or isinstance(encoder_config, FeatureEncoder):
        return encoder_config
    return FeatureEncoder.from_config(encoder_config)


def _names(feature_names: Any) -> list[str]:
    """Check ``feature_names`` is a list of names: a string would be taken letter by letter."""
    if isinstance(feature_names, (str, bytes)) or not all(
            isinstance(n, str) for n in feature_names):
        raise DataError(f"feature_names must be a list of column names, got {feature_names!r:.100}")
    return list(feature_names)


def _dialect(source: str | Path, kind: str, delimiter: str | None, decimal: str,
             encoding: str, header: bool) -> CsvDialect:
    """The checked dialect of CSV ``source``; one asked of other data is an error."""
    dialect = csv_dialect(delimiter, decimal, encoding, header)
    if kind != "csv" and not dialect.is_default:
        asked = ", ".join(f"{k}={v!r}" for k, v in dialect.to_config().items()
                          if v != CsvDialect().to_config()[k])
        raise DataError(f"{source}: delimiter, decimal, encoding and header describe a CSV "
                        f"file, not {kind} data (asked for {asked})")
    return dialect


def _check_count(X: np.ndarray, expected: int | None, source: str | Path, kind: str) -> None:
    if expected is not None and X.shape[1] != expected:
        hint = (" (does it still hold the target column?)"
                if X.shape[1] == expected + 1 and kind in ("npy", "npz") else "")
        raise DataError(
            f"{source}: has {X.shape[1]} features but the model expects {expected} features{hint}"
        )


def load(
    source: str | Path,
    target: str | int | Path | None = None,
    *,
    task: str | None = None,
    categorical: str = "reject",
    mnist_dir: str | Path | None = None,
    encoder_config: dict[str, Any] | FeatureEncoder | None = None,
    min_classes: int = 2,
    drop: Sequence[str] = (),
    delimiter: str | None = None,
    decimal: str = ".",
    encoding: str = "utf-8",
    header: bool = True,
) -> Dataset:
    """Load training or evaluation data (features and target) from a path or a built-in name.

    Parameters
    ----------
    source : str or Path
        A CSV/TSV file, ``.npz``, ``.npy``, an IDX images file or folder, or a built-in name.
    target : str, int, Path or list, optional
        CSV: the target column by name or index (default: the last column), or several: a
        list of them, or a text of them separated by commas (``"a,b"``; numbers give
        multi-target regression, columns of only 0 and 1 multi-label). ``.npz``: the
        array holding the target (default ``"y"``). ``.npy``: a ``.npy`` file holding y.
        IDX and built-in data have their own target ("label", "target"); another name is an error.
    task : {"classification", "regression", "multilabel"}, optional
        Detected from the target when omitted (:func:`detect_task`).
    categorical : {"reject", "onehot"}
        CSV text feature columns: refused by name, or one-hot encoded.
    mnist_dir : str or Path, optional
        Folder of MNIST's t10k IDX files, for ``"mnist-t10k"``.
    encoder_config : dict or FeatureEncoder, optional
        The encoding stored with a model (``Dataset.encoder.to_config()``): replayed on this
        data (evaluation), and the feature count checked against it.
    min_classes : int
        Fewest classes a classification target may hold: 2 to train on, 1 to score a subset.
    drop : sequence of str
        CSV: columns to leave out of the features, by name (an identifier, free text).
    delimiter, decimal, encoding, header :
        CSV: the column separator (one character, ``"tab"``; default: a tab for ``.tsv`` and
        ``.tab`` files, a comma otherwise), the decimal sign (``"."`` or ``","``), the text
        encoding (default UTF-8) and whether the first row names the columns (without one,
        they are named ``"0"``, ``"1"``... so ``target="3"`` or ``target=3``); see
        :func:`npdeep.data.dialect.csv_dialect`.

    Returns
    -------
    Dataset
        ``X: (n_samples, n_features)`` float64, ``y: (n_samples,)`` (or ``(n_samples, k)``).
        Class labels that reading as numbers would rewrite (``007``, ``7.0``, ``+1``) are
        kept as text (:func:`npdeep.data.dataset.label_text`).

    Examples
    --------
    >>> ds = load("iris")
    >>> ds.X.shape, ds.task, ds.classes.tolist()
    ((150, 4), 'classification', [0, 1, 2])
    """
    if categorical not in ("reject", "onehot"):  # checked for every source, not only CSV
        raise DataError(f"categorical must be 'reject' or 'onehot', got {categorical!r}")
    encoder = _encoder(encoder_config)
    dialect = csv_dialect(delimiter, decimal, encoding, header)
    kind = sniff(source)
    dialect = _dialect(source, kind, **dialect.to_config())
    if kind == "csv":
        ds = read_csv(Path(source), target, task=task, categorical=categorical, encoder=encoder,
                      drop=drop, dialect=dialect)
        return _check_classes(ds, min_classes, source)
    if isinstance(target, (list, tuple)):
        raise DataError(f"{source}: several target columns are chosen from a CSV file only, "
                        f"not from {kind} data (asked for {', '.join(map(repr, target))}); an "
                        ".npz holds several targets as one 2-D array y (n_samples, k)")
    if drop:
        raise DataError(f"{source}: columns can be dropped from a CSV file only, not from "
                        f"{kind} data (asked to drop {', '.join(map(repr, drop))})")
    if kind in ("npy", "npz"):
        ds = load_arrays(source, target, task=task)
    else:
        if kind == "builtin":
            ds = load_builtin(str(source), task=task, mnist_dir=mnist_dir)
        else:
            ds = load_idx(source, task=task)
        if target is not None and str(target) != ds.target_name:
            raise DataError(
                f"{source}: target {str(target)!r} does not apply; this data set's target is "
                f"{ds.target_name!r} (a target column is chosen only in CSV and NumPy files)"
            )
    _check_count(ds.X, None if encoder is None else encoder.n_features, source, kind)
    return _check_classes(ds, min_classes, source)


def _check_classes(ds: Dataset, min_classes: int, source: str | Path) -> Dataset:
    """:func:`check_classes`, its error naming the source (a single class, a constant target)."""
    try:
        return check_classes(ds, min_classes)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None


def load_features(
    source: str | Path,
    feature_names: list[str] | None = None,
    encoder_config: dict[str, Any] | FeatureEncoder | None = None,
    *,
    mnist_dir: str | Path | None = None,
    delimiter: str | None = None,
    decimal: str = ".",
    encoding: str = "utf-8",
    header: bool = True,
) -> Dataset:
    """Load prediction data (no target needed), replaying the model's encoding.

    Parameters
    ----------
    source : str or Path
    feature_names : list of str, optional
        The model's feature names; with no ``encoder_config``, the features must be numeric
        and their count must match (a CSV's columns are picked by these names when present).
    encoder_config : dict or FeatureEncoder, optional
        The encoding stored with the model; CSV columns are picked by name (a target column
        or other extra columns are ignored), or by position when none of the names occur; a
        file holding only some of them is refused.
    mnist_dir : str or Path, optional
    delimiter, decimal, encoding, header :
        A CSV's dialect, as for :func:`load`.

    Returns
    -------
    Dataset
        ``X: (n_samples, n_features)`` float64 and ``y=None``; a DataError names the expected
        feature count when it does not match.
    """
    encoder = _encoder(encoder_config)
    if encoder is None and feature_names is not None:
        encoder = FeatureEncoder.numeric(_names(feature_names))
    expected = None if encoder is None else encoder.n_features
    dialect = csv_dialect(delimiter, decimal, encoding, header)
    kind = sniff(source)
    dialect = _dialect(source, kind, **dialect.to_config())
    if kind == "csv":
        X = read_csv_features(Path(source), encoder, expected, dialect)
        if encoder is None:
            encoder = FeatureEncoder.numeric([f"x{i}" for i in range(X.shape[1])])
        label = f"{Path(source).name} (CSV, {X.shape[0]} rows)"
    elif kind == "builtin":
        X = load_builtin(str(source), mnist_dir=mnist_dir).X
        label = f"{source} (built-in)"
    elif kind == "idx":
        path = Path(source)
        images = find_images(path) if path.is_dir() else path
        X = check_features(check_images(read_idx(images), images), str(images))
        label = f"{images.name} (IDX, {X.shape[0]} images)"
    elif kind == "npy":
        X = check_features(read_npy(source), str(source))
        label = f"{Path(source).name} (NumPy, {X.shape[0]} samples)"
    else:
        X = check_features(read_npz(source, y_key=None)[0], str(source))
        label = f"{Path(source).name} (NumPy, {X.shape[0]} samples)"
    _check_count(X, expected, source, kind)
    if encoder is None:
        encoder = FeatureEncoder.numeric([f"x{i}" for i in range(X.shape[1])])
    return Dataset(
        X=X,
        y=None,
        feature_names=encoder.feature_names,
        target_name=None,
        task=None,
        classes=None,
        source=label,
        encoder=encoder,
    )


def iter_csv_chunks(
    path: str | Path,
    chunk_rows: int,
    *,
    feature_names: list[str] | None = None,
    encoder_config: dict[str, Any] | FeatureEncoder | None = None,
    n_features: int | None = None,
    keep: Sequence[str] = (),
    delimiter: str | None = None,
    decimal: str = ".",
    encoding: str = "utf-8",
    header: bool = True,
) -> Iterator[np.ndarray] | Iterator[tuple[np.ndarray, list[list[str]]]]:
    """Stream a CSV's features in chunks of at most ``chunk_rows`` rows, with bounded memory.

    Parameters
    ----------
    path : str or Path
    chunk_rows : int
    feature_names, encoder_config :
        As for :func:`load_features`.
    n_features : int, optional
        Without names or an encoding: every column is a feature, and their count must be
        this (a DataError names the file and asks whether it still holds the target).
    keep : sequence of str
        Columns whose cells are passed through as text (an identifier for the predictions);
        without names or an encoding they are not features.
    delimiter, decimal, encoding, header :
        The CSV's dialect, as for :func:`load`.

    Yields
    ------
    X : ndarray of float64, shape (n_chunk, n_features); with ``keep``, pairs
    ``(X, kept)``, ``kept`` a list of n_chunk lists of the ``keep`` cells as written
    """
    dialect = csv_dialect(delimiter, decimal, encoding, header)
    if sniff(path) != "csv":
        raise DataError(f"{path}: streaming in chunks needs a CSV file")
    encoder = _encoder(encoder_config)
    if encoder is None and feature_names is not None:
        encoder = FeatureEncoder.numeric(_names(feature_names))
    if keep:
        yield from _iter_csv_chunks_keeping(Path(path), chunk_rows, list(keep), encoder=encoder,
                                            n_features=n_features, dialect=dialect)
    else:
        yield from _iter_csv_chunks(Path(path), chunk_rows, encoder=encoder,
                                    n_features=n_features, dialect=dialect)
