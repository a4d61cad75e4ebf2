"""DeepClassifier and DeepRegressor: behaviour beyond scikit-learn's generic checks."""

import csv
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from npdeep import DeepClassifier, DeepRegressor, History, Network
from npdeep.errors import ConfigurationError, DataError


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_npdeep_sklearn_module_exports_the_same_classes():
    import npdeep.sklearn

    assert npdeep.sklearn.DeepClassifier is DeepClassifier
    assert npdeep.sklearn.DeepRegressor is DeepRegressor


def test_multiclass_learns_iris_and_exposes_learned_attributes(iris):
    X, y = iris
    clf = DeepClassifier((16, 8), learning_rate=0.01, max_iter=300, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.n_features_in_ == 4
    assert clf.network_.units == [4, 16, 8, 3]
    assert clf.network_.output_activation.name == "softmax"
    assert [W.shape for W in clf.coefs_] == [(4, 16), (16, 8), (8, 3)]  # scikit-learn's way
    assert [b.shape for b in clf.intercepts_] == [(16,), (8,), (3,)]
    np.testing.assert_array_equal(clf.coefs_[0], clf.network_.parameters["W1"].T)
    assert clf.n_iter_ == len(clf.loss_curve_) >= 1
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    P = clf.predict_proba(X)
    assert P.shape == (150, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X))
    np.testing.assert_array_equal(clf.decision_function(X).argmax(axis=1), P.argmax(axis=1))


def test_binary_with_string_labels_uses_one_sigmoid_unit(iris):
    X, y = iris
    labels = np.where(y == 0, "setosa", "other")
    clf = DeepClassifier((8,), max_iter=300, random_state=0).fit(X, labels)
    assert clf.network_.units[-1] == 1
    assert clf.network_.output_activation.name == "sigmoid"
    assert clf.classes_.tolist() == ["other", "setosa"]
    assert clf.score(X, labels) > 0.97
    d = clf.decision_function(X)
    assert d.shape == (150,)
    np.testing.assert_array_equal(clf.classes_[(d > 0).astype(int)], clf.predict(X))
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P[:, 1], 1 / (1 + np.exp(-d)), rtol=1e-10)


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(n_samples=200, n_features=10, n_classes=4,
                                          random_state=0)
    clf = DeepClassifier((32,), learning_rate=0.01, max_iter=300, random_state=0).fit(X, Y)
    assert clf.network_.units[-1] == 4
    assert clf.predict(X).shape == (200, 4)
    assert clf.predict_proba(X).shape == (200, 4)
    assert set(np.unique(clf.predict(X))) <= {0, 1}
    assert (clf.predict(X) == Y).mean() > 0.8


def test_multioutput_regression_and_1d_regression():
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    Y = np.column_stack([y, -2 * y])
    reg = DeepRegressor((32,), learning_rate=0.01, max_iter=200, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2
    assert reg.predict(X).shape == (442, 2)
    assert reg.score(X, Y) > 0.4
    single = DeepRegressor((32,), learning_rate=0.01, max_iter=200, random_state=0).fit(X, y)
    assert single.predict(X).shape == (442,)
    assert single.score(X, y) > 0.4


def test_same_random_state_same_weights_bit_for_bit(iris):
    X, y = iris
    a = DeepClassifier((8,), max_iter=20, random_state=3).fit(X, y)
    b = DeepClassifier((8,), max_iter=20, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.network_.parameters.flat, b.network_.parameters.flat)


def test_sample_weight_zero_equals_dropping_samples_in_full_batch(iris):
    X, y = iris
    w = np.ones(150)
    w[::3] = 0
    keep = w > 0
    params = dict(hidden_layer_sizes=(8,), batch_size=None, max_iter=30, random_state=0,
                  n_iter_no_change=1000)
    a = DeepClassifier(**params).fit(X, y, sample_weight=w)
    b = DeepClassifier(**params).fit(X[keep], y[keep])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-9, atol=1e-12)



def test_mostly_zero_sample_weights_with_small_batches_train_every_epoch(digits):
    X, y = digits
    w = (np.random.default_rng(0).random(len(y)) < 0.1).astype(float)
    clf = DeepClassifier((16,), batch_size=8, max_iter=5, n_iter_no_change=1000,
                         random_state=0).fit(X, y, sample_weight=w)
    assert clf.n_iter_ == 5 and np.all(np.isfinite(clf.loss_curve_))


@pytest.mark.filterwarnings("ignore:DeepRegressor. the features of X are not standardized")
def test_training_cut_short_by_nan_warns_with_the_reason():
    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="gradients became NaN or inf"), \
            np.errstate(all="ignore"):
        # huge inputs (targets are standardized, so huge targets no longer overflow)
        reg = DeepRegressor((16,), optimizer="sgd", learning_rate=10.0, max_iter=20,
                            random_state=0).fit(X * 1e150, y)
    assert np.all(np.isfinite(reg.network_.parameters.flat))  # the last good weights


def test_a_cost_that_overflows_with_finite_weights_warns_too():
    # the weights grow to 1e280 without a NaN gradient: TerminateOnNaN stops on the epoch's
    # infinite cost, and fit said nothing, leaving a model whose predictions are refused
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5) * 1e3
    reg = DeepRegressor((10,), optimizer="sgd", learning_rate=10.0, max_iter=50, init="he",
                        random_state=0)  # He's weights: this run's path to 1e280
    with pytest.warns(ConvergenceWarning, match=r"training stopped early: the cost became NaN "
                      r"or inf at epoch \d+; training stopped with its finite weights kept"), \
            np.errstate(all="ignore"):
        reg.fit(X, y)
    assert not np.isfinite(reg.loss_) and reg.n_iter_ < 50

def test_class_weight_shifts_predictions_towards_the_heavy_class(iris):
    X, y = iris
    yb = (y == 2).astype(int)  # 50 positives, 100 negatives
    params = dict(hidden_layer_sizes=(4,), max_iter=30, random_state=0)
    plain = DeepClassifier(**params).fit(X, yb).predict_proba(X)[:, 1].mean()
    heavy = DeepClassifier(class_weight={0: 1, 1: 10}, **params).fit(X, yb)
    assert heavy.predict_proba(X)[:, 1].mean() > plain
    balanced = DeepClassifier(class_weight="balanced", **params).fit(X, yb)
    assert balanced.predict_proba(X)[:, 1].mean() > plain


def test_early_stopping_records_validation_scores_and_keeps_the_best(digits):
    X, y = digits
    clf = DeepClassifier((32,), early_stopping=True, validation_fraction=0.2,
                         n_iter_no_change=3, max_iter=200, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_validation_score_ > 0.9


@pytest.mark.parametrize("early_stopping", [False, True])
def test_stops_when_the_training_cost_stalls_at_the_epoch_mlp_stops(iris, early_stopping,
                                                                    capsys):
    X, y = iris
    options = dict(tol=10.0, n_iter_no_change=2, max_iter=100, random_state=0,
                   early_stopping=early_stopping)
    clf = DeepClassifier((8,), verbose=1, **options).fit(X, y)
    # the first epoch improves on +inf (or -inf), the next three do not: more than
    # n_iter_no_change epochs without improvement, as scikit-learn's MLP counts them
    assert clf.n_iter_ == 4 == MLPClassifier((8,), **options).fit(X, y).n_iter_
    out, err = capsys.readouterr()
    assert "in 3 epochs (more than n_iter_no_change=2)" in out + err


def test_partial_fit_needs_classes_first_then_refuses_unseen_labels(iris):
    X, y = iris
    clf = DeepClassifier((8,), random_state=0)
    with pytest.raises(DataError, match="classes must be given on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert clf.n_iter_ == 1
    assert clf.network_.units[-1] == 3
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2
    with pytest.raises(DataError, match=r"y contains labels \[7\] that are not in classes_"):
        clf.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="X has 3 features, but DeepClassifier is expecting 4"):
        clf.partial_fit(X[:, :3], y)
    with pytest.raises(DataError, match="differs from classes_"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_partial_fit_keeps_the_first_calls_kind_of_target():
    X, Y = make_multilabel_classification(60, 5, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    labels = Y.argmax(axis=1)
    multilabel = DeepClassifier((8,), random_state=0).partial_fit(X, Y)
    with pytest.raises(DataError, match=r"y must be a multi-label indicator matrix with 3 "
                                        r"columns like the first fit, got a multiclass target"):
        multilabel.partial_fit(X, labels)
    with pytest.raises(DataError, match=r"with 3 columns like the first fit, got a multilabel "
                                        r"target of shape \(60, 2\)"):
        multilabel.partial_fit(X, Y[:, :2])
    multiclass = DeepClassifier((8,), random_state=0).partial_fit(X, labels, classes=[0, 1, 2])
    with pytest.raises(DataError, match=r"got a multilabel target of shape \(60, 3\)"):
        multiclass.partial_fit(X, Y)
    multiclass.partial_fit(X, labels)
    assert (multilabel.n_iter_, multiclass.n_iter_) == (1, 2)


@pytest.mark.parametrize("make", [
    lambda: DeepClassifier((8,), early_stopping=True, random_state=0),
    lambda: DeepRegressor((8,), early_stopping=True, random_state=0),
], ids=["classifier", "regressor"])
def test_partial_fit_refuses_early_stopping_as_scikit_learn_does(iris, make):
    # it was ignored: every row trained, nothing was held out and nothing stopped; sklearn's
    # MLP raises ValueError("partial_fit does not support early_stopping=True")
    X, y = iris
    est = make()
    kwargs = {"classes": np.unique(y)} if isinstance(est, DeepClassifier) else {}
    match = r"partial_fit does not support early_stopping=True \(nor does scikit-learn's MLP\)"
    with pytest.raises(ConfigurationError, match=match):
        est.partial_fit(X, y, **kwargs)
    assert not hasattr(est, "network_")                 # refused before anything was built
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(max_iter=3).fit(X, y)
    before = est.network_.parameters.flat.copy()
    with pytest.raises(ValueError, match=match):        # also after fit, weights untouched
        est.partial_fit(X, y)
    np.testing.assert_array_equal(est.network_.parameters.flat, before)
    est.set_params(early_stopping=False).partial_fit(X, y)
    assert est.n_iter_ == 4


def test_partial_fit_continues_the_same_optimizer_state(iris):
    X, y = iris
    clf = DeepClassifier((8,), random_state=0)
    for _ in range(5):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.optimizer_.t == 5  # one full batch (150 <= 200) per call, state kept
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_regressor_partial_fit(iris):
    X, y = iris
    reg = DeepRegressor((8,), random_state=0)
    reg.partial_fit(X, y.astype(float))
    reg.partial_fit(X, y.astype(float))
    assert reg.n_iter_ == 2
    with pytest.raises(ValueError, match="X has 2 features, but DeepRegressor is expecting 4"):
        reg.partial_fit(X[:, :2], y)


def test_warm_start_continues_and_refuses_changes(iris):
    X, y = iris
    clf = DeepClassifier((8,), max_iter=5, n_iter_no_change=100, warm_start=True, random_state=0)
    clf.fit(X, y)
    first = clf.network_
    clf.fit(X, y)
    assert clf.network_ is first
    assert clf.n_iter_ == 10
    with pytest.raises(ValueError, match="X has 3 features, but DeepClassifier is expecting 4"):
        clf.fit(X[:, :3], y)
    with pytest.raises(DataError, match="not in classes_"):
        clf.fit(X, y + 1)
    clf.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ConfigurationError, match="cannot change the architecture"):
        clf.fit(X, y)
    cold = clone(clf).set_params(warm_start=False).fit(X[:, :3], y)
    assert cold.n_features_in_ == 3


def test_invalid_parameters_raise_messages_that_name_them(iris):
    X, y = iris
    cases = [
        (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes must be a list of positive"),
        (dict(max_iter=0), "max_iter must be an integer >= 1, got 0"),
        (dict(batch_size=-1), "batch_size must be 'auto', None"),
        (dict(activation="mish"), "unknown activation 'mish'"),
        (dict(optimizer="nope"), "unknown optimizer 'nope'"),
        (dict(early_stopping=True, validation_fraction=1.5),
         r"validation_fraction must be a number in \[0, 1\), got 1.5"),
        # checked without early stopping too, as scikit-learn's MLP does: a typo is not ignored
        (dict(validation_fraction=1.5), r"validation_fraction must be a number in \[0, 1\)"),
        (dict(validation_fraction="0.1"), r"validation_fraction must be .* got '0.1'"),
        (dict(early_stopping=True, validation_fraction=0),
         r"validation_fraction must be in \(0, 1\) with early_stopping=True, got 0"),
        (dict(tol=-1), "tol must be a finite number >= 0, got -1"),
        (dict(tol=float("nan")), "tol must be a finite number >= 0, got nan"),
        (dict(random_state=-1), "random_state must be None, an integer >= 0, a numpy "
                                "RandomState or a numpy Generator, got -1"),
        (dict(random_state="0"), "random_state must be None, .* got '0'"),
        (dict(l2=10**400), "l2 must be a finite number >= 0, got 1000"),
        (dict(callbacks=-1), r"callbacks must be None or a list of Callback objects "
                             r"\(npdeep.callbacks\), got -1"),
        (dict(callbacks=History()), "callbacks must be None or a list of Callback"),
        # MLP's learning_rate is its schedule: the message points at npdeep's
        (dict(learning_rate="adaptive"), r"learning_rate must be a finite number > 0 \(MLP's "
         r"learning_rate_init\), got 'adaptive'; MLP's learning_rate='adaptive' is "
         r"schedule=ReduceOnPlateau\(monitor='cost', factor=0.2"),
        (dict(learning_rate="constant"), "; MLP's learning_rate='constant' is schedule=None"),
        (dict(learning_rate="invscaling"), "the nearest schedules are 'exponential' and 'step'"),
        (dict(learning_rate="0.01"), r"learning_rate must be .* got '0.01'$"),
    ]
    for params, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            DeepClassifier(**params).fit(X, y)


def test_unsupported_targets_are_refused(iris):
    X, _ = iris
    with pytest.raises(ValueError, match="Unknown label type"):
        DeepClassifier().fit(X, np.linspace(0, 1, 150))
    with pytest.raises(DataError, match="multi-output multi-class"):
        DeepClassifier().fit(X, np.column_stack([np.arange(150) % 3, np.arange(150) % 4]))
    with pytest.raises(DataError, match="only one class is present"):
        DeepClassifier().fit(X, np.zeros(150))


def test_pandas_dataframes_keep_feature_names(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    clf = DeepClassifier((8,), max_iter=50, random_state=0).fit(df, pd.Series(y))
    assert clf.feature_names_in_.tolist() == ["sl", "sw", "pl", "pw"]
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_array_equal(clf.predict(df), clf.predict(X))
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(df.rename(columns={"sl": "x"}))


def test_pipeline_grid_search_and_cross_validation_on_digits(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), DeepClassifier(max_iter=30, random_state=0))
    grid = GridSearchCV(
        pipe,
        {"deepclassifier__hidden_layer_sizes": [(16,), (32,)],
         "deepclassifier__learning_rate": [0.001, 0.01]},
        cv=3, n_jobs=2,
    ).fit(X, y)
    assert set(grid.best_params_) == {"deepclassifier__hidden_layer_sizes",
                                      "deepclassifier__learning_rate"}
    assert grid.best_score_ > 0.85
    assert grid.score(X, y) > 0.9
    scores = cross_val_score(DeepClassifier((16,), learning_rate=0.01, max_iter=20,
                                            random_state=0), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_pickle_and_joblib_round_trips_predict_and_keep_training(iris, tmp_path):
    X, y = iris
    clf = DeepClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    copy.partial_fit(X, y)
    np.testing.assert_array_equal(copy.coefs_[0], copy.network_.parameters["W1"].T)
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    np.testing.assert_array_equal(joblib.load(path).predict(X), clf.predict(X))


def test_joblib_parallel_fits_match_serial_ones(iris):
    X, y = iris
    seeds = [0, 1, 2]
    fit = joblib.delayed(lambda s: DeepClassifier((8,), max_iter=10, random_state=s).fit(X, y))
    parallel = joblib.Parallel(n_jobs=2)(fit(s) for s in seeds)
    for s, est in zip(seeds, parallel, strict=True):
        serial = DeepClassifier((8,), max_iter=10, random_state=s).fit(X, y)
        np.testing.assert_array_equal(est.predict_proba(X), serial.predict_proba(X))


def test_float32_estimator_keeps_float32(iris):
    X, y = iris
    clf = DeepClassifier((8,), dtype="float32", max_iter=10, random_state=0).fit(X, y)
    assert clf.network_.dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32


def test_clip_norm_reaches_the_training_loop(iris):
    X, y = iris
    kw = {"hidden_layer_sizes": (8,), "optimizer": "sgd", "learning_rate": 0.1, "max_iter": 3,
          "tol": 0.0, "random_state": 0}
    def weights(**extra):
        clf = DeepClassifier(**{**kw, **extra}).fit(X, y)
        return clf.n_iter_, clf.network_.parameters.flat

    n1, first = weights(max_iter=1, clip_norm=1e-6)   # one step per epoch: the full batch
    n3, clipped = weights(clip_norm=1e-6)
    _, free = weights()
    assert (n1, n3) == (1, 3)
    # steps 2 and 3 moved the weights by at most learning_rate * clip_norm each
    assert np.linalg.norm(clipped - first) <= 2 * 0.1 * 1e-6 * (1 + 1e-6)
    assert np.linalg.norm(free - first) > 1e-3


def test_network_class_is_what_network_attribute_holds(iris):
    X, y = iris
    clf = DeepClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    assert isinstance(clf.network_, Network)
    # the network works in the article's orientation: features x samples
    np.testing.assert_allclose(clf.network_.predict_proba(X.T).T, clf.predict_proba(X))


def test_core_callbacks_pass_through_and_multilabel_class_weight_is_refused(iris):
    from npdeep.callbacks import Callback

    class CountEpochs(Callback):
        def __init__(self):
            self.seen = 0

        def on_epoch_end(self, epoch, logs):
            self.seen += 1

    X, y = iris
    counter = CountEpochs()
    clf = DeepClassifier((4,), max_iter=3, n_iter_no_change=100, callbacks=[counter],
                         random_state=0).fit(X, y)
    assert counter.seen == 3 == clf.n_iter_
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    with pytest.raises(ConfigurationError, match="not supported for multi-label"):
        DeepClassifier(class_weight="balanced").fit(X, Y)


def test_refit_with_a_plateau_schedule_is_reproducible_and_leaves_the_parameter_alone(iris):
    from npdeep.schedules import ReduceOnPlateau

    X, y = iris
    schedule = ReduceOnPlateau(monitor="cost", mode="max", patience=0, factor=0.5)  # reduces
    clf = DeepClassifier((8,), max_iter=8, learning_rate=0.05, schedule=schedule,
                         random_state=0)
    first = clf.fit(X, y).predict_proba(X)
    assert clf.schedule_.scale < 1.0 and schedule.scale == 1.0
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), first)
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(X), first)


@pytest.mark.parametrize("change, match", [
    ({"hidden_layer_sizes": (4,)}, r"cannot change the architecture: the fitted network has "
                                   r"units \[4, 8, 3\]"),
    ({"activation": "tanh"}, r"cannot change activation='tanh' \(fitted: \['relu'\]\)"),
    ({"dropout": 0.5}, r"cannot change dropout=0.5 \(fitted: \[0.0\]\)"),
    ({"optimizer": "sgd"}, r"cannot change optimizer='sgd' \(fitted: Adam"),
])
def test_warm_and_partial_fits_refuse_what_the_fitted_network_cannot_follow(iris, change, match):
    X, y = iris
    for method in ("warm fit", "partial_fit"):
        clf = DeepClassifier((8,), max_iter=2, random_state=0).fit(X, y)
        clf.set_params(warm_start=True, **change)
        with pytest.raises(ConfigurationError, match=match):
            clf.fit(X, y) if method == "warm fit" else clf.partial_fit(X, y)


def test_a_warm_fit_applies_a_new_l2(iris):
    X, y = iris
    clf = DeepClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    clf.set_params(warm_start=True, l2=0.5).fit(X, y)
    assert clf.network_.l2 == 0.5


def test_a_fit_that_runs_out_of_epochs_warns_like_mlp(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached and the "
                      r"optimization hasn't converged yet: the training cost"):
        DeepClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\).*validation score"):
        DeepRegressor((8,), max_iter=2, early_stopping=True, random_state=0).fit(X, y * 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        stopped = DeepClassifier((8,), tol=10.0, n_iter_no_change=2, max_iter=100,
                                 random_state=0).fit(X, y)  # stopped by tol: converged
        assert stopped.n_iter_ < 100
        DeepClassifier((8,), max_iter=1).partial_fit(X, y, classes=[0, 1, 2])  # never warns


def test_best_loss_is_the_lowest_training_cost_also_with_early_stopping(iris):
    X, y = iris
    for est in (DeepRegressor((8,), early_stopping=True, max_iter=15, random_state=0),
                DeepClassifier((8,), early_stopping=True, max_iter=15, random_state=0)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        assert np.isfinite(est.best_loss_)
        assert est.best_loss_ == min(est.loss_curve_)
    est.set_params(early_stopping=False).partial_fit(X, y)  # the training cost is followed
    assert est.best_loss_ == min(est.loss_curve_)


@pytest.mark.parametrize("target, n_outputs, out_activation", [
    ("multiclass", 3, "softmax"), ("binary", 1, "logistic"), ("multilabel", 2, "logistic"),
])
def test_classifier_has_mlp_layer_and_output_attributes(iris, target, n_outputs, out_activation):
    X, y = iris
    y = {"multiclass": y, "binary": y == 0, "multilabel": np.c_[y == 0, y == 1]}[target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = DeepClassifier((8, 4), max_iter=2, random_state=0).fit(X, y)
        mlp = MLPClassifier((8, 4), max_iter=2, random_state=0).fit(X, y)
    assert clf.n_layers_ == mlp.n_layers_ == 4
    assert clf.n_outputs_ == mlp.n_outputs_ == n_outputs
    assert clf.out_activation_ == mlp.out_activation_ == out_activation  # sklearn's words
    assert clf.network_.output_activation.name == {"logistic": "sigmoid"}.get(
        out_activation, out_activation)  # the network keeps npdeep's own names


def test_regressor_has_mlp_layer_and_output_attributes(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = DeepRegressor((8,), output_activation="sigmoid", max_iter=2).fit(X, np.c_[y, y] / 2)
        mlp = MLPRegressor(hidden_layer_sizes=(8,), max_iter=2).fit(X, np.c_[y, y])
        identity = DeepRegressor((4,), max_iter=1).fit(X, y)
    assert reg.n_layers_ == mlp.n_layers_ == 3
    assert reg.n_outputs_ == mlp.n_outputs_ == 2
    assert reg.out_activation_ == "logistic"  # scikit-learn's name of the sigmoid
    assert mlp.out_activation_ == "identity"
    assert identity.out_activation_ == mlp.out_activation_
    assert not hasattr(DeepRegressor(), "n_layers_")  # NotFittedError is an AttributeError
    assert not hasattr(DeepRegressor(), "out_activation_")


def test_optimizer_and_schedule_options_are_nested_parameters(iris):
    X, y = iris
    clf = DeepClassifier((8,), optimizer={"name": "momentum", "momentum": 0.9},
                         schedule="cosine", max_iter=5, random_state=0)
    params = clf.get_params()
    assert params["optimizer__momentum"] == 0.9
    assert params["schedule__min_lr"] == 0.0
    assert clf.get_params(deep=False).items() <= params.items()
    clf.set_params(optimizer__momentum=0.5)
    assert clf.optimizer == {"name": "momentum", "momentum": 0.5}
    assert clf.fit(X, y).optimizer_.momentum == 0.5
    assert DeepClassifier().set_params(optimizer__beta1=0.8).optimizer == {
        "name": "adam", "beta1": 0.8, "beta2": 0.999, "epsilon": 1e-08}
    same = DeepClassifier(optimizer="adam")
    assert same.set_params(**same.get_params()).optimizer == "adam"  # a round trip changes nothing
    search = GridSearchCV(make_pipeline(StandardScaler(), DeepClassifier(
        (8,), optimizer="momentum", max_iter=5, random_state=0)),
        {"deepclassifier__optimizer__momentum": [0.0, 0.5]}, cv=2).fit(X, y)
    assert search.best_estimator_[-1].optimizer_.momentum in (0.0, 0.5)


@pytest.mark.parametrize("params, message", [
    (dict(optimizer__bogus=1), "cannot set optimizer__bogus: invalid options for optimizer "
                               "'momentum'.*'bogus'"),
    (dict(optimizer__momentum=-1), r"cannot set optimizer__momentum: momentum must be in \[0, 1\)"),
    (dict(schedule__period=3), "cannot set schedule__period: schedule is None"),
    (dict(optimizer__bogus=1), r"^cannot set optimizer__bogus: invalid options for optimizer "
                               r"'momentum': \['bogus'\] \(its options: momentum\)$"),
    (dict(optimizer__learning_rate=0.1), r"^cannot set optimizer__learning_rate: .*\(its "
     r"options: momentum\); learning_rate is a parameter of the estimator itself$"),
])
def test_a_nested_option_the_optimizer_lacks_is_refused(params, message):
    with pytest.raises(ConfigurationError, match=message):
        DeepClassifier(optimizer="momentum").set_params(**params)


@pytest.mark.parametrize("labels, kinds", [
    (["a", None, "b"], r"\['NoneType', 'str'\]"),
    ([0, "a", "b"], r"\['number', 'str'\]"),
])
def test_labels_of_mixed_kinds_are_refused_naming_them(iris, labels, kinds):
    X, _ = iris
    y = np.array(labels * 50, dtype=object)
    with pytest.raises(DataError, match=f"y mixes labels of kinds {kinds}, which cannot be "
                                        "ordered into classes_"):
        DeepClassifier().fit(X, y)
    with pytest.raises(DataError, match=f"classes mixes labels of kinds {kinds}"):
        DeepClassifier().partial_fit(X[:3], ["a", "b", "a"], classes=np.array(labels, object))


@pytest.mark.parametrize("y, message", [
    (np.arange(150).astype("datetime64[D]"), r"y must hold real numbers, got dates or times"),
    (np.arange(150).astype("timedelta64[s]"), r"y must hold real numbers, got dates or times"),
    (np.array(["a", "b", "c"] * 50), r"y must be numeric, got an array of dtype <U1"),
    (np.array([1.0] * 149 + ["x"], dtype=object),
     r"y must be numeric, got an array of dtype object holding 'x' \(str\) at index 149"),
    ([[1.0, 2.0]] * 149 + [[1.0]], r"y must be a rectangular array of numbers"),
])
def test_regressor_refuses_targets_that_are_not_numbers(iris, y, message):
    X, _ = iris
    with pytest.raises(DataError, match=message):
        DeepRegressor(max_iter=1).fit(X, y)
    with pytest.raises(DataError, match=message):
        DeepRegressor().partial_fit(X, y)


def test_regressor_refuses_pandas_text_targets_naming_y(iris):
    pd = pytest.importorskip("pandas")
    X, _ = iris
    for y in (pd.Series(["a", "b", "c"] * 50), pd.Series(pd.Categorical(["a", "b", "c"] * 50))):
        with pytest.raises(DataError, match=r"^y must be numeric, got an array of dtype object "
                                            r"holding 'a' \(str\) at index 0"):
            DeepRegressor(max_iter=1).fit(X, y)
    DeepRegressor((2,), max_iter=1).fit(X, pd.Series(["1.5", 2.0] * 75, dtype=object))


def test_a_warm_fit_with_early_stopping_keeps_weights_as_good_as_it_reports(iris):
    X, y = iris
    clf = DeepClassifier((8,), early_stopping=True, warm_start=True, max_iter=100, init="he",
                         learning_rate=0.05, n_iter_no_change=5, random_state=0).fit(X, y)
    kept, first_best = clf.network_.parameters.flat.copy(), clf.best_validation_score_
    clf.set_params(learning_rate=3.0).fit(X, y)  # every epoch of this fit does worse
    assert max(clf.validation_scores_[-5:]) <= first_best
    assert clf.best_validation_score_ == first_best
    np.testing.assert_array_equal(clf.network_.parameters.flat, kept)  # not the last epoch's


def test_a_numpy_generator_seeds_the_fit(iris):
    X, y = iris
    runs = [DeepClassifier((4,), max_iter=3, random_state=np.random.default_rng(seed)).fit(X, y)
            for seed in (0, 0, 1)]
    P = [clf.predict_proba(X) for clf in runs]
    np.testing.assert_array_equal(P[0], P[1])  # same Generator seed, same model
    assert not np.array_equal(P[0], P[2])


def test_partial_fit_refuses_balanced_class_weight_and_takes_a_dict(iris):
    X, y = iris
    with pytest.raises(ConfigurationError, match="class_weight='balanced' is not supported by "
                                                 "partial_fit: it would balance each batch"):
        DeepClassifier(class_weight="balanced").partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    balanced = compute_class_weight("balanced", classes=np.arange(3), y=y)
    weights = dict(zip([0, 1, 2], balanced, strict=True))
    clf = DeepClassifier((4,), class_weight=weights).partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    assert clf.n_iter_ == 1


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_predict_log_proba_is_exact_where_probabilities_saturate(kind, iris):
    # it was np.log(predict_proba): -inf where a probability rounds to 0 (binary iris at 300x
    # scale: most entries), and log(1 - p) lost its digits long before that
    X, y = iris
    if kind == "binary":
        target = (y == 0).astype(int)
    elif kind == "multiclass":
        target = y
    else:
        target = np.c_[y == 0, y == 2, X[:, 0] > 0].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = DeepClassifier((8,), max_iter=50, init="he", random_state=0).fit(X, target)
    Xs = X * 300  # logits of hundreds
    Z = np.asarray(clf.decision_function(Xs), dtype=np.float64)
    if kind == "binary":
        expected = -np.logaddexp(0, np.c_[Z, -Z])
    elif kind == "multiclass":
        expected = Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)
    else:
        expected = -np.logaddexp(0, -Z)
    assert np.abs(Z).max() > 800  # past where exp underflows
    with np.errstate(all="raise", under="ignore"):
        got = clf.predict_log_proba(Xs)
    assert got.shape == expected.shape and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X),
                               rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 2.0}])
def test_a_sample_weight_of_the_wrong_length_is_named_also_with_class_weight(iris, class_weight):
    X, y = iris
    clf = DeepClassifier((4,), max_iter=2, class_weight=class_weight)
    with pytest.raises(DataError, match=r"sample_weight.shape == \(10,\), expected \(150,\)"):
        clf.fit(X, y, sample_weight=np.ones(10))


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_early_stopping_with_too_few_samples_gives_advice_the_estimator_can_follow(Est):
    X = np.arange(8.0).reshape(4, 2) / 8
    est = Est((4,), max_iter=2, early_stopping=True)
    with pytest.raises(DataError, match=r"^early_stopping: validation_fraction=0\.1 leaves no "
                       r"validation sample out of m = 4 .*set early_stopping=False$"):
        est.fit(X, [0, 1, 2, 3])


@pytest.mark.parametrize("Est, MLP", [(DeepClassifier, MLPClassifier),
                                      (DeepRegressor, MLPRegressor)])
def test_every_learned_attribute_of_mlp_is_there(iris, Est, MLP):
    X, y = iris

    def learned(est):
        return {k for k in dir(est) if k.endswith("_") and not k.startswith("_")
                and hasattr(est, k)}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est((4,), max_iter=3).fit(X, y)
        mlp = MLP(hidden_layer_sizes=(4,), max_iter=3).fit(X, y)
    assert learned(mlp) - learned(est) == set()
    assert est.loss_ == est.loss_curve_[-1]
    assert not hasattr(Est(), "loss_")


@pytest.mark.parametrize("dtype", [np.float32, np.dtype("float32")])
def test_a_numpy_float32_dtype_trains_on_and_saves(iris, dtype, tmp_path):
    import npdeep

    X, y = iris
    clf = DeepClassifier((4,), dtype=dtype, max_iter=2, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)  # was "cannot change dtype"
    assert clf.network_.dtype == np.float32 and clf.n_iter_ == 2
    npdeep.save(clf, tmp_path / "clf.npz")
    loaded = npdeep.load(tmp_path / "clf.npz")
    assert loaded.get_params()["dtype"] == "float32"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_regressor_early_stopping_refuses_a_single_validation_sample():
    # R^2 of one sample is NaN: every epoch would count as no improvement (MLPRegressor refuses)
    X = np.linspace(0, 1, 20).reshape(10, 2)
    reg = DeepRegressor((4,), max_iter=30, early_stopping=True, random_state=0)
    with pytest.raises(DataError, match=r"^early_stopping: validation_fraction=0\.1 leaves 1 "
                       r"validation sample out of m = 10, and the validation score \(R\^2\) "
                       r"needs at least 2; .*set early_stopping=False$"):
        reg.fit(X, X[:, 0])
    reg.set_params(validation_fraction=0.2).fit(X, X[:, 0])
    assert np.all(np.isfinite(reg.validation_scores_))
    with pytest.raises(DataError, match=r"leaves 1 validation sample out of m = 2, .*needs at "
                                        r"least 2; give more than 2 samples or set early_stop"):
        reg.set_params(validation_fraction=0.5).fit(X[:2], X[:2, 0])


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
@pytest.mark.parametrize("key, value, message", [
    ("hidden_layer_sizes__width", 3, r"^Invalid parameter 'hidden_layer_sizes__width' for "
     r"estimator Deep\w+: hidden_layer_sizes \(\(100,\)\) has no nested parameters; only "
     r"optimizer__<option>(, schedule__<option> and loss__<option>| and schedule__<option>) "
     r"are nested$"),
    ("callbacks__patience", 3, r"^Invalid parameter 'callbacks__patience' .*: callbacks \(None\) "
     r"has no nested parameters"),
    ("optimizer__name", "sgd", r"^cannot set optimizer__name: choose another optimizer with "
     r"optimizer='sgd' \(or a config dict\), not optimizer__name$"),
])
def test_set_params_refuses_nested_names_of_parameters_without_options(Est, key, value, message):
    est = Est()
    with pytest.raises(ConfigurationError, match=message):
        est.set_params(**{key: value})
    assert est.get_params() == Est().get_params()  # nothing half set


@pytest.mark.parametrize("call", ["class_weight", "sample_weight", "one_class", "partial_fit"])
def test_a_refused_refit_keeps_the_fitted_classifier(iris, call):
    X, y = iris
    clf = DeepClassifier((4,), max_iter=20, random_state=0).fit(X, y)
    before = {k: v for k, v in vars(clf).items()}
    P = clf.predict_proba(X)
    with pytest.raises(ValueError, match={
            "class_weight": r"class_weight has weights for \[9\]",
            "sample_weight": r"sample_weight.shape == \(3,\), expected \(150,\)",
            "one_class": r"only one class is present",
            "partial_fit": r"^sample_weight must be >= 0 with a positive sum, got -1 at "
                           r"index 0$"}[call]):
        if call == "class_weight":
            clf.set_params(class_weight={9: 1.0}).fit(X, y)
        elif call == "sample_weight":
            clf.fit(X, y, sample_weight=np.ones(3))
        elif call == "one_class":
            clf.fit(X[:10], y[:10])
        else:
            clf.partial_fit(X, y, sample_weight=-np.ones(150))
    assert vars(clf).keys() - {"class_weight"} == before.keys() - {"class_weight"}
    assert clf.network_ is before["network_"] and clf.n_iter_ == 20
    np.testing.assert_array_equal(clf.predict_proba(X), P)


def test_a_refused_refit_keeps_the_fitted_regressor_and_a_first_one_leaves_it_unfitted(iris):
    X, _ = iris
    reg = DeepRegressor((4,), max_iter=20, random_state=0).fit(X, X[:, 0])
    P = reg.predict(X)
    with pytest.raises(DataError, match=r"sample_weight.shape == \(3,\), expected \(150,\)"):
        reg.fit(X[:, :3], X[:, 0], sample_weight=np.ones(3))
    assert reg.n_features_in_ == 4 and reg.n_iter_ == 20
    np.testing.assert_array_equal(reg.predict(X), P)
    fresh = DeepRegressor((4,), max_iter=2)
    with pytest.raises(DataError, match=r"sample_weight.shape"):
        fresh.fit(X, X[:, 0], sample_weight=np.ones(3))
    assert not hasattr(fresh, "network_") and not hasattr(fresh, "n_features_in_")


@pytest.mark.parametrize("classes, message", [
    ([[0, 1], [2, 3]], r"^classes must be a 1-D list of every label, e.g\. np\.unique\(y_all\), "
                       r"got an array of shape \(2, 2\)$"),
    (3, r"^classes must be a 1-D list of every label, .* got an array of shape \(\)$"),
    ([0.0, 1.0, 2.0, np.nan], r"^classes holds NaN, which is not a label"),
])
def test_partial_fit_refuses_classes_that_are_not_a_list_of_labels(iris, classes, message):
    X, y = iris
    clf = DeepClassifier((4,))
    with pytest.raises(DataError, match=message):
        clf.partial_fit(X, y, classes=classes)
    assert not hasattr(clf, "classes_")


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_early_stopping_names_weights_that_all_fell_in_the_validation_rows(Est):
    X = np.linspace(-1, 1, 40).reshape(20, 2)
    y = np.arange(20) % 2
    held_out = trained = 0
    for i in range(20):  # one sample weighted at a time: held out or trained on
        sw = np.zeros(20)
        sw[[i, (i + 1) % 20] if Est is DeepClassifier else [i]] = 1.0
        est = Est((2,), max_iter=1, early_stopping=True, validation_fraction=0.5, random_state=0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X, y, sample_weight=sw)
        except DataError as exc:
            if str(exc).startswith("early_stopping: every sample with a positive "
                                   "sample_weight ("):
                assert "was held out for validation (validation_fraction=0.5)" in str(exc)
                held_out += 1
            else:  # the validation score is weighted: rows of weight 0 only weigh nothing
                assert str(exc).startswith("early_stopping: the 10 rows held out for "
                                           "validation (validation_fraction=0.5) all have "
                                           "weight 0 (sample_weight times class_weight)")
                trained += 1
    assert held_out > 0 and trained > 0
    if Est is DeepRegressor:  # its one weighted sample is always on one side only
        assert held_out + trained == 20
    else:
        assert held_out + trained < 20


@pytest.mark.parametrize("missing, kinds", [(None, "'NoneType', 'str'"),
                                            (np.nan, "'number', 'str'")])
def test_a_pandas_label_series_with_a_missing_label_is_named(iris, missing, kinds):
    pd = pytest.importorskip("pandas")
    X, y = iris
    names = [["a", "b", "c"][k] for k in y]
    names[7] = missing
    labels = pd.Series(names, dtype=object)
    clf = DeepClassifier((4,), max_iter=1)
    for call in (lambda: clf.fit(X, labels),
                 lambda: clf.partial_fit(X, labels, classes=["a", "b", "c"])):
        with pytest.raises(DataError, match=rf"^y mixes labels of kinds \[{kinds}\], which "
                                            r"cannot be ordered into classes_; .*\(a missing label "
                                            r"such as None or NaN must be dropped or filled first"):
            call()


def test_warm_and_partial_fits_refuse_a_changed_regressor_output_activation(iris):
    X, _ = iris
    y = X[:, 0] / 10
    for start, again in ((lambda r: r.fit(X, y), lambda r: r.fit(X, y)),
                         (lambda r: r.partial_fit(X, y), lambda r: r.partial_fit(X, y))):
        reg = DeepRegressor((4,), max_iter=2, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start(reg)
        reg.set_params(output_activation="sigmoid")
        with pytest.raises(ConfigurationError, match=r"^warm_start/partial_fit cannot change "
                           r"output_activation='sigmoid' \(fitted: 'identity'\); set "
                           r"warm_start=False"):
            again(reg)
        assert reg.out_activation_ == "identity"


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_a_scipy_sparse_target_trains_as_its_dense_copy(iris, Est):
    sparse = pytest.importorskip("scipy.sparse")
    X, y = iris
    Y = np.c_[y == 1, y == 2].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = Est((4,), max_iter=3, random_state=0).fit(X, Y)
        est = Est((4,), max_iter=3, random_state=0).fit(X, sparse.csr_matrix(Y))
        est.partial_fit(X, sparse.csc_matrix(Y))
        dense.partial_fit(X, Y)
    np.testing.assert_array_equal(est.predict(X), dense.predict(X))


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_dataframe_columns_of_text_or_categories_are_named(iris, Est):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    colour = pd.Series(np.array(["red", "blue", "green"])[y])
    message = (r"^X has columns of text or categories, which the network cannot take as "
               r"numbers: \['colour'\] \(could not convert string to float: '\w+'\); encode "
               r"them first, e.g\. make_column_transformer\(\(OneHotEncoder\(\), \['colour'\]\)")
    for column in (colour, colour.astype("category")):
        with pytest.raises(DataError, match=message):
            Est((4,), max_iter=1).fit(df.assign(colour=column), y)
    est = Est((4,), max_iter=1).fit(df.assign(colour=1.0), y)
    with pytest.raises(DataError, match=message):
        est.predict(df.assign(colour=colour))


def test_a_first_partial_fit_names_labels_missing_from_classes(iris):
    X, y = iris
    clf = DeepClassifier((4,))
    with pytest.raises(DataError, match=r"^y contains labels \[2\] that are not in classes=\[0, "
                                        r"1\]; classes must list every label that will ever "
                                        r"appear \(e\.g\. classes=np\.unique\(y_all\)\)$"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "classes_")


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
@pytest.mark.parametrize("name", ["early_stopping", "warm_start"])
def test_flags_that_are_not_bools_are_refused(iris, Est, name):
    X, y = iris
    est = Est((4,), max_iter=2, **{name: "no"})  # a truthy string: it would have turned it on
    for call in (lambda: est.fit(X, y), lambda: est.partial_fit(X, y, classes=[0, 1, 2])
                 if Est is DeepClassifier else est.partial_fit(X, y)):
        with pytest.raises(ConfigurationError, match=rf"^{name} must be True or False, got 'no'$"):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Est((4,), max_iter=2, **{name: np.bool_(False)}).fit(X, y)


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_a_warm_fit_can_turn_early_stopping_on(iris, Est):
    X, y = iris
    est = Est((4,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        assert est.validation_scores_ is None
        est.set_params(early_stopping=True).fit(X, y)
    assert 1 <= len(est.validation_scores_) == est.n_iter_ - 3
    assert est.best_validation_score_ >= max(est.validation_scores_)


def test_partial_fit_after_fit_names_where_classes_came_from(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = DeepClassifier((4,), max_iter=2).fit(X[y < 2], y[y < 2])
    with pytest.raises(DataError, match=r"^classes=\[0, 1, 2\] differs from classes_ \[0, 1\] the "
                                        r"network was fitted with \(by fit or the first "
                                        r"partial_fit\); fit again \(warm_start=False\)"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 2
    with pytest.raises(DataError, match=r"^classes mixes labels of kinds \['number', 'str'\]"):
        clf.partial_fit(X, y, classes=np.array([0, "a"], dtype=object))
    with pytest.raises(DataError, match=r"^classes must be a 1-D list of every label"):
        clf.partial_fit(X, y, classes=[[0, 1]])


@pytest.mark.parametrize("scale, values", [(2, r"\[0\.0, 2\.0\]"), (-1, r"\[-1\.0, 0\.0\]")])
def test_a_multilabel_matrix_of_other_values_than_0_and_1_is_named(iris, scale, values):
    X, y = iris
    Y = np.c_[y == 1, y == 2].astype(int) * scale
    clf = DeepClassifier((4,), max_iter=2)
    with pytest.raises(DataError, match=rf"^y is a multi-label indicator matrix of shape \(150, "
                                        rf"2\), whose entries must be 0 or 1, got the values "
                                        rf"{values}; encode each label as 0/1"):
        clf.fit(X, Y)
    assert not hasattr(clf, "classes_")


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_a_later_partial_fit_checks_the_parameters_again(iris, Est):
    X, y = iris
    kwargs = {"classes": [0, 1, 2]} if Est is DeepClassifier else {}
    est = Est((4,)).partial_fit(X, y, **kwargs)
    est.set_params(l2=-1.0)
    with pytest.raises(ConfigurationError, match=r"^l2 must be a finite number >= 0, got -1\.0"):
        est.partial_fit(X, y)
    assert est.network_.l2 == 0.0 and est.n_iter_ == 1


def test_class_weight_that_zeroes_every_weighted_sample_is_named(iris):
    X, y = iris
    clf = DeepClassifier((4,), max_iter=2, class_weight={0: 0.0, 1: 1.0, 2: 1.0})
    with pytest.raises(DataError, match=r"^class_weight=\{0: 0\.0, 1: 1\.0, 2: 1\.0\} times "
                                        r"sample_weight is 0 for every sample: .*give one of "
                                        r"their classes a positive class_weight$"):
        clf.fit(X, y, sample_weight=(y == 0).astype(float))


def test_fit_warnings_point_at_the_callers_line(iris):
    # they pointed at npdeep's own code (the wrapper that restores the estimator on errors)
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DeepClassifier((4,), max_iter=2, random_state=0).fit(X, y.reshape(-1, 1))
    kinds = {w.category.__name__: w.filename for w in caught}
    assert {"DataConversionWarning", "ConvergenceWarning"} <= set(kinds)
    assert kinds["DataConversionWarning"] == __file__ and kinds["ConvergenceWarning"] == __file__


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_an_estimator_fitted_with_callbacks_pickles_clones_and_cross_validates(iris, tmp_path):
    # with a CSVLogger: "TypeError: cannot pickle '_csv.writer' object" from pickle, joblib,
    # clone and cross_val_score; every callback also kept the last network and its trainer
    from npdeep.callbacks import CSVLogger, EarlyStopping, JSONLogger

    X, y = iris
    callbacks = [CSVLogger(tmp_path / "log.csv"), JSONLogger(tmp_path / "log.jsonl"),
                 EarlyStopping(monitor="cost", patience=50)]
    clf = DeepClassifier((8,), max_iter=5, callbacks=callbacks, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    assert all(cb.network is None and cb.trainer is None for cb in copy.callbacks)
    assert clf.callbacks[0].network is clf.network_  # the original is left as it was
    joblib.dump(clf, tmp_path / "clf.joblib")
    again = clone(clf).fit(X, y)  # the copied loggers train and write again
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 5
    assert cross_val_score(clf, X, y, cv=3).shape == (3,)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_schedule_changed_between_warm_fits_or_partial_fits_is_followed(iris):
    # the fitted schedule_ went on, while get_params reported the new schedule
    from npdeep.callbacks import Callback
    from npdeep.schedules import ReduceOnPlateau

    X, y = iris
    rates = []

    class Rates(Callback):
        def on_epoch_end(self, epoch, logs):
            rates.append(logs["learning_rate"])

    def run(call, **params):
        rates.clear()
        call(clf.set_params(**params))
        return pytest.approx(rates)

    clf = DeepClassifier((4,), max_iter=3, learning_rate=0.1, callbacks=[Rates()],
                         schedule={"name": "step", "step_size": 1, "factor": 0.5},
                         random_state=0, warm_start=True)
    fit = lambda est: est.fit(X, y)  # noqa: E731
    assert run(fit) == [0.1, 0.05, 0.025]
    assert run(fit, schedule__factor=0.1) == [0.1, 0.01, 0.001]  # was 0.1, 0.05, 0.025
    assert run(fit, schedule="constant") == [0.1, 0.1, 0.1]
    assert run(fit, schedule=None) == [0.1, 0.1, 0.1] and clf.schedule_ is None
    assert run(fit, schedule={"name": "step", "step_size": 1}) == [0.1, 0.05, 0.025]
    # partial_fit: a plateau keeps its reductions while unchanged, a new one starts afresh
    plateau = ReduceOnPlateau(monitor="cost", mode="max", patience=0, factor=0.5)
    clf = DeepClassifier((4,), learning_rate=0.1, callbacks=[Rates()], schedule=plateau,
                         random_state=0)
    # (the cost falls, which mode="max" counts as no improvement: a cut from the 2nd epoch)
    assert run(lambda e: [e.partial_fit(X, y, classes=[0, 1, 2]) for _ in range(4)]) == \
        [0.1, 0.1, 0.05, 0.025]
    assert run(lambda e: [e.partial_fit(X, y) for _ in range(3)], schedule__factor=0.1) == \
        [0.1, 0.1, 0.01]


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_dataframe_columns_of_dates_are_named(iris, Est):
    # before: numpy's DTypePromotionError (a TypeError, not a DataError) naming no column
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    message = (r"^X has columns of dates or durations, which the network cannot take as "
               r"numbers: \['day', 'wait'\]; turn them into numbers first")
    day = pd.Series(pd.date_range("2026-01-01", periods=len(y)))
    with pytest.raises(DataError, match=message):
        Est((4,), max_iter=1).fit(df.assign(day=day, wait=day - day.iloc[0]), y)
    est = Est((4,), max_iter=1).fit(df.assign(day=1.0, wait=2.0), y)
    with pytest.raises(DataError, match=message):
        est.predict(df.assign(day=day, wait=day - day.iloc[0]))


def test_one_hot_encoded_classes_warn_that_they_train_as_labels(iris):
    # a Keras habit (to_categorical): before, trained silently as 3 sigmoids, and predict gave
    # rows with no class or two
    X, y = iris
    Y = np.eye(3)[y]
    with pytest.warns(UserWarning, match=r"^y is a 0/1 matrix of shape \(150, 3\) with exactly "
                      r"one 1 per row: one-hot encoded classes\? .*\(y\.argmax\(axis=1\)\)"):
        clf = DeepClassifier((4,), max_iter=1).fit(X, Y)
    assert clf.out_activation_ == "logistic"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "y is a 0/1 matrix", UserWarning)
        Y[0, 1] = 1  # one sample with two labels: a multi-label target
        DeepClassifier((4,), max_iter=1).fit(X, Y)
        DeepClassifier((4,), max_iter=1).fit(X, y)


@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
def test_input_errors_scikit_learn_finds_are_npdeep_data_errors(Estimator):
    # the README: every error npdeep raises for rejected input derives from NpdeepError; the
    # estimators' checks had raised scikit-learn's plain ValueError (an except DataError
    # missed them). The messages stay scikit-learn's; DataError is still a ValueError.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    bad = X.copy()
    bad[3, 1] = np.nan
    est = Estimator((4,), max_iter=2, random_state=0)
    for args, said in [((bad, y), "Input X contains NaN"),
                       ((X, np.where(y == 0, np.nan, 1.0)), "Input y contains NaN"),
                       ((X[:, 0], y), "Expected 2D array, got 1D array"),
                       ((X, y[:30]), "inconsistent numbers of samples")]:
        with pytest.raises(DataError, match=said):
            est.fit(*args)
    est.fit(X, y)
    with pytest.raises(DataError, match="X has 2 features, but .* is expecting 3"):
        est.predict(X[:, :2])
    with pytest.raises(NotFittedError):  # still scikit-learn's own kind
        Estimator().predict(X)


@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_sample_weight_errors_are_npdeep_data_errors(Estimator, method):
    # scikit-learn's check of sample_weight raised its plain ValueError (an except DataError
    # missed it); the messages stay scikit-learn's
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), np.arange(50) % 2
    nan = np.ones(50)
    nan[7] = np.nan
    inf = np.ones(50)
    inf[7] = np.inf
    kw = {"classes": [0, 1]} if method == "partial_fit" and Estimator is DeepClassifier else {}
    for weights, said in [
        (np.ones(3), r"^sample_weight\.shape == \(3,\), expected \(50,\)!$"),
        (nan, r"^Input sample_weight contains NaN\.$"),
        (inf, r"^Input sample_weight contains infinity"),
        # scikit-learn's message; newer versions add ", got 2D array"
        (np.ones((50, 1)), r"^Sample weights must be 1D array or scalar"),
        (["a"] * 50, r"^could not convert string to float: .*'a'$"),
    ]:
        est = Estimator((4,), max_iter=3, random_state=0)
        with pytest.raises(DataError, match=said):
            getattr(est, method)(X, y, sample_weight=weights, **kw)
        assert not hasattr(est, "network_")


def test_sample_weight_errors_with_class_weight_are_data_errors(iris):
    X, y = iris
    clf = DeepClassifier((4,), max_iter=2, class_weight="balanced")
    with pytest.raises(DataError, match=r"^Input sample_weight contains NaN\.$"):
        clf.fit(X, y, sample_weight=np.full(150, np.nan))


@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
def test_coefs_and_intercepts_can_be_assigned_in_place(iris, Estimator):
    # they were read-only properties; MLPClassifier lets users assign them
    X, y = iris
    est = Estimator((5, 3), max_iter=2, random_state=0).fit(X, y)
    rng = np.random.default_rng(0)
    W1 = est.network_.parameters["W1"]
    coefs = [rng.normal(size=W.shape) for W in est.coefs_]
    intercepts = [rng.normal(size=b.shape) for b in est.intercepts_]
    est.coefs_ = coefs
    est.intercepts_ = tuple(intercepts)
    assert est.network_.parameters["W1"] is W1 or np.shares_memory(
        est.network_.parameters["W1"], W1)  # the same buffer, written in place
    np.testing.assert_array_equal(W1, coefs[0].T)
    for l, (W, b) in enumerate(zip(coefs, intercepts, strict=True), start=1):
        np.testing.assert_array_equal(est.network_.parameters[f"W{l}"], W.T)
        np.testing.assert_array_equal(est.network_.parameters[f"b{l}"][:, 0], b)
        np.testing.assert_array_equal(est.coefs_[l - 1], W)
    A = X
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        A = np.maximum(A @ W + b, 0)
    Z = A @ coefs[-1] + intercepts[-1]
    out = est.predict_proba(X) if Estimator is DeepClassifier else est.predict(X)
    expected = np.exp(Z - Z.max(1, keepdims=True)) if Estimator is DeepClassifier else Z[:, 0]
    if Estimator is DeepClassifier:
        expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    coefs[0][0, 0] = 123.0  # a copy: the list given stays the user's
    assert est.coefs_[0][0, 0] != 123.0


@pytest.mark.parametrize("attr, value, message", [
    ("coefs_", "Wrong", r"^coefs_ must be a list of L = 3 arrays, one per layer, got str$"),
    ("coefs_", [np.ones((4, 5)), np.ones((5, 3))],
     r"^coefs_ must be a list of L = 3 arrays, one per layer \(units \[4, 5, 3, 3\]\), got 2$"),
    ("coefs_", [np.ones((5, 4)), np.ones((5, 3)), np.ones((3, 3))],
     r"^coefs_\[0\] must have shape \(4, 5\) \(n\[0\], n\[1\]\), as layer 1 of the fitted "
     r"network, got \(5, 4\)$"),
    ("coefs_", [np.ones((4, 5)), np.ones((5, 3)), np.full((3, 3), np.nan)],
     r"^coefs_\[2\] contains NaN or inf$"),
    ("coefs_", [np.ones((4, 5)), [["a"] * 3] * 5, np.ones((3, 3))],
     r"^coefs_\[1\] must be numeric: could not convert string to float: 'a'$"),
    ("coefs_", [np.ones((4, 5)), np.ones((5, 3)), np.ones((3, 3)) * 1j],
     r"^coefs_\[2\] must hold real numbers, got complex \(dtype complex128\)$"),
    ("intercepts_", [np.ones(5), np.ones(3)],
     r"^intercepts_ must be a list of L = 3 arrays, one per layer \(units \[4, 5, 3, 3\]\), "
     r"got 2$"),
    ("intercepts_", [np.ones(5), np.ones((3, 1)), np.ones(3)],
     r"^intercepts_\[1\] must have shape \(3,\) \(n\[2\],\), as layer 2 of the fitted network, "
     r"got \(3, 1\)$"),
])
def test_assigning_coefs_or_intercepts_of_the_wrong_shape_is_refused(iris, attr, value, message):
    X, y = iris
    clf = DeepClassifier((5, 3), max_iter=2, random_state=0).fit(X, y)
    before = clf.network_.parameters.flat.copy()
    with pytest.raises(DataError, match=message):
        setattr(clf, attr, value)
    np.testing.assert_array_equal(clf.network_.parameters.flat, before)  # nothing copied
    with pytest.raises(NotFittedError):
        setattr(DeepClassifier(), attr, [])


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
def test_the_early_stopping_score_weighs_the_held_out_rows(Est):
    # scikit-learn's MLP weights its validation score: rows of weight 0 must not choose it
    from sklearn.metrics import accuracy_score, r2_score

    from npdeep.splits import validation_split

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int) if Est is DeepClassifier else X[:, 0] + 0.1 * X[:, 1]
    w = rng.random(300)
    est = Est((8,), max_iter=1, early_stopping=True, validation_fraction=0.3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=w)
    _, val = validation_split(est.network_, X.T, y.reshape(1, -1).astype(float), 0.3, 0)
    metric = accuracy_score if Est is DeepClassifier else r2_score
    pred = est.predict(X[val])
    assert est.best_validation_score_ == pytest.approx(metric(y[val], pred, sample_weight=w[val]))
    assert est.best_validation_score_ != pytest.approx(metric(y[val], pred), rel=1e-6)


@pytest.mark.parametrize("Est", [DeepClassifier, DeepRegressor])
@pytest.mark.parametrize("name, value, ours", [
    ("alpha", 1e-4, "l2"), ("solver", "sgd", "optimizer"),
    ("learning_rate_init", 0.1, "learning_rate"), ("beta_1", 0.8, "optimizer__beta1"),
    ("epochs", 5, "max_iter"),
])
def test_mlp_and_keras_parameter_names_are_answered_with_npdeeps(Est, name, value, ours):
    with pytest.raises(TypeError, match=rf"^{Est.__name__}\.__init__\(\) got an unexpected "
                                        rf"keyword argument '{name}'; npdeep's name for it is "
                                        rf"{ours}"):
        Est(**{name: value})
    with pytest.raises(ValueError, match=rf"^Invalid parameter '{name}' for estimator "
                                         rf"{Est.__name__}; npdeep's name for it is {ours}"):
        Est().set_params(**{name: value})
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'bogus'$"):
        Est(bogus=1)
    assert clone(Est((3,), l2=0.5)).l2 == 0.5  # clone and pickling still build them
    assert pickle.loads(pickle.dumps(Est((3,), l2=0.5))).l2 == 0.5


def test_early_stopping_s_validation_score_reaches_the_logs(tmp_path, capsys):
    # the score was kept in validation_scores_ only: no CSV column, no progress entry, and
    # EarlyStopping(monitor='val_accuracy') silently watched the training accuracy
    from npdeep.callbacks import CSVLogger, EarlyStopping

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    stop = EarlyStopping(monitor="val_accuracy", patience=50)
    clf = DeepClassifier(early_stopping=True, max_iter=4, verbose=2, n_iter_no_change=50,
                         callbacks=[CSVLogger(tmp_path / "es.csv"), stop])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert stop.tracker.used == "val_accuracy"
    with open(tmp_path / "es.csv") as fh:
        rows = list(csv.DictReader(fh))
    np.testing.assert_allclose([float(r["val_accuracy"]) for r in rows], clf.validation_scores_)
    lines = capsys.readouterr().err.splitlines()
    assert sum("val_accuracy=" in line for line in lines) == 4
    reg_stop = EarlyStopping(monitor="val_r2", patience=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        DeepRegressor(early_stopping=True, max_iter=3, callbacks=[reg_stop]).fit(X, X[:, 0])
    assert reg_stop.tracker.used == "val_r2"


@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
def test_default_init_is_glorot_as_mlp_and_lecun_for_selu(iris, Estimator):
    X, y = iris
    y = y if Estimator is DeepClassifier else y * 1.0
    for activation, expected in [("relu", "glorot"), ("tanh", "glorot"), ("selu", "lecun")]:
        est = Estimator((64, 32), activation=activation, max_iter=1, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        assert est.network_.init == expected
        assert est.get_params()["init"] is None  # the parameter is left as given
        # Glorot's scale on W1 (64, 4): sqrt(2 / (4 + 64)), not He's sqrt(2 / 4)
        if expected == "glorot":
            W1 = est.network_.parameters["W1"]
            assert abs(W1.std() / np.sqrt(2 / (4 + 64)) - 1) < 0.25
    est = Estimator((8,), init="he", max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert est.fit(X, y).network_.init == "he"
