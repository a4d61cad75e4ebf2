"""What DeepClassifier and DeepRegressor share: the network and the training loop.

Their parameters (nested ``optimizer__<option>`` access, the checks) are in :mod:`._params`,
the training run (validation split, the call to :func:`npdeep.training.fit`) in
:mod:`._fitting`, the error naming a DataFrame's text columns in :mod:`._text_columns`.

At this boundary samples are rows: ``X`` is (m, n_x) as scikit-learn expects. Inside, the
network keeps the article's orientation, so ``X`` is transposed to (n_x, m) before it reaches
:class:`~npdeep.network.Network`, and targets to (n_L, m). A scipy.sparse ``X`` (any format)
is converted to CSR (m, n_x), whose transpose is the CSC (n_x, m) the network trains on
without densifying it.

``coefs_[l-1]`` is ``W[l].T`` of shape (n[l-1], n[l]) and ``intercepts_[l-1]`` is ``b[l]`` as
(n[l],): scikit-learn's MLP convention. They are live views of the network's parameters;
``network_`` holds the same numbers in the article's orientation (W[l]: (n[l], n[l-1])).
Assigning a list to either copies it into those parameters in place (see :mod:`._learned`).
"""

from __future__ import annotations

import copy
import importlib
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import activations as _activations
from .. import optimizers as _optimizers
from .. import schedules as _schedules
from .._mmap import is_memmap
from .._network_args import resolve_hidden
from .._registry import modules_naming, named_class, registered_modules
from .._sparse import is_sparse
from .._validation import overflow_error, parse_dtype
from ..errors import ConfigurationError, DataError
from ..initializers import estimator_default
from ..network import Network
from ._fitting import FittingMixin, restores_on_error
from ._inputs import plain, plain_targets, refuse_non_numbers, warn_if_unscaled
from ._learned import assign_layers
from ._params import EstimatorParams
from ._text_columns import _text_columns_named, refuse_frame_columns

# the training run and the DataFrame column errors moved out to _fitting and _text_columns;
# every name this module held before stays importable from here (restores_on_error too)

__all__ = ["BaseDeepEstimator", "restores_on_error"]

#: npdeep activation names that scikit-learn's MLP spells differently (``out_activation_``).
_SKLEARN_ACTIVATION_NAMES = {"sigmoid": "logistic"}


def _spec(value):
    """A name or config dict as given, an Optimizer/Schedule object as its config (a copy).

    An object of a class not registered under its name (npdeep.register) cannot be rebuilt
    from its config: it is deep-copied instead. Anything else (None, a class, a number) is
    returned as is, for the registry's ``get`` to refuse with the valid names.
    """
    if isinstance(value, (str, dict, type)) or not hasattr(value, "get_config"):
        return value
    if named_class(value) is not type(value):
        return copy.deepcopy(value)
    return value.get_config()


def _overflows(value) -> bool:
    """Whether ``value`` holds a number beyond float64 (asked after an OverflowError)."""
    if is_sparse(value) or getattr(value, "dtype", None) is not None and \
            getattr(value.dtype, "kind", "O") in "biufc":
        return False
    try:
        np.asarray(value, dtype=np.float64)
    except OverflowError:
        return True
    except (TypeError, ValueError):
        return False
    return False


class BaseDeepEstimator(FittingMixin, EstimatorParams, BaseEstimator):
    """Common base of the estimators; see DeepClassifier for the parameters."""

    _output_activation: str = "identity"
    #: Fewest held-out samples early_stopping's validation score is defined on.
    _min_validation_samples: int = 1

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        optimizer="adam",
        learning_rate=0.001,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        l2=0.0,
        dropout=0.0,
        init=None,
        dtype="float64",
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        schedule=None,
        clip_norm=None,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.l2 = l2
        self.dropout = dropout
        self.init = init
        self.dtype = dtype
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.schedule = schedule
        self.clip_norm = clip_norm
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def __getstate__(self) -> dict:
        """scikit-learn's state, plus the modules of the registered classes: a process that
        unpickles this estimator (a grid search's worker) imports them, so
        ``activation="softsign"`` is known there as here.

        ``_registered_modules`` are those of the classes the parameters name (their import
        must succeed); ``_other_registered_modules`` those of every other class registered
        here, for names a grid search sets only in the worker (imported where importable).
        """
        state = super().__getstate__()
        named = modules_naming(self.get_params(deep=False).values())
        others = [m for m in registered_modules() if m not in named]
        if named:
            state = {**state, "_registered_modules": named}
        if others:
            state = {**state, "_other_registered_modules": others}
        return state

    def __setstate__(self, state: dict) -> None:
        for module in state.pop("_registered_modules", ()):
            importlib.import_module(module)  # registers its classes (npdeep.register)
        for module in state.pop("_other_registered_modules", ()):
            try:  # a class no parameter names yet: a worker that cannot import it goes on,
                importlib.import_module(module)  # and naming it there says to register it
            except ImportError:
                pass
        super().__setstate__(state)

    # ------------------------------------------------------------------ learned attributes
    @property
    def coefs_(self) -> list[np.ndarray]:
        """``[W[1].T, ..., W[L].T]``: layer l's weights as (n[l-1], n[l]), scikit-learn's way."""
        check_is_fitted(self, "network_")
        return [W.T for W, _ in self.network_.layers]

    @coefs_.setter
    def coefs_(self, values) -> None:
        """Copy ``values`` (L arrays (n[l-1], n[l])) into W[1..L] in place, as their ``.T``."""
        check_is_fitted(self, "network_")
        assign_layers(self.network_, values, "coefs_")

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """``[b[1], ..., b[L]]`` each flattened to (n[l],), scikit-learn's way."""
        check_is_fitted(self, "network_")
        return [b[:, 0] for _, b in self.network_.layers]

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        """Copy ``values`` (L arrays (n[l],)) into b[1..L] in place."""
        check_is_fitted(self, "network_")
        assign_layers(self.network_, values, "intercepts_")

    @property
    def loss_(self) -> float | None:
        """The last epoch's training cost, ``loss_curve_[-1]``, as scikit-learn's MLP ``loss_``."""
        check_is_fitted(self, "network_")
        return self.loss_curve_[-1] if self.loss_curve_ else None

    @property
    def n_layers_(self) -> int:
        """``L + 1``: the input layer and the L layers with weights (scikit-learn's count)."""
        check_is_fitted(self, "network_")
        return self.network_.L + 1

    @property
    def out_activation_(self) -> str:
        """Name of the output activation g[L] in scikit-learn's MLP words.

        ``"logistic"`` for the sigmoid (binary and multi-label classifiers), ``"softmax"``,
        ``"identity"``, ``"tanh"``, ``"relu"``: the names ``MLPClassifier.out_activation_``
        and ``MLPRegressor.out_activation_`` use, so ported code compares equal. An activation
        scikit-learn lacks keeps npdeep's name (``"leaky_relu"``); ``network_`` keeps npdeep's
        names throughout (``network_.output_activation.name == "sigmoid"``).
        """
        check_is_fitted(self, "network_")
        name = self.network_.output_activation.name
        return _SKLEARN_ACTIVATION_NAMES.get(name, name)

    # ------------------------------------------------------------------------- network
    def _batch_size(self, m: int):
        if self.batch_size == "auto":
            return min(200, m)
        return self.batch_size

    def _seed(self):
        """Return the network's seed: the int random_state, or one drawn from a RandomState
        or Generator."""
        if self.random_state is None or isinstance(self.random_state, numbers.Integral):
            return self.random_state
        if isinstance(self.random_state, np.random.Generator):
            return int(self.random_state.integers(2**31 - 1))
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _init_for(self, units: list[int]) -> str:
        """Return ``init``, or for None :func:`npdeep.initializers.estimator_default` (glorot,
        as scikit-learn's MLP; lecun for selu) for the hidden layers of ``units``."""
        if self.init is not None:
            return self.init
        hidden, _ = resolve_hidden(self.activation, len(units) - 1)
        return estimator_default([g.name for g in hidden])

    def _new_network(self, n_x: int, n_L: int, seed) -> Network:
        units = self._units(n_x, n_L)
        return Network(
            units,
            activation=self.activation,
            output_activation=self._output_activation_for(n_L),
            loss=self._network_loss(),
            init=self._init_for(units),
            dtype=self.dtype,
            seed=seed,
            l2=self.l2,
            dropout=self.dropout,
        )

    def _output_activation_for(self, n_L: int) -> str:
        return self._output_activation

    def _network_loss(self):
        """The network's loss: None, the output activation's canonical one."""
        return None

    # ----------------------------------------------------------------------- training
    def _float(self):
        """Return np.float32 or np.float64 for ``dtype`` given as a name, type or np.dtype."""
        # not a dtype (None from parse_dtype): float64 here, refused by Network, which names it
        return np.float32 if parse_dtype(self.dtype) == np.float32 else np.float64

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X: see _validate_X
        return tags

    def _validate_X(self, X, reset: bool):
        """Check ``X`` (m, n_x); set or compare n_features_in_ and feature_names_in_.

        A scipy.sparse ``X`` of any format comes back as CSR (m, n_x): ``X.T`` is then the
        CSC (n_x, m) the network takes. A memory-mapped ``X`` keeps its dtype (see
        :meth:`_X_checks`), and so does any dense numeric ``X`` for prediction
        (``reset=False``): the network casts it one chunk of samples at a time, never whole.
        """
        X = refuse_non_numbers(plain(X))
        refuse_frame_columns(X)
        checks = self._X_checks(X)
        if not reset and not is_sparse(X):
            checks["dtype"] = "numeric"
        try:
            with _text_columns_named(X):
                return validate_data(self, X, reset=reset, accept_sparse="csr", **checks)
        except OverflowError:  # a Python int beyond float64 (10**400) in a list or object X
            raise overflow_error("X", X) from None

    def _X_checks(self, X) -> dict:
        """Return validate_data's ``dtype`` and finiteness options for ``X`` (m, n_x).

        A memory-mapped ``X`` (``np.load(path, mmap_mode='r')``) is left as it is: converting
        it would copy the whole file into memory (a uint8 file as float64: 8 times its size)
        and scikit-learn's finiteness check would read all of it at once. Its values are
        checked in blocks instead, with the pages handed back as they are read: by
        :func:`_column_squares` when fit starts afresh, and by the network's
        :meth:`~npdeep.network.Network.check_X` before every training or prediction; the
        network casts it one mini-batch or chunk of samples at a time.
        """
        if is_memmap(X):
            return {"dtype": "numeric", "ensure_all_finite": False}
        return {"dtype": self._float()}

    def _validate_Xy(self, X, y, reset: bool, **kwargs):
        """Check ``X`` (m, n_x) and ``y`` (m,) or (m, n_L) together (X as in _validate_X)."""
        if y is None:
            raise DataError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = refuse_non_numbers(plain(X))
        refuse_frame_columns(X)
        y = plain_targets(y, X)
        try:
            with _text_columns_named(X):
                X, y = validate_data(self, X, y, reset=reset, multi_output=True,
                                     accept_sparse="csr", **self._X_checks(X), **kwargs)
        except OverflowError:  # a Python int beyond float64 (10**400) in X or y
            name, value = ("X", X) if _overflows(X) else ("y", y)
            raise overflow_error(name, value) from None
        if hasattr(y, "toarray"):  # a scipy.sparse target (m, n_L): trained on dense
            y = y.toarray()
        if reset:
            warn_if_unscaled(X, type(self).__name__)
        return X, y

    def _start(self, n_x: int, n_L: int) -> None:
        """Build a fresh network and reset every learned attribute."""
        seed = self._seed()
        self.network_ = self._new_network(n_x, n_L, seed)
        # an Optimizer or Schedule instance given as a parameter is copied, never shared
        # between fits: its state (moments, plateau) follows this network's partial_fit calls
        # and never reaches the parameter object, nor a clone of the estimator
        self.optimizer_ = _optimizers.get(_spec(self.optimizer))
        self.schedule_ = None if self.schedule is None else _schedules.get(_spec(self.schedule))
        self.n_outputs_ = n_L
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._no_improvement_count = 0

    def _check_architecture(self, n_L: int) -> None:
        """Before training the fitted network again: refuse parameters it cannot follow.

        The units, hidden activations, dropout, dtype and optimizer belong to the fitted
        network and its optimizer state; a change is a ConfigurationError naming it (it would
        otherwise be ignored while get_params reports it). ``l2`` is applied, as
        scikit-learn applies a new ``alpha`` on a warm start.
        """
        net = self.network_
        wanted = self._units(self.n_features_in_, n_L)
        if wanted != net.units:
            raise ConfigurationError(
                f"warm_start/partial_fit cannot change the architecture: the fitted network has "
                f"units {net.units}, the parameters now ask for {wanted}; set "
                "warm_start=False to train a new network"
            )
        hidden, _ = net._resolve_hidden(self.activation, net.L)
        changed = []
        if [g.get_config() for g in hidden] != [g.get_config() for g in net.activations[1:-1]]:
            changed.append(f"activation={self.activation!r} (fitted: "
                           f"{[g.name for g in net.activations[1:-1]]})")
        if net._resolve_dropout(self.dropout, net.L) != list(net.dropout):
            changed.append(f"dropout={self.dropout!r} (fitted: {list(net.dropout)})")
        output = _activations.get(self._output_activation_for(n_L))
        if output.get_config() != net.activations[-1].get_config():
            fitted = net.activations[-1].name
            if getattr(self, "output_activation", "") is None and hasattr(self, "loss"):
                # the output follows the loss: the user changed loss, not output_activation
                changed.append(f"loss={self.loss!r}, whose output is {output.name!r} (fitted: "
                               f"{fitted!r})")
            else:
                changed.append(f"output_activation={self._output_activation_for(n_L)!r} "
                               f"(fitted: {fitted!r})")
        if np.dtype(self._float()) != net.dtype:
            changed.append(f"dtype={self.dtype!r} (fitted: {net.dtype.name!r})")
        if _optimizers.get(_spec(self.optimizer)).get_config() != self.optimizer_.get_config():
            changed.append(f"optimizer={self.optimizer!r} (fitted: {self.optimizer_!r})")
        if changed:
            raise ConfigurationError(
                f"warm_start/partial_fit cannot change {'; '.join(changed)}; set "
                "warm_start=False to train a new network"
            )
        net.l2 = float(self.l2)
        self._follow_schedule()

    def _follow_schedule(self) -> None:
        """Take up a ``schedule`` changed since the fitted ``schedule_`` was made.

        It was ignored (the fitted schedule went on, get_params reported the new one); it now
        applies from this call, started afresh. An unchanged schedule keeps its state (a
        plateau's reductions) from call to call; a loaded estimator, which has none, makes
        its own here.
        """
        current = getattr(self, "schedule_", None)
        wanted = None if self.schedule is None else _schedules.get(_spec(self.schedule))
        if wanted is None or current is None or \
                wanted.get_config() != current.get_config():
            self.schedule_ = wanted

    def _check_incremental(self) -> None:
        """Refuse ``partial_fit`` with ``early_stopping=True``, as scikit-learn's MLP does.

        One epoch on the rows given holds nothing out and has no epochs to stop, so the
        option would be silently ignored. Raised before anything is validated or trained.
        """
        self._check_flags()
        if self.early_stopping:
            raise ConfigurationError(
                "partial_fit does not support early_stopping=True (nor does scikit-learn's "
                "MLP): it trains one epoch on every row given and holds none out; set "
                "early_stopping=False, or use fit"
            )

    def _warm(self) -> bool:
        return bool(self.warm_start) and hasattr(self, "network_")

    def summary(self) -> str:
        """Return the fitted network's layer table (see :meth:`npdeep.Network.summary`)."""
        from ..summary import summary

        return summary(self)

    def _outputs(self, X, logits: bool = False) -> np.ndarray:
        """Return ``a[L]`` (or ``Z[L]`` with ``logits``) transposed to rows: (m, n_L).

        Computed in chunks of samples; a memory-mapped ``X`` is cast chunk by chunk.
        """
        check_is_fitted(self, "network_")
        X = self._validate_X(X, reset=False)
        net = self.network_
        if not logits:  # a request of a few samples takes the network's short path
            return net._predicted(X.T).T
        out = net._output(net.check_X(X.T, cast=False), logits=logits)
        return net.check_output(out, "Z[L]" if logits else "a[L]").T

    def _logits(self, X) -> np.ndarray:
        """Return ``Z[L]`` transposed to rows: (m, n_L), in chunks of samples."""
        return self._outputs(X, logits=True)
