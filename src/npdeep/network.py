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
import threading

import numpy as np

from . import _network_config, _prediction, inputs
from . import initializers as _initializers
from . import losses as _losses
from ._fp_errors import quieted
from ._network_args import check_units as _check_units
from ._network_args import resolve_dropout, resolve_dtype, resolve_hidden, resolve_output
from ._validation import check_nonneg_float, check_seed
from .engine import Workspace, backward, forward
from .errors import ConfigurationError
from .parameters import Layout, Parameters

__all__ = ["Network"]

# names this module held before its helpers moved out, still importable from here
from ._network_args import DTYPES as _DTYPES  # noqa: E402, F401
from ._network_args import default_loss_for as _default_loss_for  # noqa: E402, F401
from ._network_config import CONFIG_KEYS as _CONFIG_KEYS  # noqa: E402, F401

_PREDICT_CHUNK = 8192  # samples per forward pass at prediction: bounds memory on large inputs
_SMALL_BATCH = 64  # up to this many samples, prediction takes the short path of few calls
_KEPT_COPIES_BYTES = 64 * 2**20  # two weight copies kept between fits: up to 8M float32 weights


class Network:
    """A fully connected deep network described by ``units = [n_x, n_1, ..., n_L]``.

    Parameters
    ----------
    units : list of int
        Layer widths; ``units[0]`` is the input size ``n_x``, ``units[-1]`` the output size.
    activation : str, Activation or list
        Activation g[l] of the hidden layers 1..L-1: one name for all, or one per hidden layer
        (a list of L names also sets the output layer's). Names: sigmoid, tanh, relu,
        leaky_relu, elu, selu, softplus, gelu, silu (swish), identity.
    output_activation : str or Activation, optional
        g[L]. Default: the loss's canonical pair (sigmoid for binary cross-entropy, softmax for
        categorical cross-entropy, identity for mean squared error); with no loss either,
        sigmoid for one output unit and softmax for several.
    loss : str or Loss, optional
        ``binary_crossentropy``, ``categorical_crossentropy`` or ``mean_squared_error``.
        Default: the canonical pair of the output activation.
    init : str, optional
        ``article``, ``glorot``, ``he``, ``lecun`` or ``normal``. Default: ``he`` for relu-like
        hidden layers (relu, leaky_relu, elu, softplus, gelu, silu), ``lecun`` for selu,
        ``glorot`` otherwise.
    dtype : {"float64", "float32"}
        Precision of parameters and computation.
    seed : int, numpy.random.Generator or None
        Source of the initial weights and of :meth:`fit`'s shuffling and dropout (its
        ``validation_fraction`` split draws from ``validation_seed``).
    l2 : float
        L2 penalty ``lambda``: adds ``(lambda / 2m) * sum_l ||W[l]||^2`` to the cost of ``m``
        samples (in :meth:`fit` with mini-batches, ``m`` is the batch's size).
    dropout : float, list of float or None
        Drop probability of the hidden layers (one value, or one per hidden layer), in [0, 1).
        Active only in :meth:`fit`: inverted dropout, except in selu layers, which get alpha
        dropout (it keeps their zero mean and unit variance; see :class:`~npdeep.activations.SELU`).

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
        hidden, output_from_list = resolve_hidden(activation, L)
        g_L, self.loss = resolve_output(output_from_list, output_activation, loss, self.units[-1])
        self.activations = [None, *hidden, g_L]
        self.fused = _losses.fuses(g_L, self.loss)
        self.dtype = resolve_dtype(dtype)
        self.init = _initializers.check_name(
            init if init is not None else _initializers.default_for([g.name for g in hidden])
        )
        self.l2 = check_nonneg_float(l2, "l2")  # also an int too large for a float
        check_seed(seed, "seed", generator_ok=True)
        self.dropout = resolve_dropout(dropout, L)
        self.seed = seed if isinstance(seed, (int, np.integer)) or seed is None else None
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

        self.layout = Layout(self.units, self.dtype)
        self._parameters = Parameters(self.layout)
        self.layers = self.layout.layer_views(self._parameters.flat)
        self.grad_flat = self.layout.zeros()
        self.grad_layers = self.layout.layer_views(self.grad_flat)
        _initializers.fill(self.init, self.layers, self.rng)
        self._local = threading.local()  # per-thread workspaces (see workspace)
        self.history = None

    # the constructor's checks, kept reachable as they were (see npdeep._network_args)
    _resolve_hidden = staticmethod(resolve_hidden)
    _resolve_dropout = staticmethod(resolve_dropout)

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

    def sample_coef(self, m: int, sample_weight=None, name: str = "sample_weight"):
        """Return ``c``: ``1/m``, or ``w / sum(w)`` of shape (1, m) with sample weights."""
        return inputs.sample_coef(m, sample_weight, self.dtype, name)

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

    def weight_copies(self, n: int) -> np.ndarray:
        """Return a (n, size) scratch array for copies of the flat weights.

        For :class:`~npdeep.callbacks.TerminateOnNaN`'s last finite weights. Up to
        ``_KEPT_COPIES_BYTES`` in all, this thread's array is kept between fits, as the
        workspaces are: allocated afresh at every fit, memory the OS hands out is paid in page
        faults (8-10% of a one-epoch fit of 784-4096-10, 3.3 million parameters). Larger ones
        are allocated per fit, so that a trained network does not hold them at rest.
        """
        shape = (n, self.layout.size)
        if n * self.layout.size * self.dtype.itemsize > _KEPT_COPIES_BYTES:
            return np.empty(shape, self.dtype)
        copies = getattr(self._local, "weight_copies", None)
        if copies is None or copies.shape != shape or copies.dtype != self.dtype:
            copies = self._local.weight_copies = np.empty(shape, self.dtype)
        return copies

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
        return _prediction.outputs(self, X, _PREDICT_CHUNK, logits)

    def _data_cost(self, X: np.ndarray, Y: np.ndarray, coef, metric=None) -> float:
        """Return ``sum_i c_i loss_i`` (no L2 term) for checked X (n_x, m), Y (n_L, m).

        ``coef``: ``1/m`` or (1, m) normalised sample weights. Computed in chunks of samples
        (:func:`npdeep.batches.blocks`), each adding its samples' terms; ``metric`` (a
        :class:`~npdeep.splits.Metric`), if given, counts each chunk's outputs.
        """
        return _prediction.data_cost(self, X, Y, coef, _PREDICT_CHUNK, metric)

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
        # uncast: _output casts one chunk at a time (a float64 or uint8 X is never copied whole)
        X = self.check_X(X, cast=False)
        with np.errstate(**quieted(np.geterr())):  # once per call (not on the short path):
            return self.check_output(self._output(X))  # an overflow: the DataError alone

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
        raise _prediction.non_finite_error(A, finite, self.parameters.flat, self.dtype, what,
                                           self.output_activation.name)

    def cost(self, X, Y, sample_weight=None) -> float:
        """Return the cost J(W, b) on ``X`` (n_x, m) and ``Y`` (n_L, m), L2 term included.

        A large or memory-mapped X is read in chunks of samples (never copied whole), each
        cast into the network's dtype as it is read. Raises DataError when ``a[L]`` is not
        finite (``W[l]·a[l-1]`` overflows), as :meth:`predict` does.
        """
        X = self.check_X(X, cast=False)
        m = X.shape[1]
        Y = self.check_Y(Y, m)
        coef = self.sample_coef(m, sample_weight)
        J = self._data_cost(X, Y, coef) + self.l2_cost(m)
        if not math.isfinite(J):
            self._refuse_non_finite_outputs(X)
        return J

    def _refuse_non_finite_outputs(self, X) -> None:
        """Raise predict's DataError if a[L] of checked ``X`` (n_x, m) is not finite (a cost
        or metric that came out NaN or inf: its outputs say whether they caused it)."""
        with np.errstate(**quieted(np.geterr())):
            self.check_output(self._output(X))

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
        try:
            with np.errstate(**quieted(np.geterr())):  # an overflow: check_output says why
                self.check_output(forward(self.layers, self.activations, X, ws))  # as predict
            backward(self.layers, self.activations, self.loss, ws, Y, coef, self.grad_layers,
                     self.fused)
        finally:
            self.release_inputs()
        self.add_l2_gradient(m)
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
        A = self._predicted(X)  # cast by chunks
        name = self.output_activation.name
        if name == "softmax":
            return A.argmax(axis=0)
        if name == "sigmoid":
            labels = (A > 0.5).astype(np.int64)
            return labels[0] if self.units[-1] == 1 else labels
        return A

    def evaluate(self, X, Y, sample_weight=None) -> dict[str, float]:
        """Return the cost and the metric on ``X`` (n_x, m) and ``Y`` (n_L, m, or labels (m,)).

        ``{'cost': J, 'accuracy': ...}`` for sigmoid/softmax outputs, ``{'cost': J, 'r2': ...}``
        otherwise: the numbers :meth:`fit` logs as ``val_cost`` and ``val_accuracy``/``val_r2``
        for validation data. ``J`` equals :meth:`cost` (L2 term included); accuracy counts
        argmax hits for softmax and 0/1 hits per output unit for sigmoid. With
        ``sample_weight`` (m,), the cost, the accuracy and r2 weigh each sample by its weight
        (scikit-learn's ``accuracy_score`` and ``r2_score`` with ``sample_weight``; :meth:`fit`
        weighs ``val_cost`` by the validation weights, and counts samples in its metrics, as
        Keras's ``metrics`` do). A large or memory-mapped X is read in chunks of samples, as
        :meth:`predict` reads it.
        """
        from .splits import metric_name
        from .training import evaluate

        X = self.check_X(X, cast=False)  # cast by chunks, as predict does
        m = X.shape[1]
        Y = self.check_Y(Y, m)
        cost, metric = evaluate(self, X, Y, inputs.sample_weights(m, sample_weight))
        if not math.isfinite(cost):  # an accuracy would count NaN outputs as wrong labels
            self._refuse_non_finite_outputs(X)
        return {"cost": cost, metric_name(self): metric}

    # --------------------------------------------------------------------- description
    def get_config(self) -> dict:
        """Return the JSON-serialisable architecture (enough to rebuild the network)."""
        return _network_config.get_config(self)

    @classmethod
    def from_config(cls, config: dict) -> Network:
        """Build a network from :meth:`get_config`'s dict (parameters freshly initialized).

        ``units`` is required; every other key is optional, with the constructor's default.
        """
        return _network_config.from_config(cls, config)

    def save(self, path, *, compress: bool = False, **extra_header) -> None:
        """Save to a model file (arrays plus a JSON header; see :mod:`npdeep.io`).

        ``compress=True`` deflates the arrays; other keywords are JSON metadata added to the
        header (option-like names such as ``compression`` are refused, see
        :func:`npdeep.save`)."""
        from .serialization import save_network

        save_network(self, path, compress=compress, **extra_header)

    @classmethod
    def load(cls, path, *, max_elements: int | None = None) -> Network:
        """Load a network saved by :meth:`save` (or a checkpoint's network); ``max_elements``
        caps the total number of array elements read (default 2**28)."""
        from .serialization import load_network

        return load_network(path, max_elements=max_elements)

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
        return _network_config.get_state(self)

    def __setstate__(self, state: dict) -> None:
        _network_config.set_state(self, state)

    def __repr__(self) -> str:
        """Valid Python for the architecture (weights aside): ``Network(units=[...], ...)``."""
        return _network_config.network_repr(self)
