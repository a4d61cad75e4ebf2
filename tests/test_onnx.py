"""ONNX export, checked against onnxruntime (skipped where onnx or onnxruntime is missing)."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from npdeep import DeepClassifier, DeepRegressor, Network
from npdeep.activations import Activation

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from npdeep.onnx_export import ExportError, to_onnx  # noqa: E402


def _run(proto, X):
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


def _assert_allclose_strict(actual, desired, **tolerances):
    """assert_allclose(..., strict=True): the same shape and dtype too (NumPy 1.x has no strict)."""
    assert (actual.shape, actual.dtype) == (desired.shape, desired.dtype)
    np.testing.assert_allclose(actual, desired, **tolerances)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
                                        "softplus", "gelu", "silu", "identity"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_hidden_activation_matches_onnxruntime_on_digits(digits, activation, dtype):
    X, y = digits
    clf = DeepClassifier((24, 12), activation=activation, dtype=dtype, learning_rate=0.01,
                         max_iter=15, random_state=0).fit(X, y)
    out = _run(to_onnx(clf), X.astype(dtype))
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("output", ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
                                    "selu", "softplus", "gelu", "silu"])
def test_output_activations_on_diabetes_regression(output):
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.min()) / (y.max() - y.min())  # in [0, 1] so that every output fits
    reg = DeepRegressor((32,), output_activation=output, learning_rate=0.01, max_iter=30,
                        random_state=0).fit(X, y)
    out = _run(to_onnx(reg), X)
    assert out["predictions"].shape == reg.predict(X).shape == (X.shape[0],)  # was (N, 1)
    np.testing.assert_allclose(out["predictions"], reg.predict(X), atol=1e-5, rtol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_regressor_exports_predictions_of_predicts_shape(dtype):
    # one target: (N,) as predict returns (it was (N, 1)); several: (N, k)
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    for Y in (y, np.column_stack([y, -y, 2 * y])):
        reg = DeepRegressor((8,), dtype=dtype, max_iter=5, random_state=0).fit(X, Y)
        proto = to_onnx(reg)
        dims = [d.dim_param or d.dim_value
                for d in proto.graph.output[0].type.tensor_type.shape.dim]
        assert dims == ["N", *Y.shape[1:]]
        out = _run(proto, X.astype(dtype))
        _assert_allclose_strict(out["predictions"], reg.predict(X), atol=1e-5, rtol=1e-5)


def test_raw_diabetes_regression_and_pipeline_with_scaler(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), DeepRegressor((32,), learning_rate=0.05,
                                                         max_iter=200, random_state=0))
    pipe.fit(X, y)
    path = tmp_path / "diabetes.onnx"
    to_onnx(pipe, path)
    out = _run(onnx.load(path), X)
    _assert_allclose_strict(out["predictions"], pipe.predict(X), atol=1e-5, rtol=1e-7)
    assert pipe.score(X, y) > 0.5


def test_binary_string_labels_and_multilabel(digits):
    X, y = digits
    names = np.where(y % 2 == 0, "even", "odd")
    clf = DeepClassifier((16,), max_iter=10, random_state=0).fit(X, names)
    out = _run(to_onnx(clf), X)
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert out["label"].dtype == object  # ONNX strings
    Y = np.column_stack([y % 2, y > 4, y == 3]).astype(int)
    multi = DeepClassifier((16,), max_iter=10, random_state=0).fit(X, Y)
    out = _run(to_onnx(multi), X)
    np.testing.assert_allclose(out["probabilities"], multi.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(out["label"], multi.predict(X))


@pytest.mark.parametrize("classes", [
    np.array([1.0, 2.0, 3.0]),                          # read from a float column
    np.array([1.0, 2.0], dtype=np.float32),
    np.array(["cat", "dog", "emu"], dtype=object),      # pandas' object column
    np.array([True, False]),
    np.array([3, 2**63 + 5], dtype=np.uint64),          # beyond int64
])
def test_the_label_output_holds_the_classes_themselves(digits, classes):
    # before: float and text classes gave the class index (2 for class 3.0), uint64 wrapped
    X, y = digits
    labels = classes[y % len(classes)]
    clf = DeepClassifier((8,), max_iter=3, random_state=0).fit(X, labels)
    out = _run(to_onnx(clf), X)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert out["label"].dtype == (object if classes.dtype == object else classes.dtype)


def test_a_subclass_of_an_estimator_exports_as_its_base(digits):
    # before: "cannot export a MyRegressor: to_onnx takes a Network, a DeepClassifier, ..."
    class MyRegressor(DeepRegressor):
        pass

    X, y = digits
    reg = MyRegressor((8,), max_iter=3, random_state=0).fit(X, y)
    out = _run(to_onnx(reg), X)
    _assert_allclose_strict(out["predictions"], reg.predict(X), atol=1e-9)


def test_network_softmax_output_and_leaky_alpha():
    rng = np.random.default_rng(0)
    net = Network([5, 7, 4], activation={"name": "leaky_relu", "alpha": 0.2},
                  output_activation="softmax", seed=0)
    X = rng.normal(size=(5, 30))
    proto = to_onnx(net)
    out = _run(proto, X.T.copy())
    np.testing.assert_allclose(out["a_L"], net.predict_proba(X).T, atol=1e-12)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"  # any batch
    np.testing.assert_allclose(_run(proto, X.T[:1].copy())["a_L"], net.predict_proba(X[:, :1]).T,
                               atol=1e-12)


def test_what_cannot_be_exported_is_refused_clearly(digits):
    X, y = digits

    class Swish(Activation):
        name = "swish"

        def forward(self, Z, out):
            np.multiply(Z, 1 / (1 + np.exp(-Z)), out=out)
            return out

        def derivative(self, Z, A):
            s = 1 / (1 + np.exp(-Z))
            return s + Z * s * (1 - s)

    net = Network([3, 4, 1], activation=Swish(), seed=0)
    with pytest.raises(ExportError, match="layer 1: activation 'swish' has no ONNX equivalent"):
        to_onnx(net)
    with pytest.raises(ExportError, match="not fitted yet"):
        to_onnx(DeepClassifier())
    with pytest.raises(ExportError, match="cannot export a dict"):
        to_onnx({})
    from sklearn.decomposition import PCA

    pipe = make_pipeline(PCA(4), DeepClassifier((4,), max_iter=2, random_state=0)).fit(X, y)
    with pytest.raises(ExportError, match="cannot export pipeline step 'pca'"):
        to_onnx(pipe)
    unfitted = make_pipeline(StandardScaler(), DeepClassifier((4,)))
    with pytest.raises(ExportError, match="step 'standardscaler' .* is not fitted yet; fit the"):
        to_onnx(unfitted)
    # the last step is named too: a final "passthrough" said "cannot export a str"
    from sklearn.pipeline import Pipeline

    scaler = StandardScaler().fit(X)
    with pytest.raises(ExportError, match=r"^pipeline step 'last' \('passthrough'\): cannot "
                                          r"export a str"):
        to_onnx(Pipeline([("scale", scaler), ("last", "passthrough")]))
    with pytest.raises(ExportError, match=r"^pipeline step 'clf' \(DeepClassifier\): this "
                                          r"DeepClassifier is not fitted yet"):
        to_onnx(Pipeline([("scale", scaler), ("clf", DeepClassifier())]))


def test_missing_onnx_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'npdeep\[onnx\]'"):
        to_onnx(Network([2, 1], seed=0))


def test_to_onnx_is_exported_from_the_package():
    import npdeep

    assert npdeep.to_onnx is to_onnx


@pytest.mark.parametrize("with_mean, with_std", [(False, True), (True, False), (False, False)])
def test_scalers_without_centring_or_scaling(with_mean, with_std):
    """scikit-learn keeps mean_ when with_mean=False: the graph must not subtract it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * 10 + 5
    y = rng.integers(0, 3, 200)
    pipe = make_pipeline(StandardScaler(with_mean=with_mean, with_std=with_std),
                         DeepClassifier((8,), max_iter=20, random_state=0)).fit(X, y)
    out = _run(to_onnx(pipe), X)
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(X), atol=1e-9)
    np.testing.assert_array_equal(out["label"], pipe.predict(X))


def test_export_writes_atomically_and_names_bad_dtypes(tmp_path, monkeypatch):
    from npdeep.errors import ModelFileError

    path = tmp_path / "m.onnx"
    to_onnx(Network([3, 2, 1], seed=0), path)
    before = path.read_bytes()

    def fail(fd):
        raise OSError(28, "No space left on device")

    import npdeep.io

    monkeypatch.setattr(npdeep.io.os, "fsync", fail)
    with pytest.raises(ModelFileError, match=r"could not write ONNX file .*disk full"):
        to_onnx(Network([3, 8, 1], seed=1), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    with pytest.raises(ExportError, match="dtype must be 'float32' or 'float64', got 'floaty'"):
        to_onnx(Network([3, 1], seed=0), dtype="floaty")


@pytest.mark.parametrize("dtype, ops", [("float32", {"Sigmoid", "Mul"}),
                                        ("float64", {"Neg", "Exp", "Add", "Div"})])
def test_silu_in_double_is_spelled_without_sigmoid(dtype, ops):
    # onnxruntime 1.18-1.22 fuse z Sigmoid(z) into QuickGelu, which has no double kernel
    proto = to_onnx(Network([3, 4, 1], activation="silu", dtype=dtype, seed=0))
    layer1 = {node.op_type for node in proto.graph.node if node.output[0].endswith("1")}
    assert layer1 == {"Gemm"} | ops


@pytest.mark.parametrize("dtype, atol", [("float32", 2e-6), ("float64", 1e-12)])
@pytest.mark.parametrize("activation", ["elu", {"name": "elu", "alpha": 0.5}, "selu", "softplus",
                                        "gelu", "silu"], ids=str)
def test_each_new_activation_as_hidden_and_output_layer_matches_npdeep(activation, dtype, atol):
    # hidden layers and the output (identity + mse would fuse; mse keeps g[L] the activation),
    # with inputs reaching +-1e4 pre-activations: onnxruntime has no float64 Elu, Selu,
    # Softplus or Erf kernel, which the float64 graph spells out
    rng = np.random.default_rng(1)
    net = Network([4, 6, 5, 3], activation=activation, output_activation=activation,
                  loss="mean_squared_error", dtype=dtype, seed=0)
    X = rng.normal(size=(4, 40)) * 3
    X[:, :4] = [[1e4, -1e4, 80, -80]] * np.array([[1], [-1], [1], [-1]])
    proto = to_onnx(net)
    out = _run(proto, X.T.astype(dtype))["a_L"]
    expected = net.predict(X.astype(dtype)).T  # a[L] (n_L, m) for these outputs
    assert np.all(np.isfinite(out))
    if activation == "gelu" and dtype == "float64":
        atol = 1e-6 * np.abs(expected).max()  # its Erf runs on a float32 cast
    np.testing.assert_allclose(out, expected, rtol=2e-6 if dtype == "float32" else 1e-12,
                               atol=atol)
    ops = {node.op_type for node in proto.graph.node}
    native = {"elu": "Elu", "selu": "Selu", "softplus": "Softplus"}.get(net.activations[1].name)
    assert (native in ops) == (native is not None and dtype == "float32")
    if net.activations[1].name == "silu":  # z Sigmoid(z) in float64: onnxruntime 1.23 fused it
        assert ("Sigmoid" in ops) == (dtype == "float32")  # into a float-only kernel, and failed


@pytest.mark.parametrize("dtype, rtol", [("float32", 2e-6), ("float64", 1e-12)])
def test_the_exp_output_matches_npdeep_also_where_it_underflows(dtype, rtol):
    # Poisson regression's output: z = -1e4 gives npdeep's floor e * tiny, not 0
    rng = np.random.default_rng(1)
    net = Network([4, 6, 3], activation="tanh", output_activation="exp", loss="poisson",
                  dtype=dtype, seed=0)
    X = rng.normal(size=(4, 40))
    net.layers[-1][1][0] = -1e4  # b[L] of unit 0: every z of it far below the floor
    out = _run(to_onnx(net), X.T.astype(dtype))["a_L"]
    expected = net.predict(X.astype(dtype)).T
    assert {node.op_type for node in to_onnx(net).graph.node} >= {"Exp", "Max"}
    _assert_allclose_strict(out, expected, rtol=rtol, atol=0)
    assert (out[:, 0] > 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_poisson_regressor_exports(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] + 0.3)).astype(float)
    reg = DeepRegressor((8,), loss="poisson", dtype=dtype, max_iter=5, random_state=0).fit(X, y)
    out = _run(to_onnx(reg), X.astype(dtype))
    _assert_allclose_strict(out["predictions"], reg.predict(X), rtol=1e-5, atol=0)
