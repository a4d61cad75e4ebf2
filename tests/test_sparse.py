"""scipy.sparse inputs: the network on a sparse X computes what it computes on X.toarray().

Core: X is (n_x, m), features x samples (CSC is natural: a column is a sample). Estimators:
X is (m, n_x) as in scikit-learn. Every comparison is against the same data made dense, with
the same seed: equal to float rounding (the sparse products add in another order).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

import npdeep
from npdeep import DeepClassifier, DeepRegressor, Network
from npdeep.errors import DataError
from npdeep.training import BatchSource

FORMATS = {
    "csc_matrix": sp.csc_matrix,
    "csr_matrix": sp.csr_matrix,
    "coo_matrix": sp.coo_matrix,
    "csc_array": sp.csc_array,
    "csr_array": sp.csr_array,
    "lil_matrix": sp.lil_matrix,
    "dok_array": sp.dok_array,
    "bsr_matrix": sp.bsr_matrix,
    "dia_matrix": sp.dia_matrix,
}
TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def _sparse_X(rng, n_x=12, m=60, density=0.25):
    """A (n_x, m) CSC matrix of standard-normal values at ``density`` of its entries."""
    return sp.random(n_x, m, density=density, format="csc", random_state=rng,
                     data_rvs=rng.standard_normal)


@pytest.fixture
def data(rng):
    X = _sparse_X(rng)
    y = (rng.random(X.shape[1]) > 0.5).astype(np.float64)
    return X, y


def _pair(units, **kwargs):
    return Network(units, seed=0, **kwargs), Network(units, seed=0, **kwargs)


# ------------------------------------------------------------------------------ the core
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_gradients_on_sparse_X_equal_those_on_the_dense_X(fmt, data):
    X, y = data
    net = Network([12, 7, 5, 1], activation="tanh", seed=0, l2=0.3)
    weights = np.linspace(0.5, 2.0, X.shape[1])
    sparse = net.gradients(FORMATS[fmt](X), y, sample_weight=weights)
    dense = net.gradients(X.toarray(), y, sample_weight=weights)
    assert sparse.keys() == dense.keys()
    for key in dense:
        np.testing.assert_allclose(sparse[key], dense[key], **TIGHT, err_msg=key)


def test_gradients_of_a_wide_sparse_X_equal_the_dense_ones(rng):
    """n_x = 700: dW[1] is copied from SciPy's transposed product in blocks of columns."""
    X = _sparse_X(rng, n_x=700, m=40, density=0.02)
    y = rng.standard_normal((2, 40))
    net = Network([700, 6, 2], output_activation="identity", seed=0)
    sparse, dense = net.gradients(X, y), net.gradients(X.toarray(), y)
    for key in dense:
        np.testing.assert_allclose(sparse[key], dense[key], **TIGHT, err_msg=key)


def _awkward_wide_X(rng, n_x=400, m=9):
    """A wide (n_x, m) CSC X with few entries: unsorted and duplicate indices, explicit
    zeros, empty columns (SciPy leaves all of them in a matrix built from its arrays)."""
    indptr = np.array([0, 3, 3, 5, 5, 5, 8, 9, 9, 12])
    indices = np.array([7, 2, 7, 399, 0, 150, 3, 150, 5, 9, 8, 9])
    data = rng.standard_normal(indices.size)
    data[4] = 0.0
    return sp.csc_matrix((data, indices, indptr), shape=(n_x, m))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["awkward", "no entries", "one sample"])
def test_a_few_entries_of_a_wide_X_multiply_only_their_columns_of_W1(case, dtype, rng):
    """Before: SciPy copied all of W[1] on each product (200 MB for 256 x 100,000 weights,
    to predict one sample). Gathering the columns of the features present gives SciPy's
    result bit for bit."""
    from npdeep._sparse import matmul_into, weights_times_sparse

    X = {"awkward": _awkward_wide_X(rng), "no entries": sp.csc_matrix((400, 5)),
         "one sample": _sparse_X(rng, n_x=400, m=1, density=0.05)}[case].astype(dtype)
    W = rng.standard_normal((6, 400)).astype(dtype)
    gathered, whole = np.empty((6, X.shape[1]), dtype), np.empty((6, X.shape[1]), dtype)
    weights_times_sparse(W, X, gathered)
    matmul_into(W, X, whole)
    np.testing.assert_array_equal(gathered, whole)
    np.testing.assert_allclose(gathered, W @ X.toarray(), rtol=1e-5 if dtype is np.float32
                               else 1e-12, atol=1e-6 if dtype is np.float32 else 1e-12)
    # dW[1] = dZ[1] . a[0]^T: the columns of the features present, zeros elsewhere
    from npdeep._sparse import delta_times_sparse_T

    dZ = rng.standard_normal((6, X.shape[1])).astype(dtype)
    gathered, whole = np.full((6, 400), np.nan, dtype), np.empty((6, 400), dtype)
    delta_times_sparse_T(dZ, X.T, gathered)
    matmul_into(dZ, X.T, whole)
    np.testing.assert_array_equal(gathered, whole)


def test_predicting_a_few_samples_of_a_wide_sparse_X_does_not_copy_W1(rng):
    import tracemalloc

    net = Network([50_000, 32, 3], seed=0)  # W[1]: 12.8 MB
    X = _sparse_X(rng, n_x=50_000, m=2, density=0.002)
    expected = net.predict_proba(X.toarray())
    tracemalloc.start()
    try:
        proba = net.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(proba, expected, **TIGHT)
    assert peak < net.parameters["W1"].nbytes / 20, peak


def test_backprop_of_a_few_samples_of_a_wide_sparse_X_allocates_no_dW1_sized_product(rng):
    # before: SciPy's dZ[1] . a[0]^T, a new (n[1], n_x) array, on every training step
    import tracemalloc

    from npdeep.engine import backward, forward

    net = Network([50_000, 32, 3], seed=0)  # W[1], dW[1]: 12.8 MB
    X = net.check_X(_sparse_X(rng, n_x=50_000, m=2, density=0.002))
    Y = net.check_Y([0, 2], 2)
    expected = net.gradients(X.toarray(), Y)
    ws = net.workspace(2)
    tracemalloc.start()
    try:
        forward(net.layers, net.activations, X, ws)
        backward(net.layers, net.activations, net.loss, ws, Y, 0.5, net.grad_layers, net.fused)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < net.parameters["W1"].nbytes / 20, peak
    for (dW, db), l in zip(net.grad_layers, (1, 2), strict=True):
        np.testing.assert_allclose(dW, expected[f"dW{l}"], **TIGHT)
        np.testing.assert_allclose(db, expected[f"db{l}"], **TIGHT)


def test_mini_batches_of_a_wide_sparse_X_train_as_the_dense_X_does(rng):
    X = _sparse_X(rng, n_x=900, m=40, density=0.004)  # batches of 8: about 29 entries each
    y = (rng.random(40) > 0.5).astype(np.float64)
    a, b = _pair([900, 5, 1])
    a.fit(X, y, epochs=3, batch_size=8)
    b.fit(X.toarray(), y, epochs=3, batch_size=8)
    np.testing.assert_allclose(a.parameters.flat, b.parameters.flat, **TIGHT)


def test_backprop_on_sparse_X_passes_the_numerical_gradient_check(data):
    X, y = data
    net = Network([12, 6, 4, 1], activation="sigmoid", seed=0)
    result = npdeep.gradient_check(net, X, y, max_checks=None)
    assert result.passed, result


@pytest.mark.parametrize("options", [
    {},
    {"batch_size": 16, "optimizer": "adam"},
    {"batch_size": 16, "dropout": 0.3, "l2": 0.1, "sample_weight": True},
    {"batch_size": 8, "validation_fraction": 0.25, "class_weight": "balanced"},
], ids=["full-batch", "mini-batch", "dropout-l2-weights", "validation-class-weight"])
def test_training_on_sparse_X_gives_the_weights_dense_X_gives(options, data):
    X, y = data
    options = dict(options)
    net_options = {k: options.pop(k) for k in ("dropout", "l2") if k in options}
    if options.pop("sample_weight", False):
        options["sample_weight"] = np.linspace(0.2, 3.0, X.shape[1])
    sparse_net, dense_net = _pair([12, 8, 6, 1], **net_options)
    hs = sparse_net.fit(X.tocsr(), y, epochs=6, learning_rate=0.05, seed=1, **options)
    hd = dense_net.fit(X.toarray(), y, epochs=6, learning_rate=0.05, seed=1, **options)
    np.testing.assert_allclose(sparse_net.parameters.flat, dense_net.parameters.flat, **TIGHT)
    np.testing.assert_allclose(hs.history["cost"], hd.history["cost"], **TIGHT)
    if "validation_fraction" in options:
        np.testing.assert_allclose(hs.history["val_cost"], hd.history["val_cost"], **TIGHT)
    assert hs.diagnosis is not None  # the end-of-training report ran on sparse columns


def test_early_stopping_on_a_validation_fraction_of_sparse_X_stops_like_dense_X(data):
    X, y = data
    runs = []
    for inputs in (X, X.toarray()):
        net = Network([12, 8, 1], seed=0)
        stop = npdeep.callbacks.EarlyStopping(monitor="val_cost", patience=2)
        history = net.fit(inputs, y, epochs=40, learning_rate=0.5, batch_size=8,
                          validation_fraction=0.3, callbacks=[stop], seed=0)
        runs.append((net.parameters.flat.copy(), history))
    (sparse_flat, sparse_history), (dense_flat, dense_history) = runs
    assert len(sparse_history.history["cost"]) == len(dense_history.history["cost"]) < 40
    assert sparse_history.stop_reason == dense_history.stop_reason
    np.testing.assert_allclose(sparse_flat, dense_flat, **TIGHT)  # the restored best weights


def test_a_checkpointed_run_on_sparse_X_resumes_to_the_uninterrupted_weights(data, tmp_path):
    from npdeep.callbacks import ModelCheckpoint
    from npdeep.checkpoint import resume

    X, y = data
    settings = dict(learning_rate=0.05, batch_size=16, optimizer="adam", diagnose=False)
    reference = Network([12, 6, 1], seed=3)
    reference.fit(X, y, epochs=4, **settings)
    path = tmp_path / "ckpt.npz"
    Network([12, 6, 1], seed=3).fit(X, y, epochs=2, callbacks=[ModelCheckpoint(path)],
                                    **settings)
    resumed = resume(path, X, y, epochs=4, diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)


def test_predictions_cost_and_evaluate_on_sparse_X_equal_the_dense_ones(rng, monkeypatch):
    import npdeep.network

    monkeypatch.setattr(npdeep.network, "_PREDICT_CHUNK", 16)  # several chunks of columns
    X = _sparse_X(rng, m=50)
    labels = rng.integers(0, 3, 50)
    net = Network([12, 9, 3], seed=0)
    Xd = X.toarray()
    np.testing.assert_allclose(net.predict_proba(X.tocoo()), net.predict_proba(Xd), **TIGHT)
    np.testing.assert_array_equal(net.predict(X), net.predict(Xd))
    assert net.cost(X, labels) == pytest.approx(net.cost(Xd, labels), rel=1e-12)
    sparse, dense = net.evaluate(X, labels), net.evaluate(Xd, labels)
    assert sparse["accuracy"] == dense["accuracy"]
    assert sparse["cost"] == pytest.approx(dense["cost"], rel=1e-12)
    a_L, cache = net.forward(X)
    assert sp.issparse(cache["a0"])
    np.testing.assert_allclose(a_L, net.forward(Xd)[0], **TIGHT)


def test_sparse_validation_data_scores_like_dense_validation_data(data):
    X, y = data
    a, b = _pair([12, 5, 1])
    ha = a.fit(X, y, epochs=3, batch_size=20, validation_data=(X[:, :20].tocoo(), y[:20]))
    hb = b.fit(X.toarray(), y, epochs=3, batch_size=20,
               validation_data=(X[:, :20].toarray(), y[:20]))
    np.testing.assert_allclose(ha.history["val_cost"], hb.history["val_cost"], **TIGHT)


def test_mini_batches_of_sparse_X_stay_sparse_and_the_data_is_never_densified(data,
                                                                              monkeypatch):
    X, y = data
    net = Network([12, 5, 1], seed=0)
    source = BatchSource(net, net.check_X(X), net.check_Y(y, 60), 16)
    batches = list(source.batches(np.random.default_rng(0)))
    assert all(sp.issparse(A0) and A0.format == "csc" for A0, _, _ in batches)
    assert sum(A0.shape[1] for A0, _, _ in batches) == 60
    assert sum(A0.nnz for A0, _, _ in batches) == X.nnz

    def refuse(*args, **kwargs):
        raise AssertionError("a sparse matrix was made dense")

    for cls in (sp.csc_matrix, sp.csr_matrix):
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)
    net.fit(X, y, epochs=2, batch_size=16, validation_fraction=0.2)
    net.predict(X)
    net.gradients(X, y)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
@pytest.mark.parametrize("net_dtype", ["float32", "float64"])
def test_integer_and_bool_sparse_X_is_cast_to_the_networks_dtype(dtype, net_dtype, rng):
    X = sp.random(10, 40, density=0.3, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.integers(1, 4, k)).astype(dtype)
    net = Network([10, 4, 1], seed=0, dtype=net_dtype)
    checked = net.check_X(X)
    assert sp.issparse(checked) and checked.format == "csc"
    assert checked.dtype == np.dtype(net_dtype)
    np.testing.assert_array_equal(checked.toarray(), X.toarray().astype(net_dtype))
    rtol = 1e-6 if net_dtype == "float32" else 1e-12  # the sparse product adds in its order
    np.testing.assert_allclose(net.predict_proba(X), net.predict_proba(X.toarray()), rtol=rtol)


def test_a_1_d_sparse_array_is_one_row_of_samples_when_n_x_is_1():
    x = np.array([0.0, 1.0, 2.0, 0.0])
    net = Network([1, 3, 1], seed=0)
    np.testing.assert_allclose(net.predict_proba(sp.coo_array(x)), net.predict_proba(x),
                               **TIGHT)


def test_check_X_leaves_the_users_sparse_matrix_unchanged(rng):
    X = sp.random(10, 30, density=0.3, format="coo", random_state=rng)
    before = X.copy()
    Network([10, 3, 1], seed=0, dtype="float32").fit(X, np.zeros(30), epochs=1)
    assert X.format == "coo" and X.dtype == np.float64
    assert (X != before).nnz == 0


@pytest.mark.parametrize("X, match", [
    (sp.csc_matrix(np.array([[1.0, np.nan], [0.0, 2.0], [0.0, 0.0]])),
     r"X contains NaN or inf values \(1 of the 3 entries stored in the sparse X\)"),
    (sp.coo_matrix(np.array([[np.inf, 0.0], [0.0, 0.0], [0.0, -np.inf]])),
     r"X contains NaN or inf values \(2 of the 2 entries stored"),
    (sp.csr_matrix(np.ones((2, 3))), r"X has 2 rows but the network expects n_x = 3"),
    (sp.csc_matrix((3, 0)), r"X has no samples \(shape \(3, 0\)\)"),
    (sp.csc_matrix(np.ones((3, 2), dtype=np.complex128)),
     r"X must hold real numbers, got complex numbers \(a sparse csc matrix"),
    pytest.param(sp.coo_array(np.ones(3)), r"X must be 2-D \(n_x, m\) = \(features, samples\), "
                 r"got shape \(3,\) \(one sample of n_x = 3 features",
                 marks=pytest.mark.skipif(sp.coo_array(np.ones(3)).ndim != 1,
                                          reason="scipy before 1.13 has no 1-D sparse arrays")),
    (sp.csc_matrix(np.array([[1e300], [0.0], [0.0]])), r"X has values too large for float32"),
], ids=["nan", "inf", "shape", "no-samples", "complex", "1-D", "too-large"])
def test_bad_sparse_X_is_refused_naming_the_problem(X, match):
    net = Network([3, 2, 1], seed=0, dtype="float32")
    with pytest.raises(DataError, match=match):
        net.predict(X)
    with pytest.raises(DataError, match=match):
        net.fit(X, np.zeros(X.shape[-1]), epochs=1)


def test_transposed_sparse_X_gets_the_transpose_hint(rng):
    X = sp.random(30, 4, density=0.5, format="csr", random_state=rng)  # (m, n_x): rows
    with pytest.raises(DataError, match=r"it looks transposed: use X\.T"):
        Network([4, 2, 1], seed=0).fit(X, np.zeros(30), epochs=1)


def test_bad_sparse_validation_X_is_named(data):
    X, y = data
    bad = X[:, :10].tolil()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match=r"validation X contains NaN or inf values"):
        Network([12, 3, 1], seed=0).fit(X, y, epochs=1, validation_data=(bad, y[:10]))


# -------------------------------------------------------------------------- estimators
@pytest.fixture
def rows(rng):
    """A sparse (m, n_x) classification set: 3 classes that depend on the features."""
    X = sp.random(150, 20, density=0.3, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    y = np.asarray(X[:, :3].sum(axis=1)).ravel()
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    return X, labels


def _fit_both(make, X, y, **fit_kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make().fit(X, y, **fit_kwargs), make().fit(X.toarray(), y, **fit_kwargs)


def _assert_same_fit(a, b):
    for Wa, Wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(Wa, Wb, **TIGHT)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, **TIGHT)


@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_array", "coo_matrix", "lil_matrix"])
def test_classifier_on_sparse_X_fits_and_predicts_as_on_dense_X(fmt, rows):
    X, y = rows
    X = FORMATS[fmt](X)
    a, b = _fit_both(lambda: DeepClassifier((16,), learning_rate=0.01, max_iter=15,
                                            random_state=0), X, y)
    _assert_same_fit(a, b)
    Xd = X.toarray()
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(Xd), **TIGHT)
    np.testing.assert_allclose(a.predict_log_proba(X), b.predict_log_proba(Xd), **TIGHT)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(Xd), **TIGHT)
    np.testing.assert_array_equal(a.predict(X), b.predict(Xd))
    assert a.score(X, y) == b.score(Xd, y) > 0.6


def test_classifier_early_stopping_and_sample_weight_on_sparse_X(rows):
    X, y = rows
    weights = np.linspace(0.5, 1.5, y.shape[0])
    a, b = _fit_both(lambda: DeepClassifier((8,), learning_rate=0.01, max_iter=12,
                                            early_stopping=True, validation_fraction=0.2,
                                            dropout=0.2, l2=0.01, random_state=0),
                     X, y, sample_weight=weights)
    _assert_same_fit(a, b)
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_, **TIGHT)


def test_partial_fit_on_sparse_batches_equals_partial_fit_on_dense_ones(rows):
    X, y = rows
    a = DeepClassifier((8,), learning_rate=0.01, random_state=0)
    b = DeepClassifier((8,), learning_rate=0.01, random_state=0)
    for start in range(0, 150, 50):
        part = slice(start, start + 50)
        a.partial_fit(X[part], y[part], classes=[0, 1, 2])
        b.partial_fit(X[part].toarray(), y[part], classes=[0, 1, 2])
    _assert_same_fit(a, b)


def test_regressor_on_sparse_X_fits_and_predicts_as_on_dense_X(rows):
    X, _ = rows
    y = np.asarray(X[:, :4].sum(axis=1)).ravel() * 10.0 + 3.0
    a, b = _fit_both(lambda: DeepRegressor((16,), learning_rate=0.01, max_iter=10,
                                           early_stopping=True, random_state=0),
                     sp.csc_matrix(X), y)
    _assert_same_fit(a, b)
    np.testing.assert_allclose(a.predict(X), b.predict(X.toarray()), **TIGHT)
    assert a.score(X, y) == pytest.approx(b.score(X.toarray(), y), rel=1e-10)


def test_estimators_declare_sparse_input_to_scikit_learn():
    for estimator in (DeepClassifier(), DeepRegressor()):
        assert estimator.__sklearn_tags__().input_tags.sparse is True


def test_unscaled_sparse_X_warns_with_a_scaler_that_keeps_it_sparse(rows):
    X, y = rows
    X = X.multiply(np.r_[100.0, np.ones(19)]).tocsr()  # column 0 in the tens
    with pytest.warns(UserWarning, match=r"not standardized \(column 0 has a root mean square "
                      r"of [0-9.]+\).*keeps X sparse.*make_pipeline\(MaxAbsScaler\(\), "
                      r"DeepClassifier"):
        DeepClassifier((4,), max_iter=1).fit(X, y)
    pipe = make_pipeline(MaxAbsScaler(), DeepClassifier((16,), learning_rate=0.01, max_iter=40,
                                                        random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # scaled: no warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    assert pipe.score(X, y) > 0.6


def test_nan_in_sparse_X_is_refused_by_the_estimator(rows):
    X, y = rows
    X = X.tolil()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        DeepClassifier((4,), max_iter=1).fit(X, y)


def test_data_parallel_training_refuses_sparse_X_and_names_the_alternative(data):
    pytest.importorskip("distributed")
    from npdeep.distributed import data_parallel_fit

    X, y = data
    with pytest.raises(DataError, match=r"data-parallel training takes a dense X, got a sparse "
                       r"csc matrix of shape \(12, 60\); train on it with Network\.fit"):
        data_parallel_fit(Network([12, 3, 1], seed=0), X, y, client=None)


@pytest.mark.parametrize("where", ["Y", "sample_weight", "validation Y"])
def test_sparse_targets_or_weights_are_refused_by_name(rng, where):
    X = rng.normal(size=(3, 20))
    Y = (X[:1] > 0).astype(float)
    kwargs = {"sample_weight": sp.csr_matrix(np.ones((1, 20)))} if where == "sample_weight" \
        else {"validation_data": (X, sp.csr_matrix(Y))} if where == "validation Y" else {}
    target = sp.csr_matrix(Y) if where == "Y" else Y
    with pytest.raises(DataError, match=rf"^{where} must be a dense array, got a scipy.sparse "
                                        r"csr matrix of shape \(1, 20\); only X may be sparse"):
        Network([3, 2, 1], seed=0).fit(X, target, epochs=1, **kwargs)
