"""Resume with EarlyStopping: it stops at the same epoch and restores the same weights as a
run that was never interrupted, whatever the order of the callbacks."""

import warnings

import numpy as np
import pytest
from file_helpers import retouched
from resume_helpers import InterruptAt, fresh, make_data

import npdeep
from npdeep.callbacks import Callback, EarlyStopping, ModelCheckpoint
from npdeep.checkpoint import load_checkpoint, resume

BASE = dict(optimizer="adam", validation_fraction=0.2, diagnose=False)


@pytest.fixture(scope="module")
def data():
    return make_data()


def _logged(history):
    """Everything a history holds but the (measured, so varying) epoch times."""
    return {k: v for k, v in history.to_dict().items() if k != "time"}


def _reference(data, settings, es_kwargs, epochs=30):
    X, y = data
    net, es = fresh(), EarlyStopping(**es_kwargs)
    history = net.fit(X, y, epochs=epochs, callbacks=[es], **BASE, **settings)
    assert history.stop_reason.startswith("early stopping at epoch")  # stops before `epochs`
    return net, es


# (fit settings, EarlyStopping, reference's best epoch and stop epoch, counted from 0)
CASES = {
    "mini-batch val_cost": (dict(learning_rate=0.05, batch_size=16),
                            dict(monitor="val_cost", patience=3), 5, 8),
    "mini-batch cost": (dict(learning_rate=0.2, batch_size=16),
                        dict(monitor="cost", patience=3), 10, 13),
    "full-batch val_cost": (dict(learning_rate=0.5), dict(monitor="val_cost", patience=3), 8, 11),
    "full-batch cost": (dict(learning_rate=0.2), dict(monitor="cost", patience=3), 9, 12),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("best_before_resume", [False, True])
@pytest.mark.parametrize("checkpoint_first", [True, False])
def test_resume_with_early_stopping_equals_the_uninterrupted_run(tmp_path, data, case,
                                                                 best_before_resume,
                                                                 checkpoint_first):
    settings, es_kwargs, best, stop = CASES[case]
    reference, ref_es = _reference(data, settings, es_kwargs)
    assert (ref_es.best_epoch, ref_es.stopped_epoch) == (best, stop)
    # interrupted during epoch `at`: the last checkpoint holds `at` epochs, epochs 0..at-1
    at = stop - 1 if best_before_resume else best - 1
    X, y = data
    path = tmp_path / "ck.npz"
    checkpoint, es = ModelCheckpoint(path), EarlyStopping(**es_kwargs)
    callbacks = [checkpoint, es] if checkpoint_first else [es, checkpoint]
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(X, y, epochs=30, callbacks=[*callbacks, InterruptAt(at)], **BASE,
                    **settings)
    saved = load_checkpoint(path)
    assert saved.epoch == at
    [(state, weights)] = saved.early_stopping
    assert (best < at) == best_before_resume  # the reference's best: before or after it
    assert state["best_epoch"] == best if best_before_resume else state["best_epoch"] < at
    assert state["wait"] == at - 1 - state["best_epoch"]

    again = EarlyStopping(**es_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matched state: nothing to warn about
        resumed = resume(path, X, y, callbacks=[again], diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    np.testing.assert_array_equal(again.best_weights, ref_es.best_weights)
    assert (again.best_epoch, again.stopped_epoch) == (best, stop)
    assert _logged(resumed.history) == _logged(reference.history)
    assert resumed.history.stop_reason == reference.history.stop_reason


class RaiseAtEpochEnd(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_ctrl_c_in_a_later_on_epoch_end_leaves_the_previous_epochs_file(tmp_path, data):
    """A ModelCheckpoint before an EarlyStopping writes once every callback ended the epoch."""
    settings, es_kwargs, best, stop = CASES["mini-batch val_cost"]
    reference, _ = _reference(data, settings, es_kwargs)
    X, y = data
    path = tmp_path / "ck.npz"
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(X, y, epochs=30, **BASE, **settings, callbacks=[
            ModelCheckpoint(path), EarlyStopping(**es_kwargs), RaiseAtEpochEnd(best + 1)])
    assert load_checkpoint(path).epoch == best + 1  # epoch best + 1's file was not written
    resumed = resume(path, X, y, callbacks=[EarlyStopping(**es_kwargs)], diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert _logged(resumed.history) == _logged(reference.history)


def test_the_best_only_full_batch_checkpoint_resumes_from_the_best_epochs_start(tmp_path,
                                                                                data):
    """The file holds the state at the best epoch's start, so the EarlyStopping's of then."""
    settings, es_kwargs, best, stop = CASES["full-batch cost"]
    reference, _ = _reference(data, settings, es_kwargs)
    X, y = data
    path = tmp_path / "best.npz"
    fresh().fit(X, y, epochs=30, **BASE, **settings, callbacks=[
        EarlyStopping(**es_kwargs), ModelCheckpoint(path, save_best_only=True, monitor="cost")])
    saved = load_checkpoint(path)
    [(state, _)] = saved.early_stopping
    assert saved.epoch == best and state["best_epoch"] == best - 1
    resumed = resume(path, X, y, diagnose=False, callbacks=[
        EarlyStopping(**es_kwargs), ModelCheckpoint(path, save_best_only=True, monitor="cost")])
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert _logged(resumed.history) == _logged(reference.history)


def test_a_checkpoint_of_the_stopping_epoch_resumes_to_the_same_end(tmp_path, data):
    """Written after EarlyStopping stopped the run: no epoch trains, the best weights return."""
    settings, es_kwargs, best, stop = CASES["mini-batch val_cost"]
    reference, _ = _reference(data, settings, es_kwargs)
    X, y = data
    fresh().fit(X, y, epochs=30, **BASE, **settings, callbacks=[
        ModelCheckpoint(tmp_path / "ck-{epoch}.npz"), EarlyStopping(**es_kwargs)])
    path = tmp_path / f"ck-{stop + 1}.npz"
    [(state, _)] = load_checkpoint(path).early_stopping
    assert state["stopped_epoch"] == stop
    resumed = resume(path, X, y, callbacks=[EarlyStopping(**es_kwargs)], diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert _logged(resumed.history) == _logged(reference.history)
    assert resumed.history.stop_reason.startswith(f"early stopping at epoch {stop + 1}: ")


def test_a_longer_patience_goes_on_from_the_checkpoint_of_the_stopping_epoch(tmp_path, data):
    # it stopped again before any epoch, whatever the patience: a user raising patience and
    # epochs to train on got no epoch
    settings, es_kwargs, best, stop = CASES["mini-batch val_cost"]
    X, y = data
    fresh().fit(X, y, epochs=30, **BASE, **settings, callbacks=[
        ModelCheckpoint(tmp_path / "ck-{epoch}.npz"), EarlyStopping(**es_kwargs)])
    longer = EarlyStopping(**{**es_kwargs, "patience": 50})
    resumed = resume(tmp_path / f"ck-{stop + 1}.npz", X, y, epochs=stop + 4,
                     callbacks=[longer], diagnose=False)
    assert len(resumed.history) == stop + 4 and resumed.history.stop_reason is None
    assert longer.stopped_epoch is None and longer.wait >= 3
    same = EarlyStopping(**es_kwargs)  # the patience that stopped it: stops again at once
    resumed = resume(tmp_path / f"ck-{stop + 1}.npz", X, y, epochs=stop + 4,
                     callbacks=[same], diagnose=False)
    assert len(resumed.history) == stop + 1 and same.stopped_epoch == stop


@pytest.fixture(scope="module")
def es_checkpoint(tmp_path_factory, data):
    """A checkpoint of 7 epochs with one EarlyStopping whose best epoch is 5."""
    settings, es_kwargs, _, _ = CASES["mini-batch val_cost"]
    X, y = data
    path = tmp_path_factory.mktemp("es") / "ck-{epoch}.npz"
    fresh().fit(X, y, epochs=7, **BASE, **settings,
                callbacks=[ModelCheckpoint(path), EarlyStopping(**es_kwargs)])
    return tmp_path_factory.getbasetemp() / path.parent.name / "ck-4.npz"


def test_a_checkpoint_without_early_stopping_state_still_resumes(tmp_path, data,
                                                                 es_checkpoint):
    """A file from before the state was stored: as before, EarlyStopping starts afresh."""
    old = retouched(es_checkpoint, tmp_path / "old.npz", _without_early_stopping)
    assert load_checkpoint(old).early_stopping is None
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = resume(old, X, y, epochs=6, diagnose=False)  # no EarlyStopping: no warning
    assert len(plain.history.cost) == 6
    es = EarlyStopping(patience=3)
    with pytest.warns(UserWarning, match=r"old.npz: the checkpoint was written before npdeep "
                                         r"stored EarlyStopping state: EarlyStopping\(monitor="
                                         r"'val_cost', mode='min', min_delta=0\) starts afresh"):
        resumed = resume(old, X, y, epochs=6, callbacks=[es], diagnose=False)
    assert es.best_epoch >= 4 and len(resumed.history.cost) == 6  # saw epochs 4 and 5 only
    assert npdeep.load(es_checkpoint).units == [5, 12, 6, 1]


def test_an_unmatched_state_or_callback_is_a_warning(data, es_checkpoint):
    X, y = data
    other = EarlyStopping(monitor="val_accuracy", patience=3)
    with pytest.warns(UserWarning) as caught:
        resume(es_checkpoint, X, y, epochs=6, callbacks=[other], diagnose=False)
    messages = [str(w.message) for w in caught]
    assert any("holds the state of EarlyStopping(monitor='val_cost', mode='min', "
               "min_delta=0), and no EarlyStopping with that monitor, mode and min_delta was "
               "passed to resume" in m for m in messages)
    assert any("holds no EarlyStopping state with that monitor, mode and min_delta: "
               "EarlyStopping(monitor='val_accuracy', mode='max'" in m for m in messages)
    assert other.best_epoch >= 4  # started afresh at the resume: saw epochs 4 and 5 only
    with pytest.warns(UserWarning, match="does not use that state"):
        resume(es_checkpoint, X, y, epochs=6, diagnose=False)


def test_a_longer_patience_takes_the_saved_state(data, es_checkpoint):
    X, y = data
    es = EarlyStopping(monitor="val_cost", patience=9)
    resume(es_checkpoint, X, y, epochs=5, callbacks=[es], diagnose=False)
    assert es.patience == 9 and es.best_epoch is not None and es.best_epoch <= 4


def _without_early_stopping(header, arrays):
    del header["training"]["early_stopping"]
    for key in [k for k in arrays if k.startswith("early_stopping.")]:
        del arrays[key]


def _es(**changes):
    return lambda h, a: h["training"]["early_stopping"][0].update(changes)


@pytest.mark.parametrize("edit, message", [
    (lambda h, a: h["training"].update(early_stopping={}), "early_stopping must be a list, got {}"),
    (lambda h, a: h["training"]["early_stopping"][0].pop("wait"),
     r"early_stopping\[0\] must be an object with the keys"),
    (_es(monitor=3), r"'monitor' must be a logged name, got 3"),
    (_es(mode="auto"), r"'mode' must be 'min' or 'max', got 'auto'"),
    (_es(min_delta=-1.0), r"'min_delta' must be a finite number >= 0, got -1.0"),
    (_es(patience=1.5), r"early_stopping\[0\] 'patience' must be an integer >= 0, got 1.5"),
    (_es(wait=-2), r"early_stopping\[0\] 'wait' must be an integer >= 0, got -2"),
    (_es(best_epoch=9), r"'best_epoch' must be an epoch before the checkpoint's 4 \(counted "
                        r"from 0\), got 9"),
    (_es(best=None), r"'best' must be a finite number with a best_epoch, null without one"),
    (_es(best="low"), r"'best' must be a finite number with a best_epoch"),
    (_es(used="accuracy"), r"'used' must be null, 'val_cost' or \(without validation data\) "
                           r"its training name, got 'accuracy'"),
    (_es(stop_reason="done"), r"'stop_reason' must be a string with a stopped_epoch"),
    (_es(stopped_epoch=2), r"'stop_reason' must be a string with a stopped_epoch"),
    (lambda h, a: a.__setitem__("early_stopping.0.W2", a["early_stopping.0.W2"][:1]),
     r"best weights 'early_stopping.0.W2' have shape \(1, 12\), the parameter needs \(6, 12\)"),
    (lambda h, a: a.__setitem__("early_stopping.0.b1", a["early_stopping.0.b1"] * np.nan),
     r"best weights 'early_stopping.0.b1' must hold finite real numbers"),
    (lambda h, a: a.pop("early_stopping.0.W3"),
     r"best weights 'early_stopping.0.W3' of early_stopping\[0\] missing"),
    (_es(best=None, best_epoch=None),
     r"arrays \[.*'early_stopping.0.W1'.*\] are best weights of early_stopping\[0\], which "
     r"has no best_epoch"),
    (lambda h, a: a.__setitem__("early_stopping.1.W1", a["W1"]),
     r"arrays \['early_stopping.1.W1'\] are not state of the adam optimizer"),
])
def test_a_tampered_early_stopping_state_is_refused_naming_it(tmp_path, es_checkpoint, edit,
                                                              message):
    bad = retouched(es_checkpoint, tmp_path / "bad.npz", edit)
    with pytest.raises(npdeep.ModelFileError, match=message) as info:
        load_checkpoint(bad)
    assert "bad.npz" in str(info.value)
    if "early_stopping.1" not in message:
        assert "invalid EarlyStopping state in the checkpoint" in str(info.value)


@pytest.mark.parametrize("es_kwargs", [dict(monitor="val_cost", patience=3, start_from_epoch=7),
                                       dict(monitor="val_cost", patience=6, baseline=0.3)])
def test_resume_with_keras_options_equals_the_uninterrupted_run(tmp_path, data, es_kwargs):
    # epochs count from 0 across the resume: the warm-up skips the same epochs; a baseline
    # counts the same epochs as falling short of it
    settings = dict(learning_rate=0.05, batch_size=16)
    reference, ref_es = _reference(data, settings, es_kwargs)
    X, y = data
    path = tmp_path / "ck.npz"
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(X, y, epochs=30, callbacks=[ModelCheckpoint(path),
                                                EarlyStopping(**es_kwargs), InterruptAt(4)],
                    **BASE, **settings)
    again = EarlyStopping(**es_kwargs)
    resumed = resume(path, X, y, callbacks=[again], diagnose=False)
    np.testing.assert_array_equal(resumed.parameters.flat, reference.parameters.flat)
    assert (again.best_epoch, again.stopped_epoch) == (ref_es.best_epoch, ref_es.stopped_epoch)
    assert _logged(resumed.history) == _logged(reference.history)
    # what each option changes (without it: best epoch 5, stop at 8 with patience 3, at 11
    # with patience 6): the warm-up moves the best; the never-beaten baseline, the stop (at
    # the first epoch that does not improve, as Keras 3: epochs 0-5 improve, short of 0.3)
    expected = (7, 10) if "start_from_epoch" in es_kwargs else (5, 6)
    assert (ref_es.best_epoch, ref_es.stopped_epoch) == expected
