"""Diagnostics: saturation, dead units, gradient ratio, and the stuck verdict in words."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import npdeep
from npdeep.diagnostics import diagnose, prior_entropy

ARTICLE_UNITS = [30, 4, 4, 4, 4, 3, 1]


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    mean, std = X_tr.mean(0), X_tr.std(0)
    return (X_tr - mean).T / std[:, None], y_tr, (X_te - mean).T / std[:, None], y_te


def test_article_network_with_article_init_and_gd_is_flagged_stuck(cancer):
    X, y, _, _ = cancer
    net = npdeep.Network(ARTICLE_UNITS, activation="sigmoid", init="article", seed=0)
    with np.errstate(all="raise"):
        h = net.fit(X, y, epochs=1000, learning_rate=0.01)
    d = h.diagnosis
    assert d.stuck
    assert d.cost == pytest.approx(prior_entropy(net, net.check_Y(y, y.size)), rel=0.02)
    text = d.warnings[0]
    assert "entropy of the class prior" in text
    for cause in ("init='article'", "sigmoid", "optimizer='adam'", "learning rate 0.01"):
        assert cause in text
    assert len(set(net.predict(X).tolist())) == 1  # majority class only


def test_article_network_learns_with_glorot_and_adam(cancer):
    X, y, X_te, y_te = cancer
    net = npdeep.Network(ARTICLE_UNITS, activation="sigmoid", init="glorot", seed=0)
    with np.errstate(all="raise"):
        h = net.fit(X, y, epochs=300, learning_rate=0.01, optimizer="adam", batch_size=32)
    assert np.mean(net.predict(X_te) == y_te) >= 0.95
    assert not h.diagnosis.stuck and h.diagnosis.warnings == []


def test_saturation_dead_units_and_ratio(rng):
    X = rng.normal(size=(3, 50)) * 30
    y = (rng.random(50) > 0.5).astype(float)
    sat = npdeep.Network([3, 6, 1], activation="sigmoid", init="article", seed=0)
    d = diagnose(sat, X, y)
    assert d.layers[0]["saturated"] > 0.5 and d.layers[0]["dead"] is None
    relu = npdeep.Network([3, 6, 1], activation="relu", seed=0)
    relu.parameters["b1"] = -1e3 * np.ones((6, 1))
    d = diagnose(relu, X / 30, y)
    assert d.layers[0]["dead"] == 1.0
    assert d.layers[0]["gradient_norm"] == 0.0
    assert d.stuck and "dead units" in d.warnings[0]
    assert "layer" in str(d) and "gradient ratio" in str(d)


def test_vanishing_gradients_reason(rng):
    X = rng.normal(size=(3, 40))
    y = (X[0] > 0).astype(float)
    net = npdeep.Network([3, 8, 8, 8, 8, 8, 1], activation="sigmoid", init="normal", seed=0)
    d = diagnose(net, X, y)
    assert d.gradient_ratio < 1e-3
    assert d.stuck and "vanishing gradients" in " ".join(d.reasons)
    assert "init='normal'" in d.warnings[0]


def test_prior_entropy_binary_and_softmax():
    net = npdeep.Network([2, 3, 1], seed=0)
    p = 0.25
    Y = np.array([[1.0, 0.0, 0.0, 0.0]])
    assert prior_entropy(net, Y) == pytest.approx(-(p * np.log(p) + (1 - p) * np.log(1 - p)))
    soft = npdeep.Network([2, 3, 3], seed=0)
    assert prior_entropy(soft, np.eye(3)) == pytest.approx(np.log(3))
    assert prior_entropy(npdeep.Network([2, 3, 1], output_activation="identity"), Y) is None


def test_diagnosis_looks_across_a_file_sorted_by_label(cancer):
    """The samples diagnosed are spread over the set, not its first rows (one class there)."""
    X, y, _, _ = cancer
    order = np.argsort(-y, kind="stable")
    Xs, ys = X[:, order], y[order]
    net = npdeep.Network([X.shape[0], 8, 1], activation="relu", seed=0)
    net.parameters["b1"][:] = -100.0  # every relu unit dead: the network can only learn the prior
    h = net.fit(Xs, ys, epochs=200, optimizer="adam", learning_rate=0.05)
    assert h.diagnosis.stuck
    assert h.diagnosis.cost == pytest.approx(prior_entropy(net, net.check_Y(ys, ys.size)),
                                             rel=0.02)


def test_no_prior_entropy_for_a_squared_error_cost(rng):
    # the entropy (nats) was compared with a squared error: a sigmoid + MSE network whose
    # constant output 0.6412 is nowhere near the class frequency 0.05 was said to predict it
    Y = (np.arange(200) % 20 == 0).astype(float).reshape(1, -1)  # p = 0.05
    H = -(0.05 * np.log(0.05) + 0.95 * np.log(0.95))
    net = npdeep.Network([2, 3, 1], activation="tanh", output_activation="sigmoid",
                         loss="mean_squared_error", seed=0)
    net.parameters["W2"] = np.zeros((1, 3))
    c = (0.1 + np.sqrt(0.01 + 4 * (2 * H - 0.05))) / 2  # 0.5 (p (1-c)^2 + (1-p) c^2) = H
    net.parameters["b2"] = [[np.log(c / (1 - c))]]
    X = rng.normal(size=(2, 200))
    assert net.cost(X, Y) == pytest.approx(H, rel=1e-9)
    assert prior_entropy(net, Y) is None
    assert prior_entropy(npdeep.Network([2, 3, 3], loss="mse", output_activation="softmax"),
                         np.eye(3)) is None
    d = diagnose(net, X, Y)
    assert not any("entropy of the class prior" in r for r in d.reasons), d.reasons


def test_diagnose_names_what_it_needs():
    clf = npdeep.DeepClassifier((3,), max_iter=1)
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"diagnose needs an npdeep Network, got DeepClassifier; for an "
                             r"estimator pass its network_ and X\.T \(features x samples\)$"):
        diagnose(clf, np.zeros((3, 2)), np.zeros(3))


def _binary(rng, m=30):
    X = rng.normal(size=(4, m))
    return X, (X[:1] > 0).astype(float)


def test_a_diverging_run_is_diagnosed_and_warned(rng):
    X, Y = _binary(rng)
    net = npdeep.Network([4, 8, 1], seed=0)
    with pytest.warns(RuntimeWarning, match="training diverged: the cost rose from") as rec:
        h = net.fit(X, Y, epochs=30, learning_rate=1e3)
    d = h.diagnosis
    assert h.cost[-1] > 10 * h.cost[0]  # the premise
    assert d.diverged and not d.stuck
    assert "lower learning_rate (1000 now) tenfold" in d.warnings[-1]
    assert str(rec[0].message) == d.warnings[-1]
    assert d.to_dict()["diverged"] is True
    # a cost of 1e130 prints in four digits, not as a 130-digit number with decimals
    cost_line = [line for line in str(d).splitlines() if line.startswith("cost ")][0]
    assert len(cost_line.split()[1]) < 12 and "e+" in cost_line


def test_a_run_that_ends_in_nan_is_diagnosed_diverged(rng):
    X, Y = _binary(rng)
    net = npdeep.Network([4, 8, 1], activation="identity", seed=0)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="stopped early"):
        h = net.fit(X, Y, epochs=30, learning_rate=1e6)
    assert h.diagnosis.diverged
    assert "not finite" in h.diagnosis.warnings[-1]


def test_a_run_thrown_far_at_its_first_epoch_is_diagnosed_diverged():
    # adam at a learning rate of 1e6: the first epoch's cost 1.9e21 fell to 2.4e4 by the
    # tenth, at chance accuracy; the cost never rose, and nothing was said
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    net = npdeep.Network([64, 32, 10], seed=0)
    with pytest.warns(RuntimeWarning, match=r"training diverged: the final cost, \S+, is "
                                            r"\S+ times 2\.3026, the cost of predicting every "
                                            r"class alike") as rec:
        h = net.fit(X.T / 16, y, epochs=10, learning_rate=1e6, optimizer="adam",
                    batch_size=64)
    assert h.cost[-1] < h.cost[0] and h.diagnosis.diverged
    assert str(rec[-1].message) == h.diagnosis.warnings[-1]
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match=r"training diverged: the final cost, \S+, is "
                                                r"\S+ times 2\.3026"):
        npdeep.DeepClassifier(optimizer="adam", learning_rate=1e6, max_iter=10,
                              random_state=0).fit(X / 16, y)


@pytest.mark.parametrize("positives", [1, 50])
def test_a_fresh_or_imbalanced_classifier_is_not_called_diverged(rng, positives):
    # the baseline is the cost of predicting every class alike (where a fresh network
    # starts), not the prior's entropy, which is 0.01 with 1 positive in 1000
    X = rng.normal(size=(4, 1000))
    Y = np.zeros((1, 1000))
    Y[0, :positives] = 1
    net = npdeep.Network([4, 8, 1], seed=0)
    h = net.fit(X, Y, epochs=1, learning_rate=1e-4)
    assert not h.diagnosis.diverged


def test_a_learning_run_is_not_diverged(rng):
    X, Y = _binary(rng)
    net = npdeep.Network([4, 8, 1], seed=0)
    h = net.fit(X, Y, epochs=30, learning_rate=0.1)
    assert not h.diagnosis.diverged
    assert not any("diverged" in w for w in h.diagnosis.warnings)
    assert h.cost[-1] < h.cost[0]


def test_a_progress_bar_prints_the_divergence_instead_of_a_warning(rng, capsys):
    import warnings

    X, Y = _binary(rng)
    net = npdeep.Network([4, 8, 1], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on top of the bar's line
        net.fit(X, Y, epochs=30, learning_rate=1e3, verbose=1)
    captured = capsys.readouterr()
    assert "training diverged" in captured.out + captured.err


def test_one_epoch_at_the_prior_is_not_called_stuck_but_a_run_of_them_is():
    # every network starts near the prior's entropy: fit(epochs=1) warned "training looks
    # stuck ... held there for 1 epochs"
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(3, 100)), (np.arange(100) % 2).astype(float)
    h = npdeep.Network([3, 2, 1], seed=0).fit(X, y, epochs=1)
    assert not h.diagnosis.stuck and h.diagnosis.warnings == []
    net = npdeep.Network([3, 2, 1], seed=0)
    h = net.fit(X, y, epochs=6)
    assert h.diagnosis.stuck
    text = h.diagnosis.warnings[0]
    assert (f"the cost of the final weights, {h.diagnosis.cost:.4f} on the 100 samples "
            "diagnosed (without the L2 term), sits at 0.6931") in text
    assert "has held there for 6 epochs" in text
    # without a history a cost at the prior is still called stuck
    assert diagnose(net, X, y).stuck


def test_a_short_run_of_many_mini_batches_is_judged_stuck(cancer):
    # 3 epochs of 54 mini-batches of 8: 162 updates, enough to judge (3 full batches are not)
    X, y, _, _ = cancer
    net = npdeep.Network(ARTICLE_UNITS, activation="sigmoid", init="article", seed=0)
    h = net.fit(X, y, epochs=3, learning_rate=0.01, batch_size=8)
    assert len(h.cost) == 3 and net.history is h
    at_prior = "the entropy of the class prior"
    # as diagnose() says of the same weights without a history
    assert h.diagnosis.stuck and any(at_prior in r for r in h.diagnosis.reasons)
    assert any(at_prior in r for r in diagnose(net, X, y).reasons)
    fresh = npdeep.Network(ARTICLE_UNITS, activation="sigmoid", init="article", seed=0)
    short = fresh.fit(X, y, epochs=3, learning_rate=0.01).diagnosis  # 3 updates: too early
    assert not any(at_prior in r for r in short.reasons)


def test_a_dead_relu_output_is_diagnosed(rng):
    # npdeep train --output-activation relu: at some seeds the output was 0 for every sample
    # after the first epoch (cost frozen, R^2 -0.5, every prediction 0) without a word
    X = rng.normal(size=(3, 60))
    Y = np.abs(X[:1]) + 0.5
    net = npdeep.Network([3, 4, 1], output_activation="relu", loss="mean_squared_error", seed=0)
    net.parameters = {"b2": np.full((1, 1), -100.0)}
    h = net.fit(X, Y, epochs=5, learning_rate=1e-3)
    assert h.diagnosis.stuck
    assert re.search(r"dead output: the relu output 0 is 0 for every sample diagnosed.*"
                     r"'leaky_relu'", h.diagnosis.warnings[0])
    alive = npdeep.Network([3, 4, 1], output_activation="relu", loss="mean_squared_error",
                           seed=0)
    alive.parameters = {"b2": np.ones((1, 1))}
    assert not any("dead output" in w for w in
                   alive.fit(X, Y, epochs=5, learning_rate=1e-3).diagnosis.warnings)


def test_a_regression_thrown_far_at_its_first_epoch_is_called_diverged():
    # a first epoch of 1.3e14 falling to 1.2e9: no "diverged", and the only warning said to
    # raise max_iter or learning_rate
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.RandomState(0)
    X = rng.randn(500, 5)
    y = X @ [1.0, 2.0, 3.0, 0.0, 1.0] + 0.1 * rng.randn(500)
    with pytest.warns(ConvergenceWarning, match=r"training diverged: the final cost, \S+, is "
                                                r"\S+ times \S+, the cost of predicting the "
                                                r"targets' mean") as rec:
        npdeep.DeepRegressor((32,), max_iter=30, random_state=0, learning_rate=1e3).fit(X, y)
    assert not any("raise max_iter or learning_rate" in str(w.message) for w in rec)
    Y = (y - y.mean()) / y.std()
    net = npdeep.Network([5, 32, 1], output_activation="identity", loss="mean_squared_error",
                         seed=0)
    with pytest.warns(RuntimeWarning, match=r"training diverged: the final cost.*targets' mean"):
        net.fit(X.T, Y[None, :], optimizer="adam", learning_rate=1e3, batch_size=100,
                epochs=10)


def test_a_healthy_fit_with_a_large_l2_is_not_called_diverged():
    # the epoch's cost holds the L2 term once per batch: 7.29 read as 10.5 times log 2 for a
    # run whose cost fell every epoch to an accuracy of 0.91
    rng = np.random.RandomState(0)
    X = rng.randn(200, 10)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        npdeep.DeepClassifier((512, 512, 512), l2=3.0, max_iter=5, random_state=0).fit(X, y)
    assert not any("diverged" in str(w.message) for w in caught)
