"""DeepClassifier: binary, multi-class and multi-label classification with a deep network.

What it makes of its targets (``classes_``, the encoding of ``y``, class weights) is in
:mod:`._class_targets`, the training run in :mod:`._fitting` and the rest it shares with
DeepRegressor in :mod:`._base`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin

from ..errors import ConfigurationError, DataError
from ..losses import log_softmax, softplus
from ._base import BaseDeepEstimator, restores_on_error
from ._class_targets import (  # noqa: F401
    ClassTargets,
    _check_one_label_kind,
    _checked_classes,
    _kind,
    _warn_if_one_hot,
)
from ._inputs import plain, plain_targets

# the target encoding and class weights moved out to _class_targets; every name this module
# held before stays importable from here

__all__ = ["DeepClassifier"]


class DeepClassifier(ClassifierMixin, ClassTargets, BaseDeepEstimator):
    """A deep L-layer network classifier with scikit-learn's interface.

    Samples are rows here: ``X`` is (m, n_x); inside, the network sees ``X.T`` (n_x, m).
    ``X`` may be a scipy.sparse matrix or array of any format, in every method: it is used
    sparse (CSR here, CSC inside), never densified. The output layer follows the target:
    one sigmoid unit for two classes, ``K`` softmax units for ``K > 2`` classes, one sigmoid
    unit per label for a multi-label indicator matrix (m, K) (one with exactly one 1 per row,
    one-hot encoded classes, warns: pass the labels for a softmax).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Widths n_1, ..., n_{L-1} of the hidden layers.
    activation : str or list of str, default "relu"
        Hidden activation g[l]: sigmoid, tanh, relu, leaky_relu, elu, selu, softplus, gelu,
        silu, identity (one, or one per layer).
    optimizer : str, dict or Optimizer, default "adam"
        Update rule: sgd, momentum, nesterov, rmsprop, adam, adamw, a config dict such as
        ``{"name": "momentum", "momentum": 0.9}``, or an Optimizer (copied, never shared). Its state
        carries over between :meth:`partial_fit` calls and warm-started fits in one process (a
        model file keeps the weights, not the optimizer state). Its options are nested
        parameters, as are the schedule's: ``set_params(optimizer__momentum=0.5)``, or
        ``{"optimizer__momentum": [0.5, 0.9]}`` in a grid search.
    learning_rate : float, default 0.001
        ``alpha`` of the update (``theta <- theta - alpha * d theta`` for sgd).
    batch_size : int, "auto" or None, default "auto"
        Mini-batch size; "auto" is ``min(200, m)``; None is full-batch gradient descent.
    max_iter : int, default 200
        Most epochs per :meth:`fit` (one pass over the data each); a fit that uses them all
        without meeting the ``tol``/``n_iter_no_change`` stop warns with a ConvergenceWarning.
    shuffle : bool, default True
        Shuffle the samples every epoch.
    l2 : float, default 0.0
        L2 penalty ``lambda``: cost ``+ (lambda / 2m) sum_l ||W[l]||^2`` (scikit-learn's ``alpha``).
    dropout : float or list of float, default 0.0
        Drop probability of the hidden layers during training (inverted dropout; alpha
        dropout in selu layers).
    init : str or None, default None
        article, glorot, he, lecun or normal; None picks glorot, as scikit-learn's MLP and
        Keras (lecun for selu). He's scale, :class:`~npdeep.Network`'s default for relu-like
        layers, trained slower and generalised worse here on small tabular data.
    dtype : {"float64", "float32"} or np.float64, np.float32, default "float64"
    tol : float, default 1e-4
        Smallest improvement that counts (training cost, or validation accuracy).
    n_iter_no_change : int, default 10
        Stop after more than this many epochs in a row without improvement, as scikit-learn's
        MLP (the default stops at the 11th).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data, stop on its accuracy, keep the best weights
        (on a warm start, the starting weights are scored first and kept unless beaten).
        :meth:`partial_fit` raises ConfigurationError (a ValueError) with it, as
        scikit-learn's MLP does: one epoch on the rows given has nothing to hold out or stop.
    validation_fraction : float, default 0.1
    class_weight : dict, "balanced" or None, default None
        Weights per class, multiplied into ``sample_weight`` ("balanced": not in
        :meth:`partial_fit`, which sees one batch; give the dict there).
    warm_start : bool, default False
        Let :meth:`fit` continue from the fitted network instead of starting afresh; a changed
        feature count, unseen labels or changed ``hidden_layer_sizes`` raise instead.
    schedule : str, Schedule or None, default None
        Learning-rate schedule of :func:`npdeep.training.fit` (constant, step, exponential,
        cosine, plateau), over the epochs of one :meth:`fit` call; :meth:`partial_fit` continues
        it from call to call, at epoch ``n_iter_`` (a cosine needs its ``period`` there). One
        changed by set_params applies from the next warm-started fit or :meth:`partial_fit`,
        with a plateau's state started afresh.
    clip_norm : float or None, default None
        Rescale the whole gradient when its L2 norm exceeds this.
    callbacks : list of npdeep.callbacks.Callback or None, default None
        Extra callbacks for every training call (copied by ``clone``). Their epochs count on
        across :meth:`partial_fit` calls and warm-started fits, as ``n_iter_`` does: the third
        call's epoch is ``epoch=2`` in the hooks and row 3 of a ``CSVLogger``, which continues
        its file. With ``early_stopping`` each epoch's logs hold the held-out score as
        ``val_accuracy`` (``val_r2`` for DeepRegressor): the progress line and the loggers
        show it, and ``EarlyStopping(monitor='val_accuracy')`` watches it.
        A ``ModelCheckpoint`` here writes the estimator's network only (outputs: class
        indices of ``classes_``; no pipeline steps), marked so: :func:`npdeep.load` warns,
        ``load_trained`` and ``npdeep predict``/``evaluate``/``export`` refuse it; save the
        fitted estimator or pipeline with :func:`npdeep.save` for predictions.
    random_state : int, RandomState, Generator or None, default None
        Seed of the initial weights, shuffling, dropout and the validation split; a RandomState
        or Generator gives one seed per fit, drawn from it.
    verbose : int, default 0
        1 shows a progress bar.

    Attributes
    ----------
    classes_ : (n_classes,) array
    network_ : Network
        The trained network, article orientation: W[l] is (n[l], n[l-1]).
    coefs_ : list of (n[l-1], n[l]) arrays
        ``W[l].T``, scikit-learn's MLP orientation (live views of ``network_``'s parameters).
        Assignable, as in scikit-learn: a list of L such arrays is copied into W[l] in place.
    intercepts_ : list of (n[l],) arrays
        ``b[l]``; assignable likewise.
    n_iter_ : int
        Epochs run in total.
    loss_curve_ : list of float
        Training cost per epoch.
    loss_ : float
        The last epoch's training cost, ``loss_curve_[-1]``.
    validation_scores_ : list of float or None
        Validation accuracy per epoch (with ``early_stopping``).
    best_validation_score_ : float or None
        Best validation accuracy (with ``early_stopping``; None otherwise).
    best_loss_ : float
        Lowest training cost of any epoch (also with ``early_stopping``).
    n_layers_ : int
        ``L + 1``: input layer and the L layers with weights, as in scikit-learn's MLP.
    n_outputs_ : int
        n_L: 1 for two classes, K for K > 2 classes or K labels.
    out_activation_ : str
        Name of g[L] as scikit-learn's MLPClassifier says it: "logistic" (the sigmoid; two
        classes or multi-label) or "softmax".
    n_features_in_ : int
    feature_names_in_ : (n_features_in_,) array of str
        Only when ``X`` had column names (pandas).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from npdeep import DeepClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DeepClassifier((16,), learning_rate=0.01, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    """

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
        class_weight=None,
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
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ----------------------------------------------------------------- target encoding
    def _output_activation_for(self, n_L: int) -> str:
        return "softmax" if self._target_type == "multiclass" else "sigmoid"

    def _validate_Xy(self, X, y, reset: bool, **kwargs):
        """Check ``X`` and ``y``; labels of mixed kinds or None are named before scikit-learn's
        check, which says only "Input contains NaN" for a pandas Series holding None."""
        if y is not None and not hasattr(y, "tocsr") and not isinstance(y, np.ndarray):
            try:
                labels = np.asarray(y)
            except ValueError:  # ragged lists: scikit-learn's message
                labels = None
            if labels is not None and labels.dtype == object:
                _check_one_label_kind(labels, "y")
        return super()._validate_Xy(X, y, reset, **kwargs)

    # ------------------------------------------------------------------------ fitting
    @restores_on_error
    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (m, n_x) and ``y`` (m,) labels or (m, K) 0/1 indicators.

        Returns
        -------
        self
        """
        self._check_params()
        warm = self._warm()
        X, y = self._validate_Xy(X, y, reset=not warm)
        y = self._labels(y)
        if warm:
            self._check_same_targets(y)
            self._check_architecture(self._n_outputs())
        else:
            self._set_classes(y)
            self._start(X.shape[1], self._n_outputs())
        Y = self._encode(y)
        self._fit(X, Y, self._sample_weight(y, sample_weight), incremental=False)
        return self

    def _check_same_targets(self, y) -> None:
        if y.ndim == 1 and self._target_type != "multilabel":
            return  # checked labels, binary or multi-class alike: _encode refuses unknown ones
        kind = self._target_kind(y)
        if kind == "multilabel" or self._target_type == "multilabel":
            if kind != self._target_type or y.shape[1] != self.classes_.shape[0]:
                raise DataError(
                    f"y must be a multi-label indicator matrix with {self.classes_.shape[0]} "
                    f"columns like the first fit, got a {kind} target of shape {y.shape}"
                )
        # labels outside classes_ are refused by _encode

    @restores_on_error
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch on ``X`` (m, n_x), ``y``; pass every class in ``classes`` the first time.

        Raises ConfigurationError with ``early_stopping=True`` (as scikit-learn's MLP does).

        Returns
        -------
        self
        """
        self._check_incremental()
        self._check_params()  # every call: a later one must not apply l2=-1
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ConfigurationError(
                "class_weight='balanced' is not supported by partial_fit: it would balance "
                "each batch on its own; pass class_weight=dict(zip(classes, "
                "compute_class_weight('balanced', classes=classes, y=y_all))) instead"
            )
        first = not hasattr(self, "network_")
        X, y = self._validate_Xy(X, y, reset=first)
        y = self._labels(y)
        if first:
            if classes is None and self._target_kind(y) != "multilabel":
                raise DataError(
                    "classes must be given on the first call to partial_fit (every label that "
                    "will ever appear, e.g. classes=np.unique(y_all)), got None"
                )
            self._set_classes(y, classes)
            unseen = [] if self._target_type == "multilabel" else \
                np.setdiff1d(np.unique(y), self.classes_).tolist()
            if unseen:  # _encode's advice (fit again) is not this call's
                raise DataError(
                    f"y contains labels {unseen!r:.200} that are not in classes="
                    f"{self.classes_.tolist()!r:.200}; classes must list every label that will "
                    "ever appear (e.g. classes=np.unique(y_all))"
                )
            self._start(X.shape[1], self._n_outputs())
        else:
            self._check_architecture(self._n_outputs())
            if classes is not None and not np.array_equal(
                    np.unique(_checked_classes(classes)), self.classes_):
                raise DataError(
                    f"classes={np.unique(classes).tolist()} differs from classes_ "
                    f"{self.classes_.tolist()} the network was fitted with (by fit or the first "
                    "partial_fit); fit again (warm_start=False) to learn new classes"
                )
            self._check_same_targets(y)
        Y = self._encode(y)
        self._fit(X, Y, self._sample_weight(y, sample_weight), incremental=True)
        return self

    def _validation_score(self, net, Xv, Yv, w=None) -> float:
        """Accuracy of ``net`` on ``Xv`` (n_x, m) against encoded ``Yv`` (n_L, m), each sample
        weighing ``w`` (m,) when given (scikit-learn's ``accuracy_score``). A sample whose
        outputs are not finite (a diverging run) is a miss: NaN's argmax is not a class."""
        A = net._output(Xv)
        if self._target_type == "multiclass":
            hits = A.argmax(axis=0) == Yv.argmax(axis=0)
        else:
            hits = np.all((A > 0.5) == (Yv > 0.5), axis=0)
        hits &= np.isfinite(A).all(axis=0)
        return float(np.average(hits, weights=w))

    # --------------------------------------------------------------------- prediction
    def predict_proba(self, X) -> np.ndarray:
        """Return class probabilities (m, n_classes); multi-label: P(label k) (m, K)."""
        A = self._outputs(X)
        if self._target_type == "binary":
            return np.hstack([1.0 - A, A])
        return A

    def predict_log_proba(self, X) -> np.ndarray:
        """Return ``log(predict_proba(X))`` (m, n_classes), computed from the logits.

        ``log sigmoid(z) = -softplus(-z)`` and ``log softmax(z) = z - logsumexp(z)`` stay
        finite and exact where a probability rounds to 0 or 1, whose log would be -inf or
        have lost every digit.
        """
        Z = self._logits(X)
        if self._target_type == "multiclass":
            return log_softmax(Z.T).T
        if self._target_type == "binary":
            return np.hstack([-softplus(Z), -softplus(-Z)])
        return -softplus(-Z)

    def decision_function(self, X) -> np.ndarray:
        """Return the output logits ``Z[L].T``: (m,) for two classes, (m, n_L) otherwise."""
        Z = self._logits(X)
        return Z[:, 0] if self._target_type == "binary" else Z

    def predict(self, X) -> np.ndarray:
        """Return labels (m,) from ``classes_``; multi-label: a 0/1 matrix (m, K)."""
        A = self._outputs(X)
        if self._target_type == "multilabel":
            return (A > 0.5).astype(np.int64)
        if self._target_type == "binary":
            return self.classes_[(A[:, 0] > 0.5).astype(np.intp)]
        return self.classes_[A.argmax(axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (scikit-learn's ``score``); an
        ``np.matrix`` ``y`` or ``sample_weight`` is read as a plain array, as in fit."""
        X = plain(X)
        y = plain_targets(y, X)
        return ClassifierMixin.score(self, X, y,
                                     sample_weight=plain(sample_weight, vector=True))
