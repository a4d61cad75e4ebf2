"""Inputs of unusual kinds reach the math as plain arrays or are refused with a DataError.

``np.matrix`` (what ``sparse.todense()`` returns) is read as a plain array: its ``*`` is a
matrix product and its reductions stay 2-D, which broke the costs and scalings downstream.
"""

import warnings

import numpy as np
import pytest

from npdeep import Network
from npdeep.sklearn import DeepClassifier, DeepRegressor

# np.matrix itself warns that it is deprecated: these tests build them on purpose
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")


@pytest.fixture
def data(rng):
    X = rng.normal(size=(3, 40))
    y = rng.integers(0, 2, 40)
    return X, y


def _softmax():
    return Network([3, 4, 2], output_activation="softmax", seed=0)


def _identity():
    return Network([3, 4, 1], output_activation="identity", seed=0)


# ------------------------------------------------------------------------- np.matrix
@pytest.mark.parametrize("batch_size", [8, None])
def test_network_fits_one_hot_matrix_targets_as_the_array(data, batch_size):
    X, y = data
    Y = np.eye(2)[y].T
    expected = _softmax().fit(X, Y, epochs=3, batch_size=batch_size).cost
    got = _softmax().fit(np.matrix(X), np.matrix(Y), epochs=3, batch_size=batch_size).cost
    np.testing.assert_allclose(got, expected)


def test_onehotencoder_todense_targets_train(data):
    from sklearn.preprocessing import OneHotEncoder

    X, y = data
    Y = OneHotEncoder().fit_transform(y.reshape(-1, 1)).T.todense()
    assert isinstance(Y, np.matrix)
    history = _softmax().fit(X, Y, epochs=3)
    np.testing.assert_allclose(history.cost, _softmax().fit(X, y, epochs=3).cost)


def test_network_regression_matrix_targets(data):
    X, y = data
    expected = _identity().fit(X, y * 1.0, epochs=2, batch_size=8).cost
    got = _identity().fit(X, np.matrix(y * 1.0), epochs=2, batch_size=8).cost
    np.testing.assert_allclose(got, expected)
    assert _identity().evaluate(X, np.matrix(y * 1.0)) == _identity().evaluate(X, y * 1.0)


@pytest.mark.parametrize("column", [False, True])
def test_network_matrix_sample_weight(data, column):
    X, y = data
    w = np.linspace(0.5, 2, 40)
    weights = np.matrix(w).T if column else np.matrix(w)
    got = _softmax().fit(X, y, epochs=2, sample_weight=weights).cost
    np.testing.assert_allclose(got, _softmax().fit(X, y, epochs=2, sample_weight=w).cost)


def test_network_matrix_validation_data_and_predict(data):
    X, y = data
    Y = np.eye(2)[y].T
    history = _softmax().fit(X, y, epochs=2, validation_data=(np.matrix(X), np.matrix(Y)))
    expected = _softmax().fit(X, y, epochs=2, validation_data=(X, Y))
    np.testing.assert_allclose(history.val_cost, expected.val_cost)
    out = _softmax().predict(np.matrix(X))
    assert type(out) is np.ndarray and out.shape == (40,)
    np.testing.assert_array_equal(out, _softmax().predict(X))
    proba = _softmax().predict_proba(np.matrix(X))
    assert type(proba) is np.ndarray
    np.testing.assert_allclose(proba, _softmax().predict_proba(X))


def test_estimators_take_matrix_inputs(data):
    X, y = data
    X = X.T
    w = np.linspace(0.5, 2, 40)
    kw = dict(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence
        clf = DeepClassifier(**kw).fit(np.matrix(X), np.matrix(y).T, sample_weight=np.matrix(w))
        ref = DeepClassifier(**kw).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(clf.predict_proba(np.matrix(X)), ref.predict_proba(X))
        assert clf.score(np.matrix(X), np.matrix(y), sample_weight=np.matrix(w)) == \
            ref.score(X, y, sample_weight=w)
        reg = DeepRegressor(**kw).fit(np.matrix(X), np.matrix(y * 1.0).T)
        ref = DeepRegressor(**kw).fit(X, y * 1.0)
        assert reg.predict(np.matrix(X)).shape == (40,)
        np.testing.assert_allclose(reg.predict(np.matrix(X)), ref.predict(X))
        assert reg.score(np.matrix(X), np.matrix(y * 1.0)) == ref.score(X, y * 1.0)
