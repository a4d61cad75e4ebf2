"""Estimators and Pipeline(StandardScaler(), Deep*()) in the one model file format."""

import json
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep import DeepClassifier, DeepRegressor, Network
from npdeep.errors import ConfigurationError, ModelFileError
from npdeep.estimators.files import estimator_to_header, load_estimator, load_pipeline
from npdeep.io import load_model_file, save_model_file


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


def test_pipeline_saved_and_loaded_gives_identical_predictions(digits, tmp_path):
    X, y = digits
    pipe = make_pipeline(StandardScaler(),
                         DeepClassifier((32,), learning_rate=0.01, max_iter=20, random_state=0))
    pipe.fit(X, y)
    path = tmp_path / "pipe.npdeep"
    npdeep.save(pipe, path)
    loaded = npdeep.load(path)
    assert [name for name, _ in loaded.steps] == ["standardscaler", "deepclassifier"]
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(loaded[0].mean_, pipe[0].mean_)
    assert load_pipeline(path).score(X, y) == pipe.score(X, y)
    with zipfile.ZipFile(path) as archive:  # arrays and a JSON header, nothing else
        names = archive.namelist()
    assert "header.json" in names
    assert all(n == "header.json" or n.endswith(".npy") for n in names)


def test_classifier_round_trip_into_a_fresh_network(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    clf = DeepClassifier((8, 4), activation="tanh", max_iter=15, random_state=7).fit(X, y)
    path = tmp_path / "clf.npdeep"
    npdeep.save(clf, path)
    loaded = npdeep.load(path)
    assert type(loaded) is DeepClassifier
    assert loaded.get_params() == clf.get_params()
    assert loaded.classes_.tolist() == ["no", "yes"]
    assert loaded.loss_curve_ == clf.loss_curve_
    assert loaded.n_iter_ == clf.n_iter_
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.decision_function(X), clf.decision_function(X))
    # the loaded network was built with fresh weights, then filled from the file
    fresh = Network.from_config(clf.network_.get_config())
    assert not np.array_equal(fresh.parameters.flat, clf.network_.parameters.flat)
    loaded.partial_fit(X, y)  # and it can go on training
    assert loaded.n_iter_ == clf.n_iter_ + 1


def test_header_holds_version_architecture_configuration_history_and_seed(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    reg = DeepRegressor((16,), max_iter=5, n_iter_no_change=100, random_state=3).fit(X, y / 100)
    path = tmp_path / "reg.npdeep"
    npdeep.save(reg, path)
    header, arrays = load_model_file(path)
    assert header["format_version"] == 1
    assert header["kind"] == "estimator" and header["estimator"] == "DeepRegressor"
    assert header["architecture"]["units"] == [10, 16, 1]
    assert header["params"]["random_state"] == 3
    assert header["params"]["hidden_layer_sizes"] == [16]
    assert header["optimizer"]["name"] == reg.optimizer_.name
    assert len(header["state"]["loss_curve_"]) == 5
    assert sorted(arrays) == ["W1", "W2", "b1", "b2"]
    assert arrays["W1"].shape == (16, 10)  # the article's orientation in the file
    loaded = load_estimator(path)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_multioutput_regressor_and_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    Y = np.column_stack([y, -y]) / 100
    pipe = make_pipeline(StandardScaler(), DeepRegressor((8,), max_iter=10, random_state=0))
    pipe.fit(X, Y)
    path = tmp_path / "multi.npdeep"
    npdeep.save(pipe, path)
    loaded = npdeep.load(path)
    assert loaded[0].feature_names_in_.tolist() == list(X.columns)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    assert isinstance(X, pd.DataFrame)


def test_network_files_still_load_as_networks(tmp_path):
    net = Network([3, 4, 1], seed=0)
    npdeep.save(net, tmp_path / "net.npdeep")
    loaded = npdeep.load(tmp_path / "net.npdeep")
    assert isinstance(loaded, Network)
    np.testing.assert_array_equal(loaded.parameters.flat, net.parameters.flat)


def test_what_cannot_be_saved_is_refused_clearly(digits, tmp_path):
    X, y = digits
    with pytest.raises(NotFittedError):
        npdeep.save(DeepClassifier(), tmp_path / "a.npdeep")
    pipe = make_pipeline(PCA(5), DeepClassifier((4,), max_iter=2, random_state=0)).fit(X, y)
    with pytest.raises(ConfigurationError, match="cannot save pipeline step 'pca' \\(PCA\\)"):
        npdeep.save(pipe, tmp_path / "b.npdeep")
    clf = DeepClassifier((4,), max_iter=2, random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.raises(ConfigurationError, match="cannot save random_state=RandomState"):
        npdeep.save(clf, tmp_path / "c.npdeep")
    assert not any(tmp_path.iterdir())  # nothing half-written


def _tampered(tmp_path, change):
    X = np.random.default_rng(0).normal(size=(40, 3))
    clf = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
    header, arrays = estimator_to_header(clf)
    change(header, arrays)
    path = tmp_path / "tampered.npdeep"
    save_model_file(path, header, arrays)  # a valid container with a bad description
    return path


@pytest.mark.parametrize("change, message", [
    (lambda h, a: a.update(W1=np.zeros((5, 3))), r"array 'W1' has shape \(5, 3\)"),
    (lambda h, a: a.pop("b2"), "do not match the architecture"),
    (lambda h, a: h.update(estimator="os.system"), "unknown estimator 'os.system'"),
    (lambda h, a: h.update(kind="spaceship"), "unknown kind 'spaceship'"),
    (lambda h, a: h["state"].update(classes_={"dtype": "O", "values": [1]}),
     "invalid classes_ dtype"),
    (lambda h, a: h["state"].update(evil=1), "unknown estimator state 'evil'"),
    (lambda h, a: h["params"].update(max_iter=0), "invalid estimator description: max_iter"),
    (lambda h, a: h["params"].update(hidden_layer_sizes=[9]), "does not match the architecture"),
])
def test_tampered_estimator_files_raise_model_file_errors(tmp_path, change, message):
    path = _tampered(tmp_path, change)
    with pytest.raises(ModelFileError, match=message):
        npdeep.load(path)


def test_corrupt_truncated_and_future_estimator_files_are_refused(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    clf = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
    path = tmp_path / "clf.npdeep"
    npdeep.save(clf, path)
    data = path.read_bytes()
    (tmp_path / "cut.npdeep").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="cut.npdeep"):
        npdeep.load(tmp_path / "cut.npdeep")
    future = tmp_path / "future.npdeep"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(future, "w") as dst:
        for name in src.namelist():
            raw = src.read(name)
            if name == "header.json":
                header = json.loads(raw)
                header["format_version"] = 99
                raw = json.dumps(header).encode()
            dst.writestr(name, raw)
    with pytest.raises(ModelFileError, match="version 99"):
        npdeep.load(future)


def test_interrupted_estimator_save_keeps_the_previous_file(tmp_path, monkeypatch):
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = X[:, 0] > 0
    old = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    path = tmp_path / "clf.npdeep"
    npdeep.save(old, path)
    before = path.read_bytes()
    new = DeepClassifier((4,), max_iter=5, random_state=1).fit(X, y)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt("simulated interruption")

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(KeyboardInterrupt, match="simulated interruption"):
        npdeep.save(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["clf.npdeep"]
    np.testing.assert_array_equal(npdeep.load(path).predict_proba(X), old.predict_proba(X))
