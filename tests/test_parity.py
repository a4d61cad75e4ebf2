"""npdeep's training steps against scikit-learn's MLP and PyTorch, from the same weights.

These back the tables in docs/MIGRATING.md.

- scikit-learn: MLP's ``alpha`` is npdeep's ``l2``; ``solver="sgd"`` (momentum 0.9, Nesterov)
  is ``Nesterov(0.9)``, ``momentum=0`` is ``SGD``; ``learning_rate_init`` is ``learning_rate``.
- PyTorch: ``weight_decay=wd`` on the weights (biases in a group without decay) is
  ``l2 = wd * m``; ``MSELoss`` over ``k`` outputs at rate ``lr`` is ``mean_squared_error`` at
  ``2 lr / k`` with ``l2 = wd * m * k / 2``.

Each side runs full-batch steps in float64 from one set of weights; after several steps the
weights must agree to rounding.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from npdeep import Network
from npdeep.optimizers import SGD, Momentum, Nesterov

STEPS = 5
LR = 0.1


def _data(n_classes: int, m: int = 40, n_x: int = 5, n_y: int = 0):
    """Return rows X (m, n_x) and labels y (m,), or regression targets (m,) or (m, n_y)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((m, n_x))
    if n_classes:
        y = rng.integers(0, n_classes, m)
        y[:n_classes] = np.arange(n_classes)  # every class present
    else:
        shape = (n_x, n_y) if n_y else n_x
        y = X @ rng.standard_normal(shape) + 0.1 * rng.standard_normal(m if not n_y else (m, n_y))
    return X, y


def _mlp(Est, X, y, *, alpha, momentum, nesterov, hidden=(6, 4)):
    """Return an MLP trained STEPS full-batch steps from fixed weights, and those weights."""
    common = dict(hidden_layer_sizes=hidden, activation="tanh", solver="sgd", alpha=alpha,
                  learning_rate_init=LR, momentum=momentum, nesterovs_momentum=nesterov,
                  batch_size=len(X), shuffle=False, n_iter_no_change=STEPS + 1, tol=0.0,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = Est(max_iter=1, **common).fit(X, y)  # builds the layers, binarizer, etc.
        rng = np.random.default_rng(3)
        start_W = [rng.uniform(-0.5, 0.5, W.shape) for W in mlp.coefs_]
        start_b = [rng.uniform(-0.5, 0.5, b.shape) for b in mlp.intercepts_]
        mlp.coefs_ = [W.copy() for W in start_W]
        mlp.intercepts_ = [b.copy() for b in start_b]
        # warm_start keeps the weights; a non-incremental fit builds a fresh optimizer
        mlp.set_params(warm_start=True, max_iter=STEPS).fit(X, y)
    assert mlp.n_iter_ == STEPS  # every step ran (no early stop)
    return mlp, start_W, start_b


def _network(mlp, start_W, start_b, X, Y, *, alpha, optimizer, output, loss):
    units = [X.shape[1]] + [W.shape[1] for W in start_W]
    net = Network(units, activation="tanh", output_activation=output, loss=loss, l2=alpha,
                  dtype="float64", seed=0)
    net.parameters = {**{f"W{l}": W.T for l, W in enumerate(start_W, start=1)},
                      **{f"b{l}": b[:, None] for l, b in enumerate(start_b, start=1)}}
    net.fit(X.T, Y, epochs=STEPS, learning_rate=LR, optimizer=optimizer)
    return net


def _assert_same_weights(net, mlp):
    for l, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_, strict=True), start=1):
        np.testing.assert_allclose(net.parameters[f"W{l}"], W.T, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(net.parameters[f"b{l}"][:, 0], b, rtol=1e-10, atol=1e-12)


OPTIMIZERS = [  # (MLP's momentum, nesterovs_momentum) -> npdeep's optimizer
    pytest.param(0.0, False, SGD(), id="sgd"),
    pytest.param(0.9, False, Momentum(0.9), id="momentum"),
    pytest.param(0.9, True, Nesterov(0.9), id="nesterov(MLP's default sgd)"),
]


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("momentum, nesterov, optimizer", OPTIMIZERS)
def test_multiclass_matches_mlp_classifier(alpha, momentum, nesterov, optimizer):
    X, y = _data(3)
    mlp, W0, b0 = _mlp(MLPClassifier, X, y, alpha=alpha, momentum=momentum, nesterov=nesterov)
    Y = np.eye(3)[:, y]  # one-hot (3, m)
    net = _network(mlp, W0, b0, X, Y, alpha=alpha, optimizer=optimizer,
                   output="softmax", loss="categorical_crossentropy")
    _assert_same_weights(net, mlp)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_binary_matches_mlp_classifier(alpha):
    X, y = _data(2)
    mlp, W0, b0 = _mlp(MLPClassifier, X, y, alpha=alpha, momentum=0.9, nesterov=True)
    assert mlp.out_activation_ == "logistic" and mlp.coefs_[-1].shape[1] == 1
    net = _network(mlp, W0, b0, X, y[None, :].astype(float), alpha=alpha,
                   optimizer=Nesterov(0.9), output="sigmoid", loss="binary_crossentropy")
    _assert_same_weights(net, mlp)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_regression_matches_mlp_regressor(alpha):
    # one output: MLP's squared loss (mean over outputs, halved) is npdeep's (1/2)||a - y||^2
    X, y = _data(0)
    mlp, W0, b0 = _mlp(MLPRegressor, X, y, alpha=alpha, momentum=0.0, nesterov=False)
    net = _network(mlp, W0, b0, X, y[None, :], alpha=alpha, optimizer=SGD(),
                   output="identity", loss="mean_squared_error")
    _assert_same_weights(net, mlp)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_multi_output_regression_matches_mlp_regressor(alpha):
    # MLP's reported loss divides the squared error by the outputs, its gradient does not:
    # the updates are npdeep's with the same alpha
    X, y = _data(0, n_y=3)
    mlp, W0, b0 = _mlp(MLPRegressor, X, y, alpha=alpha, momentum=0.9, nesterov=True)
    net = _network(mlp, W0, b0, X, y.T, alpha=alpha, optimizer=Nesterov(0.9),
                   output="identity", loss="mean_squared_error")
    _assert_same_weights(net, mlp)


def test_different_l2_does_not_match():
    # the comparison can fail: a different penalty leaves different weights
    X, y = _data(3)
    mlp, W0, b0 = _mlp(MLPClassifier, X, y, alpha=0.3, momentum=0.0, nesterov=False)
    net = _network(mlp, W0, b0, X, np.eye(3)[:, y], alpha=0.15, optimizer=SGD(),
                   output="softmax", loss="categorical_crossentropy")
    with pytest.raises(AssertionError):
        _assert_same_weights(net, mlp)


def _torch_steps(torch, start_W, start_b, X, target, loss_fn, *, lr, weight_decay):
    """Return torch's weights after STEPS full-batch SGD steps from (W[l], b[l]) (n[l], ...)."""
    params = []
    for W, b in zip(start_W, start_b, strict=True):
        params += [torch.tensor(W, requires_grad=True), torch.tensor(b[:, 0], requires_grad=True)]
    # npdeep's l2 leaves the biases alone: they go in a group without weight decay
    opt = torch.optim.SGD([{"params": params[0::2], "weight_decay": weight_decay},
                           {"params": params[1::2], "weight_decay": 0.0}], lr=lr)
    x = torch.tensor(X)
    for _ in range(STEPS):
        opt.zero_grad()
        a = x
        for l in range(0, len(params), 2):
            a = a @ params[l].T + params[l + 1]
            if l + 2 < len(params):
                a = torch.tanh(a)
        loss_fn(a, target).backward()
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("problem", ["cross_entropy", "mse"])
def test_matches_torch_sgd_with_weight_decay(problem):
    torch = pytest.importorskip("torch")
    wd, k = 0.01, 3
    X, y = _data(k) if problem == "cross_entropy" else _data(0, n_y=k)
    m = len(X)
    units = [X.shape[1], 6, 4, k]
    # npdeep's rate is 2 / k times torch's for MSELoss, so its l2 is k / 2 times larger too
    l2 = wd * m if problem == "cross_entropy" else wd * m * k / 2
    net = Network(units, activation="tanh", dtype="float64", seed=0, l2=l2,
                  output_activation="softmax" if problem == "cross_entropy" else "identity",
                  loss="categorical_crossentropy" if problem == "cross_entropy"
                  else "mean_squared_error")
    start_W = [net.parameters[f"W{l}"].copy() for l in range(1, 4)]
    start_b = [net.parameters[f"b{l}"].copy() for l in range(1, 4)]
    if problem == "cross_entropy":
        Y, target, loss_fn, rate = np.eye(k)[:, y], torch.tensor(y), torch.nn.CrossEntropyLoss(), LR
    else:
        Y, target, loss_fn, rate = y.T, torch.tensor(y), torch.nn.MSELoss(), 2 * LR / k
    torch_params = _torch_steps(torch, start_W, start_b, X, target, loss_fn, lr=LR,
                                weight_decay=wd)
    net.fit(X.T, Y, epochs=STEPS, learning_rate=rate, optimizer="sgd")
    for l in range(1, 4):
        np.testing.assert_allclose(net.parameters[f"W{l}"], torch_params[2 * l - 2],
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(net.parameters[f"b{l}"][:, 0], torch_params[2 * l - 1],
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, spec", [
    ("elu", "elu"), ("elu(alpha=0.5)", {"name": "elu", "alpha": 0.5}), ("selu", "selu"),
    ("softplus", "softplus"), ("gelu", "gelu"), ("silu", "silu"), ("swish", "swish")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_match_torch_values_and_gradients(name, spec, dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    torch_g = {"elu": F.elu, "elu(alpha=0.5)": lambda z: F.elu(z, alpha=0.5), "selu": F.selu,
               "softplus": F.softplus, "gelu": F.gelu, "silu": F.silu, "swish": F.silu}[name]
    from npdeep import activations

    g = activations.get(spec)
    rng = np.random.default_rng(0)
    Z = np.concatenate([[-1e4, -80.0, -20.0, -1e-3, 0.0, 1e-3, 20.0, 80.0, 1e4],
                        rng.normal(size=91) * 4]).reshape(4, 25).astype(dtype)
    dA = rng.normal(size=Z.shape).astype(dtype)
    z = torch.tensor(Z, requires_grad=True)
    a = torch_g(z)
    a.backward(torch.tensor(dA))
    A = g(Z)
    rtol, atol = (2e-6, 1e-6) if dtype == "float32" else (1e-13, 1e-13)
    np.testing.assert_allclose(A, a.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(g.backward(dA, Z, A, np.empty_like(Z)), z.grad.numpy(),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("activation", ["elu", "selu", "gelu", "silu", "softplus"])
def test_a_training_step_matches_torch_for_each_new_hidden_activation(activation):
    torch = pytest.importorskip("torch")
    torch_g = {"elu": torch.nn.functional.elu, "selu": torch.selu,
               "gelu": torch.nn.functional.gelu, "silu": torch.nn.functional.silu,
               "softplus": torch.nn.functional.softplus}[activation]
    k = 3
    X, y = _data(k)
    net = Network([X.shape[1], 6, 4, k], activation=activation, output_activation="softmax",
                  loss="categorical_crossentropy", dtype="float64", seed=0)
    params = []
    for l in range(1, 4):
        params += [torch.tensor(net.parameters[f"W{l}"].copy(), requires_grad=True),
                   torch.tensor(net.parameters[f"b{l}"][:, 0].copy(), requires_grad=True)]
    opt = torch.optim.SGD(params, lr=LR)
    for _ in range(STEPS):
        opt.zero_grad()
        a = torch.tensor(X)
        for i in range(0, 6, 2):
            a = a @ params[i].T + params[i + 1]
            if i < 4:
                a = torch_g(a)
        torch.nn.CrossEntropyLoss()(a, torch.tensor(y)).backward()
        opt.step()
    net.fit(X.T, np.eye(k)[:, y], epochs=STEPS, learning_rate=LR, optimizer="sgd",
            batch_size=None, diagnose=False)
    for l in range(1, 4):
        np.testing.assert_allclose(net.parameters[f"W{l}"], params[2 * l - 2].detach().numpy(),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_alpha_dropout_of_selu_layers_maps_units_as_torch_alpha_dropout(p):
    # RNG-independent: every unit of a[l] = x leaves dropout as s x + t (kept) or s a' + t
    # (dropped); torch's values for x = 0 and x = 1 give its three numbers
    torch = pytest.importorskip("torch")
    from npdeep.engine import Workspace, forward

    torch.manual_seed(0)
    out = {x: np.unique(torch.nn.functional.alpha_dropout(
        torch.full((20_000,), float(x), dtype=torch.float64), p=p, training=True).numpy())
        for x in (0, 1)}
    assert out[0].size == 2 and out[1].size == 2
    dropped = out[0][0]                 # s a' + t < t (a' < 0)
    t, kept_one = out[0][1], out[1][1]  # t, s + t
    assert out[1][0] == pytest.approx(dropped, rel=1e-12)

    # a selu layer whose a[1] is 0 (b = 0, W = 0) or 1 (b = selu^-1(1) = 1/scale), and not
    # selu's own rows: W[1] = 0 makes Z[1] = b[1]
    net = Network([1, 2, 1], activation="selu", output_activation="identity", dropout=p,
                  loss="mean_squared_error", dtype="float64", seed=0)
    net.parameters["W1"][...] = 0.0
    net.parameters["b1"][:, 0] = [0.0, 1 / 1.0507009873554805]
    m = 4000
    ws = Workspace(net.units, net.activations, net.dtype, m, keep=net.keep)
    forward(net.layers, net.activations, np.zeros((1, m)), ws, keep=net.keep,
            rng=np.random.default_rng(0))
    D = ws.D[1]
    is_dropped = ws.mask[1] == 0
    np.testing.assert_allclose(D[is_dropped], dropped, rtol=1e-12)
    np.testing.assert_allclose(D[0][~is_dropped[0]], t, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(D[1][~is_dropped[1]], kept_one, rtol=1e-12)
