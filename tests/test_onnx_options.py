"""to_onnx's opset and input_name, the graph's metadata, and the paths it refuses."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from cli_helpers import call
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep.onnx_export import ExportError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def pipe():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = np.where(X["a"] > 0, "spam", "ham")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return X, make_pipeline(StandardScaler(), npdeep.DeepClassifier(
            (4,), max_iter=3, random_state=0)).fit(X, y)


@pytest.mark.parametrize("opset", [13, 17, pytest.param(21, marks=pytest.mark.skipif(
    onnx.defs.onnx_opset_version() < 21, reason="the installed onnx's newest opset is below 21"))])
def test_opset_and_input_name(pipe, opset):
    X, model = pipe
    proto = npdeep.to_onnx(model, opset=opset, input_name="input")
    assert [o.version for o in proto.opset_import] == [opset]
    assert [i.name for i in proto.graph.input] == ["input"]
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    label, P = session.run(None, {"input": X.to_numpy()})
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_allclose(P, model.predict_proba(X), atol=1e-6)


def test_metadata_and_producer_version(pipe):
    _, model = pipe
    proto = npdeep.to_onnx(model)
    props = {p.key: p.value for p in proto.metadata_props}
    assert proto.producer_name == "npdeep" and proto.producer_version
    assert props["npdeep_version"] == proto.producer_version
    assert json.loads(props["feature_names"]) == ["a", "b", "c"]
    assert json.loads(props["classes"]) == ["ham", "spam"]
    net_props = {p.key for p in npdeep.to_onnx(npdeep.Network([2, 1])).metadata_props}
    assert net_props == {"npdeep_version"}


@pytest.mark.parametrize(("options", "message"), [
    ({"opset": 12}, r"opset must be an integer from 13 to \d+ \(the installed onnx's newest\), "
                    r"got 12; default 17"),
    ({"opset": "17"}, "opset must be an integer from 13"),
    ({"opset": 10**6}, "opset must be an integer from 13"),
    ({"input_name": ""}, "input_name must be a name of 1-200 characters"),
    ({"input_name": "my input"}, "input_name must be a name of 1-200 characters"),
    ({"input_name": 3}, "input_name must be a name"),
    ({"input_name": "W1"}, "input_name 'W1' is the name of a node or a constant of the graph"),
])
def test_bad_options_are_export_errors(options, message):
    with pytest.raises(ExportError, match=message):
        npdeep.to_onnx(npdeep.Network([2, 3, 1]), **options)


@pytest.mark.parametrize("name", ["model.npz", "model.NPDEEP", "data.csv"])
def test_a_model_file_path_is_refused(tmp_path, name):
    # before: to_onnx(model, "model.npz") overwrote the model file with a graph
    path = tmp_path / name
    path.write_bytes(b"keep")
    with pytest.raises(ExportError, match=r"ends in \.\w+, which names a model file, data or "
                       r"a drawing, but to_onnx writes an ONNX graph; name it \.onnx"):
        npdeep.to_onnx(npdeep.Network([2, 1]), path)
    assert path.read_bytes() == b"keep"


def test_the_command_takes_opset_and_input_name(tmp_path, capsys):
    model = tmp_path / "n.npz"
    npdeep.Network([2, 3, 1], seed=0).save(model)
    code, out, err = call(capsys, "export", model, "--opset", 13, "--input-name", "features")
    assert code == 0, err
    proto = onnx.load(tmp_path / "n.onnx")
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.version for o in proto.opset_import] == [13]
    code, out, err = call(capsys, "export", model, "--opset", 9)
    assert code == 1 and "opset must be an integer from 13" in err
