"""Activations and losses stay finite, with no NumPy warning, for inputs of +-1e4."""

import numpy as np
import pytest

import npdeep
from npdeep import activations, losses

EXTREME = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4], [1e4, 1e4, -1e4, 0.0, -1e4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [n for n in activations.NAMES if n != "exp"])
def test_activations_finite_without_warnings(name, dtype):
    # exp(1e4) is inf by definition: tests/test_losses_regression.py checks that it comes out
    # without a warning and that its tiny values do not underflow
    g = activations.get(name)
    Z = EXTREME.astype(dtype)
    with np.errstate(all="raise"):
        A = g(Z)
        dZ = g.backward(np.ones_like(Z), Z, A, np.empty_like(Z))
    assert np.all(np.isfinite(A)) and np.all(np.isfinite(dZ))
    assert A.dtype == dtype


def test_sigmoid_saturates_exactly_and_softmax_sums_to_one():
    with np.errstate(all="raise"):
        A = activations.get("sigmoid")(EXTREME)
        S = activations.get("softmax")(EXTREME)
    assert A[0, 0] == 0.0 and A[0, -1] == 1.0 and A[0, 2] == 0.5
    np.testing.assert_allclose(S.sum(axis=0), 1.0)
    assert np.all(S >= 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_large_array_path_matches_expit_and_saturates_exactly(dtype):
    # arrays above Sigmoid.expit_size take the four-pass exp form: same values, no warnings
    from scipy.special import expit

    g = activations.get("sigmoid")
    Z = (np.random.default_rng(0).standard_normal((8, g.expit_size)) * 20).astype(dtype)
    Z[0, :5] = [-1e4, 1e4, 0.0, -1e30, 1e30]
    assert Z.size > g.expit_size
    with np.errstate(all="raise"):
        A = g(Z)
    assert A.dtype == dtype
    assert list(A[0, :5]) == [0.0, 1.0, 0.5, 0.0, 1.0]
    np.testing.assert_allclose(A, expit(Z), rtol=4 * np.finfo(dtype).eps,
                               atol=np.finfo(dtype).tiny)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_finite_when_outputs_saturate(dtype):
    Z = EXTREME.astype(dtype)
    Y = np.array([[1.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0, 1.0]], dtype=dtype)
    sig, soft = activations.get("sigmoid"), activations.get("softmax")
    with np.errstate(all="raise"):
        for loss, g in ((losses.get("bce"), sig), (losses.get("cce"), soft),
                        (losses.get("mse"), activations.get("identity"))):
            A = g(Z)
            fused = g.name == loss.canonical
            for logits in ((Z if fused else None), None):
                J = loss.cost(A, Y, 1.0 / Z.shape[1], logits)
                assert np.isfinite(J), loss.name
            assert np.all(np.isfinite(loss.gradient(A, Y, 1.0 / Z.shape[1])))


def test_bce_from_logits_is_exact_where_log_of_output_underflows():
    # a sigmoid output of 1e4 rounds to exactly 1; the cost from the logits is still 1e4
    loss = losses.get("binary_crossentropy")
    Z = np.array([[1e4]])
    A = activations.get("sigmoid")(Z)
    with np.errstate(all="raise"):
        assert loss.cost(A, np.array([[0.0]]), 1.0, Z) == pytest.approx(1e4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output, W, Y, expected", [
    # logits +-1e4: one sample confidently wrong (loss 1e4 or 2e4), one right (loss ~1e-4343)
    ("sigmoid", [[1e4]], [[0.0, 0.0]], 0.5e4),
    ("softmax", [[1e4], [-1e4], [0.0]], [[0, 0], [1, 1], [0, 0]], 1e4),
])
def test_network_cost_is_exact_and_probabilities_sum_to_one_at_1e4_logits(dtype, output, W, Y,
                                                                         expected):
    net = npdeep.Network([1, len(W)], output_activation=output, dtype=dtype, seed=0)
    net.parameters["W1"] = np.array(W)
    X = np.array([[1.0, -1.0]])
    with np.errstate(all="raise"):
        J = net.cost(X, np.array(Y))
        P = net.predict_proba(X)
    assert J == pytest.approx(expected, rel=1e-6)
    assert P.dtype == dtype and np.all((P >= 0) & (P <= 1))
    if output == "softmax":
        np.testing.assert_allclose(P.sum(axis=0), 1.0, rtol=4 * np.finfo(dtype).eps)
    with np.errstate(under="ignore"):  # saturated softmax outputs are subnormal: harmless
        assert all(np.isfinite(g).all() for g in net.gradients(X, np.array(Y)).values())


def _reference_cost(net, X, labels):
    """Softmax cross-entropy of a tanh network, straight from the equations, in float64."""
    from scipy.special import logsumexp

    A = X.astype(np.float64)
    for l in range(1, net.L + 1):
        Z = net.parameters[f"W{l}"].astype(np.float64) @ A + net.parameters[f"b{l}"]
        A = np.tanh(Z)
    log_a = Z - logsumexp(Z, axis=0, keepdims=True)
    return -log_a[labels, np.arange(X.shape[1])].mean()


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-13), ("float32", 1e-5)])
@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e4])
@pytest.mark.parametrize("weight_scale", [1.0, 100.0])
def test_cost_matches_the_equations_for_tiny_and_huge_feature_scales(dtype, rtol, scale,
                                                                    weight_scale, rng):
    net = npdeep.Network([3, 6, 5, 4], activation="tanh", dtype=dtype, seed=0)
    for W, _ in net.layers:
        W *= weight_scale  # saturated tanh units and logits of ~1e2..1e3
    X = (rng.normal(size=(3, 9)) * scale).astype(dtype)
    labels = rng.integers(0, 4, size=9)
    with np.errstate(all="raise"):
        J = net.cost(X, labels)
    assert J == pytest.approx(_reference_cost(net, X, labels), rel=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exponents_are_floored_where_exp_is_still_normal(dtype):
    # the floor was log(tiny), which float32 rounds to -87.33655, whose exp is the subnormal
    # 1.1754907e-38: log1p raised underflow on it (the float32 BCE cost under errstate)
    tiny = np.finfo(dtype).tiny
    floor = np.asarray(activations.exp_floor(dtype), dtype)
    assert np.exp(floor) >= tiny
    Z = np.array([[-1e4, -1e3, -100.0, -90.0, -87.0, 0.0, 87.0, 1e4]], dtype)
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]], dtype)
    ws = npdeep.engine.Workspace([1, 1], [None, activations.get("sigmoid")], dtype, Z.shape[1])
    with np.errstate(all="raise"):
        sp = losses.softplus(Z)
        J_work = losses.get("bce").cost(None, Y, 1.0, Z, ws.loss_work)
        J_plain = losses.get("bce").cost(None, Y, 1.0, Z)
    assert np.all(sp >= 0) and np.all(np.isfinite(sp))
    expected = float(np.sum(Y * np.logaddexp(0, -Z.astype(np.float64))
                            + (1 - Y) * np.logaddexp(0, Z.astype(np.float64))))
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert J_work == pytest.approx(expected, rel=rtol)
    assert J_plain == pytest.approx(expected, rel=rtol)
