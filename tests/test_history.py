"""History in model files and checkpoints: what is saved is what is loaded, NaN and inf included."""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import pytest

import npdeep
from npdeep.callbacks import Callback, ModelCheckpoint
from npdeep.checkpoint import load_checkpoint, resume
from npdeep.io import load_model_file, save_model_file

NAN, INF = float("nan"), float("inf")


def _history(n=4):
    h = npdeep.History()
    h.epoch = list(range(n))
    h.history = {
        "cost": [0.7, NAN, INF, 0.5][:n],
        "val_cost": [0.8, 0.6, -INF, NAN][:n],
        "learning_rate": [0.1] * n,
        "f1": [None, np.float32("nan"), 0.25, np.array([1.0, INF])][:n],  # a callback's own
    }
    h.stop_reason = "the cost became NaN or inf"
    return h


def _saved_and_loaded(history, tmp_path):
    net = npdeep.Network([2, 3, 1], seed=0)
    net.history = history
    net.save(tmp_path / "m.npz")
    return npdeep.load(tmp_path / "m.npz").history


def test_a_saved_history_loads_equal_nan_and_inf_included(tmp_path):
    # NaN and inf were written as JSON null and loaded as None: a loaded history compared
    # with the run's or plotted had holes where the run had NaN
    history = _history()
    loaded = _saved_and_loaded(history, tmp_path)
    np.testing.assert_equal(loaded.to_dict(), history.to_dict())  # NaN equals NaN here
    assert math.isnan(loaded.cost[1]) and loaded.cost[2] == INF
    assert loaded.val_cost[2] == -INF and math.isnan(loaded.val_cost[3])
    assert loaded.f1[0] is None and math.isnan(loaded.f1[1]) and loaded.f1[3] == [1.0, INF]
    assert loaded.stop_reason == history.stop_reason


def test_the_header_stays_strict_json_with_nonfinite_values_as_strings(tmp_path):
    _saved_and_loaded(_history(), tmp_path)
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        text = archive.read("header.json").decode()
    header = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in header.json"))
    assert header["history"]["cost"] == [0.7, "nan", "inf", 0.5]
    assert header["history"]["f1"] == [None, "nan", 0.25, [1.0, "inf"]]


def test_a_file_written_with_null_for_nan_still_loads_with_none(tmp_path):
    # files written before NaN was kept: null stays None
    net = npdeep.Network([2, 3, 1], seed=0)
    net.save(tmp_path / "m.npz")
    header, arrays = load_model_file(tmp_path / "m.npz")
    header = {k: v for k, v in header.items()
              if k not in ("format", "format_version", "npdeep_version", "arrays")}
    header["history"] = {"epoch": [0, 1], "stop_reason": None, "cost": [0.5, None]}
    save_model_file(tmp_path / "old.npz", header, arrays)
    assert npdeep.load(tmp_path / "old.npz").history.cost == [0.5, None]


class LogNonFinite(Callback):
    """Log ``f1`` as NaN at even epochs and inf at odd ones."""

    def on_epoch_end(self, epoch, logs):
        logs["f1"] = INF if epoch % 2 else NAN


def test_a_checkpoint_and_its_resume_keep_nan_and_inf_in_the_history(tmp_path, rng):
    X, y = rng.normal(size=(2, 20)), np.arange(20) % 2
    settings = dict(learning_rate=0.1, diagnose=False)
    npdeep.Network([2, 3, 1], seed=0).fit(X, y, epochs=2, **settings, callbacks=[
        LogNonFinite(), ModelCheckpoint(tmp_path / "ck-{epoch}.npz")])
    np.testing.assert_equal(load_checkpoint(tmp_path / "ck-2.npz").history["f1"], [NAN, INF])
    resumed = resume(tmp_path / "ck-2.npz", X, y, epochs=3, callbacks=[LogNonFinite()],
                     diagnose=False).history
    np.testing.assert_equal(resumed.f1, [NAN, INF, NAN])


@pytest.mark.parametrize("text, value", [("nan", NAN), ("inf", INF), ("-inf", -INF)])
def test_from_dict_reads_the_strings_to_json_writes(text, value):
    h = npdeep.History.from_dict({"epoch": [0], "cost": [text]})
    np.testing.assert_equal(h.cost, [value])
    assert npdeep.History.from_dict(h.to_json()).to_json() == {
        "epoch": [0], "stop_reason": None, "cost": [text]}


def test_from_dict_still_refuses_other_strings_in_a_standard_log():
    with pytest.raises(ValueError, match=r"history 'cost' must hold numbers, got \['NaN'\]"):
        npdeep.History.from_dict({"epoch": [0], "cost": ["NaN"]})


def test_a_history_given_to_several_fits_records_the_last_one(rng, tmp_path):
    # one History() in callbacks of two fits held epochs [0, 1, 2, 0, 1]
    X = rng.normal(size=(3, 40))
    y = (X[0] > 0).astype(float)
    mine = npdeep.History()
    net = npdeep.Network([3, 4, 1], seed=0)
    net.fit(X, y, epochs=3, callbacks=[mine], diagnose=False)
    h = net.fit(X, y, epochs=2, callbacks=[mine], diagnose=False)
    assert mine.epoch == [0, 1] and mine.cost == h.cost
    # a resumed run continues it: the epochs after the checkpoint are trained again
    mine = npdeep.History()
    net = npdeep.Network([3, 4, 1], seed=0)
    full = net.fit(X, y, epochs=5, callbacks=[mine, ModelCheckpoint(tmp_path / "c{epoch}.npz")],
                   diagnose=False)
    resume(tmp_path / "c3.npz", X, y, callbacks=[mine], diagnose=False)
    assert mine.epoch == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(mine.cost, full.cost)


def test_an_estimator_s_partial_fit_calls_continue_a_history_given_to_it(rng):
    import warnings

    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    mine = npdeep.History()
    clf = npdeep.DeepClassifier((4,), callbacks=[mine], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X, y, classes=[0, 1])
        clf.partial_fit(X, y)
    assert mine.epoch == [0, 1] and mine.cost == clf.loss_curve_
