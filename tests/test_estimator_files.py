"""Estimators and Pipeline(StandardScaler(), Deep*()) in the one model file format."""

import json
import warnings
import zipfile

import numpy as np
import pytest
from file_helpers import edit_header
from sklearn.datasets import load_diabetes, load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import npdeep
from npdeep import DeepClassifier, DeepRegressor, Network
from npdeep.errors import ConfigurationError, ModelFileError
from npdeep.estimators.files import (
    estimator_to_header,
    load_estimator,
    load_pipeline,
    pipeline_from_header,
)
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
    with pytest.raises(ConfigurationError, match="cannot save pipeline step 'pca' \\(PCA\\)"
                       ".*; save the fitted DeepClassifier alone, "
                       "npdeep.save\\(pipeline\\[-1\\], path\\)"):
        npdeep.save(pipe, tmp_path / "b.npdeep")
    npdeep.save(pipe[-1], tmp_path / "b.npdeep")  # what the message says works
    alone = npdeep.load(tmp_path / "b.npdeep")
    np.testing.assert_array_equal(alone.predict(pipe[:-1].transform(X)), pipe.predict(X))
    (tmp_path / "b.npdeep").unlink()
    clf = DeepClassifier((4,), max_iter=2, random_state=np.random.default_rng(0)).fit(X, y)
    with pytest.raises(ConfigurationError, match=r"cannot save random_state=Generator\(PCG64\) "
                       "in a model file: a numpy Generator is not stored"):
        npdeep.save(clf, tmp_path / "c.npdeep")
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_a_pipeline_whose_last_step_cannot_be_saved_names_that_step(digits, tmp_path):
    # it said "cannot save a str: ..." for a final "passthrough", and a bare NotFittedError
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y = digits
    scaler = StandardScaler().fit(X)
    cases = [
        (Pipeline([("scale", scaler), ("last", "passthrough")]), ConfigurationError,
         r"^pipeline step 'last' \('passthrough'\): cannot save a str"),
        (Pipeline([("scale", scaler), ("model", LogisticRegression())]), ConfigurationError,
         r"^pipeline step 'model' \(LogisticRegression\): cannot save a LogisticRegression"),
        (Pipeline([("scale", scaler), ("clf", DeepClassifier())]), NotFittedError,
         r"^pipeline step 'clf' \(DeepClassifier\): This DeepClassifier instance is not "
         r"fitted yet"),
    ]
    for pipe, error, match in cases:
        with pytest.raises(error, match=match):
            npdeep.save(pipe, tmp_path / "p.npdeep")
    assert not any(tmp_path.iterdir())  # nothing half-written


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_npdeep_objects_given_as_parameters_are_saved_as_their_configs(digits, tmp_path):
    # an Optimizer, Schedule or Activation object was refused: "cannot save optimizer=..."
    from npdeep.activations import LeakyReLU
    from npdeep.optimizers import Momentum
    from npdeep.schedules import StepDecay

    X, y = digits
    X = X / 16.0
    objects = ("optimizer", "schedule", "activation", "output_activation")
    clf = DeepClassifier((6, 4), activation=[LeakyReLU(0.2), "tanh"], optimizer=Momentum(0.5),
                         schedule=StepDecay(step_size=2), max_iter=3, random_state=0).fit(X, y)
    reg = DeepRegressor((4,), output_activation=LeakyReLU(0.1), max_iter=3,
                        random_state=0).fit(X, y / 9)
    for est in (clf, reg):
        npdeep.save(est, tmp_path / "e.npdeep")
        loaded = npdeep.load(tmp_path / "e.npdeep")
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        # optimizer__momentum, schedule__step_size...: the same nested parameters
        assert {k: v for k, v in loaded.get_params().items() if k not in objects} == \
            {k: v for k, v in est.get_params().items() if k not in objects}
    assert loaded.output_activation == {"name": "leaky_relu", "alpha": 0.1}
    npdeep.save(clf, tmp_path / "c.npdeep")
    loaded = npdeep.load(tmp_path / "c.npdeep")
    assert loaded.optimizer == {"name": "momentum", "momentum": 0.5}
    assert loaded.schedule == {"name": "step", "step_size": 2, "factor": 0.5}
    assert loaded.activation == [{"name": "leaky_relu", "alpha": 0.2}, "tanh"]
    # trained afresh from the file's parameters, it learns what the saved objects taught
    np.testing.assert_array_equal(loaded.fit(X, y).predict_proba(X),
                                  clf.fit(X, y).predict_proba(X))


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
    (lambda h, a: h["state"].update(n_outputs_=5), "n_outputs_=5 does not match"),
    (lambda h, a: h.update(estimator=[]), r"unknown estimator \[\]"),
    (lambda h, a: h["state"].update(classes_={"dtype": "<i8", "values": [10**30, 1]}),
     "invalid estimator description: Python int too large"),
    (lambda h, a: a.update(W1=a["W1"] + 1j), "parameter 'W1' must hold real numbers, got complex"),
])
def test_tampered_estimator_files_raise_model_file_errors(tmp_path, change, message):
    path = _tampered(tmp_path, change)
    with pytest.raises(ModelFileError, match=message):
        npdeep.load(path)


def test_a_classifier_file_without_n_outputs_gets_it_from_the_architecture(tmp_path):
    path = _tampered(tmp_path, lambda h, a: h["state"].pop("n_outputs_"))  # an older file
    loaded = npdeep.load(path)
    assert loaded.n_outputs_ == 1 and loaded.network_.units[-1] == 1


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


def _set(path, value):
    def edit(header):
        *parents, last = path
        node = header
        for key in parents:
            node = node[key]
        node[last] = value
    return edit


@pytest.mark.parametrize("kind, edit, message", [
    ("network", _set(["architecture", "foo"], 1), r"unknown keys \['foo'\]"),
    ("network", _set(["architecture"], [1]), "invalid architecture"),
    ("network", _set(["architecture", "seed"], "x"), "invalid model"),
    ("network", _set(["history"], [1, 2]), "invalid model"),
    ("network", _set(["history"], {"epoch": 5}), "invalid model"),
    ("pipeline", _set(["steps"], [1, 2]), "pipeline step 0 is 1, not a JSON object"),
    ("classifier", _set(["state", "classes_", "values"], [0, 1]),
     r"classes_ \[0, 1\] \(multiclass\) do not match the 3 output units"),
    ("classifier", _set(["state", "_target_type"], "evil"), "target type 'evil'"),
    ("regressor", _set(["state", "n_features_in_"], 7), "n_features_in_=7 does not match"),
    ("regressor", _set(["state", "loss_curve_"], True),
     "estimator state loss_curve_ must be a list of numbers, got True"),
    ("regressor", _set(["state", "loss_curve_"], [0.5, "zz"]),
     r"loss_curve_ must be a list of numbers, got \[0.5, 'zz'\]"),
    ("classifier", _set(["state", "validation_scores_"], 1.5),
     "validation_scores_ must be a list of numbers or null, got 1.5"),
    ("classifier", _set(["state", "best_loss_"], None), "best_loss_ must be a number, got None"),
    ("classifier", _set(["state", "n_iter_"], -1), "n_iter_ must be an integer >= 0, got -1"),
    ("regressor", _set(["state", "n_outputs_"], True), "n_outputs_ must be an integer >= 1"),
    ("classifier", _set(["state", "_target_type"], 3), "_target_type must be a string, got 3"),
    ("classifier", _set(["params", "callbacks"], -1),
     "invalid estimator description: callbacks must be None or a list of Callback objects"),
    ("regressor", _set(["params", "l2"], None), "l2 must be a finite number >= 0, got None"),
    ("regressor", lambda h: h["state"].pop("t_"), r"estimator state lacks \['t_'\]"),
    # params that would build another network than the file's (clone(est).fit failed later)
    ("classifier", _set(["params", "activation"], "tanh"),
     r"params activation='tanh' does not match the architecture's hidden activations "
     r"\[\{'name': 'relu'\}\]"),
    ("regressor", _set(["params", "output_activation"], "sigmoid"),
     r"params output_activation='sigmoid' does not match the architecture's "
     r"\{'name': 'identity'\}"),
    ("regressor", _set(["params", "loss"], "mae"),
     r"params loss='mae' does not match the architecture's 'mean_squared_error'"),
    ("regressor", _set(["params", "dtype"], "float32"),
     r"params dtype='float32' does not match the architecture's float64"),
    ("classifier", _set(["state", "feature_names_in_"], ["a"]),
     r"feature_names_in_ lists 1 names for the 3 inputs of the architecture \[3, 4, 3\]"),
    ("pipeline", _set(["steps", 0, "name"], None),
     "step 0 has name None; a pipeline step's name is a non-empty string without '__'"),
    ("pipeline", _set(["steps", 1, "name"], "standardscaler"),
     r"step names \['standardscaler', 'standardscaler'\] are not distinct"),
])
def test_a_tampered_header_is_a_model_file_error_naming_the_file(kind, edit, message, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    if kind == "network":
        obj = Network([3, 4, 2], seed=0)
    elif kind == "regressor":
        obj = DeepRegressor((4,), max_iter=2, random_state=0).fit(X, X[:, 0])
    else:
        clf = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, np.arange(30) % 3)
        obj = make_pipeline(StandardScaler().fit(X), clf) if kind == "pipeline" else clf
    good, bad = tmp_path / "good.npdeep", tmp_path / "bad.npdeep"
    npdeep.save(obj, good)
    npdeep.load(good)  # the untouched file loads
    edit_header(good, bad, edit)
    with pytest.raises(ModelFileError, match=message) as info:
        npdeep.load(bad)
    assert "bad.npdeep" in str(info.value)


def test_an_estimator_file_without_n_features_in_takes_it_from_the_network(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 3))
    reg = DeepRegressor((4,), max_iter=2, random_state=0).fit(X, X[:, 0])
    good, bad = tmp_path / "good.npdeep", tmp_path / "bad.npdeep"
    npdeep.save(reg, good)
    edit_header(good, bad, lambda h: h["state"].pop("n_features_in_"))
    loaded = npdeep.load(bad)
    assert loaded.n_features_in_ == 3
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_a_checkpoint_without_its_learning_rate_cannot_be_resumed(tmp_path):
    from npdeep.callbacks import ModelCheckpoint
    from npdeep.checkpoint import resume

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(3, 20)), np.arange(20) % 2
    ckpt = tmp_path / "ck.npdeep"
    Network([3, 4, 1], seed=0).fit(X, y, epochs=2, batch_size=5,
                                   callbacks=[ModelCheckpoint(ckpt)], diagnose=False)
    bad = tmp_path / "bad.npdeep"
    edit_header(ckpt, bad, lambda h: h["training"]["config"].pop("learning_rate"))
    with pytest.raises(ModelFileError, match="bad.npdeep: invalid training state in the "
                                             "checkpoint: missing key 'learning_rate'"):
        resume(bad, X, y, epochs=3)


def test_save_refuses_what_load_would_reject_and_leaves_no_file(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 3))
    clf = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
    net = Network([3, 4, 1], seed=0)
    with pytest.raises(ModelFileError, match=r"extra header keys \['kind'\] are written by "
                                             "npdeep itself"):
        net.save(tmp_path / "a.npdeep", kind="estimator")
    with pytest.raises(ModelFileError, match=r"extra header keys \['estimator'\]"):
        npdeep.save(clf, tmp_path / "b.npdeep", estimator="DeepRegressor")
    with pytest.raises(ModelFileError, match=r"extra header keys \['steps'\]"):
        npdeep.save(make_pipeline(StandardScaler().fit(X), clf), tmp_path / "c.npdeep", steps=[])
    net.parameters.flat[0] = np.nan
    with pytest.raises(ModelFileError, match="parameter 'W1' contains NaN or inf"):
        net.save(tmp_path / "d.npdeep")
    clf.network_.parameters.flat[-1] = np.inf
    with pytest.raises(ModelFileError, match="parameter 'b2' contains NaN or inf"):
        npdeep.save(clf, tmp_path / "e.npdeep")
    assert list(tmp_path.iterdir()) == []
    net.parameters.flat[0] = 0.0
    net.save(tmp_path / "f.npdeep", note="extra keys of the caller's own are kept")
    assert npdeep.io.load_model_file(tmp_path / "f.npdeep")[0]["note"].startswith("extra keys")


def test_a_two_label_multilabel_classifier_round_trips(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int)  # two labels, two sigmoid outputs
    clf = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, Y)
    npdeep.save(clf, tmp_path / "ml.npdeep")
    loaded = npdeep.load(tmp_path / "ml.npdeep")
    assert loaded._target_type == "multilabel" and loaded.network_.units[-1] == 2
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_weights_that_do_not_fit_the_network_are_refused(tmp_path):
    net = Network([2, 1], dtype="float32", seed=0)
    net.save(tmp_path / "n.npdeep")
    header, arrays = load_model_file(tmp_path / "n.npdeep")
    header = {k: v for k, v in header.items()
              if k not in ("format", "format_version", "npdeep_version", "arrays")}
    save_model_file(tmp_path / "big.npdeep", header, {**arrays, "W1": np.full((1, 2), 1e300)})
    with pytest.raises(ModelFileError, match=r"big.npdeep: invalid model: parameter 'W1' holds "
                                             r"values too large for float32 \(largest .*1e\+300"):
        npdeep.load(tmp_path / "big.npdeep")


def _pipeline_file(tmp_path, change):
    X = np.random.default_rng(0).normal(size=(40, 3))
    pipe = make_pipeline(StandardScaler(), DeepRegressor((2,), max_iter=2, random_state=0))
    npdeep.save(pipe.fit(X, X[:, 0]), tmp_path / "good.npdeep")
    header, arrays = load_model_file(tmp_path / "good.npdeep")
    header = {k: v for k, v in header.items()
              if k not in ("format", "format_version", "npdeep_version", "arrays")}
    change(header, arrays)
    return save_model_file(tmp_path / "bad.npdeep", header, arrays)


@pytest.mark.parametrize("change, message", [
    (lambda h, a: a.update({"0.scale_": a["0.scale_"] * 0}),
     r"step 0 scale_ must hold finite floats > 0 \(dtype float64\)"),
    (lambda h, a: a.update({"0.mean_": a["0.mean_"] + 1j}),
     r"step 0 mean_ must hold finite floats \(dtype complex128\)"),
    (lambda h, a: a.update({"0.mean_": np.full(3, np.nan)}), "step 0 mean_ must hold finite"),
    (lambda h, a: a.pop("0.mean_"), r"StandardScaler\(with_mean=True, with_std=True\) needs "
                                    r"arrays \['mean_', 'scale_', 'var_'\], the file has "
                                    r"\['scale_', 'var_'\]"),
    (lambda h, a: a.update({"7.W1": a["1.W1"]}), r"arrays \['7.W1'\] belong to none of the 2"),
    (lambda h, a: a.update({"notes": np.zeros(1)}), r"arrays \['notes'\] belong to none"),
])
def test_tampered_scaler_arrays_are_refused(tmp_path, change, message):
    path = _pipeline_file(tmp_path, change)
    with pytest.raises(ModelFileError, match=message) as info:
        npdeep.load(path)
    assert "bad.npdeep" in str(info.value)


def test_a_network_file_is_read_once(tmp_path, monkeypatch):
    import npdeep.serialization as serialization

    Network([2, 3, 1], seed=0).save(tmp_path / "n.npdeep")
    reads = []
    monkeypatch.setattr(serialization, "load_model_file",
                        lambda path, **kw: reads.append(path) or load_model_file(path, **kw))
    assert npdeep.load(tmp_path / "n.npdeep").units == [2, 3, 1]
    assert len(reads) == 1  # what was checked is what was loaded


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("skip", ["passthrough", None])
def test_a_passthrough_step_saves_loads_and_exports(tmp_path, skip):
    # GridSearchCV(pipe, {"standardscaler": [StandardScaler(), "passthrough"]}) may pick it
    from sklearn.pipeline import Pipeline

    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    pipe = Pipeline([("scale", skip), ("std", StandardScaler()),
                     ("clf", DeepClassifier((8,), max_iter=3, random_state=0))]).fit(X, y)
    npdeep.save(pipe, tmp_path / "pipe.npz")
    loaded = npdeep.load(tmp_path / "pipe.npz")
    assert loaded.steps[0] == ("scale", "passthrough")
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    pytest.importorskip("onnxruntime")
    import onnxruntime

    session = onnxruntime.InferenceSession(npdeep.to_onnx(pipe).SerializeToString())
    P = session.run(["probabilities"], {"X": X})[0]
    np.testing.assert_allclose(P, pipe.predict_proba(X), rtol=1e-10, atol=1e-12)


def test_a_passthrough_step_with_arrays_is_refused(tmp_path):
    from sklearn.pipeline import Pipeline

    X, y = load_digits(return_X_y=True)
    pipe = Pipeline([("skip", "passthrough"), ("std", StandardScaler()),
                     ("clf", DeepClassifier((4,), max_iter=1, random_state=0))])
    with pytest.warns(ConvergenceWarning):
        pipe.fit(X[:100] / 16, y[:100])
    npdeep.save(pipe, tmp_path / "pipe.npz")
    header, arrays = load_model_file(tmp_path / "pipe.npz")
    arrays["0.mean_"] = arrays["1.mean_"]
    with pytest.raises(ModelFileError, match=r"here: step 0 is a passthrough but has arrays "
                       r"\['mean_'\]"):
        pipeline_from_header(header, arrays, "here")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fitted_search_is_refused_pointing_to_its_best_estimator(tmp_path):
    pytest.importorskip("onnx")
    from sklearn.model_selection import GridSearchCV

    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(make_pipeline(StandardScaler(), DeepClassifier((4,), max_iter=2)),
                          {"deepclassifier__l2": [0.0]}, cv=2).fit(X[:100], y[:100])
    with pytest.raises(ConfigurationError, match="cannot save a GridSearchCV: .*; save its "
                       "best_estimator_ instead"):
        npdeep.save(search, tmp_path / "search.npz")
    with pytest.raises(ConfigurationError, match="cannot export a GridSearchCV: .*; export its "
                       "best_estimator_ instead"):
        npdeep.to_onnx(search)
    npdeep.save(search.best_estimator_, tmp_path / "best.npz")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_scaler_with_pandas_output_keeps_it_so_the_loaded_pipeline_does_not_warn(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = load_digits(return_X_y=True, as_frame=True)
    X, y = X[:100], y[:100]
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"),
                         DeepClassifier((4,), max_iter=2, random_state=0)).fit(X, y)
    npdeep.save(pipe, tmp_path / "pipe.npz")
    loaded = npdeep.load(tmp_path / "pipe.npz")
    assert isinstance(loaded[0].transform(X), pd.DataFrame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was: X does not have valid feature names, but ...
        np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    header, arrays = load_model_file(tmp_path / "pipe.npz")
    header["steps"][0]["set_output"] = "arrow"
    with pytest.raises(ModelFileError, match="here: step 0 has set_output 'arrow', expected "
                       r"one of \['default', 'pandas', 'polars'\]"):
        pipeline_from_header(header, arrays, "here")


def test_files_keep_npdeeps_sigmoid_and_load_with_sklearns_out_activation(tmp_path):
    # out_activation_ is derived, never stored: files written when it said "sigmoid" (and
    # those written now) hold the network's own name and load with scikit-learn's "logistic"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
    path = tmp_path / "binary.npdeep"
    npdeep.save(clf, path)
    header, _ = load_model_file(path)
    assert header["architecture"]["output_activation"] == {"name": "sigmoid"}
    assert "out_activation_" not in header["state"]
    loaded = npdeep.load(path)
    assert loaded.out_activation_ == clf.out_activation_ == "logistic"
    assert loaded.network_.output_activation.name == "sigmoid"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_pipeline_keeps_its_memory_and_verbose_options(digits, tmp_path):
    # a loaded pipeline had memory=None and verbose=False, whatever was saved
    from joblib import Memory

    X, y = digits
    pipe = make_pipeline(StandardScaler(), DeepClassifier((8,), max_iter=2, random_state=0),
                         memory=str(tmp_path / "cache"), verbose=True).fit(X, y)
    npdeep.save(pipe, tmp_path / "p.npdeep")
    loaded = npdeep.load(tmp_path / "p.npdeep")
    assert (loaded.memory, loaded.verbose) == (str(tmp_path / "cache"), True)
    pipe.set_params(memory=Memory(tmp_path / "joblib", verbose=0), verbose=False)
    npdeep.save(pipe, tmp_path / "m.npdeep")  # a joblib.Memory: its folder
    loaded = npdeep.load(tmp_path / "m.npdeep")
    assert (loaded.memory, loaded.verbose) == (str(tmp_path / "joblib"), False)
    # a file written before the options were stored loads with the defaults
    edit_header(tmp_path / "p.npdeep", tmp_path / "old.npdeep", lambda h: h.pop("pipeline"))
    assert (npdeep.load(tmp_path / "old.npdeep").memory, npdeep.load(
        tmp_path / "old.npdeep").verbose) == (None, False)
    edit_header(tmp_path / "p.npdeep", tmp_path / "bad.npdeep",
                lambda h: h["pipeline"].update(verbose="yes"))
    with pytest.raises(npdeep.ModelFileError, match="pipeline options must be memory"):
        npdeep.load(tmp_path / "bad.npdeep")
