"""Property-based robustness tests: random architectures, dtypes, batch sizes and edge cases.

Each property draws a small network (L = 1 to 3 layers, one-unit layers included, n_x = 1
included), an output/loss pair, a dtype and m >= 1 samples, and checks an invariant that must
hold for every configuration. Example counts stay small: the file runs in seconds.
"""

import io
import json
import warnings
import zipfile

import numpy as np
import pytest
from conftest import EXAMPLES_SCALE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import npdeep
from npdeep import DeepClassifier, DeepRegressor, Network
from npdeep.callbacks import Callback, ModelCheckpoint
from npdeep.checkpoint import resume

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus", "gelu", "silu",
          "identity"]
# (output activation, loss, fewest output units, most output units)
HEADS = [
    ("sigmoid", "binary_crossentropy", 1, 3),
    ("softmax", "categorical_crossentropy", 2, 4),
    ("identity", "mean_squared_error", 1, 3),
    ("sigmoid", "mean_squared_error", 1, 2),
    ("tanh", "mean_squared_error", 1, 2),
]
FEW = settings(max_examples=20 * EXAMPLES_SCALE, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def tol(dtype: str) -> float:
    """Agreement expected of two computations that differ only by rounding."""
    return 1e-4 if dtype == "float32" else 1e-10


@st.composite
def configs(draw):
    """Return (Network keyword arguments, m): a random small architecture and sample count."""
    L = draw(st.integers(1, 3))
    output, loss, lo, hi = draw(st.sampled_from(HEADS))
    units = [draw(st.integers(1, 4)) for _ in range(L)] + [draw(st.integers(lo, hi))]
    hidden = [draw(st.sampled_from(HIDDEN)) for _ in range(L - 1)]
    config = dict(units=units, activation=hidden or "relu", output_activation=output,
                  loss=loss, dtype=draw(st.sampled_from(["float32", "float64"])),
                  seed=draw(st.integers(0, 2**31 - 1)))
    return config, draw(st.integers(1, 12))


def make_data(config: dict, m: int, seed: int):
    """Return X (n_x, m) and targets matching the loss: 0/1, class labels (m,) or values."""
    rng = np.random.default_rng(seed)
    n_x, n_L = config["units"][0], config["units"][-1]
    X = rng.normal(size=(n_x, m))
    if config["loss"] == "binary_crossentropy":
        Y = (rng.random((n_L, m)) > 0.5) * 1.0
    elif config["loss"] == "categorical_crossentropy":
        Y = rng.integers(0, n_L, m)
    elif config["output_activation"] == "sigmoid":
        Y = rng.random((n_L, m))
    else:
        Y = rng.normal(size=(n_L, m))
    return X, Y


def train(config, X, Y, **kwargs):
    net = Network(**config)
    settings_ = dict(epochs=3, learning_rate=0.01, diagnose=False)
    settings_.update(kwargs)
    history = net.fit(X, Y, **settings_)
    return net, history


# ------------------------------------------------------------------- files and resume
@FEW
@given(configs())
def test_save_load_round_trip_is_bit_identical(tmp_path, drawn):
    config, m = drawn
    X, Y = make_data(config, m, 1)
    net, _ = train(config, X, Y, epochs=2)
    path = tmp_path / "model.npz"
    npdeep.save(net, path)
    loaded = npdeep.load(path)
    np.testing.assert_array_equal(loaded.parameters.flat, net.parameters.flat)
    assert loaded.dtype == net.dtype and repr(loaded) == repr(net)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.cost(X, Y) == net.cost(X, Y)


class _Interrupt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt


@FEW
@given(configs(), st.sampled_from(["sgd", "nesterov", "adam", "rmsprop"]), st.integers(1, 12),
       st.sampled_from([None, "step", "cosine", "plateau"]), st.booleans(), st.booleans(),
       st.integers(1, 4))
def test_resumed_checkpoint_equals_an_uninterrupted_run(tmp_path, drawn, optimizer, batch_size,
                                                        schedule, dropout, weighted, stop):
    config, m = drawn
    if dropout and config["units"][1:-1]:
        config["dropout"] = 0.3
    X, Y = make_data(config, m, 2)
    sample_weight = np.linspace(0.5, 2.0, m) if weighted else None
    kwargs = dict(epochs=5, optimizer=optimizer, batch_size=min(batch_size, m),
                  schedule=schedule, clip_norm=1.0, sample_weight=sample_weight)
    reference, history = train(config, X, Y, **kwargs)
    path = tmp_path / f"ck-{optimizer}-{batch_size}-{stop}.npz"
    with pytest.raises(KeyboardInterrupt):
        train(config, X, Y, callbacks=[ModelCheckpoint(path), _Interrupt(stop)], **kwargs)
    resumed = resume(path, X, Y, sample_weight=sample_weight, diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert resumed.history.cost == history.cost


# -------------------------------------------------------------------------- training
@FEW
@given(configs(), st.sampled_from(["sgd", "momentum", "rmsprop", "adam"]), st.integers(1, 12),
       st.booleans())
def test_fit_is_deterministic_given_the_seed(drawn, optimizer, batch_size, dropout):
    config, m = drawn
    if dropout and config["units"][1:-1]:
        config["dropout"] = 0.3
    X, Y = make_data(config, m, 3)
    kwargs = dict(optimizer=optimizer, batch_size=min(batch_size, m))
    a, history_a = train(config, X, Y, **kwargs)
    b, history_b = train(config, X, Y, **kwargs)
    np.testing.assert_array_equal(a.parameters.flat, b.parameters.flat)
    assert history_a.cost == history_b.cost


@FEW
@given(configs(), st.sampled_from(["sgd", "adam"]), st.booleans())
def test_one_batch_of_m_equals_the_full_batch(drawn, optimizer, shuffle):
    config, m = drawn
    X, Y = make_data(config, m, 4)
    mini, _ = train(config, X, Y, optimizer=optimizer, batch_size=m, shuffle=shuffle)
    full, _ = train(config, X, Y, optimizer=optimizer)
    t = tol(config["dtype"])
    np.testing.assert_allclose(mini.parameters.flat, full.parameters.flat, rtol=t, atol=t)


@FEW
@given(configs(), st.integers(1, 12))
def test_sample_weights_of_one_change_nothing(drawn, batch_size):
    config, m = drawn
    X, Y = make_data(config, m, 5)
    plain, _ = train(config, X, Y, batch_size=min(batch_size, m))
    ones, _ = train(config, X, Y, batch_size=min(batch_size, m), sample_weight=np.ones(m))
    t = tol(config["dtype"])
    np.testing.assert_allclose(ones.parameters.flat, plain.parameters.flat, rtol=t, atol=t)
    np.testing.assert_allclose(plain.cost(X, Y, sample_weight=np.ones(m)), plain.cost(X, Y),
                               rtol=t)


@FEW
@given(configs(), st.integers(0, 11))
def test_a_zero_sample_weight_drops_the_sample(drawn, k):
    config, m = drawn
    m = max(m, 2)
    k %= m
    X, Y = make_data(config, m, 6)
    w = np.ones(m)
    w[k] = 0.0
    keep = np.arange(m) != k
    weighted, _ = train(config, X, Y, sample_weight=w)
    dropped, _ = train(config, X[:, keep], Y[..., keep])
    t = tol(config["dtype"])
    np.testing.assert_allclose(weighted.parameters.flat, dropped.parameters.flat, rtol=t, atol=t)


@FEW
@given(configs(), st.lists(st.floats(0.1, 5.0), min_size=4, max_size=4))
def test_class_weight_equals_the_matching_sample_weight(drawn, weights):
    config, m = drawn
    X, Y = make_data(config, m, 7)
    if config["loss"] == "categorical_crossentropy":
        labels = Y
    elif config["loss"] == "binary_crossentropy" and config["units"][-1] == 1:
        labels = Y[0].astype(int)
    else:
        return  # class weights are for single-label classification
    class_weight = {k: weights[k] for k in range(max(config["units"][-1], 2))}
    by_class, _ = train(config, X, Y, class_weight=class_weight)
    by_sample, _ = train(config, X, Y,
                         sample_weight=np.array([class_weight[int(c)] for c in labels]))
    t = tol(config["dtype"])
    np.testing.assert_allclose(by_class.parameters.flat, by_sample.parameters.flat, rtol=t,
                               atol=t)


@FEW
@given(configs(), st.integers(1, 12), st.sampled_from(["csr", "csc", "coo"]))
def test_sparse_input_trains_and_predicts_like_dense(drawn, batch_size, fmt):
    import scipy.sparse as sp

    config, m = drawn
    X, Y = make_data(config, m, 14)
    X[np.abs(X) < 0.5] = 0.0
    kwargs = dict(batch_size=min(batch_size, m))
    dense, _ = train(config, X, Y, **kwargs)
    sparse, _ = train(config, sp.csr_matrix(X).asformat(fmt), Y, **kwargs)
    t = tol(config["dtype"])
    np.testing.assert_allclose(sparse.parameters.flat, dense.parameters.flat, rtol=t, atol=t)
    np.testing.assert_allclose(sparse._predicted(sp.csr_matrix(X).asformat(fmt)),
                               dense._predicted(X), rtol=t, atol=t)


@FEW
@given(configs(), st.integers(0, 2), st.sampled_from(["sgd", "adam"]), st.floats(0.001, 1.0),
       st.booleans())
def test_early_stopping_leaves_the_weights_of_the_best_value(drawn, patience, optimizer,
                                                             learning_rate, on_validation):
    from npdeep.callbacks import EarlyStopping

    config, m = drawn
    X, Y = make_data(config, m, 15)
    Xv, Yv = make_data(config, 5, 16)
    net = Network(**config, l2=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = net.fit(X, Y, epochs=6, learning_rate=learning_rate, optimizer=optimizer,
                          validation_data=(Xv, Yv) if on_validation else None, diagnose=False,
                          callbacks=[EarlyStopping(monitor="val_cost" if on_validation
                                                   else "cost", patience=patience)])
    # full batch: 'cost' is measured before the epoch's update, on the weights restored
    measured = net.cost(Xv, Yv) if on_validation else net.cost(X, Y)
    best = min(history.val_cost) if on_validation else min(history.cost)
    t = 1e-5 if config["dtype"] == "float32" else 1e-12
    np.testing.assert_allclose(measured, best, rtol=t, atol=t)
    assert net.evaluate(X, Y)["cost"] == net.cost(X, Y)


# ------------------------------------------------------------------------ prediction
@FEW
@given(configs())
def test_predictions_have_the_documented_shapes_and_ranges(drawn):
    config, m = drawn
    net = Network(**config)
    X, _ = make_data(config, m, 8)
    output, n_L = config["output_activation"], config["units"][-1]
    labels = net.predict(X)
    if output in ("sigmoid", "softmax"):
        P = net.predict_proba(X)
        assert P.shape == (n_L, m)
        assert np.all((P >= 0) & (P <= 1))
    if output == "softmax":
        assert labels.shape == (m,)
        np.testing.assert_allclose(P.sum(axis=0), 1.0, rtol=tol(config["dtype"]))
        np.testing.assert_array_equal(labels, P.argmax(axis=0))
    elif output == "sigmoid":
        assert labels.shape == ((m,) if n_L == 1 else (n_L, m))
        assert set(np.unique(labels)) <= {0, 1}
    else:
        assert labels.shape == (n_L, m)
    whole = net._predicted(X)
    for j in range(m):  # one sample at a time: a column of the batch's prediction
        np.testing.assert_allclose(net._predicted(X[:, j : j + 1])[:, 0], whole[:, j],
                                   rtol=tol(config["dtype"]), atol=tol(config["dtype"]))


@FEW
@given(configs())
def test_float32_and_float64_agree_to_float32_precision(drawn):
    config, m = drawn
    wide = Network(**dict(config, dtype="float64"))
    narrow = Network(**dict(config, dtype="float32"))
    narrow.parameters = {k: v.astype(np.float32) for k, v in wide.parameters.items()}
    X, Y = make_data(config, m, 9)
    np.testing.assert_allclose(narrow._predicted(X), wide._predicted(X), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(narrow.cost(X, Y), wide.cost(X, Y), rtol=1e-4, atol=1e-5)


@FEW
@given(configs(), st.sampled_from(["float16", "float32", "float64", "int32", "uint8"]),
       st.booleans())
def test_any_input_dtype_or_memory_map_predicts_like_float64(tmp_path, drawn, dtype, mapped):
    config, m = drawn
    X, _ = make_data(config, m, 12)
    X = np.abs(X * 3).astype(dtype)
    net = Network(**config)
    expected = net._predicted(X.astype(np.float64))
    if mapped:
        np.save(tmp_path / "X.npy", X)
        X = np.load(tmp_path / "X.npy", mmap_mode="r")
    np.testing.assert_allclose(net._predicted(X), expected, rtol=tol(config["dtype"]),
                               atol=tol(config["dtype"]))


@FEW
@given(configs(), st.floats(0, 1), st.booleans())
def test_repr_and_config_rebuild_the_same_network(drawn, l2, dropout):
    config, _ = drawn
    if dropout and config["units"][1:-1]:
        config["dropout"] = 0.25
    net = Network(**config, l2=l2)
    rebuilt = eval(repr(net), {"Network": Network})  # noqa: S307 (our own repr)
    assert repr(rebuilt) == repr(net) and rebuilt.get_config() == net.get_config()
    from_config = Network.from_config(net.get_config())
    np.testing.assert_array_equal(from_config.parameters.flat, net.parameters.flat)


@settings(max_examples=3 * EXAMPLES_SCALE, deadline=None)
@given(configs())
def test_chunked_prediction_equals_one_block(drawn):
    from npdeep import network as network_module

    config, _ = drawn
    m = network_module._PREDICT_CHUNK + 7
    net = Network(**config)
    X, _ = make_data(config, m, 10)
    chunked = net._predicted(X)
    blocks = [net._predicted(X[:, s : s + 5000]) for s in range(0, m, 5000)]
    np.testing.assert_allclose(chunked, np.hstack(blocks), rtol=tol(config["dtype"]),
                               atol=tol(config["dtype"]))


@FEW
@given(configs())
def test_onnx_export_agrees_with_predict(drawn):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    config, m = drawn
    net = Network(**config)
    X, _ = make_data(config, m, 11)
    session = ort.InferenceSession(npdeep.to_onnx(net).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: X.T.astype(config["dtype"])})
    values = next(o for o in outputs if o.dtype.kind == "f")
    hidden = config["activation"]
    gelu = "gelu" in [*([hidden] if isinstance(hidden, str) else hidden),
                      config["output_activation"]]
    # gelu's float64 graph runs its Erf in float32 (to_onnx's docstring): float32-accurate
    t = tol("float32") if config["dtype"] == "float32" or gelu else 1e-9
    np.testing.assert_allclose(values, net._predicted(X).T, rtol=t, atol=t)


# ------------------------------------------------------------------------ estimators
LABEL_SETS = [["a", "b"], ["x", "y", "z"], [-3, 7], [-1, 0, 5, 100], [True, False]]


@FEW
@given(st.sampled_from(LABEL_SETS), st.integers(2, 12), st.integers(1, 3),
       st.sampled_from(["float32", "float64"]), st.integers(0, 100), st.booleans())
def test_classifier_labels_files_and_clones(tmp_path, labels, m, n_x, dtype, seed, fortran):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n_x))
    if fortran:  # a non-contiguous view of the transposed buffer
        X = np.asfortranarray(X)
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[
        np.arange(m) % len(labels)]
    clf = DeepClassifier((3,), max_iter=3, random_state=seed, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 3 epochs
        clf.fit(X, y)
    P, predicted = clf.predict_proba(X), clf.predict(X)
    assert P.shape == (m, len(np.unique(y)))
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], predicted)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=tol(dtype))
    np.testing.assert_allclose(clf.predict_proba(X[:1]), P[:1], rtol=tol(dtype), atol=tol(dtype))
    path = tmp_path / f"clf-{seed}.npz"
    npdeep.save(clf, path)
    loaded = npdeep.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), P)
    np.testing.assert_array_equal(loaded.predict(X), predicted)
    assert loaded.get_params() == clf.get_params() == clone(clf).get_params()
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(npdeep.to_onnx(clf).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    out = dict(zip(names, session.run(None, {"X": X.astype(dtype)}), strict=True))
    np.testing.assert_allclose(out["probabilities"], P, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out["label"], predicted)  # the classes themselves
    incremental = DeepClassifier((3,), random_state=seed, dtype=dtype)
    incremental.partial_fit(X, y, classes=np.unique(y))
    incremental.partial_fit(X[:1], y[:1])
    np.testing.assert_array_equal(incremental.classes_, np.unique(y))


@FEW
@given(st.integers(1, 12), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from(["float32", "float64"]), st.integers(0, 100))
def test_regressor_shapes_and_files(tmp_path, m, n_x, n_y, dtype, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(m, n_x)), rng.normal(size=(m, n_y)) * 100
    y = y[:, 0] if n_y == 1 else y
    reg = DeepRegressor((3,), max_iter=3, random_state=seed, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    predicted = reg.predict(X)
    assert predicted.shape == y.shape
    path = tmp_path / f"reg-{seed}.npz"
    npdeep.save(reg, path)
    np.testing.assert_array_equal(npdeep.load(path).predict(X), predicted)
    np.testing.assert_allclose(reg.predict(X[:1]), predicted[:1], rtol=tol(dtype),
                               atol=tol(dtype) * 100)


@FEW
@given(st.integers(2, 12), st.integers(1, 3), st.integers(0, 100), st.booleans(),
       st.sampled_from(["float32", "float64"]))
def test_scaler_pipeline_files_and_onnx_agree(tmp_path, m, n_x, seed, classify, dtype):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n_x)) * 100 + 50
    y = np.arange(m) % 2 if classify else X[:, 0]
    estimator = (DeepClassifier if classify else DeepRegressor)((3,), max_iter=3,
                                                                random_state=seed, dtype=dtype)
    pipe = make_pipeline(StandardScaler(), estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    path = tmp_path / f"pipe-{seed}.npz"
    npdeep.save(pipe, path)
    np.testing.assert_array_equal(npdeep.load(path).predict(X), pipe.predict(X))
    session = ort.InferenceSession(npdeep.to_onnx(pipe, dtype="float64").SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    out = dict(zip(names, session.run(None, {"X": X}), strict=True))
    if classify:
        np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(X), atol=1e-5)
    else:
        assert out["predictions"].shape == pipe.predict(X).shape  # (N,): one target
        np.testing.assert_allclose(out["predictions"], pipe.predict(X), rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------- errors on bad input
BAD_ARRAYS = {
    "NaN": lambda shape: np.full(shape, np.nan),
    "inf": lambda shape: np.full(shape, np.inf),
    "strings": lambda shape: np.full(shape, "a"),
    "None": lambda shape: np.full(shape, None, dtype=object),
    "complex": lambda shape: np.ones(shape, complex),
    "3-D": lambda shape: np.ones((*shape, 2, 2)),
    "no samples": lambda shape: np.ones((shape[0], 0)),
    "datetime": lambda shape: np.ones(shape, "datetime64[s]"),
}


@pytest.mark.parametrize("bad", sorted(BAD_ARRAYS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bad_input_to_a_network_raises_an_npdeep_error(bad, dtype):
    net = Network([2, 3, 1], dtype=dtype, seed=0)
    X, y = np.ones((2, 3)), np.array([0.0, 1.0, 1.0])
    make = BAD_ARRAYS[bad]
    calls = {
        "predict X": lambda: net.predict(make((2, 3))),
        "fit X": lambda: net.fit(make((2, 3)), y, epochs=1, diagnose=False),
        "fit Y": lambda: net.fit(X, make((1, 3)), epochs=1, diagnose=False),
        "sample_weight": lambda: net.fit(X, y, sample_weight=make((3,)), epochs=1,
                                         diagnose=False),
    }
    for what, call in calls.items():
        with pytest.raises(npdeep.NpdeepError) as info:
            call()
        assert isinstance(info.value, ValueError), what
        assert str(info.value), what


WEIRD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from(["auto", "adam", "relu", "balanced", "01", "0:", (0,), (), (2.5,), {"a": 1},
                     np.float32(0.5), npdeep.optimizers.Adam]),
)


@settings(max_examples=40 * EXAMPLES_SCALE, deadline=None)
@given(st.data(), st.sampled_from([DeepClassifier, DeepRegressor]))
def test_any_estimator_parameter_value_fits_or_raises_an_npdeep_error(data, estimator):
    names = sorted(set(estimator().get_params(deep=False)) - {"callbacks", "verbose"})
    name, value = data.draw(st.sampled_from(names)), data.draw(WEIRD_VALUES)
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.arange(8) % 3 if estimator is DeepClassifier else X[:, 0]
    est = estimator(hidden_layer_sizes=(2,), max_iter=2)
    est.set_params(**{name: value})
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            est.fit(X, y)
    except npdeep.NpdeepError as exc:
        assert isinstance(exc, ValueError) and str(exc)
        return
    diverged = any("predictions from them may not be finite" in str(w.message) for w in caught)
    try:
        with np.errstate(all="ignore"):
            assert est.predict(X).shape[0] == 8
    except npdeep.DataError as exc:  # only after a fit that said so (learning_rate=1e154)
        assert diverged and "is not finite" in str(exc), (str(exc), [str(w.message)
                                                                     for w in caught])


@settings(max_examples=40 * EXAMPLES_SCALE, deadline=None)
@given(st.sampled_from(["activation", "output_activation", "loss", "init", "dtype", "seed",
                        "l2", "dropout", "units"]), WEIRD_VALUES)
def test_any_network_argument_builds_or_raises_an_npdeep_error(name, value):
    kwargs = {"units": [3, 2, 1], name: value}
    try:
        net = Network(**kwargs)
    except npdeep.NpdeepError as exc:
        assert isinstance(exc, ValueError) and str(exc)
    else:
        assert net.L == len(net.units) - 1


# --------------------------------------------------------------- damaged model files
def _model_file_bytes(tmp_path_factory, kind: str) -> bytes:
    path = tmp_path_factory.mktemp("files") / f"{kind}.npz"
    if kind == "network":
        npdeep.save(Network([3, 4, 2], seed=0), path)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = DeepClassifier((3,), max_iter=2, random_state=0)
            npdeep.save(clf.fit(np.random.default_rng(0).random((6, 3)), ["a", "b", "c"] * 2),
                        path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    return {kind: _model_file_bytes(tmp_path_factory, kind) for kind in ("network", "estimator")}


def _load_bytes(path, data: bytes) -> None:
    """Load ``data`` as a model file: it loads, or an npdeep error says why (nothing raw)."""
    path.write_bytes(data)
    try:
        npdeep.load(path)
    except npdeep.NpdeepError as exc:
        assert str(exc)


@settings(max_examples=40 * EXAMPLES_SCALE, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["network", "estimator"]), st.integers(0, 10**6), st.integers(0, 255),
       st.booleans())
def test_a_damaged_model_file_is_refused_with_an_npdeep_error(tmp_path, model_files, kind, at,
                                                             byte, truncate):
    data = bytearray(model_files[kind])
    at %= len(data)
    if truncate:
        data = data[:at]
    else:
        data[at] = byte
    _load_bytes(tmp_path / "damaged.npz", bytes(data))


def _with_classes(original: bytes, classes: dict) -> bytes:
    members = {}
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        for name in archive.namelist():
            members[name] = archive.read(name)
    header = json.loads(members["header.json"])
    header["state"]["classes_"] = classes
    members["header.json"] = json.dumps(header).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, value in members.items():
            archive.writestr(name, value)
    return out.getvalue()


# ------------------------------------------------------------ regressions found here
@pytest.mark.parametrize("classes, message", [
    ({"dtype": "01", "values": [1, 2, 3]}, "invalid classes_ dtype '01'"),
    ({"dtype": "0:", "values": [1, 2, 3]}, "invalid classes_ dtype '0:'"),
    ({"dtype": "<i8", "values": [3, 2, 1]}, "distinct values in increasing order"),
    ({"dtype": "<i8", "values": [1, 1, 2]}, "distinct values in increasing order"),
    ({"dtype": "<i8", "values": [1.5, 2, 3]}, "each held exactly by its dtype"),
    ({"dtype": "<f8", "values": [1.0, 2.0, float("inf")]}, "each held exactly by its dtype"),
    ({"dtype": "object", "values": ["b", "a", "c"]}, "distinct values in increasing order"),
])
def test_a_file_with_invalid_classes_is_refused(tmp_path, model_files, classes, message):
    # a tampered classes_ loaded (unsorted: partial_fit's binary search mislabels) or raised
    # SyntaxError/ValueError from inside numpy ('01', '0:')
    path = tmp_path / "classes.npz"
    path.write_bytes(_with_classes(model_files["estimator"], classes))
    with pytest.raises(npdeep.ModelFileError, match=message):
        npdeep.load(path)


def test_an_unreadable_dtype_is_a_configuration_error():
    # np.dtype("01") raises SyntaxError and np.dtype("0:") ValueError, which escaped
    for dtype in ("01", "0:"):
        with pytest.raises(npdeep.ConfigurationError,
                           match=f"dtype must be 'float32' or 'float64', got '{dtype}'"):
            Network([2, 1], dtype=dtype)
        with pytest.raises(npdeep.ConfigurationError,
                           match=f"dtype must be 'float32' or 'float64', got '{dtype}'"):
            DeepRegressor((2,), dtype=dtype).fit(np.ones((3, 2)), np.ones(3))


@pytest.mark.parametrize("optimizer", [None, npdeep.optimizers.Adam, 3])
def test_an_estimator_optimizer_that_is_not_one_names_the_valid_ones(optimizer):
    # optimizer=None raised AttributeError: 'NoneType' object has no attribute 'get_config'
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"optimizer must be a name or an Optimizer, got .*valid names: sgd"):
        DeepClassifier((2,), optimizer=optimizer).fit(np.ones((4, 2)), [0, 1, 0, 1])

def test_output_overflow_is_refused_not_predicted_as_class_0():
    # finite inputs near float32's limit overflow W[1]·x: a[L] was NaN and predict said 0
    net = Network([2, 4, 4, 3], activation="relu", dtype="float32", seed=0)
    X = np.array([[3e38, 1.0], [3e38, 1.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        for method in (net.predict, net.predict_proba):
            with pytest.raises(npdeep.DataError,
                               match=r"a\[L\] is not finite \(NaN or inf\) for 1 of the 2 "
                                     r"samples \(the first: sample 0\).*overflows float32"):
                method(X)
    assert net.predict(X[:, 1:]).shape == (1,)  # the finite sample alone is predicted


def test_estimator_output_overflow_is_refused():
    clf = DeepClassifier((4,), max_iter=2, dtype="float32", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(np.random.default_rng(0).random((6, 2)), [0, 1, 2] * 2)
    X = np.full((2, 2), 3e38)
    with np.errstate(over="ignore", invalid="ignore"):
        for method in (clf.predict, clf.predict_proba):
            with pytest.raises(npdeep.DataError, match=r"a\[L\] is not finite"):
                method(X)
        for method in (clf.predict_log_proba, clf.decision_function):
            with pytest.raises(npdeep.DataError, match=r"Z\[L\] is not finite"):
                method(X)


def test_too_large_for_float64_does_not_suggest_float64():
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("long double is float64 here")
    X = np.full((2, 3), 1e300, np.longdouble) * np.longdouble(1e300)
    with pytest.raises(npdeep.DataError, match=r"too large for float64") as info:
        Network([2, 1], seed=0).predict(X)
    assert "dtype='float64' holds" not in str(info.value)
    with pytest.raises(npdeep.DataError, match=r"dtype='float64' holds such values"):
        Network([2, 1], dtype="float32", seed=0).predict(X)


@pytest.mark.parametrize("y", [np.array([None, None, None, None], dtype=object),
                               np.full((4, 2), None, dtype=object)])
def test_classifier_refuses_unorderable_labels_with_a_data_error(y):
    with pytest.raises(npdeep.DataError, match=r"labels of kind 'NoneType' \(such as None\), "
                                               r"which cannot be ordered"):
        DeepClassifier((2,), max_iter=1).fit(np.ones((4, 2)), y)


def test_classifier_refuses_continuous_targets_with_a_data_error():
    with pytest.raises(npdeep.DataError, match="Unknown label type: continuous"):
        DeepClassifier((2,), max_iter=1).fit(np.ones((2, 2)), [0.5, 2.5])



@pytest.mark.parametrize("class_weight, error, message", [
    (False, npdeep.ConfigurationError, r"class_weight must be a dict \{class: weight\}, "
                                       r"'balanced' or None, got False"),
    ("foo", npdeep.ConfigurationError, r"'balanced' or None, got 'foo'"),
    ({0: "a"}, npdeep.ConfigurationError, r"class_weight\[0\] must be a finite number >= 0"),
    ({0: -1.0}, npdeep.ConfigurationError, r"class_weight\[0\] must be a finite number >= 0"),
    ({0: float("nan")}, npdeep.ConfigurationError, r"class_weight\[0\] must be a finite"),
    ({5: 2.0}, npdeep.ConfigurationError, r"weights for \[5\], which are not among classes_"),
    ({0: 0, 1: 0}, npdeep.DataError, r"gives every sample of y a weight of 0"),
])
def test_a_bad_class_weight_is_named(class_weight, error, message):
    # these raised scikit-learn's errors about compute_sample_weight, a raw ValueError
    # ("could not convert string to float"), or blamed sample_weight for a negative weight
    with pytest.raises(error, match=message):
        DeepClassifier((2,), max_iter=1, class_weight=class_weight).fit(
            np.random.default_rng(0).random((6, 2)), [0, 1] * 3)


@pytest.mark.parametrize("key", ["²", "--1", "1.5"])
def test_a_class_weight_key_that_is_no_class_numeral_is_an_unknown_class(key):
    # "²".isdigit() holds, and int("²") raised a raw ValueError from inside fit
    net = Network([1, 1], seed=0)
    with pytest.raises(npdeep.DataError, match=r"class_weight has weights for unknown classes "):
        net.fit(np.ones((1, 3)), [0, 1, 1], epochs=1, class_weight={key: 1.0}, diagnose=False)


@FEW
@given(configs(), st.dictionaries(
    st.one_of(st.integers(-1, 4), st.text(max_size=2), st.booleans(), st.floats()),
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 3),
              st.text(max_size=2), st.none()), max_size=3))
def test_any_class_weight_dict_trains_or_raises_an_npdeep_error(drawn, class_weight):
    config, m = drawn
    X, Y = make_data(config, m, 13)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net, _ = train(config, X, Y, epochs=1, class_weight=class_weight)
    except npdeep.NpdeepError as exc:
        assert isinstance(exc, ValueError) and str(exc)
    else:
        assert np.isfinite(net.parameters.flat).all()


@pytest.mark.parametrize("seed", [-1, 0.0, "0"])
def test_gradient_check_names_a_bad_seed(seed):
    # seed=-1 raised numpy's "expected non-negative integer", seed=0.0 a TypeError
    net = Network([2, 1], seed=0)
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"seed must be None, a numpy Generator or an integer >= 0"):
        npdeep.gradient_check(net, np.ones((2, 3)), [0, 1, 1], seed=seed)


def test_saving_to_a_path_ending_with_a_separator_is_refused(tmp_path):
    # Path("out/") is Path("out"): save wrote a file named "out" where a folder was meant
    target = f"{tmp_path / 'out'}/"
    with pytest.raises(npdeep.ModelFileError,
                       match=r"the path ends with a separator, which names a folder"):
        npdeep.save(Network([2, 1], seed=0), target)
    onnx_target = f"{tmp_path / 'out.onnx'}/"
    if pytest.importorskip("onnx"):
        with pytest.raises(npdeep.ModelFileError, match=r"ends with a separator, which names a "
                                                        r"folder; give a file name, e\.g\. .*"
                                                        r"model\.onnx'"):
            npdeep.to_onnx(Network([2, 1], seed=0), onnx_target)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.onnx").exists()


def test_a_checkpoint_path_ending_with_a_separator_is_refused_when_built(tmp_path):
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"ModelCheckpoint path .* ends with a separator, which names a"):
        ModelCheckpoint(f"{tmp_path}/")
