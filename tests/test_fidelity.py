"""npdeep configured as the article reproduces the article's algorithm, epoch by epoch."""

import numpy as np
import pytest

import npdeep


def article_training(parameters, X, Y, alpha, epochs):
    """The article's code with its defects fixed: a real epoch loop, sigmoid defined first."""

    def sigmoid(Z):
        return 1 / (1 + np.exp(-Z))

    def sigmoid_derivative(Z):  # the article's inv_sigmoid
        return sigmoid(Z) * (1 - sigmoid(Z))

    parameters = {k: v.copy() for k, v in parameters.items()}
    L = len(parameters) // 2
    m = X.shape[1]
    costs = []
    for _epoch in range(epochs):
        cache = {"a0": X}
        for layer in range(1, L + 1):
            cache["Z" + str(layer)] = (
                np.dot(parameters["W" + str(layer)], cache["a" + str(layer - 1)])
                + parameters["b" + str(layer)]
            )
            cache["a" + str(layer)] = sigmoid(cache["Z" + str(layer)])
        y_hat = cache["a" + str(L)]
        costs.append(np.sum(-(1 / m) * (Y * np.log(y_hat) + (1 - Y) * np.log(1 - y_hat))))
        cache["dZ" + str(L)] = (1 / m) * (y_hat - Y)
        cache["dW" + str(L)] = np.dot(cache["dZ" + str(L)], cache["a" + str(L - 1)].T)
        cache["db" + str(L)] = np.sum(cache["dZ" + str(L)], axis=1, keepdims=True)
        for layer in range(L - 1, 0, -1):
            cache["dZ" + str(layer)] = np.dot(
                parameters["W" + str(layer + 1)].T, cache["dZ" + str(layer + 1)]
            ) * sigmoid_derivative(cache["Z" + str(layer)])
            cache["dW" + str(layer)] = np.dot(cache["dZ" + str(layer)],
                                              cache["a" + str(layer - 1)].T)
            cache["db" + str(layer)] = np.sum(cache["dZ" + str(layer)], axis=1, keepdims=True)
        for layer in range(1, L + 1):
            parameters["W" + str(layer)] -= alpha * cache["dW" + str(layer)]
            parameters["b" + str(layer)] -= alpha * cache["db" + str(layer)]
    return costs, parameters


def article_network(seed=0):
    return npdeep.Network(
        [3, 4, 4, 4, 4, 3, 1], activation="sigmoid", output_activation="sigmoid",
        loss="binary_crossentropy", init="article", dtype="float64", seed=seed,
    )


def test_costs_match_the_article_at_every_epoch(rng):
    X = rng.random((3, 2))
    Y = rng.random((1, 2))  # the article's Y: values in (0, 1)
    net = article_network()
    start = net.parameters.copy()
    expected_costs, expected_params = article_training(start, X, Y, alpha=0.01, epochs=100)
    history = net.fit(X, Y, epochs=100, learning_rate=0.01, batch_size=None)
    assert len(history.cost) == 100
    np.testing.assert_allclose(history.cost, expected_costs, rtol=1e-12, atol=0)
    for key, value in expected_params.items():
        np.testing.assert_allclose(net.parameters[key], value, rtol=1e-12, atol=1e-15)


def test_forward_cache_uses_the_articles_names(rng):
    net = article_network()
    X = rng.random((3, 5))
    a_L, cache = net.forward(X)
    assert set(cache) == {"a0"} | {f"{p}{l}" for l in range(1, 7) for p in ("Z", "a")}
    assert cache["a0"] is not None and cache["a0"].shape == (3, 5)
    for l in range(1, 7):
        W, b = net.parameters[f"W{l}"], net.parameters[f"b{l}"]
        np.testing.assert_allclose(cache[f"Z{l}"], W @ cache[f"a{l - 1}"] + b, rtol=1e-14)
        np.testing.assert_allclose(cache[f"a{l}"], 1 / (1 + np.exp(-cache[f"Z{l}"])), rtol=1e-14)
    np.testing.assert_array_equal(a_L, cache["a6"])


def test_article_init_is_uniform_01_with_zero_biases():
    net = article_network(seed=3)
    for l in range(1, 7):
        W = net.parameters[f"W{l}"]
        assert W.shape == (net.units[l], net.units[l - 1])
        assert W.min() >= 0 and W.max() < 1
        np.testing.assert_array_equal(net.parameters[f"b{l}"], 0)


def test_same_seed_same_weights_bit_for_bit():
    a = npdeep.Network([5, 7, 3], seed=42)
    b = npdeep.Network([5, 7, 3], seed=42)
    c = npdeep.Network([5, 7, 3], seed=43)
    for k in a.parameters:
        assert a.parameters[k].tobytes() == b.parameters[k].tobytes()
    assert a.parameters["W1"].tobytes() != c.parameters["W1"].tobytes()


def test_same_seed_same_training_bit_for_bit(rng):
    X = rng.normal(size=(4, 50))
    y = (X[0] > 0).astype(float)
    nets = [npdeep.Network([4, 6, 1], seed=7) for _ in range(2)]
    for net in nets:
        net.fit(X, y, epochs=5, learning_rate=0.1, batch_size=8)
    assert nets[0].parameters.flat.tobytes() == nets[1].parameters.flat.tobytes()


def _equation_gradients(net, X, Y, g, g_prime):
    """dW[l], db[l] straight from the article's equations, softmax + cross-entropy output."""
    P, L, m = net.parameters, net.L, X.shape[1]
    A, Z = {0: X}, {}
    for l in range(1, L + 1):
        Z[l] = P[f"W{l}"] @ A[l - 1] + P[f"b{l}"]
        A[l] = g(Z[l]) if l < L else np.exp(Z[l]) / np.exp(Z[l]).sum(axis=0)
    grads, dZ = {}, (1 / m) * (A[L] - Y)
    for l in range(L, 0, -1):
        grads[f"dW{l}"] = dZ @ A[l - 1].T
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (P[f"W{l}"].T @ dZ) * g_prime(Z[l - 1])
    return grads


@pytest.mark.parametrize("name, g, g_prime", [
    ("tanh", np.tanh, lambda Z: 1 - np.tanh(Z) ** 2),
    ("relu", lambda Z: np.maximum(Z, 0), lambda Z: (Z > 0) * 1.0),
    ("leaky_relu", lambda Z: np.where(Z > 0, Z, 0.01 * Z), lambda Z: np.where(Z > 0, 1, 0.01)),
    ("identity", lambda Z: Z, lambda Z: np.ones_like(Z)),
])
def test_gradients_match_the_articles_equations_for_every_hidden_activation(name, g, g_prime,
                                                                            rng):
    net = npdeep.Network([4, 7, 6, 3], activation=name, dtype="float64", seed=5)
    X, labels = rng.normal(size=(4, 11)), rng.integers(0, 3, size=11)
    expected = _equation_gradients(net, X, np.eye(3)[:, labels], g, g_prime)
    got = net.gradients(X, labels)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("init, variance", [
    ("he", lambda n_in, n_out: 2 / n_in),
    ("lecun", lambda n_in, n_out: 1 / n_in),
    ("glorot", lambda n_in, n_out: 2 / (n_in + n_out)),
    ("normal", lambda n_in, n_out: 1e-4),
    ("article", lambda n_in, n_out: 1 / 12),
])
def test_initializers_have_their_stated_variance(init, variance):
    net = npdeep.Network([400, 300, 200], activation="tanh", init=init, seed=0)
    for l in (1, 2):
        W = net.parameters[f"W{l}"]
        n_out, n_in = W.shape
        assert W.var() == pytest.approx(variance(n_in, n_out), rel=0.03)
