"""DeepRegressor: single- and multi-output regression with a deep network."""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.base import RegressorMixin

from .. import losses as _losses
from .._target_size import far_from_unit, peak_scale, power_of_two, root_mean_square
from .._validation import as_numeric_array, caller_level
from ..errors import ConfigurationError, DataError
from ._base import BaseDeepEstimator, restores_on_error
from ._inputs import checked_sample_weight, plain, plain_targets
from ._params import _NESTED

__all__ = ["DeepRegressor"]

#: losses for class labels, which DeepRegressor refuses
_CLASSIFICATION_LOSSES = ("binary_crossentropy", "categorical_crossentropy")


def _warn_if_rounded(peak: np.ndarray, std: np.ndarray, dtype: np.dtype) -> None:
    """Warn when ``dtype`` cannot tell targets of size ``peak`` apart to a tenth of ``std``.

    The output layer holds the targets' mean once training ends, so ``a[L]`` is computed in
    ``y``'s units: a float32 network rounds predictions near 1e8 to multiples of 8, whatever
    it learned. ``peak`` and ``std`` are (n_L,): the largest ``|y|`` and the spread per output.
    """
    spacing = np.exp2(np.floor(np.log2(peak))) * np.finfo(dtype).eps  # np.spacing, no overflow
    rounded = np.flatnonzero(spacing > 0.1 * std)
    if rounded.size == 0:
        return
    j = int(rounded[0])
    advice = " or use dtype='float64'" if dtype == np.float32 else ""
    warnings.warn(
        f"DeepRegressor: with dtype={dtype.name}, predictions of y near {peak[j]:.6g} are rounded "
        f"to multiples of {spacing[j]:.3g}, more than a tenth of y's standard deviation "
        f"({std[j]:.3g}; output {j}); subtract an offset from y first (e.g. y - y.mean()){advice}",
        UserWarning, stacklevel=caller_level(),
    )


#: The values an output activation g[L] can reach, for the targets it cannot.
def _warn_if_unreachable(Y: np.ndarray, g) -> None:
    """Warn when targets ``Y`` (m, n_L) lie outside ``g.bounds``, the values the output
    activation ``g`` reaches.

    A sigmoid output never gets past 1: targets in the hundreds train silently to an R^2
    far below 0 (only the identity output standardizes ``y``).
    """
    low, high = g.bounds
    if Y.size == 0 or (Y.min() >= low and Y.max() <= high):
        return
    warnings.warn(
        f"DeepRegressor: y has values in [{Y.min():.4g}, {Y.max():.4g}], outside [{low:g}, "
        f"{high:g}] where output_activation={g.name!r} can reach; scale y into that range, or "
        "use output_activation='identity' (which standardizes y)",
        UserWarning, stacklevel=caller_level(),
    )


#: Output activations with g(s z) = s g(z) for s > 0: DeepRegressor scales y for them.
_HOMOGENEOUS = ("relu", "leaky_relu")


def _start_at_the_mean(net, Y: np.ndarray, sample_weight) -> None:
    """Set the output bias b[L] (n_L, 1) where g(b) is the (weighted) mean of ``Y`` (m, n_L):
    ``log`` of it for an ``exp`` output, as a Poisson GLM's intercept starts (counts near
    9,000 started from ``exp(0) = 1``, and training stopped far from them: R^2 -11.5), the
    mean itself for relu and leaky relu (from b = 0, the outputs of some seeds were 0 for
    every sample at the first step, and the output never came alive: R^2 -2.4)."""
    w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    mean = np.average(Y, axis=0, weights=w)
    b = net.layers[-1][1]
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.log(mean) if net.output_activation.name == "exp" else mean
    b[:, 0] = np.where(np.isfinite(start) & (mean > 0), start, b[:, 0])


def _refuse_beyond_dtype(Y: np.ndarray, dtype: np.dtype) -> None:
    """Refuse targets ``Y`` (m, n_L) beyond the network's float type: its output layer holds
    y's units after fit (float32 and targets of 1e39 left inf weights, and every prediction
    was refused as "the parameters are not finite")."""
    top = float(np.finfo(dtype).max)
    largest = float(np.max(np.abs(Y))) if Y.size else 0.0
    if largest > top / 4:  # the mean plus a few of the scale must fit too
        raise DataError(
            f"DeepRegressor: y has values up to {largest:.3g} in absolute value, beyond what "
            f"dtype={dtype.name!r} holds (up to {top:.3g}), and the fitted network predicts "
            "in y's units: use dtype='float64', or divide y by a constant first"
        )


def _warn_if_far_from_unit(Y: np.ndarray, g) -> None:
    """Warn when targets ``Y`` (m, n_L) are all far from unit size (root mean square of the
    largest output below 0.01, or above 100) for an output activation ``g`` that trains on
    ``y`` as given (tanh, sigmoid, softplus...): tanh on targets of 1e-6 trained to an R^2
    of -6.5e8 without a word."""
    far = far_from_unit(Y, g.name)
    if far is None:
        return
    rms = far[1]
    warnings.warn(
        f"DeepRegressor: y's root mean square is {rms:.3g}, far from the unit size that "
        f"output_activation={g.name!r} trains on as given; scale y (and scale the "
        "predictions back), or use output_activation='identity' (which standardizes y)",
        UserWarning, stacklevel=caller_level(),
    )


class DeepRegressor(RegressorMixin, BaseDeepEstimator):
    """A deep L-layer network regressor with scikit-learn's interface.

    Samples are rows here: ``X`` is (m, n_x), ``y`` is (m,) or (m, n_outputs); inside, the
    network sees ``X.T`` (n_x, m) and ``Y`` (n_L, m). The output layer is ``output_activation``
    (identity by default) with the loss ``loss`` (by default the mean squared error
    ``J = sum_i c_i ||a[L]_i - y_i||^2 / 2``). ``X`` may be a scipy.sparse matrix or array of
    any format, as in :class:`DeepClassifier`.

    Parameters are those of :class:`DeepClassifier` (without ``class_weight``), plus

    loss : str or dict, default "squared_error"
        The cost: scikit-learn MLPRegressor's names ``"squared_error"`` and ``"poisson"``, or
        npdeep's: ``"mean_squared_error"`` (``"mse"``), ``"mean_absolute_error"`` (``"mae"``,
        ``"absolute_error"``), ``"huber"`` or ``{"name": "huber", "delta": 0.5}``
        (:mod:`npdeep.losses`). ``"poisson"`` (targets >= 0, counts or rates) pairs with the
        exp output, ``out_activation_ == "exp"`` as in MLPRegressor, and trains on ``y``
        divided by a power of two near its mean (below). With the identity output the targets
        are standardized (below) for every loss: huber's ``delta`` is then in units of the
        power-of-two scale of ``y``'s standard deviation (``delta = 1``: about one standard
        deviation), not in ``y``'s units (with a relu output, of its root mean square), and the
        mean absolute error is measured in that scale too (its minimizer, the median, is not
        changed by it).
    output_activation : str or None, default None
        g[L]; None is the loss's own: "identity", or "exp" for ``loss="poisson"``. E.g.
        "sigmoid" for targets in [0, 1]. Targets outside what g[L] reaches (above 1 for
        "sigmoid", below 0 for "relu") draw a warning at each training call.

    ``early_stopping`` scores the held-out data with R^2 (whatever the loss, as MLPRegressor).

    With the identity output (the default) the targets are standardized for training, per
    output, with the mean and the standard deviation (rounded to a power of two) of the first
    fit's ``y``: the network learns ``(y - mean) / scale`` and, after each training call, the
    output layer is rescaled (``W[L] <- scale * W[L]``, ``b[L] <- scale * b[L] + mean``) so that
    ``network_``, ``coefs_``, ``intercepts_`` and ``predict`` are in the units of ``y``. So
    targets like prices in the thousands, or near 300 +- 10, train as well as targets near 0 +- 1
    (scikit-learn's MLPRegressor does not scale them). A fresh network's initial weights are
    drawn for the standardized targets. An output with no spread in the first fit's ``y`` (one
    sample to ``partial_fit``, or a constant) keeps the scale 1 until a later call's ``y``
    spreads it, which then sets its scale (its mean stays). ``loss_curve_``, ``loss_``,
    ``best_loss_`` and ``tol`` are in standardized units (the cost of ``loss``); callbacks see
    the network in them during training (a ``ModelCheckpoint`` in ``callbacks`` writes that
    network only, marked so: :func:`npdeep.load` warns, ``load_trained`` and ``npdeep predict``
    refuse it; save the fitted estimator or pipeline with :func:`npdeep.save` for
    predictions). A relu or leaky relu output (``g(s z) = s g(z)``) trains on ``y`` divided
    by a power of two near its root mean square (not centred). An "exp" output (the default
    of ``loss="poisson"``) trains on ``y`` divided by a power of two near its mean (``exp(z)
    s = exp(z + log s)``: the scale folds into b[L]), its bias starting at ``log`` of that
    mean, as a Poisson GLM's intercept. Other output activations (e.g. "sigmoid" for targets
    in [0, 1]) train on ``y`` as given, and fit warns when ``y`` is far from unit size. The
    fitted output layer holds the targets' mean, so fit warns when ``dtype`` would round
    predictions to more than a tenth of ``y``'s standard deviation (float32 and targets near
    1e8 +- 1: multiples of 8); subtract an
    offset from ``y`` first, or use float64.

    Attributes
    ----------
    network_, coefs_, intercepts_, n_iter_, loss_curve_, loss_, validation_scores_, best_loss_,
    best_validation_score_, n_layers_, n_features_in_, feature_names_in_ :
        As for :class:`DeepClassifier` (``best_validation_score_`` is an R^2).
    out_activation_ : str
        Name of g[L], ``output_activation``, in scikit-learn's words ("logistic" for
        "sigmoid").
    n_outputs_ : int
        n_L, the number of targets.

    Examples
    --------
    >>> import numpy as np
    >>> from npdeep import DeepRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> reg = DeepRegressor((16,), learning_rate=0.05, max_iter=50, random_state=0)
    >>> reg.fit(X, 2 * X[:, 0]).predict(X[:2]).shape
    (2,)
    """

    #: ``loss__delta`` (huber) is reachable as optimizer__<option> is, for GridSearchCV
    _nested = {**_NESTED, "loss": _losses}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        output_activation=None,
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
        super().__init__(
            hidden_layer_sizes, activation, optimizer=optimizer, learning_rate=learning_rate,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle, l2=l2, dropout=dropout,
            init=init, dtype=dtype, tol=tol, n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            warm_start=warm_start, schedule=schedule, clip_norm=clip_norm,
            callbacks=callbacks, random_state=random_state, verbose=verbose,
        )
        self.loss = loss
        self.output_activation = output_activation

    _min_validation_samples = 2  # R^2 of one sample is undefined (NaN): nothing would improve

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _network_loss(self):
        """Return the Loss ``loss`` names; a classification loss is refused."""
        from .. import losses

        loss = losses.get(self.loss)
        if loss.name in _CLASSIFICATION_LOSSES:
            raise ConfigurationError(
                f"DeepRegressor's loss must be a regression loss, got {self.loss!r}: "
                f"'squared_error', 'poisson', 'mean_absolute_error' or 'huber' (for "
                f"{loss.name} use DeepClassifier)")
        return loss

    def _output_activation_for(self, n_L: int):
        if self.output_activation is not None:
            return self.output_activation
        return self._network_loss().canonical or "identity"

    def _check_architecture(self, n_L: int) -> None:
        """Also refuse a warm start or partial_fit with another ``loss`` than the fitted one
        (the targets' scaling and the output layer were chosen for it)."""
        super()._check_architecture(n_L)
        fitted = self.network_.loss
        if self._network_loss().get_config() != fitted.get_config():
            raise ConfigurationError(
                f"warm_start/partial_fit cannot change loss={self.loss!r} (fitted: "
                f"{fitted.get_config()}); set warm_start=False to train a new network")

    @staticmethod
    def _as_rows(y) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _validate_Xy(self, X, y, reset: bool, **kwargs):
        """Check ``X`` (m, n_x) and a numeric ``y`` (dates, times, non-numeric text refused)."""
        if y is not None and not hasattr(y, "tocsr"):
            try:
                y_array = np.asarray(y)
            except ValueError:  # nested lists of different lengths: named by as_numeric_array
                as_numeric_array(y, "y")
                raise
            kind = y_array.dtype.kind
            if kind in "mMUS":  # numpy would turn dates into nanoseconds, "1.5" into 1.5
                as_numeric_array(y_array, "y")
            elif kind == "O" and any(isinstance(v, str) for v in y_array.ravel().tolist()):
                as_numeric_array(y_array, "y")  # text in an object column (pandas): named
        return super()._validate_Xy(X, y, reset, **kwargs)

    @restores_on_error
    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (m, n_x) and ``y`` (m,) or (m, n_outputs). Returns self."""
        self._check_params()
        warm = self._warm()
        X, y = self._validate_Xy(X, y, reset=not warm, y_numeric=True)
        Y = self._as_rows(y)
        if warm:
            self._check_architecture(Y.shape[1])
        else:
            self._start(X.shape[1], Y.shape[1])
            self._y_mean = None  # a new fit takes the scaling of its own targets
        self._fit(X, Y, sample_weight, incremental=False)
        return self

    @restores_on_error
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch on ``X`` (m, n_x) and ``y``; the first call builds the network.

        Raises ConfigurationError with ``early_stopping=True`` (as scikit-learn's MLP does).
        """
        self._check_incremental()
        self._check_params()  # every call: a later one must not apply l2=-1
        first = not hasattr(self, "network_")
        X, y = self._validate_Xy(X, y, reset=first, y_numeric=True)
        Y = self._as_rows(y)
        if first:
            self._start(X.shape[1], Y.shape[1])
            self._y_mean = None
        else:
            self._check_architecture(Y.shape[1])
        self._fit(X, Y, sample_weight, incremental=True)
        return self

    # ------------------------------------------------------------------ target scaling
    @staticmethod
    def _target_statistics(Y, sample_weight):
        """Return the (weighted) mean and spread of ``Y`` (m, n_L), each (n_L,), and a mask
        (n_L,) of the outputs whose spread is above rounding of their values.

        Computed on ``Y / peak`` and rescaled: targets near 1e200 do not overflow the squares.
        """
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            # scaled by the largest weight first: the weights' sum (np.average's divisor)
            # overflowed for weights near 1e308 and the NaN mean was blamed on y
            top = w.max() if w.size else 0.0
            w = w / top if top > 0 else None
        peak = np.max(np.abs(Y), axis=0)
        peak = np.where((peak > 0) & np.isfinite(peak), peak, 1.0)
        Yn = Y / peak
        mean_n = np.average(Yn, axis=0, weights=w)
        std_n = np.sqrt(np.average((Yn - mean_n) ** 2, axis=0, weights=w))
        # a spread within rounding of the values themselves is a constant target: not scaled
        spread = std_n > 16 * np.finfo(np.float64).eps * np.abs(mean_n)
        return mean_n * peak, np.where(spread, std_n * peak, 1.0), spread, peak

    def _set_target_scaling(self, Y, sample_weight) -> None:
        """Keep the (weighted) mean and power-of-two scale of ``Y`` (m, n_L) that training
        divides out.

        An output without spread in ``Y`` (one sample, or a constant) keeps the scale 1 and is
        marked in ``_y_unscaled`` (n_L,): :meth:`_take_late_scales` gives it the scale of the
        first later batch that spreads it.
        """
        n_L = Y.shape[1]
        self._y_mean, self._y_scale = np.zeros(n_L), np.ones(n_L)
        self._y_unscaled = np.zeros(n_L, dtype=bool)
        name = self.network_.output_activation.name  # any spelling: 'linear' is identity
        if name in _HOMOGENEOUS or name == "exp":
            # relu, leaky relu: g(s z) = s g(z) for s > 0, y scaled (not centred: g's zero
            # stays y's zero) and W[L], b[L] folded exactly by the power of two s; exp:
            # exp(z) s = exp(z + log s), y divided by a power of two near its mean and log s
            # folded into b[L] (the cost and tol then see y near 1, not 1e-9). An output of
            # all zeros (a first partial_fit batch) waits for a later batch's scale
            self._y_scale, scaled = power_of_two(self._target_size(Y, sample_weight))
            self._y_unscaled = ~scaled
            return
        if name != "identity":
            return
        mean, std, spread, peak = self._target_statistics(Y, sample_weight)
        _warn_if_rounded(peak, np.where(spread, std, np.inf), self.network_.dtype)
        self._y_mean = mean
        # a power of two makes W[L] / scale * scale exact: folding in and out adds no rounding
        self._y_scale = np.exp2(np.round(np.log2(std)))
        self._y_unscaled = ~spread

    def _target_size(self, Y, sample_weight) -> np.ndarray:
        """Return the size (n_L,) of each output of ``Y`` (m, n_L) that a relu or leaky relu
        output (root mean square) or an exp output (mean) is scaled by."""
        if self.network_.output_activation.name == "exp":
            return np.average(Y, axis=0, weights=sample_weight)
        return root_mean_square(Y, sample_weight)

    def _take_late_scales(self, Y, sample_weight) -> None:
        """Give the outputs still unscaled (``_y_unscaled``) the power-of-two scale of ``Y``
        (m, n_L) where this batch spreads them; the means stay.

        Called while the output layer is in ``y``'s units, so the new scale is folded in
        exactly. New arrays, not in-place changes: a refused call restores the old ones.
        """
        pending = getattr(self, "_y_unscaled", None)
        if pending is None or not pending.any():
            return
        name = self.network_.output_activation.name
        if name in (*_HOMOGENEOUS, "exp"):
            scale, spread = power_of_two(self._target_size(Y, sample_weight))
        else:
            _, std, spread, peak = self._target_statistics(Y, sample_weight)
            scale = np.exp2(np.round(np.log2(std)))
        late = pending & spread
        if not late.any():
            return
        if name == "identity":
            _warn_if_rounded(peak, np.where(late, std, np.inf), self.network_.dtype)
        self._y_scale = np.where(late, scale, self._y_scale)
        self._y_unscaled = pending & ~late
        if name in (*_HOMOGENEOUS, "exp"):
            # an output that so far saw only zeros learnt to predict 0 (exp: b[L] far below 0,
            # R^2 -7.7 after 100 more epochs): it starts again where g(b) is this batch's mean
            b = self.network_.layers[-1][1]
            before = b[:, 0].copy()
            _start_at_the_mean(self.network_, Y, sample_weight)
            b[:, 0] = np.where(late, b[:, 0], before)

    def _fold_target_scaling(self, inverse: bool) -> None:
        """Move the output layer between target units and standardized units, in place."""
        W, b = self.network_.layers[-1]
        mean = self._y_mean.astype(W.dtype)[:, None]
        scale = self._y_scale.astype(W.dtype)[:, None]
        if self.network_.output_activation.name == "exp":  # exp(z) s = exp(z + log s)
            shift = np.log(self._y_scale).astype(W.dtype)[:, None]
            if inverse:
                b -= shift
            else:
                b += shift
            return
        if inverse:  # target units -> standardized units
            W /= scale
            b -= mean
            b /= scale
        else:
            W *= scale
            b *= scale
            b += mean

    def _fit(self, X, Y, sample_weight, incremental: bool) -> None:
        """Train on standardized targets; the output layer is in ``y``'s units outside.

        A fresh network's initial weights are drawn for standardized outputs (near 0, the
        mean) and train as drawn; a trained one, in ``y``'s units, is folded in first.
        """
        self.network_.loss.check_targets(Y.T)  # poisson's negative y: refused, not warned of
        _warn_if_unreachable(Y, self.network_.output_activation)
        _warn_if_far_from_unit(Y, self.network_.output_activation)
        _refuse_beyond_dtype(Y, self.network_.dtype)
        fresh = False
        if sample_weight is not None:
            sample_weight = checked_sample_weight(sample_weight, X, dtype=self._float())
        if getattr(self, "_y_mean", None) is None or len(self._y_mean) != Y.shape[1]:
            self._set_target_scaling(Y, sample_weight)
            fresh = self.n_iter_ == 0
        else:
            self._take_late_scales(Y, sample_weight)
        Ys = (Y - self._y_mean) / self._y_scale
        if fresh and self.network_.output_activation.name in (*_HOMOGENEOUS, "exp"):
            _start_at_the_mean(self.network_, Ys, sample_weight)
        if not fresh:
            self._fold_target_scaling(inverse=True)
        try:
            super()._fit(X, Ys, sample_weight, incremental)
        finally:
            self._fold_target_scaling(inverse=False)

    def _validation_score(self, net, Xv, Yv, w=None) -> float:
        """R^2 of ``net`` on ``Xv`` (n_x, m) against ``Yv`` (n_L, m), averaged over outputs,
        each sample weighing ``w`` (m,) when given; ``-inf`` when an output is not finite (a
        diverging run: r2_score would raise on it, where the epoch is only the worst yet)."""
        from sklearn.metrics import r2_score

        A = net._output(Xv)
        if not np.isfinite(A).all():
            return -math.inf
        return float(r2_score(Yv.T, A.T, sample_weight=w))

    def predict(self, X) -> np.ndarray:
        """Return ``a[L].T``: (m,) for one target, (m, n_outputs) for several."""
        A = self._outputs(X)
        return A[:, 0] if self.n_outputs_ == 1 else A

    def score(self, X, y, sample_weight=None) -> float:
        """R^2 of ``predict(X)`` against ``y`` (scikit-learn's ``score``); an ``np.matrix``
        ``y`` or ``sample_weight`` is read as a plain array, as in fit."""
        X = plain(X)
        y = plain_targets(y, X)
        sample_weight = plain(sample_weight, vector=True)
        target = np.asarray(y)
        if target.dtype.kind not in "fiu" or target.ndim not in (1, 2) or not target.size:
            return RegressorMixin.score(self, X, y, sample_weight=sample_weight)
        from sklearn.metrics import r2_score

        # in units of a power of two near each output's largest |y| (R^2 does not change):
        # the squares of targets of 1e-300 underflowed, and R^2 read 1.0 for any prediction
        s = peak_scale(target.reshape(len(target), -1))
        s = s if target.ndim == 2 else s[0]
        return float(r2_score(target / s, self.predict(X) / s, sample_weight=sample_weight))
