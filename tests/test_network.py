"""The Network API: parameters mapping, predictions, and every bad input by its message."""

import numpy as np
import pytest

import npdeep
from npdeep import ConfigurationError, DataError


@pytest.fixture
def net():
    return npdeep.Network([3, 4, 2, 1], activation="tanh", seed=0)


def test_parameters_mapping_has_the_articles_keys_and_shapes(net):
    assert list(net.parameters) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert net.parameters["W1"].shape == (4, 3)
    assert net.parameters["b2"].shape == (2, 1)


def test_parameters_are_assignable_and_used(net, rng):
    X = rng.normal(size=(3, 5))
    W = rng.normal(size=(4, 3))
    net.parameters["W1"] = W
    np.testing.assert_array_equal(net.parameters["W1"], W)
    _, cache = net.forward(X)
    np.testing.assert_allclose(cache["Z1"], W @ X + net.parameters["b1"])


@pytest.mark.parametrize(
    ("key", "value", "error", "match"),
    [
        ("W1", np.zeros((3, 4)), DataError, r"'W1' must have shape \(4, 3\)"),
        ("W2", np.full((2, 4), np.nan), DataError, "'W2' contains NaN or inf"),
        ("b1", np.array([[np.inf]] * 4), DataError, "'b1' contains NaN or inf"),
        ("W9", np.zeros((1, 1)), KeyError, "unknown parameter 'W9'; valid keys: W1, b1"),
    ],
)
def test_bad_parameter_assignment(net, key, value, error, match):
    before = net.parameters.flat.copy()
    with pytest.raises(error, match=match):
        net.parameters[key] = value
    np.testing.assert_array_equal(net.parameters.flat, before)


def test_unknown_parameter_read(net):
    with pytest.raises(KeyError, match="unknown parameter 'Z1'"):
        net.parameters["Z1"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"units": [3]}, "at least 2 entries"),
        ({"units": []}, "at least 2 entries"),
        ({"units": [3, 0, 1]}, r"units\[1\] must be a positive integer width, got 0"),
        ({"units": [3, -2, 1]}, r"units\[1\] must be a positive integer width, got -2"),
        ({"units": [3, 2.5, 1]}, r"units\[1\] must be a positive integer"),
        ({"units": [3, 4, 1], "activation": "mish"},
         "unknown activation 'mish'; valid names: sigmoid, tanh, relu, leaky_relu, elu, selu, "
         "softplus, gelu, silu, softmax, identity"),
        ({"units": [3, 4, 1], "loss": "hinge"},
         "unknown loss 'hinge'; valid names: binary_crossentropy, categorical_crossentropy"),
        # options the activation or loss does not take: were Python's TypeError ("ReLU() takes
        # no arguments"), a ValueError from float("abc"), or silently ignored (a loss's)
        ({"units": [3, 4, 1], "activation": {"name": "relu", "alpha": 0.1}},
         r"invalid options for activation 'relu': \['alpha'\] \(its options: none\)"),
        ({"units": [3, 4, 1], "activation": {"name": "elu", "beta": 1}},
         r"invalid options for activation 'elu': \['beta'\] \(its options: alpha\)"),
        ({"units": [3, 4, 1], "activation": {"name": "leaky_relu", "slope": 0.1}},
         r"invalid options for activation 'leaky_relu': \['slope'\] \(its options: alpha\)"),
        ({"units": [3, 4, 1], "activation": {"name": "leaky_relu", "alpha": "abc"}},
         r"leaky_relu alpha must be in \[0, 1\), got 'abc'"),
        ({"units": [3, 4, 1], "activation": {"name": "leaky_relu", "alpha": None}},
         r"leaky_relu alpha must be in \[0, 1\), got None"),
        ({"units": [3, 4, 1], "activation": {"name": "leaky_relu", "alpha": float("nan")}},
         r"leaky_relu alpha must be in \[0, 1\), got nan"),
        ({"units": [3, 4, 1], "loss": {"name": "mse", "reduction": "sum"}},
         r"invalid options for loss 'mean_squared_error': \['reduction'\] \(its options: "
         r"none\)"),
        ({"units": [3, 4, 1], "init": "orthogonal"},
         "unknown initializer 'orthogonal'; valid names: article, glorot, he, lecun, normal"),
        ({"units": [3, 4, 1], "output_activation": "softmax"},
         "softmax needs at least 2 output units"),
        ({"units": [3, 4, 1], "output_activation": "softmax", "loss": "cce"},
         "softmax needs at least 2 output units"),
        ({"units": [3, 4, 2], "activation": "softmax"},
         "softmax can only be the output activation"),
        ({"units": [3, 4, 2], "loss": "bce", "output_activation": "identity"},
         "loss 'binary_crossentropy' needs an output activation in"),
        ({"units": [3, 4, 1], "dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
        ({"units": [3, 4, 4, 1], "activation": ["relu"]}, "activation list must have 2 entries"),
        ({"units": [3, 4, 1], "dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"units": [3, 4, 1], "l2": -1.0}, "l2 must be a finite number >= 0"),
        ({"units": [3, 4, 1], "l2": 10**400}, "l2 must be a finite number >= 0, got 1000"),
        ({"units": [3, 10**12, 1]}, r"units \[3, 1000000000000, 1\] need 5,000,000,000,001 "
                                    r"parameters \(37,252.9 GiB as float64 per copy\), more "
                                    "memory than could be allocated; choose smaller layers"),
    ],
)
def test_bad_configuration(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        npdeep.Network(**kwargs)


@pytest.mark.parametrize(("config", "match"), [
    (None, "config must be a dict such as get_config"),
    ([3, 4], r"config must be a dict such as get_config\(\) returns, got \[3, 4\]"),
    ({"activation": "relu"}, "config has no 'units'; its keys are units, activation"),
    ({"units": [3, 1], "layers": 2}, r"config has unknown keys \['layers'\]"),
])
def test_from_config_refuses_what_get_config_never_gives(config, match):
    with pytest.raises(ConfigurationError, match=match):
        npdeep.Network.from_config(config)
    assert npdeep.Network.from_config({"units": [3, 1]}).units == [3, 1]


def test_bad_training_data(net, rng):
    X, Y = rng.normal(size=(3, 10)), rng.random((1, 10))
    with pytest.raises(DataError, match="X and Y have different sample counts: X has m = 10"):
        net.fit(X, Y[:, :7], epochs=1)
    with pytest.raises(DataError, match=r"X has 5 rows but the network expects n_x = 3"):
        net.fit(rng.normal(size=(5, 10)), Y, epochs=1)
    with pytest.raises(DataError, match=r"it looks transposed: use X.T"):
        net.fit(X.T, Y, epochs=1)
    Xnan = X.copy()
    Xnan[1, 2] = np.nan
    with pytest.raises(DataError, match="X contains NaN or inf"):
        net.fit(Xnan, Y, epochs=1)
    Yinf = Y.copy()
    Yinf[0, 0] = np.inf
    with pytest.raises(DataError, match="Y contains NaN or inf"):
        net.fit(X, Yinf, epochs=1)
    with pytest.raises(DataError, match=r"binary cross-entropy targets must lie in \[0, 1\]"):
        net.fit(X, Y + 1.5, epochs=1)
    with pytest.raises(DataError, match="X has no samples"):
        net.fit(np.empty((3, 0)), np.empty((1, 0)), epochs=1)


def test_targets_given_as_rows_get_a_hint(rng):
    net = npdeep.Network([3, 4, 3], seed=0)
    X, labels = rng.normal(size=(3, 10)), np.arange(10) % 3
    with pytest.raises(DataError, match=r"it looks transposed: use Y.T"):
        net.fit(X, np.eye(3)[labels], epochs=1)
    with pytest.raises(DataError, match=r"a column of labels: pass Y.ravel\(\)"):
        net.fit(X, labels.reshape(-1, 1), epochs=1)


@pytest.mark.parametrize("X, match", [
    (np.ones((3, 4), complex), r"X must hold real numbers, got complex numbers"),
    (np.zeros((3, 4), "datetime64[s]"), r"X must hold real numbers, got dates or times"),
    (np.full((3, 4), 1e300), r"X has values too large for float32 \(\|x\| > 3.4e\+38\), in which "
                             r"this network computes; rescale it"),
])
def test_inputs_a_float32_network_cannot_represent_are_refused(X, match):
    net = npdeep.Network([3, 2, 1], dtype="float32", seed=0)
    with pytest.raises(DataError, match=match):
        net.predict(X)


def test_units_may_be_a_numpy_array():
    assert npdeep.Network(np.array([3, 4, 2]), seed=0).units == [3, 4, 2]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0, got 0.0"),
        ({"learning_rate": -0.1}, "learning_rate must be a finite number > 0, got -0.1"),
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"epochs": -3}, "epochs must be an integer >= 1, got -3"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0; batch_size=None is "
                            r"the full batch \(the command line's --batch-size 0\)"),
        ({"batch_size": -2}, "batch_size must be an integer >= 1, got -2$"),
    ],
)
def test_bad_training_options(net, rng, kwargs, match):
    before = net.parameters.flat.copy()
    with pytest.raises(ConfigurationError, match=match):
        net.fit(rng.normal(size=(3, 4)), rng.random((1, 4)), **kwargs)
    np.testing.assert_array_equal(net.parameters.flat, before)


def test_predict_shapes_and_labels(rng):
    X = rng.normal(size=(3, 6))
    binary = npdeep.Network([3, 4, 1], seed=0)
    assert binary.predict(X).shape == (6,)
    assert set(np.unique(binary.predict(X))) <= {0, 1}
    assert binary.predict_proba(X).shape == (1, 6)
    multi = npdeep.Network([3, 4, 5], seed=0)
    assert multi.output_activation.name == "softmax"
    assert multi.loss.name == "categorical_crossentropy"
    np.testing.assert_allclose(multi.predict_proba(X).sum(axis=0), 1.0)
    np.testing.assert_array_equal(multi.predict(X), multi.predict_proba(X).argmax(axis=0))
    reg = npdeep.Network([3, 4, 2], loss="mse", seed=0)
    assert reg.output_activation.name == "identity"
    assert reg.predict(X).shape == (2, 6)
    with pytest.raises(ConfigurationError, match="predict_proba needs a sigmoid or softmax output"):
        reg.predict_proba(X)


def test_prediction_is_chunked_consistently(rng):
    net = npdeep.Network([3, 8, 3], seed=0)
    X = rng.normal(size=(3, 20000))
    full = net.predict_proba(X)
    np.testing.assert_allclose(full[:, -5:], net.predict_proba(X[:, -5:]), rtol=1e-12)


def test_cost_decreases_and_history_has_one_cost_per_epoch(rng):
    X = rng.normal(size=(2, 200))
    y = (X[0] * X[1] > 0).astype(float)
    net = npdeep.Network([2, 16, 16, 1], activation="tanh", seed=0)
    history = net.fit(X, y, epochs=300, learning_rate=0.5)
    assert len(history.cost) == 300 and all(isinstance(c, float) for c in history.cost)
    assert history.cost[-1] < 0.5 * history.cost[0]
    assert (net.predict(X) == y).mean() > 0.9


def test_minibatch_fit_uses_every_sample_each_epoch(rng):
    X = rng.normal(size=(4, 103))
    y = rng.integers(0, 3, size=103)
    net = npdeep.Network([4, 5, 3], seed=0)
    history = net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=10)
    assert len(history.cost) == 2 and np.isfinite(history.cost).all()


def test_float32_network_computes_in_float32(rng):
    net = npdeep.Network([3, 4, 2], dtype="float32", seed=0)
    a_L, cache = net.forward(rng.normal(size=(3, 5)))
    assert a_L.dtype == np.float32 and cache["Z1"].dtype == np.float32
    assert net.parameters["W1"].dtype == np.float32
    # same seed: float32 weights are the float64 draw rounded
    net64 = npdeep.Network([3, 4, 2], dtype="float64", seed=0)
    np.testing.assert_array_equal(net.parameters["W1"], net64.parameters["W1"].astype(np.float32))


def test_save_load_round_trip_into_different_values(tmp_path, rng):
    net = npdeep.Network([3, 5, 2], activation="leaky_relu", seed=0)
    net.fit(rng.normal(size=(3, 30)), rng.integers(0, 2, size=30), epochs=3, learning_rate=0.1)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = npdeep.load(path)  # built from the header with seed 0, then overwritten
    other = npdeep.Network([3, 5, 2], activation="leaky_relu", seed=99)
    assert not np.array_equal(other.parameters["W1"], net.parameters["W1"])
    for key in net.parameters:
        np.testing.assert_array_equal(loaded.parameters[key], net.parameters[key])
    X = rng.normal(size=(3, 7))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.history.cost == net.history.cost
    assert loaded.get_config() == net.get_config()


def test_pickle_and_deepcopy_keep_parameters_linked_to_the_flat_buffer(rng):
    import copy
    import pickle  # for joblib/Dask transport only; model files never use pickle

    X, y = rng.normal(size=(3, 40)), rng.integers(0, 2, size=40)
    net = npdeep.Network([3, 4, 1], seed=0)
    net.fit(X, y, epochs=2, learning_rate=0.1)
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        np.testing.assert_array_equal(clone.predict_proba(X), net.predict_proba(X))
        clone.fit(X, y, epochs=3, learning_rate=0.5)
        # training moved the views the forward pass reads
        np.testing.assert_array_equal(clone.parameters["W1"], clone.layers[0][0])
        assert not np.array_equal(clone.parameters["W1"], net.parameters["W1"])
        assert np.shares_memory(clone.parameters["W1"], clone.parameters.flat)


def test_a_trained_network_keeps_and_pickles_its_weights_not_its_optimizer_state(rng):
    import pickle

    X, y = rng.normal(size=(8, 60)), np.arange(60) % 3
    net = npdeep.Network([8, 64, 32, 3], seed=0)
    fresh = len(pickle.dumps(net))
    weights = net.parameters.flat.nbytes
    assert fresh < 1.1 * weights  # not the gradient scratch buffer too
    h = net.fit(X, y, epochs=2, optimizer="adam", batch_size=16)
    # net.history held the trainer, and through it Adam's m and v: 3x the weights to pickle
    assert h.trainer is None and net.history is h
    assert len(pickle.dumps(net)) < 1.1 * weights
    clone = pickle.loads(pickle.dumps(net))
    for key, g in net.gradients(X, y).items():
        np.testing.assert_array_equal(clone.gradients(X, y)[key], g)


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": "a"}, r"seed must be None, a numpy Generator or an integer >= 0, got 'a'"),
    ({"seed": 1.5}, r"got 1.5"),
    ({"l2": "a"}, r"l2 must be a finite number >= 0, got 'a'"),
    ({"dtype": 3}, r"dtype must be 'float32' or 'float64', got 3"),
])
def test_constructor_refuses_bad_options_by_name(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        npdeep.Network([3, 1], **kwargs)


def test_sample_weight_must_be_one_per_sample():
    net = npdeep.Network([2, 1], seed=0)
    X = np.zeros((2, 10))
    with pytest.raises(DataError, match=r"sample_weight must be 1-D \(m,\) = one weight per "
                                        r"sample, got shape \(5, 2\)"):
        net.cost(X, np.zeros(10), sample_weight=np.ones((5, 2)))
    assert net.cost(X, np.zeros(10), sample_weight=np.ones((1, 10))) == pytest.approx(
        net.cost(X, np.zeros(10)))


def test_repr_is_python_that_rebuilds_the_architecture():
    net = npdeep.Network([3, 4, 4, 1], activation=["relu", {"name": "leaky_relu", "alpha": 0.3}],
                         dropout=0.1, l2=0.5, seed=3)
    again = eval(repr(net), {"Network": npdeep.Network})
    assert again.get_config() == net.get_config()
    np.testing.assert_array_equal(again.parameters.flat, net.parameters.flat)  # same seed


def test_dropout_without_hidden_layers_is_refused():
    with pytest.raises(ConfigurationError, match=r"dropout=0.2 applies to hidden layers, and this "
                                                 r"network has none"):
        npdeep.Network([4, 3], dropout=0.2)
    assert npdeep.Network([4, 3], dropout=0.0).dropout == []


@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e37, 1e300, 1e307])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sample_weights_count_only_relative_to_each_other(dtype, scale, rng):
    # float32 weights of 1e37 summed to inf: every coefficient w / sum(w) became 0 and training
    # silently did nothing; weights above float32's range were called "NaN or inf"
    net = npdeep.Network([3, 4, 1], activation="tanh", dtype=dtype, seed=0)
    X, Y = rng.normal(size=(3, 100)), rng.random((1, 100)) > 0.5
    w = rng.random(100) + 0.5
    coef = net.sample_coef(100, w * scale)
    assert coef.dtype == net.dtype and coef.shape == (1, 100)
    np.testing.assert_allclose(coef[0], w / w.sum(), rtol=1e-6 if dtype == "float32" else 1e-14)
    with np.errstate(all="raise", under="ignore"):
        assert net.cost(X, Y, w * scale) == pytest.approx(net.cost(X, Y, w), rel=1e-6)
        # the metric too: weights of 1e307 summed to inf in evaluate, and accuracy read NaN
        assert net.evaluate(X, Y, w * scale) == pytest.approx(net.evaluate(X, Y, w), rel=1e-6)
        reg = npdeep.Network([3, 4, 1], output_activation="identity", dtype=dtype, seed=0)
        assert reg.evaluate(X, Y, w * scale) == pytest.approx(reg.evaluate(X, Y, w), rel=1e-5)


@pytest.mark.parametrize("assign", [
    lambda net, values: setattr(net, "parameters", values),
    lambda net, values: net.parameters.update(values),
], ids=["setter", "update"])
def test_assigning_several_parameters_is_all_or_nothing(net, assign):
    # W1 and b1 fit, W2 has the wrong shape: nothing may change, W1 included
    values = {"W1": np.ones((4, 3)), "b1": np.ones((4, 1)), "W2": np.ones((4, 4))}
    before = net.parameters.flat.copy()
    with pytest.raises(DataError, match=r"parameter 'W2' must have shape \(2, 4\)"):
        assign(net, values)
    np.testing.assert_array_equal(net.parameters.flat, before)
    with pytest.raises(KeyError, match="unknown parameter 'W9'"):
        assign(net, {"W1": np.ones((4, 3)), "W9": 0})
    np.testing.assert_array_equal(net.parameters.flat, before)
    assign(net, {"W1": np.ones((4, 3)), "b3": [0.5]})
    np.testing.assert_array_equal(net.parameters["W1"], np.ones((4, 3)))
    assert net.parameters["b3"][0, 0] == 0.5
    np.testing.assert_array_equal(net.parameters["W2"], before[16:24].reshape(2, 4))


def test_parameters_setter_wants_a_mapping(net):
    with pytest.raises(DataError, match=r"parameters must be a mapping \{'W1': W\[1\], 'b1': "
                                        r"b\[1\], \.\.\.\}, got list"):
        net.parameters = [np.ones((4, 3))]
    other = npdeep.Network([3, 4, 2, 1], activation="tanh", seed=1)
    net.parameters = other.parameters
    np.testing.assert_array_equal(net.parameters.flat, other.parameters.flat)


@pytest.mark.parametrize("units, call, match", [
    ([3, 4, 1], lambda net, X: net.predict([[0.1, 0.2], [0.3], [0.4, 0.5]]),
     r"X must be a rectangular array of numbers"),
    ([3, 4, 1], lambda net, X: net.predict(X[:, 0]),
     r"got shape \(3,\) \(one sample of n_x = 3 features: pass X.reshape\(-1, 1\)\)"),
    ([3, 4, 1], lambda net, X: net.predict(np.array([[0.5, "a"]] * 3, dtype=object)),
     r"X must be numeric, got an array of dtype object holding 'a' \(str\) at index \(0, 1\)"),
    ([3, 4, 1], lambda net, X: net.fit(np.ma.masked_greater(X, 1.0), np.arange(6) % 2,
                                       epochs=1),
     r"X is a masked array with \d+ masked \(missing\) entries; fill or drop them first"),
    ([3, 4, 3], lambda net, X: net.fit(X, np.arange(6) % 3 + 1, epochs=1),
     r"labels must hold integers in \[0, 3\) for 3 softmax units, got 3 at index 2 \(they "
     r"look numbered from 1: pass Y - 1\)"),
    ([3, 4, 3], lambda net, X: net.fit(X, np.array([0, 1, 2, 0.5, 1, 2]), epochs=1),
     r"labels must hold integers in \[0, 3\) for 3 softmax units, got 0.5 at index 3$"),
    ([3, 4, 3], lambda net, X: net.fit(X, np.array(list("abcabc")), epochs=1),
     r"Y must be numeric, got an array of dtype <U1 holding 'a' \(str\) at index 0; give the "
     r"class labels as integers 0 to 2 \(npdeep.DeepClassifier takes labels of any kind\)"),
    ([3, 4, 1], lambda net, X: net.fit(X, np.array(["no", "yes"] * 3, dtype=object), epochs=1),
     r"holding 'no' \(str\) at index 0; give the class labels as integers 0 and 1"),
    ([3, 4, 3], lambda net, X: net.fit(X, (np.arange(6) % 3).reshape(1, -1), epochs=1),
     r"Y has 1 rows but the network has n_L = 3 outputs \(class labels go as a 1-D array "
     r"\(m,\): pass Y.ravel\(\)\)"),
    ([3, 4, 2], lambda net, X: npdeep.Network([3, 4, 2], output_activation="identity", seed=0)
     .fit(X, np.arange(6.0), epochs=1),
     r"Y has 1 rows but the network has n_L = 2 outputs \(Y of shape \(6,\) is one target per "
     r"sample; give \(2, m\)\)"),
    ([3, 4, 1], lambda net, X: net.fit(X, np.eye(2)[:, np.arange(6) % 2], epochs=1),
     r"Y has 2 rows but the network has n_L = 1 outputs \(for one sigmoid unit give 0/1 "
     r"labels: the one-hot Y's second row, Y\[1\]\)"),
], ids=["ragged", "one-sample", "object-X", "masked", "one-based", "fractional", "str-labels",
        "object-labels", "labels-row", "1-D-multi-output", "one-hot-for-one-unit"])
def test_malformed_inputs_are_named_with_the_value_and_a_fix(rng, units, call, match):
    net = npdeep.Network(units, seed=0)
    with pytest.raises(DataError, match=match):
        call(net, rng.normal(size=(3, 6)))


def test_evaluate_gives_the_cost_and_metric_fit_logs_for_validation_data(rng):
    from sklearn.metrics import r2_score

    X, labels = rng.normal(size=(3, 30)), np.arange(30) % 3
    net = npdeep.Network([3, 5, 3], seed=0)
    h = net.fit(X, labels, epochs=3, validation_data=(X, labels), diagnose=False)
    scores = net.evaluate(X.tolist(), list(labels))
    assert scores == {"cost": h.val_cost[-1], "accuracy": h.val_accuracy[-1]}
    assert scores["cost"] == net.cost(X, labels)
    assert scores["accuracy"] == np.mean(net.predict(X) == labels)

    reg = npdeep.Network([3, 5, 2], output_activation="identity", seed=0)
    Y = rng.normal(size=(2, 30))
    scores = reg.evaluate(X, Y)
    assert list(scores) == ["cost", "r2"]
    # scikit-learn's default, the mean of the outputs' R^2, as DeepRegressor.score (the pooled
    # "variance_weighted" one gave the output of larger spread the say)
    np.testing.assert_allclose(scores["r2"], r2_score(Y.T, reg.predict(X).T))
    with pytest.raises(DataError, match=r"it looks transposed: use X.T"):
        reg.evaluate(X.T, Y)


def test_threads_predicting_at_once_get_their_own_results(rng):
    # predict reuses cached buffers per batch size: shared between threads, two calls with
    # the same m wrote each other's a[L] (a web server's threads got each other's answers)
    import threading

    net = npdeep.Network([64, 256, 128, 10], seed=0)
    Xs = [rng.normal(size=(64, 200)) for _ in range(4)]
    labels = np.arange(200) % 10
    expected = [(net.predict_proba(X), net.cost(X, labels)) for X in Xs]
    start, wrong = threading.Barrier(len(Xs)), []

    def work(i):
        start.wait()
        for _ in range(15):
            if not (np.array_equal(net.predict_proba(Xs[i]), expected[i][0])
                    and net.cost(Xs[i], labels) == expected[i][1]):
                wrong.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(Xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_a_masked_array_without_masked_entries_is_its_data(rng):
    net = npdeep.Network([3, 4, 1], seed=0)
    X, y = rng.normal(size=(3, 6)), np.arange(6) % 2
    np.testing.assert_array_equal(net.predict_proba(np.ma.masked_array(X)), net.predict_proba(X))
    assert net.evaluate(np.ma.masked_array(X), np.ma.masked_array(y)) == net.evaluate(X, y)
    net.fit(np.ma.masked_array(X), y, epochs=1)  # raised a broadcasting ValueError


def test_softmax_targets_must_be_distributions(rng):
    # a multi-hot Y trained a softmax network silently, on a cost that has no meaning there
    net = npdeep.Network([3, 4, 3], seed=0)
    X = rng.normal(size=(3, 4))
    multi_hot = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=float)
    with pytest.raises(DataError, match=r"categorical cross-entropy targets must sum to 1 over "
                                        r"the classes of each sample \(one-hot, or class "
                                        r"probabilities\), got 2 of 4 samples that do not "
                                        r"\(sample 0 sums to 2\); for several labels per "
                                        r"sample use sigmoid outputs"):
        net.fit(X, multi_hot, epochs=1)
    with pytest.raises(DataError, match=r"got 1 of 4 samples that do not \(sample 3 sums to 0\)"):
        net.cost(X, np.eye(3)[:, [0, 1, 2, 0]] * [1, 1, 1, 0])
    smoothed = np.full((3, 4), 0.1) + 0.7 * np.eye(3)[:, [0, 1, 2, 0]]  # label smoothing
    assert np.isfinite(net.cost(X, smoothed))
    assert np.isfinite(npdeep.Network([3, 4, 3], dtype="float32", seed=0)
                       .cost(X, smoothed.astype(np.float32)))


@pytest.mark.parametrize("dtype, expected", [
    ("float32", np.float32), ("f4", np.float32), ("single", np.float32), (np.float32, np.float32),
    ("float64", np.float64), ("f8", np.float64), ("double", np.float64), (float, np.float64),
])
def test_dtype_takes_any_numpy_spelling_of_float32_and_float64(dtype, expected):
    net = npdeep.Network([3, 4, 1], dtype=dtype, seed=0)
    assert net.dtype == expected and net.parameters["W1"].dtype == expected
    assert repr(net).endswith(f"dtype='{np.dtype(expected).name}', seed=0)")


@pytest.mark.parametrize("call", ["predict", "cost", "evaluate", "gradients", "fit",
                                  "gradient_check"])
def test_the_network_does_not_keep_the_last_input_alive(rng, call):
    # the cached workspace pointed at the last X it propagated (a[0]), so deleting a large X
    # after predict, cost, evaluate, gradients or a full-batch fit did not free it
    import gc
    import weakref

    net = npdeep.Network([3, 4, 1], seed=0)
    X, y = rng.normal(size=(3, 50)), rng.integers(0, 2, 50)
    ref = weakref.ref(X)
    if call == "predict":
        net.predict(X)
    elif call == "fit":
        net.fit(X, y, epochs=2, diagnose=False)
    elif call == "gradient_check":  # kept it (a float64 network is checked in place)
        assert npdeep.gradient_check(net, X, y, max_checks=2).passed
    else:
        getattr(net, call)(X, y)
    del X
    gc.collect()
    assert ref() is None


def test_sample_weights_refused_name_the_negative_one_or_the_all_zero_sum():
    net = npdeep.Network([2, 1], output_activation="sigmoid", seed=0)
    X, Y = np.ones((2, 3)), np.array([[0.0, 1.0, 1.0]])
    with pytest.raises(DataError, match=r"^sample_weight must be >= 0 with a positive sum, got "
                                        r"-0\.5 at index 2$"):
        net.fit(X, Y, epochs=1, sample_weight=[1.0, 0.0, -0.5])
    with pytest.raises(DataError, match=r"^sample_weight must be >= 0 with a positive sum, got "
                                        r"all 3 weights 0$"):
        net.fit(X, Y, epochs=1, sample_weight=np.zeros(3))


@pytest.mark.parametrize("m", [1, 7, 64, 65])
@pytest.mark.parametrize("order", ["C", "F"])
def test_small_batch_prediction_equals_the_generic_path(rng, m, order):
    # up to 64 samples in the network's dtype take a short path (a request of one sample is
    # bound by per-call costs): bit for bit the generic path's output
    net = npdeep.Network([5, 8, 6, 3], activation="relu", output_activation="softmax",
                         dtype="float32", seed=0)
    X = np.asarray(rng.normal(size=(5, m)), dtype=np.float32, order=order)
    generic = net.check_output(net._output(net.check_X(X)))
    np.testing.assert_array_equal(net.predict_proba(X), generic)
    np.testing.assert_array_equal(net.predict(X), generic.argmax(axis=0))
    np.testing.assert_allclose(net.predict_proba(X), net.forward(X)[0], rtol=1e-5)
    assert net.predict_proba(X) is not net.predict_proba(X)  # a new array each call
    big = np.full_like(X, 3e38)  # finite values whose sum overflows float32
    with np.errstate(over="ignore"):
        assert not np.isfinite(big.sum()) and np.isfinite(big).all()
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(DataError, match=r"output a\[L\] is not finite"):
        net.predict_proba(big)  # checked, then its outputs refused as before


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_small_batch_prediction_refuses_non_finite_input_by_name(bad):
    net = npdeep.Network([3, 4, 1], dtype="float32", seed=0)
    X = np.ones((3, 1), np.float32)
    X[1, 0] = bad
    with pytest.raises(DataError, match=r"^X contains NaN or inf values$"):
        net.predict(X)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"validation_split": 0.1}, r"'validation_split'; npdeep's name for it is validation_fraction"),
    ({"lr": 0.1}, r"'lr'; npdeep's name for it is learning_rate \(fit's options: epochs, "),
    ({"loss": "mse"}, r"'loss'; loss is an option of the network: Network\(units, loss=\.\.\.\)"),
    ({"callback": []}, r"'callback'; did you mean 'callbacks'\?"),
    ({"zzz": 1}, r"unexpected keyword argument 'zzz' \(fit's options: epochs, learning_rate"),
])
def test_fit_names_its_option_for_a_keras_or_misspelt_keyword(net, rng, kwargs, match):
    with pytest.raises(TypeError, match=match):
        net.fit(rng.normal(size=(3, 4)), rng.random((1, 4)), epochs=1, **kwargs)


def test_cost_evaluate_and_gradients_refuse_outputs_that_overflow_as_predict_does():
    # cost and gradients gave NaN, evaluate {'cost': nan, 'accuracy': 0.0} (the NaN sample
    # counted as a wrong label), where predict says why
    net = npdeep.Network([2, 3, 1], activation="relu", seed=0)
    net.parameters = {"W1": np.array([[2.0, 2.0], [1, 1], [1, 1]]),
                      "W2": np.array([[1.0, -1, 1]])}
    X, y = np.array([[1e308, 1.0], [1e308, 2.0]]), np.array([1, 0])
    said = (r"the network's output a\[L\] is not finite \(NaN or inf\) for 1 of the 2 samples "
            r"\(the first: sample 0\): W\[l\]·a\[l-1\] overflows float64")
    for call in (lambda: net.predict(X), lambda: net.cost(X, y), lambda: net.evaluate(X, y),
                 lambda: net.gradients(X, y)):
        with pytest.raises(DataError, match=said):
            call()
    assert np.isfinite(net.cost(X[:, 1:], y[1:]))  # the finite sample alone is fine


def test_a_float32_cost_whose_sum_over_samples_overflows_is_finite(rng):
    # 100 losses of 4.5e36 each summed to inf in float32 before the mean; fit then stopped
    # at epoch 1 with advice to lower the learning rate
    X, Y = rng.normal(size=(2, 100)), np.full((1, 100), 3e18)
    net = npdeep.Network([2, 4, 1], activation="relu", output_activation="identity",
                         dtype="float32", seed=0)
    ref = npdeep.Network.from_config({**net.get_config(), "dtype": "float64"})
    ref.parameters = {k: v.astype(np.float64) for k, v in net.parameters.items()}
    assert net.cost(X, Y) == pytest.approx(ref.cost(X, Y), rel=1e-6)
    assert np.isfinite(net.cost(X, Y))


@pytest.mark.parametrize("init", ["article", "glorot", "he", "lecun", "normal"])
def test_weights_drawn_by_blocks_of_rows_equal_a_whole_draw(init, monkeypatch):
    from npdeep import initializers

    whole = initializers.initialize(init, [7, 9, 3], np.random.default_rng(5))
    monkeypatch.setattr(initializers, "_BLOCK", 14)  # two rows of 7 inputs per block
    for dtype in ("float64", "float32"):
        net = npdeep.Network([7, 9, 3], init=init, seed=5, dtype=dtype)
        for key, value in whole.items():
            np.testing.assert_array_equal(net.parameters[key], value.astype(dtype))
    blocks = initializers.initialize(init, [7, 9, 3], np.random.default_rng(5))
    for key, value in whole.items():
        np.testing.assert_array_equal(blocks[key], value)


def test_a_width_beyond_numpys_largest_array_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"units \[4, 4611686018427387904, 1\] need "
                                                 r".* more memory than could be allocated"):
        npdeep.Network([4, 2**62, 1])


def test_building_a_float32_network_holds_no_float64_copy_of_its_weights():
    import tracemalloc

    tracemalloc.start()
    try:
        net = npdeep.Network([3000, 3000, 1], dtype="float32")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = net.parameters.flat.nbytes  # 34 MiB; the parameters and their gradient buffer
    assert peak < 2 * size + 24 * 2**20  # (whole float64 draws and copies peaked at 5x)


def test_a_hidden_activation_without_hidden_layers_is_named_unused():
    import warnings

    with pytest.warns(UserWarning, match=r"^activation='tanh' is for hidden layers, and this "
                                         r"network has none \(units \[n_x, n_L\]\): it is not "
                                         r"used; the output layer's is output_activation"):
        npdeep.Network([4, 1], activation="tanh")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default, and an empty list, are silent
        npdeep.Network([4, 1])
        npdeep.Network([4, 3], activation=[])
        npdeep.Network([4, 5, 1], activation="tanh")


def test_dir_lists_the_lazy_names():
    names = dir(npdeep)
    for name in ("DeepClassifier", "DeepRegressor", "to_onnx", "schedules", "Network"):
        assert name in names
