"""Source dispatch, built-in names, model files given as data, prediction loading, streaming."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_wine

from npdeep.data import (
    BUILTIN_NAMES,
    Dataset,
    detect_task,
    iter_csv_chunks,
    load,
    load_features,
    sniff,
)
from npdeep.errors import DataError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def wine_csv(tmp_path):
    bunch = load_wine()
    lines = [",".join([*bunch.feature_names, "cultivar"])]
    lines += [
        ",".join([*(repr(float(v)) for v in r), str(t)])
        for r, t in zip(bunch.data, bunch.target, strict=True)
    ]
    return write(tmp_path, "\n".join(lines) + "\n", "wine.csv"), bunch


@pytest.mark.parametrize(
    ("name", "shape", "task", "n_classes"),
    [
        ("digits", (1797, 64), "classification", 10),
        ("breast_cancer", (569, 30), "classification", 2),
        ("wine", (178, 13), "classification", 3),
        ("iris", (150, 4), "classification", 3),
        ("diabetes", (442, 10), "regression", None),
    ],
)
def test_builtin_sklearn_sets(name, shape, task, n_classes):
    ds = load(name)
    assert isinstance(ds, Dataset)
    assert ds.X.shape == shape and ds.X.dtype == np.float64
    assert ds.task == task
    assert (ds.classes is None) if n_classes is None else len(ds.classes) == n_classes
    assert len(ds.feature_names) == shape[1]
    assert name in ds.source
    json.dumps(ds.summary())


def test_builtin_names_listed():
    assert set(BUILTIN_NAMES) == {
        "digits",
        "breast_cancer",
        "wine",
        "iris",
        "diabetes",
        "mnist-t10k",
    }


def test_mnist_missing_folder(tmp_path):
    with pytest.raises(
        DataError, match=r"mnist-t10k: no 't10k-images-idx3-ubyte\[\.gz\]' found in"
    ):
        load("mnist-t10k", mnist_dir=tmp_path)


def test_missing_file_and_near_name(tmp_path):
    with pytest.raises(DataError, match=r"no such file or folder, and not a built-in data set"):
        load(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"did you mean the built-in 'digits'\?"):
        load("digit")


def test_an_empty_name_is_not_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Path("") is ".": it would be searched for IDX files
    for read in (sniff, load, load_features):
        with pytest.raises(DataError, match=r"the data source '' is an empty name; give a file"):
            read("")


def test_options_that_do_not_fit_are_refused_for_every_source(tmp_path):
    with pytest.raises(DataError, match=r"categorical must be 'reject' or 'onehot', got 'yes'"):
        load("iris", categorical="yes")
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(DataError, match=r"feature_names must be a list of column names, got 'ab'"):
        load_features(path, feature_names="ab")  # not the columns 'a' and 'b'
    with pytest.raises(DataError, match=r"feature_names must be a list"):
        list(iter_csv_chunks(path, 10, feature_names="ab"))


def test_an_empty_npy_target_is_not_the_current_folder(tmp_path):
    np.save(tmp_path / "X.npy", np.ones((3, 2)))
    with pytest.raises(DataError, match=r"X\.npy: the target file '' is an empty name"):
        load(tmp_path / "X.npy", target="")


def test_sniff_kinds(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    np.savez(tmp_path / "b.npz", X=np.zeros((2, 2)))
    assert sniff(tmp_path / "a.npy") == "npy"
    assert sniff(tmp_path / "b.npz") == "npz"
    assert sniff(write(tmp_path, "a,b\n1,2\n")) == "csv"
    assert sniff("iris") == "builtin"
    # Recognised by content, not by name.
    (tmp_path / "a.npy").rename(tmp_path / "renamed.csv")
    assert sniff(tmp_path / "renamed.csv") == "npy"


def _fake_model(path):
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 2)))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.json", json.dumps({"format": "npdeep"}))
        zf.writestr("W1.npy", buf.getvalue())
    return path


@pytest.mark.parametrize("name", ["model.npdeep", "model.npz", "model.csv", "model.zip"])
def test_model_file_given_as_data(tmp_path, name):
    path = _fake_model(tmp_path / name)
    with pytest.raises(DataError, match="looks like a model file, not data"):
        load(path)
    with pytest.raises(DataError, match="looks like a model file, not data"):
        load_features(path)


def test_real_model_file_given_as_data(tmp_path):
    io_module = pytest.importorskip("npdeep.io")
    path = io_module.save_model_file(
        tmp_path / "m.npdeep", {"layers": [2, 1]}, {"W1": np.ones((1, 2))}
    )
    with pytest.raises(DataError, match="looks like a model file, not data"):
        load(path)


def test_other_zip_is_not_data(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(DataError, match=r"is a zip archive holding notes.txt, not data"):
        load(path)


def test_empty_binary_file(tmp_path):
    path = tmp_path / "e.npz"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="the file is empty"):
        load(path)


def test_load_features_csv_by_name_ignores_target(wine_csv, tmp_path):
    path, bunch = wine_csv
    train = load(path)
    feats = load_features(path, encoder_config=train.encoder.to_config())
    np.testing.assert_array_equal(feats.X, bunch.data)
    assert feats.y is None and feats.feature_names == train.feature_names
    # Without the target column and with the columns shuffled, still by name.
    cols = list(reversed(bunch.feature_names))
    lines = [",".join(cols)] + [",".join(repr(float(v)) for v in r[::-1]) for r in bunch.data]
    shuffled = write(tmp_path, "\n".join(lines), "shuffled.csv")
    np.testing.assert_array_equal(
        load_features(shuffled, feature_names=train.feature_names).X, bunch.data
    )


def test_load_features_csv_positional_and_count(tmp_path):
    path = write(tmp_path, "p,q\n1,2\n3,4\n")
    feats = load_features(path, feature_names=["a", "b"])
    np.testing.assert_array_equal(feats.X, [[1, 2], [3, 4]])
    with pytest.raises(DataError, match="has 2 feature columns but the model expects 3 features"):
        load_features(path, feature_names=["a", "b", "c"])
    with pytest.raises(
        DataError, match=r"expects 1 features \(does the file still hold the target column\?\)"
    ):
        load_features(path, feature_names=["a"])


def test_load_features_csv_with_some_names_is_refused(tmp_path):
    """Two of three names match: by position 'c' would silently be read as 'b'."""
    path = write(tmp_path, "a,c,x\n1,2,3\n", "partial.csv")
    with pytest.raises(DataError, match=r"lacks 1 of the feature columns the model was trained "
                                        r"on: 'b' \(the file has 'a', 'c', 'x'\)"):
        load_features(path, feature_names=["a", "b", "c"])


def test_load_features_builtin_and_npz(tmp_path):
    assert load_features("iris").X.shape == (150, 4)
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 4)))
    feats = load_features(path, feature_names=["a", "b", "c", "d"])
    assert feats.y is None and feats.X.shape == (3, 4)
    with pytest.raises(
        DataError, match=r"has 4 features but the model expects 3 features \(does it still"
    ):
        load_features(path, feature_names=["a", "b", "c"])


def test_iter_csv_chunks_matches_full_load(wine_csv):
    path, bunch = wine_csv
    train = load(path)
    chunks = list(iter_csv_chunks(path, 50, encoder_config=train.encoder.to_config()))
    assert [len(c) for c in chunks] == [50, 50, 50, 28]
    np.testing.assert_array_equal(np.vstack(chunks), bunch.data)


def test_iter_csv_chunks_errors(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,x\n")
    chunks = iter_csv_chunks(path, 1)
    np.testing.assert_array_equal(next(chunks), [[1, 2]])
    with pytest.raises(
        DataError, match=r"line 3, column 'b': empty cell|line 3, column 'b': 'x' is not a number"
    ):
        next(chunks)
    with pytest.raises(DataError, match="chunk_rows must be a positive integer, got 0"):
        next(iter_csv_chunks(path, 0))
    with pytest.raises(DataError, match="has a header on line 1 but no data rows"):
        list(iter_csv_chunks(write(tmp_path, "a,b\n", "h.csv"), 5))
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    with pytest.raises(DataError, match="streaming in chunks needs a CSV file"):
        next(iter_csv_chunks(tmp_path / "a.npy", 5))


def test_iter_csv_chunks_bounded_memory(tmp_path):
    """A 20,000-row file streamed 1,000 rows at a time never holds more than one chunk."""
    rows = "\n".join(f"{i},{i % 7},{i * 0.5}" for i in range(20000))
    path = write(tmp_path, "a,b,c\n" + rows + "\n", "big.csv")
    sizes = [len(c) for c in iter_csv_chunks(path, 1000, feature_names=["a", "b", "c"])]
    assert sizes == [1000] * 20


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.array(["a", "b"] * 5), "classification"),
        (np.array([True, False] * 5), "classification"),
        (np.arange(100) % 10, "classification"),
        (np.arange(1000) % 50, "classification"),
        (np.arange(200) % 30, "regression"),  # 30 distinct > max(10, 5% of 200)
        (np.arange(1000) % 51, "regression"),
        (np.linspace(0, 1, 20), "regression"),
        (np.ones((10, 2)), "regression"),
        (np.array([0.0, 1.0] * 5), "classification"),
    ],
)
def test_detect_task(y, task):
    assert detect_task(y) == task


def test_target_for_builtin_must_be_its_own():
    assert load("iris", target="target").target_name == "target"
    with pytest.raises(
        DataError, match=r"target 'species' does not apply; this data set's target is 'target'"
    ):
        load("iris", target="species")


def test_builtin_task_override():
    ds = load("iris", task="regression")
    assert ds.task == "regression" and ds.y.dtype == np.float64 and ds.classes is None


def test_dataset_config_round_trips_through_json(tmp_path):
    path = write(tmp_path, "color,size,y\nred,1,no\nblue,2,yes\nred,3,yes\n")
    ds = load(path, categorical="onehot")
    config = json.loads(json.dumps(ds.to_config()))
    assert config["classes"] == ["no", "yes"] and config["task"] == "classification"
    assert config["feature_names"] == ["color=blue", "color=red", "size"]
    new = write(tmp_path, "size,color\n5,blue\n", "new.csv")
    feats = load_features(new, encoder_config=config["encoder"])
    np.testing.assert_array_equal(feats.X, [[1, 0, 5]])
