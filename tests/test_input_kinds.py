"""Inputs of unusual kinds reach the math as plain arrays or are refused with a DataError.

``np.matrix`` (what ``sparse.todense()`` returns) is read as a plain array: its ``*`` is a
matrix product and its reductions stay 2-D, which broke the costs and scalings downstream.
"""

import warnings

import numpy as np
import pytest

from npdeep import Network
from npdeep.errors import DataError
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


# ------------------------------------- estimators: fit refuses what predict refuses
def _fitted_classifier(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DeepClassifier((2,), max_iter=1, random_state=0).fit(X, y)


_KINDS = [
    (lambda X: (X * 1000).astype(np.int64).astype("datetime64[D]"),
     r"^X must hold real numbers, got dates or times \(dtype datetime64\[D\]\); turn them into "
     r"numbers first"),
    (lambda X: (X * 1000).astype(np.int64).astype("timedelta64[s]"),
     r"^X must hold real numbers, got dates or times \(dtype timedelta64\[s\]\)"),
    (lambda X: X.astype(str),
     r"^X must hold numbers, got text \(dtype <U\d+\); it holds numbers as text \('-?\d\.\d+'\): "
     r"convert them with X.astype\(float\)$"),
    (lambda X: X.astype("S20"), r"^X must hold numbers, got text \(dtype \|S20\); it holds "
                                r"numbers as text \(b'-?\d\.\d+'\)"),
    (lambda X: X.astype(str).tolist(), r"^X must hold numbers, got text \(dtype <U\d+\)"),
    (lambda X: np.where(X > 0, "red", "blue"),
     r"^X must hold numbers, got text \(dtype <U4\); it holds text \('(red|blue)'\): encode it "
     r"first \(e.g. OneHotEncoder\)"),
    (lambda X: X.astype(complex), r"^Complex data not supported: X must hold real numbers, "
                                  r"got complex numbers \(dtype complex128\)$"),
]


@pytest.mark.parametrize("make, message", _KINDS, ids=[
    "dates", "durations", "str", "bytes", "str-lists", "words", "complex"])
@pytest.mark.parametrize("estimator", [DeepClassifier, DeepRegressor])
def test_estimator_fit_and_predict_refuse_the_same_kinds(rng, make, message, estimator):
    # before: fit cast dates to day counts and text numbers to floats and trained silently;
    # predict, predict_proba and score then refused the same X
    X = rng.normal(size=(40, 3))
    y = np.arange(40) % 2
    bad = make(X)
    with pytest.raises(DataError, match=message):
        estimator((2,), max_iter=1).fit(bad, y)
    with pytest.raises(DataError, match=message):
        estimator((2,), max_iter=1).partial_fit(bad, y, **(
            {"classes": [0, 1]} if estimator is DeepClassifier else {}))
    fitted = _fitted_classifier(X, y)
    for method in (fitted.predict, fitted.predict_proba):
        with pytest.raises(DataError, match=message):
            method(bad)
    with pytest.raises(DataError, match=message):
        fitted.score(bad, y)


@pytest.mark.parametrize("kind, message", [
    ("datetime64[D]", r"^X must hold real numbers, got dates or times"),
    ("U8", r"^X must hold numbers, got text \(dtype <U8\)"),
    ("f8,f8,f8", r"^X must be an array of numbers, got a structured array"),
])
def test_estimator_fit_refuses_a_memmap_of_non_numbers(tmp_path, kind, message):
    # before: a datetime64 memmap reached a raw TypeError from the feature-scale einsum
    path = tmp_path / "x.npy"
    if kind == "f8,f8,f8":
        np.save(path, np.zeros(40, dtype=kind))
    else:
        np.save(path, (np.arange(120) % 7).astype(kind).reshape(40, 3))
    X = np.load(path, mmap_mode="r")
    with pytest.raises(DataError, match=message):
        DeepClassifier((2,), max_iter=1).fit(X, np.arange(40) % 2)


def test_dataframe_inputs_behave_alike_in_fit_and_predict(rng):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=list("abc"))
    y = np.arange(40) % 2
    fitted = _fitted_classifier(X, y)
    dates = X.assign(c=pd.date_range("2020-01-01", periods=40))
    for call in (lambda: _fitted_classifier(dates, y), lambda: fitted.predict(dates)):
        with pytest.raises(DataError, match=r"X has columns of dates or durations.*\['c'\]"):
            call()
    # numbers in an object column convert in both, as scikit-learn's estimators take them
    text_numbers = X.assign(c=X["c"].astype(str))
    np.testing.assert_array_equal(_fitted_classifier(text_numbers, y).predict(text_numbers),
                                  fitted.predict(X))


# -------------------------------------------------- a sum of weights beyond float64
def test_regressor_weights_whose_sum_overflows_weigh_as_equal_weights(rng):
    # before: np.average's sum of 50 weights of 1e308 overflowed to inf, the target mean came
    # out NaN and fit said "Y contains NaN or inf values"
    X = rng.normal(size=(50, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    kw = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        huge = DeepRegressor(**kw).fit(X, y, sample_weight=np.full(50, 1e308))
        plain = DeepRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(huge.loss_curve_, plain.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(huge.predict(X), plain.predict(X), rtol=1e-12)


# ---------------------------------------------- DataError, never a raw TypeError/Overflow
_HUGE = 10**400  # a Python int beyond float64


def test_network_names_a_number_beyond_float64():
    X = [[1.0, 2.0, _HUGE], [0.0, 1.0, 2.0]]
    message = (r"^X holds a number too large for float64 \(\|x\| > 1.8e\+308\): 1000000000"
               r"00\.\.\. at index \(0, 2\); rescale it$")
    net = Network([2, 2], output_activation="softmax", seed=0)
    with pytest.raises(DataError, match=message):
        net.fit(X, [0, 1, 0], epochs=1)
    with pytest.raises(DataError, match=message):
        net.predict(X)
    ok_X = [[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]
    reg = Network([2, 1], output_activation="identity", seed=0)
    with pytest.raises(DataError, match=r"^Y holds a number too large for float64 .* at index "
                                        r"\(0, 2\)"):
        reg.fit(ok_X, [[1, 2, _HUGE]], epochs=1)
    with pytest.raises(DataError, match=r"^sample_weight holds a number too large for float64 "
                                        r".* at index 2; rescale it"):
        reg.fit(ok_X, [1, 2, 3], sample_weight=[1, 1, _HUGE], epochs=1)


def test_estimators_name_a_number_beyond_float64(rng):
    X = rng.normal(size=(20, 3))
    y = np.arange(20) % 2
    huge_X = X.tolist()[:19] + [[1.0, 2.0, _HUGE]]
    with pytest.raises(DataError, match=r"^X holds a number too large for float64 .* at index "
                                        r"\(19, 2\)"):
        DeepClassifier((2,), max_iter=1).fit(huge_X, y)
    with pytest.raises(DataError, match=r"^y holds a number too large for float64 .* at index "
                                        r"19"):
        DeepRegressor((2,), max_iter=1).fit(X, [1.0] * 19 + [_HUGE])
    with pytest.raises(DataError, match=r"^sample_weight holds a number too large for float64 "
                                        r".* at index 19"):
        DeepClassifier((2,), max_iter=1).fit(X, y, sample_weight=[1] * 19 + [_HUGE])
    fitted = _fitted_classifier(X, y)
    with pytest.raises(DataError, match=r"^X holds a number too large for float64 .* at index "
                                        r"\(0, 2\)"):
        fitted.predict([[1.0, 2.0, _HUGE]])


@pytest.mark.parametrize("estimator", [DeepClassifier, DeepRegressor])
def test_estimators_refuse_a_sparse_sample_weight_as_data_error(rng, estimator):
    import scipy.sparse as sp

    X = rng.normal(size=(20, 3))
    with pytest.raises(DataError, match=r"^Sparse data was passed for sample_weight, but dense "
                                        r"data is required"):
        estimator((2,), max_iter=1).fit(X, np.arange(20) % 2,
                                        sample_weight=sp.csr_matrix(np.ones((1, 20))))


def test_mixed_type_column_names_are_a_data_error(rng):
    pd = pytest.importorskip("pandas")
    X = rng.normal(size=(20, 3))
    y = np.arange(20) % 2
    mixed = pd.DataFrame(X, columns=[0, "b", 2.5])
    message = (r"^X's column names must be all strings: Feature names are only supported if "
               r"all input features have string names")
    with pytest.raises(DataError, match=message):
        DeepClassifier((2,), max_iter=1).fit(mixed, y)
    with pytest.raises(DataError, match=message):
        _fitted_classifier(X, y).predict(mixed)


@pytest.mark.parametrize("column, message", [
    ("period", r"X has columns of dates or durations.*\['d'\]"),
    ("interval", r"X has columns of text or categories.*\['d'\]"),
])
def test_pandas_period_and_interval_columns_are_refused_by_name(rng, column, message):
    # a raw TypeError ("float() argument must be ... not 'Period'") came out of fit
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": rng.normal(size=8)})
    X["d"] = (pd.period_range("2020", periods=8, freq="D") if column == "period"
              else pd.interval_range(0, 8))
    for estimator in (DeepClassifier((2,), max_iter=1), DeepRegressor((2,), max_iter=1)):
        with pytest.raises(DataError, match=message):
            estimator.fit(X, np.arange(8) % 2)


@pytest.mark.parametrize("column", ["date", "datetime", "duration", "text", "category"])
def test_polars_columns_that_are_not_numbers_are_refused_by_name(rng, column):
    # dates trained silently as day counts (18262...), text raised AttributeError ('Float64'
    # object has no attribute 'kind') from the error path
    import datetime

    pl = pytest.importorskip("polars")
    values = {
        "date": [datetime.date(2020, 1, i + 1) for i in range(8)],
        "datetime": [datetime.datetime(2020, 1, i + 1) for i in range(8)],
        "duration": [datetime.timedelta(days=i) for i in range(8)],
        "text": list("xyxyxyxy"),
        "category": pl.Series(list("xyxyxyxy"), dtype=pl.Categorical),
    }[column]
    X = pl.DataFrame({"a": rng.normal(size=8), "d": values})
    kind = "dates or durations" if column in ("date", "datetime", "duration") \
        else "text or categories"
    with pytest.raises(DataError, match=rf"X has columns of {kind}.*\['d'\]"):
        DeepClassifier((2,), max_iter=1).fit(X, np.arange(8) % 2)
    numbers = pl.DataFrame({"a": rng.normal(size=8), "b": [True, False] * 4, "i": range(8)})
    fitted = _fitted_classifier(numbers, np.arange(8) % 2)
    with pytest.raises(DataError, match=rf"X has columns of {kind}.*\['b'\]"):
        fitted.predict(pl.DataFrame({"a": rng.normal(size=8), "b": values, "i": range(8)}))
