"""The cap on the array elements a load reads: every loader and command takes it, the error
names it, a checkpoint's optimizer state does not count when only its network is read, and a
save over the default cap warns."""

import re

import numpy as np
import pytest
from cli_helpers import call

import npdeep
import npdeep._io_load
import npdeep._io_save
from npdeep.callbacks import ModelCheckpoint
from npdeep.checkpoint import load_checkpoint, resume
from npdeep.errors import ConfigurationError, ModelFileError

N_NET = 3 * 2 + 3 + 1 * 3 + 1  # Network([2, 3, 1]): 13 parameters
N_ALL = 3 * N_NET  # with adam's two moments


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 40))
    return X, (X[:1] > 0).astype(float)


@pytest.fixture
def ckpt(tmp_path, data):
    X, Y = data
    path = tmp_path / "ck.npz"
    npdeep.Network([2, 3, 1], seed=0).fit(X, Y, epochs=2, optimizer="adam",
                                          callbacks=[ModelCheckpoint(str(path))])
    return path


def test_the_error_names_the_parameter_and_the_value_needed(ckpt):
    with pytest.raises(ModelFileError, match=re.escape(
            f"more than max_elements=20 elements in total (array 'optimizer.m.b1' has shape "
            f"(3, 1); {N_ALL} elements in all); refusing to allocate them. If you trust the "
            f"file, raise the cap to max_elements={N_ALL} (a parameter of npdeep.load")):
        load_checkpoint(ckpt, max_elements=20)
    assert load_checkpoint(ckpt, max_elements=N_ALL).epoch == 2


def test_resume_takes_max_elements(ckpt, data):
    X, Y = data
    with pytest.raises(ModelFileError, match="max_elements=20 "):
        resume(ckpt, X, Y, epochs=3, max_elements=20)
    assert len(resume(ckpt, X, Y, epochs=3, max_elements=N_ALL).history) == 3


def test_the_network_alone_does_not_count_the_optimizer_state(ckpt):
    for load in (npdeep.load, npdeep.Network.load, npdeep.load_trained):
        assert load(ckpt, max_elements=N_NET) is not None
        with pytest.raises(ModelFileError, match=f"max_elements={N_NET - 1} "):
            load(ckpt, max_elements=N_NET - 1)


def test_max_elements_is_checked(ckpt):
    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(ConfigurationError, match="max_elements must be an integer >= 1"):
            npdeep.load(ckpt, max_elements=bad)


def test_commands_take_max_elements(ckpt, capsys, tmp_path):
    code, _, err = call(capsys, "inspect", ckpt, "--max-elements", 20)
    assert code == 1 and f"raise the cap to max_elements={N_ALL}" in err
    code, out, err = call(capsys, "inspect", ckpt, "--max-elements", N_ALL)
    assert code == 0, err
    csv = tmp_path / "x.csv"
    np.savetxt(csv, np.ones((3, 2)), delimiter=",", header="a,b", comments="")
    code, _, err = call(capsys, "predict", ckpt, csv, "--max-elements", N_NET - 1)
    assert code == 1 and "--max-elements" in err
    code, out, err = call(capsys, "predict", ckpt, csv, "--max-elements", N_NET)
    assert code == 0, err


def test_a_save_over_the_default_cap_warns(tmp_path, data, monkeypatch):
    monkeypatch.setattr(npdeep._io_save, "DEFAULT_MAX_ELEMENTS", 20)
    monkeypatch.setattr(npdeep._io_load, "DEFAULT_MAX_ELEMENTS", 20)
    X, Y = data
    path = tmp_path / "ck.npz"
    with pytest.warns(UserWarning, match=re.escape(
            f"holds {N_ALL} array elements (its network alone, as npdeep.load reads it, "
            f"{N_NET}, within the default), over the default cap max_elements=20 that loading "
            f"applies; load it with max_elements={N_ALL}")):
        npdeep.Network([2, 3, 1], seed=0).fit(X, Y, epochs=1, optimizer="adam",
                                              callbacks=[ModelCheckpoint(str(path))])
    assert npdeep.load(path) is not None  # the network alone is within the cap
    with pytest.raises(ModelFileError, match="max_elements=20 "):
        load_checkpoint(path)
    assert load_checkpoint(path, max_elements=N_ALL).epoch == 1
