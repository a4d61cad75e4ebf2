"""DeepRegressor standardizes its targets: defaults learn targets of any scale and offset."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_regression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from npdeep import DeepRegressor


def _r2(X, y, seed, **kw):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed)
    pipe = make_pipeline(StandardScaler(), DeepRegressor(random_state=seed, **kw))
    return pipe.fit(X_tr, y_tr).score(X_te, y_te)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("seed", [0, 1])
def test_defaults_learn_large_offset_targets(seed):
    # MLPRegressor's defaults get R^2 ~ 0 here: the targets are ~5000 +- 100000
    # (0.97 and 0.90: the same as on y itself, see the offset test below)
    X, y = make_regression(400, 10, n_informative=8, noise=10, random_state=seed)
    assert _r2(X, y * 1000 + 5000, seed) > 0.85


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_defaults_reach_a_sensible_r2_on_diabetes():
    # good models get 0.4-0.5; MLPRegressor's defaults about -1 (targets ~150 +- 77)
    X, y = load_diabetes(return_X_y=True)
    scores = [_r2(X, y, seed) for seed in range(3)]
    assert np.mean(scores) > 0.3


def test_learned_attributes_are_in_target_units():
    X, y = make_regression(120, 4, noise=1, random_state=0)
    y = np.column_stack([y * 1000 + 5000, -y / 1000])
    reg = DeepRegressor((8,), max_iter=20, random_state=0).fit(X, y)
    A = X
    for W, b in zip(reg.coefs_[:-1], reg.intercepts_[:-1], strict=True):
        A = np.maximum(A @ W + b, 0)
    np.testing.assert_allclose(A @ reg.coefs_[-1] + reg.intercepts_[-1], reg.predict(X),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(reg._y_scale, np.exp2(np.round(np.log2(reg._y_scale))))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_and_warm_start_keep_the_first_scaling():
    X, y = make_regression(200, 5, noise=1, random_state=0)
    y = y * 1000 + 5000
    reg = DeepRegressor((16,), learning_rate=0.01, random_state=0)
    for _ in range(100):
        reg.partial_fit(X, y)
    mean, scale = reg._y_mean.copy(), reg._y_scale.copy()
    reg.partial_fit(X[:10], y[:10] * 10)
    np.testing.assert_array_equal(reg._y_mean, mean)
    np.testing.assert_array_equal(reg._y_scale, scale)
    assert reg.score(X, y) > 0.9
    warm = DeepRegressor((16,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    before = warm.score(X, y)
    warm.fit(X, y)
    assert warm.score(X, y) >= before - 1e-3  # continues from the same weights


def _stream_r2(X, y, y_first):
    """R^2 after partial_fit on ``y_first`` (the first rows' targets), then 20 epochs of 32."""
    reg = DeepRegressor((32,), learning_rate=0.01, random_state=0)
    reg.partial_fit(X[:len(y_first)], y_first)
    for _ in range(20):
        for i in range(0, len(y), 32):
            reg.partial_fit(X[i:i + 32], y[i:i + 32])
    return reg.score(X, y), reg


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_partial_fit_scales_targets_the_first_call_could_not():
    # a first call with one sample, or constant targets, has no spread: the scale stayed 1
    # for good and targets ~150000 +- 77000 trained to R^2 0.05 (32 samples first: 0.66)
    X, y = load_diabetes(return_X_y=True)
    X, y = (X - X.mean(0)) / X.std(0), y * 1000
    wide, reg = _stream_r2(X, y, y[:32])
    one, reg_one = _stream_r2(X, y, y[:1])
    constant, reg_constant = _stream_r2(X, y, np.full(5, y[0]))
    assert wide > 0.6 and one > 0.55 and constant > 0.55
    np.testing.assert_array_equal(reg_one._y_scale, reg._y_scale)  # 2**16, from the batch
    np.testing.assert_array_equal(reg_constant._y_scale, reg._y_scale)
    assert reg_one._y_mean == pytest.approx(y[:1])  # the mean stays that of the first call
    assert not reg_one._y_unscaled.any()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_late_scale_fills_only_the_outputs_still_unscaled():
    X, y = make_regression(64, 3, noise=1, random_state=0)
    Y = np.column_stack([y * 1000, y / 1000])
    power = np.exp2(np.round(np.log2(Y[:8].std(axis=0))))
    reg = DeepRegressor((8,), random_state=0).partial_fit(X[:1], Y[:1])
    np.testing.assert_array_equal(reg._y_scale, [1.0, 1.0])
    np.testing.assert_array_equal(reg._y_unscaled, [True, True])
    reg.partial_fit(X[:8], np.column_stack([np.full(8, 5.0), Y[:8, 1]]))  # output 0 constant
    np.testing.assert_array_equal(reg._y_scale, [1.0, power[1]])
    np.testing.assert_array_equal(reg._y_unscaled, [True, False])
    reg.partial_fit(X[:8], Y[:8] * 3)  # output 1 keeps its scale; output 0 takes this one
    late = np.exp2(np.round(np.log2((Y[:8, 0] * 3).std())))
    np.testing.assert_array_equal(reg._y_scale, [late, power[1]])
    np.testing.assert_array_equal(reg._y_mean, Y[0])  # the means stay those of call 1
    assert late > 1000 and not reg._y_unscaled.any()


def test_non_identity_output_trains_on_the_targets_as_given():
    X, y = make_regression(100, 3, random_state=0)
    y01 = (y - y.min()) / (y.max() - y.min())
    reg = DeepRegressor((8,), output_activation="sigmoid", max_iter=5, random_state=0)
    reg.fit(X, y01)
    np.testing.assert_array_equal(reg._y_mean, [0.0])
    np.testing.assert_array_equal(reg._y_scale, [1.0])


def test_unscaled_features_warn_and_standardized_ones_do_not():
    from sklearn.datasets import load_wine

    from npdeep import DeepClassifier

    X, y = load_wine(return_X_y=True)  # proline ~ 750
    with pytest.warns(UserWarning, match="not standardized.*StandardScaler"):
        DeepClassifier((4,), max_iter=1).fit(X, y)
    with pytest.warns(UserWarning, match="not standardized"):
        DeepRegressor((4,), max_iter=1).partial_fit(X, y.astype(float))
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", "DeepClassifier: the features", UserWarning)
        make_pipeline(StandardScaler(), DeepClassifier((4,), max_iter=1)).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fresh_network_starts_at_the_target_mean_so_an_offset_changes_nothing():
    # temperatures in kelvin: the mean is 30 spreads away from 0; a fresh network must not
    # start 30 standardized units off (its initial output layer is drawn for y's standardized
    # units), so adding a constant to y shifts the predictions by it and changes nothing else
    X, y = make_regression(200, 4, noise=1, random_state=0)
    y = y / y.std()
    fits = [DeepRegressor((8,), learning_rate=0.01, max_iter=20, random_state=0).fit(X, y + c)
            for c in (0.0, 30.0)]
    np.testing.assert_allclose(fits[1].loss_curve_, fits[0].loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(fits[1].predict(X) - 30.0, fits[0].predict(X), atol=1e-6)
    # nor does a small unit: y in units of 2^-13 (~1e-4) trains as y does
    small = DeepRegressor((8,), learning_rate=0.01, max_iter=20, random_state=0).fit(X, y / 2**13)
    np.testing.assert_allclose(small.loss_curve_, fits[0].loss_curve_, rtol=1e-6)
    first = DeepRegressor((8,), learning_rate=0.01, random_state=0).partial_fit(X, y + 30.0)
    assert first.loss_curve_[0] < 2 * fits[0].loss_curve_[0]


def test_float32_warns_when_it_rounds_predictions_beyond_the_targets_spread():
    # the fitted output layer holds the mean: a float32 network predicts y ~ 1e8 +- 1 in steps
    # of 8 (R^2 about 0 where float64 and `npdeep train`, which keeps the scaling apart, get 0.98)
    import warnings

    X, y = make_regression(64, 3, noise=1, random_state=0)
    y = y / y.std()
    with pytest.warns(UserWarning, match=r"dtype=float32, predictions of y near 1e\+08 are "
                      r"rounded to multiples of 8, .*output 1\).*or use dtype='float64'"):
        DeepRegressor((4,), max_iter=1, dtype="float32").fit(X, np.column_stack([y, y + 1e8]))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "DeepRegressor: with dtype", UserWarning)
        DeepRegressor((4,), max_iter=1, dtype="float64").fit(X, y + 1e8)
        DeepRegressor((4,), max_iter=1, dtype="float32").fit(X, y * 1000 + 5000)
        DeepRegressor((4,), max_iter=1, dtype="float32").fit(X, np.full(64, 1e8))  # constant


@pytest.mark.parametrize("g, shift", [("sigmoid", 0.0), ("tanh", 0.0), ("relu", -200.0),
                                      ("softplus", -200.0), ("elu", -200.0), ("selu", -200.0),
                                      ("gelu", -200.0), ("silu", -200.0)])
def test_targets_out_of_the_output_activation_s_reach_warn(g, shift):
    # diabetes' y (25 to 346) with a sigmoid output: R^2 about -3.9, silently, before
    import warnings

    X, y = load_diabetes(return_X_y=True)
    reach = {"sigmoid": r"\[0, 1\]", "tanh": r"\[-1, 1\]", "relu": r"\[0, inf\]",
             "softplus": r"\[0, inf\]", "elu": r"\[-1, inf\]", "selu": r"\[-1.7581, inf\]",
             "gelu": r"\[-0.169971, inf\]", "silu": r"\[-0.278465, inf\]"}[g]
    with pytest.warns(UserWarning, match=rf"^DeepRegressor: y has values in \[{y.min() + shift:g}, "
                      rf"{y.max() + shift:g}\], outside {reach} where output_activation='{g}' "
                      r"can reach; scale y into that range, or use output_activation='identity'"):
        DeepRegressor((4,), output_activation=g, max_iter=1).fit(X, y + shift)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "DeepRegressor: y has values", UserWarning)
        y01 = (y - y.min()) / (y.max() - y.min())
        DeepRegressor((4,), output_activation=g, max_iter=1).fit(X, y01)
        DeepRegressor((4,), max_iter=1).fit(X, y + shift)  # identity: standardized


@pytest.mark.parametrize("spelling", ["linear", "Identity", {"name": "identity"}, "identity()"])
def test_every_spelling_of_the_identity_output_standardizes_y(spelling):
    # before: only the string "identity" standardized y; "linear" (a documented alias) or a
    # config dict trained on raw targets (mean 152): R^2 -2.8 against 0.52, silently
    from npdeep.activations import Identity

    X, y = load_diabetes(return_X_y=True)
    spelling = Identity() if spelling == "identity()" else spelling
    plain = DeepRegressor((16,), max_iter=50, random_state=0).fit(X, y)
    other = DeepRegressor((16,), output_activation=spelling, max_iter=50,
                          random_state=0).fit(X, y)
    assert other._y_mean == pytest.approx(plain._y_mean) and other._y_mean[0] > 100
    np.testing.assert_array_equal(other.predict(X[:20]), plain.predict(X[:20]))
    assert plain.score(X, y) > 0.1  # raw targets scored -2.8


@pytest.mark.parametrize("scale", [1e-3, 0.05])
def test_features_all_far_below_unit_size_warn_too(scale):
    # features all of 1e-3 trained silently to the class prior (accuracy 0.56 against 0.99)
    from npdeep import DeepClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    X[:, 3] = 0.0  # an all-zero column is not what is measured
    with pytest.warns(UserWarning, match=r"not standardized \(the largest root mean square of a "
                      r"column is [0-9.e-]+, column \d's\).*StandardScaler"):
        DeepClassifier((4,), max_iter=1).fit(X * scale, X[:, 0] > 0)
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", "DeepClassifier: the features", UserWarning)
        DeepClassifier((4,), max_iter=1).fit(X * 0.5, X[:, 0] > 0)  # one column of 0.5: fine
        DeepClassifier((4,), max_iter=1).fit(np.zeros((60, 2)), X[:, 0] > 0)  # nothing to say


def test_features_whose_squares_overflow_say_how_large_they_are():
    # 1e300 squared is inf: the warning read "a root mean square of inf"
    X = np.random.default_rng(0).normal(size=(40, 3))
    X[:, 1] *= 1e300
    with pytest.warns(UserWarning, match=r"column 1 has values up to [0-9.]+e\+300"):
        DeepRegressor((4,), max_iter=1).fit(X, X[:, 0])
