"""A ModelCheckpoint passed to an estimator or pipeline writes the estimator's network only:
the file says so, and what predicts refuses it."""

import warnings

import numpy as np
import pytest
from cli_helpers import call
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep.callbacks import ModelCheckpoint
from npdeep.errors import ModelFileError


@pytest.fixture
def checkpointed(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) + 100.0
    y = np.where(X[:, 0] > 100.0, "spam", "ham")
    path = tmp_path / "estck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make_pipeline(StandardScaler(), npdeep.DeepClassifier(
            (4,), max_iter=5, callbacks=[ModelCheckpoint(str(path))])).fit(X, y)
    data = tmp_path / "data.csv"
    np.savetxt(data, X, delimiter=",", header="a,b,c", comments="")
    return path, data


def test_load_warns_that_the_file_holds_the_estimators_network_only(checkpointed):
    path, _ = checkpointed
    with pytest.warns(UserWarning, match=r"DeepClassifier trained: it holds the estimator's "
                      r"network only \(its outputs are class indices of classes_ "
                      r"\['ham', 'spam'\]"):
        net = npdeep.load(path)
    assert isinstance(net, npdeep.Network)
    header = npdeep.io.load_model_file(path)[0]
    assert header["estimator_network"] == {"estimator": "DeepClassifier",
                                           "classes": ["ham", "spam"]}


def test_load_trained_refuses_it(checkpointed):
    path, _ = checkpointed
    with pytest.raises(ModelFileError, match=r"cannot predict as the estimator does; save "
                       r"the fitted estimator or pipeline with npdeep.save"):
        npdeep.load_trained(path)


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_cli_commands_that_predict_refuse_it(checkpointed, capsys, command, tmp_path):
    path, data = checkpointed
    args = {"predict": [str(path), str(data), "-o", str(tmp_path / "p.csv")],
            "evaluate": [str(path), str(data)],
            "export": [str(path), "-o", str(tmp_path / "m.onnx")]}[command]
    code, out, err = call(capsys, command, *args)
    assert code == 1
    assert "holds the estimator's network only" in err
    assert "save the fitted estimator or pipeline with npdeep.save" in err


def test_inspect_notes_it(checkpointed, capsys):
    path, _ = checkpointed
    code, out, err = call(capsys, "inspect", str(path))
    assert code == 0
    assert "note: a ModelCheckpoint written while a DeepClassifier trained" in out


def test_regressor_checkpoint_says_its_outputs_are_standardized(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    path = tmp_path / "reg.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        npdeep.DeepRegressor((3,), max_iter=2, callbacks=[ModelCheckpoint(str(path))]).fit(
            X, 300 + 10 * X[:, 0])
    with pytest.warns(UserWarning, match="DeepRegressor trained.*targets standardized"):
        npdeep.load(path)


def test_a_network_checkpoint_is_not_marked(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2, 30))
    path = tmp_path / "net.npz"
    npdeep.Network([2, 3, 1], seed=0).fit(X, (X[:1] > 0).astype(float), epochs=2,
                                          callbacks=[ModelCheckpoint(str(path))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        npdeep.load(path)
    assert "estimator_network" not in npdeep.io.load_model_file(path)[0]


def test_an_estimators_checkpoint_is_not_resumed_and_keeps_its_mark_when_saved_again(tmp_path):
    from npdeep.checkpoint import resume

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = 1000 + 50 * X[:, 0]  # the estimator standardizes it; resume would train on it raw
    path = tmp_path / "ck.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        npdeep.DeepRegressor((4,), max_iter=3, random_state=0,
                             callbacks=[ModelCheckpoint(path)]).fit(X, y)
    with pytest.raises(ModelFileError, match=r"ck\.npz: is a ModelCheckpoint written while a "
                                             r"DeepRegressor trained: .* resuming would train "
                                             r"that network on X and Y as given"):
        resume(path, X.T, y[None], epochs=8)
    with pytest.warns(UserWarning, match="holds the estimator's network only"):
        net = npdeep.load(path)
    net.save(tmp_path / "copy.npz")  # the copy still says what its outputs are
    with pytest.raises(ModelFileError, match=r"copy\.npz: a ModelCheckpoint written while a "
                                             r"DeepRegressor trained"):
        npdeep.load_trained(tmp_path / "copy.npz")
