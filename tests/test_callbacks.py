"""Callbacks: protocol order, EarlyStopping, ModelCheckpoint, loggers, ProgressBar."""

import csv
import io
import json
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

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
from npdeep.checkpoint import load_checkpoint, resume
from npdeep.history import History
from npdeep.schedules import StepDecay
from npdeep.training import evaluate


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
    waited = max(patience, 1)
    assert f"for {waited} epoch{'' if waited == 1 else 's'};" in h.stop_reason  # "1 epochs" once


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
    ({"min_delta": 10**400}, "min_delta must be a finite number >= 0, got 1000000"),  # was an
    ({"min_delta": float("nan")}, "min_delta must be a finite number >= 0, got nan"),  # Overflow-
    ({"min_delta": True}, "min_delta must be a finite number >= 0, got True"),  # Error
    ({"mode": "up"}, "mode must be 'auto', 'min' or 'max', got 'up'"),
])
def test_early_stopping_bad_input(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        EarlyStopping(**kwargs)


def test_early_stopping_takes_numpy_scalars():
    """np.float32 (not a Python float subclass, unlike np.float64) was refused."""
    assert EarlyStopping(min_delta=np.float32(0.5)).min_delta == 0.5


def test_unknown_monitor_names_the_logged_ones(data, tmp_path):
    X, y = data
    with pytest.raises(ConfigurationError, match=r"monitor 'f1' is not logged; logged names: "
                       r"\[.*\]; a name your own callback adds to logs must come from a "
                       r"callback listed before this one in callbacks"):
        small().fit(X, y, epochs=1, callbacks=[EarlyStopping(monitor="f1", mode="max")])

    class AddF1(Callback):
        def on_epoch_end(self, epoch, logs):
            logs["f1"] = 0.5 + epoch / 10

    for watcher in (EarlyStopping(monitor="f1", mode="max"),
                    ModelCheckpoint(tmp_path / "b.npz", save_best_only=True, monitor="f1",
                                    mode="max")):
        with pytest.raises(ConfigurationError, match="must come from a callback listed before"):
            small().fit(X, y, epochs=2, callbacks=[watcher, AddF1()])
        small().fit(X, y, epochs=2, callbacks=[AddF1(), watcher])  # in order: it works


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


class LogValue(Callback):
    def __init__(self, value):
        self.value = value

    def on_epoch_end(self, epoch, logs):
        logs["mine"] = self.value


@pytest.mark.parametrize("value, written", [
    (np.float32(0.5), 0.5), (np.int64(3), 3), (np.bool_(True), True),
    (np.array([1.0, np.inf]), [1.0, None]), (np.float32("nan"), None), ({1, 2}, "{1, 2}"),
    ({"f1": np.float64(0.25)}, {"f1": 0.25}),
])
def test_json_logger_writes_numpy_and_other_values_a_callback_logs(tmp_path, data, value,
                                                                   written):
    # a np.float32 in logs stopped fit with "Object of type float32 is not JSON serializable"
    X, y = data
    path = tmp_path / "log.jsonl"
    small().fit(X, y, epochs=2, callbacks=[LogValue(value), JSONLogger(path)], diagnose=False)
    lines = path.read_text().splitlines()
    assert [json.loads(line)["mine"] for line in lines] == [written, written]


class LogFrom(Callback):
    """Add ``name`` to the epoch logs from epoch ``start`` on (until ``stop``)."""

    def __init__(self, name, start, stop=None):
        self.name, self.start, self.stop = name, start, stop

    def on_epoch_end(self, epoch, logs):
        if self.start <= epoch and (self.stop is None or epoch < self.stop):
            logs[self.name] = 10.0 * epoch


def test_history_records_a_name_a_later_callback_adds_to_the_logs(tmp_path, data):
    # History runs first: a custom metric a callback put in logs (the Keras way) was missing
    # from net.history and from the saved model
    X, y = data
    net = small()
    history = net.fit(X, y, epochs=4, callbacks=[LogFrom("f1", 1, stop=3)], diagnose=False)
    assert history.f1 == [None, 10.0, 20.0, None]
    assert all(len(v) == len(history.epoch) for v in history.history.values())
    net.save(tmp_path / "m.npz")
    assert npdeep.load(tmp_path / "m.npz").history.f1 == [None, 10.0, 20.0, None]


def test_a_callback_logging_the_history_s_own_names_leaves_a_loadable_model(tmp_path, data):
    X, y = data
    net = small()
    net.fit(X, y, epochs=2, diagnose=False, callbacks=[
        LogFrom("epoch", 0), LogFrom("stop_reason", 0), LogFrom("f1", 0)])
    net.save(tmp_path / "m.npz")
    loaded = npdeep.load(tmp_path / "m.npz").history
    assert loaded.epoch == [0, 1] and loaded.stop_reason is None and loaded.f1 == [0.0, 10.0]


def test_a_checkpoint_before_the_callback_that_adds_a_name_does_not_lose_it(tmp_path, data):
    X, y = data
    history = small().fit(X, y, epochs=3, diagnose=False, callbacks=[
        ModelCheckpoint(tmp_path / "ck-{epoch}.npz"), LogFrom("f1", 0)])
    assert history.f1 == [0.0, 10.0, 20.0]
    # the file of an epoch was written before the name was added: None at that epoch only
    assert load_checkpoint(tmp_path / "ck-3.npz").history["f1"] == [0.0, 10.0, None]


def test_a_resumed_history_holds_the_names_callbacks_added(tmp_path, data):
    X, y = data
    settings = dict(batch_size=16, diagnose=False)
    reference = small().fit(X, y, epochs=4, callbacks=[LogFrom("f1", 1)], **settings)
    small().fit(X, y, epochs=2, **settings, callbacks=[
        LogFrom("f1", 1), ModelCheckpoint(tmp_path / "ck-{epoch}.npz")])
    resumed = resume(tmp_path / "ck-2.npz", X, y, epochs=4, callbacks=[LogFrom("f1", 1)],
                     diagnose=False).history
    assert resumed.f1 == reference.f1 == [None, 10.0, 20.0, 30.0]
    assert resumed.cost == reference.cost


@pytest.mark.parametrize("append", [False, True])
def test_an_estimators_partial_fits_log_their_epochs_counted_on(tmp_path, data, append):
    # every call wrote epoch 1 (and without append replaced the file): the rows now count on
    # as n_iter_ does, with or without append; a fresh fit starts the file again
    from npdeep.estimators import DeepClassifier

    X, y = data
    history = History()
    logs = [CSVLogger(tmp_path / "log.csv", append=append),
            JSONLogger(tmp_path / "log.jsonl", append=append), history]
    clf = DeepClassifier(hidden_layer_sizes=(4,), callbacks=logs, random_state=0)
    for _ in range(3):
        clf.partial_fit(X.T, y.astype(int), classes=[0, 1])
    rows = list(csv.reader(open(tmp_path / "log.csv", newline="")))
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert rows[0][:2] == ["epoch", "cost"] and [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]
    assert history.epoch == [0, 1, 2] and clf.n_iter_ == 3
    assert [float(r[1]) for r in rows[1:]] == pytest.approx(clf.loss_curve_)
    clf.set_params(warm_start=True, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X.T, y.astype(int))  # a warm fit counts on too
    assert [json.loads(line)["epoch"] for line in
            (tmp_path / "log.jsonl").read_text().splitlines()] == [1, 2, 3, 4, 5]
    assert clf.n_iter_ == 5 and history.epoch[-2:] == [3, 4]
    with pytest.warns(ConvergenceWarning):
        clf.set_params(warm_start=False).fit(X.T, y.astype(int))
    epochs = [json.loads(line)["epoch"] for line in
              (tmp_path / "log.jsonl").read_text().splitlines()]
    assert epochs == ([1, 2, 3, 4, 5, 1, 2] if append else [1, 2])


def test_partial_fit_continues_the_schedule_across_calls(data):
    # each call ran the schedule's epoch 0 again, so a step schedule never decayed; it now
    # counts n_iter_, as scikit-learn's t_ and Keras's iterations do (a warm fit restarts it)
    from npdeep.estimators import DeepClassifier, DeepRegressor

    X, y = data
    rates = []

    class Rate(Callback):
        def on_epoch_end(self, epoch, logs):
            rates.append((epoch, logs["learning_rate"]))

    clf = DeepClassifier((4,), learning_rate=0.1, callbacks=[Rate()], random_state=0,
                         schedule={"name": "step", "step_size": 1, "factor": 0.5})
    for _ in range(3):
        clf.partial_fit(X.T, y.astype(int), classes=[0, 1])
    assert [e for e, _ in rates] == [0, 1, 2]
    assert [r for _, r in rates] == pytest.approx([0.1, 0.05, 0.025])
    rates.clear()  # after a fit of 2 epochs, partial_fit goes on from the 3rd epoch
    reg = DeepRegressor((4,), learning_rate=0.1, callbacks=[Rate()], random_state=0, max_iter=2,
                        schedule={"name": "cosine", "period": 4})
    with pytest.warns(ConvergenceWarning):
        reg.fit(X.T, y)
    for _ in range(3):
        reg.partial_fit(X.T, y)
    cosine = [0.1 * 0.5 * (1 + np.cos(np.pi * min(e, 4) / 4)) for e in range(5)]
    assert [e for e, _ in rates] == list(range(5))
    assert [r for _, r in rates] == pytest.approx(cosine)


def test_partial_fit_refuses_a_cosine_without_a_period(data):
    # its period would be one call's single epoch: the rate would drop to min_lr at once
    from npdeep.estimators import DeepClassifier

    X, y = data
    clf = DeepClassifier((4,), schedule="cosine", random_state=0)
    with pytest.raises(ConfigurationError, match=r"partial_fit runs one epoch per call.*'period'"):
        clf.partial_fit(X.T, y.astype(int), classes=[0, 1])
    assert not hasattr(clf, "n_iter_") or clf.n_iter_ == 0
    clf.set_params(schedule={"name": "cosine", "period": 3}).partial_fit(X.T, y.astype(int),
                                                                        classes=[0, 1])
    assert clf.n_iter_ == 1


def test_partial_fit_takes_a_schedule_of_yours_that_reads_the_epoch_count(data):
    # the cosine's check read sched.period on any schedule with set_epochs: AttributeError
    from npdeep.estimators import DeepClassifier

    class Linear(npdeep.schedules.Schedule):
        name = "linear_to_zero"

        def set_epochs(self, epochs):
            self.epochs = epochs

        def learning_rate(self, epoch, lr0):
            return lr0 * max(0.0, 1 - epoch / (self.epochs + 1))

    X, y = data
    clf = DeepClassifier((4,), schedule=Linear(), random_state=0)
    clf.partial_fit(X.T, y.astype(int), classes=[0, 1])
    assert clf.n_iter_ == 1 and clf.schedule_.epochs == 1


def test_appended_logs_resumed_keep_the_earlier_fits_rows(tmp_path, data):
    # resuming cut the file back to the rows of epochs <= the checkpoint's, those of an
    # earlier fit included
    X, y = data
    logs = lambda: [CSVLogger(tmp_path / "log.csv", append=True),  # noqa: E731
                    JSONLogger(tmp_path / "log.jsonl", append=True)]
    small().fit(X, y, epochs=4, callbacks=logs(), diagnose=False)
    small().fit(X, y, epochs=3, diagnose=False,
                callbacks=[*logs(), ModelCheckpoint(tmp_path / "ck-{epoch}.npz")])
    resume(tmp_path / "ck-2.npz", X, y, epochs=3, callbacks=logs(), diagnose=False)
    rows = list(csv.reader(open(tmp_path / "log.csv", newline="")))
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert [r[0] for r in rows] == ["epoch", "1", "2", "3", "4", "1", "2", "3"]
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4, 1, 2, 3]


@pytest.mark.parametrize("make", [CSVLogger, JSONLogger])
def test_a_logger_refuses_a_non_boolean_append_and_a_file_it_cannot_continue(tmp_path, data,
                                                                             make):
    with pytest.raises(ConfigurationError, match=rf"{make.__name__}: append must be True or "
                                                 r"False, got 'no'"):
        make(tmp_path / "log", append="no")
    (tmp_path / "log").write_bytes(b"\xff\xfe binary")
    X, y = data
    with pytest.raises(ConfigurationError, match=rf"{make.__name__}: '.*log' is not a UTF-8 "
                                                 r"text log, which this run would continue"):
        small().fit(X, y, epochs=1, callbacks=[make(tmp_path / "log", append=True)])
    assert (tmp_path / "log").read_bytes() == b"\xff\xfe binary"


@pytest.mark.parametrize("template", ["none/ck.npz", "none/ck-{epoch}.npz", "a-file/ck.npz"])
def test_a_checkpoint_into_a_missing_folder_is_refused_before_training(tmp_path, data,
                                                                        template):
    # it was refused by the first save: after 20 epochs with every=20
    (tmp_path / "a-file").write_text("")
    X, y = data
    net = small()
    before = net.parameters.flat.copy()
    with pytest.raises(ConfigurationError, match=r"^ModelCheckpoint: the folder '.*(none|a-file)'"
                                                 r" of '.*ck.*\.npz' (does not exist|is a file)"):
        net.fit(X, y, epochs=30, callbacks=[ModelCheckpoint(tmp_path / template, every=20)])
    np.testing.assert_array_equal(net.parameters.flat, before)


@pytest.mark.parametrize("monitor, guess, validation", [
    ("val_loss", "val_cost", 0.2), ("val_loss", "val_cost", None), ("loss", "cost", None),
    ("val_acc", "val_accuracy", 0.2), ("acc", "accuracy", None),
])
def test_a_keras_monitor_name_is_answered_with_npdeep_s(data, monitor, guess, validation):
    X, y = data
    with pytest.raises(ConfigurationError, match=rf"monitor '{monitor}' is not logged; logged "
                                                 rf"names: \[.*\]; did you mean '{guess}' "
                                                 r"\(npdeep's name for it\)\?"):
        small().fit(X, y, epochs=2, validation_fraction=validation,
                    callbacks=[EarlyStopping(monitor=monitor)])


def test_a_checkpoint_name_too_long_is_a_model_file_error(tmp_path, data):
    X, y = data
    too_long = ModelCheckpoint(tmp_path / ("{epoch}" + "x" * 300 + ".npz"))
    with pytest.raises(npdeep.ModelFileError, match=r"cannot save model file '.*/1x+\.npz': "
                                                    "File name too long"):
        small().fit(X, y, epochs=2, callbacks=[too_long], diagnose=False)
    assert list(tmp_path.iterdir()) == []


class FillDiskAtEpoch(Callback):
    """From epoch ``epoch`` on, every fsync fails as on a full disk."""

    def __init__(self, monkeypatch, epoch):
        self.monkeypatch, self.epoch = monkeypatch, epoch

    def on_epoch_begin(self, epoch, logs):
        if epoch == self.epoch:
            def full(fd):
                raise OSError(28, "No space left on device")

            self.monkeypatch.setattr("npdeep.atomic.os.fsync", full)


@pytest.mark.parametrize("template", ["ck.npz", "ck-{epoch}.npz"])
def test_a_checkpoint_that_cannot_be_written_says_which_epoch_and_keeps_the_last_file(
        tmp_path, data, monkeypatch, template):
    X, y = data
    mc = ModelCheckpoint(tmp_path / template)
    with pytest.raises(npdeep.ModelFileError, match=r"^ModelCheckpoint could not save epoch 3: "
                       r"could not write model file '.*ck(-3)?\.npz' \(disk full\); the "
                       r"previous file, if any, is unchanged; training stopped; the last "
                       r"checkpoint written is '.*ck(-2)?\.npz'$"):
        small().fit(X, y, epochs=5, callbacks=[FillDiskAtEpoch(monkeypatch, 2), mc],
                    diagnose=False)
    monkeypatch.undo()
    assert load_checkpoint(mc.last_saved).epoch == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        (["ck.npz"] if template == "ck.npz" else ["ck-1.npz", "ck-2.npz"])


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


@pytest.mark.parametrize("logger,name", [(CSVLogger, "log.csv"), (JSONLogger, "log.jsonl")])
def test_a_log_cut_back_at_a_resume_is_rewritten_atomically(tmp_path, data, monkeypatch,
                                                            logger, name):
    # the cut-back truncated the file, then wrote the kept rows: an interruption in between
    # lost the whole log; now the kept rows replace it in one rename, or nothing changes
    from npdeep import atomic
    from npdeep.checkpoint import resume

    X, y = data
    path = tmp_path / name
    small().fit(X, y, epochs=3, batch_size=8, diagnose=False,
                callbacks=[ModelCheckpoint(tmp_path / "ck-{epoch}.npz"), logger(path)])
    before = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        resume(tmp_path / "ck-1.npz", X, y, epochs=3, callbacks=[logger(path)], diagnose=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ck-1.npz", "ck-2.npz",
                                                                 "ck-3.npz", name])
    monkeypatch.undo()
    path.write_bytes(before[:-1])  # the last row lost its line end (a crash while writing)
    resume(tmp_path / "ck-3.npz", X, y, epochs=4, callbacks=[logger(path)], diagnose=False)
    lines = path.read_text().splitlines()
    assert len(lines) == 4 + (logger is CSVLogger) and all(lines)


def test_a_csv_column_logged_first_at_a_later_epoch_is_added_not_dropped(tmp_path, data):
    # the columns were fixed at the first epoch: a later name was silently dropped
    X, y = data
    path = tmp_path / "log.csv"
    small().fit(X, y, epochs=4, diagnose=False,
                callbacks=[LogFrom("late", 1, stop=3), CSVLogger(path)])
    rows = list(csv.reader(open(path, newline="")))
    assert rows[0][-1] == "late" and len({len(r) for r in rows}) == 1
    assert [r[-1] for r in rows[1:]] == ["", "10.0", "20.0", ""]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]


def test_a_resumed_csv_log_keeps_its_columns_and_adds_new_ones(tmp_path, data):
    X, y = data
    path = tmp_path / "log.csv"
    small().fit(X, y, epochs=3, diagnose=False, callbacks=[
        LogFrom("first", 0), ModelCheckpoint(tmp_path / "ck-{epoch}.npz"), CSVLogger(path)])
    resume(tmp_path / "ck-2.npz", X, y, epochs=4, diagnose=False,
           callbacks=[LogFrom("second", 0), CSVLogger(path)])
    rows = list(csv.DictReader(open(path, newline="")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["first"] for r in rows] == ["0.0", "10.0", "", ""]
    assert [r["second"] for r in rows] == ["", "", "20.0", "30.0"]
    assert all(r["cost"] for r in rows)


@pytest.mark.parametrize("make", [
    lambda d: [CSVLogger(d / "run.log"), JSONLogger(d / "run.log")],
    lambda d: [JSONLogger(d / "run.log"), CSVLogger(d / "sub" / ".." / "run.log")],
    lambda d: [ModelCheckpoint(d / "run.log"), CSVLogger(d / "run.log")],
    lambda d: [ModelCheckpoint(d / "run.log", save_best_only=True),
               ModelCheckpoint(d / "run.log", every=2)],
])
def test_two_callbacks_writing_one_file_are_refused_before_training(tmp_path, data, make):
    # they clobbered each other: a CSV header inside JSON lines, a checkpoint over a log
    (tmp_path / "sub").mkdir()
    X, y = data
    net = small()
    before = net.parameters.flat.copy()
    with pytest.raises(ConfigurationError, match=r"\('.*run.log'\) and \w+\('.*run.log'\) "
                                                 r"write the same file, each over the "
                                                 r"other's; give them separate paths"):
        net.fit(X, y, epochs=2, callbacks=make(tmp_path), diagnose=False)
    assert not (tmp_path / "run.log").exists()
    np.testing.assert_array_equal(net.parameters.flat, before)


@pytest.mark.parametrize("make, match", [
    (lambda d: ModelCheckpoint(d / "ck-{step}.npz"), r"ModelCheckpoint path .* is not a valid "
                                                     r"template \(KeyError\('step'\)\)"),
    (lambda d: CSVLogger(d / "none" / "log.csv"), r"CSVLogger: the folder .*none' .* does not "
                                                  r"exist"),
    (lambda d: JSONLogger(d / "none" / "log.jsonl"), r"JSONLogger: the folder"),
    # read as True
    (lambda d: ModelCheckpoint(d / "ck.npz", save_best_only="no"),
     r"ModelCheckpoint save_best_only must be True or False, got 'no'"),
    (lambda d: ProgressBar(quiet="no"), r"ProgressBar quiet must be True or False, got 'no'"),
    (lambda d: ProgressBar(force_plain="no"),
     r"ProgressBar force_plain must be True or False, or None, got 'no'"),
    # refused by the first save, or by opening the log
    (lambda d: ModelCheckpoint(""), r"ModelCheckpoint path is empty; give a file name"),
    (lambda d: CSVLogger(""), r"CSVLogger: the path is empty; give a file name"),
    (lambda d: JSONLogger(""), r"JSONLogger: the path is empty"),
    # every was ignored with save_best_only
    (lambda d: ModelCheckpoint(d / "ck.npz", save_best_only=True, every=5),
     r"ModelCheckpoint: every=5 applies without save_best_only; a save_best_only checkpoint "
     r"looks at every epoch"),
    # a path under a file: its "folder" exists but is a file (was called missing)
    (lambda d: CSVLogger(d / "a-file" / "log.csv"), r"CSVLogger: the folder .*a-file' .* is a "
                                                    r"file, not a folder"),
])
def test_callback_paths_are_checked_when_made(tmp_path, make, match):
    (tmp_path / "a-file").write_text("")
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


class StopAtBatch(Callback):
    def __init__(self, batch):
        self.batch, self.costs = batch, []

    def on_batch_end(self, batch, logs):
        self.costs.append((logs["cost"], logs["size"]))
        if batch == self.batch:
            self.trainer.stop_training = True


def test_stop_training_from_a_batch_hook_stops_after_that_batch(data):
    X, y = data
    stop = StopAtBatch(1)
    h = small().fit(X, y, epochs=5, batch_size=10, callbacks=[stop], diagnose=False)
    assert len(stop.costs) == 2 and len(h) == 1
    # the partial epoch's cost is the mean over the samples it visited
    expected = sum(c * s for c, s in stop.costs) / sum(s for _, s in stop.costs)
    assert h.cost[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("batch_size", [None, 60, 1000])
def test_batch_hooks_run_in_full_batch_training(data, batch_size):
    X, y = data
    rec = Recorder()
    stop = StopAtBatch(-1)
    h = small().fit(X, y, epochs=2, batch_size=batch_size, callbacks=[rec, stop],
                    diagnose=False)
    assert rec.calls == ["train_begin", "epoch_begin0", "batch_end0", "epoch_end0",
                         "epoch_begin1", "batch_end0", "epoch_end1", "train_end"]
    assert [c for c, _ in stop.costs] == h.cost and {s for _, s in stop.costs} == {60}


@pytest.mark.parametrize("monitor,min_delta,mode", [
    ("cost", 0.0, "auto"), ("cost", 1e-3, "min"), ("accuracy", 0.0, "max"),
])
def test_early_stopping_on_a_full_batch_training_value_restores_the_weights_that_had_it(
        data, monitor, min_delta, mode):
    # full batch: an epoch's cost and accuracy come from the forward pass before its update
    X, y = data
    net = small()
    es = EarlyStopping(monitor=monitor, patience=3, min_delta=min_delta, mode=mode)
    h = net.fit(X, y, epochs=40, learning_rate=0.5, callbacks=[es], diagnose=False)
    assert getattr(h, monitor)[es.best_epoch] == es.best
    cost, accuracy = evaluate(net, net.check_X(X), net.check_Y(y, 60))
    assert (cost if monitor == "cost" else accuracy) == pytest.approx(es.best, rel=1e-12)
    assert cost == pytest.approx(h.cost[es.best_epoch], rel=1e-12)


def test_early_stopping_on_a_value_that_is_never_finite_says_so(rng):
    # r2 of a single validation sample is undefined (nan) at every epoch
    X, y = rng.normal(size=(3, 20)), rng.normal(size=20)
    net = npdeep.Network([3, 4, 1], output_activation="identity", seed=0)
    before = net.parameters.flat.copy()
    h = net.fit(X, y, epochs=10, validation_data=(X[:, :1], y[:1]),
                callbacks=[EarlyStopping("val_r2", patience=2)], diagnose=False)
    assert len(h) == 2
    assert h.stop_reason == ("early stopping at epoch 2: val_r2 was never a finite number in "
                             "2 epochs (last nan), so no weights were restored")
    assert not np.array_equal(net.parameters.flat, before)


def test_end_of_training_diagnosis_describes_the_restored_weights(data):
    X, y = data
    net = small()
    es = EarlyStopping(monitor="val_cost", patience=2)
    out = io.StringIO()
    h = net.fit(X[:, :40], y[:40], epochs=300, learning_rate=0.05, optimizer="adam",
                validation_data=(X[:, 40:], y[40:]), callbacks=[es, ProgressBar(stream=out)])
    assert es.stopped_epoch is not None and es.best_epoch < es.stopped_epoch
    assert h.diagnosis.cost == pytest.approx(net.cost(X[:, :40], y[:40]), rel=1e-12)
    assert out.getvalue().splitlines()[-1].startswith("stopped: early stopping")


class InterruptAtEpoch(Callback):
    def __init__(self, epoch):
        self.epoch, self.end_logs = epoch, None

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            raise KeyboardInterrupt

    def on_train_end(self, logs):
        self.end_logs = logs


def test_keyboard_interrupt_closes_callbacks_restores_best_weights_and_propagates(tmp_path,
                                                                                  data):
    X, y = data
    net = small()
    es = EarlyStopping(monitor="val_cost", patience=100)
    log = CSVLogger(tmp_path / "log.csv")
    stop = InterruptAtEpoch(6)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X[:, :40], y[:40], epochs=50, learning_rate=0.3, optimizer="adam",
                validation_data=(X[:, 40:], y[40:]), callbacks=[es, log, stop])
    assert stop.end_logs == {"interrupted": True}
    assert log._file is None
    assert len(net.history) == 7 and net.history.stop_reason.startswith("interrupted")
    assert net.cost(X[:, 40:], y[40:]) == min(net.history.val_cost)


class HalveRateAfter(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            self.trainer.initial_learning_rate /= 2


def test_a_callback_moves_the_base_rate_of_the_epochs_to_come(tmp_path, data):
    X, y = data
    settings = dict(learning_rate=0.1, schedule="step", batch_size=20, optimizer="momentum",
                    diagnose=False)
    net = small()
    h = net.fit(X, y, epochs=6, callbacks=[HalveRateAfter(1),
                                           ModelCheckpoint(tmp_path / "c{epoch}.npz")],
                **settings)
    step = StepDecay()
    assert h.learning_rate == [step.learning_rate(e, 0.1 if e < 2 else 0.05) for e in range(6)]
    # the checkpoint keeps the moved rate: resuming continues the same run
    resumed = resume(tmp_path / "c3.npz", X, y, diagnose=False)
    assert resumed.history.learning_rate == h.learning_rate
    assert np.array_equal(resumed.parameters.flat, net.parameters.flat)


def test_progress_bar_of_a_resumed_run_counts_from_the_checkpoint(tmp_path, data):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    X, y = data
    small().fit(X, y, epochs=8, learning_rate=0.1, diagnose=False,
                callbacks=[ModelCheckpoint(tmp_path / "c{epoch}.npz")])
    out = Terminal()
    resume(tmp_path / "c5.npz", X, y, callbacks=[ProgressBar(stream=out)],
                             diagnose=False)
    frames = [f for f in out.getvalue().split("\r") if "epoch" in f]
    assert frames[0].startswith("epoch 6/8:  62%") and "5/8" in frames[0]
    assert "8/8" in frames[-1]


@pytest.mark.parametrize("monitor", ["cost", "accuracy"])
def test_full_batch_best_checkpoint_holds_the_weights_that_scored(tmp_path, data, monitor):
    # the epoch's cost is that of the weights before its update, but the file held the weights
    # after it: the saved model was not the one that scored
    from npdeep.checkpoint import load_checkpoint

    X, y = data
    net = small()
    ck = ModelCheckpoint(tmp_path / "best-{epoch}.npz", save_best_only=True, monitor=monitor)
    h = net.fit(X, y, epochs=30, learning_rate=0.1, optimizer="adam", callbacks=[ck],
                diagnose=False)
    values = getattr(h, monitor)
    best = int(np.argmax(values) if monitor == "accuracy" else np.argmin(values))
    assert ck.last_saved == str(tmp_path / f"best-{best + 1}.npz")
    saved = load_checkpoint(ck.last_saved)
    cost, accuracy = evaluate(saved.network, saved.network.check_X(X),
                              saved.network.check_Y(y, 60))
    assert cost == pytest.approx(h.cost[best], rel=1e-12)
    assert accuracy == h.accuracy[best]
    # the state at the start of that epoch: `best` epochs done, one Adam step each
    assert saved.epoch == best and saved.optimizer.t == best
    assert len(saved.history["cost"]) == best and saved.history["cost"] == h.cost[:best]


def test_resuming_a_full_batch_best_checkpoint_repeats_the_run_exactly(tmp_path, data):
    X, y = data

    def make():
        return npdeep.Network([3, 16, 1], activation="relu", dropout=0.3, seed=0)

    settings = dict(learning_rate=0.05, optimizer="adam", schedule="plateau", diagnose=False)
    reference = make()
    reference.fit(X, y, epochs=25, **settings)
    ck = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, monitor="cost")
    h = make().fit(X, y, epochs=12, callbacks=[ck], **settings)
    assert 0 < int(np.argmin(h.cost)) < 11            # an epoch before the last scored best
    again = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, monitor="cost")
    resumed = resume(tmp_path / "best.npz", X, y, epochs=25, diagnose=False, callbacks=[again])
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert resumed.history.cost == reference.history.cost


def test_full_batch_checkpoint_on_a_validation_value_holds_the_epoch_end_weights(tmp_path,
                                                                                 data):
    from npdeep.checkpoint import load_checkpoint

    X, y = data
    net = small()
    ck = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, monitor="val_cost")
    h = net.fit(X[:, :40], y[:40], epochs=20, learning_rate=0.1, optimizer="adam",
                validation_data=(X[:, 40:], y[40:]), callbacks=[ck], diagnose=False)
    best = int(np.argmin(h.val_cost))
    saved = load_checkpoint(tmp_path / "best.npz")
    assert saved.epoch == best + 1
    assert saved.network.cost(X[:, 40:], y[40:]) == pytest.approx(h.val_cost[best], rel=1e-12)


def test_a_full_batch_best_checkpoint_can_watch_two_networks_in_turn(tmp_path, data):
    from npdeep.checkpoint import load_checkpoint

    X, y = data
    ck = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, monitor="cost")
    small().fit(X, y, epochs=3, optimizer="adam", callbacks=[ck], diagnose=False)
    wider = npdeep.Network([3, 32, 1], seed=0)
    h = wider.fit(X, y, epochs=3, optimizer="adam", callbacks=[ck], diagnose=False)
    saved = load_checkpoint(tmp_path / "best.npz")
    assert saved.network.units == [3, 32, 1]
    assert saved.network.cost(X, y) == pytest.approx(min(h.cost), rel=1e-12)


@pytest.mark.parametrize("batch_size", [None, 20])
def test_early_stopping_restores_the_weights_the_best_checkpoint_holds(tmp_path, data,
                                                                        batch_size):
    # one meaning of "the best weights" for both, in full-batch training (the epoch's start)
    # as with mini-batches (the epoch's end)
    X, y = data
    net = small()
    es = EarlyStopping(monitor="cost", patience=3)
    ck = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, monitor="cost")
    h = net.fit(X, y, epochs=100, learning_rate=2.0, batch_size=batch_size,
                callbacks=[es, ck], diagnose=False)
    assert es.best_epoch == ck.tracker.best_epoch < len(h) - 1   # not the last epoch
    saved = npdeep.load(tmp_path / "best.npz")
    np.testing.assert_array_equal(saved.parameters.flat, net.parameters.flat)


class FailAtEpoch(InterruptAtEpoch):
    def __init__(self, epoch, fail_at_end=False):
        super().__init__(epoch)
        self.fail_at_end = fail_at_end

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            raise RuntimeError("disk full")

    def on_train_end(self, logs):
        super().on_train_end(logs)
        if self.fail_at_end:
            raise OSError("still full")


def test_an_error_during_fit_closes_callbacks_restores_best_weights_and_propagates(tmp_path,
                                                                                    data):
    X, y = data
    net = small()
    es = EarlyStopping(monitor="val_cost", patience=100)
    log = CSVLogger(tmp_path / "log.csv")
    fail = FailAtEpoch(6)
    with pytest.raises(RuntimeError, match="disk full"):
        net.fit(X[:, :40], y[:40], epochs=50, learning_rate=0.3, optimizer="adam",
                validation_data=(X[:, 40:], y[40:]), callbacks=[es, log, fail])
    assert fail.end_logs == {"error": "RuntimeError: disk full"}
    assert log._file is None  # the log file is closed, its rows on disk
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 1 + 7  # epochs 1-7
    assert net.history.stop_reason == "error (RuntimeError) during epoch 7"
    assert net.cost(X[:, 40:], y[40:]) == min(net.history.val_cost)


def test_an_error_in_on_train_end_after_an_error_keeps_the_first_one(data):
    X, y = data
    with pytest.raises(RuntimeError, match="disk full") as info:
        small().fit(X, y, epochs=5, learning_rate=0.1, callbacks=[FailAtEpoch(1, True)])
    assert any("on_train_end also failed: OSError: still full" in n
               for n in info.value.__notes__)



class NoAddNote(RuntimeError):
    """An error as Python 3.10 makes it: no ``add_note`` (which arrived in 3.11)."""

    def __getattribute__(self, name):
        if name == "add_note":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'add_note'")
        return super().__getattribute__(name)


class Fails(Callback):
    """Raise ``error`` in hook ``hook``."""

    def __init__(self, hook, error):
        self.hook, self.error = hook, error

    def on_train_begin(self, logs):
        if self.hook == "on_train_begin":
            raise self.error

    def on_epoch_end(self, epoch, logs):
        if self.hook == "on_epoch_end":
            raise self.error

    def on_train_end(self, logs):
        if self.hook == "on_train_end":
            raise self.error


@pytest.mark.parametrize("first, then", [
    ("on_epoch_end", "on_train_end"),    # fit's clean-up after an error in an epoch
    ("on_train_begin", "on_train_end"),  # the begun callbacks' ends after a failed begin
    ("on_train_end", "on_train_end"),    # a second failing end
], ids=["epoch", "begin", "end"])
def test_a_second_error_is_noted_on_the_first_without_add_note(data, first, then):
    # Python 3.10 has no BaseException.add_note: calling it replaced the user's error by an
    # AttributeError; the note now goes to __notes__ there (3.11+ calls add_note)
    X, y = data
    second = Fails(then, OSError("still full"))
    callbacks = [second, Fails(first, NoAddNote("disk full"))]
    if first == then:
        callbacks.reverse()  # the first to fail is the one raised
    with pytest.raises(NoAddNote, match="disk full") as info:
        small().fit(X, y, epochs=2, learning_rate=0.1, callbacks=callbacks)
    assert len(info.value.__notes__) == 1
    assert info.value.__notes__[0].endswith("on_train_end also failed: OSError: still full")

class StopAtEpochBatch(Callback):
    """Stop training after batch ``batch`` of epoch ``epoch``; keep the parameters it saw."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch, self.seen = epoch, batch, None

    def on_epoch_begin(self, epoch, logs):
        self.current = epoch

    def on_batch_begin(self, batch, logs):
        if (self.current, batch) == (self.epoch, self.batch):
            self.seen = self.network.parameters.flat.copy()

    def on_batch_end(self, batch, logs):
        if (self.current, batch) == (self.epoch, self.batch):
            self.trainer.stop_training = True


def test_gradient_norms_of_an_epoch_a_batch_hook_ends_early_are_that_batchs(data):
    # they were the previous epoch's last batch's norms
    X, y = data
    net = small()
    stop = StopAtEpochBatch(1, 0)
    h = net.fit(X, y, epochs=3, learning_rate=0.1, batch_size=16, shuffle=False,
                callbacks=[stop])
    assert len(h) == 2
    net.parameters.flat[:] = stop.seen  # the weights batch 0 of epoch 1 started from
    grads = net.gradients(X[:, :16], y[:16])
    expected = [np.sqrt(np.sum(grads[f"dW{l}"] ** 2) + np.sum(grads[f"db{l}"] ** 2))
                for l in range(1, net.L + 1)]
    np.testing.assert_allclose(h.gradient_norms[1], expected, rtol=1e-10)


def test_model_checkpoint_never_writes_weights_that_overflowed(tmp_path, rng):
    # an update overflowed the weights to inf (learning rate near 1e308): the checkpoint was
    # written anyway and the good file before it replaced by one that load refuses
    X = rng.normal(size=(2, 8))
    path = tmp_path / "ck.npz"
    net = npdeep.Network([2, 2, 1], activation="identity", output_activation="identity",
                         seed=0)
    net.fit(X, X[:1], epochs=1, learning_rate=0.01, callbacks=[ModelCheckpoint(path)],
            diagnose=False)
    good = npdeep.load(path).parameters.flat.copy()
    # one pytest.warns for both: before pytest 8 an inner one kept the outer's warning
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) as record:
        net.fit(X, X[:1], epochs=3, learning_rate=1.7e308, callbacks=[ModelCheckpoint(path)],
                diagnose=False)
    said = [str(w.message) for w in record]
    assert any(re.search(r"ModelCheckpoint: the weights of epoch \d are NaN or inf; "
                         r".*ck.npz was not written", text) for text in said), said
    assert any("training stopped early" in text for text in said), said
    np.testing.assert_array_equal(npdeep.load(path).parameters.flat, good)


def test_save_checkpoint_refuses_non_finite_weights(tmp_path):
    from npdeep.checkpoint import save_checkpoint
    from npdeep.training import Trainer

    net = npdeep.Network([2, 2, 1], seed=0)
    trainer = Trainer(net, npdeep.optimizers.get("sgd"), 0.01)
    net.parameters.flat[0] = np.inf  # the setter refuses it; an overflowing update does not
    with pytest.raises(npdeep.ModelFileError, match=r"cannot save: parameter 'W1' contains "
                                                    r"NaN or inf"):
        save_checkpoint(tmp_path / "ck.npz", net, trainer)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make, message", [
    (lambda: ModelCheckpoint(3), "ModelCheckpoint path must be a str or os.PathLike naming a "
                                 "file, got 3"),
    (lambda: CSVLogger(None), "CSVLogger: path must be a str or os.PathLike naming a file, "
                              "got None"),
    (lambda: JSONLogger(2.5), "JSONLogger: path must be a str or os.PathLike"),
    (lambda: ProgressBar(stream=3), "ProgressBar stream must be a text stream with a write "
                                    "method"),
])
def test_a_callback_given_the_wrong_kind_of_path_or_stream_says_which(make, message):
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_the_same_callback_object_listed_twice_is_refused(data):
    X, y = data
    stop = EarlyStopping(monitor="cost", patience=1)
    with pytest.raises(ConfigurationError, match="same EarlyStopping object twice"):
        npdeep.Network([3, 4, 1], seed=0).fit(X, y, epochs=5, callbacks=[stop, stop])


def test_verbose_with_a_progress_bar_in_callbacks_prints_each_epoch_once(data):
    X, y = data
    stream = io.StringIO()
    npdeep.Network([3, 4, 1], seed=0).fit(
        X, y, epochs=2, verbose=2, callbacks=[ProgressBar(stream=stream, force_plain=True)])
    lines = stream.getvalue().splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]


class SetRate(Callback):
    def __init__(self, name, value):
        self.name, self.value = name, value

    def on_epoch_begin(self, epoch, logs):
        setattr(self.trainer, self.name, self.value)


@pytest.mark.parametrize("name", ["learning_rate", "initial_learning_rate"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), "0.1"])
def test_a_callback_setting_a_bad_learning_rate_is_told_so(data, name, value):
    X, y = data
    net = npdeep.Network([3, 4, 1], seed=0)
    with pytest.raises(ConfigurationError, match=rf"trainer\.{name} must be a finite number "
                                                 r">= 0, got .* \(as a callback or schedule"):
        net.fit(X, y, epochs=2, callbacks=[SetRate(name, value)])


class FailAtEnd(Callback):
    def on_train_end(self, logs):
        raise RuntimeError("end hook failed")


def test_a_failing_on_train_end_still_leaves_the_run_s_history_on_the_network(data):
    X, y = data
    net = npdeep.Network([3, 4, 1], seed=0)
    net.fit(X, y, epochs=1)
    with pytest.raises(RuntimeError, match="end hook failed"):
        net.fit(X, y, epochs=3, callbacks=[FailAtEnd()])
    assert len(net.history) == 3 and net.history.trainer is None


class FailAtEndToo(Callback):
    def on_train_end(self, logs):
        raise ValueError("second end hook failed")


def test_a_failing_on_train_end_does_not_keep_the_others_from_ending(tmp_path, data):
    # the callbacks after it were skipped: the log stayed open, the best weights unrestored
    X, y = data
    es = EarlyStopping(monitor="cost", patience=100)
    log = CSVLogger(tmp_path / "log.csv")
    net = npdeep.Network([3, 4, 1], seed=0)
    with pytest.raises(RuntimeError, match="end hook failed") as info:
        net.fit(X, y, epochs=5, learning_rate=50.0,
                callbacks=[FailAtEnd(), es, FailAtEndToo(), log])
    assert info.value.__notes__ == ["FailAtEndToo.on_train_end also failed: ValueError: "
                                    "second end hook failed"]
    assert es.best_epoch < 4  # the last weights are not the best: restoring shows
    np.testing.assert_array_equal(net.parameters.flat, es.best_weights)
    assert log._file is None and len(net.history) == 5


class FullDisk:
    """A log file on a disk that is full: every write fails as ENOSPC."""

    def __init__(self, file):
        self.file = file

    def write(self, text):
        raise OSError(28, "No space left on device")

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()


class FillDiskAt(Callback):
    def __init__(self, logger, epoch):
        self.logger, self.epoch = logger, epoch

    def on_epoch_begin(self, epoch, logs):
        if epoch == self.epoch:
            self.logger._file = FullDisk(self.logger._file)
            self.logger._writer = None


@pytest.mark.parametrize("make", [CSVLogger, JSONLogger])
def test_a_log_that_cannot_be_written_mid_training_names_its_file(tmp_path, data, make):
    X, y = data
    path = tmp_path / "log.txt"
    logger = make(path)
    net = npdeep.Network([3, 4, 1], seed=0)
    with pytest.raises(ConfigurationError, match=rf"^{make.__name__}: cannot write "
                                                 r".*log.txt' \(No space left on device\)"):
        net.fit(X, y, epochs=4, callbacks=[FillDiskAt(logger, 2), logger])
    assert len(net.history) == 3 and logger._file is None  # History ran before the logger
    assert path.read_text().count("\n") >= 2  # the epochs written before stay


class FailAtBegin(Callback):
    def on_train_begin(self, logs):
        raise RuntimeError("begin hook failed")


def test_a_failing_on_train_begin_closes_the_logs_already_opened(tmp_path, data):
    X, y = data
    logger = CSVLogger(tmp_path / "log.csv")
    with pytest.raises(RuntimeError, match="begin hook failed"):
        npdeep.Network([3, 4, 1], seed=0).fit(X, y, epochs=2, callbacks=[logger, FailAtBegin()])
    assert logger._file is None


@pytest.mark.parametrize("where", ["EarlyStopping", "ReduceOnPlateau"])
def test_monitoring_the_gradient_norms_list_is_refused_by_name(data, where):
    X, y = data
    kwargs = {"callbacks": [EarlyStopping(monitor="gradient_norms", mode="min")]} \
        if where == "EarlyStopping" else \
        {"schedule": npdeep.schedules.ReduceOnPlateau(monitor="gradient_norms", mode="min")}
    with pytest.raises(ConfigurationError, match=r"monitor 'gradient_norms' logs list values, "
                                                 r"not one number per epoch; monitor one of "
                                                 r"\['cost', 'accuracy'"):
        npdeep.Network([3, 4, 1], seed=0).fit(X, y, epochs=2, **kwargs)


def test_verbose_still_prints_with_a_quiet_progress_bar_in_callbacks(data):
    X, y = data
    quiet = io.StringIO()
    net = npdeep.Network([3, 4, 1], seed=0)
    bar = ProgressBar(stream=quiet, quiet=True)
    net.fit(X, y, epochs=2, verbose=2, callbacks=[bar])
    assert quiet.getvalue() == ""
    assert sum(isinstance(c, ProgressBar) for c in bar.trainer.callbacks) == 2


def test_keras_restore_best_weights_is_accepted_when_true_and_refused_when_false(rng):
    # ported Keras code passed restore_best_weights=True and got a Python TypeError
    X = rng.normal(size=(3, 40))
    y = (X[0] > 0).astype(float)
    es = EarlyStopping(monitor="cost", patience=2, restore_best_weights=True)
    npdeep.Network([3, 4, 1], seed=0).fit(X, y, epochs=3, callbacks=[es], diagnose=False)
    assert es.best_epoch is not None
    for value in (False, 0, "yes"):
        with pytest.raises(ConfigurationError, match=r"EarlyStopping always restores the best "
                           r"weights: restore_best_weights must be True"):
            EarlyStopping(restore_best_weights=value)


def _costs_from(values):
    """A callback that overwrites ``logs['cost']`` with ``values[epoch]`` (a scripted curve)."""

    class Scripted(Callback):
        def on_epoch_end(self, epoch, logs):
            logs["cost"] = values[epoch]

    return Scripted()


def test_early_stopping_start_from_epoch_ignores_the_warm_up_epochs(rng):
    # Keras's start_from_epoch: epochs 0 and 1 have the lowest cost but are not monitored
    X = rng.normal(size=(3, 40))
    y = (X[0] > 0).astype(float)
    curve = [0.1, 0.2, 0.9, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9]
    es = EarlyStopping(monitor="cost", patience=2, start_from_epoch=2)
    net = npdeep.Network([3, 4, 1], seed=0)
    h = net.fit(X, y, epochs=10, learning_rate=0.1, batch_size=20,
                callbacks=[_costs_from(curve), es], diagnose=False)
    assert es.best_epoch == 3 and es.best == 0.8
    assert len(h) == 6 and es.stopped_epoch == 5
    assert "best 0.8 at epoch 4" in h.stop_reason
    plain = EarlyStopping(monitor="cost", patience=2)
    npdeep.Network([3, 4, 1], seed=0).fit(X, y, epochs=10, learning_rate=0.1, batch_size=20,
                                          callbacks=[_costs_from(curve), plain], diagnose=False)
    assert plain.best_epoch == 0 and plain.stopped_epoch == 2


def test_early_stopping_baseline_stops_a_run_that_never_beats_it(rng):
    # Keras 3's baseline: epochs that improve but stay above 0.5 count towards the patience
    # without stopping training (tf.keras 2 stopped at the third, still improving); the first
    # epoch that does not improve stops it, and the best epoch is the one restored
    X = rng.normal(size=(3, 40))
    y = (X[0] > 0).astype(float)
    curve = [0.9, 0.8, 0.7, 0.6, 0.55, 0.6, 0.3, 0.2]
    es = EarlyStopping(monitor="cost", patience=3, baseline=0.5)
    net = npdeep.Network([3, 4, 1], seed=0)
    weights = []

    class Keep(Callback):
        def on_epoch_end(self, epoch, logs):
            weights.append(net.parameters.flat.copy())

    h = net.fit(X, y, epochs=8, learning_rate=0.1, batch_size=20,
                callbacks=[_costs_from(curve), Keep(), es], diagnose=False)
    assert len(h) == 6 and es.stopped_epoch == 5 and es.best_epoch == 4
    np.testing.assert_array_equal(net.parameters.flat, weights[4])
    assert "did not improve on both its best and the baseline 0.5 by more than 0 for 6 " \
        "epochs" in h.stop_reason
    # a run that keeps improving is never stopped, short of the baseline or not
    es = EarlyStopping(monitor="cost", patience=3, baseline=0.5)
    h = npdeep.Network([3, 4, 1], seed=0).fit(
        X, y, epochs=8, learning_rate=0.1, batch_size=20,
        callbacks=[_costs_from([0.9, 0.8, 0.7, 0.6, 0.58, 0.56, 0.54, 0.52]), es],
        diagnose=False)
    assert len(h) == 8 and es.stopped_epoch is None and es.best_epoch == 7
    # beating the baseline resets the count as any improvement does without one: epochs 0-2
    # fall short (3 epochs counted), epoch 3 beats 0.65, and the rest keep improving
    es = EarlyStopping(monitor="cost", patience=4, baseline=0.65)
    h = npdeep.Network([3, 4, 1], seed=0).fit(
        X, y, epochs=8, learning_rate=0.1, batch_size=20,
        callbacks=[_costs_from(curve), es], diagnose=False)
    assert len(h) == 8 and es.stopped_epoch is None and es.best_epoch == 7


def test_early_stopping_baseline_in_max_mode(rng):
    X = rng.normal(size=(3, 40))
    y = (X[0] > 0).astype(float)

    class Scripted(Callback):
        def on_epoch_end(self, epoch, logs):
            logs["accuracy"] = [0.5, 0.6, 0.7, 0.95, 0.9, 0.9][epoch]

    es = EarlyStopping(monitor="accuracy", patience=2, baseline=0.9)
    h = npdeep.Network([3, 4, 1], seed=0).fit(X, y, epochs=6, batch_size=20,
                                              callbacks=[Scripted(), es], diagnose=False)
    # epochs 0-2 improve short of 0.9 (counted, not stopping), epoch 3 beats it (count 0),
    # epochs 4 and 5 do not improve: patience 2 runs out at epoch 5
    assert len(h) == 6 and es.stopped_epoch == 5 and es.best_epoch == 3


@pytest.mark.parametrize("kwargs,match", [
    ({"baseline": float("nan")}, "baseline must be a finite number or None, got nan"),
    ({"baseline": "0.5"}, "baseline must be a finite number or None, got '0.5'"),
    ({"baseline": True}, "baseline must be a finite number or None, got True"),
    ({"start_from_epoch": -1}, "start_from_epoch must be an integer >= 0, got -1"),
    ({"start_from_epoch": 1.5}, "start_from_epoch must be an integer >= 0, got 1.5"),
])
def test_early_stopping_keras_options_bad_input(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        EarlyStopping(**kwargs)


class SetRateAtEpochEnd(Callback):
    """A Keras-style callback: Keras keeps a rate set at an epoch's end for the next one."""

    def on_epoch_end(self, epoch, logs):
        self.trainer.learning_rate = 0.001


def test_a_rate_set_in_on_epoch_end_warns_that_it_is_never_used(data):
    """Was silently replaced by the schedule's rate when the next epoch began."""
    X, y = data
    net = npdeep.Network([3, 4, 1], seed=0)
    with pytest.warns(UserWarning, match=r"a callback set trainer.learning_rate to 0.001 in "
                                         r"on_epoch_end \(the epoch used 0.1\); the schedule sets "
                                         r"the rate again .* set trainer.learning_rate in "
                                         r"on_epoch_begin") as record:
        h = net.fit(X, y, epochs=4, learning_rate=0.1, callbacks=[SetRateAtEpochEnd()],
                    diagnose=False)
    assert len(record) == 1  # once per fit
    assert h.learning_rate == [0.1] * 4
    with warnings.catch_warnings():  # a single epoch, or one moving the base: no warning
        warnings.simplefilter("error")
        net.fit(X, y, epochs=1, callbacks=[SetRateAtEpochEnd()], diagnose=False)
        net.fit(X, y, epochs=4, callbacks=[HalveRateAfter(1)], diagnose=False)


def test_callbacks_repr_their_arguments_as_estimators_do(tmp_path):
    # an estimator's repr (and GridSearchCV's cv_results_) showed <... object at 0x7f...>
    from npdeep import DeepClassifier

    assert repr(EarlyStopping()) == "EarlyStopping()"
    assert repr(EarlyStopping(monitor="cost", patience=3, baseline=0.5, mode="min")) == \
        "EarlyStopping(monitor='cost', patience=3, baseline=0.5, mode='min')"
    assert repr(ModelCheckpoint("ck-{epoch}.npz", save_best_only=True)) == \
        "ModelCheckpoint(path='ck-{epoch}.npz', save_best_only=True)"
    assert repr(CSVLogger("log.csv", append=True)) == "CSVLogger(path='log.csv', append=True)"
    assert repr(ProgressBar(quiet=True)) == "ProgressBar(quiet=True)"

    class Mine(Callback):
        def __init__(self, k=1, table=None):
            self.k, self.table = k, table

    assert repr(Mine(k=2, table=np.zeros(2))) == "Mine(k=2, table=array([0., 0.]))"
    clf = DeepClassifier(callbacks=[EarlyStopping(patience=3), CSVLogger("log.csv")])
    assert "callbacks=[EarlyStopping(patience=3), CSVLogger(path='log.csv')]" in repr(clf)
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    es = EarlyStopping(monitor="cost", patience=2)
    npdeep.Network([3, 4, 1], seed=0).fit(X.T, y, epochs=3, callbacks=[es], diagnose=False)
    assert repr(es) == "EarlyStopping(monitor='cost', patience=2)"  # training state not shown


def test_a_keras_name_read_from_the_history_gets_npdeeps(data, tmp_path):
    X, y = data
    net = small()
    history = net.fit(X, y, epochs=2, validation_fraction=0.25)
    logged = r"logged: \['cost', 'accuracy', 'val_cost', 'val_accuracy', 'learning_rate', "
    with pytest.raises(KeyError, match=logged + r".*\]; npdeep's name for it is 'cost'"):
        history.history["loss"]
    with pytest.raises(AttributeError, match=r"History has no 'val_acc'; " + logged
                       + r".*\]; npdeep's name for it is 'val_accuracy'"):
        _ = history.val_acc
    with pytest.raises(KeyError, match=r"History has no 'foo'; logged: \[.*'time'\]\"$"):
        history.history["foo"]
    assert history.history.get("loss") is None and "loss" not in history.history
    net.save(tmp_path / "m.npz")  # a history read back from a model file answers the same
    with pytest.raises(KeyError, match="npdeep's name for it is 'cost'"):
        npdeep.load(tmp_path / "m.npz").history.history["loss"]


def test_lambda_callback_runs_the_functions_given_and_no_others(data):
    # Keras's LambdaCallback: ported code raised ImportError; hooks left None cost nothing
    from npdeep.callbacks import CallbackList, LambdaCallback

    X, y = data
    seen = []
    cb = LambdaCallback(on_train_begin=lambda logs: seen.append(("begin", logs["epochs"])),
                        on_batch_end=lambda batch, logs: seen.append(("batch", batch)),
                        on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch,
                                                                      logs["cost"])),
                        on_train_end=lambda logs: seen.append(("end",)))
    history = small().fit(X, y, epochs=2, batch_size=32, callbacks=[cb], diagnose=False)
    assert seen == [("begin", 2), ("batch", 0), ("batch", 1), ("epoch", 0, history.cost[0]),
                    ("batch", 0), ("batch", 1), ("epoch", 1, history.cost[1]), ("end",)]
    only_epochs = CallbackList([LambdaCallback(on_epoch_end=print)], None, None)
    assert not only_epochs.wants_batches  # no per-step call for a hook not given
    with pytest.raises(ConfigurationError, match="LambdaCallback on_epoch_end must be a "
                                                 "function or None, got 'print'"):
        LambdaCallback(on_epoch_end="print")


@pytest.mark.parametrize("name, hint", [("ReduceLROnPlateau", "schedule='plateau'"),
                                        ("LearningRateScheduler", "Schedule subclass"),
                                        ("BackupAndRestore", "npdeep.checkpoint.resume")])
def test_keras_only_callbacks_say_what_npdeep_uses_instead(name, hint):
    said = rf"no {name} \(a Keras callback\):.*{re.escape(hint)}"
    with pytest.raises(ImportError, match=said):
        exec(f"from npdeep.callbacks import {name}", {})
    with pytest.raises(ImportError, match=said):
        exec(f"def f():\n    from npdeep.callbacks import LambdaCallback, {name}\nf()", {})
    # everywhere else a missing name is an AttributeError, which hasattr and getattr handle
    assert not hasattr(npdeep.callbacks, name)
    assert getattr(npdeep.callbacks, name, None) is None
    with pytest.raises(AttributeError, match=said):
        getattr(npdeep.callbacks, name)
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        npdeep.callbacks.Nothing  # noqa: B018


@pytest.mark.parametrize("make, said", [
    (lambda: EarlyStopping(verbose=1), r"EarlyStopping\(\) got an unexpected keyword argument "
     r"'verbose' \(a Keras argument\): npdeep's EarlyStopping says why it stopped in "
     r"history\.stop_reason"),
    (lambda: ModelCheckpoint(filepath="b.npz"), r"'filepath' \(a Keras argument\): npdeep's "
     r"name for it is path, the first argument"),
    (lambda: ModelCheckpoint("b.npz", save_weights_only=True), r"'save_weights_only' .*"
     r"npdeep\.checkpoint\.resume needs"),
    (lambda: ModelCheckpoint("b.npz", save_freq=5), r"'save_freq' .*every=N"),
    (lambda: CSVLogger(filename="log.csv"), r"CSVLogger\(\) got an unexpected keyword argument "
     r"'filename' \(a Keras argument\): npdeep's name for it is path"),
    (lambda: CSVLogger("log.csv", separator=";"), r"'separator' .*writes commas"),
])
def test_keras_arguments_of_callbacks_are_answered(make, said):
    # they raised a bare "unexpected keyword argument", where fit answers Keras's names
    with pytest.raises(TypeError, match=said):
        make()


def test_the_answered_callbacks_keep_their_signatures_and_other_errors():
    import inspect

    assert list(inspect.signature(EarlyStopping).parameters)[:2] == ["monitor", "patience"]
    # Python's own message, nothing added; Python 3.13 itself appends its suggestion
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'pateince'"
                                        r"(\. Did you mean 'patience'\?)?$"):
        EarlyStopping(pateince=3)
    assert EarlyStopping(patience=2).patience == 2


def test_a_checkpoint_path_that_is_a_folder_is_refused_before_training(tmp_path, data):
    # it was refused only by the first save, after epoch 1 had trained
    X, y = data
    net = small()
    before = net.parameters.flat.copy()
    with pytest.raises(ConfigurationError, match=r"ModelCheckpoint: '.*' is a folder; give the "
                                                 r"path of the file to write"):
        net.fit(X, y, epochs=2, callbacks=[ModelCheckpoint(str(tmp_path))])
    np.testing.assert_array_equal(net.parameters.flat, before)  # no epoch trained


class Terminal(io.StringIO):
    """A stream that says it is a terminal (of unknown size: 80 columns, as tqdm takes it)."""

    def isatty(self):
        return True


def _frames(text: str) -> list[str]:
    return [f.rstrip() for f in re.split(r"[\r\n]", text) if f.strip()]


@pytest.mark.parametrize("columns", [100, 80, 60, 40])
def test_a_live_bar_leaves_out_entries_that_do_not_fit_rather_than_cut_a_number(
        data, monkeypatch, columns):
    # at 80 columns the line ended "val_cost=0" where val_cost was 0.3805: tqdm cut it at
    # the screen's edge, after learning_rate and time took the room
    import npdeep.callbacks as callbacks_module

    monkeypatch.setattr(callbacks_module, "_columns", lambda stream: columns)
    X, y = data
    out = Terminal()
    h = small().fit(X, y, epochs=3, batch_size=16, learning_rate=0.1, validation_data=(X, y),
                    callbacks=[ProgressBar(stream=out)], diagnose=False)
    frames = _frames(out.getvalue())
    # this fake terminal's bar is 10 wide; a real one's shrinks to fit: the rest must fit
    assert frames and all(len(f) - 9 <= columns for f in frames)
    last = frames[-1]
    assert last.startswith("epoch 3/3: 100%") and "| 12/12 [" in last  # batches: 3 x 4
    assert "learning_rate" not in last and "time" not in last
    values = dict(re.findall(r"(\w+)=(\S+?)[\s\]]", last))
    logged = {k: getattr(h, k)[-1] for k in ("cost", "accuracy", "val_cost", "val_accuracy")}
    assert set(values) <= set(logged)
    for key, text in values.items():  # each shown whole
        assert text == f"{logged[key]:.4g}"
    if columns >= 100:  # val_cost is the first left out, the accuracies kept
        assert set(values) == {"cost", "accuracy", "val_accuracy"}
    if columns == 80:
        assert set(values) == {"cost", "accuracy"}
    if columns <= 40:
        assert values == {}


def test_a_terminal_reporting_no_size_gets_plain_lines(data, monkeypatch):
    # script -qc in a CI job, docker run -t: a tty of 0 x 0, where tqdm draws nothing, so
    # fit(verbose=1) printed no progress at all
    import os

    import npdeep.callbacks as callbacks_module

    class Tty(Terminal):
        def fileno(self):
            return 99

    monkeypatch.setattr(callbacks_module.os, "get_terminal_size",
                        lambda fd: os.terminal_size((0, 0)))
    X, y = data
    out = Tty()
    small().fit(X, y, epochs=2, callbacks=[ProgressBar(stream=out)], diagnose=False)
    assert [line.split()[:2] for line in out.getvalue().splitlines()] == [
        ["epoch", "1/2"], ["epoch", "2/2"]]
    from npdeep.cli.progress import on_terminal

    assert on_terminal is callbacks_module.on_terminal  # one rule for the CLI and fit


def test_a_live_bar_counts_batches_and_plain_lines_add_no_batch_hook(data):
    X, y = data
    out = Terminal()
    bar = ProgressBar(stream=out)
    bar.mininterval = 0  # every batch drawn
    small().fit(X, y, epochs=2, batch_size=20, diagnose=False, callbacks=[bar])
    counts = [int(m) for m in re.findall(r"\| (\d+)/6 \[", out.getvalue())]
    assert counts == sorted(counts) and {1, 2, 3, 4, 5, 6} <= set(counts)
    from npdeep.callbacks import CallbackList

    live = CallbackList([ProgressBar(stream=Terminal())], None, None)
    assert live.wants_batch_end and not live.batches_may_stop  # no norms at every batch
    plain = CallbackList([ProgressBar(stream=io.StringIO())], None, None)
    assert not plain.wants_batches


def test_plain_lines_write_numpy_numbers_and_loggers_write_numpy_arrays(data, tmp_path):
    # np.float32 was left out of the line; a logged array was written to the CSV as
    # NumPy's truncated text, "[0. 0.14 ... 285.57]", with newlines inside the cell
    X, y = data
    out = io.StringIO()

    def add(epoch, logs):
        logs["per_class"] = np.arange(2000) / 7
        logs["f32"] = np.float32(0.5)
        logs["count"] = np.int64(3)

    small().fit(X, y, epochs=1, diagnose=False,
                callbacks=[npdeep.callbacks.LambdaCallback(on_epoch_end=add),
                           CSVLogger(tmp_path / "a.csv"),
                           ProgressBar(stream=out, force_plain=True)])
    assert "f32=0.5" in out.getvalue() and "count=3" in out.getvalue()
    with open(tmp_path / "a.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1
    assert float(rows[0]["per_clas_2000"]) == pytest.approx(1999 / 7)
    assert rows[0]["f32"] == "0.5" and rows[0]["count"] == "3"


def test_loggers_expand_the_home_folder(data, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    X, y = data
    small().fit(X, y, epochs=1, diagnose=False,
                callbacks=[CSVLogger("~/a.csv"), JSONLogger("~/a.jsonl")])
    assert (tmp_path / "a.csv").is_file() and (tmp_path / "a.jsonl").is_file()


def test_a_quiet_bar_and_verbose_print_the_stop_reason_once(data, capsys):
    X, y = data
    quiet = io.StringIO()
    small().fit(X, y, epochs=50, learning_rate=0.05, validation_fraction=0.3, verbose=2,
                optimizer="adam", diagnose=False,
                callbacks=[EarlyStopping(patience=0), ProgressBar(stream=quiet, quiet=True)])
    err = capsys.readouterr().err
    assert "epoch 1/50" in err and "stopped:" not in err  # verbose's lines, not the reason
    assert quiet.getvalue().count("stopped: early stopping at epoch") == 1


def test_a_progress_bar_subclass_keeps_its_own_batch_hooks_off_a_terminal():
    import io

    from npdeep.callbacks import ProgressBar

    class BatchBar(ProgressBar):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.ends = 0

        def on_batch_end(self, batch, logs):
            self.ends += 1

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 100))
    bar = BatchBar(stream=io.StringIO())  # not a terminal: ProgressBar's own hooks are off
    npdeep.Network([3, 4, 1], seed=0).fit(X, (X[0] > 0).astype(float), epochs=2,
                                          batch_size=10, callbacks=[bar], diagnose=False)
    assert bar.ends == 20
