"""Targets of 1e160 or 1e-300: scores measured where their squares neither overflow nor
underflow (R^2 does not change with the units; MSE is scaled back)."""

import warnings

import numpy as np
import pytest
from cli_helpers import call, call_json
from sklearn.metrics import r2_score

from npdeep import DeepRegressor


def _csv(folder, factor):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X @ [0.0, 1.0, 2.0, 3.0] + 0.3 * rng.normal(size=300)) * factor
    path = folder / "data.csv"
    lines = ["a,b,c,d,y"] + [",".join(f"{v:.17g}" for v in (*row, t)) for row, t in
                                zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path, X, y


@pytest.mark.parametrize("factor", [1e160, 1e-300])
def test_train_scores_and_saves_a_model_of_extreme_targets(tmp_path, capsys, factor):
    # 1e160: every epoch trained, then "header is not strict JSON (nan)" and no model file;
    # 1e-300: "test R^2: 1.0000, test MSE: 0.0000" whatever the model predicted
    data, X, y = _csv(tmp_path, factor)
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", data, "--task", "regression", "--epochs", "30",
                       "--seed", "0", "-o", model)
    assert model.exists()
    r2 = result["test"]["r2"]
    assert 0.5 < r2 < 1.0
    scores = call_json(capsys, "evaluate", model, data)
    out = tmp_path / "p.csv"
    call_json(capsys, "predict", model, data, "-o", out)
    predicted = np.loadtxt(out, delimiter=",", skiprows=1)
    assert scores["r2"] == pytest.approx(r2_score(y / factor, predicted / factor), rel=1e-6)
    if factor > 1:  # the MSE itself is beyond float64: said as unknown, not NaN
        assert result["test"]["mse"] is None and scores["mse"] is None
        code, text, _ = call(capsys, "evaluate", model, data)
        assert code == 0 and "MSE: -" in text
    else:
        expected = np.mean(((y - predicted) / factor) ** 2) * factor**2
        assert scores["mse"] == pytest.approx(expected, rel=1e-6)  # below 1e-308: 0.0


@pytest.mark.parametrize("factor", [1e-300, 1e160])
def test_deep_regressor_score_of_extreme_targets_is_the_r2_in_any_units(factor):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ [0.0, 1.0, 2.0, 3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = DeepRegressor((8,), max_iter=5, random_state=0).fit(X, y * factor)
    expected = r2_score(y, reg.predict(X) / factor)
    assert expected < 0.9  # five iterations: far from 1.0, which 1e-300 read
    assert reg.score(X, y * factor) == pytest.approx(expected, rel=1e-9)
    Y = np.column_stack([y, -y]) * factor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = DeepRegressor((8,), max_iter=5, random_state=0).fit(X, Y)
    assert two.score(X, Y) == pytest.approx(r2_score(Y / factor, two.predict(X) / factor),
                                            rel=1e-9)


def test_a_float32_regressor_refuses_targets_beyond_float32():
    # targets of 1e39 trained with a RuntimeWarning "overflow encountered in cast", left inf
    # weights, and every prediction was refused as "the parameters are not finite"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    with pytest.raises(ValueError, match=r"y has values up to \d\.\d+e\+39 in absolute value, "
                                         r"beyond what dtype='float32' holds.*'float64'"):
        DeepRegressor((4,), dtype="float32", max_iter=2).fit(X, X[:, 0] * 1e39)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = DeepRegressor((4,), dtype="float64", max_iter=2).fit(X, X[:, 0] * 1e39)
    assert np.isfinite(reg.predict(X)).all()
