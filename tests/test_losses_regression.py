"""The regression losses beside the mean squared error: mean absolute error, Huber and Poisson
(with the exp output). Values against formulas written one number at a time, gradients
against central differences in both dtypes, scikit-learn's Poisson deviance, files."""

import math

import numpy as np
import pytest
from sklearn.metrics import mean_poisson_deviance

import npdeep
from npdeep import activations, losses
from npdeep.errors import ConfigurationError, DataError


def _per_output(name, a, y, delta=1.0):
    """loss(a, y) of one output, from its definition, in Python floats."""
    d = a - y
    if name == "mean_absolute_error":
        return abs(d)
    if name == "huber":
        return 0.5 * d * d if abs(d) <= delta else delta * (abs(d) - 0.5 * delta)
    assert name == "poisson"
    return a - y * math.log(a)


SPECS = ["mean_absolute_error", {"name": "huber", "delta": 0.7}, "poisson"]
IDS = ["mae", "huber-0.7", "poisson"]


def _data(name, rng, n_L=3, m=7, dtype=np.float64):
    if name == "poisson":
        A = np.exp(rng.normal(size=(n_L, m))).astype(dtype)
        Y = rng.poisson(1.5, size=(n_L, m)).astype(dtype)
    else:
        A = rng.normal(size=(n_L, m)).astype(dtype)
        Y = (A + rng.normal(scale=1.5, size=(n_L, m))).astype(dtype)
    return A, Y


@pytest.mark.parametrize("weighted", [False, True], ids=["1/m", "weights"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_cost_sums_the_outputs_and_weighs_the_samples(spec, dtype, weighted, rng):
    loss = losses.get(spec)
    A, Y = _data(loss.name, rng, dtype=dtype)
    m = A.shape[1]
    w = rng.random(m) + 0.1
    c = (w / w.sum()).reshape(1, m).astype(dtype) if weighted else 1.0 / m
    cs = np.ravel(c) if weighted else [c] * m
    delta = getattr(loss, "delta", 1.0)
    expected = sum(cs[i] * sum(_per_output(loss.name, float(A[k, i]), float(Y[k, i]), delta)
                               for k in range(A.shape[0])) for i in range(m))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    work = (*(np.empty_like(A) for _ in range(3)), np.empty(m, dtype))
    Z = np.log(A) if loss.name == "poisson" else A
    with np.errstate(all="raise"):
        assert loss.cost(A, Y, c) == pytest.approx(expected, rel=rtol)
        assert loss.cost(A, Y, c, Z, work) == pytest.approx(expected, rel=rtol)  # training's
        assert loss.cost(A, Y, c, Z) == pytest.approx(expected, rel=rtol)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_fused_delta_is_the_gradient_through_the_canonical_output(spec, rng):
    loss = losses.get(spec)
    A, Y = _data(loss.name, rng)
    Y[0, 0] = A[0, 0]  # the mean absolute error's subgradient there is 0
    g = activations.get(loss.canonical)
    Z = np.log(A) if loss.name == "poisson" else A
    expected = g.backward(loss.gradient(A, Y, 0.25), Z, A, np.empty_like(A))
    np.testing.assert_allclose(loss.fused_delta(A, Y, 0.25, np.empty_like(A)), expected,
                               rtol=1e-14)
    assert npdeep.losses.fuses(g, loss)


def test_the_mean_absolute_errors_subgradient_is_the_sign_and_0_at_the_target():
    A = np.array([[-1.0, 2.0, 3.0]])
    Y = np.array([[0.0, 2.0, 1.0]])
    np.testing.assert_array_equal(losses.get("mae").gradient(A, Y, 0.5), [[-0.5, 0.0, 0.5]])


def test_huber_is_the_squared_error_within_delta_and_linear_outside():
    huber = losses.get({"name": "huber", "delta": 2.0})
    A = np.array([[0.5, -1.5, 5.0, -2.0]])
    Y = np.zeros_like(A)
    per = [huber.cost(A[:, [i]], Y[:, [i]], 1.0) for i in range(4)]
    assert per == [0.125, 1.125, 2.0 * (5.0 - 1.0), 2.0]  # |d| = delta: both branches agree
    np.testing.assert_array_equal(huber.gradient(A, Y, 1.0), [[0.5, -1.5, 2.0, -2.0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_poisson_cost_is_half_sklearns_deviance_less_the_constant(dtype, rng):
    # J = mean(a - y log a); mean_poisson_deviance = 2 mean(y log(y / a) - y + a)
    A = np.exp(rng.normal(size=(1, 200)))
    Y = rng.poisson(A).astype(np.float64)
    J = losses.get("poisson").cost(A.astype(dtype), Y.astype(dtype), 1.0 / 200)
    constant = np.mean(np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1.0)), 0.0) - Y)
    assert 2 * (J + constant) == pytest.approx(mean_poisson_deviance(Y[0], A[0]),
                                               rel=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_poisson_cost_from_the_logits_is_finite_where_a_underflows(dtype):
    # a = exp(-800) is 0 in any float: log a would be -inf, z itself is exact
    Z = np.array([[-800.0, 0.0, 50.0]], dtype)
    Y = np.array([[1.0, 2.0, 0.0]], dtype)
    g, loss = activations.get("exp"), losses.get("poisson")
    with np.errstate(all="raise"):
        A = g(Z)
        work = (*(np.empty_like(Z) for _ in range(3)), np.empty(3, dtype))
        J = loss.cost(A, Y, 1.0, Z, work)
    assert J == pytest.approx(800.0 + 1.0 + float(np.exp(dtype(50.0))), rel=1e-6)


def test_poisson_refuses_negative_targets_by_value():
    net = npdeep.Network([2, 3, 1], output_activation="exp", seed=0)
    with pytest.raises(DataError, match=r"^poisson targets must be >= 0 \(counts or rates\), "
                                        r"got values down to -0\.5; for targets of both signs"):
        net.fit(np.zeros((2, 3)), np.array([[1.0, -0.5, 2.0]]), epochs=1)


def test_poisson_needs_a_positive_output():
    with pytest.raises(ConfigurationError, match=r"loss 'poisson' needs an output activation "
                                                 r"in \['exp', 'softplus'\], got 'identity'"):
        npdeep.Network([2, 1], output_activation="identity", loss="poisson")


@pytest.mark.parametrize("delta", [0, -1.0, math.inf, "1"])
def test_huber_refuses_a_delta_that_is_not_a_positive_number(delta):
    with pytest.raises(ConfigurationError,
                       match=rf"^huber delta must be a finite number > 0, got {delta!r}$"):
        losses.get({"name": "huber", "delta": delta})


def test_only_huber_takes_an_option():
    with pytest.raises(ConfigurationError, match=r"invalid options for loss "
                                                 r"'mean_absolute_error': \['delta'\]"):
        losses.get({"name": "mae", "delta": 1.0})


@pytest.mark.parametrize("name, expected", [
    ("mae", "mean_absolute_error"), ("absolute_error", "mean_absolute_error"),
    ("huber", "huber"), ("poisson", "poisson"), ("squared_error", "mean_squared_error")])
def test_names_and_aliases(name, expected):
    assert losses.get(name).name == expected


def test_exp_is_the_default_output_of_poisson_and_output_only():
    net = npdeep.Network([2, 3, 1], loss="poisson")
    assert net.output_activation.name == "exp" and net.fused
    assert npdeep.Network([2, 3, 1], output_activation="exp").loss.name == "poisson"
    assert "exp" in activations.NAMES and "exp" not in activations.HIDDEN_NAMES
    with pytest.raises(ConfigurationError,
                       match=r"^exp can only be the output activation, not hidden layer 1's$"):
        npdeep.Network([2, 3, 1], activation="exp")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_neither_underflows_nor_hides_an_overflow(dtype):
    g = activations.get("exp")
    with np.errstate(all="raise"):
        A = g(np.array([[-1e4, 0.0, 1.0, 1e4]], dtype))
    assert A[0, 0] > 0 and A[0, 1] == 1.0 and A[0, 2] == pytest.approx(math.e, rel=1e-7)
    assert A[0, 3] == np.inf  # prediction refuses it, training stops on it
    assert A.dtype == dtype


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_exp_output_that_overflows_is_named_as_such_when_predicting(dtype):
    # z = 100 is finite; exp(100) is not a float32: the error blamed W[l]·a[l-1] and X's scale
    net = npdeep.Network([1, 1], output_activation="exp", loss="poisson", dtype=dtype)
    net.parameters = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))}
    X = np.array([[1.0, 10.0, 100.0, 1000.0]], dtype)
    with pytest.raises(DataError) as info:
        net.predict(X)
    message = str(info.value)
    assert "the exp output overflows " + dtype in message and "overflows W" not in message
    assert ("float64 network holds" in message) == (dtype == "float32")
    assert "the first: sample " + ("2" if dtype == "float32" else "3") in message


PAIRS = [("identity", "mean_absolute_error"), ("identity", {"name": "huber", "delta": 0.3}),
         ("exp", "poisson"), ("softplus", "poisson"), ("sigmoid", "mean_absolute_error"),
         ("tanh", {"name": "huber", "delta": 0.5})]


@pytest.mark.parametrize("weighted", [False, True], ids=["1/m", "weights"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("pair", PAIRS, ids=str)
def test_backprop_matches_central_differences(pair, dtype, weighted, rng):
    output, loss = pair
    net = npdeep.Network([3, 5, 4, 2], activation="tanh", output_activation=output, loss=loss,
                         dtype=dtype, seed=1, l2=0.1)
    X = rng.normal(size=(3, 9))
    poisson = net.loss.name == "poisson"
    Y = rng.poisson(2.0, size=(2, 9)).astype(float) if poisson else rng.normal(size=(2, 9))
    w = rng.random(9) + 0.1 if weighted else None
    with np.errstate(all="raise"):
        result = npdeep.gradient_check(net, X, Y, sample_weight=w, tolerance=1e-6)
    assert result.passed, str(result)
    assert result.max_error < 1e-6


def test_mean_absolute_error_kinks_are_skipped_but_wrong_gradients_still_fail(rng,
                                                                              monkeypatch):
    net = npdeep.Network([3, 4, 1], activation="tanh", output_activation="identity",
                         loss="mae", seed=0)
    X = rng.normal(size=(3, 6))
    Y = net.predict(X) + np.array([[5e-4, 0.5, -0.7, 0.9, -1.1, 1.3]])  # sample 0: within
    result = npdeep.gradient_check(net, X, Y)                        # epsilon of its target
    assert result.passed, str(result)
    assert sum(result.skipped.values()) > 0
    assert "or an output across its target under the mean absolute error" in str(result)
    # the skips are the loss's: without its kink, nothing is skipped
    monkeypatch.setattr(type(net.loss), "kink", False)
    assert sum(npdeep.gradient_check(net, X, Y).skipped.values()) == 0
    monkeypatch.undo()
    # a subgradient off by half still fails, kinks skipped or not
    wrong = npdeep.losses.MeanAbsoluteError.fused_delta

    def fused_delta(self, A, Y, coef, out):
        return wrong(self, A, Y, 1.5 * coef, out)

    monkeypatch.setattr(npdeep.losses.MeanAbsoluteError, "fused_delta", fused_delta)
    assert not npdeep.gradient_check(net, X, Y).passed


@pytest.mark.parametrize("output, loss", [("identity", "mean_absolute_error"),
                                          ("identity", {"name": "huber", "delta": 0.25}),
                                          ("exp", "poisson")], ids=["mae", "huber", "poisson"])
def test_a_saved_network_loads_with_its_loss_and_options(tmp_path, output, loss, rng):
    net = npdeep.Network([3, 4, 2], output_activation=output, loss=loss, seed=1)
    path = tmp_path / "net.npdeep"
    npdeep.save(net, path)
    other = npdeep.load(path)
    assert other.loss.get_config() == net.loss.get_config()
    assert other.output_activation.name == output and other.fused
    X = rng.normal(size=(3, 5))
    np.testing.assert_array_equal(other.predict(X), net.predict(X))
    if isinstance(loss, dict):
        assert other.loss.delta == 0.25


def test_a_subclass_that_overrides_fused_delta_is_called_and_the_others_are_inlined():
    # the engine writes coef * (a - Y) itself for losses that keep the default fused_delta
    # (Loss.plain_delta, set per class); an override must still be called
    from npdeep.losses import Loss, MeanSquaredError

    class Doubled(MeanSquaredError):
        canonical = "identity"  # declared again: an override keeps the fused path

        def fused_delta(self, A, Y, coef, out):
            super().fused_delta(A, Y, coef, out)
            out *= 2.0
            return out

    assert MeanSquaredError.plain_delta and not Doubled.plain_delta
    assert Loss.plain_delta
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 7)), rng.normal(size=(2, 7))
    nets = [npdeep.Network([3, 4, 2], activation="tanh", loss=loss, seed=0)
            for loss in ("mean_squared_error", Doubled())]
    plain, doubled = (net.gradients(X, Y) for net in nets)
    for key in plain:
        np.testing.assert_allclose(doubled[key], 2.0 * plain[key], rtol=1e-12)
