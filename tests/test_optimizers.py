"""Every optimizer: one step against its formula written out by hand, state keys, bad input."""

import numpy as np
import pytest

import npdeep
from npdeep import optimizers
from npdeep.parameters import Layout

LAYOUT = Layout([3, 4, 2], np.float64)


@pytest.fixture
def buffers(rng):
    theta = rng.normal(size=LAYOUT.size)
    grads = [rng.normal(size=LAYOUT.size) for _ in range(3)]
    return theta, grads


def run(opt, theta, grads, lr):
    opt.setup(LAYOUT)
    theta = theta.copy()
    with np.errstate(all="raise"):
        for g in grads:
            opt.step(theta, g.copy(), lr)
    return theta


def reference(name, theta, grads, lr, **kw):
    """The update rules written out plainly, step by step."""
    theta = theta.copy()
    v = np.zeros_like(theta)
    s = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        if name == "sgd":
            theta = theta - lr * g
        elif name == "momentum":
            v = kw["momentum"] * v + g
            theta = theta - lr * v
        elif name == "nesterov":
            v = kw["momentum"] * v + g
            theta = theta - lr * (g + kw["momentum"] * v)
        elif name == "rmsprop":
            s = kw["rho"] * s + (1 - kw["rho"]) * g**2
            theta = theta - lr * g / (np.sqrt(s) + kw["epsilon"])
        elif name in ("adam", "adamw"):
            if name == "adamw":
                mask = np.zeros_like(theta)
                for key in LAYOUT.keys:
                    if key.startswith("W"):
                        mask[LAYOUT.slices[key]] = 1
                theta = theta - lr * kw["weight_decay"] * mask * theta
            b1, b2 = kw["beta1"], kw["beta2"]
            v = b1 * v + (1 - b1) * g
            s = b2 * s + (1 - b2) * g**2
            m_hat, s_hat = v / (1 - b1**t), s / (1 - b2**t)
            theta = theta - lr * m_hat / (np.sqrt(s_hat) + kw["epsilon"])
    return theta


CASES = [
    ("sgd", {}),
    ("momentum", {"momentum": 0.8}),
    ("nesterov", {"momentum": 0.7}),
    ("rmsprop", {"rho": 0.85, "epsilon": 1e-7}),
    ("adam", {"beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6}),
    ("adamw", {"beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,kw", CASES)
def test_one_step_matches_formula(name, kw, buffers):
    theta, grads = buffers
    got = run(optimizers.get({"name": name, **kw}), theta, grads[:1], lr=0.05)
    np.testing.assert_allclose(got, reference(name, theta, grads[:1], 0.05, **kw), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("name,kw", CASES)
def test_three_steps_match_formula(name, kw, buffers):
    theta, grads = buffers
    got = run(optimizers.get({"name": name, **kw}), theta, grads, lr=0.05)
    np.testing.assert_allclose(got, reference(name, theta, grads, 0.05, **kw), rtol=1e-12,
                               atol=1e-15)


def test_adam_first_step_is_lr_times_sign():
    """With bias correction the first Adam step moves every entry by ~lr (sign of -g)."""
    opt = optimizers.Adam(epsilon=1e-12)
    opt.setup(LAYOUT)
    theta = np.zeros(LAYOUT.size)
    g = np.linspace(-2, 2, LAYOUT.size) + 0.01
    opt.step(theta, g.copy(), 0.1)
    np.testing.assert_allclose(theta, -0.1 * np.sign(g), rtol=1e-9)


def test_adamw_does_not_decay_biases():
    opt = optimizers.AdamW(weight_decay=0.5)
    opt.setup(LAYOUT)
    theta = np.ones(LAYOUT.size)
    opt.step(theta, np.zeros(LAYOUT.size), 0.1)
    views = LAYOUT.views(theta)
    np.testing.assert_allclose(views["b1"], 1.0)
    np.testing.assert_allclose(views["W1"], 0.95)


def test_state_is_keyed_like_the_parameters():
    opt = optimizers.Adam()
    opt.setup(LAYOUT)
    assert list(opt.state_views("m")) == LAYOUT.keys == ["W1", "b1", "W2", "b2"]
    assert opt.state_views("v")["W2"].shape == (2, 4)
    opt.state_views("m")["W1"][...] = 7.0  # a view: writes the flat buffer
    assert opt.state["m"][LAYOUT.slices["W1"]].min() == 7.0
    assert "optimizer.m.W1" in opt.state_arrays()


def test_fit_accepts_name_or_object(rng):
    X = rng.normal(size=(3, 20))
    y = (X[0] > 0).astype(float)
    net = npdeep.Network([3, 4, 1], activation="tanh", seed=0)
    opt = optimizers.Nesterov(momentum=0.5)
    net.fit(X, y, epochs=2, optimizer=opt, diagnose=False)
    assert opt.t == 2
    net.fit(X, y, epochs=2, optimizer="rmsprop", diagnose=False)


@pytest.mark.parametrize("kw,match", [
    ({"name": "momentum", "momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
    ({"name": "nesterov", "momentum": -0.1}, r"momentum must be in \[0, 1\), got -0.1"),
    ({"name": "adam", "beta1": 1.5}, r"beta1 must be in \[0, 1\), got 1.5"),
    ({"name": "adamw", "beta2": 1.0}, r"beta2 must be in \[0, 1\), got 1.0"),
    ({"name": "rmsprop", "rho": 2}, r"rho must be in \[0, 1\), got 2"),
    ({"name": "adam", "epsilon": 0}, r"epsilon must be a finite number > 0, got 0"),
    ({"name": "adamw", "weight_decay": -1}, r"weight_decay must be a finite number >= 0"),
    ({"name": "adam", "betas": 1}, r"invalid options for optimizer 'adam': \['betas'\] \(its "
                                   r"options: beta1, beta2, epsilon\)$"),
    # was Python's "__init__() got an unexpected keyword argument 'lr'"
    ({"name": "sgd", "lr": 0.1}, r"invalid options for optimizer 'sgd': \['lr'\] \(its options: "
                                 r"none\); the learning rate is fit's learning_rate$"),
    # beyond float range, an int np.isfinite cannot take, NaN, inf, bool, str: named errors
    ({"name": "adamw", "weight_decay": 10**400}, r"weight_decay must be a finite number >= 0, "
                                                 r"got 1000000"),
    ({"name": "adamw", "weight_decay": float("nan")}, r"weight_decay must be .* got nan"),
    ({"name": "adamw", "weight_decay": True}, r"weight_decay must be .* got True"),
    ({"name": "adam", "epsilon": 10**400}, r"epsilon must be a finite number > 0, got 1000000"),
    ({"name": "rmsprop", "epsilon": float("inf")}, r"epsilon must be a finite number > 0, got inf"),
    ({"name": "rmsprop", "epsilon": "1e-8"}, r"epsilon must be a finite number > 0, got '1e-8'"),
    ({"name": "adam", "beta1": 10**400}, r"beta1 must be in \[0, 1\), got 1000000"),
    # a config without its name said "got None"; a class said "got <class ...>"
    ({"beta1": 0.5}, r"an optimizer config dict needs a 'name' key, got \{'beta1': 0.5\}; "
                     r"valid names: sgd, momentum"),
    (optimizers.Adam, r"optimizer must be a name or an Optimizer, got the class Adam: "
                      r"pass Adam\(\) \(with its options\); valid names: sgd"),
])
def test_bad_hyperparameters(kw, match):
    with pytest.raises(npdeep.ConfigurationError, match=match):
        optimizers.get(kw)


@pytest.mark.parametrize("make,match", [
    (lambda: optimizers.AdamW(weight_decay=10**400), "weight_decay must be a finite number >= 0"),
    (lambda: optimizers.RMSprop(epsilon=-(10**400)), "epsilon must be a finite number > 0"),
])
def test_direct_construction_names_the_parameter(make, match):
    """Not through get(): a raw TypeError from np.isfinite escaped before."""
    with pytest.raises(npdeep.ConfigurationError, match=match):
        make()


def test_unknown_name_lists_valid_ones():
    with pytest.raises(npdeep.ConfigurationError,
                       match="unknown optimizer 'adagrad'; valid names: sgd, momentum, nesterov, "
                             "rmsprop, adam, adamw"):
        optimizers.get("adagrad")
    assert isinstance(optimizers.get("gd"), optimizers.SGD)


def test_an_optimizer_object_continues_on_its_network_and_restarts_on_another(rng):
    X = rng.normal(size=(4, 40))
    Y = (X[0] > 0).astype(float)
    opt = optimizers.Adam()
    a = npdeep.Network([4, 3, 1], seed=0)
    a.fit(X, Y, epochs=3, learning_rate=0.01, optimizer=opt, diagnose=False)
    assert opt.t == 3
    a.fit(X, Y, epochs=2, learning_rate=0.01, optimizer=opt, diagnose=False)
    assert opt.t == 5, "the same network trained again continues (Keras, PyTorch)"
    b = npdeep.Network([4, 3, 1], seed=0)
    b.fit(X, Y, epochs=3, learning_rate=0.01, optimizer=opt, diagnose=False)
    c = npdeep.Network([4, 3, 1], seed=0)
    c.fit(X, Y, epochs=3, learning_rate=0.01, optimizer="adam", diagnose=False)
    assert opt.t == 3
    np.testing.assert_array_equal(b.parameters.flat, c.parameters.flat)


TORCH_CASES = [  # (npdeep spec, torch class name, torch options)
    ({"name": "sgd"}, "SGD", {}),
    ({"name": "momentum", "momentum": 0.9}, "SGD", {"momentum": 0.9}),
    ({"name": "nesterov", "momentum": 0.9}, "SGD", {"momentum": 0.9, "nesterov": True}),
    ({"name": "rmsprop", "rho": 0.9, "epsilon": 1e-8}, "RMSprop", {"alpha": 0.9, "eps": 1e-8}),
    ({"name": "adam", "beta2": 0.99}, "Adam", {"betas": (0.9, 0.99), "eps": 1e-8}),
    ({"name": "adamw", "weight_decay": 0.1}, "AdamW", {"eps": 1e-8, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("spec,cls,options", TORCH_CASES)
def test_matches_torch_optim_over_twenty_steps(spec, cls, options, rng):
    """Same start, gradients and (decaying) rates as torch.optim in float64; AdamW decays
    the weights only, as torch does with a bias group of weight_decay=0."""
    torch = pytest.importorskip("torch")
    theta = rng.normal(size=LAYOUT.size)
    grads = [rng.normal(size=LAYOUT.size) * 10.0 ** rng.uniform(-4, 1) for _ in range(20)]
    rates = [0.05 * 0.9**i for i in range(20)]
    got = run_rates(optimizers.get(spec), theta, grads, rates)

    params = {k: torch.tensor(v, requires_grad=True) for k, v in LAYOUT.views(theta).items()}
    decay = options.pop("weight_decay", 0.0)
    groups = [{"params": [p for k, p in params.items() if k.startswith("W")],
               "weight_decay": decay},
              {"params": [p for k, p in params.items() if k.startswith("b")],
               "weight_decay": 0.0}]
    opt = getattr(torch.optim, cls)(groups, lr=rates[0], **options)
    for g, lr in zip(grads, rates, strict=True):
        for group in opt.param_groups:
            group["lr"] = lr
        for k, p in params.items():
            p.grad = torch.tensor(LAYOUT.views(g)[k])
        opt.step()
    want = np.empty(LAYOUT.size)
    for k, view in LAYOUT.views(want).items():
        view[...] = params[k].detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def run_rates(opt, theta, grads, rates):
    opt.setup(LAYOUT)
    theta = theta.copy()
    for g, lr in zip(grads, rates, strict=True):
        opt.step(theta, g.copy(), lr)
    return theta


def test_load_state_refuses_values_a_float32_network_cannot_hold():
    """A float64 state of 1e300 became inf in a float32 network's buffers, silently."""
    layout = Layout([3, 4, 2], np.float32)
    saved = optimizers.Adam()
    saved.setup(Layout([3, 4, 2], np.float64))
    saved.state["m"][:] = 1e300
    arrays = {k: np.array(v) for k, v in saved.state_arrays().items()}
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"optimizer state 'optimizer.m.W1' has values too large for "
                             r"float32, the network's dtype"):
        optimizers.Adam().load_state(layout, 3, arrays)
    saved.state["m"][:] = 0.5
    arrays = {k: np.array(v) for k, v in saved.state_arrays().items()}
    loaded = optimizers.Adam()
    loaded.load_state(layout, 3, arrays)
    assert loaded.t == 3 and loaded.state["m"].dtype == np.float32
    np.testing.assert_array_equal(loaded.state["m"], 0.5)
