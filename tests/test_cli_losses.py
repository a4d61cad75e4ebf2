"""``npdeep train --loss`` with the regression losses (mae, huber, poisson) and the exp output,
end to end: train, inspect, evaluate, predict."""

import re

import numpy as np
import pytest
from cli_helpers import call, call_json
from sklearn.metrics import mean_poisson_deviance

from npdeep import load_trained


def _csv(folder, y_of):
    """Write 400 rows of 3 features and the target ``y_of(X, rng)`` as 'y'; return the path."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = y_of(X, rng)
    path = folder / "data.csv"
    lines = ["a,b,c,y"] + [",".join(f"{v:.17g}" for v in (*row, t)) for row, t in
                              zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path, X, y


def _counts(X, rng):
    return rng.poisson(np.exp(0.6 * X[:, 0] - 0.4 * X[:, 1] + 0.5)).astype(float)


def _linear_with_outliers(X, rng):
    y = 3 * X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=len(X))
    y[::20] += 40.0
    return y


@pytest.mark.parametrize("loss, recorded", [("mae", "mean_absolute_error"),
                                            ("huber", {"name": "huber", "delta": 1.0})])
def test_a_robust_loss_trains_evaluates_and_predicts(tmp_path, capsys, loss, recorded):
    data, X, y = _csv(tmp_path, _linear_with_outliers)
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", data, "--task", "regression", "--loss", loss,
                       "--units", "16", "--epochs", "60", "--learning-rate", "0.01", "-o", model)
    assert result["task"] == "regression"
    architecture = call_json(capsys, "inspect", model)["architecture"]
    assert architecture["loss"] == recorded
    assert architecture["output_activation"] == {"name": "identity"}
    scores = call_json(capsys, "evaluate", model, data)
    assert {"mse", "mae", "r2"} <= set(scores)
    out = tmp_path / "p.csv"
    assert call_json(capsys, "predict", model, data, "-o", out)["rows"] == 400
    predicted = np.loadtxt(out, delimiter=",", skiprows=1)
    clean = y - np.where(np.arange(400) % 20 == 0, 40.0, 0.0)
    # the outliers do not pull the fit: it follows the clean targets
    assert np.median(np.abs(predicted - clean)) < 1.0


def test_hubers_delta_from_a_config_table_is_kept_in_the_model_file(tmp_path, capsys):
    data, _, _ = _csv(tmp_path, _linear_with_outliers)
    config = tmp_path / "run.toml"
    config.write_text('loss = {name = "huber", delta = 0.5}\nepochs = 2\nunits = [4]\n')
    model = tmp_path / "m.npz"
    call_json(capsys, "train", data, "--config", config, "-o", model)
    assert call_json(capsys, "inspect", model)["architecture"]["loss"] == \
        {"name": "huber", "delta": 0.5}
    assert load_trained(model).net.loss.delta == 0.5


@pytest.mark.parametrize("flags", [["--loss", "poisson"], ["--output-activation", "exp"]],
                         ids=["loss", "output"])
def test_poisson_trains_on_counts_as_given_with_an_exp_output(tmp_path, capsys, flags):
    data, X, y = _csv(tmp_path, _counts)
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", data, "--task", "regression", *flags, "--units", "16",
                       "--epochs", "100", "--learning-rate", "0.01", "--dropout", "0",
                       "-o", model)
    assert result["test"]["r2"] > 0.2
    architecture = call_json(capsys, "inspect", model)["architecture"]
    assert (architecture["loss"], architecture["output_activation"]) == \
        ("poisson", {"name": "exp"})
    trained = load_trained(model)
    assert trained.header["target_scaling"]["mean"] == [0.0]
    scores = call_json(capsys, "evaluate", model, data)
    assert {"mse", "mae", "r2"} <= set(scores)
    out = tmp_path / "p.csv"
    call_json(capsys, "predict", model, data, "-o", out)
    predicted = np.loadtxt(out, delimiter=",", skiprows=1)
    assert predicted.min() > 0
    np.testing.assert_allclose(predicted, trained.predict(X), rtol=1e-6)
    assert scores["poisson_deviance"] == pytest.approx(mean_poisson_deviance(y, predicted),
                                                       rel=1e-5)
    code, text, _ = call(capsys, "evaluate", model, data)
    assert code == 0 and re.search(r"mean Poisson deviance: \d", text)


@pytest.mark.parametrize("flags, level", [(["--loss", "poisson"], 9000.0),
                                          (["--loss", "poisson"], 1e-6),
                                          (["--output-activation", "relu"], 1e4)],
                         ids=["counts of 9000", "rates of 1e-6", "relu"])
def test_outputs_trained_as_given_learn_targets_of_any_size(tmp_path, capsys, flags, level):
    # counts near 9,000 trained from exp(0) = 1 to a test R^2 of -11.5: the network now learns
    # y divided by a power of two near its mean (exp) or root mean square (relu)
    data, X, y = _csv(tmp_path, lambda X, rng: np.exp(0.5 * X[:, 0]) * level)
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", data, "--task", "regression", *flags, "--units", "16",
                       "--epochs", "100", "--learning-rate", "0.01", "--dropout", "0",
                       "-o", model)
    assert result["test"]["r2"] > 0.8
    scale = load_trained(model).header["target_scaling"]["scale"][0]
    assert np.log2(scale) == round(np.log2(scale)) and level / 4 < scale < level * 4
    out = tmp_path / "p.csv"
    call_json(capsys, "predict", model, data, "-o", out)
    predicted = np.loadtxt(out, delimiter=",", skiprows=1)
    assert np.corrcoef(predicted, y)[0, 1] > 0.9


def test_evaluate_gives_no_poisson_deviance_for_other_losses(tmp_path, capsys):
    data, _, _ = _csv(tmp_path, _counts)
    model = tmp_path / "m.npz"
    call_json(capsys, "train", data, "--task", "regression", "--epochs", "1", "-o", model)
    assert "poisson_deviance" not in call_json(capsys, "evaluate", model, data)


def test_poisson_refuses_negative_targets(tmp_path, capsys):
    data, _, _ = _csv(tmp_path, lambda X, rng: X[:, 0])
    code, _, err = call(capsys, "train", data, "--loss", "poisson", "--epochs", "1",
                        "-o", tmp_path / "m.npz")
    assert code == 1
    assert re.search(r"target 'y' has values in \[-\S+, \S+\], outside \[0, inf\] where "
                     r"--output-activation exp can reach", err)


def test_exp_is_offered_for_the_output_only(tmp_path, capsys):
    data, _, _ = _csv(tmp_path, _counts)
    code, _, err = call(capsys, "train", data, "--activation", "exp", "--epochs", "1")
    assert code == 2 and "'exp' is not one of" in err


@pytest.mark.parametrize("flags", [["--loss", "mae"], ["--loss", "huber"],
                                   ["--loss", "poisson"], ["--output-activation", "exp"]],
                         ids=lambda f: f[1])
def test_gradcheck_checks_the_regression_losses(capsys, flags):
    # poisson's random targets are counts: normal ones were refused as negative
    result = call_json(capsys, "gradcheck", *flags)
    assert result["passed"] is True


def test_evaluate_gives_the_poisson_deviance_of_a_saved_regressor(tmp_path, capsys):
    import npdeep

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = _counts(X, rng)
    reg = npdeep.DeepRegressor((8,), loss="poisson", max_iter=5, random_state=0).fit(X, y)
    npdeep.save(reg, tmp_path / "reg.npdeep")
    np.savez(tmp_path / "data.npz", X=X, y=y)
    scores = call_json(capsys, "evaluate", tmp_path / "reg.npdeep", tmp_path / "data.npz")
    assert scores["poisson_deviance"] == pytest.approx(
        mean_poisson_deviance(y, reg.predict(X)), rel=1e-9)
