"""Your own activations, losses, optimizers and schedules: npdeep.register makes their names
known to model files, checkpoints and the estimators.

Before it, such a subclass trained, but the files that named it did not load ("unknown
activation 'softsign'"), its checkpoints did not resume, and the estimators refused a custom
optimizer or schedule outright.
"""

import sys

import numpy as np
import pytest
from sklearn.base import clone

import npdeep
from npdeep import ConfigurationError, ModelFileError
from npdeep.activations import Activation, ReLU, Sigmoid
from npdeep.callbacks import ModelCheckpoint
from npdeep.checkpoint import load_checkpoint, resume
from npdeep.estimators import DeepClassifier, DeepRegressor
from npdeep.losses import BinaryCrossEntropy, Loss, MeanSquaredError
from npdeep.optimizers import Optimizer
from npdeep.schedules import Schedule


class Softsign(Activation):
    """g(z) = z / (1 + |z|), g'(z) = 1 / (1 + |z|)^2."""

    name = "softsign"

    def forward(self, Z, out, work=None):
        np.abs(Z, out=out)
        out += 1
        return np.divide(Z, out, out=out)

    def derivative(self, Z, A):
        return 1.0 / (1.0 + np.abs(Z)) ** 2


class ScaledTanh(Activation):
    """g(z) = tanh(scale z): an option that files must keep."""

    name = "scaled_tanh"

    def __init__(self, scale=1.0):
        self.scale = scale

    def forward(self, Z, out, work=None):
        return np.tanh(self.scale * Z, out=out)

    def derivative(self, Z, A):
        return self.scale * (1.0 - A * A)

    def get_config(self):
        return {"name": self.name, "scale": self.scale}


class HalfSquares(Loss):
    """J = 1/(2m) sum (a - y)^2 with dA = (a - y) / m (coef holds 1/m or the sample weights)."""

    name = "half_squares"

    def cost(self, A, Y, coef, Z=None, work=None):
        per_sample = 0.5 * ((A - Y) ** 2).sum(axis=0)
        return float(np.sum(per_sample * coef)) if np.ndim(coef) else float(per_sample.sum() * coef)

    def gradient(self, A, Y, coef):
        return (A - Y) * coef


class SignDescent(Optimizer):
    """theta <- theta - lr * sign(g), with a step counter kept in a state buffer."""

    name = "sign_descent"
    state_names = ("steps",)

    def update(self, theta, grad, lr):
        self.state["steps"] += 1
        theta -= lr * np.sign(grad)


class Warmup(Schedule):
    """lr0 * min(1, (e + 1) / epochs)."""

    name = "warmup"

    def __init__(self, epochs=3):
        self.epochs = epochs

    def learning_rate(self, epoch, lr0):
        return lr0 * min(1.0, (epoch + 1) / self.epochs)

    def get_config(self):
        return {"name": self.name, "epochs": self.epochs}


# conftest puts the registries back after each test


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 60))
    y = (X[0] + 0.5 * X[1] > 0).astype(float)
    return X, y


def register_all():
    for cls in (Softsign, ScaledTanh, HalfSquares, SignDescent, Warmup):
        assert npdeep.register(cls) is cls  # usable as a decorator


def _activations_registry():
    return npdeep.activations._REGISTRY


def custom_net(seed=0):
    return npdeep.Network([4, 6, 5, 1], activation=[Softsign(), ScaledTanh(0.5)],
                          output_activation="sigmoid", loss=HalfSquares(), seed=seed)


def test_an_unregistered_name_says_how_to_register(data, tmp_path):
    X, y = data
    net = npdeep.Network([4, 3, 1], activation=Softsign(), seed=0)
    net.fit(X, y, epochs=2, diagnose=False)  # trains without registering, as before
    net.save(tmp_path / "net.npz")
    with pytest.raises(ModelFileError, match=r"unknown activation 'softsign'.*Your own "
                                             r"Activation subclass\? .*npdeep\.register"):
        npdeep.Network.load(tmp_path / "net.npz")
    npdeep.register(Softsign)  # then the same file loads
    np.testing.assert_array_equal(npdeep.Network.load(tmp_path / "net.npz").predict_proba(X),
                                  net.predict_proba(X))


def test_registered_components_round_trip_through_a_model_file(data, tmp_path):
    register_all()
    X, y = data
    net = custom_net()
    net.fit(X, y, epochs=5, learning_rate=0.05, optimizer=SignDescent(), schedule=Warmup(),
            diagnose=False)
    net.save(tmp_path / "net.npz")
    back = npdeep.Network.load(tmp_path / "net.npz")
    assert [type(a) for a in back.activations[1:]] == [Softsign, ScaledTanh, Sigmoid]
    assert back.activations[2].scale == 0.5 and isinstance(back.loss, HalfSquares)
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    np.testing.assert_allclose(back.cost(X, y), net.cost(X, y), rtol=0, atol=0)


def test_a_registered_activation_and_loss_pass_the_gradient_check(data):
    register_all()
    X, y = data
    result = npdeep.gradient_check(custom_net(), X, y)
    assert result.passed, result


class SmoothedCrossEntropy(BinaryCrossEntropy):
    """Binary cross-entropy on targets y (1 - s) + s/2: canonical 'sigmoid' inherited, another
    delta (a[L] - y (1 - s) - s/2)."""

    name = "smoothed_crossentropy"

    def __init__(self, smoothing=0.2):
        self.smoothing = smoothing

    def cost(self, A, Y, coef, Z=None, work=None):
        return super().cost(A, Y * (1 - self.smoothing) + self.smoothing / 2, coef, Z)

    def gradient(self, A, Y, coef):
        return super().gradient(A, Y * (1 - self.smoothing) + self.smoothing / 2, coef)

    def get_config(self):
        return {"name": self.name, "smoothing": self.smoothing}


class TripleSquares(MeanSquaredError):
    name = "triple_squares"

    def cost(self, A, Y, coef, Z=None, work=None):
        return 3 * super().cost(A, Y, coef, Z)

    def gradient(self, A, Y, coef):
        return 3 * super().gradient(A, Y, coef)


class SteepSigmoid(Sigmoid):
    """sigmoid(2z), still named 'sigmoid' (unregistered): binary cross-entropy takes it."""

    def forward(self, Z, out, work=None):
        return super().forward(2 * Z, out)

    def derivative(self, Z, A):
        return 2 * A * (1 - A)

    def backward(self, dA, Z, A, out, work=None):
        return np.multiply(dA, self.derivative(Z, A), out=out)


class CanonicalHalfSquares(HalfSquares):
    canonical = "identity"  # declared with its cost and gradient: dZ[L] = coef (a[L] - Y)


@pytest.mark.parametrize("output, loss, fused", [
    ("sigmoid", SmoothedCrossEntropy(), False),
    ("identity", TripleSquares(), False),
    (SteepSigmoid(), "binary_crossentropy", False),
    ("identity", CanonicalHalfSquares(), True),
    ("sigmoid", "binary_crossentropy", True),
])
def test_a_subclass_that_changes_a_canonical_pair_s_cost_or_output_is_not_fused(data, output,
                                                                               loss, fused):
    # a subclass of a built-in loss inherits its canonical output: the network took it for the
    # pair and trained on a[L] - Y, the gradient of another cost (the check failed)
    register_all()
    X, y = data
    net = npdeep.Network([4, 5, 1], activation="softsign", output_activation=output, loss=loss,
                         seed=0)
    assert net.fused is fused
    result = npdeep.gradient_check(net, X, y)
    assert result.passed, result


def test_a_registered_loss_s_options_go_through_the_model_file(data, tmp_path):
    # the architecture recorded the loss's name only: it loaded with its default options
    npdeep.register(SmoothedCrossEntropy)
    X, y = data
    net = npdeep.Network([4, 5, 1], output_activation="sigmoid",
                         loss=SmoothedCrossEntropy(smoothing=0.5), seed=0)
    net.save(tmp_path / "net.npz")
    for back in (npdeep.Network.load(tmp_path / "net.npz"),
                 npdeep.Network.from_config(net.get_config())):
        assert isinstance(back.loss, SmoothedCrossEntropy) and back.loss.smoothing == 0.5
    np.testing.assert_array_equal(back.cost(X, y), net.cost(X, y))
    assert npdeep.Network([4, 1], seed=0).get_config()["loss"] == "binary_crossentropy"
    assert "loss={'name': 'smoothed_crossentropy', 'smoothing': 0.5}" in repr(net)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_subclass_that_keeps_a_built_in_name_is_refused_by_the_files(data, tmp_path):
    # SteepSigmoid was saved as 'sigmoid' and loaded as npdeep's Sigmoid: other predictions,
    # no error (an Adam subclass in a checkpoint or an estimator file resumed as Adam)
    X, y = data
    net = npdeep.Network([4, 3, 1], output_activation=SteepSigmoid(), seed=0)
    with pytest.raises(ConfigurationError, match=r"SteepSigmoid would be saved as activation "
                                                 r"'sigmoid', which loads Sigmoid: give "
                                                 r"SteepSigmoid a name of its own"):
        net.save(tmp_path / "net.npz")
    assert not (tmp_path / "net.npz").exists()

    class PlainAdam(npdeep.optimizers.Adam):
        def update(self, theta, grad, lr):
            theta -= lr * grad

    with pytest.raises(ConfigurationError, match=r"PlainAdam would be saved as optimizer "
                                                 r"'adam', which loads Adam"):
        npdeep.Network([4, 3, 1], seed=0).fit(
            X, y, epochs=2, optimizer=PlainAdam(), diagnose=False,
            callbacks=[ModelCheckpoint(tmp_path / "ck.npz")])
    clf = DeepClassifier((3,), optimizer=PlainAdam(), max_iter=2, random_state=0)
    clf.fit(X.T, y.astype(int))
    with pytest.raises(ConfigurationError, match=r"PlainAdam would be saved as optimizer"):
        npdeep.save(clf, tmp_path / "clf.npdeep")


def test_a_checkpoint_naming_registered_components_resumes_to_the_uninterrupted_run(data,
                                                                                     tmp_path):
    register_all()
    X, y = data
    options = dict(learning_rate=0.02, batch_size=16, optimizer=SignDescent(),
                   schedule=Warmup(4), diagnose=False)
    whole = custom_net()
    whole.fit(X, y, epochs=6, **options)
    part = custom_net()
    part.fit(X, y, epochs=6, callbacks=[ModelCheckpoint(tmp_path / "ck-{epoch}.npz")], **options)
    resumed = resume(tmp_path / "ck-3.npz", X, y, epochs=6)
    np.testing.assert_array_equal(resumed.parameters.flat, whole.parameters.flat)
    assert resumed.history.learning_rate == pytest.approx([0.005, 0.01, 0.015, 0.02, 0.02, 0.02])
    ck = load_checkpoint(tmp_path / "ck-6.npz")  # the optimizer's state went through the file
    assert isinstance(ck.optimizer, SignDescent) and isinstance(ck.schedule, Warmup)
    assert ck.schedule.epochs == 4
    np.testing.assert_array_equal(ck.optimizer.state["steps"], 6 * 4)  # 4 batches an epoch


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimators_take_custom_optimizers_and_schedules(data, tmp_path):
    # a custom Optimizer or Schedule was refused ("unknown optimizer"): the estimators rebuilt
    # it from its name; an unregistered one is now copied, a registered one saved and loaded
    X, y = data
    clf = DeepClassifier((5,), optimizer=SignDescent(), schedule=Warmup(2), max_iter=3,
                         learning_rate=0.01, random_state=0).fit(X.T, y.astype(int))
    assert isinstance(clf.optimizer_, SignDescent) and clf.optimizer_ is not clf.optimizer
    assert clf.schedule_ is not clf.schedule and clf.schedule_.epochs == 2
    again = clone(clf).fit(X.T, y.astype(int))
    np.testing.assert_array_equal(again.predict_proba(X.T), clf.predict_proba(X.T))
    register_all()
    reg = DeepRegressor((5,), activation=ScaledTanh(2.0), optimizer=SignDescent(),
                        schedule=Warmup(), max_iter=4, random_state=0).fit(X.T, X[0])
    npdeep.save(reg, tmp_path / "reg.npdeep")
    back = npdeep.load(tmp_path / "reg.npdeep")
    np.testing.assert_array_equal(back.predict(X.T), reg.predict(X.T))
    assert back.get_params()["activation"] == {"name": "scaled_tanh", "scale": 2.0}
    back.partial_fit(X.T, X[0])  # trains on with the custom optimizer and schedule
    assert isinstance(back.optimizer_, SignDescent) and back.n_iter_ == 5


def test_register_refuses_what_it_cannot_register_by_name():
    class Nameless(Activation):
        pass

    class Relu(ReLU):
        name = "relu"

    class Linear(Activation):
        name = "linear"  # an alias of identity

    for what, match in [(Softsign(), "takes a class, got Softsign"),
                        (int, "subclass of Activation, Loss, Optimizer, Schedule; int is none"),
                        (Nameless, "Nameless needs a class attribute name = '...'"),
                        (Relu, "'relu' is built into npdeep; give Relu another name"),
                        (Linear, "'linear' is built into npdeep")]:
        with pytest.raises(ConfigurationError, match=match):
            npdeep.register(what)
    npdeep.register(Softsign)
    npdeep.register(Softsign)  # the same class again: nothing to do

    class Other(Activation):
        name = "Softsign"

    with pytest.raises(ConfigurationError, match=r"'Softsign' is already registered to "
                                                 r"test_register\.Softsign"):
        npdeep.register(Other)


LAYERS = '''
import numpy as np
import npdeep
from npdeep.activations import Activation


@npdeep.register
class Softsign(Activation):
    name = "softsign"

    def forward(self, Z, out, work=None):
        np.abs(Z, out=out)
        out += 1
        return np.divide(Z, out, out=out)

    def derivative(self, Z, A):
        return 1.0 / (1.0 + np.abs(Z)) ** 2
'''


def test_the_command_line_imports_the_module_that_registers_a_file_s_class(data, tmp_path,
                                                                           capsys, monkeypatch):
    # a network trained in Python with your own activation: `npdeep inspect/predict/...` could
    # not load its file, with no way to register the class there
    from cli_helpers import call

    X, y = data
    npdeep.register(Softsign)
    net = npdeep.Network([4, 3, 1], activation="softsign", seed=0)
    net.fit(X, y, epochs=2, diagnose=False)
    net.save(tmp_path / "net.npz")
    del _activations_registry()["softsign"]  # a fresh process knows no softsign
    (tmp_path / "cli_layers.py").write_text(LAYERS)
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, "inspect", "net.npz")
    assert code == 1 and "unknown activation 'softsign'" in err and "npdeep --import" in err
    code, out, err = call(capsys, "--import", "cli_layers", "inspect", "net.npz")
    assert code == 0 and "softsign" in out, err
    del _activations_registry()["softsign"]
    del sys.modules["cli_layers"]  # a fresh process
    monkeypatch.setenv("NPDEEP_IMPORT", str(tmp_path / "cli_layers.py"))  # or a .py file's path
    code, out, err = call(capsys, "inspect", "net.npz", "--json")
    assert code == 0, err
    assert type(npdeep.activations.get("softsign")).__module__ == "cli_layers"
    del sys.modules["cli_layers"]


def test_the_command_line_takes_the_names_an_import_registers(tmp_path, capsys, monkeypatch):
    # --import made a file naming softsign load, but `train --activation softsign` was refused:
    # the options listed the built-in names only
    from cli_helpers import call

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cli_layers.py").write_text(LAYERS)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    np.savetxt(tmp_path / "d.csv", np.c_[X, X[:, 0] > 0], delimiter=",", header="a,b,c,y",
               comments="")
    argv = ["train", "d.csv", "--target", "y", "--units", "4", "--epochs", "1",
            "--activation", "softsign", "-o", "m.npz", "--quiet"]
    code, out, err = call(capsys, *argv)
    assert code == 2 and "'softsign' is not one of 'sigmoid', 'tanh'" in err
    assert "Your own class? Import its module first: npdeep --import MODULE" in err
    code, out, err = call(capsys, "--import", "cli_layers", *argv)
    assert code == 0, err
    trained = npdeep.load_trained("m.npz").net
    assert [type(g).__name__ for g in trained.activations[1:]] == ["Softsign", "Sigmoid"]
    code, out, err = call(capsys, "--import", "cli_layers", "train", "--help")
    assert ("[sigmoid|tanh|relu|leaky_relu|elu|selu|softplus|gelu|silu|identity|softsign]"
            in out)
    del sys.modules["cli_layers"]


def test_a_failed_import_is_a_usage_error_naming_the_module(tmp_path, capsys, monkeypatch):
    from cli_helpers import call

    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken_layers.py").write_text("x = 1\nraise NameError('oops')\n")
    for module, message in [("no_such_module", "no_such_module: ModuleNotFoundError: No module "
                                               "named 'no_such_module'"),
                            ("missing.py", "missing.py: ModuleNotFoundError: no file "
                                           "'missing.py'"),
                            ("broken_layers.py", "broken_layers.py: NameError: oops (line 2 of "
                                                 f"{tmp_path / 'broken_layers.py'})")]:
        search = list(sys.path)
        code, out, err = call(capsys, "--import", module, "train", "--help")
        assert code == 2 and message in " ".join(err.split()), err
        assert sys.path == search  # the folder tried is not left first on the search path
    assert "broken_layers" not in sys.modules  # nothing half-imported is left behind
    (tmp_path / "json.py").write_text("raise SystemExit('never run')\n")
    code, out, err = call(capsys, "--import", "json.py", "train", "--help")
    assert code == 2 and "a module named 'json' is already imported" in err, err


def test_an_imported_file_imports_its_sibling_modules(tmp_path, capsys, monkeypatch):
    # as `python FILE` finds them: the file's folder was not searched
    from cli_helpers import call

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sibling_helper.py").write_text(LAYERS)
    (plugins / "entry_layers.py").write_text("import sibling_helper  # noqa: F401\n")
    try:
        code, out, err = call(capsys, "--import", plugins / "entry_layers.py", "train", "--help")
        assert code == 0, err
        assert type(npdeep.activations.get("softsign")).__module__ == "sibling_helper"
    finally:
        for name in ("entry_layers", "sibling_helper"):
            sys.modules.pop(name, None)


def test_onnx_export_refuses_a_registered_activation_and_a_subclass_that_kept_a_name(data):
    # SteepSigmoid, named 'sigmoid', was exported as ONNX's Sigmoid: another model
    pytest.importorskip("onnx")
    from npdeep.onnx_export import ExportError

    register_all()
    for net, match in [
        (npdeep.Network([4, 3, 1], activation="softsign", seed=0),
         r"layer 1: activation 'softsign' has no ONNX equivalent; exportable: sigmoid, tanh"),
        (npdeep.Network([4, 3, 1], output_activation=SteepSigmoid(), seed=0),
         r"layer 2: activation SteepSigmoid \(a subclass of npdeep's 'sigmoid'\) has no ONNX "
         r"equivalent"),
    ]:
        with pytest.raises(ExportError, match=match):
            npdeep.to_onnx(net)


def test_an_estimator_naming_a_registered_class_carries_its_module_to_a_fresh_process(
        tmp_path, monkeypatch):
    # a grid search's worker unpickled DeepClassifier(activation="softsign") where nothing had
    # imported the module that registers it: "unknown activation 'softsign'"
    import pickle
    import subprocess
    from pathlib import Path

    (tmp_path / "worker_layers.py").write_text(LAYERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import worker_layers  # noqa: F401  (registers softsign here)

    try:
        est = DeepClassifier((4,), activation="softsign", max_iter=3, random_state=0)
        fit_there = ("import pickle, sys, warnings; warnings.simplefilter('ignore'); "
                     "est = pickle.loads(sys.stdin.buffer.read()); "
                     "est.fit([[0., 1.], [1., 0.], [1., 1.], [0., 0.]], [0, 1, 1, 0]); "
                     "print(type(est.network_.activations[1]).__module__)")
        src = Path(npdeep.__file__).resolve().parent.parent
        done = subprocess.run([sys.executable, "-c", fit_there], input=pickle.dumps(est),
                              capture_output=True, timeout=120,
                              env={"PYTHONPATH": f"{tmp_path}:{src}", "PATH": ""})
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout.decode().strip() == "worker_layers"
        assert "_registered_modules" not in pickle.loads(pickle.dumps(est)).__dict__
    finally:
        sys.modules.pop("worker_layers", None)


def test_a_grid_search_s_workers_know_a_registered_name_given_only_in_the_grid(tmp_path):
    # the estimator pickled to the workers named "relu"; the grid's "softsign" was set there,
    # where nothing had imported the module that registers it: "unknown activation 'softsign'"
    import subprocess
    from pathlib import Path

    (tmp_path / "grid_layers.py").write_text(LAYERS)
    search = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import grid_layers, npdeep\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "X, y = load_iris(return_X_y=True)\n"
        "est = npdeep.DeepClassifier((8,), max_iter=20, random_state=0)\n"
        "grid = GridSearchCV(est, {'activation': ['softsign', 'relu']}, cv=3, n_jobs=2,\n"
        "                    error_score='raise').fit(X, y)\n"
        "print(grid.cv_results_['param_activation'].tolist())\n"
    )
    src = Path(npdeep.__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", search], capture_output=True, timeout=300,
                          cwd=tmp_path, env={"PYTHONPATH": f"{tmp_path}:{src}", "PATH": ""})
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().split() == ["['softsign',", "'relu']"]


def test_a_pickled_estimator_carries_every_registered_module_but_main(monkeypatch, tmp_path):
    import pickle

    (tmp_path / "other_layers.py").write_text(LAYERS.replace("softsign", "other_softsign"))
    monkeypatch.syspath_prepend(str(tmp_path))
    import other_layers  # noqa: F401  (registers other_softsign here)

    class InMain(Softsign):
        name = "in_main_softsign"

    InMain.__module__ = "__main__"
    npdeep.register(InMain)
    try:
        state = DeepClassifier((4,), activation="relu").__getstate__()
        assert "_registered_modules" not in state  # relu names no registered class
        assert "other_layers" in state["_other_registered_modules"]
        assert "__main__" not in state["_other_registered_modules"]
        named = DeepClassifier((4,), activation="other_softsign").__getstate__()
        assert named["_registered_modules"] == ["other_layers"]
        assert "other_layers" not in named.get("_other_registered_modules", [])
        gone = dict(state, _other_registered_modules=["no_such_npdeep_module"])
        back = pickle.loads(pickle.dumps(DeepClassifier()))
        back.__setstate__(gone)  # a module a worker cannot import is passed over
        assert back.activation == "relu"
    finally:
        sys.modules.pop("other_layers", None)
        from npdeep.activations import _REGISTRY
        for key in ("other_softsign", "in_main_softsign"):
            _REGISTRY.pop(key, None)


def test_an_unknown_name_says_what_worker_processes_need():
    # a class defined in __main__ and named in a search with n_jobs=2: the workers knew only
    # "Register it first, in every process"; an instance travels to them with the estimator
    with pytest.raises(ConfigurationError, match=r"unknown activation 'softsign'.*for a class "
                                                 r"defined in a script or notebook, pass an "
                                                 r"instance instead of its name"):
        npdeep.Network([2, 3, 1], activation="softsign")
