"""Memory, never time: inputs in memory are not copied whole where a chunk or an index will do.

Prediction casts a float64 or integer ``X`` into a float32 network one chunk of samples at a
time, and a validation split trains on the rows it keeps by index, without ``X[train]``.
"""

import re
import tracemalloc
import warnings

import numpy as np
import pytest

import npdeep
from npdeep.network import _PREDICT_CHUNK


def _peak(call):
    """Return ``(result, peak bytes traced)`` of ``call()``."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def _softmax_net(n_x, dtype="float32"):
    return npdeep.Network([n_x, 16, 3], output_activation="softmax",
                          loss="categorical_crossentropy", dtype=dtype, seed=0)


@pytest.mark.parametrize("dtype", [np.float64, np.uint8, np.int64])
@pytest.mark.parametrize("method", ["predict_proba", "predict", "cost", "evaluate"])
def test_network_outputs_cast_an_x_of_another_dtype_one_chunk_at_a_time(rng, dtype, method):
    # a float64 X into a float32 network was cast whole first: half its size again (a uint8 X:
    # four times its size), before a chunk of it was propagated
    m, n_x = 12 * _PREDICT_CHUNK + 7, 64
    X = (rng.random((m, n_x)) * 255).astype(dtype).T          # (n_x, m), samples as rows
    y = rng.integers(0, 3, m)
    net = _softmax_net(n_x)
    call = {"predict_proba": lambda A: net.predict_proba(A),
            "predict": lambda A: net.predict(A),
            "cost": lambda A: net.cost(A, y),
            "evaluate": lambda A: net.evaluate(A, y)}[method]
    result, peak = _peak(lambda: call(X))
    whole = m * n_x * 4                                        # X as float32: 25 MB
    assert peak < whole / 3, (peak, whole)                     # one chunk: 2 MB, 6 in all
    def values(r):
        return np.asarray(list(r.values()) if isinstance(r, dict) else r)

    np.testing.assert_array_equal(values(result), values(call(X.astype(np.float32))))


@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
@pytest.mark.parametrize("method", ["predict_proba", "predict", "score"])
def test_estimator_outputs_cast_an_x_of_another_dtype_one_chunk_at_a_time(rng, dtype, method):
    # scikit-learn's validation converted X into the estimator's dtype whole first
    m, n_x = 12 * _PREDICT_CHUNK + 7, 64
    X = (rng.random((m, n_x)) * 2).astype(dtype)
    y = rng.integers(0, 3, m)
    clf = npdeep.DeepClassifier((16,), max_iter=1, dtype="float32", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:500].astype(np.float32), y[:500])
    args = (X, y) if method == "score" else (X,)
    result, peak = _peak(lambda: getattr(clf, method)(*args))
    whole = m * n_x * 4
    assert peak < whole / 3, (peak, whole)
    expected = getattr(clf, method)(X.astype(np.float32), *args[1:])
    np.testing.assert_array_equal(result, expected)
    if method == "predict_proba":
        assert result.dtype == np.float32


def test_estimator_early_stopping_trains_on_the_rows_it_keeps_without_copying_them(rng):
    # X[train] copied 0.9 of X (and a float32 X was copied whole): now batches index into X
    m, n_x = 20_000, 256
    X = rng.standard_normal((m, n_x), dtype=np.float32)
    y = rng.integers(0, 3, m)
    clf = npdeep.DeepClassifier((16,), max_iter=1, batch_size=256, dtype="float32",
                                early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, peak = _peak(lambda: clf.fit(X, y))
    assert peak < 0.4 * X.nbytes, (peak, X.nbytes)             # held out: 0.1 (was 1.1)


def test_a_validation_fraction_of_an_x_in_memory_is_not_copied(rng):
    m, n_x = 20_000, 256
    X = rng.standard_normal((m, n_x), dtype=np.float32).T
    y = rng.integers(0, 3, m)
    net = _softmax_net(n_x)
    _, peak = _peak(lambda: net.fit(X, y, epochs=1, batch_size=256, validation_fraction=0.1,
                                    diagnose=False))
    assert peak < 0.4 * X.nbytes, (peak, X.nbytes)


@pytest.mark.parametrize("method", ["fit", "transform"])
def test_the_command_lines_standardizer_holds_one_temporary_the_size_of_x(rng, method):
    # fit's std and transform's division each made a second array the size of X
    # (npdeep train on a CSV: the peak of the whole command)
    from npdeep.data import Standardizer

    X = rng.standard_normal((20_000, 100)) * 3 + 1
    scaler = Standardizer().fit(X)
    _, peak = _peak(lambda: getattr(scaler, method)(X))
    assert peak < 1.5 * X.nbytes, (peak, X.nbytes)


def test_casting_a_float64_x_into_a_float32_network_checks_it_without_a_mask_of_its_size(rng):
    # Network.fit casts a float64 X once (cheaper than per batch); the check that no value
    # overflowed made a bool array of X's size on top (an eighth of X): now a block at a time
    X = rng.standard_normal((256, 20_000))
    net = _softmax_net(256)
    _, peak = _peak(lambda: net.fit(X, rng.integers(0, 3, 20_000), epochs=1, batch_size=256,
                                    diagnose=False))
    assert peak < 0.56 * X.nbytes, (peak, X.nbytes)           # the float32 copy: 0.5
    big = X.copy()
    big[7, 9] = 1e300
    with pytest.raises(npdeep.errors.DataError, match="too large for float32"):
        net.fit(big, rng.integers(0, 3, 20_000), epochs=1, batch_size=256)


def test_the_unscaled_warning_measures_a_sparse_x_without_float64_copies_of_it():
    # X.astype(float64).multiply(itself): float64 copies of the CSR matrix, 4.5x its size
    import scipy.sparse as sp

    from npdeep.estimators._inputs import warn_if_unscaled

    X = sp.random(20_000, 300, density=0.05, format="csr", dtype=np.float32, random_state=0)
    size = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    _, peak = _peak(lambda: warn_if_unscaled(X, "DeepClassifier"))
    assert peak < 2.5 * size, (peak, size)          # float64 squares, intp column indices: 2x
    big = X * 2e4
    dense = big.toarray().astype(np.float64)
    rms = np.sqrt((dense**2).mean(axis=0))                     # the reference, densified
    j = int(np.argmax(rms))
    with pytest.warns(UserWarning, match=re.escape(f"column {j} has a root mean square of "
                                                   f"{rms[j]:.3g});")):
        warn_if_unscaled(big, "DeepClassifier")
