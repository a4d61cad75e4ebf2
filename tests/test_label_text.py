"""Class labels that numbers would rewrite (``007``, ``7.0`` beside ``7``, ``+1``) are kept as
their text: no two labels merge, and predict writes back exactly the training file's text.
Labels written canonically stay numbers, and model files with numeric classes predict as
before."""

import csv
import io

import numpy as np
import pytest
from cli_helpers import call, call_json

import npdeep
from npdeep import data as npdata
from npdeep.data.dataset import label_text

FAST = ["--units", "16", "--epochs", "150", "--batch-size", "0", "--learning-rate", "0.05",
        "--dropout", "0", "--test-fraction", "0", "-q"]


def _labelled(path, labels, repeat=20):
    """A CSV with feature x = the label's index among the distinct ``labels``, then 'label'."""
    lines = ["x,label"]
    for r in range(repeat):
        for i, label in enumerate(labels):
            lines.append(f"{i + 0.01 * (r % 5)},{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _predictions(text):
    return [row[0] for row in list(csv.reader(io.StringIO(text)))[1:]]


@pytest.mark.parametrize("labels", [["007", "7", "12"], ["7", "7.0", "8"], ["+1", "-1"],
                                    ["01", "02", "03"]])
def test_rewritten_labels_come_back_as_written(tmp_path, capsys, labels):
    path = _labelled(tmp_path / "d.csv", labels)
    model = tmp_path / "m.npz"
    trained = call_json(capsys, "train", path, "-o", model, *FAST)
    assert sorted(trained["data"]["classes"]) == sorted(labels)  # none merged
    assert any("kept as written" in note for note in trained["notes"])
    code, out, err = call(capsys, "predict", model, path)
    assert code == 0, err
    assert _predictions(out) == labels * 20
    assert call_json(capsys, "evaluate", model, path)["accuracy"] == 1.0
    assert npdeep.load_trained(model).classes.tolist() == sorted(labels)


def test_the_data_api_keeps_the_text(tmp_path):
    ds = npdata.load(_labelled(tmp_path / "d.csv", ["007", "7"]))
    assert ds.task == "classification" and ds.y.dtype.kind == "U"
    assert ds.classes.tolist() == ["007", "7"] and ds.y[:2].tolist() == ["007", "7"]


def test_canonical_integer_labels_stay_numbers(tmp_path, capsys):
    path = _labelled(tmp_path / "d.csv", ["7", "-3", "12"])
    ds = npdata.load(path)
    assert ds.y.dtype == np.int64 and ds.classes.tolist() == [-3, 7, 12]
    model = tmp_path / "m.npz"
    trained = call_json(capsys, "train", path, "-o", model, *FAST)
    assert trained["data"]["classes"] == [-3, 7, 12]
    assert not any("kept as written" in note for note in trained["notes"])


def test_a_numeric_model_scores_rewritten_labels_as_their_numbers(tmp_path, capsys):
    """A model with numeric classes (as every file before this change) reads data written
    '007' and '12.0' as the labels 7 and 12, as before."""
    model = tmp_path / "m.npz"
    call_json(capsys, "train", _labelled(tmp_path / "d.csv", ["7", "12"]), "-o", model, *FAST)
    other = _labelled(tmp_path / "other.csv", ["007", "12.0"])
    assert call_json(capsys, "evaluate", model, other)["accuracy"] == 1.0
    code, out, _ = call(capsys, "predict", model, other)
    assert code == 0 and _predictions(out) == ["7", "12"] * 20


def test_a_text_model_scores_canonically_written_data(tmp_path, capsys):
    model = tmp_path / "m.npz"
    call_json(capsys, "train", _labelled(tmp_path / "d.csv", ["007", "7"]), "-o", model, *FAST)
    subset = tmp_path / "subset.csv"
    subset.write_text("x,label\n1,7\n1.02,7\n")  # only '7': read as the number 7
    scores = call_json(capsys, "evaluate", model, subset)
    assert scores["accuracy"] == 1.0 and scores["unseen_labels"] == []


def test_class_weight_names_labels_as_written(tmp_path, capsys):
    path = _labelled(tmp_path / "d.csv", ["007", "7"])
    code, _, err = call(capsys, "train", path, "--class-weight", "007=3", "-o",
                        tmp_path / "m.npz", *FAST)
    assert code == 0, err


def test_regression_targets_are_numbers_whatever_their_writing(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i:03d}\n" for i in range(100)))
    ds = npdata.load(path)
    assert ds.task == "regression" and ds.y[:3].tolist() == [0.0, 1.0, 2.0]
    assert npdata.load(_labelled(tmp_path / "d.csv", ["007", "8"]), task="regression").y.dtype \
        == np.float64


@pytest.mark.parametrize("cells, y, task, expected", [
    (["007", "7"], np.array([7, 7]), None, ["007", "7"]),
    (["7.0", "8"], np.array([7.0, 8.0]), "classification", ["7.0", "8"]),
    (["7", "8"], np.array([7, 8]), None, None),  # canonical: numbers as before
    (["007", "7"], np.array([7, 7]), "regression", None),
    (["1.5", "2"], np.array([1.5, 2.0]), "classification", None),  # not labels: refused later
])
def test_label_text_rule(cells, y, task, expected):
    out = label_text(np.array(cells, dtype=object), y, task)
    if expected is None:
        assert out is y
    else:
        assert out.tolist() == expected and out.dtype.kind == "U"


def test_class_weight_of_a_rewritten_label_is_refused_by_name(tmp_path, capsys):
    path = _labelled(tmp_path / "d.csv", ["007", "7"])
    code, _, err = call(capsys, "train", path, "--class-weight", "7.0=3", "-o",
                        tmp_path / "m.npz", *FAST)
    assert code == 2 and "the data has no class '7.0'; its classes are 007, 7" in err
