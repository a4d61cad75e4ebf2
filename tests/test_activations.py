"""elu, selu, softplus, gelu and silu: values against references written from their formulas
with the math module (float64, one number at a time), derivatives against central differences,
the in-place and scratch paths against the plain ones, extreme inputs, options, files."""

import math

import numpy as np
import pytest

import npdeep
from npdeep import activations
from npdeep.engine import Workspace, forward
from npdeep.errors import ConfigurationError

NEW = ["elu", "selu", "softplus", "gelu", "silu"]
#: every new activation, and elu with an alpha whose g' jumps at 0
SPECS = [*NEW, {"name": "elu", "alpha": 0.5}]
IDS = [*NEW, "elu-alpha0.5"]
EXTREME = [-1e4, -80.0, -30.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0, 30.0, 80.0, 1e4]


def _selu_constants():
    """alpha and scale of SELU from their closed forms (Klambauer et al. 2017, eq. 14)."""
    e, pi, c = math.e, math.pi, math.erfc(1 / math.sqrt(2))
    alpha = -math.sqrt(2 / pi) / (c * math.exp(0.5) - 1)
    scale = (1 - c * math.sqrt(e)) * math.sqrt(2 * pi) / math.sqrt(
        2 * math.erfc(math.sqrt(2)) * e * e + pi * c * c * e - 2 * (2 + pi) * c * math.sqrt(e)
        + pi + 2)
    return alpha, scale


def _elu(z, alpha):
    return z if z > 0 else alpha * math.expm1(z)


def _reference(spec, z):
    """g(z) from the defining formula, in Python floats."""
    name = spec if isinstance(spec, str) else spec["name"]
    if name == "elu":
        return _elu(z, 1.0 if isinstance(spec, str) else spec["alpha"])
    if name == "selu":
        alpha, scale = _selu_constants()
        return scale * _elu(z, alpha)
    if name == "softplus":  # log(1 + e^z) = z + log(1 + e^-z), the form that fits in a float
        return math.log1p(math.exp(z)) if z < 700 else z + math.log1p(math.exp(-z))
    if name == "gelu":  # z Phi(z), Phi(z) = erfc(-z / sqrt 2) / 2
        return z * 0.5 * math.erfc(-z / math.sqrt(2))
    assert name == "silu"
    return z / (1 + math.exp(-z)) if z > -700 else 0.0  # z e^z / (1 + e^z) below 1e-300


def _reference_derivative(spec, z):
    name = spec if isinstance(spec, str) else spec["name"]
    if name == "elu":
        alpha = 1.0 if isinstance(spec, str) else spec["alpha"]
        return 1.0 if z > 0 else alpha * math.exp(z)
    if name == "selu":
        alpha, scale = _selu_constants()
        return scale if z > 0 else scale * alpha * math.exp(z)
    if name == "softplus":
        return 1 / (1 + math.exp(-z)) if z > -700 else 0.0
    if name == "gelu":
        return 0.5 * math.erfc(-z / math.sqrt(2)) + z * math.exp(-z * z / 2) / math.sqrt(
            2 * math.pi) if abs(z) < 1e3 else float(z > 0)
    s = 1 / (1 + math.exp(-z)) if z > -700 else 0.0
    return s * (1 + z * (1 - s))


def test_selu_has_the_papers_constants():
    alpha, scale = _selu_constants()
    g = activations.get("selu")
    assert g.alpha == pytest.approx(alpha, rel=1e-15)
    assert g.scale == pytest.approx(scale, rel=1e-15)
    assert (g.alpha, g.scale) == pytest.approx((1.6732632423543772, 1.0507009873554805),
                                               rel=1e-15)  # PyTorch's


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 4e-15), (np.float32, 2e-7)])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_values_match_the_formula_also_at_extreme_inputs(spec, dtype, rtol, rng):
    g = activations.get(spec)
    grid = np.concatenate([EXTREME, rng.normal(size=40) * 4])
    Z = grid.reshape(1, -1).astype(dtype)
    with np.errstate(all="raise"):
        A = g(Z)
        D = g.derivative(Z, A)
    assert A.dtype == D.dtype == dtype
    expected = np.array([_reference(spec, float(z)) for z in Z[0]])
    slope = np.array([_reference_derivative(spec, float(z)) for z in Z[0]])
    # float32: each value is the float64 one rounded; relative error near a few ulps, absolute
    # below the smallest normal float (softplus far below 0 gives e * tiny, not a subnormal)
    tiny = np.finfo(dtype).tiny * 4
    # Phi(z) far below 0 is ill-conditioned: a rounding of z moves it by (1 + z^2) times as
    # much, relatively (for the reference as for npdeep)
    cond = 1 + grid ** 2 if g.name == "gelu" else 1.0
    bound = rtol * 8 * cond * np.abs(expected) + tiny
    assert np.all(np.abs(A[0] - expected) <= bound), (A[0], expected)
    # gelu's g' sums two terms of opposite sign near z = -0.75: compare to its scale
    bound = rtol * 8 * cond * np.abs(slope) + tiny + rtol * 4
    assert np.all(np.abs(D[0] - slope) <= bound), (D[0], slope)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_saturation_is_exact_without_warnings(spec, dtype):
    g = activations.get(spec)
    Z = np.array([[-1e4, -80.0, 0.0, 80.0, 1e4]], dtype)
    with np.errstate(all="raise"):
        A = g(Z)
        dZ = g.backward(np.ones_like(Z), Z, A, np.empty_like(Z))
    assert np.all(np.isfinite(A)) and np.all(np.isfinite(dZ))
    assert A[0, 2] == pytest.approx(_reference(spec, 0.0), rel=1e-7)
    assert A[0, -1] == pytest.approx(_reference(spec, 1e4), rel=1e-7)
    assert dZ[0, -1] == pytest.approx(_reference_derivative(spec, 1e4), rel=1e-7)
    # g'(-1e4) is 0 for every one of them; exponents floored at log(tiny) + 1 leave at most
    # |z| e tiny (gelu's z phi(z))
    assert abs(dZ[0, 0]) <= 1e4 * 4 * np.finfo(dtype).tiny
    assert abs(A[0, 0]) <= 4 * np.finfo(dtype).tiny or g.name in ("elu", "selu")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_derivative_matches_central_differences(spec, rng):
    g = activations.get(spec)
    Z = rng.normal(size=(5, 8)) * 3
    Z[np.abs(Z) < 1e-3] = 0.5
    eps = 1e-6
    numeric = (g(Z + eps) - g(Z - eps)) / (2 * eps)
    np.testing.assert_allclose(g.derivative(Z, g(Z)), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_backward_is_dA_times_the_derivative_with_and_without_scratch(spec, dtype, rng):
    g = activations.get(spec)
    Z = (rng.normal(size=(6, 9)) * 4).astype(dtype)
    Z[0, :4] = [-1e4, 1e4, 0.0, -80.0]
    A = g(Z)
    dA = rng.normal(size=Z.shape).astype(dtype)
    expected = dA * g.derivative(Z, A)
    # the engine's shapes: float and boolean scratch (and a second float one when asked)
    work = (np.full_like(Z, np.nan), np.empty(Z.shape, bool))
    if g.backward_floats == 2:
        work += (np.full_like(Z, np.nan),)
    Z0, A0 = Z.copy(), A.copy()
    plain = g.backward(dA, Z, A, np.empty_like(Z))
    scratch = g.backward(dA, Z, A, np.empty_like(Z), work)
    in_place = dA.copy()
    g.backward(in_place, Z, A, in_place, work)  # out is dA, as the engine calls it
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    for got in (plain, scratch, in_place):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)
    np.testing.assert_array_equal(Z, Z0)   # Z and A are read, never written
    np.testing.assert_array_equal(A, A0)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_inplace_flag_says_whether_forward_may_overwrite_Z(spec, rng):
    g = activations.get(spec)
    name = g.name
    assert g.inplace_ok == (name in ("elu", "selu", "softplus"))  # gelu, silu read Z
    Z = rng.normal(size=(4, 7)) * 5
    expected = g(Z)
    if g.inplace_ok:
        for work in (np.empty_like(Z), None):
            Zc = Z.copy()
            assert g.forward(Zc, Zc, work) is Zc
            np.testing.assert_array_equal(Zc, expected)
    # a network keeps Z[l] apart from a[l] exactly where it must
    net = npdeep.Network([3, 4, 2], activation=spec, seed=0)
    ws = Workspace(net.units, net.activations, net.dtype, 5)
    assert (ws.A[1] is ws.Z[1]) == g.inplace_ok
    assert len(ws.work[1]) == 1 + g.backward_floats
    if g.backward_floats == 2:  # the two float scratch arrays do not overlap
        assert not np.shares_memory(ws.work[1][0], ws.work[1][2])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_kink_is_set_exactly_where_the_derivative_jumps_at_zero(spec):
    g = activations.get(spec)
    left = _reference_derivative(spec, -1e-12)
    right = _reference_derivative(spec, 1e-12)
    assert g.kink == (abs(left - right) > 1e-6)
    assert g.kink == (g.name == "selu" or (g.name == "elu" and g.alpha != 1.0))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_network_with_it_passes_the_gradient_check(spec, rng):
    X, labels = rng.normal(size=(4, 12)), rng.integers(0, 3, size=12)
    for units in ([4, 6, 5, 3], [4, 7, 3]):
        net = npdeep.Network(units, activation=spec, dtype="float64", seed=1)
        result = npdeep.gradient_check(net, X, labels)
        assert result.passed, str(result)
    Y = rng.normal(size=(2, 12))
    net = npdeep.Network([4, 5, 2], activation="tanh", output_activation=spec,
                         loss="mean_squared_error", dtype="float64", seed=2)
    assert not net.fused
    result = npdeep.gradient_check(net, X, Y)
    assert result.passed, str(result)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_saved_network_predicts_the_same_after_loading(spec, tmp_path, rng):
    X, labels = rng.normal(size=(3, 40)), rng.integers(0, 2, size=40)
    net = npdeep.Network([3, 6, 5, 2], activation=spec, output_activation="softmax", seed=0)
    net.fit(X, labels, epochs=3, learning_rate=0.05, diagnose=False)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = npdeep.load(path)
    assert [g.get_config() for g in loaded.activations[1:]] == \
        [g.get_config() for g in net.activations[1:]]
    assert type(loaded.activations[1]) is type(net.activations[1])
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert loaded.get_config() == net.get_config()


def test_options_and_names():
    assert repr(activations.get({"name": "elu", "alpha": 0.5})) == "ELU(alpha=0.5)"
    assert activations.get({"name": "elu", "alpha": 0.5}).get_config() == {"name": "elu",
                                                                             "alpha": 0.5}
    assert activations.get("elu").get_config() == {"name": "elu", "alpha": 1.0}
    assert activations.get("selu").get_config() == {"name": "selu"}
    assert repr(activations.get("selu")) == "SELU()"
    assert type(activations.get("swish")) is activations.SiLU
    assert activations.get("Swish").get_config() == {"name": "silu"}
    for name in NEW:
        assert name in activations.NAMES and name in activations.HIDDEN_NAMES
        assert type(activations.get(name)).__name__ in activations.__all__


@pytest.mark.parametrize("spec, match", [
    ({"name": "elu", "beta": 1}, r"invalid options for activation 'elu': \['beta'\] "
                                 r"\(its options: alpha\)"),
    ({"name": "selu", "alpha": 1.0}, r"invalid options for activation 'selu': \['alpha'\] "
                                     r"\(its options: none\)"),
    ({"name": "gelu", "approximate": "tanh"}, r"invalid options for activation 'gelu': "
                                              r"\['approximate'\] \(its options: none\)"),
    ({"name": "elu", "alpha": -1.0}, r"elu alpha must be a finite number >= 0, got -1.0"),
    ({"name": "elu", "alpha": "1"}, r"elu alpha must be a finite number >= 0, got '1'"),
    ({"name": "elu", "alpha": float("inf")}, r"elu alpha must be a finite number >= 0"),
])
def test_bad_options_are_refused_naming_the_valid_ones(spec, match):
    with pytest.raises(ConfigurationError, match=match):
        npdeep.Network([3, 4, 1], activation=spec)


@pytest.mark.parametrize("activation, init", [
    ("relu", "he"), ("leaky_relu", "he"), ("elu", "he"), ("softplus", "he"), ("gelu", "he"),
    ("silu", "he"), ("swish", "he"), ("selu", "lecun"), ("tanh", "glorot"),
    ("sigmoid", "glorot"), ("identity", "glorot")])
def test_the_default_initializer_follows_the_first_hidden_activation(activation, init):
    assert npdeep.Network([3, 4, 1], activation=activation).init == init
    # an explicit init wins
    assert npdeep.Network([3, 4, 1], activation=activation, init="glorot").init == "glorot"


def test_lecun_keeps_a_deep_selu_network_self_normalizing(rng):
    # mean ~0 and variance ~1 through 20 selu layers of LeCun-normal weights
    net = npdeep.Network([100] * 21 + [1], activation="selu", output_activation="identity",
                         seed=0)
    assert net.init == "lecun"
    _, cache = net.forward(rng.normal(size=(100, 2000)))
    a = cache["a20"]
    assert abs(a.mean()) < 0.15 and 0.7 < a.var() < 1.3
    W = net.parameters["W3"]
    assert W.var() == pytest.approx(1 / 100, rel=0.05)


def _dropped_out_activations(net, X, seed):
    """The dropout outputs D[l] (n[l], m) of one training forward pass of ``net`` on X."""
    ws = Workspace(net.units, net.activations, net.dtype, X.shape[1], keep=net.keep)
    forward(net.layers, net.activations, X, ws, keep=net.keep, rng=np.random.default_rng(seed))
    return ws


def test_dropout_in_selu_layers_is_alpha_dropout_and_keeps_them_self_normalizing(rng):
    X = rng.normal(size=(100, 2000))
    net = npdeep.Network([100] * 11 + [1], activation="selu", output_activation="identity",
                         dropout=0.2, seed=0)
    ws = _dropped_out_activations(net, X, seed=1)
    for l in (1, 5, 10):
        assert abs(ws.D[l].mean()) < 0.1 and 0.85 < ws.D[l].var() < 1.15, l
    # a dropped unit takes selu's saturation value a' = -scale alpha, then s x + t
    a_, keep = -1.0507009873554805 * 1.6732632423543772, 0.8
    s = 1 / math.sqrt(keep * (1 + a_ * a_ * (1 - keep)))
    dropped = ws.mask[10] == 0
    assert 0.15 < dropped.mean() < 0.25
    np.testing.assert_allclose(ws.D[10][dropped], s * a_ + -s * a_ * (1 - keep), rtol=1e-12)
    np.testing.assert_allclose(ws.D[10][~dropped], s * ws.A[10][~dropped] - s * a_ * (1 - keep),
                               rtol=1e-12, atol=1e-14)
    # inverted dropout, which the other activations get, would let the variance grow
    for g in net.activations[1:-1]:
        g.dropped_value = None
    assert _dropped_out_activations(net, X, seed=1).D[10].var() > 1.8


BUILT_IN = ["sigmoid", "tanh", "relu", "leaky_relu", {"name": "leaky_relu", "alpha": 0.0},
            "identity", "softmax", "exp", *SPECS]


@pytest.mark.parametrize("spec", BUILT_IN, ids=str)
def test_bounds_hold_every_value_and_are_tight(spec):
    # the regression checks (DeepRegressor's warning, npdeep train's refusal) read them
    g = activations.get(spec)
    low, high = g.bounds
    Z = np.linspace(-60.0, 60.0, 1_200_001).reshape(1, -1)
    if g.name == "softmax":  # a column of two units: a_1 = sigmoid(z_1 - z_2)
        Z = np.vstack([Z, np.zeros_like(Z)])
    A = g(Z)
    assert low <= A.min() and A.max() <= high
    # tight: a finite bound is reached to 1e-8 (the grid's step is 1e-4), an infinite one
    # passed far out
    tails = g(np.array([[-1e8, 1e8]]) if g.name != "softmax" else np.array([[-1e8], [0.0]]))
    assert A.min() <= low + 1e-8 if math.isfinite(low) else tails[0, 0] < -1e5
    assert A.max() >= high - 1e-8 if math.isfinite(high) else tails[0, -1] > 1e5
