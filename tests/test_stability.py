"""Activations and losses stay finite, with no NumPy warning, for inputs of +-1e4."""

import numpy as np
import pytest

from npdeep import activations, losses

EXTREME = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4], [1e4, 1e4, -1e4, 0.0, -1e4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", activations.NAMES)
def test_activations_finite_without_warnings(name, dtype):
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
