"""npdeep.save's options: compress=True deflates the arrays; a keyword that reads as an
option is refused instead of being written into the header; other keywords are metadata."""

import warnings
import zipfile

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep.errors import ConfigurationError, ModelFileError


@pytest.fixture(scope="module")
def models():
    X = np.random.default_rng(0).normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = npdeep.DeepClassifier((30,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
        pipe = make_pipeline(StandardScaler(), npdeep.DeepClassifier(
            (30,), max_iter=2, random_state=0)).fit(X, X[:, 0] > 0)
    return X, {"network": npdeep.Network([3, 30, 1], seed=0), "estimator": clf,
               "pipeline": pipe}


@pytest.mark.parametrize("kind", ["network", "estimator", "pipeline"])
def test_compress_deflates_and_is_not_metadata(models, kind, tmp_path):
    # before: compress=True was written into the header as "compress": true; nothing deflated
    X, objs = models
    obj = objs[kind]
    npdeep.save(obj, tmp_path / "plain.npz")
    npdeep.save(obj, tmp_path / "small.npz", compress=True)
    with zipfile.ZipFile(tmp_path / "small.npz") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    assert "compress" not in npdeep.io.load_model_file(tmp_path / "small.npz")[0]
    assert (tmp_path / "small.npz").stat().st_size < (tmp_path / "plain.npz").stat().st_size
    loaded = npdeep.load(tmp_path / "small.npz")
    if kind == "network":
        np.testing.assert_array_equal(loaded.parameters.flat, obj.parameters.flat)
    else:
        np.testing.assert_array_equal(loaded.predict_proba(X), obj.predict_proba(X))


def test_network_save_takes_compress(models, tmp_path):
    net = models[1]["network"]
    net.save(tmp_path / "n.npz", compress=True, note="kept")
    with zipfile.ZipFile(tmp_path / "n.npz") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    assert npdeep.io.load_model_file(tmp_path / "n.npz")[0]["note"] == "kept"


@pytest.mark.parametrize("key", ["compression", "compresss", "compres", "overwrite",
                                 "max_elements"])
def test_option_like_keywords_are_refused(models, key, tmp_path):
    for obj in models[1].values():
        with pytest.raises(ModelFileError, match=rf"extra header keys \['{key}'\] look like "
                           r"options of the save, which takes only compress=True\|False"):
            npdeep.save(obj, tmp_path / "m.npz", **{key: True})
    assert list(tmp_path.iterdir()) == []


def test_compress_must_be_a_bool(models, tmp_path):
    with pytest.raises(ConfigurationError, match="compress must be True or False, got 'yes'"):
        npdeep.save(models[1]["network"], tmp_path / "m.npz", compress="yes")


def test_metadata_keys_near_compress_are_kept(models, tmp_path):
    npdeep.save(models[1]["network"], tmp_path / "m.npz", compare="v1", note="x", mode="x",
                dtype="f32", zip="02139")  # metadata words, though they read like options
    header = npdeep.io.load_model_file(tmp_path / "m.npz")[0]
    assert (header["compare"], header["note"]) == ("v1", "x")
    assert (header["mode"], header["dtype"], header["zip"]) == ("x", "f32", "02139")
