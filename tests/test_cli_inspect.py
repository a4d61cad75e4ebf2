"""`npdeep inspect` on every kind of model file: a checkpoint's training state in words, and
scikit-learn estimators and pipelines saved by npdeep.save (steps, parameters, network)."""

import json
import warnings

import numpy as np
import pytest
from cli_helpers import call
from file_helpers import edit_header
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep import DeepClassifier, DeepRegressor
from npdeep.cli import run
from npdeep.monitors import ModelCheckpoint


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _fitted(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(4, 60)), np.eye(3)[rng.integers(0, 3, 60)].T  # (n_x, m), (n_L, m)
    net = npdeep.Network([4, 5, 3], output_activation="softmax", seed=0)
    net.fit(X, Y, epochs=3, optimizer="adam", schedule={"name": "step", "step_size": 2},
            batch_size=16, callbacks=[ModelCheckpoint(path)])
    return path


def test_a_checkpoint_shows_its_rng_state_in_one_line_not_the_blob(checkpoint, capsys):
    code, out, err = call(capsys, "inspect", checkpoint)
    assert code == 0, err
    assert "RNG state: saved (PCG64)" in out
    assert "rng_state" not in out and '"inc"' not in out  # the state itself is not printed
    assert "checkpoint (npdeep.checkpoint.resume goes on from here" in out
    assert "  epochs completed: 3" in out
    assert "  optimizer: adam (" in out and "steps taken; state buffers: m, v" in out
    assert "  schedule: step (step_size 2" in out
    options = out.split("training options (fit's settings):\n")[1].split("\n\n")[0]
    assert "  batch_size: 16" in options and "  epochs: 3" in options
    assert all(len(line) < 120 for line in out.splitlines())


def test_a_checkpoint_in_json_keeps_the_state_as_fields(checkpoint, capsys):
    code, out, _ = call(capsys, "inspect", checkpoint, "--json")
    info = json.loads(out)
    assert code == 0 and info["kind"] == "checkpoint"
    assert info["training"]["batch_size"] == 16  # the options, as for a `train` model
    ck = info["checkpoint"]
    assert ck["epoch"] == 3 and ck["optimizer"]["name"] == "adam"
    assert ck["optimizer"]["t"] == 12  # 3 epochs of ceil(60 / 16) = 4 steps
    assert ck["optimizer_state"] == ["m", "v"]
    assert ck["rng"]["saved"] is True and ck["rng"]["bit_generator"] == "PCG64"
    assert set(ck["rng"]["state"]) >= {"bit_generator", "state"}  # parsed, not a string


def test_a_checkpoint_shows_its_early_stopping_state(tmp_path, capsys):
    from npdeep.callbacks import EarlyStopping

    path = tmp_path / "es.npz"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 60))
    es = EarlyStopping(monitor="cost", patience=4)
    npdeep.Network([4, 5, 1], seed=0).fit(X, X[0] > 0, epochs=3, batch_size=16,
                                          callbacks=[ModelCheckpoint(path), es])
    code, out, err = call(capsys, "inspect", path)
    assert code == 0, err
    assert (f"  EarlyStopping: cost (min), best {es.best:.6g} at epoch 3, 0 epochs without "
            "improvement of patience 4") in out
    code, out, _ = call(capsys, "inspect", path, "--json")
    [state] = json.loads(out)["checkpoint"]["early_stopping"]
    assert state["best_epoch"] == 2 and state["wait"] == 0 and state["patience"] == 4


def test_a_checkpoint_shows_its_best_only_model_checkpoint_state(tmp_path, capsys,
                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ck.npz"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 60))
    best = ModelCheckpoint("best.npz", save_best_only=True, monitor="cost")
    npdeep.Network([4, 5, 1], seed=0).fit(X, X[0] > 0, epochs=3, batch_size=16,
                                          callbacks=[ModelCheckpoint(path), best])
    code, out, err = call(capsys, "inspect", path)
    assert code == 0, err
    assert (f"  ModelCheckpoint: best.npz (best only), cost (min), best "
            f"{best.tracker.best:.6g} at epoch {best.tracker.best_epoch + 1}, "
            "last saved best.npz") in out
    code, out, _ = call(capsys, "inspect", path, "--json")
    [state] = json.loads(out)["checkpoint"]["model_checkpoint"]
    assert state == {"path": "best.npz", "monitor": "cost", "mode": "min",
                     "best": best.tracker.best, "best_epoch": best.tracker.best_epoch,
                     "used": "cost", "last_saved": "best.npz"}


def test_a_train_model_is_not_taken_for_a_checkpoint(tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert run(["train", "iris", "--units", "4", "--epochs", "2", "-q", "-o", str(model)]) == 0
    capsys.readouterr()
    code, out, _ = call(capsys, "inspect", model)
    assert code == 0 and "training options:\n" in out
    assert "checkpoint" not in out and "RNG state" not in out
    info = json.loads(call(capsys, "inspect", model, "--json")[1])
    assert info["kind"] == "network" and "checkpoint" not in info
    assert info["training"]["epochs"] == 2


def test_a_pipeline_file_shows_its_steps_and_the_network(iris, tmp_path, capsys):
    X, y = iris
    pipe = _fitted(Pipeline([("scale", StandardScaler()), ("skip", "passthrough"),
                             ("net", DeepClassifier((8,), max_iter=5, random_state=0))]), X, y)
    path = tmp_path / "pipe.npz"
    npdeep.save(pipe, path)
    code, out, err = call(capsys, "inspect", path)
    assert code == 0, err
    assert "a scikit-learn Pipeline saved by npdeep.save" in out
    assert "  1. scale  StandardScaler(): 4 features, fitted on 150 samples" in out
    assert "  2. skip   passthrough" in out
    assert "  3. net    DeepClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)" in out
    assert "units [4, 8, 3]" in out and "W[l] (n[l], n[l-1])" in out  # the network's summary
    assert "task: classification, 3 classes: 0, 1, 2" in out
    assert "output activation: softmax" in out and "iterations: 5" in out
    loss = pipe[-1].loss_curve_
    assert f"loss: first {loss[0]:.4f}, last {loss[-1]:.4f}" in out


def test_a_pipeline_file_in_json(iris, tmp_path, capsys):
    X, y = iris
    names = [f"f{i}" for i in range(4)]
    import pandas as pd

    frame = pd.DataFrame(X, columns=names)
    pipe = _fitted(Pipeline([("scale", StandardScaler()),
                             ("net", DeepRegressor((6,), max_iter=4, random_state=0))]),
                   frame, y.astype(float))
    path = tmp_path / "reg.npz"
    npdeep.save(pipe, path)
    code, out, _ = call(capsys, "inspect", path)
    assert "  1. scale  StandardScaler(): 4 features (f0, f1, f2, f3), fitted on 150" in out
    code, out, _ = call(capsys, "inspect", path, "--json")
    info = json.loads(out)
    assert code == 0 and info["ok"] is True and info["kind"] == "pipeline"
    assert [s["name"] for s in info["steps"]] == ["scale", "net"]
    assert info["steps"][0]["params"] == {"copy": True, "with_mean": True, "with_std": True}
    assert info["steps"][0]["n_samples_seen"] == 150
    assert info["steps"][1]["type"] == "DeepRegressor"
    assert info["task"] == "regression" and info["architecture"]["units"] == [4, 6, 1]
    assert info["parameters"] == 6 * 5 + 7
    est = info["estimator"]
    assert est["estimator"] == "DeepRegressor" and est["params"]["max_iter"] == 4
    assert info["steps"][0]["feature_names"] == names  # the scaler saw the column names
    assert est["feature_names"] is None and est["classes"] is None
    assert est["n_iter"] == 4 and est["out_activation"] == "identity"
    assert est["history"]["cost"]["first"] == pytest.approx(pipe[-1].loss_curve_[0])


def test_an_estimator_file_shows_its_parameters_and_the_network(iris, tmp_path, capsys):
    X, y = iris
    path = tmp_path / "est.npz"
    npdeep.save(_fitted(DeepClassifier((8,), max_iter=3, random_state=1), X, y == 0), path)
    code, out, _ = call(capsys, "inspect", path)
    assert code == 0
    assert "a scikit-learn DeepClassifier saved by npdeep.save" in out
    assert "DeepClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=1)" in out
    assert "task: classification, 2 classes: False, True" in out
    assert "output activation: logistic" in out and "units [4, 8, 1]" in out
    info = json.loads(call(capsys, "inspect", path, "--json")[1])
    assert info["kind"] == "estimator" and "steps" not in info
    assert info["estimator"]["classes"] == [False, True]


def test_a_broken_pipeline_file_is_one_line(iris, tmp_path, capsys):
    from npdeep.io import load_model_file, save_model_file

    X, y = iris
    path = tmp_path / "pipe.npz"
    npdeep.save(_fitted(Pipeline([("scale", StandardScaler()),
                                  ("net", DeepClassifier((4,), max_iter=2))]), X, y), path)
    header, arrays = load_model_file(path)
    for key in ("format", "arrays", "format_version", "npdeep_version"):
        header.pop(key)
    del arrays["0.mean_"]
    save_model_file(path, header, arrays)
    code, _, err = call(capsys, "inspect", path)
    assert code == 1 and "Traceback" not in err
    assert "step 0 StandardScaler(with_mean=True, with_std=True) needs arrays" in err


@pytest.mark.parametrize("key, value, message", [
    ("optimizer", "adam", "invalid training state in the checkpoint"),
    ("schedule", 1.5, "invalid training state in the checkpoint"),
    ("config", [1], "invalid training state in the checkpoint"),
    ("early_stopping", True, "invalid EarlyStopping state in the checkpoint"),
    ("model_checkpoint", -1, "invalid ModelCheckpoint state in the checkpoint"),
])
def test_a_checkpoint_with_a_broken_training_state_is_one_line(checkpoint, tmp_path, capsys,
                                                                key, value, message):
    bad = tmp_path / "bad.npz"
    edit_header(checkpoint, bad, lambda h: h["training"].__setitem__(key, value))
    code, out, err = call(capsys, "inspect", bad)
    assert code == 1 and "Traceback" not in err
    assert f"bad.npz: {message}" in err


@pytest.mark.parametrize("key, value, message", [
    ("loss_curve_", 1.5, "loss_curve_ must be a list of numbers, got 1.5"),
    ("validation_scores_", True, "validation_scores_ must be a list of numbers or null"),
])
def test_an_estimator_with_a_broken_state_is_one_line(iris, tmp_path, capsys, key, value,
                                                      message):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    npdeep.save(_fitted(DeepClassifier((4,), max_iter=2, random_state=0), *iris), good)
    edit_header(good, bad, lambda h: h["state"].__setitem__(key, value))
    for argv in (["inspect", bad], ["plot", bad, "-o", tmp_path / "curves.png"]):
        code, out, err = call(capsys, *argv)
        assert code == 1 and "Traceback" not in err
        assert message in err and "bad.npz" in err
    assert not (tmp_path / "curves.png").exists()


def test_a_pipeline_step_without_a_name_is_one_line(iris, tmp_path, capsys):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", DeepClassifier((4,), max_iter=2, random_state=0))])
    npdeep.save(_fitted(pipe, *iris), good)
    edit_header(good, bad, lambda h: h["steps"][0].__setitem__("name", 7))
    code, out, err = call(capsys, "inspect", bad)
    assert code == 1 and "Traceback" not in err
    assert "step 0 has name 7; a pipeline step's name is a non-empty string" in err


def test_inspect_says_where_a_history_turned_nan(tmp_path, capsys):
    # the cost's "last" was the last finite one: a run that ended in NaN read as if it had not
    net = npdeep.Network([2, 3, 1], seed=0)
    net.history = npdeep.History.from_dict({"epoch": [0, 1, 2], "cost": [0.7, "nan", "inf"],
                                            "val_cost": ["nan", "nan", None]})
    net.save(tmp_path / "m.npz")
    code, out, _ = call(capsys, "inspect", str(tmp_path / "m.npz"))
    assert code == 0
    assert ("  cost: first 0.7000, last 0.7000, best 0.7000 (epoch 1); NaN or inf at 2 epochs "
            "from epoch 2") in out
    assert "  val_cost: no finite value: NaN or inf at 2 epochs from epoch 1" in out
    code, out, _ = call(capsys, "inspect", str(tmp_path / "m.npz"), "--json")
    figures = json.loads(out)["history"]
    assert figures["cost"]["not_finite"] == {"epochs": 2, "first_epoch": 2}
