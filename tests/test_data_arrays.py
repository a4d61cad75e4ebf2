"""NumPy sources (.npz, .npy): formats and errors, matched on their messages."""

from __future__ import annotations

import numpy as np
import pytest

from npdeep.data import load, load_features
from npdeep.errors import DataError


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_npz_classification(tmp_path, rng):
    X = rng.normal(size=(40, 3))
    y = np.repeat([0, 1], 20)
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y)
    ds = load(path)
    np.testing.assert_array_equal(ds.X, X)
    assert ds.task == "classification" and ds.classes.tolist() == [0, 1]
    assert ds.feature_names == ["x0", "x1", "x2"]
    assert ds.target_name == "y"


def test_npz_regression_and_multi_output(tmp_path, rng):
    X = rng.normal(size=(30, 2)).astype(np.float32)
    y = rng.normal(size=(30, 2))
    path = tmp_path / "d.npz"
    np.savez_compressed(path, X=X, y=y)
    ds = load(path)
    assert ds.X.dtype == np.float64 and ds.y.shape == (30, 2) and ds.task == "regression"
    with pytest.raises(DataError, match=r"classification needs one label per sample"):
        load(path, task="classification")


def test_npz_images_are_flattened(tmp_path, rng):
    path = tmp_path / "img.npz"
    np.savez(path, X=rng.integers(0, 255, size=(10, 4, 4), dtype=np.uint8), y=np.arange(10) % 2)
    assert load(path).X.shape == (10, 16)


def test_npz_target_array_by_name(tmp_path, rng):
    path = tmp_path / "d.npz"
    np.savez(path, X=rng.normal(size=(6, 2)), labels=np.array([0, 1, 0, 1, 0, 1]))
    assert load(path, target="labels").target_name == "labels"
    with pytest.raises(DataError, match="has X but no array 'y' for the target; its other "
                                        "arrays: 'labels'$"):
        load(path)
    np.savez(tmp_path / "x-only.npz", X=np.zeros((6, 2)))
    with pytest.raises(DataError, match="no array 'y' for the target; it holds no other array$"):
        load(tmp_path / "x-only.npz")
    with pytest.raises(DataError, match="the target cannot be array 'X', which holds the features"):
        load(path, target="X")
    np.save(tmp_path / "x.npy", np.zeros((6, 2)))
    with pytest.raises(DataError, match="the target file is the features file itself"):
        load(tmp_path / "x.npy", target=tmp_path / "x.npy")


def test_npz_without_X_lists_members(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, features=np.zeros((2, 2)), y=np.zeros(2))
    with pytest.raises(DataError, match=r"has no array 'X'; it holds 'features', 'y'"):
        load(path)


@pytest.mark.parametrize("fmt", ["csr", "coo"])
def test_a_scipy_sparse_npz_is_named_with_the_way_to_use_it(tmp_path, fmt):
    # before: "has no array 'X'; it holds 'indices', 'indptr', 'format', 'shape', 'data'"
    import scipy.sparse as sp

    path = tmp_path / "X.npz"
    sp.save_npz(path, sp.random(6, 3, density=0.5, format=fmt, random_state=0))
    with pytest.raises(DataError, match=r"holds a scipy.sparse matrix \(written by "
                                        r"scipy.sparse.save_npz\), which the command line does "
                                        r"not read; use scipy.sparse.load_npz\(path\) in "
                                        r"Python"):
        load(path)
    with pytest.raises(DataError, match=r"holds a scipy.sparse matrix"):
        load_features(path)


def test_npz_object_array_rejected(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.array([[1, "a"]], dtype=object), y=np.array([0]))
    with pytest.raises(DataError, match="holds an object array"):
        load(path)


def test_npy_object_array_rejected(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="holds an object array"):
        load_features(path)


def test_npy_needs_target_file(tmp_path, rng):
    X = rng.normal(size=(8, 3))
    xp, yp = tmp_path / "X.npy", tmp_path / "y.npy"
    np.save(xp, X)
    np.save(yp, np.array([0, 1] * 4))
    with pytest.raises(DataError, match=r"a \.npy file holds X only; give the target"):
        load(xp)
    ds = load(xp, target=yp)
    np.testing.assert_array_equal(ds.X, X)
    assert ds.y.tolist() == [0, 1] * 4
    feats = load_features(xp, feature_names=["a", "b", "c"])
    assert feats.y is None and feats.feature_names == ["a", "b", "c"]


def test_sample_count_mismatch(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((5, 2)), y=np.zeros(4))
    with pytest.raises(DataError, match="X has 5 samples but y has 4"):
        load(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X(tmp_path, bad):
    X = np.ones((4, 2))
    X[2, 1] = bad
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=np.array([0, 1, 0, 1]))
    with pytest.raises(DataError, match=r"X\[2, 1\] is (nan|inf); NaN and inf are not allowed"):
        load(path)


def test_non_finite_y(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 1)), y=np.array([0.5, np.nan, 1.5]))
    with pytest.raises(DataError, match=r"d\.npz: sample 1: target 'y' is not finite \(nan\)"):
        load(path)


def test_float_labels_beyond_int64_are_refused_not_wrapped(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 1)), y=np.array([1e19, 1.0, 1.0]))
    with pytest.raises(DataError, match=r"d\.npz: target 'y' holds the label 1e\+19, beyond "
                                        r"the 64-bit integers"):
        load(path, task="classification")
    assert load(path, task="regression").y.tolist() == [1e19, 1.0, 1.0]


def test_uint64_labels_stay_exact(tmp_path):
    path = tmp_path / "d.npz"
    y = np.array([2**64 - 1, 2**64 - 2, 3], dtype=np.uint64)
    np.savez(path, X=np.ones((3, 1)), y=y)
    assert load(path).classes.tolist() == [3, 2**64 - 2, 2**64 - 1]


def test_one_dimensional_X(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones(3), y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match=r"X has shape \(3,\); expected 2-D"):
        load(path)


def test_single_class_npz(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((4, 2)), y=np.array([3, 3, 3, 3]))
    with pytest.raises(DataError, match=r"single class \(3\)"):
        load(path)


def test_feature_count_mismatch(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, np.ones((3, 5)))
    with pytest.raises(DataError, match="has 5 features but the model expects 4 features"):
        load_features(path, feature_names=["a", "b", "c", "d"])


def test_corrupt_npy(tmp_path):
    path = tmp_path / "bad.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="not a readable NumPy file"):
        load_features(path)
    other = tmp_path / "text.npz"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="not a NumPy file"):
        load(other)


def _npy_declaring(shape) -> bytes:
    """The bytes of an .npy file whose header declares ``shape`` (float64) over 16 bytes."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (118 - len(header)) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(16)


def test_an_npy_declaring_more_than_it_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npy"
    path.write_bytes(_npy_declaring((10**10, 10**5)))  # 8 EB declared: np.load's MemoryError
    with pytest.raises(DataError, match=r"bomb\.npy: truncated or corrupt: its header declares "
                                        r"an array of shape \(10000000000, 100000\) \(float64, "
                                        r"8,000,000,000,000,000 bytes\) but it holds 16 bytes"):
        load_features(path)
    truncated = tmp_path / "cut.npy"
    np.save(truncated, np.ones((30, 3)))
    truncated.write_bytes(truncated.read_bytes()[:500])
    with pytest.raises(DataError, match=r"cut\.npy: truncated or corrupt: .* shape \(30, 3\) "
                                        r"\(float64, 720 bytes\) but it holds 372 bytes"):
        load_features(truncated)


def test_an_npz_member_declaring_more_than_it_holds_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", _npy_declaring((10**15,)))
        archive.writestr("y.npy", b"")
    with pytest.raises(DataError, match=r"bomb\.npz: array 'X': truncated or corrupt: its "
                                        r"header declares an array of shape \(1000000000000000,\)"):
        load(path)


def test_bytes_labels_are_read_as_text(tmp_path):
    # a model file stores classes as JSON: bytes labels failed only when the model was saved
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((4, 1)), y=np.array([b"cat", b"dog", b"cat", b"dog"]))
    ds = load(path)
    assert ds.classes.tolist() == ["cat", "dog"] and ds.y.dtype.kind == "U"
    np.savez(path, X=np.ones((2, 1)), y=np.array([b"\xff", b"a"]))
    with pytest.raises(DataError, match=r"d\.npz: y holds bytes that are not UTF-8 text"):
        load(path)


def test_a_target_file_that_is_not_numpy_is_named_so(tmp_path):
    np.save(tmp_path / "X.npy", np.ones((2, 1)))
    (tmp_path / "y.csv").write_text("y\n0\n1\n")  # np.load took it for a pickle
    with pytest.raises(DataError, match=r"y\.csv: not a NumPy file \(it does not start with "
                                        r"NumPy's or zip's magic bytes\)"):
        load(tmp_path / "X.npy", target=tmp_path / "y.csv")
    with pytest.raises(DataError, match=r"nope\.npy: no such file$"):
        load(tmp_path / "X.npy", target=tmp_path / "nope.npy")
    with pytest.raises(DataError, match=r"is a folder, not a NumPy file"):
        load(tmp_path / "X.npy", target=tmp_path)


@pytest.mark.parametrize("shape", [(0, 4, 2), (3, 0, 2)])
def test_empty_images_are_refused_by_their_shape(tmp_path, shape):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros(shape), y=np.zeros(shape[0]))  # the reshape to (0, -1) raised
    message = rf"X has shape \({shape[0]}, {shape[1]}, 2\); expected at least one sample and one"
    with pytest.raises(DataError, match=message):
        load(path)
    with pytest.raises(DataError, match=message):
        load_features(path)


@pytest.mark.parametrize("dtype", [np.float64, np.int64, bool])
def test_one_hot_labels_are_refused_with_the_argmax_hint(tmp_path, rng, dtype):
    X = rng.normal(size=(30, 2))
    y = np.eye(3, dtype=dtype)[np.arange(30) % 3]
    path = tmp_path / "oh.npz"
    np.savez(path, X=X, y=y)
    message = (r"oh\.npz: target 'y' has shape \(30, 3\) with a single 1 in each row, like "
               r"one-hot encoded labels: save the class numbers instead, y\.argmax\(axis=1\)")
    for task in (None, "classification"):
        with pytest.raises(DataError, match=message):
            load(path, task=task)
    ds = load(path, task="regression")  # asked for: the columns are numbers
    assert ds.task == "regression" and ds.y.shape == (30, 3)
