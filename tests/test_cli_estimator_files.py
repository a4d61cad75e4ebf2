"""`npdeep evaluate`, `predict` and `plot` on scikit-learn estimators and pipelines saved by
npdeep.save, as a user who fitted a pipeline in Python scores a CSV from the shell: the
numbers are the estimator's own (`predict`, `predict_proba`, `score`)."""

import csv
import io
import json
import sys

import numpy as np
import pandas as pd
import pytest
from cli_helpers import call, call_json
from sklearn.datasets import load_diabetes, load_wine
from sklearn.metrics import (
    confusion_matrix,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_fscore_support,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep import DeepClassifier, DeepRegressor

NAMES = {0: "barolo", 1: "grignolino", 2: "barbera"}


def read_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    """A pipeline fitted on a DataFrame with text labels; the table with the target column
    'cultivar' first (columns are matched by name), and the features alone."""
    folder = tmp_path_factory.mktemp("wine")
    data = load_wine(as_frame=True)
    X, y = data.data, data.target.map(NAMES).astype(str)
    pipe = make_pipeline(StandardScaler(), DeepClassifier((16,), max_iter=25, random_state=0,
                                                          early_stopping=True))
    pipe.fit(X, y)
    npdeep.save(pipe, folder / "pipe.npz")
    X.iloc[:, ::-1].assign(cultivar=y).iloc[:, ::-1].to_csv(folder / "wine.csv", index=False)
    X.to_csv(folder / "features.csv", index=False)
    return folder, pipe, X, y


def test_evaluate_a_pipeline_gives_its_own_scores(wine, capsys):
    folder, pipe, X, y = wine
    result = call_json(capsys, "evaluate", folder / "pipe.npz", folder / "wine.csv")
    assert result["task"] == "classification" and result["data"]["target"] == "cultivar"
    assert result["accuracy"] == pytest.approx(pipe.score(X, y), abs=1e-12)
    pred = pipe.predict(X)
    labels = ["barbera", "barolo", "grignolino"]  # classes_: sorted text labels
    assert result["labels"] == labels
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    assert [row["precision"] for row in result["per_class"]] == pytest.approx(p.tolist())
    assert [row["recall"] for row in result["per_class"]] == pytest.approx(r.tolist())
    assert [row["f1"] for row in result["per_class"]] == pytest.approx(f.tolist())
    assert [row["support"] for row in result["per_class"]] == s.tolist()
    assert result["confusion_matrix"] == confusion_matrix(y, pred, labels=labels).tolist()

    code, out, _ = call(capsys, "evaluate", folder / "pipe.npz", folder / "wine.csv")
    assert code == 0
    assert f"accuracy: {pipe.score(X, y):.4f}" in out
    assert "barbera     barolo grignolino" in out  # the labels head the confusion matrix
    assert out.splitlines()[0] == "pipe.npz on wine.csv (CSV, 178 rows, target 'cultivar'): " \
                                  "178 samples"


def test_predict_a_pipeline_writes_its_labels_and_probabilities(wine, tmp_path, capsys):
    folder, pipe, X, _ = wine
    out_csv = tmp_path / "p.csv"
    result = call_json(capsys, "predict", folder / "pipe.npz", folder / "wine.csv",
                       "-o", out_csv)
    columns = ["prediction", "probability_barbera", "probability_barolo",
               "probability_grignolino"]
    assert result["columns"] == columns and result["rows"] == 178
    rows = read_rows(out_csv.read_text())
    assert rows[0] == columns
    assert [r[0] for r in rows[1:]] == pipe.predict(X).tolist()
    proba = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-5, atol=1e-7)
    counts = dict(zip(*np.unique(pipe.predict(X), return_counts=True), strict=True))
    assert result["predicted_counts"] == {str(k): int(v) for k, v in counts.items()}
    # the features alone, to standard output: the same table
    code, out, _ = call(capsys, "predict", folder / "pipe.npz", folder / "features.csv", "-o", "-")
    assert code == 0 and out == out_csv.read_text()


def test_predict_reads_an_estimator_file_from_standard_input(wine, capsys, monkeypatch):
    folder, pipe, X, _ = wine
    data = (folder / "features.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code, out, err = call(capsys, "predict", folder / "pipe.npz", "-")
    assert code == 0, err
    assert [r[0] for r in read_rows(out)[1:]] == pipe.predict(X).tolist()


def test_evaluate_reads_an_estimator_file_from_standard_input(wine, capsys, monkeypatch):
    folder, pipe, X, y = wine
    data = (folder / "wine.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    result = call_json(capsys, "evaluate", folder / "pipe.npz", "-")
    assert result["data"]["target"] == "cultivar"  # found in the copy of standard input
    assert result["accuracy"] == pytest.approx(pipe.score(X, y), abs=1e-12)


def test_plot_an_estimator_draws_its_loss_curve_and_validation_scores(wine, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    folder, pipe, _, _ = wine
    png = tmp_path / "c.png"
    result = call_json(capsys, "plot", folder / "pipe.npz", "-o", png)
    assert result["curves"] == ["cost", "val_accuracy"]
    assert result["epochs"] == len(pipe[-1].loss_curve_) == pipe[-1].n_iter_
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def numeric(tmp_path_factory):
    """A DeepClassifier fitted on a bare array (no names) with integer labels: a CSV whose
    last column is the target, with generic column names."""
    folder = tmp_path_factory.mktemp("numeric")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    est = DeepClassifier((6,), max_iter=30, random_state=0).fit(X, y)
    npdeep.save(est, folder / "est.npz")
    table = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=y)
    table.to_csv(folder / "last.csv", index=False)
    table[["label", "a", "b", "c"]].to_csv(folder / "first.csv", index=False)
    return folder, est, X, y


def test_evaluate_an_estimator_without_names_reads_the_last_column(numeric, capsys):
    folder, est, X, y = numeric
    result = call_json(capsys, "evaluate", folder / "est.npz", folder / "last.csv")
    assert result["data"]["target"] == "label"
    assert result["accuracy"] == pytest.approx(est.score(X, y), abs=1e-12)
    assert result["labels"] == [0, 1, 2]
    again = call_json(capsys, "evaluate", folder / "est.npz", folder / "first.csv",
                      "--target", "label")
    assert again["accuracy"] == result["accuracy"]
    code, _, err = call(capsys, "evaluate", folder / "est.npz", folder / "first.csv")
    assert code == 1 and "Traceback" not in err
    assert "has 3 features besides the target 'c' but the model expects 3" not in err
    assert "first.csv: target 'c' holds non-integer numbers" in err


def test_predict_an_estimator_without_names_wants_its_columns_only(numeric, tmp_path, capsys):
    folder, est, X, _ = numeric
    out_csv = tmp_path / "p.csv"
    code, _, err = call(capsys, "predict", folder / "est.npz", folder / "last.csv",
                        "-o", out_csv)
    assert code == 1 and not out_csv.exists() and "Traceback" not in err
    assert "last.csv: has 4 columns but the model expects 3 features (does the file still " \
           "hold the target column?)" in err
    pd.DataFrame(X, columns=["a", "b", "c"]).to_csv(tmp_path / "x.csv", index=False)
    assert call(capsys, "predict", folder / "est.npz", tmp_path / "x.csv", "-o", out_csv)[0] == 0
    rows = read_rows(out_csv.read_text())
    assert rows[0] == ["prediction", "probability_0", "probability_1", "probability_2"]
    assert [int(r[0]) for r in rows[1:]] == est.predict(X).tolist()


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diabetes")
    data = load_diabetes(as_frame=True)
    pipe = make_pipeline(StandardScaler(), DeepRegressor((16,), max_iter=40, random_state=0))
    pipe.fit(data.data, data.target)
    npdeep.save(pipe, folder / "reg.npz")
    data.frame.to_csv(folder / "diabetes.csv", index=False)
    return folder, pipe, data.data, data.target.to_numpy()


def test_evaluate_and_predict_a_regression_pipeline(diabetes, tmp_path, capsys):
    folder, pipe, X, y = diabetes
    result = call_json(capsys, "evaluate", folder / "reg.npz", folder / "diabetes.csv")
    pred = pipe.predict(X)
    assert result["task"] == "regression" and result["data"]["target"] == "target"
    assert result["r2"] == pytest.approx(pipe.score(X, y), rel=1e-9)
    assert result["mse"] == pytest.approx(mean_squared_error(y, pred), rel=1e-9)
    assert result["mae"] == pytest.approx(mean_absolute_error(y, pred), rel=1e-9)
    code, out, _ = call(capsys, "evaluate", folder / "reg.npz", folder / "diabetes.csv")
    assert code == 0 and f"R^2: {pipe.score(X, y):.4f}" in out
    out_csv = tmp_path / "p.csv"
    assert call(capsys, "predict", folder / "reg.npz", folder / "diabetes.csv",
                "-o", out_csv)[0] == 0
    rows = read_rows(out_csv.read_text())
    assert rows[0] == ["prediction"]
    np.testing.assert_allclose([float(r[0]) for r in rows[1:]], pred, rtol=1e-7)


def test_plot_a_regressor_without_early_stopping_draws_its_loss(diabetes, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    folder, pipe, _, _ = diabetes
    result = call_json(capsys, "plot", folder / "reg.npz", "-o", tmp_path / "c.svg")
    assert result["curves"] == ["cost"] and result["epochs"] == 40


def test_several_regression_targets_from_an_npz(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    Y = np.column_stack([X[:, 0] - X[:, 1], 2 * X[:, 2]])
    est = DeepRegressor((8,), max_iter=20, random_state=0).fit(X, Y)
    npdeep.save(est, tmp_path / "est.npz")
    np.savez(tmp_path / "d.npz", X=X, y=Y)
    result = call_json(capsys, "evaluate", tmp_path / "est.npz", tmp_path / "d.npz")
    assert result["r2"] == pytest.approx(est.score(X, Y), rel=1e-9)
    out_csv = tmp_path / "p.csv"
    assert call_json(capsys, "predict", tmp_path / "est.npz", tmp_path / "d.npz", "-o",
                     out_csv)["columns"] == ["prediction_0", "prediction_1"]
    values = np.array([[float(v) for v in r] for r in read_rows(out_csv.read_text())[1:]])
    np.testing.assert_allclose(values, est.predict(X), rtol=1e-6, atol=1e-7)


def test_a_multilabel_classifier_predicts_a_column_per_label(tmp_path, capsys):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 3))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    est = DeepClassifier((6,), max_iter=20, random_state=0).fit(X, Y)
    npdeep.save(est, tmp_path / "ml.npz")
    np.save(tmp_path / "x.npy", X)
    out_csv = tmp_path / "p.csv"
    assert call(capsys, "predict", tmp_path / "ml.npz", tmp_path / "x.npy", "-o", out_csv)[0] == 0
    rows = read_rows(out_csv.read_text())
    assert rows[0] == ["prediction_0", "prediction_1", "probability_0", "probability_1"]
    got = np.array([[float(v) for v in r] for r in rows[1:]])
    np.testing.assert_array_equal(got[:, :2], est.predict(X))
    np.testing.assert_allclose(got[:, 2:], est.predict_proba(X), rtol=1e-5, atol=1e-7)
    np.savez(tmp_path / "d.npz", X=X, y=Y)
    code, _, err = call(capsys, "evaluate", tmp_path / "ml.npz", tmp_path / "d.npz")
    assert code == 1 and "holds a multi-label classifier; evaluate scores one label per " \
                         "sample" in err


# ------------------------------------------------------------------------------- errors
def test_a_csv_lacking_a_feature_name_is_refused_before_any_output(wine, tmp_path, capsys):
    folder, _, X, y = wine
    X.drop(columns="alcohol").assign(cultivar=y).to_csv(tmp_path / "lacks.csv", index=False)
    out_csv = tmp_path / "p.csv"
    for argv in (["predict", folder / "pipe.npz", tmp_path / "lacks.csv", "-o", out_csv],
                 ["evaluate", folder / "pipe.npz", tmp_path / "lacks.csv"]):
        code, out, err = call(capsys, *argv)
        assert code == 1 and out == "" and "Traceback" not in err
        assert "lacks.csv: lacks 1 of the feature columns the model was trained on: " \
               "'alcohol'" in err
    assert not out_csv.exists()
    info = json.loads(call(capsys, "predict", folder / "pipe.npz", tmp_path / "lacks.csv",
                           "-o", out_csv, "--json")[1])
    assert info["ok"] is False and info["exit_code"] == 1 and "'alcohol'" in info["error"]


def test_a_wrong_feature_count_is_refused(wine, numeric, tmp_path, capsys):
    folder, *_ = numeric
    np.save(tmp_path / "x5.npy", np.ones((4, 5)))
    out_csv = tmp_path / "p.csv"
    code, _, err = call(capsys, "predict", folder / "est.npz", tmp_path / "x5.npy", "-o", out_csv)
    assert code == 1 and not out_csv.exists()
    assert "Error: the data has 5 features but the model expects 3 features" in err
    np.save(tmp_path / "y.npy", np.arange(4) % 3)
    code, _, err = call(capsys, "evaluate", folder / "est.npz", tmp_path / "x5.npy",
                        "--target", tmp_path / "y.npy")
    assert code == 1 and "x5.npy: has 5 features besides the target" in err
    assert "but the model expects 3 features\n" in err
    pd.DataFrame(np.ones((4, 2)), columns=list("ab")).assign(y=1).to_csv(
        tmp_path / "short.csv", index=False)
    code, _, err = call(capsys, "evaluate", folder / "est.npz", tmp_path / "short.csv")
    assert code == 1 and "short.csv: has 2 features besides the target 'y' but the model " \
                         "expects 3 features (does the file hold a target column?" in err
    # fitted with names, none of which the file holds: by position, and the count must fit
    pd.DataFrame(np.ones((4, 3)), columns=list("abc")).assign(y=1).to_csv(
        tmp_path / "generic.csv", index=False)
    code, _, err = call(capsys, "evaluate", wine[0] / "pipe.npz", tmp_path / "generic.csv")
    assert code == 1 and "generic.csv: has 3 feature columns but the model expects 13 " \
                         "features" in err


def test_the_target_of_a_named_pipeline_must_be_one_column(wine, tmp_path, capsys):
    folder, _, X, y = wine
    X.assign(cultivar=y, batch=1).to_csv(tmp_path / "two.csv", index=False)
    code, _, err = call(capsys, "evaluate", folder / "pipe.npz", tmp_path / "two.csv")
    assert code == 1 and "two.csv: has 2 columns that are not features of pipe.npz " \
                         "('cultivar', 'batch'); name the target column with --target" in err
    assert call(capsys, "evaluate", folder / "pipe.npz", tmp_path / "two.csv",
                "--target", "cultivar")[0] == 0
    code, _, err = call(capsys, "evaluate", folder / "pipe.npz", folder / "features.csv")
    assert code == 1 and "features.csv: holds only the feature columns of pipe.npz, no " \
                         "target column to score against" in err


def test_labels_of_another_kind_are_named(wine, tmp_path, capsys):
    folder, _, X, _ = wine
    X.assign(cultivar=np.arange(len(X)) % 3).to_csv(tmp_path / "numbers.csv", index=False)
    code, _, err = call(capsys, "evaluate", folder / "pipe.npz", tmp_path / "numbers.csv")
    assert code == 1 and "label 0 (sample 1) is not of the kind the model was trained on" in err


def test_boolean_classes_read_true_and_false_from_a_csv(numeric, tmp_path, capsys):
    _, _, X, y = numeric
    est = DeepClassifier((6,), max_iter=30, random_state=0).fit(X, y == 0)
    npdeep.save(est, tmp_path / "bool.npz")
    pd.DataFrame(X, columns=list("abc")).assign(t=y == 0).to_csv(tmp_path / "b.csv", index=False)
    assert "True" in (tmp_path / "b.csv").read_text()  # pandas writes the words
    result = call_json(capsys, "evaluate", tmp_path / "bool.npz", tmp_path / "b.csv")
    assert result["labels"] == [False, True]
    assert result["accuracy"] == pytest.approx(est.score(X, y == 0), abs=1e-12)
