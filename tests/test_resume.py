"""Checkpoints and resume: bit-identical continuation, interruption leaves a loadable file."""

import warnings

import numpy as np
import pytest
from file_helpers import retouched
from resume_helpers import fresh

import npdeep
from npdeep.callbacks import Callback, ModelCheckpoint
from npdeep.checkpoint import load_checkpoint, resume

SETTINGS = dict(learning_rate=0.01, batch_size=16, optimizer="adam", schedule="cosine",
                clip_norm=5.0, validation_fraction=0.2, class_weight={0: 1.0, 1: 2.0},
                diagnose=False)


@pytest.fixture
def data(rng):
    X = rng.normal(size=(5, 70))
    y = (X[0] - X[1] + 0.3 * rng.normal(size=70) > 0).astype(float)
    return X, y


class InterruptAt(Callback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, batch, logs):
        if (self.trainer.epoch, batch) == self.at:
            raise KeyboardInterrupt


def test_interrupt_then_resume_is_bit_identical(tmp_path, data):
    X, y = data
    reference = fresh()
    ref_hist = reference.fit(X, y, epochs=6, **SETTINGS)

    path = tmp_path / "ckpt.npz"
    net = fresh()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=6, callbacks=[ModelCheckpoint(path), InterruptAt(3, 1)],
                **SETTINGS)
    assert "interrupted" in net.history.stop_reason
    ck = load_checkpoint(path)           # intact and loadable
    assert ck.epoch == 3 and ck.optimizer.t > 0
    assert npdeep.load(path).units == [5, 12, 6, 1]

    resumed = resume(path, X, y, diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert resumed.history.cost == ref_hist.cost
    assert resumed.history.val_cost == ref_hist.val_cost
    assert resumed.history.learning_rate == ref_hist.learning_rate


def test_checkpoint_round_trip_into_different_values(tmp_path, data):
    X, y = data
    net = fresh()
    net.fit(X, y, epochs=2, callbacks=[ModelCheckpoint(tmp_path / "c.npz")], **SETTINGS)
    ck = load_checkpoint(tmp_path / "c.npz")
    other = npdeep.Network([5, 12, 6, 1], activation="relu", seed=99)
    assert not np.array_equal(other.parameters.flat, ck.network.parameters.flat)
    np.testing.assert_array_equal(ck.network.parameters.flat, net.parameters.flat)
    for name in ("m", "v"):
        assert list(ck.optimizer.state_views(name)) == ["W1", "b1", "W2", "b2", "W3", "b3"]
        assert np.abs(ck.optimizer.state[name]).sum() > 0


def test_plain_model_file_cannot_be_resumed(tmp_path, data):
    X, y = data
    net = fresh()
    net.save(tmp_path / "m.npz")
    with pytest.raises(npdeep.ModelFileError, match="without optimizer state cannot be resumed"):
        resume(tmp_path / "m.npz", X, y)


def test_a_file_of_npdeep_train_is_no_checkpoint(tmp_path, data, capsys):
    # before: its `training` (the command's options) was read as a training state:
    # "invalid training state in the checkpoint: dictionary update sequence element #0..."
    from npdeep.cli import run

    rng = np.random.default_rng(0)
    csv = tmp_path / "d.csv"
    Xr = rng.normal(size=(60, 3))
    np.savetxt(csv, np.column_stack([Xr, Xr[:, 0] > 0]), delimiter=",",
               header="a,b,c,y", comments="", fmt="%g")
    assert run(["train", str(csv), "--epochs", "2", "-q", "-o", str(tmp_path / "cls.npz")]) == 0
    capsys.readouterr()
    ck = load_checkpoint(tmp_path / "cls.npz")
    assert ck.optimizer is None and ck.epoch == 0
    with pytest.raises(npdeep.ModelFileError, match=r"cls.npz: a model file without optimizer "
                       r"state cannot be resumed \(Network.save and `npdeep train` store the "
                       r"weights, not the training state\); save checkpoints with "
                       r"npdeep.callbacks.ModelCheckpoint"):
        resume(tmp_path / "cls.npz", Xr.T, (Xr[:, :1] > 0).T.astype(float), epochs=50)


def test_resume_refuses_arguments_that_would_misalign_the_run(tmp_path, data):
    X, y = data
    Xv, yv = X[:, :20], y[:20]
    net = fresh()
    net.fit(X, y, epochs=4, batch_size=16, validation_data=(Xv, yv), diagnose=False,
            callbacks=[ModelCheckpoint(tmp_path / "v-{epoch}.npz")])
    err = npdeep.errors.ConfigurationError
    with pytest.raises(err, match=r"run validated on validation_data; pass the same "):
        resume(tmp_path / "v-2.npz", X, y)
    with pytest.raises(err, match=r"epochs=4 is the total to reach, and the checkpoint has "
                                  r"already trained 4 epochs; give epochs > 4"):
        resume(tmp_path / "v-4.npz", X, y, validation_data=(Xv, yv))
    with pytest.raises(err, match=r"epochs must be an integer >= 1, got 0"):
        resume(tmp_path / "v-2.npz", X, y, epochs=0, validation_data=(Xv, yv))
    plain = fresh()
    plain.fit(X, y, epochs=3, batch_size=16, diagnose=False,
              callbacks=[ModelCheckpoint(tmp_path / "p-{epoch}.npz")])
    with pytest.raises(err, match=r"run had no validation data; resume without"):
        resume(tmp_path / "p-2.npz", X, y, validation_data=(Xv, yv))
    resumed = resume(tmp_path / "v-2.npz", X, y, validation_data=(Xv, yv), diagnose=False)
    assert len(resumed.history.cost) == len(resumed.history.val_cost) == 4
    # a run that split validation_fraction off X: validation_data was taken, and the resumed
    # epochs trained on all of X
    fresh().fit(X, y, epochs=3, batch_size=16, validation_fraction=0.25, diagnose=False,
                callbacks=[ModelCheckpoint(tmp_path / "f-{epoch}.npz")])
    with pytest.raises(err, match=r"f-2.npz: the checkpoint's run held out "
                                  r"validation_fraction=0.25 of X for validation; resume "
                                  r"without validation_data"):
        resume(tmp_path / "f-2.npz", X, y, validation_data=(Xv, yv))


@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(5, 40))
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    fresh().fit(X, X[0] > 0, epochs=2, callbacks=[ModelCheckpoint(path)], **SETTINGS)
    return path


def _state(key, make):
    return lambda h, a: a.__setitem__(key, make(a[key]))


@pytest.mark.parametrize("edit, message", [
    (_state("optimizer.m.W1", lambda v: v[:1, :1]),  # (1, 1) broadcast over W1 before
     r"optimizer state 'optimizer.m.W1' has shape \(1, 1\), the parameter needs \(12, 5\)"),
    (_state("optimizer.v.b2", lambda v: v * np.nan), "'optimizer.v.b2' must hold finite real"),
    (_state("optimizer.m.W3", lambda v: v + 1j), r"must hold finite real numbers \(dtype complex"),
    # a negative second moment made every later step NaN (sqrt), an error far from the file
    (_state("optimizer.v.W2", lambda v: -v - 1.0),
     r"optimizer state 'optimizer.v.W2' is a mean of squared gradients: it must hold numbers "
     r">= 0"),
    (lambda h, a: a.__setitem__("optimizer.q.W1", a["W1"]),
     r"arrays \['optimizer.q.W1'\] are not state of the adam optimizer"),
    (lambda h, a: a.__setitem__("notes", a["W1"]), r"arrays \[.*'notes'.*\] do not match"),
    (lambda h, a: h["training"].update(epoch=1.7), "epoch must be an integer >= 0, got 1.7"),
    (lambda h, a: h["training"].update(epoch=-3), "epoch must be an integer >= 0, got -3"),
    (lambda h, a: h["training"]["optimizer"].update(t=-5),
     "optimizer step count t must be an integer >= 0, got -5"),
    (lambda h, a: h.update(history=7), "invalid model: history must be a JSON object"),
    (lambda h, a: h["history"].update(cost="low"), "invalid model: history 'cost' must be a list"),
])
def test_a_tampered_checkpoint_is_refused_naming_the_file(tmp_path, checkpoint_file, edit,
                                                          message):
    bad = retouched(checkpoint_file, tmp_path / "bad.npz", edit)
    with pytest.raises(npdeep.ModelFileError, match=message) as info:
        load_checkpoint(bad)
    assert "bad.npz" in str(info.value)


@pytest.mark.filterwarnings("ignore:.*cosine schedule spans:UserWarning")  # epochs=3 past 2
def test_a_checkpoint_setting_beyond_float_range_is_a_configuration_error(tmp_path,
                                                                          checkpoint_file):
    bad = retouched(checkpoint_file, tmp_path / "bad.npz",
                     lambda h, a: h["training"]["config"].update(clip_norm=10**400))
    X = np.random.default_rng(0).normal(size=(5, 40))
    with pytest.raises(npdeep.errors.ConfigurationError,
                       match=r"clip_norm must be a finite number > 0, got 1000000"):
        resume(bad, X, X[0] > 0, epochs=3)


@pytest.fixture(scope="module")
def plateau_checkpoint(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(5, 40))
    path = tmp_path_factory.mktemp("ck") / "plateau.npz"
    fresh().fit(X, X[0] > 0, epochs=2, callbacks=[ModelCheckpoint(path)],
                **{**SETTINGS, "schedule": {"name": "plateau", "monitor": "cost"}})
    return path


@pytest.mark.parametrize("entry, value, message", [
    ("scale", "abc", r"plateau state 'scale' must be a number in \[0, 1\], got 'abc'"),
    ("scale", -1.0, r"plateau state 'scale' must be a number in \[0, 1\], got -1.0"),
    ("scale", 5.0, r"plateau state 'scale' must be a number in \[0, 1\], got 5.0"),
    ("wait", 1.7, "plateau state 'wait' must be an integer >= 0, got 1.7"),
    ("wait", -3, "plateau state 'wait' must be an integer >= 0, got -3"),
    ("best", "x", "plateau state 'best' must be a finite number or null, got 'x'"),
])
def test_a_tampered_schedule_state_is_refused_naming_the_file(tmp_path, plateau_checkpoint,
                                                              entry, value, message):
    """Was accepted (a negative or > 1 scale set the rate silently) or a bare ValueError from
    float() at resume, after the checkpoint had loaded."""
    bad = retouched(plateau_checkpoint, tmp_path / "bad.npz",
                     lambda h, a: h["training"]["schedule"]["state"].update({entry: value}))
    with pytest.raises(npdeep.ModelFileError, match=message) as info:
        load_checkpoint(bad)
    assert "bad.npz" in str(info.value)


def test_a_plateau_state_round_trips_through_a_checkpoint(plateau_checkpoint):
    state = load_checkpoint(plateau_checkpoint).schedule.get_state()
    assert 0 < state["scale"] <= 1 and isinstance(state["wait"], int)
    assert state["best"] is not None


def test_resume_refuses_other_data_than_the_checkpoint_s_run(tmp_path, data):
    X, y = data
    w = np.linspace(1.0, 2.0, X.shape[1])
    fresh().fit(X, y, epochs=3, batch_size=16, sample_weight=w, diagnose=False,
                callbacks=[ModelCheckpoint(tmp_path / "w-{epoch}.npz")])
    fresh().fit(X, y, epochs=3, batch_size=16, diagnose=False,
                callbacks=[ModelCheckpoint(tmp_path / "p-{epoch}.npz")])
    err = npdeep.errors.ConfigurationError
    with pytest.raises(err, match=r"w-2.npz: the checkpoint's run trained with sample_weight; "
                                  r"pass the same sample_weight to resume"):
        resume(tmp_path / "w-2.npz", X, y)
    with pytest.raises(err, match=r"p-2.npz: the checkpoint's run had no sample_weight; "
                                  r"resume without it"):
        resume(tmp_path / "p-2.npz", X, y, sample_weight=w)
    with pytest.raises(npdeep.DataError, match=r"p-2.npz: the checkpoint's run trained on "
                                               r"m = 70 samples, this X has 50; pass the same X"):
        resume(tmp_path / "p-2.npz", X[:, :50], y[:50])
    with pytest.raises(err, match=r"callbacks must be a list of Callback, got "
                                  r"ModelCheckpoint\(path="):
        resume(tmp_path / "p-2.npz", X, y, callbacks=ModelCheckpoint(tmp_path / "x.npz"))
    resumed = resume(tmp_path / "w-2.npz", X, y, sample_weight=w, diagnose=False)
    assert len(resumed.history.cost) == 3


class LogsScore(Callback):
    """Adds a value of its own to the epoch's logs (a custom metric), after the checkpoint."""

    def on_epoch_end(self, epoch, logs):
        logs["score"] = [0.5, 0.6, 0.6, 0.6, 0.7, 0.7][epoch]


def test_resume_with_a_plateau_on_a_name_a_later_callback_logs_is_bit_identical(tmp_path,
                                                                                data):
    """The checkpoint, listed before the callback that logs the plateau's monitor, is written
    once the plateau has read that epoch's value (else the resumed run would miss a cut)."""
    X, y = data
    settings = {**SETTINGS, "schedule": {"name": "plateau", "monitor": "score", "mode": "max",
                                         "patience": 0, "min_delta": 0.0}}
    reference = fresh()
    ref_hist = reference.fit(X, y, epochs=6, callbacks=[LogsScore()], **settings)
    assert ref_hist.learning_rate[3] == 0.005 and ref_hist.learning_rate[4] == 0.0025

    path = tmp_path / "ckpt.npz"
    net = fresh()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=6, callbacks=[ModelCheckpoint(path), LogsScore(), InterruptAt(3, 1)],
                **settings)
    ck = load_checkpoint(path)
    assert ck.epoch == 3 and ck.schedule.get_state()["scale"] == 0.5  # epoch 2's cut is in
    resumed = resume(path, X, y, callbacks=[LogsScore()], diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert resumed.history.learning_rate == ref_hist.learning_rate


def test_resuming_past_the_run_s_epochs_says_a_cosine_schedule_is_stretched(tmp_path, rng):
    # the rate jumped back up (0.00345 to 0.00552) where the resumed run began, silently
    X = rng.normal(size=(3, 40))
    y = (X[0] > 0).astype(float)
    npdeep.Network([3, 4, 1], seed=0).fit(
        X, y, epochs=10, optimizer="adam", schedule="cosine", learning_rate=0.01,
        callbacks=[ModelCheckpoint(tmp_path / "c{epoch}.npz")], diagnose=False)
    with pytest.warns(UserWarning, match=r"c7\.npz: the run's cosine schedule spans its 10 "
                      r"epochs; resumed up to 15, it spans 15, so the learning rate rises again "
                      r"at epoch 8 \(a cosine schedule with period=10 keeps the first curve"):
        net = npdeep.checkpoint.resume(tmp_path / "c7.npz", X, y, epochs=15, diagnose=False)
    rates = net.history.learning_rate
    assert rates[7] > rates[6]  # what the warning says
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # up to the run's own total: the same curve, no word
        npdeep.checkpoint.resume(tmp_path / "c7.npz", X, y, diagnose=False)


def test_resume_refuses_validation_weighed_otherwise_than_the_run(tmp_path, data):
    X, y = data
    Xv, yv, wv = X[:, :20], y[:20], np.linspace(0.1, 2.0, 20)
    full = fresh()
    full.fit(X, y, epochs=4, batch_size=16, validation_data=(Xv, yv, wv), diagnose=False,
             callbacks=[ModelCheckpoint(tmp_path / "w-{epoch}.npz")])
    err = npdeep.errors.ConfigurationError
    with pytest.raises(err, match=r"w-2\.npz: the checkpoint's run weighed its validation "
                                  r"data; pass the same \(X_val, Y_val, sample_weight_val\)"):
        resume(tmp_path / "w-2.npz", X, y, validation_data=(Xv, yv))
    resumed = resume(tmp_path / "w-2.npz", X, y, validation_data=(Xv, yv, wv), diagnose=False)
    assert resumed.history.val_cost == full.history.val_cost  # bit for bit
    fresh().fit(X, y, epochs=3, batch_size=16, validation_data=(Xv, yv), diagnose=False,
                callbacks=[ModelCheckpoint(tmp_path / "u-{epoch}.npz")])
    with pytest.raises(err, match=r"u-2\.npz: the checkpoint's run had no validation weights"):
        resume(tmp_path / "u-2.npz", X, y, validation_data=(Xv, yv, wv))
