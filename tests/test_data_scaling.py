"""Standardizer: the formula, zero-variance columns, the JSON round trip, its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from npdeep.data import Standardizer, standardize
from npdeep.errors import DataError, ModelFileError


@pytest.fixture
def X():
    rng = np.random.default_rng(3)
    X = rng.normal(loc=5.0, scale=3.0, size=(50, 4))
    X[:, 2] = 7.0  # zero variance
    return X


def test_formula_and_zero_variance(X):
    s = Standardizer().fit(X)
    Z = s.transform(X)
    cols = [0, 1, 3]
    expected = (X[:, cols] - X[:, cols].mean(axis=0)) / X[:, cols].std(axis=0)
    np.testing.assert_allclose(Z[:, cols], expected, rtol=1e-12)
    assert s.scale_[2] == 1.0
    np.testing.assert_array_equal(Z[:, 2], 0.0)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    with np.errstate(all="raise"):
        np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-12)


def test_json_round_trip_into_fresh_scaler(X):
    s = Standardizer().fit(X)
    config = json.loads(json.dumps(s.to_config()))
    restored = Standardizer.from_config(config)
    other = np.random.default_rng(4).normal(size=(7, 4))
    np.testing.assert_array_equal(restored.transform(other), s.transform(other))


def test_keeps_float32_and_standardize_helper(X):
    Z, s = standardize(X)
    assert isinstance(s, Standardizer) and Z.shape == X.shape
    assert s.transform(X.astype(np.float32)).dtype == np.float32


def test_errors(X):
    with pytest.raises(DataError, match=r"Standardizer.transform: call fit"):
        Standardizer().transform(X)
    s = Standardizer().fit(X)
    with pytest.raises(DataError, match=r"X has shape \(50, 3\); expected \(n_samples, 4\)"):
        s.transform(X[:, :3])
    with pytest.raises(DataError, match="must be 2-D with at least one row"):
        Standardizer().fit(np.ones(3))
    with pytest.raises(ModelFileError, match="must hold 'mean' and 'scale'"):
        Standardizer.from_config({"mean": [0.0]})
    with pytest.raises(ModelFileError, match="must be 1-D lists of one length"):
        Standardizer.from_config({"mean": [0.0], "scale": [1.0, 1.0]})
    with pytest.raises(ModelFileError, match="'scale' finite and > 0"):
        Standardizer.from_config({"mean": [0.0], "scale": [0.0]})


@pytest.mark.parametrize("scale", [1e-200, 1e-15, 1.0, 1e200])
def test_columns_of_any_magnitude_are_standardized(scale):
    """The spread is judged relative to the values: tiny and huge columns are scaled too."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)) * scale
    X[:, 1] = 3.0 * scale  # constant: left unscaled, centred
    Z = Standardizer().fit_transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(Z[:, 0].std(), 1.0, rtol=1e-9)
    np.testing.assert_allclose(Z[:, 0].mean(), 0.0, atol=1e-9)
    np.testing.assert_array_equal(Z[:, 1], 0.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fit_refuses_non_finite_values(X, bad):
    X = X.copy()
    X[2, 1] = bad  # mean_ and scale_ would be NaN, and so every transformed value
    with pytest.raises(DataError, match=r"Standardizer.fit: X\[2, 1\] is (nan|inf); NaN and inf "
                                        r"are not allowed"):
        standardize(X)
