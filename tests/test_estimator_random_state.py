"""An estimator whose random_state is a numpy RandomState saves its generator's state (never
pickled) and loads an equal one; a Generator is refused; callbacks are left out with a warning;
a tampered state is refused naming what is wrong."""

import copy
import json
import re
import warnings

import numpy as np
import pytest
from cli_helpers import call
from file_helpers import edit_header
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep import DeepClassifier, DeepRegressor
from npdeep.callbacks import CSVLogger, EarlyStopping
from npdeep.errors import ConfigurationError, ModelFileError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = np.random.default_rng(0).normal(size=(40, 3))
Y = X[:, 0] > 0


def _random_state(gauss: bool) -> np.random.RandomState:
    """A RandomState part-way through its stream (with a cached Gaussian when ``gauss``)."""
    rs = np.random.RandomState(7)
    rs.random_sample(700)  # past one refill of the 624 words: pos is not 624
    if gauss:
        rs.standard_normal()  # one of a pair: the other is cached
    return rs


@pytest.mark.parametrize("gauss", [False, True])
@pytest.mark.parametrize("make", [
    lambda rs: DeepClassifier((4,), max_iter=3, random_state=rs),
    lambda rs: DeepRegressor((4,), max_iter=3, random_state=rs, early_stopping=True),
    lambda rs: make_pipeline(StandardScaler(), DeepClassifier((4,), max_iter=3,
                                                              random_state=rs)),
], ids=["classifier", "regressor", "pipeline"])
def test_a_random_state_saves_and_loads_as_the_same_stream(tmp_path, make, gauss):
    # before: "cannot save random_state=RandomState(MT19937) ... pass an int random_state"
    rs = _random_state(gauss)
    model = make(rs).fit(X, Y)
    npdeep.save(model, tmp_path / "m.npz")
    at_save = copy.deepcopy(rs)
    est = npdeep.load(tmp_path / "m.npz")
    loaded = (est[-1] if hasattr(est, "steps") else est).get_params()["random_state"]
    assert isinstance(loaded, np.random.RandomState) and loaded is not rs
    np.testing.assert_array_equal(loaded.standard_normal(5), at_save.standard_normal(5))
    np.testing.assert_array_equal(loaded.randint(2**31 - 1, size=5),
                                  at_save.randint(2**31 - 1, size=5))
    # refitting the loaded model draws what refitting the saved one draws: same weights
    again = npdeep.load(tmp_path / "m.npz")
    refit, original = again.fit(X, Y), model.fit(X, Y)
    last = (lambda m: m[-1]) if hasattr(model, "steps") else (lambda m: m)
    for key, W in last(original).network_.parameters.items():
        np.testing.assert_array_equal(last(refit).network_.parameters[key], W)
    np.testing.assert_array_equal(refit.predict(X), original.predict(X))


def test_a_clone_keeps_its_random_state_and_saves(tmp_path):
    clf = clone(DeepClassifier((4,), max_iter=2, random_state=np.random.RandomState(1)))
    assert isinstance(clf.random_state, np.random.RandomState)
    npdeep.save(clf.fit(X, Y), tmp_path / "c.npz")
    assert isinstance(npdeep.load(tmp_path / "c.npz").random_state, np.random.RandomState)


def test_a_generator_and_a_random_state_of_another_bit_generator_are_refused(tmp_path):
    clf = DeepClassifier((4,), max_iter=2, random_state=np.random.default_rng(0)).fit(X, Y)
    with pytest.raises(ConfigurationError, match=re.escape(
            "cannot save random_state=Generator(PCG64) in a model file: a numpy Generator is "
            "not stored (scikit-learn's check_random_state does not accept one either); pass "
            "an int or a numpy RandomState")):
        npdeep.save(clf, tmp_path / "g.npz")
    pcg = np.random.RandomState(np.random.PCG64(0))
    clf.set_params(random_state=pcg)
    with pytest.raises(ConfigurationError, match=re.escape(
            "cannot save random_state=RandomState(PCG64) in a model file: only a RandomState "
            "of the MT19937 bit generator")):
        npdeep.save(clf, tmp_path / "g.npz")
    assert not any(tmp_path.iterdir())


def _state_edit(change):
    def edit(header):
        change(header["params"]["random_state"]["__random_state__"])
    return edit


@pytest.mark.parametrize("change, message", [
    (lambda s: s["key"].pop(), r"key a list of 624 integers, got a list of 623$"),
    (lambda s: s.update(key="zz"), r"key a list of 624 integers, got 'zz'"),
    (lambda s: s["key"].__setitem__(5, 2**32), r"key integers in \[0, 2\*\*32\) \(key\[5\]\), "
                                               r"got 4294967296"),
    (lambda s: s["key"].__setitem__(0, -1), r"key integers in \[0, 2\*\*32\) \(key\[0\]\), "
                                            r"got -1"),
    (lambda s: s["key"].__setitem__(3, 1.5), r"key integers .* \(key\[3\]\), got 1.5"),
    (lambda s: s["key"].__setitem__(3, True), r"key integers .* \(key\[3\]\), got True"),
    (lambda s: s["key"].__setitem__(3, None), r"key integers .* \(key\[3\]\), got None"),
    (lambda s: s.update(key=[0] * 624), r"key not all zero \(a state MT19937 never reaches\)"),
    (lambda s: s.update(pos=625), r"pos an integer in \[0, 624\], got 625"),
    (lambda s: s.update(pos="1"), r"pos an integer in \[0, 624\], got '1'"),
    (lambda s: s.update(has_gauss=2), r"has_gauss 0 or 1, got 2"),
    (lambda s: s.update(cached_gaussian="nan"), r"cached_gaussian a finite number, got 'nan'"),
    (lambda s: s.update(bit_generator="PCG64"), r"bit_generator 'MT19937', got 'PCG64'"),
    (lambda s: s.pop("pos"), r"an object with exactly the keys \['bit_generator', 'key', "
                             r"'pos', 'has_gauss', 'cached_gaussian'\]"),
    (lambda s: s.update(state=1), r"an object with exactly the keys"),
])
def test_a_tampered_random_state_is_refused_naming_what_is_wrong(tmp_path, change, message):
    clf = DeepClassifier((4,), max_iter=2, random_state=np.random.RandomState(0)).fit(X, Y)
    npdeep.save(clf, tmp_path / "good.npz")
    edit_header(tmp_path / "good.npz", tmp_path / "bad.npz", _state_edit(change))
    with pytest.raises(ModelFileError, match=r"bad.npz'?: params random_state must be a "
                       r"RandomState's MT19937 state: " + message):
        npdeep.load(tmp_path / "bad.npz")


def test_a_random_state_that_is_not_an_object_is_refused(tmp_path):
    clf = DeepClassifier((4,), max_iter=2, random_state=np.random.RandomState(0)).fit(X, Y)
    npdeep.save(clf, tmp_path / "good.npz")
    edit_header(tmp_path / "good.npz", tmp_path / "bad.npz",
                lambda h: h["params"]["random_state"].update(__random_state__=[1, 2]))
    with pytest.raises(ModelFileError, match=r"params random_state must be a RandomState's "
                       r"MT19937 state: an object with exactly the keys"):
        npdeep.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("pipeline", [False, True])
def test_callbacks_are_left_out_with_one_warning(tmp_path, pipeline):
    # before: "cannot save callbacks=[...] ... est.set_params(callbacks=None) before saving"
    callbacks = [EarlyStopping(monitor="cost"), CSVLogger(tmp_path / "log.csv")]
    clf = DeepClassifier((4,), max_iter=3, random_state=0, callbacks=callbacks)
    model = make_pipeline(StandardScaler(), clf) if pipeline else clf
    model.fit(X, Y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        npdeep.save(model, tmp_path / "m.npz")
    assert [str(w.message) for w in caught] == [
        "DeepClassifier's callbacks [EarlyStopping, CSVLogger] are not saved in the model file "
        "(it holds arrays and JSON, never code); the loaded estimator has callbacks=None: give "
        "them again with est.set_params(callbacks=[...]) before fitting it further"]
    assert caught[0].category is UserWarning and caught[0].filename == __file__
    assert clf.callbacks is callbacks  # the saved estimator keeps its own
    loaded = npdeep.load(tmp_path / "m.npz")
    assert (loaded[-1] if pipeline else loaded).get_params()["callbacks"] is None
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_no_callbacks_and_an_int_random_state_save_as_before(tmp_path):
    clf = DeepClassifier((4,), max_iter=2, random_state=3, callbacks=[]).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        npdeep.save(clf, tmp_path / "m.npz")
    header = npdeep.io.load_model_file(tmp_path / "m.npz")[0]
    assert header["params"]["random_state"] == 3 and header["params"]["callbacks"] == []
    assert npdeep.load(tmp_path / "m.npz").get_params()["random_state"] == 3


def test_inspect_shows_a_saved_random_state(tmp_path, capsys):
    # --json met a RandomState it could not write (TypeError), the text its memory address
    clf = DeepClassifier((4,), max_iter=2, random_state=np.random.RandomState(0)).fit(X, Y)
    npdeep.save(clf, tmp_path / "m.npz")
    code, out, err = call(capsys, "inspect", tmp_path / "m.npz", "--json")
    assert code == 0, err
    assert json.loads(out)["estimator"]["params"]["random_state"] == "RandomState(MT19937)"
    code, out, err = call(capsys, "inspect", tmp_path / "m.npz")
    assert code == 0 and "random_state=RandomState(MT19937))" in out and " at 0x" not in out
