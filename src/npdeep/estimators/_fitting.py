"""How DeepClassifier and DeepRegressor train: the call to :func:`npdeep.training.fit`.

:class:`FittingMixin` (a base of :class:`~npdeep.estimators._base.BaseDeepEstimator`) holds
the run itself: early_stopping's validation rows held out, the monitor and the options
passed to the training loop, the ConvergenceWarning at its end. :func:`restores_on_error`
wraps ``fit`` and ``partial_fit`` so that a refused call loses no fitted model.

At this boundary samples are rows: ``X`` (m, n_x) and ``Y`` (m, n_L) are transposed to the
article's (n_x, m) and (n_L, m) for the loop.
"""

from __future__ import annotations

import functools
import json
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._mmap import is_memmap
from .._sparse import is_sparse
from .._validation import caller_level
from ..batches import columns
from ..diagnostics import constant_cost, cost_rise, thrown_far
from ..errors import DataError
from ..splits import validation_split
from ..training import fit as _train
from ._inputs import checked_sample_weight
from ._monitor import FitMonitor

__all__ = ["FittingMixin", "restores_on_error"]


def restores_on_error(method):
    """Wrap ``fit``/``partial_fit``: an error before the first epoch of the call puts back
    every attribute the estimator had, so a refused call loses no fitted model.

    Without it, a refit refused for a bad ``sample_weight``, ``class_weight`` or too few
    samples would have replaced the fitted network by a fresh untrained one (or left
    ``classes_`` and ``network_`` disagreeing). Once an epoch has run (``loss_curve_`` grew,
    or a fresh list has entries), the error propagates with the training done so far kept.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        state = self.__dict__.copy()
        try:
            return method(self, *args, **kwargs)
        except Exception:
            curve, before = self.__dict__.get("loss_curve_"), state.get("loss_curve_")
            trained = curve is not None and (
                len(curve) > len(before) if curve is before else len(curve) > 0)
            if not trained:
                self.__dict__.clear()
                self.__dict__.update(state)
            raise

    return wrapper


def _restored(monitor) -> str:
    """What a warning of a stopped run adds when early_stopping restored its best epoch."""
    if monitor.best_epoch is None:
        return ""
    return (f". early_stopping then restored the weights of epoch {monitor.best_epoch + 1}, "
            f"whose validation score ({monitor.est.best_validation_score_:.4g}) was the best: "
            "the model keeps those")


class FittingMixin:
    """The training run of an estimator (a base of BaseDeepEstimator, which has the rest)."""

    def _train(self, X, Y, sample_weight, epochs: int, incremental: bool) -> None:
        """Train ``network_`` on ``X`` (m, n_x) rows and encoded targets ``Y`` (m, n_L)."""
        validation, rows = None, None
        if self.early_stopping and not incremental:
            X, Y, sample_weight, validation, rows = self._split_validation(X, Y, sample_weight)
        m = X.shape[0] if rows is None else rows.shape[0]
        if not incremental:
            self._no_improvement_count = 0
        if validation is not None and self.validation_scores_ is None:
            self.validation_scores_ = []  # a warm fit that turns early_stopping on
        monitor = FitMonitor(self, validation, stop=not incremental)
        if validation is not None and self.n_iter_ > 0:
            # a warm fit starts from the weights kept so far: they are the ones to beat on this
            # fit's validation rows, and they come back when no epoch does better
            self.best_validation_score_ = self._validation_score(self.network_, *validation)
            monitor.best_flat = self.network_.parameters.flat.copy()
        history = _train(
            self.network_,
            X.T,
            Y.T,
            epochs=epochs,
            learning_rate=self.learning_rate,
            batch_size=self._batch_size(m),
            optimizer=self.optimizer_,
            shuffle=self.shuffle,
            sample_weight=sample_weight,
            callbacks=[monitor, *(self.callbacks or [])],
            verbose=self.verbose,
            **self._extra_training_options(incremental),
            **({} if rows is None else {"_rows": rows}),
            _estimator=self._checkpoint_origin(),
        )
        self.t_ += m * len(history)
        self.network_.history = None  # the estimator's loss_curve_ is the record
        costs = history.history.get("cost", ())
        rose = "" if incremental else (cost_rise(costs) or self._thrown_far(
            costs[-1] if costs else None, X, Y, sample_weight, rows))
        if getattr(monitor.trainer, "nan_stop", False):
            warnings.warn(f"training stopped early: {monitor.trainer.stop_reason}"
                          f"{_restored(monitor)}", ConvergenceWarning,
                          stacklevel=caller_level())
        elif rose:  # a stop on n_iter_no_change: no epoch improved on the first ones
            warnings.warn(
                f"training diverged: {rose}; the steps are too large: lower learning_rate "
                f"({self.learning_rate:g} now) tenfold, or bound the steps with clip_norm; "
                f"features far from unit size need standardizing (StandardScaler)"
                f"{_restored(monitor)}", ConvergenceWarning, stacklevel=caller_level())
        elif not incremental and len(history) == epochs and not monitor.trainer.stop_training:
            warnings.warn(
                f"Maximum iterations ({epochs}) reached and the optimization hasn't converged "
                f"yet: the {'training cost' if validation is None else 'validation score'} still "
                f"improved by more than tol={self.tol} within n_iter_no_change="
                f"{self.n_iter_no_change} epochs; raise max_iter or learning_rate",
                ConvergenceWarning, stacklevel=caller_level(),
            )

    def _thrown_far(self, cost, X, Y, sample_weight, rows) -> str:
        """:func:`~npdeep.diagnostics.thrown_far` of the last epoch's ``cost`` against a
        constant prediction of the training targets ``Y`` (m, n_L) (``rows`` of them when a
        validation split holds the rest out).

        The epoch's cost holds the L2 term once per batch (a healthy run with l2=3 and 512
        units read 10.5 times log 2): with L2, a cost past the bound is measured again
        without it, on the training rows, before the run is called diverged."""
        net = self.network_
        if cost is None:
            return ""
        if rows is not None:
            Y = Y[rows]
            sample_weight = None if sample_weight is None else sample_weight[rows]
        m = Y.shape[0]
        coef = net.sample_coef(m, sample_weight)
        baseline = constant_cost(net, Y.T, coef)
        rose = thrown_far(cost, baseline)
        if rose and net.l2:
            Xt = X if rows is None else X[rows]
            with np.errstate(all="ignore"):
                data = net._data_cost(net.check_X(Xt.T, cast=False), net.check_Y(Y.T, m), coef)
            net.release_inputs()
            rose = thrown_far(data, baseline)
        return rose

    def _checkpoint_origin(self) -> dict:
        """What a ModelCheckpoint of this fit records of the estimator (JSON): its class name
        and what the network's outputs mean (classes_, or standardized targets)."""
        origin = {"estimator": type(self).__name__}
        classes = getattr(self, "classes_", None)
        if classes is not None:
            values = np.asarray(classes).tolist()
            try:
                json.dumps(values, allow_nan=False)
            except (TypeError, ValueError):
                values = [str(c) for c in np.asarray(classes).ravel().tolist()]
            origin["classes"] = values
        else:  # a regressor: an identity output learns (y - mean) / scale
            origin["standardized_targets"] = \
                self.network_.output_activation.name == "identity"
        return origin

    def _extra_training_options(self, incremental: bool = False) -> dict:
        """Options of :func:`npdeep.training.fit` the estimators set (schedule and clip_norm
        only when given)."""
        options = {
            "diagnose": False,  # the end-of-training report is not kept by estimators
            "_warn_nan": False,  # a NaN stop warns as a ConvergenceWarning, below
            # partial_fit and warm fits count epochs on, as n_iter_ does (callbacks, logs,
            # history)
            "_initial_epoch": self.n_iter_,
            # partial_fit: the schedule goes on from n_iter_ and a plateau keeps its reductions
            "_continue": incremental,
            # warnings about X speak of it as the estimator takes it: (m, n_x), samples as rows
            "_samples_as_rows": True,
        }
        if self.schedule is not None:  # the fitted copy, when fit made one
            options["schedule"] = getattr(self, "schedule_", None) or self.schedule
        if self.clip_norm is not None:
            options["clip_norm"] = self.clip_norm
        return options

    def _split_validation(self, X, Y, sample_weight):
        """Hold out ``validation_fraction`` of the rows (stratified by class) for scoring.

        Uses :func:`npdeep.splits.validation_split`, seeded by ``random_state``. Returns the
        training rows ``X`` (m, n_x), ``Y`` (m, n_L) and their weights, the held-out
        ``(X_val (n_x, m_val), Y_val (n_L, m_val), w_val (m_val,) or None)`` and ``rows``:
        None (a sparse ``X``), or for a dense ``X``, which is never copied, the sorted indices
        of the rows to train on, with ``X``, ``Y`` and the weights returned whole (training
        reads those rows in place; a memory-mapped file's held-out ones are read with pages
        handed back).
        """
        seed = self._seed()
        if seed is None:
            seed = int(self.network_.rng.integers(2**31 - 1))
        try:
            train, val = validation_split(self.network_, X.T, Y.T, self.validation_fraction,
                                          seed)
        except DataError as exc:  # its advice (validation_data) is Network.fit's, not ours
            reason = str(exc).partition("; give validation_data")[0]
            raise DataError(f"early_stopping: {reason}; raise validation_fraction, give more "
                            "samples or set early_stopping=False") from None
        if len(val) < self._min_validation_samples:
            raise DataError(
                f"early_stopping: validation_fraction={self.validation_fraction} leaves "
                f"{len(val)} validation sample out of m = {X.shape[0]}, and the validation "
                f"score (R^2) needs at least {self._min_validation_samples}; "
                + ("raise validation_fraction, give more samples"
                   if X.shape[0] > self._min_validation_samples else
                   f"give more than {self._min_validation_samples} samples")
                + " or set early_stopping=False"
            )
        if sample_weight is not None and np.all(sample_weight >= 0) \
                and not np.any(sample_weight[train] > 0):
            raise DataError(
                f"early_stopping: every sample with a positive sample_weight "
                f"({int(np.count_nonzero(sample_weight))} of m = {X.shape[0]}) was held out "
                f"for validation (validation_fraction={self.validation_fraction}), leaving none "
                "to train on; give more samples a positive weight or set early_stopping=False"
            )
        # the held-out rows weigh as in training, as scikit-learn's MLP weights its score
        w_val = None if sample_weight is None else sample_weight[val]
        if w_val is not None and np.any(w_val > 0):
            w_val = w_val / w_val.max()  # weights near 1e308 would overflow their sum
        elif w_val is not None:
            raise DataError(
                f"early_stopping: the {len(val)} rows held out for validation "
                f"(validation_fraction={self.validation_fraction}) all have weight 0 "
                "(sample_weight times class_weight), so the validation score weighs nothing; "
                "give more rows a positive weight, raise validation_fraction or set "
                "early_stopping=False"
            )
        if is_memmap(X):
            validation = (columns(self.network_, X.T, val), Y[val].T, w_val)
            return X, Y, sample_weight, validation, train
        if not is_sparse(X):  # X[train] would copy 0.9 of X: batches index into X instead
            return X, Y, sample_weight, (X[val].T, Y[val].T, w_val), train
        sw = None if sample_weight is None else sample_weight[train]
        return X[train], Y[train], sw, (X[val].T, Y[val].T, w_val), None

    def _fit(self, X, Y, sample_weight, incremental: bool) -> None:
        """Shared body of fit and partial_fit once X and Y (m, n_L) are encoded."""
        if sample_weight is not None:  # the network's float type, also for a uint8 memmap X
            sample_weight = checked_sample_weight(sample_weight, X, dtype=self._float())
        if incremental:
            self._train(X, Y, sample_weight, epochs=1, incremental=True)
        else:
            self._train(X, Y, sample_weight, epochs=self.max_iter, incremental=False)
