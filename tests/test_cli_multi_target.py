"""Several CSV targets (``--target a,b``): multi-target regression and multi-label
classification, end to end (train, predict, evaluate, inspect, export), the data API, and
the refusals of bad input by their message."""

import csv
import io
import json
import re

import numpy as np
import pytest
from cli_helpers import call, call_json

import npdeep
from npdeep import data as npdata
from npdeep.errors import DataError

FAST = ["--units", "16", "--epochs", "60", "--batch-size", "0", "--learning-rate", "0.05",
        "--dropout", "0", "-q"]


def _write(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(f"{v:.17g}" if isinstance(
        v, float) else str(v) for v in row) for row in rows]) + "\n")
    return path


@pytest.fixture
def regression_csv(tmp_path):
    """200 rows: features x1..x3, targets a = 2 x1 - x2 and b = 100 + 30 x3 (other units)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    a = 2 * X[:, 0] - X[:, 1]
    b = 100 + 30 * X[:, 2]
    rows = [(*x, ai, bi) for x, ai, bi in zip(X, a, b, strict=True)]
    return _write(tmp_path / "reg.csv", ["x1", "x2", "x3", "a", "b"], rows)


@pytest.fixture
def multilabel_csv(tmp_path):
    """200 rows: features x1, x2; labels a = [x1 > 0], b = [x2 > 0] as 0/1."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    rows = [(*x, int(x[0] > 0), int(x[1] > 0)) for x in X]
    return _write(tmp_path / "ml.csv", ["x1", "x2", "a", "b"], rows)


def _read(text):
    return list(csv.reader(io.StringIO(text)))


def test_multi_target_regression_end_to_end(regression_csv, tmp_path, capsys):
    model = tmp_path / "m.npz"
    trained = call_json(capsys, "train", regression_csv, "--target", "a,b", "-o", model, *FAST)
    assert trained["data"]["targets"] == ["a", "b"]
    assert set(trained["test"]["r2_per_target"]) == {"a", "b"}
    assert trained["test"]["r2"] == pytest.approx(np.mean(list(
        trained["test"]["r2_per_target"].values())))
    m = npdeep.load_trained(model)
    assert m.header["data"]["targets"] == ["a", "b"]
    assert m.net.units[-1] == 2 and m.net.output_activation.name == "identity"
    assert len(m.header["target_scaling"]["mean"]) == 2  # each target standardized

    code, out, err = call(capsys, "predict", model, regression_csv)
    assert code == 0, err
    rows = _read(out)
    assert rows[0] == ["prediction_a", "prediction_b"]
    values = np.array(rows[1:], dtype=float)
    X = np.loadtxt(regression_csv, delimiter=",", skiprows=1)
    np.testing.assert_allclose(values, m.predict(X[:, :3]), rtol=1e-6)
    assert abs(values[:, 1].mean() - 100) < 10  # in the target's own units

    scores = call_json(capsys, "evaluate", model, regression_csv)
    assert [row["target"] for row in scores["per_target"]] == ["a", "b"]
    assert scores["mse"] == pytest.approx(np.mean([r["mse"] for r in scores["per_target"]]))
    assert scores["r2"] == pytest.approx(np.mean([r["r2"] for r in scores["per_target"]]))
    code, out, _ = call(capsys, "evaluate", model, regression_csv)
    assert code == 0 and "mean" in out and out.count("\n") >= 4

    code, out, _ = call(capsys, "inspect", model)
    assert code == 0 and "target:   a,b (regression)" in out


def test_targets_by_index_are_the_same_columns(regression_csv):
    by_name = npdata.load(regression_csv, "a,b")
    for target in ("-2,-1", "3, 4", ["a", "b"], ["a", -1]):
        ds = npdata.load(regression_csv, target)
        np.testing.assert_array_equal(ds.y, by_name.y)
        assert ds.target_names == ("a", "b") and ds.X.shape == (200, 3)


def test_one_target_keeps_its_shape_and_summary(regression_csv):
    ds = npdata.load(regression_csv, "a")
    assert ds.y.shape == (200,) and ds.target_names == ()
    assert "targets" not in ds.summary()


def test_a_column_named_with_a_comma_is_one_target(tmp_path):
    path = tmp_path / "comma.csv"
    path.write_text('x,"a,b"\n1,2\n2,4\n3,5\n')
    ds = npdata.load(path, "a,b", task="regression")
    assert ds.y.tolist() == [2.0, 4.0, 5.0] and ds.target_name == "a,b"


def test_npz_with_a_2d_target_predicts_one_column_per_output(tmp_path, capsys):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 2))
    y = np.column_stack([X[:, 0] + X[:, 1], 50 + 10 * X[:, 0]])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    model = tmp_path / "m.npz"
    assert call_json(capsys, "train", tmp_path / "d.npz", "-o", model, *FAST)["task"] \
        == "regression"
    code, out, err = call(capsys, "predict", model, tmp_path / "d.npz")
    assert code == 0, err
    assert _read(out)[0] == ["prediction_0", "prediction_1"]
    scores = call_json(capsys, "evaluate", model, tmp_path / "d.npz")
    assert scores["r2"] is not None and "per_target" not in scores


def test_multilabel_end_to_end(multilabel_csv, tmp_path, capsys):
    model = tmp_path / "m.npz"
    trained = call_json(capsys, "train", multilabel_csv, "--target", "a,b", "-o", model,
                        *FAST)
    assert trained["task"] == "multilabel"
    assert trained["test"]["subset_accuracy"] > 0.8
    m = npdeep.load_trained(model)
    assert m.multilabel and m.net.output_activation.name == "sigmoid"
    assert m.net.units[-1] == 2 and m.loss_name == "binary_crossentropy"
    assert m.classes.tolist() == ["a", "b"]

    code, out, err = call(capsys, "predict", model, multilabel_csv)
    assert code == 0, err
    rows = _read(out)
    assert rows[0] == ["prediction_a", "prediction_b", "probability_a", "probability_b"]
    labels = np.array([r[:2] for r in rows[1:]], dtype=int)
    proba = np.array([r[2:] for r in rows[1:]], dtype=float)
    assert set(np.unique(labels)) <= {0, 1}
    np.testing.assert_array_equal(labels, (proba > 0.5).astype(int))
    X = np.loadtxt(multilabel_csv, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(m.predict(X[:, :2]), labels)
    np.testing.assert_allclose(m.predict_proba(X[:, :2]), proba, rtol=1e-5)

    scores = call_json(capsys, "evaluate", model, multilabel_csv)
    assert scores["task"] == "multilabel"
    y = X[:, 2:].astype(int)
    assert scores["subset_accuracy"] == pytest.approx(np.mean(np.all(labels == y, axis=1)))
    assert scores["hamming_loss"] == pytest.approx(np.mean(labels != y))
    assert [r["label"] for r in scores["per_label"]] == ["a", "b"]
    assert scores["per_label"][0]["support"] == int(y[:, 0].sum())
    code, out, _ = call(capsys, "evaluate", model, multilabel_csv)
    assert code == 0 and out.splitlines()[1].startswith("subset accuracy:")

    code, out, _ = call(capsys, "inspect", model)
    assert code == 0 and "target:   a,b (multilabel)" in out


def test_multilabel_export_predicts_as_predict(multilabel_csv, tmp_path, capsys):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = tmp_path / "m.npz"
    call_json(capsys, "train", multilabel_csv, "--target", "a,b", "-o", model, *FAST,
              "--dtype", "float64")
    exported = call_json(capsys, "export", model, "-o", tmp_path / "m.onnx")
    assert exported["outputs"] == ["label", "probabilities"]
    X = np.loadtxt(multilabel_csv, delimiter=",", skiprows=1)[:, :2]
    label, proba = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"X": X})
    m = npdeep.load_trained(model)
    np.testing.assert_array_equal(label, m.predict(X))
    np.testing.assert_allclose(proba, m.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_task_multilabel_and_classification_of_0_1_columns(multilabel_csv):
    for task in (None, "multilabel", "classification"):
        ds = npdata.load(multilabel_csv, "a,b", task=task)
        assert ds.task == "multilabel" and ds.y.dtype == np.int64 and ds.y.shape == (200, 2)
    ds = npdata.load(multilabel_csv, "a,b", task="regression")
    assert ds.task == "regression" and ds.y.dtype == np.float64


def test_npz_of_0_1_columns_is_multilabel(tmp_path):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=(40, 3))
    y[0] = [1, 1, 0]  # not one-hot
    np.savez(tmp_path / "d.npz", X=rng.normal(size=(40, 2)), y=y)
    ds = npdata.load(tmp_path / "d.npz")
    assert ds.task == "multilabel" and ds.classes.tolist() == [0, 1, 2]
    assert npdata.detect_task(y) == "multilabel"
    assert npdata.detect_task(np.ones((10, 2))) == "regression"  # one value: no labels


def test_one_hot_npz_is_still_refused_but_multilabel_on_request(tmp_path):
    y = np.eye(3)[np.arange(30) % 3]
    np.savez(tmp_path / "d.npz", X=np.arange(60.0).reshape(30, 2), y=y)
    with pytest.raises(DataError, match=r"one-hot encoded labels: save the class numbers "
                                        r"instead.*--task multilabel, as independent labels"):
        npdata.load(tmp_path / "d.npz")
    assert npdata.load(tmp_path / "d.npz", task="multilabel").task == "multilabel"


@pytest.mark.parametrize("args, message", [
    (["--target", "a,b", "--drop", "b"], r"cannot drop column 'b': it is one of the targets"),
    (["--target", "a,a"], r"target column 'a' is named twice in the targets \('a', 'a'\)"),
    (["--target", "a,b,x1,x2"],
     r"the 4 target columns are all of its 4 columns, leaving no feature column"),
    (["--target", "a,zz"], r"target column 'zz' not found; the columns are: 'x1', 'x2', 'a', "
                           r"'b'"),
    (["--target", "a,7"], r"target column index 7 is out of range for 4 columns"),
    (["--target", "a,,b"], r"target columns 'a,,b' has an empty name"),
])
def test_bad_targets_are_refused_by_message(multilabel_csv, tmp_path, capsys, args, message):
    code, _, err = call(capsys, "train", multilabel_csv, *args, "-o", tmp_path / "m.npz", "-q")
    assert code == 1
    assert re.search(message, err), err
    assert not (tmp_path / "m.npz").exists()


def test_a_label_column_holding_2_is_refused_for_multilabel(tmp_path, capsys):
    path = _write(tmp_path / "d.csv", ["x", "a", "b"],
                  [(1, 0, 1), (2, 1, 1), (3, 2, 0), (4, 1, 0)])
    code, _, err = call(capsys, "train", path, "--target", "a,b", "--task", "multilabel", "-q",
                        "-o", tmp_path / "m.npz")
    assert code == 1
    assert "d.csv: line 4: multi-label target 'a,b', column 'a', holds 2; each label must be " \
           "0 or 1" in err
    with pytest.raises(DataError, match=r"line 4: multi-label target 'a,b', column 'a', holds 2"):
        npdata.load(path, ["a", "b"], task="classification")


def test_text_in_a_multilabel_column_is_named(tmp_path):
    path = _write(tmp_path / "d.csv", ["x", "a", "b"], [(1, 0, "yes"), (2, 1, "no")])
    with pytest.raises(DataError, match=r"line 2: multi-label target 'a,b', column 'b', holds "
                                        r"'yes'"):
        npdata.load(path, "a,b", task="multilabel")
    with pytest.raises(DataError, match=r"line 2: target 'b' value 'yes' is not a number; "
                                        r"regression needs a numeric target"):
        npdata.load(path, "a,b")


def test_integer_targets_regressed_get_a_note(tmp_path, capsys):
    rows = [(i, i % 3, (i * 7) % 3) for i in range(30)]
    path = _write(tmp_path / "d.csv", ["x", "a", "b"], rows)
    code, _, err = call(capsys, "train", path, "--target", "a,b", "-q", "--epochs", "2",
                        "-o", tmp_path / "m.npz")
    assert code == 0, err
    assert "note: regression of the 2 targets 'a', 'b' as numbers; they hold integers, but " \
           "multi-label needs only 0 and 1 in every column" in err


def test_class_weight_and_softmax_are_refused_for_multilabel(multilabel_csv, tmp_path, capsys):
    code, _, err = call(capsys, "train", multilabel_csv, "--target", "a,b", "--class-weight",
                        "balanced", "-q", "-o", tmp_path / "m.npz")
    assert code == 2 and "is a multi-label task (a 0/1 column per label); drop it" in err
    code, _, err = call(capsys, "train", multilabel_csv, "--target", "a,b",
                        "--output-activation", "softmax", "-q", "-o", tmp_path / "m.npz")
    assert code == 2
    assert "--output-activation softmax: a multi-label target (2 columns of 0 and 1) needs a " \
           "sigmoid unit per label" in err


def test_evaluate_names_a_missing_target_column(regression_csv, tmp_path, capsys):
    model = tmp_path / "m.npz"
    call_json(capsys, "train", regression_csv, "--target", "a,b", "-o", model, *FAST)
    lines = regression_csv.read_text().splitlines()
    other = tmp_path / "other.csv"
    other.write_text("\n".join(",".join(line.split(",")[:4]) for line in lines) + "\n")
    code, _, err = call(capsys, "evaluate", model, other)
    assert code == 1
    assert "has no column 'b', one of the targets ('a', 'b') m.npz was trained on" in err
    code, _, err = call(capsys, "evaluate", model, other, "--target", "a")
    assert code == 1
    assert "the target 'a' holds 1 value per sample but m.npz predicts 2" in err


def _edited(model, tmp_path, edit):
    """A copy of model file ``model`` whose JSON header ``edit`` changed."""
    import zipfile

    out = tmp_path / "edited.npz"
    with zipfile.ZipFile(model) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name.endswith(".json"):
                header = json.loads(content)
                edit(header)
                content = json.dumps(header).encode()
            dst.writestr(name, content)
    return out


def test_hand_edited_multi_target_headers_are_refused(regression_csv, multilabel_csv,
                                                      tmp_path, capsys):
    reg, ml = tmp_path / "reg.npz", tmp_path / "ml.npz"
    call_json(capsys, "train", regression_csv, "--target", "a,b", "-o", reg, *FAST)
    call_json(capsys, "train", multilabel_csv, "--target", "a,b", "-o", ml, *FAST)

    def targets(h):
        h["data"]["targets"] = ["a"]

    def task(h):
        h["task"] = "multilabel"

    code, _, err = call(capsys, "predict", _edited(reg, tmp_path, targets), regression_csv)
    assert code == 1 and "'data.targets' must list 2 names, got ['a']" in err
    code, _, err = call(capsys, "predict", _edited(reg, tmp_path, task), regression_csv)
    assert code == 1
    assert "'task' 'multilabel' needs a sigmoid unit per label (at least 2), the network has " \
           "2 identity unit(s)" in err


def test_a_sigmoid_per_label_has_a_numerical_gradient_witness(rng):
    """The multi-label network: sigmoid units with binary cross-entropy (not changed here,
    witnessed for the shape the command line now trains)."""
    net = npdeep.Network([3, 5, 4], output_activation="sigmoid", dtype="float64", seed=0)
    X = rng.normal(size=(3, 20))
    Y = (rng.random(size=(4, 20)) > 0.5).astype(float)
    assert net.loss.name == "binary_crossentropy"
    assert npdeep.gradient_check(net, X, Y, tolerance=1e-7).passed


def test_a_config_file_lists_the_targets(regression_csv, tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('target = ["a", "b"]\nepochs = 2\nquiet = true\n')
    trained = call_json(capsys, "train", regression_csv, "--config", config, "-o",
                        tmp_path / "m.npz")
    assert trained["data"]["targets"] == ["a", "b"]
    config.write_text("target = [true]\n")
    code, _, err = call(capsys, "train", regression_csv, "--config", config)
    assert code == 2 and "key 'target': expected a list of column names or indices, got " \
                         "[True]" in err
    config.write_text("target = 1.5\n")
    code, _, err = call(capsys, "train", regression_csv, "--config", config)
    assert code == 2 and "key 'target': must be a string, an integer or a list of them, got " \
                         "1.5 (float)" in err


def test_several_targets_of_data_that_is_not_a_csv_are_refused():
    with pytest.raises(DataError, match=r"iris: several target columns are chosen from a CSV "
                                        r"file only, not from builtin data"):
        npdata.load("iris", ["a", "b"])


def test_gradcheck_of_a_multilabel_model_on_its_data(multilabel_csv, tmp_path, capsys):
    model = tmp_path / "m.npz"
    call_json(capsys, "train", multilabel_csv, "--target", "a,b", "-o", model, *FAST)
    code, out, err = call(capsys, "gradcheck", model, "--data", multilabel_csv)
    assert code == 0, err
    assert "PASSED" in out


def test_multilabel_of_one_column_is_refused(multilabel_csv):
    with pytest.raises(DataError, match=r"target 'a' has shape \(200,\); multi-label needs one "
                                        r"column of 0s and 1s per label, at least 2"):
        npdata.load(multilabel_csv, "a", task="multilabel")


@pytest.mark.parametrize("kind", ["regression", "multilabel"])
def test_evaluate_matches_reordered_targets_to_the_models_outputs(
        regression_csv, multilabel_csv, tmp_path, capsys, kind):
    # --target b,a scored each column against the other's output, under the other's name
    # (R^2 -5.33 and -1.47 instead of 0.74 and 0.73; subset accuracy 0.40 instead of 0.93)
    data = regression_csv if kind == "regression" else multilabel_csv
    model = tmp_path / "m.npz"
    call_json(capsys, "train", data, "--target", "a,b", "-o", model, *FAST)
    plain = call_json(capsys, "evaluate", model, data)
    swapped = call_json(capsys, "evaluate", model, data, "--target", "b,a")
    key = "per_target" if kind == "regression" else "per_label"
    assert swapped[key] == plain[key]
    first = "r2" if kind == "regression" else "subset_accuracy"
    assert swapped[first] == plain[first]
    if kind == "regression":  # other columns: named with the output each was scored against
        other = call_json(capsys, "evaluate", model, data, "--target", "x1,b")
        assert [r["target"] for r in other["per_target"]] == ["x1 (as a)", "b"]


def test_the_export_of_several_targets_names_its_prediction_columns(regression_csv, tmp_path,
                                                                   capsys):
    # the metadata held feature_names only: which column of predictions (N, 2) was which?
    onnx = pytest.importorskip("onnx")
    model = tmp_path / "m.npz"
    call_json(capsys, "train", regression_csv, "--target", "b,a", "-o", model, *FAST)
    call_json(capsys, "export", model, "-o", tmp_path / "m.onnx")
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert json.loads(props["target_names"]) == ["b", "a"]
