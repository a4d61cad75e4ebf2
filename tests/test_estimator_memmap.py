"""DeepClassifier and DeepRegressor on a memory-mapped ``X`` (m, n_x): kept as a memmap.

scikit-learn's validation would cast a uint8 file to a whole float64 copy (8 times the file)
and read all of it for its finiteness check; the estimators check it in blocks instead and
let the network cast it one mini-batch at a time.
"""

import tracemalloc
import warnings

import numpy as np
import pytest

from npdeep import DataError, DeepClassifier, DeepRegressor

ESTIMATORS = [DeepClassifier, DeepRegressor]


def _save(path, X):
    """Write ``X`` (m, n_x) to ``path`` as .npy and return it opened with mmap_mode='r'."""
    np.save(path, X)
    return np.load(path, mmap_mode="r")


def _target(estimator, rng, m):
    """Three classes for the classifier, a real target for the regressor: (m,)."""
    labels = rng.integers(0, 3, m)
    return labels if estimator is DeepClassifier else labels + rng.normal(size=m)


def _fit(estimator, X, y, **kwargs):
    """Fit a small network on ``X`` (m, n_x), ``y`` (m,), ignoring fit's warnings."""
    options = {"max_iter": 2, "random_state": 0, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unscaled X, max_iter reached
        return estimator((8,), **options).fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_fit_on_a_uint8_memmap_makes_no_float_copy(tmp_path, rng, estimator):
    m, n_x = 50_000, 100
    X = _save(tmp_path / "u8.npy", rng.integers(0, 256, (m, n_x), dtype=np.uint8))
    y = _target(estimator, rng, m)
    float_copy = m * n_x * 8  # what validate_data's cast to float64 allocated: 40 MB
    for call in ("fit", "partial_fit"):
        est = estimator((8,), max_iter=1, random_state=0)
        if call == "partial_fit" and estimator is DeepClassifier:
            kwargs = {"classes": np.arange(3)}
        else:
            kwargs = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tracemalloc.start()
            try:
                getattr(est, call)(X, y, **kwargs)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert peak < float_copy / 4, (call, peak, float_copy)  # measured: 1.5 to 2.8 MB
        assert est.n_features_in_ == n_x


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_early_stopping_on_a_memmap_copies_only_the_held_out_rows(tmp_path, rng, estimator):
    # the training rows were copied out of the file (X[train]), then cast whole to float64
    m, n_x = 50_000, 100
    X = _save(tmp_path / "f32.npy", rng.random((m, n_x), dtype=np.float32))
    y = _target(estimator, rng, m)
    est = estimator((8,), max_iter=1, random_state=0, early_stopping=True,
                    validation_fraction=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        try:
            est.fit(X, y)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # the held-out 5% as float64 is 2 MB; before: 64 MB, over three times the 20 MB file
    assert peak < X.nbytes / 2, (peak, X.nbytes)
    assert len(est.validation_scores_) == 1


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("options", [{}, {"dtype": "float32"}, {"early_stopping": True},
                                     {"batch_size": None}, {"sample_weight": True}],
                         ids=["default", "float32", "early_stopping", "full_batch", "weights"])
def test_fit_on_a_memmap_equals_fit_in_memory(tmp_path, rng, estimator, options):
    m, n_x = 3000, 12
    X = _save(tmp_path / "u8.npy", rng.integers(0, 256, (m, n_x), dtype=np.uint8))
    y = _target(estimator, rng, m)
    options = dict(options)
    weights = rng.random(m) if options.pop("sample_weight", False) else None
    fitted = []
    for data in (X, np.asarray(X)):
        est = estimator((8,), max_iter=3, random_state=0, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.append(est.fit(data, y, sample_weight=weights))
    on_file, in_memory = fitted
    rtol = 1e-5 if options.get("dtype") == "float32" else 1e-10
    np.testing.assert_allclose(on_file.loss_curve_, in_memory.loss_curve_, rtol=rtol)
    np.testing.assert_allclose(on_file.network_.parameters.flat,
                               in_memory.network_.parameters.flat, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(on_file.predict(X), in_memory.predict(np.asarray(X)), rtol=rtol)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_an_unscaled_memmap_warns_as_in_memory(tmp_path, rng, estimator):
    X = _save(tmp_path / "u8.npy", rng.integers(0, 256, (400, 5), dtype=np.uint8))
    y = _target(estimator, rng, 400)
    messages = []
    for data in (X, np.asarray(X)):
        with pytest.warns(UserWarning, match="not standardized") as record:
            estimator((4,), max_iter=1).fit(data, y)
        messages.append([str(w.message) for w in record if "standardized" in str(w.message)])
    assert messages[0] == messages[1]


def _bad_memmap(path, value, rows=4000, cols=300):
    """A float32 memmap of ones (rows, cols) with ``value`` in its last entry (past one block)."""
    X = np.ones((rows, cols), dtype=np.float32)
    X[-1, -1] = value
    return _save(path, X)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_fit_on_a_memmap_with_nan_or_inf_is_refused_by_name(tmp_path, estimator, value):
    X = _bad_memmap(tmp_path / "bad.npy", value)
    y = np.arange(X.shape[0]) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # refused before any unscaled warning
        with pytest.raises(DataError, match="X contains NaN or inf values"):
            estimator((4,), max_iter=1).fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["partial_fit", "predict", "warm_fit"])
def test_a_fitted_estimator_refuses_a_memmap_with_nan_by_name(tmp_path, rng, estimator, method):
    X = _bad_memmap(tmp_path / "bad.npy", np.nan)
    y = np.arange(X.shape[0]) % 2
    est = _fit(estimator, rng.normal(size=(50, X.shape[1])), np.arange(50) % 2,
               warm_start=True)
    with pytest.raises(DataError, match="X contains NaN or inf values"):
        if method == "predict":
            est.predict(X)
        elif method == "partial_fit":
            est.partial_fit(X, y)
        else:
            est.fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_a_float64_memmap_too_large_for_float32_is_refused_by_name(tmp_path, estimator):
    # in memory, scikit-learn's cast to float32 makes it inf and its check refuses it; a memmap
    # is cast batch by batch, so the network's check refuses it first
    X = np.ones((200, 3))
    X[-1, -1] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match=r"X has values too large for float32 \(\|x\| > "):
            estimator((4,), max_iter=1, dtype="float32").fit(_save(tmp_path / "big.npy", X),
                                                             np.arange(200) % 2)


def test_a_memmap_of_text_is_refused_as_not_numeric(tmp_path):
    X = _save(tmp_path / "text.npy", np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(DataError, match=r"^X must hold numbers, got text \(dtype <U1\); it "
                                        r"holds text \('a'\): encode it first"):
        DeepClassifier((4,)).fit(X, [0, 1])


def test_a_transposed_feature_rows_memmap_is_explained_in_samples_as_rows(tmp_path, rng):
    # before: the estimator's user, who passed (3000, 5), was told of a (5, 3000) X and to
    # pass np.load(path, mmap_mode='r').T, which is what they had done
    path = tmp_path / "fx.npy"
    np.save(path, rng.normal(size=(5, 3000)))
    X = np.load(path, mmap_mode="r").T
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DeepClassifier((4,), max_iter=1, random_state=0).fit(X, rng.integers(0, 2, 3000))
    layout = [str(w.message) for w in caught if "memory-mapped" in str(w.message)]
    assert len(layout) == 1
    assert layout[0].startswith("X of shape (3000, 5) is a memory-mapped file of shape "
                                "(5, 3000) read transposed: the file holds the features as rows")
    assert layout[0].endswith("save it with samples as rows, shape (3000, 5) (np.save(path, "
                              "np.ascontiguousarray(X))), and pass np.load(path, "
                              "mmap_mode='r') as it is")
    assert ".T" not in layout[0]
