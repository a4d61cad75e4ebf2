"""The deep L-layer network of the article, as one object.

>>> import numpy as np
>>> import npdeep
>>> net = npdeep.Network([3, 4, 4, 4, 4, 3, 1], activation="sigmoid", seed=0)
>>> X = np.random.default_rng(0).random((3, 2))       # (n_x, m): features x samples
>>> a_L, cache = net.forward(X)
>>> a_L.shape, cache["Z2"].shape, net.parameters["W2"].shape
((1, 2), (4, 2), (4, 4))
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Mapping, Sequence

import numpy as np

from . import activations as _activations
from . import initializers as _initializers
from . import inputs
from . import losses as _losses
from ._mmap import is_memmap
from ._validation import check_fraction, check_nonneg_float, check_seed, parse_dtype
from .batches import blocks
from .engine import Workspace, backward, forward
from .errors import ConfigurationError, DataError
from .parameters import Layout, Parameters

__all__ = ["Network"]

_DTYPES = {"float32": np.float32, "float64": np.float64}
_PREDICT_CHUNK = 8192  # samples per forward pass at prediction: bounds memory on large inputs
_SMALL_BATCH = 64  # up to this many samples, prediction takes the short path of few calls


def _check_units(units) -> list[int]:
    if isinstance(units, np.ndarray) and units.ndim == 1:
        units = units.tolist()
    if isinstance(units, (str, bytes)) or not isinstance(units, Sequence):
        raise ConfigurationError(
            f"units must be a list of layer widths [n_x, n_1, ..., n_L], got {units!r}"
        )
    units = list(units)
    if len(units) < 2:
        raise ConfigurationError(
            f"units must have at least 2 entries [n_x, ..., n_L] (input and output), got {units!r}"
        )
    for i, n in enumerate(units):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ConfigurationError(
                f"units[{i}] must be a positive integer width, got {n!r} in {units!r}"
            )
    return [int(n) for n in units]


#: The keys of :meth:`Network.get_config`, the constructor's arguments.
_CONFIG_KEYS = ("units", "activation", "output_activation", "loss", "init", "dtype", "l2",
                "dropout", "seed")


def _default_loss_for(output_name: str, n_L: int) -> str:
    return {
        "sigmoid": "binary_crossentropy",
        "softmax": "categorical_crossentropy",
    }.get(output_name, "mean_squared_error")


class Network:
    """A fully connected deep network described by ``units = [n_x, n_1, ..., n_L]``.

    Parameters
    ----------
    units : list of int
        Layer widths; ``units[0]`` is the input size ``n_x``, ``units[-1]`` the output size.
    activation : str, Activation or list
        Activation g[l] of the hidden layers 1..L-1: one name for all, or one per hidden layer
        (a list of L names also sets the output layer's). Names: sigmoid, tanh, relu,
        leaky_relu, identity.
    output_activation : str or Activation, optional
        g[L]. Default: the loss's canonical pair (sigmoid for binary cross-entropy, softmax for
        categorical cross-entropy, identity for mean squared error); with no loss either,
        sigmoid for one output unit and softmax for several.
    loss : str or Loss, optional
        ``binary_crossentropy``, ``categorical_crossentropy`` or ``mean_squared_error``.
        Default: the canonical pair of the output activation.
    init : str, optional
        ``article``, ``glorot``, ``he`` or ``normal``. Default: ``he`` for relu-like hidden
        layers, ``glorot`` otherwise.
    dtype : {"float64", "float32"}
        Precision of parameters and computation.
    seed : int, numpy.random.Generator or None
        Source of every random draw (initial weights, shuffling, dropout).
    l2 : float
        L2 penalty ``lambda``: adds ``(lambda / 2m) * sum_l ||W[l]||^2`` to the cost of ``m``
        samples (in :meth:`fit` with mini-batches, ``m`` is the batch's size).
    dropout : float, list of float or None
        Inverted-dropout drop probability of the hidden layers (one value, or one per hidden
        layer), in [0, 1). Active only in :meth:`fit`.

    Every method that takes ``X`` (n_x, m) also takes a scipy.sparse matrix or array of any
    format: it is used as CSC (a column is a sample) and never densified; only the first
    layer's products read it.

    Several threads may call :meth:`predict`, :meth:`predict_proba`, :meth:`cost`,
    :meth:`evaluate` and :meth:`forward` at once (each thread has its own buffers); :meth:`fit`
    and :meth:`gradients` change the network and are for one thread at a time. Networks fit
    in several threads at once train as they would one by one; a fit of a network, or with an
    optimizer, schedule or callback object, that a running fit uses is refused
    (ConfigurationError). Predicting while another thread fits reads the weights as they are
    at that moment, possibly halfway through an update.
    """

    def __init__(
        self,
        units,
        activation="relu",
        output_activation=None,
        loss=None,
        init: str | None = None,
        dtype="float64",
        seed=None,
        l2: float = 0.0,
        dropout=0.0,
    ):
        self.units = _check_units(units)
        L = self.L = len(self.units) - 1
        hidden, output_from_list = self._resolve_hidden(activation, L)
        if output_from_list is not None:
            if output_activation is not None and _activations.get(output_activation).name != \
                    output_from_list.name:
                raise ConfigurationError(
                    "activation lists an output activation "
                    f"{output_from_list.name!r} that differs from output_activation="
                    f"{output_activation!r}"
                )
            output_activation = output_from_list
        self.loss = _losses.get(loss) if loss is not None else None
        if output_activation is None:
            if self.loss is not None:
                output_activation = self.loss.canonical
                if not output_activation:  # a user's Loss with no canonical output
                    raise ConfigurationError(
                        f"loss {type(self.loss).__name__} names no canonical output "
                        "activation: pass output_activation= (for instance 'sigmoid' or "
                        "'identity')"
                    )
            else:
                output_activation = "sigmoid" if self.units[-1] == 1 else "softmax"
        g_L = _activations.get(output_activation)
        if self.loss is None:
            self.loss = _losses.get(_default_loss_for(g_L.name, self.units[-1]))
        if self.loss.compatible is not None and g_L.name not in self.loss.compatible:
            raise ConfigurationError(
                f"loss {self.loss.name!r} needs an output activation in "
                f"{list(self.loss.compatible)}, got {g_L.name!r}"
            )
        if g_L.name == "softmax" and self.units[-1] < 2:
            raise ConfigurationError(
                "softmax needs at least 2 output units (got n_L = 1); for a binary target use "
                "output_activation='sigmoid' (--output-activation sigmoid) with 1 unit"
            )
        self.activations = [None, *hidden, g_L]
        # a loss with no canonical pair never fuses (an unnamed custom activation has name "")
        self.fused = bool(self.loss.canonical) and g_L.name == self.loss.canonical

        # any spelling NumPy reads: "float32", "f4", np.float32, np.dtype("single")...
        dtype_name = getattr(parse_dtype(dtype), "name", None)
        if dtype_name not in _DTYPES:
            raise ConfigurationError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = np.dtype(_DTYPES[dtype_name])
        self.init = _initializers.check_name(
            init if init is not None else _initializers.default_for([g.name for g in hidden])
        )
        self.l2 = check_nonneg_float(l2, "l2")  # also an int too large for a float
        check_seed(seed, "seed", generator_ok=True)
        self.dropout = self._resolve_dropout(dropout, L)
        self.seed = seed if isinstance(seed, (int, np.integer)) or seed is None else None
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

        self.layout = Layout(self.units, self.dtype)
        self._parameters = Parameters(self.layout)
        self.layers = self.layout.layer_views(self._parameters.flat)
        self.grad_flat = self.layout.zeros()
        self.grad_layers = self.layout.layer_views(self.grad_flat)
        for key, value in _initializers.initialize(self.init, self.units, self.rng).items():
            self._parameters[key] = value
        self._local = threading.local()  # per-thread workspaces (see workspace)
        self.history = None

    # ----------------------------------------------------------------- construction helpers
    @staticmethod
    def _resolve_hidden(activation, L):
        if isinstance(activation, (list, tuple)):
            names = list(activation)
            if len(names) not in (L - 1, L):
                raise ConfigurationError(
                    f"activation list must have {L - 1} entries (one per hidden layer) or {L} "
                    f"(including the output layer), got {len(names)}"
                )
        else:
            names = [activation] * (L - 1)
        acts = [_activations.get(a) for a in names]
        output = acts.pop() if len(acts) == L else None
        for l, g in enumerate(acts, start=1):
            if g.output_only:
                raise ConfigurationError(
                    f"{g.name} can only be the output activation, not hidden layer {l}'s"
                )
        return acts, output

    @staticmethod
    def _resolve_dropout(dropout, L) -> list[float]:
        if dropout is None:
            dropout = 0.0
        if L == 1 and not isinstance(dropout, (list, tuple)) and check_fraction(
                dropout, "dropout") > 0:
            raise ConfigurationError(
                f"dropout={dropout!r} applies to hidden layers, and this network has none "
                "(units [n_x, n_L]); add hidden layers or leave dropout at 0"
            )
        rates = list(dropout) if isinstance(dropout, (list, tuple)) else [dropout] * (L - 1)
        if len(rates) != L - 1:
            raise ConfigurationError(
                f"dropout list must have {L - 1} entries (one per hidden layer), got {len(rates)}"
            )
        return [check_fraction(p, "dropout") for p in rates]

    # ----------------------------------------------------------------------- properties
    @property
    def parameters(self) -> Parameters:
        """The mapping ``{'W1': W[1] (n[1], n[0]), 'b1': b[1] (n[1], 1), ...}``."""
        return self._parameters

    @parameters.setter
    def parameters(self, values) -> None:
        """Copy ``{key: array}`` into the parameters (some keys or all); nothing on an error."""
        self._parameters.assign(values)

    @property
    def n_x(self) -> int:
        return self.units[0]

    @property
    def output_activation(self):
        return self.activations[-1]

    @property
    def keep(self) -> list[float] | None:
        """Keep probability per layer index (1 - dropout), or None without dropout."""
        if not any(self.dropout):
            return None
        return [1.0, *[1.0 - p for p in self.dropout], 1.0]

    # --------------------------------------------------------------------- input checks
    def check_X(self, X, name: str = "X", cast: bool = True) -> np.ndarray:
        """Validate ``X`` of shape (n_x, m) and return it in the network's dtype.

        With ``cast=False`` a valid array keeps its dtype (a memory-mapped data set is cast
        batch by batch, never copied whole). A scipy.sparse ``X`` comes back as CSC.
        See :func:`npdeep.inputs.check_X`.
        """
        return inputs.check_X(X, self.n_x, self.dtype, name, cast)

    def check_Y(self, Y, m: int, name: str = "Y") -> np.ndarray:
        """Validate targets ``Y`` for ``m`` samples and return them as (n_L, m).

        Integer class labels of shape (m,) are one-hot encoded for a softmax output.
        See :func:`npdeep.inputs.check_Y`.
        """
        return inputs.check_Y(Y, m, self.units[-1], self.output_activation.name, self.loss,
                              self.dtype, name)

    def sample_coef(self, m: int, sample_weight=None):
        """Return ``c``: ``1/m``, or ``w / sum(w)`` of shape (1, m) with sample weights."""
        return inputs.sample_coef(m, sample_weight, self.dtype)

    # ----------------------------------------------------------------------- the math
    def workspace(self, m: int, train: bool = True) -> Workspace:
        """Return this thread's cached Workspace for batches of ``m`` samples.

        Each thread has its own cache, so threads that call :meth:`predict`,
        :meth:`predict_proba`, :meth:`cost` or :meth:`evaluate` at once never write each
        other's buffers (:meth:`fit` and :meth:`gradients` change the network: not from two
        threads at once).
        """
        cache = getattr(self._local, "workspaces", None)
        if cache is None:
            cache = self._local.workspaces = {}
        key = (m, train)
        ws = cache.get(key)
        if ws is None:
            if len(cache) >= 4:
                cache.clear()
            ws = Workspace(self.units, self.activations, self.dtype, m,
                           keep=self.keep if train else None)
            cache[key] = ws
        return ws

    def release_inputs(self) -> None:
        """Drop this thread's workspaces' references to the last input ``a[0]``.

        A workspace points at the batch it last propagated; after :meth:`predict`,
        :meth:`cost`, :meth:`evaluate`, :meth:`gradients` or :meth:`fit` that is the user's
        ``X`` (or a copy of it), which the network would otherwise keep alive.
        """
        for ws in (getattr(self._local, "workspaces", None) or {}).values():
            ws.A[0] = None

    def l2_cost(self, m: int) -> float:
        """Return the L2 term ``(lambda / 2m) * sum_l ||W[l]||^2`` (0 without L2)."""
        if not self.l2:
            return 0.0
        return self.l2 / (2.0 * m) * float(sum(np.vdot(W, W) for W, _ in self.layers))

    def add_l2_gradient(self, m: int) -> None:
        """Add ``(lambda / m) * W[l]`` to every dW[l] in the gradient buffer."""
        if self.l2:
            for (W, _), (dW, _) in zip(self.layers, self.grad_layers, strict=True):
                dW += (self.l2 / m) * W

    def forward(self, X) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Propagate ``X`` forward and return ``a[L]`` and the cache of every step.

        Parameters
        ----------
        X : (n_x, m) array or scipy.sparse matrix

        Returns
        -------
        a_L : (n[L], m) array
        cache : dict
            ``'a0'`` (X, checked: CSC when sparse), and ``'Z1', 'a1', ..., 'ZL', 'aL'``, each
            (n[l], m), the article's names.
        """
        X = self.check_X(X)
        cache: dict[str, np.ndarray] = {"a0": X}
        A = X
        for l, (W, b) in enumerate(self.layers, start=1):
            Z = W @ A + b
            A = self.activations[l](Z)
            cache[f"Z{l}"], cache[f"a{l}"] = Z, A
        return A, cache

    def _output(self, X: np.ndarray, logits: bool = False) -> np.ndarray:
        """Return a new (n[L], m) array a[L] (or Z[L] with ``logits``) for a checked X.

        Computed in chunks of samples (:func:`npdeep.batches.blocks`): memory holds one
        chunk's activations.
        """
        m, L = X.shape[1], self.L
        out = None
        for start, A0 in blocks(X, self.dtype, _PREDICT_CHUNK):
            k = A0.shape[1]
            ws = self.workspace(k, train=False)
            A_L = forward(self.layers, self.activations, A0, ws)
            result = ws.Z[L] if logits else A_L
            if k == m:  # one block: a copy of the workspace's array
                out = result.copy()
                continue  # (the generator goes on to release a memmap's pages)
            if out is None:
                out = np.empty((self.units[-1], m), dtype=self.dtype)
            out[:, start : start + k] = result
        self.release_inputs()
        return out

    def _data_cost(self, X: np.ndarray, Y: np.ndarray, coef, metric=None) -> float:
        """Return ``sum_i c_i loss_i`` (no L2 term) for checked X (n_x, m), Y (n_L, m).

        ``coef``: ``1/m`` or (1, m) normalised sample weights. Computed in chunks of samples
        (:func:`npdeep.batches.blocks`), each adding its samples' terms; ``metric`` (a
        :class:`~npdeep.splits.Metric`), if given, counts each chunk's outputs.
        """
        total = 0.0
        weighted = np.ndim(coef) != 0
        for start, A0 in blocks(X, self.dtype, _PREDICT_CHUNK):
            k = A0.shape[1]
            ws = self.workspace(k, train=False)
            A_L = forward(self.layers, self.activations, A0, ws)
            Yb = Y[:, start : start + k]
            c = coef[:, start : start + k] if weighted else coef
            total += self.loss.cost(A_L, Yb, c, ws.Z[self.L] if self.fused else None,
                                    ws.loss_work)
            if metric is not None:
                metric.add(A_L, Yb, ws)
        self.release_inputs()
        return float(total)

    def _predicted(self, X) -> np.ndarray:
        """Return a[L] (n[L], m) for an unchecked ``X``, refusing non-finite outputs."""
        if (type(X) is np.ndarray and X.dtype == self.dtype and X.ndim == 2
                and X.shape[0] == self.units[0] and 0 < X.shape[1] <= _SMALL_BATCH):
            # a small batch in the network's dtype (a request of one sample): bound by the
            # fixed cost of each call, so check_X's checks and _output's one pass, without
            # their generic machinery (a non-finite X takes the generic path to its error)
            if np.logical_and.reduce(np.isfinite(X), axis=None):
                ws = self.workspace(X.shape[1], train=False)
                A_L = forward(self.layers, self.activations, X, ws).copy()
                ws.A[0] = None  # do not keep the caller's X alive
                return self.check_output(A_L)
        return self.check_output(self._output(self.check_X(X, cast=not is_memmap(X))))

    def check_output(self, A: np.ndarray, what: str = "a[L]") -> np.ndarray:
        """Return ``A`` (n[L], m) if finite; else raise a DataError naming the first sample.

        Finite inputs can still overflow ``W[l]·a[l-1]`` (values near the dtype's limit):
        the output is then NaN or inf, and its argmax or threshold a label chosen by
        nothing. Prediction refuses it rather than answer.
        """
        if math.isfinite(np.add.reduce(A, axis=None)):  # NaN and inf propagate through it
            return A
        finite = np.isfinite(A).all(axis=0)
        if finite.all():  # finite values whose sum overflowed
            return A
        bad = np.flatnonzero(~finite)
        theta = self.parameters.flat
        if not np.isfinite(theta).all():
            cause = "the parameters are not finite"
        else:  # too large inputs, or weights thrown far by a diverging training run
            cause = (f"W[l]·a[l-1] overflows {self.dtype.name} (|z| > "
                     f"{np.finfo(self.dtype).max:.1e}), with parameters up to "
                     f"{float(np.abs(theta).max()):.1e} in absolute value: rescale X, for "
                     "instance standardize it, or, if training diverged, retrain with a "
                     "smaller learning rate")
        raise DataError(
            f"the network's output {what} is not finite (NaN or inf) for {bad.size} of the "
            f"{A.shape[1]} samples (the first: sample {int(bad[0])}): {cause}"
        )

    def cost(self, X, Y, sample_weight=None) -> float:
        """Return the cost J(W, b) on ``X`` (n_x, m) and ``Y`` (n_L, m), L2 term included.

        A large or memory-mapped X is read in chunks of samples (never copied whole).
        """
        X = self.check_X(X, cast=not is_memmap(X))
        m = X.shape[1]
        Y = self.check_Y(Y, m)
        coef = self.sample_coef(m, sample_weight)
        return self._data_cost(X, Y, coef) + self.l2_cost(m)

    def batch_cost(self, ws: Workspace, A_L: np.ndarray, Y: np.ndarray, coef) -> float:
        """Return J of a batch just propagated into ``ws`` (L2 term included, no allocation).

        ``A_L`` and ``Y``: (n[L], m); ``coef``: ``1/m`` or (1, m) normalised sample weights.
        """
        m = A_L.shape[1]
        Z_L = ws.Z[self.L] if self.fused else None
        return self.loss.cost(A_L, Y, coef, Z_L, ws.loss_work) + self.l2_cost(m)

    def gradients(self, X, Y, sample_weight=None) -> dict[str, np.ndarray]:
        """Return the gradients by backpropagation (no dropout), L2 term included.

        Returns
        -------
        dict with keys ``'dW1', 'db1', ..., 'dWL', 'dbL'``: dW[l] (n[l], n[l-1]), db[l] (n[l], 1).
        """
        X = self.check_X(X)
        m = X.shape[1]
        Y = self.check_Y(Y, m)
        coef = self.sample_coef(m, sample_weight)
        ws = self.workspace(m, train=False)
        forward(self.layers, self.activations, X, ws)
        backward(self.layers, self.activations, self.loss, ws, Y, coef, self.grad_layers,
                 self.fused)
        self.add_l2_gradient(m)
        self.release_inputs()
        views = self.layout.views(self.grad_flat)
        return {f"d{k}": v.copy() for k, v in views.items()}

    # ------------------------------------------------------------------ user-level API
    def fit(self, X, Y, epochs: int = 100, learning_rate: float = 0.01, batch_size=None, **kwargs):
        """Train by gradient descent; see :func:`npdeep.training.fit` for every option.

        With ``batch_size=None`` this is the article's full-batch gradient descent; otherwise
        shuffled mini-batches. Returns a History whose ``.cost`` holds one float per epoch.
        """
        from ._fit_guard import check_option_names
        from .training import fit

        check_option_names(kwargs)
        return fit(self, X, Y, epochs=epochs, learning_rate=learning_rate,
                   batch_size=batch_size, **kwargs)

    def predict_proba(self, X) -> np.ndarray:
        """Return the output probabilities ``a[L]`` (n[L], m) of a sigmoid or softmax output.

        Raises DataError when ``a[L]`` is not finite (inputs so large that ``W[l]·a[l-1]``
        overflows), as :meth:`predict` does.
        """
        if self.output_activation.name not in ("sigmoid", "softmax"):
            raise ConfigurationError(
                f"predict_proba needs a sigmoid or softmax output, this network's is "
                f"{self.output_activation.name!r}; use predict"
            )
        return self._predicted(X)

    def predict(self, X) -> np.ndarray:
        """Return predictions for ``X`` (n_x, m).

        softmax output: class indices, shape (m,). One sigmoid unit: 0/1 labels, shape (m,).
        Several sigmoid units (multi-label): 0/1 array (n[L], m). Otherwise (regression): the
        values a[L], (n[L], m).

        A sample whose ``a[L]`` is NaN or inf (finite inputs so large that ``W[l]·a[l-1]``
        overflows the dtype) has no prediction: a DataError names it.
        """
        A = self._predicted(X)  # a memmap: cast by chunks
        name = self.output_activation.name
        if name == "softmax":
            return A.argmax(axis=0)
        if name == "sigmoid":
            labels = (A > 0.5).astype(np.int64)
            return labels[0] if self.units[-1] == 1 else labels
        return A

    def evaluate(self, X, Y) -> dict[str, float]:
        """Return the cost and the metric on ``X`` (n_x, m) and ``Y`` (n_L, m, or labels (m,)).

        ``{'cost': J, 'accuracy': ...}`` for sigmoid/softmax outputs, ``{'cost': J, 'r2': ...}``
        otherwise: the numbers :meth:`fit` logs as ``val_cost`` and ``val_accuracy``/``val_r2``
        for validation data. ``J`` equals :meth:`cost` (L2 term included); accuracy counts
        argmax hits for softmax and 0/1 hits per output unit for sigmoid. A large or
        memory-mapped X is read in chunks of samples, as :meth:`predict` reads it.
        """
        from .splits import metric_name
        from .training import evaluate

        X = self.check_X(X, cast=not is_memmap(X))  # a memmap: cast by chunks
        cost, metric = evaluate(self, X, self.check_Y(Y, X.shape[1]))
        return {"cost": cost, metric_name(self): metric}

    # --------------------------------------------------------------------- description
    def get_config(self) -> dict:
        """Return the JSON-serialisable architecture (enough to rebuild the network)."""
        return {
            "units": list(self.units),
            "activation": [g.get_config() for g in self.activations[1:-1]],
            "output_activation": self.output_activation.get_config(),
            "loss": self.loss.name,
            "init": self.init,
            "dtype": self.dtype.name,
            "l2": self.l2,
            "dropout": list(self.dropout),
            "seed": int(self.seed) if self.seed is not None else None,
        }

    @classmethod
    def from_config(cls, config: dict) -> Network:
        """Build a network from :meth:`get_config`'s dict (parameters freshly initialized).

        ``units`` is required; every other key is optional, with the constructor's default.
        """
        if not isinstance(config, Mapping):
            raise ConfigurationError(f"config must be a dict such as get_config() returns, got "
                                     f"{config!r:.100}")
        unknown = sorted(str(k) for k in set(config) - set(_CONFIG_KEYS))
        if unknown or "units" not in config:
            problem = f"unknown keys {unknown}" if unknown else "no 'units'"
            raise ConfigurationError(f"config has {problem}; its keys are "
                                     f"{', '.join(_CONFIG_KEYS)} (units required)")
        config = dict(config)
        acts = config.pop("activation", None) or "relu"
        return cls(activation=acts, **config)

    def save(self, path, **extra_header) -> None:
        """Save to a model file (arrays plus a JSON header; see :mod:`npdeep.io`)."""
        from .serialization import save_network

        save_network(self, path, **extra_header)

    @classmethod
    def load(cls, path) -> Network:
        """Load a network saved by :meth:`save`."""
        from .serialization import load_network

        return load_network(path)

    def summary(self) -> str:
        """Return a table of the layers: W[l] and b[l] shapes, activation, parameter counts."""
        from .summary import summary

        return summary(self)

    # ----------------------------------------------------------- pickling and copying
    def __getstate__(self) -> dict:
        """Return a state in which the parameter views are not duplicated.

        Pickling (for joblib and Dask workers) and ``copy.deepcopy`` would otherwise turn each
        view into an independent copy, detaching ``W[l]`` from the flat buffer that the
        optimizers update. Model *files* never use pickle (see :mod:`npdeep.io`).
        """
        state = self.__dict__.copy()
        for key in ("_parameters", "layers", "grad_layers", "_local", "grad_flat"):
            state.pop(key)  # grad_flat: scratch of every step, rebuilt as zeros
        state["_flat"] = self._parameters.flat
        return state

    def __setstate__(self, state: dict) -> None:
        flat = state.pop("_flat")
        self.__dict__.update(state)
        self._parameters = Parameters(self.layout, flat)
        self.layers = self.layout.layer_views(flat)
        self.grad_flat = self.layout.zeros()
        self.grad_layers = self.layout.layer_views(self.grad_flat)
        self._local = threading.local()

    def __repr__(self) -> str:
        """Valid Python for the architecture (weights aside): ``Network(units=[...], ...)``."""
        def spec(g):
            config = g.get_config()
            return config["name"] if len(config) == 1 else config

        hidden = [spec(g) for g in self.activations[1:-1]]
        activation = hidden[0] if hidden and all(h == hidden[0] for h in hidden) else hidden
        extra = ""
        if any(self.dropout):
            extra += f", dropout={list(self.dropout)!r}"
        if self.l2:
            extra += f", l2={self.l2!r}"
        if self.seed is not None:
            extra += f", seed={int(self.seed)!r}"
        return (
            f"Network(units={self.units}, activation={activation!r}, "
            f"output_activation={spec(self.output_activation)!r}, loss={self.loss.name!r}, "
            f"init={self.init!r}, dtype={self.dtype.name!r}{extra})"
        )
