"""IDX (MNIST's format): hand-built files, gzipped or plain, and the real t10k set when present."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from npdeep.data import FeatureEncoder, load, load_features
from npdeep.data.idx import read_idx
from npdeep.errors import DataError

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist-t10k"


def idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int16: 0x0B, np.float32: 0x0D}[arr.dtype.type]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_pair(folder: Path, prefix: str, images, labels, gz: bool) -> Path:
    suffix = ".gz" if gz else ""
    pack = gzip.compress if gz else (lambda b: b)
    img = folder / f"{prefix}-images-idx3-ubyte{suffix}"
    img.write_bytes(pack(idx_bytes(images)))
    (folder / f"{prefix}-labels-idx1-ubyte{suffix}").write_bytes(pack(idx_bytes(labels)))
    return img


@pytest.fixture
def pair():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(12, 3, 2), dtype=np.uint8)
    labels = (np.arange(12) % 3).astype(np.uint8)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_idx_images_file_and_folder(tmp_path, pair, gz):
    images, labels = pair
    img = write_pair(tmp_path, "train", images, labels, gz)
    for source in (img, tmp_path):
        ds = load(source)
        np.testing.assert_array_equal(ds.X, images.reshape(12, 6).astype(np.float64))
        assert ds.y.tolist() == labels.tolist()
        assert ds.task == "classification" and ds.classes.tolist() == [0, 1, 2]
        assert ds.feature_names[0] == "pixel_0" and len(ds.feature_names) == 6
    assert load_features(img).X.shape == (12, 6)


def test_read_idx_other_dtypes(tmp_path):
    arr = np.arange(6, dtype=np.int16).reshape(2, 3) - 3
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(arr))
    np.testing.assert_array_equal(read_idx(path), arr)
    farr = np.linspace(0, 1, 4, dtype=np.float32)
    path.write_bytes(idx_bytes(farr))
    np.testing.assert_array_equal(read_idx(path), farr)


def test_truncated_idx(tmp_path, pair):
    images, labels = pair
    img = write_pair(tmp_path, "t10k", images, labels, gz=False)
    img.write_bytes(img.read_bytes()[:-5])
    with pytest.raises(DataError, match="truncated or corrupt file"):
        load(img)


def test_idx_header_whose_size_overflows_int64_is_named_as_corrupt(tmp_path):
    # 2**31 * 2**31 * 4 float64 values: the byte count wrapped to 0 in int64 and matched an
    # empty body, so reshape raised a bare ValueError
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", 2**31, 2**31, 4))
    with pytest.raises(DataError, match=r"holds 0 bytes but its header .* needs "
                                        r"147573952589676412928 \(truncated or corrupt"):
        read_idx(path)


def test_float_idx_labels_that_are_not_integers_are_refused(tmp_path, pair):
    images, _ = pair
    labels = (np.arange(12) % 3).astype(np.float32)
    labels[4] = 1.5  # was truncated to class 1 without a word
    write_pair(tmp_path, "t10k", images, labels, gz=False)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: label 1\.5 at index 4 is "
                                        "not an integer"):
        load(tmp_path)
    labels[4] = 1.0  # whole numbers stored as floats still load
    write_pair(tmp_path, "t10k", images, labels, gz=False)
    np.testing.assert_array_equal(load(tmp_path).y, np.arange(12) % 3)


def test_missing_labels_file(tmp_path, pair):
    images, labels = pair
    img = write_pair(tmp_path, "t10k", images, labels, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no labels file 't10k-labels-idx1-ubyte"):
        load(img)


def test_count_mismatch(tmp_path, pair):
    images, labels = pair
    write_pair(tmp_path, "t10k", images, labels[:10], gz=False)
    with pytest.raises(DataError, match="holds 12 images but .* holds 10 labels"):
        load(tmp_path)


def test_folder_with_two_sets_or_none(tmp_path, pair):
    images, labels = pair
    write_pair(tmp_path, "t10k", images, labels, gz=True)
    write_pair(tmp_path, "train", images, labels, gz=True)
    with pytest.raises(DataError, match="holds several IDX image sets"):
        load(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no IDX images file"):
        load(empty)


def test_a_labels_file_given_as_images_is_named_so(tmp_path, pair):
    images, labels = pair
    write_pair(tmp_path, "a", images, labels, gz=False)
    given = tmp_path / "a-labels-idx1-ubyte"
    message = r"a-labels-idx1-ubyte: holds a 1-D IDX array of 12 values \(a labels file\?\)"
    with pytest.raises(DataError, match=message):
        load_features(given)
    (tmp_path / "b-images-idx1-ubyte").write_bytes(idx_bytes(labels))  # named as images
    (tmp_path / "b-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    with pytest.raises(DataError, match=r"b-images-idx1-ubyte: holds a 1-D IDX array"):
        load(tmp_path / "b-images-idx1-ubyte")


def test_a_feature_count_mismatch_asks_no_target_question(tmp_path, pair):
    images, labels = pair  # 6 pixels: a model of 5 features must not ask about a target column
    img = write_pair(tmp_path, "a", images, labels, gz=False)
    encoder = FeatureEncoder.numeric([f"x{i}" for i in range(5)])
    for read in (load, load_features):
        with pytest.raises(DataError, match=r"has 6 features but the model expects 5 features$"):
            read(img, encoder_config=encoder)


@pytest.mark.skipif(not MNIST.is_dir(), reason="MNIST t10k folder not present")
def test_real_mnist_t10k():
    ds = load(MNIST)
    assert ds.X.shape == (10000, 784)
    assert ds.X.min() == 0 and ds.X.max() == 255
    assert ds.classes.tolist() == list(range(10))
    by_name = load("mnist-t10k", mnist_dir=MNIST)
    np.testing.assert_array_equal(by_name.y, ds.y)
    assert by_name.source.startswith("mnist-t10k")
