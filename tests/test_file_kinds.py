"""Files that are not what they claim: a pipeline with malformed options, an estimator whose
kind was removed, an ONNX graph given where a model file is read."""

import warnings

import numpy as np
import pytest
from cli_helpers import call
from file_helpers import edit_header
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep.errors import ModelFileError


@pytest.fixture(scope="module")
def fitted():
    X = np.random.default_rng(0).normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = npdeep.DeepClassifier((4,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
    return X, clf


def test_pipeline_options_that_are_not_an_object(tmp_path, fitted):
    # before: AttributeError: 'str' object has no attribute 'get'
    X, clf = fitted
    npdeep.save(make_pipeline(StandardScaler().fit(X), clf), tmp_path / "p.npz")
    edit_header(tmp_path / "p.npz", tmp_path / "bad.npz", lambda h: h.update(pipeline="zz"))
    with pytest.raises(ModelFileError, match=r"bad.npz'?: pipeline options must be a JSON "
                       r"object with memory and verbose, got 'zz'"):
        npdeep.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("kind", ["estimator", "pipeline"])
def test_an_estimator_file_without_kind_is_refused(tmp_path, fitted, kind, capsys):
    # before: it loaded silently as the bare network (header.get("kind", "network"))
    X, clf = fitted
    obj = clf if kind == "estimator" else make_pipeline(StandardScaler().fit(X), clf)
    npdeep.save(obj, tmp_path / "e.npz")
    edit_header(tmp_path / "e.npz", tmp_path / "nokind.npz", lambda h: h.pop("kind"))
    message = r"header.json has no 'kind', but its keys \[.*\] are those of a scikit-learn " \
              r"estimator or pipeline file; the file is damaged"
    for load in (npdeep.load, npdeep.load_trained, npdeep.Network.load):
        with pytest.raises(ModelFileError, match=message):
            load(tmp_path / "nokind.npz")
    for command in ("inspect", "predict"):
        args = [tmp_path / "nokind.npz"] + ([] if command == "inspect" else [tmp_path / "x"])
        code, _, err = call(capsys, command, *args)
        assert code == 1 and "has no 'kind'" in err


def test_a_network_file_without_kind_still_loads(tmp_path):
    npdeep.Network([2, 3, 1], seed=0).save(tmp_path / "n.npz")
    edit_header(tmp_path / "n.npz", tmp_path / "old.npz", lambda h: h.pop("kind"))
    assert npdeep.load(tmp_path / "old.npz").units == [2, 3, 1]


@pytest.mark.parametrize("name", ["model.onnx", "graph.bin"])
def test_an_onnx_graph_is_named_as_such(tmp_path, capsys, name):
    pytest.importorskip("onnx")
    path = tmp_path / name
    proto = npdeep.to_onnx(npdeep.Network([2, 1]))
    path.write_bytes(proto.SerializeToString())
    message = "not an npdeep model file: it looks like an ONNX graph"
    with pytest.raises(ModelFileError, match=message + r".*npdeep reads its own model files"):
        npdeep.load(path)
    for command in ("inspect", "predict"):
        args = [path] + ([] if command == "inspect" else [tmp_path / "x.csv"])
        code, _, err = call(capsys, command, *args)
        assert code == 1 and message in err
