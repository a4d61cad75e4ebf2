"""Pieces every command shares: JSON output, output paths, atomic writes, model files.

Exit codes (see :func:`npdeep.cli.run`): 0 success; 1 the command ran but the data, the
model file or the file system refused (any :class:`npdeep.errors.NpdeepError`, printed as
``Error: message``, no traceback); 2 a usage error (unknown option, bad option value,
unknown key in a config file).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import TextIOWrapper
from pathlib import Path
from typing import Any, TextIO

import click
import numpy as np

from ..errors import ConfigurationError, DataError, ModelFileError, NpdeepError

JSON_META = "npdeep.json"


# ----------------------------------------------------------------------------- output
def _remember_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[JSON_META] = True
    return value


def json_option(f: Callable) -> Callable:
    """Add ``--json``: the result as one JSON object on standard output (errors too)."""
    return click.option(
        "--json", "as_json", is_flag=True, is_eager=True, callback=_remember_json,
        help="Print the result as one JSON object on standard output.",
    )(f)


def jsonable(obj: Any) -> Any:
    """Return ``obj`` with NumPy values, paths and non-finite floats made JSON-safe."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def emit(as_json: bool, result: dict, text: str | None) -> None:
    """Print ``result`` as JSON, or ``text`` for a person."""
    if as_json:
        click.echo(json.dumps(jsonable({"ok": True, **result}), indent=2))
    elif text:
        click.echo(text)


def fmt(value: Any, digits: int = 4) -> str:
    """Format a number for people (``-`` for None)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) < 1e5 else f"{value:.{digits}g}"
    return str(value)


# ---------------------------------------------------------------------------- options
class FiniteFloatRange(click.FloatRange):
    """:class:`click.FloatRange` that also refuses ``nan`` and ``inf`` (a usage error)."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


#: A seed every random draw accepts (scikit-learn's splits need it below 2**32).
SEED = click.IntRange(0, 2**32 - 1)


# ------------------------------------------------------------------------------ paths
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
    if writes == "predictions" and suffix in _NOT_A_TABLE:
        raise ConfigurationError(
            f"{option}: {str(path)!r} ends in {suffix}, which names a model or NumPy file, "
            "but the predictions are a CSV table; name it .csv"
        )


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


def atomic_write_text(path: Path, write: Callable[[TextIO], Any], what: str = "file") -> Any:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it over ``path``.

    The rules of :func:`npdeep.atomic.write_atomically`: nothing is left at ``path`` when
    ``write`` fails or is interrupted; a symbolic link is followed; a device, pipe or socket
    is refused, never replaced (``-o /dev/null`` run as root would otherwise turn /dev/null
    into a regular file); a file replaced keeps its permission bits, a read-only one is
    refused; a new one gets ``0o666 & ~umask``. Returns what ``write`` returns.
    """
    from ..atomic import write_atomically

    result = []

    def write_text(fp) -> None:
        fh = TextIOWrapper(fp, encoding="utf-8", newline="")
        try:
            result.append(write(fh))
            fh.flush()
        finally:
            fh.detach()  # write_atomically flushes, fsyncs and closes fp itself

    write_atomically(path, write_text, what)
    return result[0]


# ------------------------------------------------------------------------------ stdin
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


# ------------------------------------------------------------------------- model files
def _data_kind(path: Path) -> str | None:
    from ..data import sniff

    try:
        kind = sniff(path)
    except DataError:
        return None
    if kind == "csv" and not _looks_like_text(path):
        return None  # sniff's fallback: an image, a random binary file
    if kind == "csv" and path.suffix.lower() not in (".csv", ".tsv", ".txt", ".gz"):
        return "text"  # model.json, notes.md: text, but nothing says it is a data table
    return {"csv": "CSV", "npy": "NumPy .npy", "npz": "NumPy .npz", "idx": "IDX"}.get(kind)


def _looks_like_text(path: Path) -> bool:
    """True when the file's first 4 KiB are UTF-8 text without NULs (gzipped or not)."""
    import gzip
    import zlib

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                head = fh.read(4096)
    except (OSError, EOFError, zlib.error):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the 4 KiB mark
            return False
    return b"\0" not in head


@dataclass
class Model:
    """A network loaded from a model file, with what ``npdeep train`` stored beside it.

    Attributes
    ----------
    net : Network
    header : dict
        The file's JSON header (``data``, ``scaling``, ``classes``, ``task``, ``training``...).
    path : Path
    """

    net: Any
    header: dict
    path: Path

    @property
    def task(self) -> str:
        task = self.header.get("task")
        if task:
            return task
        out = self.net.output_activation.name
        return "classification" if out in ("softmax", "sigmoid") else "regression"

    @property
    def classes(self) -> np.ndarray | None:
        """Class labels in output order (stored ones, else 0..n_L-1)."""
        if self.task != "classification":
            return None
        if self.header.get("classes") is not None:
            return label_array(self.header["classes"])
        n_L = self.net.units[-1]
        return np.arange(2 if n_L == 1 else n_L)

    @property
    def data(self) -> dict:
        return self.header.get("data") or {}

    @property
    def encoder_config(self) -> dict | None:
        return self.data.get("encoder")

    @property
    def n_features(self) -> int:
        return self.net.n_x

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Apply the stored feature scaling to ``X: (n_samples, n_features)``."""
        from ..data import Standardizer

        if X.shape[1] != self.n_features:
            raise DataError(
                f"the data has {X.shape[1]} features but the model expects {self.n_features} "
                "features"
            )
        if self.header.get("scaling"):
            return Standardizer.from_config(self.header["scaling"]).transform(X)
        return X

    def predict_rows(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Predict for ``X: (n_samples, n_features)``, samples as rows.

        Returns
        -------
        labels_or_values : (n_samples,) labels, or (n_samples, n_L) values for regression
        probabilities : (n_samples, n_classes) or None
        """
        Xs = self.scale(X).T  # (n_x, m)
        net = self.net
        if self.task == "classification":
            out = net.output_activation.name
            if out not in ("softmax", "sigmoid"):  # e.g. identity + MSE: scores, no probabilities
                A = np.asarray(net.predict(Xs), dtype=np.float64)  # (n_L, m)
                index = (A[0] > 0.5).astype(np.intp) if A.shape[0] == 1 else A.argmax(axis=0)
                return self.classes[index], None
            A = net.predict_proba(Xs)  # (n_L, m)
            if out == "softmax":
                P = A.T
            elif A.shape[0] == 1:
                P = np.column_stack([1.0 - A[0], A[0]])
            else:
                P = A.T  # one sigmoid per class (trained one-hot): the largest wins
            return self.classes[P.argmax(axis=1)], P.astype(np.float64)
        # a[L] itself, (m, n_L): predict would give 0/1 labels for a sigmoid output
        V = np.asarray(net._predicted(Xs), dtype=np.float64).T
        if self.header.get("target_scaling"):
            from ..data import Standardizer

            V = Standardizer.from_config(self.header["target_scaling"]).inverse_transform(V)
        return V, None

    def target_for(self, source: str) -> str | None:
        """The target to read from ``source`` when none is named: the one trained on, when
        ``source`` is a CSV or an .npz holding it; else None (the loaders' default)."""
        from ..data import sniff

        stored = self.data.get("target")
        if not stored:
            return None
        kind = sniff(source)
        return stored if kind == "csv" or (kind == "npz" and _npz_holds(source, stored)) else None

    def output_columns(self) -> list[str]:
        """``predict``'s CSV columns: ``prediction`` then ``probability_<class>`` per class."""
        if self.task == "classification":
            if self.net.output_activation.name not in ("softmax", "sigmoid"):
                return ["prediction"]
            return ["prediction", *(f"probability_{c}" for c in self.classes.tolist())]
        n_L = self.net.units[-1]
        return ["prediction"] if n_L == 1 else [f"prediction_{i}" for i in range(n_L)]

    def history(self) -> dict:
        """The training history (``History.to_dict()``; empty when none was saved)."""
        return self.net.history.to_dict() if self.net.history else {}


def _npz_holds(path: str, name: str) -> bool:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return name in archive.files
    except (OSError, ValueError):
        return False


def read_model_file(path: str | os.PathLike) -> tuple[Path, dict, dict]:
    """Read a model file once: ``(path, header, arrays)``, whatever its kind.

    A missing path, a folder, a data or text file given instead get a message that says so.
    """
    from .. import serialization

    if str(path) == STDIN:
        raise ModelFileError("MODEL: '-' (standard input) is for DATA only; give the model "
                             "file's path")
    if str(path) == "":  # Path("") is ".", the current folder
        raise ModelFileError("MODEL: the path is empty; give the model file's path")
    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"{p}: no such model file")
    if p.is_dir():
        raise ModelFileError(f"{p}: is a folder, not a model file")
    try:
        header, arrays = serialization.load_model_file(p)
    except ModelFileError:
        kind = _data_kind(p)
        if kind == "text":
            raise ModelFileError(
                f"{p}: is a text file, not a model; give a model file saved by `npdeep train`"
            ) from None
        if kind is not None:
            raise ModelFileError(
                f"{p}: looks like a data file ({kind}), not a model; give a model file saved "
                "by `npdeep train` here (data goes in the DATA argument)"
            ) from None
        raise
    return p, header, arrays


def load_model(path: str | os.PathLike, estimators: bool = False):
    """Load a network model file; a data file given instead gets a message that says so.

    With ``estimators``, a scikit-learn estimator or pipeline file (``npdeep.save``) is
    loaded too, as an :class:`~npdeep.cli._estimators.EstimatorModel` with the same face.
    """
    p, header, arrays = read_model_file(path)
    if estimators and header.get("kind") in ("estimator", "pipeline"):
        from ._estimators import estimator_model

        return estimator_model(p, header, arrays)
    return model_from_file(p, header, arrays)


def model_from_file(p: Path, header: dict, arrays: dict) -> Model:
    """Build the :class:`Model` of a network file read by :func:`read_model_file`."""
    from .. import serialization

    kind = header.get("kind", "network")
    if kind in ("estimator", "pipeline"):
        raise ModelFileError(
            f"{p}: holds a scikit-learn {kind} (saved by npdeep.save), which this command does "
            "not read (evaluate, predict, plot and inspect do); give a model file saved by "
            "`npdeep train` or Network.save, or use npdeep.load(path) in Python"
        )
    header, arrays = serialization._check_network_file(header, arrays, str(p))
    m = Model(net=serialization._network_from_header(header, arrays, str(p)), header=header,
              path=p)
    try:
        _check_header(m)
    except (ModelFileError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{p}: invalid model header: {exc}") from None
    return m


def _label_kind(c) -> str:
    if isinstance(c, bool):
        return "bool"
    if isinstance(c, str):
        return "str"
    if (isinstance(c, int) or (isinstance(c, float) and c.is_integer())) and \
            -2**63 <= c < 2**64:  # what an int64 or uint64 label array holds
        return "int"  # 1.0 is the label 1 (JSON may write it either way)
    return "float"


def label_array(classes: list) -> np.ndarray:
    """The class labels of a header as an array, integers exactly (int64, else uint64).

    ``np.asarray`` would make float64 of integers beyond int64 and merge labels such as
    2**64 - 1 and 2**64 - 2 (or 2**53 and 2**53 + 1).
    """
    if classes and all(_label_kind(c) == "int" for c in classes):
        ints = [int(c) for c in classes]
        return np.array(ints, dtype=np.int64 if max(ints) < 2**63 else np.uint64)
    return np.asarray(classes)


def _check_labels(classes: list) -> None:
    """Refuse class labels ``npdeep train`` never writes: non-integral or non-finite numbers,
    labels of mixed kinds (text and numbers, booleans and numbers), repeats. Predictions are
    these labels, and scoring them against the data's needs one kind."""
    kinds = {_label_kind(c) for c in classes}
    if "float" in kinds or len(kinds) > 1:
        raise ModelFileError(f"'classes' must all be text, all integers or all booleans, got "
                             f"{classes!r:.100}")
    if len(set(classes)) != len(classes):
        raise ModelFileError(f"'classes' must be distinct labels, got {classes!r:.100}")
    if kinds == {"int"} and min(classes) < 0 and max(classes) >= 2**63:
        raise ModelFileError(f"'classes' must fit one 64-bit integer type (no negative labels "
                             f"beside ones of 2**63 or more), got {classes!r:.100}")


def _check_header(m: Model) -> None:
    """Check what the commands read from a (possibly hand-edited) header against the network."""
    from ..data import FeatureEncoder, Standardizer

    h, n_x, n_L = m.header, m.net.n_x, m.net.units[-1]
    if h.get("task") not in (None, "classification", "regression"):
        raise ModelFileError(f"'task' must be 'classification' or 'regression', got "
                             f"{h['task']!r:.100}")
    classes = h.get("classes")
    if m.task == "classification" and classes is not None:
        k = 2 if n_L == 1 else n_L
        if not isinstance(classes, list) or len(classes) != k or not all(
                isinstance(c, (str, int, float)) for c in classes):
            raise ModelFileError(f"'classes' must list {k} labels for {n_L} output unit(s), got "
                                 f"{classes!r:.100}")
        _check_labels(classes)
    for key, n in (("scaling", n_x), ("target_scaling", n_L)):
        if h.get(key):
            scaler = Standardizer.from_config(h[key])
            if len(scaler.mean_) != n:
                raise ModelFileError(f"{key!r} holds {len(scaler.mean_)} values, the network "
                                     f"needs {n}")
    for key in ("training", "test_scores"):  # inspect lists their items
        if h.get(key) is not None and not isinstance(h[key], dict):
            raise ModelFileError(f"{key!r} must be a JSON object, got {h[key]!r:.100}")
    data = h.get("data")
    if data is None:
        return
    if not isinstance(data, dict):
        raise ModelFileError(f"'data' must be a JSON object, got {data!r:.100}")
    if data.get("classes") is not None and not isinstance(data["classes"], list):
        raise ModelFileError(f"'data.classes' must be a list, got {data['classes']!r:.100}")
    names = data.get("feature_names")
    if names is not None and (not isinstance(names, list) or len(names) != n_x
                              or not all(isinstance(n, str) for n in names)):
        raise ModelFileError(f"'data.feature_names' must list {n_x} names, got {names!r:.100}")
    if data.get("encoder") is not None:
        encoder = FeatureEncoder.from_config(data["encoder"])
        if encoder.n_features != n_x:
            raise ModelFileError(f"the stored feature encoding makes {encoder.n_features} "
                                 f"features, the network takes {n_x}")
