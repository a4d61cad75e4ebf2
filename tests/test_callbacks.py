"""Callbacks: protocol order, EarlyStopping, ModelCheckpoint, loggers, ProgressBar."""

import csv
import io
import json

import numpy as np
import pytest

import npdeep
from npdeep import ConfigurationError
from npdeep.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    ModelCheckpoint,
    ProgressBar,
)


@pytest.fixture
def data(rng):
    X = rng.normal(size=(3, 60))
    y = ((X[0] + 0.5 * X[1] + rng.normal(scale=0.8, size=60)) > 0).astype(float)
    return X, y


def small():
    return npdeep.Network([3, 16, 1], activation="relu", seed=0)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(f"epoch_begin{epoch}")

    def on_batch_end(self, batch, logs):
        self.calls.append(f"batch_end{batch}")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(f"epoch_end{epoch}")

    def on_train_end(self, logs):
        self.calls.append("train_end")


def test_protocol_order(data):
    X, y = data
    rec = Recorder()
    small().fit(X, y, epochs=2, batch_size=30, callbacks=[rec], diagnose=False)
    assert rec.calls == ["train_begin", "epoch_begin0", "batch_end0", "batch_end1",
                         "epoch_end0", "epoch_begin1", "batch_end0", "batch_end1", "epoch_end1",
                         "train_end"]


def test_early_stopping_restores_best_weights(data):
    X, y = data
    net = small()
    es = EarlyStopping(monitor="val_cost", patience=3)
    Xv, yv = X[:, 40:], y[40:]
    with np.errstate(all="raise"):
        h = net.fit(X[:, :40], y[:40], epochs=300, learning_rate=0.05, optimizer="adam",
                    validation_data=(Xv, yv), callbacks=[es], diagnose=False)
    assert len(h) < 300, "overfits a tiny noisy set: should stop early"
    assert net.cost(Xv, yv) == min(h.val_cost)
    assert es.best == min(h.val_cost) and h.val_cost[es.best_epoch] == es.best
    assert "early stopping" in h.stop_reason and "restored" in h.stop_reason


@pytest.mark.parametrize("patience", [0, 1, 2, 5])
def test_early_stopping_stops_after_patience_epochs_without_improvement(data, patience):
    X, y = data
    es = EarlyStopping(monitor="cost", patience=patience, min_delta=1e9)  # only epoch 1 counts
    h = small().fit(X, y, epochs=20, learning_rate=0.01, callbacks=[es], diagnose=False)
    assert len(h) == 1 + max(patience, 1)
    assert f"for {max(patience, 1)} epochs" in h.stop_reason


def test_early_stopping_on_accuracy_maximises(data):
    X, y = data
    es = EarlyStopping(monitor="accuracy", patience=0)
    small().fit(X, y, epochs=50, learning_rate=0.01, callbacks=[es], diagnose=False)
    assert es.tracker.mode == "max"


def test_early_stopping_falls_back_to_train_cost(data):
    X, y = data
    es = EarlyStopping(patience=2)
    small().fit(X, y, epochs=3, learning_rate=0.01, callbacks=[es], diagnose=False)
    assert es.tracker.used == "cost"


@pytest.mark.parametrize("kwargs,match", [
    ({"patience": -1}, "patience must be an integer >= 0, got -1"),
    ({"min_delta": -0.1}, "min_delta must be a finite number >= 0, got -0.1"),
    ({"mode": "up"}, "mode must be 'auto', 'min' or 'max', got 'up'"),
])
def test_early_stopping_bad_input(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        EarlyStopping(**kwargs)


def test_unknown_monitor_names_the_logged_ones(data):
    X, y = data
    with pytest.raises(ConfigurationError, match="monitor 'f1' is not logged; logged names:"):
        small().fit(X, y, epochs=1, callbacks=[EarlyStopping(monitor="f1")])


def test_checkpoint_every_n_and_best(tmp_path, data):
    X, y = data
    every = ModelCheckpoint(tmp_path / "e{epoch}.npz", every=2)
    best = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, monitor="val_cost")
    net = small()
    h = net.fit(X, y, epochs=5, learning_rate=0.05, optimizer="adam", validation_fraction=0.3,
                callbacks=[every, best], diagnose=False)
    assert sorted(p.name for p in tmp_path.glob("e*.npz")) == ["e2.npz", "e4.npz"]
    loaded = npdeep.load(tmp_path / "best.npz")
    from npdeep.checkpoint import load_checkpoint

    ck = load_checkpoint(tmp_path / "best.npz")
    assert ck.epoch == int(np.argmin(h.val_cost)) + 1
    assert ck.optimizer.name == "adam" and ck.optimizer.t == ck.epoch
    assert loaded.units == net.units


def test_csv_and_json_loggers(tmp_path, data):
    X, y = data
    small().fit(X, y, epochs=3, validation_fraction=0.2,
                callbacks=[CSVLogger(tmp_path / "log.csv"), JSONLogger(tmp_path / "log.jsonl")],
                diagnose=False)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert {"cost", "val_cost", "accuracy", "gradient_norm_1", "gradient_norm_2",
            "learning_rate"} <= set(rows[0])
    records = [json.loads(line) for line in open(tmp_path / "log.jsonl")]
    assert len(records) == 3 and len(records[0]["gradient_norms"]) == 2


def test_loggers_resumed_from_an_earlier_checkpoint_do_not_repeat_epochs(tmp_path, data):
    from npdeep.checkpoint import resume

    X, y = data
    logs = [CSVLogger(tmp_path / "log.csv"), JSONLogger(tmp_path / "log.jsonl")]
    small().fit(X, y, epochs=3, batch_size=8, diagnose=False,
                callbacks=[ModelCheckpoint(tmp_path / "ck-{epoch}.npz"), *logs])
    resume(tmp_path / "ck-1.npz", X, y, epochs=3, callbacks=logs, diagnose=False)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert [json.loads(line)["epoch"] for line in open(tmp_path / "log.jsonl")] == [1, 2, 3]


@pytest.mark.parametrize("make, match", [
    (lambda d: ModelCheckpoint(d / "ck-{step}.npz"), r"ModelCheckpoint path .* is not a valid "
                                                     r"template \(KeyError\('step'\)\)"),
    (lambda d: CSVLogger(d / "none" / "log.csv"), r"CSVLogger: the folder .*none' .* does not "
                                                  r"exist"),
    (lambda d: JSONLogger(d / "none" / "log.jsonl"), r"JSONLogger: the folder"),
])
def test_callback_paths_are_checked_when_made(tmp_path, make, match):
    with pytest.raises(ConfigurationError, match=match):
        make(tmp_path)


def test_progress_bar_one_plain_line_per_epoch(data):
    X, y = data
    out = io.StringIO()
    small().fit(X, y, epochs=3, callbacks=[ProgressBar(stream=out)], diagnose=False)
    lines = out.getvalue().splitlines()
    assert [ln.split()[:2] for ln in lines] == [["epoch", "1/3"], ["epoch", "2/3"],
                                                ["epoch", "3/3"]]
    assert "cost=" in lines[0]


def test_quiet_fit_prints_nothing(data, capsys):
    X, y = data
    small().fit(X, y, epochs=2, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_prints_stop_reason_and_warnings(rng):
    X = rng.normal(size=(4, 64))
    y = (rng.random(64) > 0.4).astype(float)
    net = npdeep.Network([4, 4, 4, 4, 1], activation="sigmoid", init="article", seed=0)
    out = io.StringIO()
    net.fit(X, y, epochs=300, learning_rate=0.01, callbacks=[ProgressBar(stream=out)])
    assert "warning: training looks stuck" in out.getvalue()
    quiet = io.StringIO()
    net.fit(X, y, epochs=300, learning_rate=0.01, callbacks=[ProgressBar(stream=quiet, quiet=True)])
    assert quiet.getvalue().startswith("warning: training looks stuck")


def test_progress_bar_says_why_training_stopped(data):
    X, y = data
    out = io.StringIO()
    small().fit(X, y, epochs=100, learning_rate=0.05, optimizer="adam", validation_fraction=0.3,
                callbacks=[EarlyStopping(patience=0), ProgressBar(stream=out, quiet=True)],
                diagnose=False)
    assert out.getvalue().startswith("stopped: early stopping at epoch")
