"""``npdeep export``: a model file as an ONNX graph that predicts as ``npdeep predict`` does
(checked against onnxruntime; skipped where onnx or onnxruntime is missing)."""

import numpy as np
import pytest
from cli_helpers import call, call_json
from sklearn.datasets import load_diabetes, load_wine

import npdeep
from npdeep.cli._common import load_model

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

FAST = ["--units", "8", "--epochs", "3", "--batch-size", "16", "-q", "--optimizer", "adam",
        "--learning-rate", "0.01", "--schedule", "constant"]


def _run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dtype = np.float32 if session.get_inputs()[0].type == "tensor(float)" else np.float64
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X.astype(dtype)}), strict=True))


def _csv(tmp_path, frame, name):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("labels", [{0: "barolo", 1: "grignolino", 2: "barbera"},
                                    {0: "red", 1: "red", 2: "white"}])
def test_a_trained_classifier_exports_with_its_scaling_and_classes(tmp_path, capsys, labels):
    # before: no export command; npdeep.load + to_onnx gave a graph without the stored
    # feature scaling and with class indices, so its labels were not npdeep predict's
    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map(labels)
    data, model = _csv(tmp_path, frame, "wine.csv"), tmp_path / "wine.npz"
    call_json(capsys, "train", data, *FAST, "-o", model)
    result = call_json(capsys, "export", model)
    assert result == {"ok": True, "output": str(tmp_path / "wine.onnx"),
                      "outputs": ["label", "probabilities"]}
    X = frame.drop(columns="target").to_numpy()
    out = _run(tmp_path / "wine.onnx", X)
    expected, P = load_model(model).predict_rows(X)
    np.testing.assert_array_equal(out["label"], expected)
    np.testing.assert_allclose(out["probabilities"], P, atol=1e-5)


def test_a_trained_regressor_exports_in_the_targets_units(tmp_path, capsys):
    frame = load_diabetes(as_frame=True, scaled=False).frame
    data, model = _csv(tmp_path, frame, "diabetes.csv"), tmp_path / "d.npz"
    call_json(capsys, "train", data, *FAST, "-o", model)
    call_json(capsys, "export", model, "-o", tmp_path / "d64.onnx", "--dtype", "float64")
    X = frame.drop(columns="target").to_numpy()
    out = _run(tmp_path / "d64.onnx", X)
    expected, _ = load_model(model).predict_rows(X)
    np.testing.assert_allclose(out["predictions"], expected, rtol=1e-6)
    assert expected.std() > 1  # in the target's units (tens), not standardized ones


def test_an_estimator_file_exports_and_text_columns_are_refused(tmp_path, capsys):
    X, y = load_wine(return_X_y=True)
    clf = npdeep.DeepClassifier((8,), max_iter=2, random_state=0)
    with pytest.warns(UserWarning):  # unscaled wine: the warning says so
        clf.fit(X, y)
    npdeep.save(clf, tmp_path / "clf.npz")
    call_json(capsys, "export", tmp_path / "clf.npz", "-o", tmp_path / "clf.onnx")
    np.testing.assert_array_equal(_run(tmp_path / "clf.onnx", X)["label"], clf.predict(X))

    rng = np.random.default_rng(0)
    lines = ["x,colour,y"] + [f"{rng.normal():.3f},{c},{i % 2}"
                              for i, c in enumerate(rng.choice(["red", "blue"], 40))]
    (tmp_path / "mixed.csv").write_text("\n".join(lines) + "\n")
    call_json(capsys, "train", tmp_path / "mixed.csv", "--categorical", "onehot", *FAST,
              "-o", tmp_path / "mixed.npz")
    code, _, err = call(capsys, "export", tmp_path / "mixed.npz")
    assert code == 1 and "trained on a CSV with text (categorical) columns" in err
    assert not (tmp_path / "mixed.onnx").exists()


@pytest.mark.parametrize("labels", [{0: "a", 1: "a", 2: "b"}, {0: "a", 1: "b", 2: "c"}])
def test_a_classifier_with_score_outputs_exports_its_labels_only(tmp_path, capsys, labels):
    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map(labels)
    data, model = _csv(tmp_path, frame, "wine.csv"), tmp_path / "w.npz"
    call_json(capsys, "train", data, *FAST, "--output-activation", "identity", "--loss",
              "mean_squared_error", "-o", model)
    assert call_json(capsys, "export", model)["outputs"] == ["label"]
    X = frame.drop(columns="target").to_numpy()
    expected, _ = load_model(model).predict_rows(X)
    np.testing.assert_array_equal(_run(tmp_path / "w.onnx", X)["label"], expected)


def test_without_onnx_the_command_gives_the_install_hint(tmp_path, capsys, monkeypatch):
    npdeep.Network([3, 2, 1], seed=0).save(tmp_path / "n.npz")
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    code, _, err = call(capsys, "export", tmp_path / "n.npz")
    assert code == 1 and "pip install 'npdeep[onnx]'" in err and "Traceback" not in err
    assert not (tmp_path / "n.onnx").exists()


def test_an_output_named_like_a_model_or_data_is_refused(tmp_path, capsys):
    npdeep.Network([3, 2, 1], seed=0).save(tmp_path / "n.npz")
    other = tmp_path / "other.npz"
    other.write_bytes(b"a model of yours")
    code, _, err = call(capsys, "export", tmp_path / "n.npz", "-o", other)
    assert code == 1 and "ends in .npz, which names a model file" in err
    assert other.read_bytes() == b"a model of yours"


def _timestamps(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    ts = 1.7e9 + rng.uniform(0, 9e4, 200)
    frame = pd.DataFrame({"ts": ts, "x": rng.normal(size=200)})
    frame["label"] = np.where((ts - 1.7e9) / 9e4 + frame["x"] > 0.5, "a", "b")
    return frame


def test_a_float32_export_of_offset_features_notes_the_rounding(tmp_path, capsys):
    # before: the float32 graph rounded timestamps (~1.7e9) before its scaling, silently,
    # and disagreed with npdeep predict (probabilities 3e-3 apart)
    frame = _timestamps(tmp_path)
    data, model = _csv(tmp_path, frame, "ts.csv"), tmp_path / "ts.npz"
    call_json(capsys, "train", data, *FAST, "--dtype", "float32", "-o", model)
    code, out, err = call(capsys, "export", model, "-o", tmp_path / "ts.onnx")
    assert code == 0, err
    assert "note: a float32 graph rounds its input X before the feature scaling, and " \
           "column(s) 0 ('ts') have a mean far above their spread" in err
    assert "npdeep export --dtype float64" in err
    code, out, err = call(capsys, "export", model, "-o", tmp_path / "ts64.onnx", "--dtype",
                          "float64")
    assert code == 0 and "note" not in err
    X = frame.drop(columns="label").to_numpy()
    expected, P = load_model(model).predict_rows(X)
    np.testing.assert_allclose(_run(tmp_path / "ts64.onnx", X)["probabilities"], P,
                               atol=1e-5)


def test_to_onnx_warns_for_a_pipeline_scaling_offset_features(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = _timestamps(tmp_path)
    with pytest.warns(UserWarning):  # the estimator's convergence and scaling warnings
        pipe = make_pipeline(StandardScaler(), npdeep.DeepClassifier(
            (4,), max_iter=3, dtype="float32", random_state=0)).fit(
            frame[["ts", "x"]], frame["label"])
    with pytest.warns(UserWarning, match=r"A float32 graph rounds its input X .* column\(s\) "
                      r"0 \('ts'\) .*dtype='float64'"):
        npdeep.to_onnx(pipe)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = make_pipeline(StandardScaler(), npdeep.DeepClassifier(
            (4,), max_iter=3, dtype="float32", random_state=0)).fit(frame[["x"]],
                                                                     frame["label"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        npdeep.to_onnx(pipe, dtype="float64")
        npdeep.to_onnx(plain)  # no offset: no warning
