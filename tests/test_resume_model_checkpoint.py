"""Resume with a ``save_best_only`` ModelCheckpoint: it writes the same files at the same
epochs as in a run that was never interrupted, whether resumed from its own file or from
another checkpoint."""

import warnings

import numpy as np
import pytest
from file_helpers import retouched
from resume_helpers import InterruptAt, fresh, make_data

import npdeep
from npdeep.callbacks import ModelCheckpoint
from npdeep.checkpoint import load_checkpoint, resume
from npdeep.io import load_model_file

BASE = dict(optimizer="adam", validation_fraction=0.2, diagnose=False)
EPOCHS = 16


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture
def writes(monkeypatch):
    """The (epoch, path) of every file a ModelCheckpoint writes, in order."""
    log = []
    write = ModelCheckpoint._write

    def logged(self, epoch):
        if self._pending is not None:
            log.append((epoch, self._pending))
        write(self, epoch)

    monkeypatch.setattr(ModelCheckpoint, "_write", logged)
    return log


# (fit settings, monitor, epochs at which the reference's best-only checkpoint writes, epoch
# during which the run is interrupted: the next one does not improve)
CASES = {
    "mini-batch val_cost": (dict(learning_rate=0.05, batch_size=16), "val_cost",
                            [0, 1, 2, 3, 4, 5], 8),
    "full-batch cost": (dict(learning_rate=0.2), "cost", [0, 1, 2, 3, 4, 5, 6, 8, 9], 7),
    "full-batch val_cost": (dict(learning_rate=0.5), "val_cost", list(range(9)), 10),
}


def _callbacks(monitor, best_first):
    best = ModelCheckpoint("best.npz", save_best_only=True, monitor=monitor)
    every = ModelCheckpoint("ck-{epoch}.npz")
    return [best, every] if best_first else [every, best]


def _content(path):
    """A file's header and arrays but the (measured, so varying) epoch times."""
    header, arrays = load_model_file(path)
    header["history"].pop("time")
    return header, arrays


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("best_first", [True, False])
@pytest.mark.parametrize("resume_from", ["every", "best"])
def test_a_resumed_best_only_checkpoint_writes_as_the_uninterrupted_run(
        tmp_path, monkeypatch, writes, data, case, best_first, resume_from):
    settings, monitor, best_epochs, at = CASES[case]
    X, y = data
    (tmp_path / "ref").mkdir()
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "ref")
    fresh().fit(X, y, epochs=EPOCHS, callbacks=_callbacks(monitor, best_first), **BASE,
                **settings)
    reference = list(writes)
    assert [e for e, p in reference if p == "best.npz"] == best_epochs
    assert [e for e, p in reference if p != "best.npz"] == list(range(EPOCHS))

    writes.clear()
    monkeypatch.chdir(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(X, y, epochs=EPOCHS, **BASE, **settings,
                    callbacks=[*_callbacks(monitor, best_first), InterruptAt(at)])
    assert writes == [w for w in reference if w[0] < at]
    path = f"ck-{at}.npz" if resume_from == "every" else "best.npz"
    start = load_checkpoint(path).epoch
    [state] = load_checkpoint(path).model_checkpoint
    assert state["path"] == "best.npz" and state["best_epoch"] == max(
        e for e in best_epochs if e < start)

    writes.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matched state: nothing to warn about
        resume(path, X, y, callbacks=_callbacks(monitor, best_first), diagnose=False)
    assert writes == [w for w in reference if w[0] >= start]
    assert start not in best_epochs or resume_from == "best"  # no write at the first epoch
    for name in ["best.npz", *(f"ck-{e}.npz" for e in range(1, EPOCHS + 1))]:
        header, arrays = _content(name)
        ref_header, ref_arrays = _content(tmp_path / "ref" / name)
        assert header == ref_header, name
        assert arrays.keys() == ref_arrays.keys()
        for key in arrays:
            np.testing.assert_array_equal(arrays[key], ref_arrays[key])


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("best_first", [True, False])
@pytest.mark.parametrize("resume_from", ["every", "best"])
def test_a_resumed_best_only_checkpoint_reports_the_last_saved_file_of_the_uninterrupted_run(
        tmp_path, monkeypatch, data, case, best_first, resume_from):
    # last_saved was None after a resume until the resumed run wrote a better file; in
    # "mini-batch val_cost" it writes none after the interruption, so the name must come
    # from the checkpoint
    settings, monitor, best_epochs, at = CASES[case]
    X, y = data
    monkeypatch.chdir(tmp_path)

    def callbacks():
        best = ModelCheckpoint("best-{epoch}.npz", save_best_only=True, monitor=monitor)
        every = ModelCheckpoint("ck-{epoch}.npz")
        return best, ([best, every] if best_first else [every, best])

    reference, cbs = callbacks()
    fresh().fit(X, y, epochs=EPOCHS, callbacks=cbs, **BASE, **settings)
    assert reference.last_saved == f"best-{best_epochs[-1] + 1}.npz"
    interrupted, cbs = callbacks()
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(X, y, epochs=EPOCHS, **BASE, **settings, callbacks=[*cbs, InterruptAt(at)])
    path = f"ck-{at}.npz" if resume_from == "every" else interrupted.last_saved
    [state] = load_checkpoint(path).model_checkpoint
    start = load_checkpoint(path).epoch
    before = max(e for e in best_epochs if e < start)  # the best file written before `start`
    assert state["last_saved"] == f"best-{before + 1}.npz"

    resumed, cbs = callbacks()
    resume(path, X, y, callbacks=cbs, diagnose=False)
    assert resumed.last_saved == reference.last_saved


@pytest.mark.parametrize("template, every, start, expected", [
    ("ck-{epoch}.npz", 2, 5, "ck-4.npz"),  # the resumed epoch 6 writes ck-6 only at its end
    ("ck-{epoch}.npz", 2, 4, "ck-4.npz"),
    ("fixed.npz", 2, 5, "fixed.npz"),
    ("ck-{epoch}.npz", 7, 5, None),  # no multiple of 7 up to 5: nothing written yet
    ("new-{epoch}.npz", 3, 5, None),  # not in the first run: its file of epoch 3 is not there
])
def test_a_resumed_every_n_checkpoint_reports_the_last_file_of_the_uninterrupted_run(
        tmp_path, monkeypatch, data, template, every, start, expected):
    # last_saved was only stored for save_best_only ones: a resumed every-N one said None
    # until its next write
    X, y = data
    monkeypatch.chdir(tmp_path)
    first = [ModelCheckpoint("all-{epoch}.npz")]
    if not template.startswith("new"):
        first.append(ModelCheckpoint(template, every=every))
    fresh().fit(X, y, epochs=6, callbacks=first, **BASE, learning_rate=0.1)
    seen = []

    class Watch(npdeep.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs):
            seen.append(resumed.last_saved)

    resumed = ModelCheckpoint(template, every=every)
    resume(f"all-{start}.npz", X, y, epochs=start + 1, callbacks=[resumed, Watch()],
           diagnose=False)
    assert seen == [expected]


def test_a_checkpoint_holds_the_file_a_deferred_best_only_checkpoint_writes_that_epoch(
        tmp_path, monkeypatch, data):
    # an EarlyStopping after the best-only one defers its write to after_epoch_end, past the
    # write of the checkpoint every epoch: that file's state still names this epoch's best file
    settings, monitor, best_epochs, _ = CASES["mini-batch val_cost"]
    X, y = data
    monkeypatch.chdir(tmp_path)
    best = ModelCheckpoint("best-{epoch}.npz", save_best_only=True, monitor=monitor)
    fresh().fit(X, y, epochs=3, **BASE, **settings, callbacks=[
        best, npdeep.callbacks.EarlyStopping(monitor=monitor, patience=50),
        ModelCheckpoint("ck-{epoch}.npz")])
    assert best_epochs[:3] == [0, 1, 2] and best.last_saved == "best-3.npz"
    for name in ("ck-3.npz", "best-3.npz"):
        [state] = load_checkpoint(name).model_checkpoint
        assert state["last_saved"] == "best-3.npz", name


def test_the_full_batch_best_file_holds_the_best_of_the_epochs_start(tmp_path, data):
    """Its state is that of the best epoch's start: resuming repeats the epoch and its write."""
    settings, monitor, best_epochs, _ = CASES["full-batch cost"]
    X, y = data
    path = tmp_path / "best.npz"
    fresh().fit(X, y, epochs=EPOCHS, **BASE, **settings,
                callbacks=[ModelCheckpoint(path, save_best_only=True, monitor=monitor)])
    saved = load_checkpoint(path)
    [state] = saved.model_checkpoint
    assert saved.epoch == best_epochs[-1] == 9
    assert (state["best_epoch"], state["used"]) == (best_epochs[-2], "cost")
    assert state["best"] == fresh().fit(X, y, epochs=9, **BASE, **settings).cost[8]


@pytest.fixture(scope="module")
def mc_checkpoint(tmp_path_factory, data):
    """A checkpoint of 8 epochs whose best-only ModelCheckpoint's best epoch is 5."""
    settings, monitor, _, _ = CASES["mini-batch val_cost"]
    X, y = data
    folder = tmp_path_factory.mktemp("mc")
    fresh().fit(X, y, epochs=8, **BASE, **settings, callbacks=[
        ModelCheckpoint(folder / "ck-{epoch}.npz"),
        ModelCheckpoint(folder / "best.npz", save_best_only=True, monitor=monitor)])
    return folder / "ck-8.npz"


def test_a_checkpoint_without_model_checkpoint_state_still_resumes(tmp_path, writes, data,
                                                                   mc_checkpoint):
    """A file from before the state was stored: as before, the ModelCheckpoint starts afresh
    and writes at the first epoch, with a warning."""
    old = retouched(mc_checkpoint, tmp_path / "old.npz",
                     lambda h, a: h["training"].pop("model_checkpoint"))
    assert load_checkpoint(old).model_checkpoint is None
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resume(old, X, y, epochs=9, diagnose=False)  # no best-only ModelCheckpoint: no warning
    best = tmp_path / "best.npz"
    with pytest.warns(UserWarning, match=r"old.npz: the checkpoint was written before npdeep "
                                         r"stored ModelCheckpoint state: ModelCheckpoint\(.*"
                                         r"best.npz', save_best_only=True, monitor='val_cost', "
                                         r"mode='min'\) starts afresh at the resume"):
        resume(old, X, y, epochs=10, diagnose=False,
               callbacks=[ModelCheckpoint(best, save_best_only=True)])
    assert writes == [(8, str(best))]  # the old behaviour: a write at the first epoch


def test_a_state_without_last_saved_still_resumes_and_keeps_last_saved(tmp_path, writes, data,
                                                                       mc_checkpoint):
    """A file written before last_saved was stored: the best value is taken up as before,
    last_saved stays the callback's own until it writes."""
    old = retouched(mc_checkpoint, tmp_path / "old.npz",
                     lambda h, a: h["training"]["model_checkpoint"][0].pop("last_saved"))
    [state] = load_checkpoint(old).model_checkpoint
    assert "last_saved" not in state and state["best_epoch"] == 5
    X, y = data
    best = ModelCheckpoint(mc_checkpoint.parent / "best.npz", save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matched state: nothing to warn about
        resume(old, X, y, epochs=9, diagnose=False, callbacks=[best])
    assert best.tracker.best_epoch == 5 and writes == []  # epoch 9 did not beat epoch 6
    assert best.last_saved is None
    with_it = ModelCheckpoint(mc_checkpoint.parent / "best.npz", save_best_only=True)
    resume(mc_checkpoint, X, y, epochs=9, diagnose=False, callbacks=[with_it])
    assert with_it.last_saved == str(mc_checkpoint.parent / "best.npz")


def test_an_unmatched_state_or_checkpoint_is_a_warning(tmp_path, writes, data, mc_checkpoint):
    X, y = data
    other = ModelCheckpoint(tmp_path / "other.npz", save_best_only=True)
    with pytest.warns(UserWarning) as caught:
        resume(mc_checkpoint, X, y, epochs=9, callbacks=[other], diagnose=False)
    messages = [str(w.message) for w in caught]
    assert any("best.npz', save_best_only=True, monitor='val_cost', mode='min'), and no "
               "save_best_only ModelCheckpoint with that path, monitor and mode was passed to "
               "resume: the resumed run does not use that state" in m for m in messages)
    assert any("holds no ModelCheckpoint state with that path, monitor and mode: "
               "ModelCheckpoint(" in m and "other.npz'" in m for m in messages)
    assert writes == [(8, str(tmp_path / "other.npz"))]  # started afresh
    with pytest.warns(UserWarning, match="does not use that state"):
        resume(mc_checkpoint, X, y, epochs=9, diagnose=False)
    # a checkpoint every epoch has no state to take up: nothing to warn about
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", ".*does not use that state")
        resume(mc_checkpoint, X, y, epochs=9, diagnose=False,
               callbacks=[ModelCheckpoint(tmp_path / "every.npz")])


def _mc(**changes):
    return lambda h, a: h["training"]["model_checkpoint"][0].update(changes)


@pytest.mark.parametrize("edit, message", [
    (lambda h, a: h["training"].update(model_checkpoint={}),
     "model_checkpoint must be a list, got {}"),
    (lambda h, a: h["training"]["model_checkpoint"][0].pop("used"),
     r"model_checkpoint\[0\] must be an object with the keys"),
    (_mc(path=""), r"model_checkpoint\[0\] 'path' must be a file name or template, got ''"),
    (_mc(monitor=3), r"model_checkpoint\[0\] 'monitor' must be a logged name, got 3"),
    (_mc(mode="auto"), r"model_checkpoint\[0\] 'mode' must be 'min' or 'max', got 'auto'"),
    (_mc(best_epoch=-1), r"model_checkpoint\[0\] 'best_epoch' must be an integer >= 0, got -1"),
    (_mc(best_epoch=8), r"model_checkpoint\[0\] 'best_epoch' must be an epoch before the "
                        r"checkpoint's 8 \(counted from 0\), got 8"),
    (_mc(best=None), r"'best' must be a finite number with a best_epoch, null without one"),
    (_mc(best="low"), r"'best' must be a finite number with a best_epoch"),
    (_mc(best=None, best_epoch=None, used=None), None),  # no best yet: valid
    (_mc(used="accuracy"), r"model_checkpoint\[0\] 'used' must be null, 'val_cost' or "
                           r"\(without validation data\) its training name, got 'accuracy'"),
    (_mc(last_saved=3), r"model_checkpoint\[0\] 'last_saved' must be null or a file name, "
                        r"got 3"),
    (_mc(last_saved=""), r"'last_saved' must be null or a file name, got ''"),
    (_mc(last_saved="other.npz"), r"model_checkpoint\[0\] 'last_saved' must be null or "
                                  r"'.*best.npz', the only file its path names, got 'other.npz'"),
    (_mc(extra=1), r"model_checkpoint\[0\] must be an object with the keys"),
    (_mc(best=None, best_epoch=None, used=None, last_saved=None), None),  # no write yet
])
def test_a_tampered_model_checkpoint_state_is_refused_naming_it(tmp_path, mc_checkpoint,
                                                                edit, message):
    bad = retouched(mc_checkpoint, tmp_path / "bad.npz", edit)
    if message is None:
        assert load_checkpoint(bad).model_checkpoint[0]["best"] is None
        return
    with pytest.raises(npdeep.ModelFileError, match=message) as info:
        load_checkpoint(bad)
    assert "bad.npz: invalid ModelCheckpoint state in the checkpoint" in str(info.value)
