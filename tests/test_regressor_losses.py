"""DeepRegressor's ``loss``: MLPRegressor's names (squared_error, poisson) and npdeep's robust
losses (mean absolute error, Huber), their target scaling, and files."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.metrics import mean_poisson_deviance
from sklearn.neural_network import MLPRegressor

import npdeep
from npdeep import DeepRegressor
from npdeep.errors import ConfigurationError, DataError


@pytest.fixture
def outliers():
    """make_regression with 5% of the training targets moved by 5-10 standard deviations."""
    X, y = make_regression(800, 8, noise=5.0, random_state=0)
    rng = np.random.default_rng(0)
    Xtr, Xte, ytr, yte = X[:600], X[600:], y[:600].copy(), y[600:]
    idx = rng.choice(600, 30, replace=False)
    ytr[idx] += rng.choice([-1, 1], 30) * rng.uniform(5, 10, 30) * ytr.std()
    return Xtr, ytr, Xte, yte


def _fit(loss, X, y, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in the few epochs a test affords
        return DeepRegressor((32,), loss=loss, **{"learning_rate": 0.003, "max_iter": 150,
                                                  "random_state": 0, **options}).fit(X, y)


def test_the_robust_losses_beat_squared_error_on_targets_with_gross_outliers(outliers):
    Xtr, ytr, Xte, yte = outliers
    scores = {str(loss): _fit(loss, Xtr, ytr).score(Xte, yte)
              for loss in ["squared_error", "mae", "huber", {"name": "huber", "delta": 0.3}]}
    mse = scores.pop("squared_error")
    assert mse < 0.85, mse  # the outliers pull the fit (0.78)
    for loss, score in scores.items():
        assert score > 0.95 and score > mse + 0.15, (loss, score, mse)


def test_squared_error_is_the_default_and_mlps_name_is_npdeeps(outliers):
    Xtr, ytr, _, _ = outliers
    a = _fit("squared_error", Xtr[:100], ytr[:100])
    b = _fit("mse", Xtr[:100], ytr[:100])
    for Wa, Wb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
    assert DeepRegressor().loss == "squared_error"
    assert a.network_.loss.name == "mean_squared_error" and a.out_activation_ == "identity"


def _counts(m=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 4))
    mu = np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.2 * X[:, 2] * X[:, 3] + 0.5)
    return X, rng.poisson(mu).astype(float)


def test_poisson_has_mlps_exp_output_and_its_deviance():
    X, y = _counts()
    Xtr, ytr, Xte, yte = X[:1000], y[:1000], X[1000:], y[1000:]
    reg = _fit("poisson", Xtr, ytr)
    assert reg.out_activation_ == "exp"
    ours = mean_poisson_deviance(yte, reg.predict(Xte))
    constant = mean_poisson_deviance(yte, np.full_like(yte, ytr.mean()))
    assert ours < 0.7 * constant, (ours, constant)
    if "loss" not in inspect.signature(MLPRegressor).parameters:
        pytest.skip("MLPRegressor's loss='poisson' came in scikit-learn 1.7")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPRegressor(hidden_layer_sizes=(32,), loss="poisson", learning_rate_init=0.003,
                           max_iter=150, random_state=0).fit(Xtr, ytr)
    assert mlp.out_activation_ == "exp"
    theirs = mean_poisson_deviance(yte, mlp.predict(Xte))
    constant = mean_poisson_deviance(yte, np.full_like(yte, ytr.mean()))
    assert ours < 0.7 * constant and ours < 1.1 * theirs, (ours, theirs, constant)


def test_poisson_trains_on_the_counts_divided_by_a_power_of_two_near_their_mean():
    X, y = _counts(200)
    reg = _fit("poisson", X, y, max_iter=2)
    # not centred: the network's own outputs are the predictions (the scale folds into b[L])
    np.testing.assert_allclose(reg.network_.predict(X.T)[0], reg.predict(X), rtol=1e-12)
    scale = reg._y_scale[0]
    assert reg._y_mean.tolist() == [0.0] and np.log2(scale) == round(np.log2(scale))
    assert scale / 2**0.5 <= y.mean() <= scale * 2**0.5


@pytest.mark.parametrize("level", [1e-9, 1.0, 9000.0])
def test_poisson_learns_rates_of_any_size(level):
    # rates near 9,000 started from exp(0) = 1 and stopped at R^2 -11.5; near 1e-9 the cost
    # and tol were of 1e-9, and fit stopped predicting 0.01 (R^2 -1.8e13)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = np.exp(0.5 * X[:, 0]) * level
    reg = DeepRegressor(loss="poisson", random_state=0, max_iter=300).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert mean_poisson_deviance(y, reg.predict(X)) < 0.1 * mean_poisson_deviance(
        y, np.full_like(y, y.mean()))


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
@pytest.mark.parametrize("level", [1e-6, 1.0, 1e3])
def test_a_relu_output_learns_targets_of_any_size(activation, level):
    # relu(s z) = s relu(z): y is divided by a power of two; targets of 1e3 reached R^2 -5,
    # of 1e-6 R^2 -5.3 after 18 iterations, without a warning
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = (np.abs(X[:, 0]) + 0.5) * level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        reg = DeepRegressor(output_activation=activation, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert reg._y_mean.tolist() == [0.0]
    np.testing.assert_allclose(reg.network_.predict(X.T)[0], reg.predict(X), rtol=1e-12)


@pytest.mark.parametrize("level, warns", [(1e-6, True), (1e-3, True), (0.5, False),
                                          (1e3, True)])
def test_an_output_trained_on_y_as_given_warns_when_y_is_far_from_unit_size(level, warns):
    # tanh on targets of 1e-6 trained to an R^2 of -6.5e8 without a word
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.tanh(X[:, 0]) * level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DeepRegressor((4,), output_activation="softplus" if level > 1 else "tanh",
                      max_iter=1).fit(X, np.abs(y) if level > 1 else y)
    messages = [str(w.message) for w in caught]
    far = [m for m in messages if "far from the unit size" in m]
    assert bool(far) == warns, messages
    if warns:
        assert "y's root mean square is" in far[0] and "output_activation='identity'" in far[0]


def test_poisson_refuses_negative_targets():
    X, y = _counts(50)
    y[3] = -2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused, not warned of as out of exp's reach
        with pytest.raises(DataError, match=r"poisson targets must be >= 0 \(counts or "
                                            r"rates\), got values down to -2"):
            DeepRegressor((4,), loss="poisson", max_iter=1).fit(X, y)


def test_poisson_with_a_softplus_output_and_refused_with_identity():
    X, y = _counts(100)
    reg = _fit("poisson", X, y, output_activation="softplus", max_iter=3)
    assert reg.out_activation_ == "softplus" and (reg.predict(X) > 0).all()
    with pytest.raises(ConfigurationError, match=r"loss 'poisson' needs an output activation "
                                                 r"in \['exp', 'softplus'\], got 'identity'"):
        DeepRegressor((4,), loss="poisson", output_activation="identity").fit(X, y)


@pytest.mark.parametrize("loss", ["bce", "categorical_crossentropy"])
def test_a_classification_loss_is_refused(loss):
    X, y = _counts(20)
    with pytest.raises(ConfigurationError,
                       match=rf"^DeepRegressor's loss must be a regression loss, got {loss!r}: "
                             r"'squared_error', 'poisson', 'mean_absolute_error' or 'huber'"):
        DeepRegressor((4,), loss=loss, max_iter=1).fit(X, y)


def test_an_unknown_loss_lists_the_valid_names():
    with pytest.raises(ConfigurationError, match=r"unknown loss 'l1'; valid names: .*huber"):
        DeepRegressor((4,), loss="l1", max_iter=1).fit(np.zeros((3, 2)), np.zeros(3))


def test_a_warm_start_cannot_change_the_loss():
    X, y = _counts(60)
    reg = _fit("huber", X, y, max_iter=2, warm_start=True)
    reg.set_params(loss={"name": "huber", "delta": 0.5})
    with pytest.raises(ConfigurationError,
                       match=r"^warm_start/partial_fit cannot change loss=\{'name': 'huber', "
                             r"'delta': 0\.5\} \(fitted: \{'name': 'huber', 'delta': 1\.0\}\)"):
        reg.fit(X, y)


def test_a_warm_start_to_a_loss_of_another_output_names_the_loss():
    # said "cannot change output_activation='exp'", a parameter the user never set
    X, y = _counts(60)
    reg = _fit("squared_error", X, y, max_iter=2, warm_start=True)
    reg.set_params(loss="poisson")
    with pytest.raises(ConfigurationError,
                       match=r"^warm_start/partial_fit cannot change loss='poisson', whose "
                             r"output is 'exp' \(fitted: 'identity'\)"):
        reg.fit(X, y)


def test_hubers_delta_is_a_nested_parameter_for_a_search():
    # loss__delta was refused ("loss ('huber') has no nested parameters"), unlike
    # optimizer__<option>
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    X, y = _counts(80)
    reg = DeepRegressor((4,), loss="huber", max_iter=3, random_state=0)
    assert reg.get_params()["loss__delta"] == 1.0
    assert clone(reg.set_params(loss__delta=0.5)).loss == {"name": "huber", "delta": 0.5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(reg, {"loss__delta": [0.5, 2.0]}, cv=2).fit(X, y)
    assert search.best_estimator_.loss["delta"] in (0.5, 2.0)
    assert search.best_estimator_.network_.loss.delta == search.best_estimator_.loss["delta"]
    with pytest.raises(ConfigurationError, match=r"cannot set loss__delta: invalid options for "
                                                 r"loss 'mean_squared_error': \['delta'\]"):
        DeepRegressor().set_params(loss__delta=2.0)


@pytest.mark.parametrize("loss", [{"name": "huber", "delta": 0.25}, "mae", "poisson"], ids=str)
def test_a_saved_regressor_keeps_its_loss(tmp_path, loss):
    X, y = _counts(80)
    reg = _fit(loss, X, y, max_iter=3)
    path = tmp_path / "reg.npdeep"
    npdeep.save(reg, path)
    loaded = npdeep.load(path)
    assert loaded.loss == loss
    assert loaded.network_.loss.get_config() == reg.network_.loss.get_config()
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    loaded.set_params(warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded.fit(X, y)  # the loaded parameters build the same network


def test_a_loss_object_is_saved_as_its_config(tmp_path):
    X, y = _counts(40)
    reg = _fit(npdeep.losses.Huber(delta=2.0), X, y, max_iter=2)
    npdeep.save(reg, tmp_path / "r.npdeep")
    assert npdeep.load(tmp_path / "r.npdeep").loss == {"name": "huber", "delta": 2.0}


def test_a_relu_output_starts_alive_at_every_seed():
    # b[L] = 0: after relu hidden layers the output was 0 for every sample at some seeds, and
    # never came alive (every prediction 0, R^2 -2.4, no warning); it starts at the mean now
    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    y = np.abs(X[:, 0]) * 10 + X[:, 1] ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = [DeepRegressor((64, 32), output_activation="relu", random_state=seed,
                                max_iter=60).fit(X, y).score(X, y) for seed in range(8, 16)]
    assert min(scores) > 0.8, scores


@pytest.mark.parametrize("spec", [dict(output_activation="relu"), dict(loss="poisson")],
                         ids=["relu", "poisson"])
def test_a_first_partial_fit_of_zeros_leaves_the_scale_to_a_later_batch(spec):
    # a zero-inflated stream: the first batch's zeros fixed the scale at 1 for good (R^2 -0.44
    # for targets near 1e4)
    rng = np.random.RandomState(0)
    X = rng.randn(1000, 4)
    y = (np.abs(X[:, 0]) + 0.5) * 1e4
    reg = DeepRegressor((32,), learning_rate=0.01, random_state=0, **spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.partial_fit(X[:20], np.zeros(20))
        assert reg._y_scale.tolist() == [1.0] and reg._y_unscaled.tolist() == [True]
        for _ in range(20):
            for s in range(0, 1000, 200):
                reg.partial_fit(X[s:s + 200], y[s:s + 200])
    assert reg._y_scale[0] in (8192.0, 16384.0) and not reg._y_unscaled.any()
    assert reg.score(X, y) > 0.5
