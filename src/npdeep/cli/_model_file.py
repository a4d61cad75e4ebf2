"""Model files as the commands read them: a network and what ``npdeep train`` stored beside it.

:func:`read_model_file` reads a file once and says so when a data or text file is given
instead; :func:`model_from_file` builds the :class:`Model` whose header
:mod:`~npdeep.cli._model_header` checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigurationError, DataError, ModelFileError
from ._data_source import STDIN
from ._model_header import _check_header, label_array

#: Values of X (samples x features) a model file's predict_rows scales and predicts at a time.
_BLOCK_VALUES = 1 << 18


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
    #: whether predict_rows has looked at the features' size yet (once per model, not chunk)
    sized: bool = field(default=False, repr=False, compare=False)

    @property
    def task(self) -> str:
        """``'classification'`` (multi-label too: see :attr:`multilabel`) or ``'regression'``."""
        task = self.header.get("task")
        if task == "multilabel":
            return "classification"
        if task:
            return task
        out = self.net.output_activation.name
        return "classification" if out in ("softmax", "sigmoid") else "regression"

    @property
    def multilabel(self) -> bool:
        """Whether the network gives a 0/1 label per output unit (several 0/1 targets)."""
        return self.header.get("task") == "multilabel"

    @property
    def loss_name(self) -> str:
        """The name of the loss the network trained with."""
        return self.net.loss.name

    @property
    def target_names(self) -> list[str] | None:
        """The names of the several target columns it was trained on, else None."""
        return self.data.get("targets") or None

    @property
    def classes(self) -> np.ndarray | None:
        """Class labels in output order (stored ones, else 0..n_L-1); a multi-label network's
        label names."""
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
    def csv_dialect(self) -> dict | None:
        """The dialect of the CSV the network was trained on (delimiter, decimal, encoding,
        header), or None (other data, or a file from before npdeep recorded it)."""
        return self.data.get("dialect")

    @property
    def encoder(self):
        """The columns trained on (a :class:`~npdeep.data.FeatureEncoder`: the stored encoding,
        else numeric columns of the stored feature names), or None when the file names none."""
        from ..data.encoding import FeatureEncoder

        if self.encoder_config:
            return FeatureEncoder.from_config(self.encoder_config)
        names = self.data.get("feature_names")
        return FeatureEncoder.numeric(names) if names else None

    @property
    def n_features(self) -> int:
        return self.net.n_x

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Apply the stored feature scaling to ``X: (n_samples, n_features)``."""
        self._check_features(X)
        scaler = self._scaler()
        return X if scaler is None else scaler.transform(X)

    def _check_features(self, X: np.ndarray) -> None:
        if X.shape[1] != self.n_features:
            raise DataError(
                f"the data has {X.shape[1]} features but the model expects {self.n_features} "
                "features"
            )

    def _scaler(self):
        from ..data import Standardizer

        if self.header.get("scaling"):
            return Standardizer.from_config(self.header["scaling"])
        return None

    def predict_rows(self, X: np.ndarray, dtype=None) -> tuple[np.ndarray, np.ndarray | None]:
        """Predict for ``X: (n_samples, n_features)``, samples as rows.

        ``X`` is scaled and predicted a block of samples at a time, each block cast to
        ``dtype`` (None: X's float dtype, float64 for integers): a memory-mapped ``X`` is never
        copied whole (its pages are handed back as it is read), nor is one in memory cast or
        scaled whole.

        Returns
        -------
        labels_or_values : (n_samples,) labels, (n_samples, n_L) values for regression, or
            (n_samples, n_L) 0/1 for a multi-label network
        probabilities : (n_samples, n_classes) or None (multi-label: (n_samples, n_L))
        """
        from ..batches import blocks

        self._check_features(X)
        if dtype is None:
            dtype = X.dtype if X.dtype.kind == "f" else np.float64
        scaler = self._scaler()
        if scaler is None and not self.header.get("data") and not self.sized:
            self.sized = True  # once per model: the command line predicts chunk by chunk
            self._warn_if_unscaled(X)
        m = X.shape[0]
        out = proba = None
        # about 2 MB of float64 values per block (its cast, its scaled copy, the network's)
        size = max(64, _BLOCK_VALUES // max(1, X.shape[1]))
        for start, A0 in blocks(X.T, np.dtype(dtype), size):  # A0: (n_x, k)
            Xs = A0 if scaler is None else scaler.transform(A0.T).T
            part, P = self._predict_block(Xs)
            stop = start + part.shape[0]
            if out is None:
                out = np.empty((m, *part.shape[1:]), part.dtype)
                proba = None if P is None else np.empty((m, P.shape[1]), P.dtype)
            out[start:stop] = part
            if P is not None:
                proba[start:stop] = P
        return out, proba

    def _warn_if_unscaled(self, X: np.ndarray) -> None:
        """Warn when a network file without stored scaling (``Network.save``) gets features
        ``X`` (n_samples, n_features) far from unit size (root mean square over 10 in a
        column of the first 10,000 samples): networks are trained on scaled features, which
        such a file cannot scale (wine unscaled through a standardized network: 33% accuracy).
        """
        import warnings

        from .._validation import caller_level
        from ..estimators._inputs import _UNSCALED_RMS

        head = np.asarray(X[:10_000], dtype=np.float64)
        if not head.size:
            return
        with np.errstate(all="ignore"):
            rms = np.sqrt(np.mean(np.square(head), axis=0))
        j = int(np.argmax(rms))
        if rms[j] > _UNSCALED_RMS:  # NaN (refused elsewhere) does not warn
            warnings.warn(
                f"{self.path.name}: holds a network without feature scaling (Network.save), "
                f"and these features are far from unit size (column {j} has a root mean square "
                f"of {rms[j]:.3g}): the network gets them as they are. Scale them as its "
                "training data was (npdeep train stores the scaling it fits; so does a saved "
                "Pipeline with a StandardScaler)", UserWarning, stacklevel=caller_level())

    def _predict_block(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`predict_rows` for scaled samples ``Xs: (n_x, k)``, samples as columns."""
        net = self.net
        if self.multilabel:  # a sigmoid per label, each on its own
            P = np.asarray(net.predict_proba(Xs), dtype=np.float64).T  # (k, n_L)
            return (P > 0.5).astype(np.int64), P
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

    def predict(self, X) -> np.ndarray:
        """Labels (classification) or values in the target's units (regression) for raw
        features ``X`` (n_samples, n_features), samples as rows, as ``npdeep predict`` gives.

        A DataFrame's columns are picked by name (see :meth:`_rows`). Returns labels
        ``(n_samples,)``; regression values ``(n_samples,)`` for one target, else
        ``(n_samples, n_outputs)``, as scikit-learn's regressors.
        """
        pred = self.predict_rows(self._rows(X), np.float64)[0]
        if self.task == "regression" and pred.ndim == 2 and pred.shape[1] == 1:
            return pred[:, 0]
        return pred

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes) for raw features ``X``, samples as rows,
        in the order of :attr:`classes`."""
        if self.task != "classification":
            raise ConfigurationError(f"{self.path}: a regression model gives no probabilities; "
                                     "use predict")
        P = self.predict_rows(self._rows(X), np.float64)[1]
        if P is None:
            raise ConfigurationError(f"{self.path}: its {self.net.output_activation.name} "
                                     "output gives scores, not probabilities; use predict")
        return P

    def _rows(self, X) -> np.ndarray:
        """``X: (n_samples, n_features)`` of numbers, encoded as the network takes it.

        A pandas DataFrame is matched by its column names as ``npdeep predict`` matches a
        CSV's header (by name in any order, extra columns ignored, text columns one-hot
        encoded as in training; by position only when none of the names occur); an array
        is taken by position.
        """
        from ..data._frame_columns import encode_frame, is_frame

        encoder = self.encoder
        refuse_sparse_rows(X, self.path)
        given = _described(X)  # the caller's X, in its own shape (samples as rows)
        if is_frame(X):
            if encoder is not None:
                rows = encode_frame(X, encoder)
                _check_samples(rows, given)
                return rows
            X = X.to_numpy()  # the file names no columns: by position, as an array
        try:
            X = np.asarray(X)
        except ValueError:  # nested lists of different lengths
            raise DataError(f"X must be a 2-D array of numbers (n_samples, n_features), "
                            f"samples as rows, got {given}, whose rows differ in length") from None
        if X.ndim != 2 or X.dtype.kind not in "biuf":
            hint = ""
            if X.ndim == 1 and X.shape[0] == self.n_features and X.dtype.kind in "biuf":
                hint = "; for one sample pass X.reshape(1, -1)"
            raise DataError(f"X must be a 2-D array of numbers (n_samples, n_features), samples "
                            f"as rows, got {given}{hint}")
        _check_samples(X, given)
        if encoder is not None and encoder.has_categorical:
            text = [c.name for c in encoder.columns if c.is_categorical]
            raise ConfigurationError(
                f"{self.path}: trained with one-hot encoded text columns "
                f"({', '.join(map(repr, text[:10]))}{', ...' if len(text) > 10 else ''}), "
                "which an array of numbers cannot hold; pass a pandas DataFrame with the "
                f"columns {', '.join(map(repr, encoder.input_names[:20]))}"
                f"{', ...' if len(encoder.input_names) > 20 else ''} by name (the text columns "
                "as text), or predict from a CSV with `npdeep predict`")
        return X  # cast to float64 a block at a time by predict_rows

    def target_for(self, source: str, dialect: dict | None = None) -> str | None:
        """The target to read from ``source`` when none is named: the one trained on, when
        ``source`` is a CSV or an .npz holding it; else None (the loaders' default). Several
        targets: the list of their names (a CSV's). (``dialect``, the CSV's, names no column:
        the stored name is taken as it is.)"""
        from ..data import sniff

        if self.target_names:
            return list(self.target_names) if sniff(source) == "csv" else None
        stored = self.data.get("target")
        if not stored:
            return None
        kind = sniff(source)
        return stored if kind == "csv" or (kind == "npz" and _npz_holds(source, stored)) else None

    def output_columns(self) -> list[str]:
        """``predict``'s CSV columns: ``prediction`` then ``probability_<class>`` per class;
        several targets: ``prediction_<target>`` each (multi-label: then
        ``probability_<label>`` each), as for an estimator file."""
        if self.multilabel:
            labels = self.classes.tolist()
            return [*(f"prediction_{c}" for c in labels), *(f"probability_{c}" for c in labels)]
        if self.task == "classification":
            if self.net.output_activation.name not in ("softmax", "sigmoid"):
                return ["prediction"]
            return ["prediction", *(f"probability_{c}" for c in self.classes.tolist())]
        n_L = self.net.units[-1]
        names = self.target_names or range(n_L)
        return ["prediction"] if n_L == 1 else [f"prediction_{name}" for name in names]

    def history(self) -> dict:
        """The training history (``History.to_dict()``; empty when none was saved)."""
        return self.net.history.to_dict() if self.net.history else {}


def refuse_sparse_rows(X, path) -> None:
    """Refuse a scipy.sparse ``X``: a model file of ``npdeep train`` is applied to dense rows."""
    from .._sparse import is_sparse

    if is_sparse(X):
        raise DataError(
            f"X is a scipy.sparse {X.format} matrix of shape {X.shape}; a model file of "
            f"`npdeep train` ({path}) predicts from dense rows only: pass X.toarray(), or "
            "a block of its rows at a time (X[i:j].toarray()) when it is large")


def _described(X) -> str:
    """``X`` as the caller sees it: 'shape (m, n) and dtype D', or its type when not an array."""
    shape, dtype = getattr(X, "shape", None), getattr(X, "dtype", None)
    if isinstance(shape, tuple) and isinstance(dtype, np.dtype):
        return f"shape {shape} and dtype {dtype}"
    if isinstance(shape, tuple):  # a DataFrame: one dtype per column
        return f"a {type(X).__name__} of shape {shape}"
    if isinstance(X, (list, tuple)):
        try:
            arr = np.asarray(X)
        except ValueError:
            return f"a {type(X).__name__} of {len(X)} rows"
        return f"a {type(X).__name__} of shape {arr.shape} (dtype {arr.dtype})"
    name = type(X).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _check_samples(rows: np.ndarray, given: str) -> None:
    if rows.shape[0] == 0:
        raise DataError(f"X has no samples ({given})")


def _npz_holds(path: str, name: str) -> bool:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return name in archive.files
    except (OSError, ValueError):
        return False


def read_model_file(path: str | os.PathLike, *, max_elements: int | None = None,
                    network_only: bool = False) -> tuple[Path, dict, dict]:
    """Read a model file once: ``(path, header, arrays)``, whatever its kind.

    A missing path, a folder, a data or text file given instead get a message that says so.
    ``max_elements`` and ``network_only``: see :func:`npdeep.io.load_model_file`.
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
        header, arrays = serialization.load_model_file(
            p, max_elements=max_elements, network_only=network_only,
            check_arrays=serialization.check_declared_arrays)
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


def load_model(path: str | os.PathLike, estimators: bool = False, predicts: bool = True,
               max_elements: int | None = None):
    """Load a network model file; a data file given instead gets a message that says so.

    With ``estimators``, a scikit-learn estimator or pipeline file (``npdeep.save``) is
    loaded too, as an :class:`~npdeep.cli._estimators.EstimatorModel` with the same face.
    With ``predicts`` (the default), a checkpoint written while an estimator trained (its
    network only, see :func:`npdeep.serialization.estimator_network_note`) is refused.
    ``max_elements`` caps the array elements read (a checkpoint's training state is not).
    """
    p, header, arrays = read_model_file(path, max_elements=max_elements, network_only=True)
    if estimators and header.get("kind") in ("estimator", "pipeline"):
        from ._estimators import estimator_model

        return estimator_model(p, header, arrays)
    return model_from_file(p, header, arrays, predicts=predicts)


def model_from_file(p: Path, header: dict, arrays: dict, predicts: bool = True) -> Model:
    """Build the :class:`Model` of a network file read by :func:`read_model_file`.

    With ``predicts``, an estimator's checkpoint (its network only) is refused: its outputs
    are not the estimator's predictions.
    """
    from .. import serialization

    note = serialization.estimator_network_note(header)
    if predicts and note:
        raise ModelFileError(
            f"{p}: {note}, so it cannot predict as the estimator does; save the fitted "
            "estimator or pipeline with npdeep.save(model, path) and give that file (a "
            "checkpoint is for npdeep.checkpoint.resume and npdeep.load)"
        )

    kind = serialization.check_kind(header, str(p))
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
