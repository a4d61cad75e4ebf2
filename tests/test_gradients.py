"""Backpropagation against central differences, on random architectures and data."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import npdeep
from npdeep import activations, optimizers
from npdeep import network as network_module
from npdeep.errors import ConfigurationError, DataError
from npdeep.training import Trainer

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus", "gelu", "silu",
          "identity"]
# every sensible (output activation, loss) pairing
PAIRS = [
    ("sigmoid", "binary_crossentropy"),
    ("softmax", "categorical_crossentropy"),
    ("identity", "mean_squared_error"),
    ("sigmoid", "mean_squared_error"),
    ("tanh", "mean_squared_error"),
    ("softmax", "mean_squared_error"),
    ("leaky_relu", "mean_squared_error"),
    ("selu", "mean_squared_error"),
    ("gelu", "mean_squared_error"),
]


#: the regression losses with their canonical outputs, drawn by the property test too
#: (tests/test_losses_regression.py checks them in both dtypes, and through other outputs)
REGRESSION_PAIRS = [
    ("identity", "mean_absolute_error"),
    ("identity", {"name": "huber", "delta": 0.5}),
    ("exp", "poisson"),
]


def make_targets(rng, output, loss, n_L, m):
    if loss == "poisson":
        return rng.poisson(1.5, size=(n_L, m)).astype(float)
    if output == "softmax":
        return np.eye(n_L)[rng.integers(0, n_L, size=m)].T
    if loss == "binary_crossentropy":
        return rng.random((n_L, m))
    return rng.normal(size=(n_L, m))


def min_abs_pre_activation(net, X):
    """Smallest |Z[l]| over layers with a kink at 0 (central differences are invalid there),
    and elu's (g' is continuous, but g'' jumps: the differences lose an order there)."""
    _, cache = net.forward(X)
    kinks = [abs(cache[f"Z{l}"]).min() for l in range(1, net.L + 1)
             if net.activations[l].kink or net.activations[l].name == "elu"]
    return min(kinks, default=np.inf)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much])
@given(
    depth=st.integers(1, 6),
    widths=st.lists(st.integers(1, 6), min_size=6, max_size=6),
    hidden=st.sampled_from(HIDDEN),
    pair=st.sampled_from(PAIRS + REGRESSION_PAIRS),
    n_x=st.integers(1, 5),
    m=st.integers(1, 7),
    weighted=st.booleans(),
    l2=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_backprop_matches_central_differences(depth, widths, hidden, pair, n_x, m, weighted, l2,
                                              seed):
    output, loss = pair
    rng = np.random.default_rng(seed)
    n_L = max(2, widths[-1]) if output == "softmax" else widths[-1]
    units = [n_x, *widths[: depth - 1], n_L]
    net = npdeep.Network(units, activation=hidden, output_activation=output, loss=loss,
                         dtype="float64", seed=seed, l2=l2)
    X = rng.normal(size=(n_x, m))
    Y = make_targets(rng, output, loss, n_L, m)
    assume(min_abs_pre_activation(net, X) > 1e-2)
    w = rng.random(m) + 0.1 if weighted else None
    result = npdeep.gradient_check(net, X, Y, sample_weight=w, tolerance=1e-6)
    assert result.passed, str(result)
    assert result.max_error < 1e-6


def test_gradient_check_fails_on_a_broken_backward_pass(rng, monkeypatch):
    net = npdeep.Network([4, 5, 5, 1], activation="tanh", seed=1)
    X, Y = rng.normal(size=(4, 6)), rng.random((1, 6))
    assert npdeep.gradient_check(net, X, Y).passed
    # forget the factor g'(Z) in the backward pass of tanh
    monkeypatch.setattr(activations.Tanh, "backward",
                        lambda self, dA, Z, A, out, work=None: np.copyto(out, dA) or out)
    result = npdeep.gradient_check(net, X, Y)
    assert not result.passed
    assert result.errors["W1"] > 1e-3
    assert "FAILED" in str(result)
    assert result.errors["W3"] < 1e-6  # the output layer does not use tanh: still right


def test_gradient_check_of_a_float32_network_runs_in_float64(rng):
    net = npdeep.Network([3, 8, 3], activation="relu", dtype="float32", seed=2)
    X, labels = rng.normal(size=(3, 10)), rng.integers(0, 3, size=10)
    result = npdeep.gradient_check(net, X, labels)
    assert result.passed, str(result)
    assert net.dtype == np.float32  # the network itself is untouched


class _WrongTanh(activations.Tanh):
    """tanh with a wrong derivative, under tanh's own name (a user's subclass)."""

    def derivative(self, Z, A):
        return 1.0 - 0.9 * A * A

    def backward(self, dA, Z, A, out, work=None):
        return np.multiply(dA, self.derivative(Z, A), out=out)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradient_check_checks_the_networks_own_activation_objects(dtype, rng):
    X, labels = rng.normal(size=(4, 20)), rng.integers(0, 3, size=20)
    net = npdeep.Network([4, 6, 5, 3], activation=_WrongTanh(), dtype=dtype, seed=0)
    assert not npdeep.gradient_check(net, X, labels).passed


def test_relu_kinks_are_skipped_and_counted_but_wrong_gradients_still_fail(rng, monkeypatch):
    X, labels = rng.normal(size=(4, 20)), rng.integers(0, 3, size=20)
    skipped = 0
    for seed in range(10):
        result = npdeep.gradient_check(npdeep.Network([4, 16, 16, 3], seed=seed), X, labels)
        assert result.passed, str(result)
        assert all(result.checked[k] + result.skipped[k] == min(200, v.size)
                   for k, v in npdeep.Network([4, 16, 16, 3]).parameters.items())
        skipped += sum(result.skipped.values())
    assert skipped > 0  # epsilon = 1e-3 does cross relu's kink on these networks
    assert "skipped" in str(result)
    # a relu whose backward pass forgets the mask fails although kinks are skipped
    monkeypatch.setattr(activations.ReLU, "backward",
                        lambda self, dA, Z, A, out, work=None: np.copyto(out, dA) or out)
    assert not npdeep.gradient_check(npdeep.Network([4, 16, 16, 3], seed=0), X, labels).passed


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_gradient_check_refuses_a_bad_max_checks(value, rng):
    net = npdeep.Network([2, 3, 1], activation="tanh", seed=0)
    with pytest.raises(npdeep.ConfigurationError, match="max_checks must be an integer >= 1"):
        npdeep.gradient_check(net, rng.normal(size=(2, 4)), rng.random((1, 4)), max_checks=value)


def test_gradient_check_names_a_parameter_too_large_to_perturb(rng):
    # a diverged network: W2 + epsilon/2 rounds to W2, so the step taken was 0 and the check
    # died with ZeroDivisionError
    net = npdeep.Network([2, 3, 1], activation="tanh", output_activation="identity", seed=0)
    net.parameters["W2"] = net.parameters["W2"] * 1e14
    before = net.parameters.flat.copy()
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"cannot perturb W2: it holds -?[0-9.e+]+, where a step of "
                             r"epsilon/2 = 0.0005 is below float64 precision"):
        npdeep.gradient_check(net, rng.normal(size=(2, 4)), rng.normal(size=(1, 4)))
    np.testing.assert_array_equal(net.parameters.flat, before)
    assert npdeep.gradient_check(net, rng.normal(size=(2, 4)), rng.normal(size=(1, 4)),
                                 epsilon=1e3, tolerance=1e-2).checked["W2"] == 3


def test_gradient_check_table_lists_every_parameter(rng):
    net = npdeep.Network([2, 3, 1], activation="sigmoid", seed=0)
    result = npdeep.gradient_check(net, rng.normal(size=(2, 4)), rng.random((1, 4)))
    table = str(result)
    for key in ("W1", "b1", "W2", "b2"):
        assert key in table
    assert [r["parameter"] for r in result.rows()] == ["W1", "b1", "W2", "b2"]
    assert "PASSED" in table


def test_gradients_have_the_articles_keys_and_shapes(rng):
    net = npdeep.Network([3, 4, 2], activation="relu", output_activation="softmax", seed=0)
    grads = net.gradients(rng.normal(size=(3, 5)), rng.integers(0, 2, size=5))
    assert list(grads) == ["dW1", "db1", "dW2", "db2"]
    assert grads["dW1"].shape == (4, 3) and grads["db2"].shape == (2, 1)


@pytest.mark.parametrize("name", [*HIDDEN, "softmax", "exp", {"name": "elu", "alpha": 0.5}],
                         ids=str)
def test_derivative_matches_central_differences_elementwise(name, rng):
    g = activations.get(name)
    Z = rng.normal(size=(4, 6))
    Z[np.abs(Z) < 1e-3] = 0.5
    eps = 1e-6
    dA = rng.normal(size=Z.shape)
    analytic = g.backward(dA, Z, g(Z), np.empty_like(Z))
    numeric = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += eps
        Zm[idx] -= eps
        numeric[idx] = np.sum(dA * (g(Zp) - g(Zm))) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_gradient_check_names_what_it_needs():
    with pytest.raises(npdeep.errors.ConfigurationError,
                       match="gradient_check needs an npdeep Network, got str"):
        npdeep.gradient_check("net", np.zeros((2, 3)), np.zeros((1, 3)))
    clf = npdeep.DeepClassifier((3,), max_iter=1)
    with pytest.raises(npdeep.errors.ConfigurationError,
                       match=r"got DeepClassifier; for an estimator pass its network_ and X\.T "
                             r"\(features x samples\)$"):
        npdeep.gradient_check(clf, np.zeros((3, 2)), np.zeros(3))


@pytest.fixture(scope="module")
def trained_iris():
    """tanh [4, 16, 16, 3] trained on standardized iris to a cost of ~7e-6: near-zero gradients.

    ``npdeep train iris --units 16,16 --activation tanh --epochs 3000 --batch-size 0
    --dropout 0 --dtype float64 --learning-rate 0.02 --schedule constant --test-fraction 0``
    gives this network; ``gradcheck MODEL --data iris --samples 1`` reported FAILED (max
    relative error 1.108e-06 against 1e-06) although its gradients are right.
    """
    from sklearn.datasets import load_iris

    iris = load_iris()
    X = ((iris.data - iris.data.mean(0)) / iris.data.std(0)).T
    net = npdeep.Network([4, 16, 16, 3], activation="tanh", seed=0)
    net.fit(X, iris.target, epochs=3000, learning_rate=0.02, optimizer="adam", diagnose=False)
    assert net.cost(X, iris.target) < 1e-4
    return net, X[:, :1], iris.target[:1]


@pytest.mark.parametrize("epsilon", [1e-3, 1e-4])
def test_a_trained_network_is_not_failed_for_round_off(trained_iris, epsilon):
    net, X, y = trained_iris
    result = npdeep.gradient_check(net, X, y, epsilon=epsilon)
    assert result.passed, str(result)  # was FAILED: 1.108e-06 (epsilon 1e-3), 9.2e-06 (1e-4)
    grads = net.gradients(X, y)
    # the regime where round-off, not the gradient's size, sets the scale
    assert any(2 * np.linalg.norm(grads["d" + k]) < result.round_off[k] / result.tolerance
               for k in result.errors)
    assert all(0 < result.round_off[k] < 1e-10 for k in result.errors)
    assert "round-off" in str(result) and result.rows()[0]["round_off"] == result.round_off["W1"]


def _broken_backward(spoil):
    """Return engine.backward followed by ``spoil(grads)``, a deliberate error in the gradients."""
    original = network_module.backward

    def backward(layers, activations, loss, ws, Y, coef, grads, fused, dropout=False):
        original(layers, activations, loss, ws, Y, coef, grads, fused, dropout)
        spoil(grads)

    return backward


def _drop_db1(grads):
    grads[0][1][...] = 0.0


def _flip_dW2(grads):
    np.negative(grads[1][0], out=grads[1][0])


def _skew_dW2(grads):
    grads[1][0][...] *= 1.0 + 1e-4


@pytest.mark.parametrize("spoil, key", [(_drop_db1, "b1"), (_flip_dW2, "W2"), (_skew_dW2, "W2")],
                         ids=["dropped db1", "sign of dW2", "dW2 off by 1e-4"])
def test_wrong_near_zero_gradients_still_fail(trained_iris, monkeypatch, spoil, key):
    net, X, y = trained_iris
    assert np.linalg.norm(net.gradients(X, y)["d" + key]) < 1e-6  # tiny, yet checkable
    monkeypatch.setattr(network_module, "backward", _broken_backward(spoil))
    result = npdeep.gradient_check(net, X, y)
    assert net.dtype == np.float64 and not result.passed
    assert result.errors[key] > result.tolerance  # 8e-6 for the 1e-4 skew, ~1 otherwise
    assert result.errors["W3"] < result.tolerance  # the untouched output layer still passes
    assert "FAILED" in str(result)


def test_a_sign_error_in_a_hidden_derivative_fails_on_a_trained_network(trained_iris,
                                                                        monkeypatch):
    net, X, y = trained_iris
    monkeypatch.setattr(activations.Tanh, "backward",
                        lambda self, dA, Z, A, out, work=None:
                        np.multiply(dA, A * A - 1.0, out=out))
    result = npdeep.gradient_check(net, X, y)
    assert not result.passed
    assert result.errors["W2"] > 0.1 and result.errors["b2"] > 0.1
    # layer 1 meets the flipped sign twice (through dZ[2] and through g'[1]): right again
    assert result.errors["W1"] < result.tolerance


@pytest.mark.parametrize("value", [-1e-6, float("nan"), "1e-6", True])
def test_gradient_check_refuses_a_bad_min_scale(value, rng):
    net = npdeep.Network([2, 3, 1], activation="tanh", seed=0)
    with pytest.raises(npdeep.ConfigurationError, match="min_scale must be a finite number >= 0"):
        npdeep.gradient_check(net, rng.normal(size=(2, 4)), rng.random((1, 4)), min_scale=value)


@pytest.mark.parametrize("Y, bad, first", [
    ([[1, 0, 0, 1], [1, 0, 1, 0], [0, 1, 0, 0]], 1, "sample 0 sums to 2"),  # multi-hot
    ([[0.5, 0.2, 0, 1], [0.2, 0.2, 0, 0], [0.1, 0.1, 0, 0]], 3, "sample 0 sums to 0.8"),
])
def test_categorical_targets_must_sum_to_one(Y, bad, first, rng):
    # the fused dZ[L] = a[L] - Y is the derivative of -sum y log a only when sum_k y_k = 1;
    # such Y used to train silently on a gradient gradient_check failed
    net = npdeep.Network([3, 5, 3], activation="tanh", output_activation="softmax", seed=0)
    X = rng.normal(size=(3, 4))
    match = rf"must sum to 1 over the classes of each sample .*got {bad} of 4 samples .*{first}"
    with pytest.raises(npdeep.errors.DataError, match=match):
        net.fit(X, np.array(Y, float), epochs=1, diagnose=False)
    with pytest.raises(npdeep.errors.DataError, match=match):
        npdeep.gradient_check(net, X, np.array(Y, float))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_smoothed_categorical_targets_pass_the_gradient_check(dtype, rng):
    Y = np.eye(3, dtype=dtype)[:, rng.integers(0, 3, size=6)] * 0.9 + np.asarray(0.1 / 3, dtype)
    net = npdeep.Network([3, 5, 3], activation="tanh", output_activation="softmax",
                         dtype=dtype, seed=0)
    assert npdeep.gradient_check(net, rng.normal(size=(3, 6)), Y).passed


# --------------------------------------------------------------------------------------------
# An independent witness: the article's equations written out in plain NumPy, differentiated by
# central differences, against the update a training step applies (dropout, L2, weights on).

def _g(name, Z):
    """g(Z) of the reference, written from the formulas (leaky_relu: alpha 0.2; elu: alpha
    0.5; selu: the paper's constants)."""
    from scipy.special import erf

    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name in ("elu", "selu"):
        alpha, scale = (0.5, 1.0) if name == "elu" else (1.6732632423543772, 1.0507009873554805)
        return scale * np.where(Z > 0, Z, alpha * (np.exp(np.minimum(Z, 0)) - 1))
    if name == "softplus":
        return np.log(1 + np.exp(Z))
    if name == "gelu":
        return 0.5 * Z * (1 + erf(Z / np.sqrt(2)))
    if name == "silu":
        return Z / (1 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.where(Z > 0, Z, 0.0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.2 * Z)
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=0))
        return E / E.sum(axis=0)
    if name == "exp":
        return np.exp(Z)
    return Z


def _dropped_out(name, A, kept, p):
    """a[l] after dropout of rate ``p`` with the 0/1 mask ``kept``: alpha dropout for selu,
    written as PyTorch's ``alpha_dropout`` computes it, inverted dropout otherwise."""
    if name != "selu":
        return A * kept / (1 - p)
    alpha = 1.7580993408473766  # scale * alpha of selu
    a = 1 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    return A * kept * a + (kept - 1) * alpha * a + alpha * a * p


def _reference_cost(P, names, loss, X, Y, c, l2, masks, p):
    """J = sum_i c_i loss_i + (l2 / 2m) sum_l ||W[l]||^2, hidden a[l] dropped out with the 0/1
    ``masks[l]`` at rate ``p``."""
    L, m = len(names) - 1, X.shape[1]
    A, pre = X, []
    for l in range(1, L + 1):
        Z = P[f"W{l}"] @ A + P[f"b{l}"]
        pre.append(Z)
        A = _g(names[l], Z)
        if l < L:
            A = _dropped_out(names[l], A, masks[l], p)
    if loss == "binary_crossentropy":
        per = -(Y * np.log(A) + (1 - Y) * np.log(1 - A)).sum(axis=0)
    elif loss == "categorical_crossentropy":
        per = -(Y * np.log(A)).sum(axis=0)
    elif loss == "mean_absolute_error":
        per = np.abs(A - Y).sum(axis=0)
    elif isinstance(loss, dict):  # huber
        D, delta = np.abs(A - Y), loss["delta"]
        per = np.where(D <= delta, 0.5 * D**2, delta * (D - 0.5 * delta)).sum(axis=0)
    elif loss == "poisson":
        per = (A - Y * np.log(A)).sum(axis=0)
    else:
        per = 0.5 * ((A - Y) ** 2).sum(axis=0)
    J = float(np.sum(c * per)) + l2 / (2 * m) * sum(float(np.sum(P[f"W{l}"] ** 2))
                                                     for l in range(1, L + 1))
    return J, pre


@pytest.mark.parametrize("m", [1, 4])
@pytest.mark.parametrize("pair", PAIRS + [("relu", "mean_squared_error")] + REGRESSION_PAIRS,
                         ids=str)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_the_applied_update_is_the_derivative_of_the_reported_cost(hidden, pair, m):
    output, loss = pair
    n_L, drop, l2 = (3 if output == "softmax" else 2), 0.25, 0.3
    units = [3, 4, 3, n_L]
    names = [None, hidden, hidden, output]
    with_alpha = {"leaky_relu": 0.2, "elu": 0.5}
    act = {"name": hidden, "alpha": with_alpha[hidden]} if hidden in with_alpha else hidden
    out = {"name": output, "alpha": with_alpha[output]} if output in with_alpha else output
    for seed in range(50):  # data whose pre-activations keep clear of relu's kink
        rng = np.random.default_rng(seed)
        net = npdeep.Network(units, activation=act, output_activation=out, loss=loss,
                             dtype="float64", seed=seed, l2=l2, dropout=drop)
        X = rng.normal(size=(3, m))
        Y = make_targets(rng, output, loss, n_L, m)
        w = rng.random(m) + 0.1
        draws = np.random.default_rng(seed)  # the step's dropout draws, layer by layer
        masks = [None] + [(draws.random((n, m)) < 1 - drop).astype(float) for n in units[1:-1]]
        P = net.parameters.copy()
        c = (w / w.sum()).reshape(1, m)
        J, pre = _reference_cost(P, names, loss, X, Y, c, l2, masks, drop)
        if all(np.abs(Z).min() > 1e-3 for Z in pre):
            break
    trainer = Trainer(net, optimizers.get("sgd"), 1.0, rng=np.random.default_rng(seed))
    trainer.optimizer.setup(net.layout)
    before = net.parameters.flat.copy()
    reported = trainer.step(X, Y, net.sample_coef(m, w))
    applied = before - net.parameters.flat  # sgd, learning rate 1: the gradient itself
    assert reported == pytest.approx(J, rel=1e-12)

    def cost_at(key, i, step):
        Q = {k: v.copy() for k, v in P.items()}
        Q[key].reshape(-1)[i] += step
        return _reference_cost(Q, names, loss, X, Y, c, l2, masks, drop)[0]

    h = 1e-5
    numeric = np.concatenate([
        [(4 * (cost_at(k, i, h / 2) - cost_at(k, i, -h / 2)) / h
          - (cost_at(k, i, h) - cost_at(k, i, -h)) / (2 * h)) / 3 for i in range(P[k].size)]
        for k in net.layout.keys])
    err = np.linalg.norm(applied - numeric)
    assert err <= 1e-7 * np.linalg.norm(numeric) + 1e-9, (err, np.linalg.norm(numeric))


class _Cube(activations.Activation):  # a custom output activation that sets no name
    def forward(self, Z, out, work=None):
        return np.power(Z, 3, out=out)

    def derivative(self, Z, A):
        return 3 * Z * Z


class _Quartic(npdeep.losses.Loss):  # a custom loss with no canonical pair
    def cost(self, A, Y, coef, Z=None, work=None):
        return float(np.sum(coef * ((A - Y) ** 4).sum(axis=0)))

    def gradient(self, A, Y, coef):
        return coef * 4 * (A - Y) ** 3


def test_custom_activation_and_loss_without_names_are_not_fused(rng):
    # both names were "", so the network took them for a canonical pair and used the fused
    # dZ[L] = a[L] - Y instead of dA[L] * g'(Z[L]): a wrong gradient
    net = npdeep.Network([2, 3, 1], activation="tanh", output_activation=_Cube(),
                         loss=_Quartic(), seed=0)
    assert not net.fused
    result = npdeep.gradient_check(net, rng.normal(size=(2, 5)), rng.normal(size=(1, 5)))
    assert result.passed, str(result)


def test_gradient_check_says_when_it_ran_otherwise_than_training(rng):
    X, Y = rng.normal(size=(3, 6)), rng.random((1, 6)) > 0.5
    plain = npdeep.gradient_check(npdeep.Network([3, 4, 1], activation="tanh", seed=0), X, Y)
    assert plain.notes == [] and "dropout" not in str(plain)
    net = npdeep.Network([3, 4, 1], activation="tanh", dtype="float32", dropout=0.3, l2=0.1,
                         seed=0)
    text = str(npdeep.gradient_check(net, X, Y))
    assert "checked on a float64 copy of this float32 network" in text
    assert "dropout off: the check differentiates the cost without dropout masks" in text


def test_a_custom_loss_without_a_canonical_output_asks_for_one():
    # Network(loss=custom) without output_activation said "unknown activation ''"
    with pytest.raises(ConfigurationError, match=r"loss _Quartic names no canonical output "
                                                 r"activation: pass output_activation="):
        npdeep.Network([2, 3, 1], loss=_Quartic(), seed=0)


def test_relu_kinks_are_skipped_also_on_more_samples_than_a_cost_chunk(rng):
    # Network.cost works in chunks of samples on a large X; the check read the kink sides from
    # the workspace for all m samples, which the chunked cost no longer filled
    m = network_module._PREDICT_CHUNK + 100
    X, y = rng.normal(size=(2, m)), rng.integers(0, 2, m)
    net = npdeep.Network([2, 3, 1], activation="relu", seed=0)
    b1 = net.parameters["b1"]
    b1[0, 0] = 1e-4 - float(net.parameters["W1"][0] @ X[:, 0])   # z[1] of sample 0 is 1e-4
    result = npdeep.gradient_check(net, X, y)
    # at epsilon every entry of W1 and b1 crosses a kink for one of the 8,292 samples (b1[0]
    # for sample 0): seen, they are compared with smaller steps, which cross none or fewer
    assert re.search(r"checked with smaller steps \(W1 at [0-9.e-]+, b1 at [0-9.e-]+\): at "
                     r"epsilon every entry's perturbation", str(result)), str(result)
    assert result.checked["W1"] >= 1 and result.checked["b1"] >= 1
    assert result.epsilons["b1"] < 1e-3 and result.passed, str(result)


def test_a_parameter_no_entry_of_which_could_be_compared_is_not_passed(rng):
    # zero biases and a sample whose layer-1 units are all off put z[2] exactly at relu's
    # kink, at every step: b2 was "not checked", yet the verdict said PASSED (and .passed,
    # which README's `assert gradient_check(...).passed` idiom relies on, was True)
    X = rng.normal(size=(4, 64))
    y = (X[0] * X[1] > 0).astype(float)
    result = npdeep.gradient_check(npdeep.Network([4, 2, 3, 1], activation="relu", seed=0),
                                   X, y)
    assert result.unchecked == ["b2"] and result.checked["b2"] == 0
    assert not result.passed
    text = str(result)
    assert "INCOMPLETE: max relative error" in text and "FAILED" not in text
    assert "not checked: no entry of b2 could be compared" in text
    assert all(r["passed"] for r in result.rows() if r["parameter"] != "b2")


def test_gradients_of_a_huge_l2_are_compared_without_overflowing_their_norms(rng):
    # with l2 = 1e200 the gradients are near 1e200: their norms are finite, their squares are
    # not; the check reported "nan" and FAIL for a correct backpropagation
    net = npdeep.Network([4, 5, 3], activation="tanh", dtype="float64", seed=0, l2=1e200)
    X = rng.normal(size=(4, 8))
    Y = np.eye(3)[:, np.arange(8) % 3]
    result = npdeep.gradient_check(net, X, Y)
    assert all(np.isfinite(e) for e in result.errors.values()), result.errors
    # the weights pass; the biases (no L2) have gradients of order 1, far below the round-off
    # of a cost of 1e200: central differences cannot see them, and say so
    assert all(result.errors[k] < 1e-6 for k in ("W1", "W2")), result.errors
    assert result.inconclusive == ["b1", "b2"] and not any(
        r["passed"] is False for r in result.rows())


def test_a_sampled_check_says_how_many_entries_of_each_parameter_it_compared(rng):
    # a large network passed on 200 entries per parameter with no word that the rest were not
    # compared
    net = npdeep.Network([6, 30, 2], activation="tanh", seed=0)
    X, labels = rng.normal(size=(6, 4)), np.array([0, 1, 1, 0])
    result = npdeep.gradient_check(net, X, labels, max_checks=50)
    assert result.entries == {"W1": 180, "b1": 30, "W2": 60, "b2": 2}
    assert [(r["checked"], r["entries"]) for r in result.rows()] == [
        (50, 180), (30, 30), (50, 60), (2, 2)]
    assert str(result).splitlines()[-1] == ("sampled (seeded, max_checks per parameter): 50 of "
                                            "the 180 entries of W1, 50 of the 60 entries of W2")
    assert "sampled" not in str(npdeep.gradient_check(net, X, labels, max_checks=None))


def test_a_parameter_with_no_entry_compared_is_not_called_passed():
    from npdeep import gradcheck

    result = gradcheck.GradientCheckResult(errors={"W1": 0.0, "b1": 1e-9},
                                           checked={"W1": 0, "b1": 2}, tolerance=1e-6,
                                           epsilon=1e-3, skipped={"W1": 6})
    assert [r["passed"] for r in result.rows()] == [None, True]
    assert "not checked" in str(result).splitlines()[1]


def test_gradient_check_refuses_nan_parameters(rng):
    # a NaN weight made every norm NaN, and the check printed "error 0.000e+00 ok, PASSED"
    net = npdeep.Network([3, 4, 2], activation="tanh", seed=0)
    net.parameters.flat[0] = np.nan
    with pytest.raises(DataError, match=r"gradient_check needs finite parameters: 'W1' "
                                        r"contains NaN or inf"):
        npdeep.gradient_check(net, rng.normal(size=(3, 5)), np.array([0, 1, 0, 1, 1]))


def test_an_overflowing_cost_fails_the_check_and_says_why(rng):
    # Y near 1e200 made the squared error inf: the check passed every parameter with error 0
    net = npdeep.Network([3, 4, 1], activation="tanh", output_activation="identity",
                         loss="mean_squared_error", seed=0)
    with np.errstate(all="raise"):
        result = npdeep.gradient_check(net, rng.normal(size=(3, 5)),
                                       rng.normal(size=(1, 5)) * 1e200)
    assert not result.passed and result.max_error == np.inf
    assert [r["passed"] for r in result.rows()] == [False] * 4
    assert ("the cost or its gradient is NaN or inf here (W1, b1, W2, b2 failed for it): check "
            "on smaller inputs or weights") in str(result)

def _unscaled_tanh_network():
    """tanh [5, 8, 6, 1] on features of 0..100: |Z[1]| up to ~100, a cost strongly curved."""
    rng = np.random.default_rng(0)
    net = npdeep.Network([5, 8, 6, 1], activation="tanh", output_activation="sigmoid", seed=0)
    return net, rng.uniform(0, 100, (5, 20)), rng.random((1, 20)) > 0.5


def test_a_failure_from_truncation_is_checked_again_with_smaller_steps():
    # central differences at epsilon = 1e-3 were off by 1.5e-5 (truncation, falling as eps^4)
    # on W1 of unscaled inputs: FAILED for a right backpropagation
    net, X, Y = _unscaled_tanh_network()
    result = npdeep.gradient_check(net, X, Y)
    assert result.passed, str(result)
    assert result.epsilons["W1"] == pytest.approx(2.5e-4)   # failed at 1e-3, passed here
    assert result.epsilons["W3"] == 1e-3                     # passed at once
    assert result.rows()[0]["epsilon"] == pytest.approx(2.5e-4)
    assert "checked again with smaller steps (W1 at 0.00025): at epsilon the truncation" \
        in str(result)
    # the same steps, one entry at a time, from the formulas: the epsilon/4 estimate is the
    # one that agrees with backpropagation
    grads = net.gradients(X, Y)["dW1"].reshape(-1)
    W1 = net.parameters["W1"].reshape(-1)

    def richardson(i, h):
        def D(s):
            old = W1[i]
            W1[i] = old + s
            up = net.cost(X, Y)
            W1[i] = old - s
            down = net.cost(X, Y)
            W1[i] = old
            return (up - down) / (2 * s)
        return (4 * D(h / 2) - D(h)) / 3

    i = int(np.argmax(np.abs(grads)))
    coarse, fine = richardson(i, 1e-3), richardson(i, 2.5e-4)
    assert abs(fine - grads[i]) < abs(coarse - grads[i]) / 50


def test_features_of_1000_are_checked_down_to_smaller_steps_while_the_error_falls():
    # W1 fails at 1e-3 and at 2.5e-4 (truncation, 256 times smaller), passes at 6.25e-5
    rng = np.random.default_rng(1)
    net = npdeep.Network([4, 6, 3], activation="tanh", seed=1)
    X, y = rng.normal(size=(4, 8)) * 1000, rng.integers(0, 3, 8)
    result = npdeep.gradient_check(net, X, y)
    assert result.passed, str(result)
    assert result.epsilons["W1"] == pytest.approx(6.25e-5)
    assert "(W1 at 6.25e-05)" in str(result)


def test_a_wrong_gradient_fails_also_after_the_check_with_smaller_steps(monkeypatch):
    net, X, Y = _unscaled_tanh_network()
    monkeypatch.setattr(network_module, "backward", _broken_backward(_skew_dW1))
    result = npdeep.gradient_check(net, X, Y)
    assert not result.passed
    assert result.errors["W1"] > 1e-4 and result.epsilons["W1"] == 1e-3  # reported at epsilon
    assert "checked again" not in str(result)


def _skew_dW1(grads):
    grads[0][0][...] *= 1.0 + 1e-3


def test_an_interrupted_check_leaves_the_parameters_as_they_were(rng, monkeypatch):
    # a float64 network is perturbed in place: Ctrl-C during a cost left one entry moved by
    # epsilon
    import importlib

    module = importlib.import_module("npdeep.gradcheck")
    net = npdeep.Network([3, 4, 1], activation="tanh", seed=0)
    X, Y = rng.normal(size=(3, 6)), rng.random((1, 6)) > 0.5
    before = net.parameters.flat.copy()
    calls, original = [], module._whole_cost

    def interrupted(*args):
        calls.append(None)
        if len(calls) == 4:  # the check's own first cost, then an entry's perturbed ones
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(module, "_whole_cost", interrupted)
    with pytest.raises(KeyboardInterrupt):
        npdeep.gradient_check(net, X, Y)
    assert np.array_equal(net.parameters.flat, before)


def test_a_float32_network_is_checked_only_on_data_it_accepts(rng):
    X = rng.normal(size=(4, 30))
    Y = (X[:1] > 0).astype(float)
    net = npdeep.Network([4, 8, 1], seed=0, dtype="float32")
    X[0, 0] = 1e39  # finite in float64, inf in float32: training refuses it
    with pytest.raises(DataError, match="too large for float32"):
        net.gradients(X, Y)
    with pytest.raises(DataError, match="too large for float32"):
        npdeep.gradient_check(net, X, Y)


class _ScaledTanh(activations.Tanh):
    """tanh whose derivative is ``factor`` times the true one (1.01: wrong by 1%)."""

    def __init__(self, factor):
        self.factor = factor

    def derivative(self, Z, A):
        return (1.0 - A * A) * self.factor

    def backward(self, dA, Z, A, out, work=None):
        return np.multiply(dA, self.derivative(Z, A), out=out)


def _tiny_check(factor, epsilon):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(4, 8)), (rng.random((1, 8)) > 0.5) * 1.0
    net = npdeep.Network([4, 5, 1], activation=[_ScaledTanh(factor)],
                         output_activation="sigmoid", loss="binary_crossentropy", seed=0)
    return npdeep.gradient_check(net, X, Y, epsilon=epsilon)


@pytest.mark.parametrize("factor", [1.01, 1.1, 2.0])
@pytest.mark.parametrize("epsilon", [1e-3, 1e-7, 1e-10, 1e-11, 1e-12, 1e-13])
def test_a_wrong_derivative_never_passes_however_small_epsilon(factor, epsilon):
    # with epsilon 1e-12 the round-off floor of the relative error hid a derivative wrong by
    # 1%, 10% and 2x ("PASSED", via the check with smaller steps at 1e-11)
    result = _tiny_check(factor, epsilon)
    assert not result.passed, str(result)
    text = str(result)
    rows = {r["parameter"]: r for r in result.rows()}
    assert "PASSED" not in text and rows["W1"]["passed"] is not True  # W1, b1 feel g'(z)
    if not any(r["passed"] is False for r in result.rows()):
        assert result.inconclusive and "INCOMPLETE" in text and "round-off:" in text


@pytest.mark.parametrize("epsilon", [1e-3, 1e-7, 1e-9])
def test_right_gradients_pass_down_to_steps_the_round_off_allows(epsilon):
    assert _tiny_check(1.0, epsilon).passed


def test_right_gradients_at_a_step_too_small_to_tell_are_inconclusive():
    result = _tiny_check(1.0, 1e-12)
    assert not result.passed and result.inconclusive
    text = str(result)
    assert "INCOMPLETE" in text and "FAILED" not in text and "round-off" in text
    assert "check with a larger epsilon" in text
    rows = {r["parameter"]: r for r in result.rows()}
    assert all(rows[k]["inconclusive"] and rows[k]["passed"] is None
               for k in result.inconclusive)


class _DoubledSigmoid(activations.Sigmoid):
    """sigmoid whose derivative is twice the true one."""

    def derivative(self, Z, A):
        return 2.0 * A * (1.0 - A)

    def backward(self, dA, Z, A, out, work=None):
        return np.multiply(dA, self.derivative(Z, A), out=out)


@pytest.mark.parametrize("depth", [4, 16, 20])
def test_a_wrong_first_layer_of_a_deep_network_is_never_ok(depth):
    # at 16 sigmoid layers ||dW1|| (1.6e-11) lies below the round-off of central differences
    # (1.8e-11): W1 passed on the round-off floor, doubled, judged against the whole gradient
    rng = np.random.RandomState(0)
    X = rng.randn(5, 50)
    Y = (X[:1] > 0) * 1.0
    net = npdeep.Network([5] + [10] * depth + [1],
                         activation=[_DoubledSigmoid()] + ["sigmoid"] * (depth - 1), seed=0)
    result = npdeep.gradient_check(net, X, Y)
    row = {r["parameter"]: r for r in result.rows()}["W1"]
    assert not result.passed and row["passed"] is not True
    assert row["passed"] is False or "W1" in result.inconclusive
