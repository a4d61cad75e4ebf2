"""``npdeep.load_trained(path)`` applies a ``npdeep train`` file as ``npdeep predict`` does:
a DataFrame matched by its column names, text columns one-hot encoded as in training, one
regression target as ``(m,)``."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import call
from sklearn.datasets import load_diabetes, load_iris

import npdeep

FIT = ["--optimizer", "adam", "--learning-rate", "0.01", "--schedule", "constant"]
FAST = ["--units", "8", "--epochs", "5", "--batch-size", "32", "-q", *FIT]


def _train(capsys, *argv):
    code, _, err = call(capsys, "train", *argv, *FAST)
    assert code == 0, err


def _cli_predict(capsys, model, data, out):
    code, _, err = call(capsys, "predict", model, data, "-o", out)
    assert code == 0, err
    return pd.read_csv(out)


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    """(model file, CSV, its DataFrame with the target column 'target') of diabetes."""
    folder = tmp_path_factory.mktemp("diabetes")
    frame = load_diabetes(as_frame=True).frame
    csv = folder / "diab.csv"
    frame.to_csv(csv, index=False)
    model = folder / "diab-train.npz"
    assert npdeep.cli.run(["train", str(csv), "-o", str(model), *FAST]) == 0
    return model, csv, frame


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    """(model file, CSV, DataFrame) of iris with a text feature column 'kind' (one-hot)."""
    folder = tmp_path_factory.mktemp("flowers")
    iris = load_iris(as_frame=True)
    frame = iris.data.copy()
    frame.insert(0, "kind", np.where(iris.data["petal length (cm)"] > 4, "long", "short"))
    frame["species"] = iris.target_names[iris.target]
    csv = folder / "flowers.csv"
    frame.to_csv(csv, index=False)
    model = folder / "flowers-train.npz"
    assert npdeep.cli.run(["train", str(csv), "--target", "species", "--categorical", "onehot",
                           "-o", str(model), *FAST]) == 0
    return model, csv, frame


def test_a_dataframe_is_matched_by_its_column_names(diabetes, tmp_path, capsys):
    # before: the columns were taken by position, reordered ones predicted 180 off, silently
    model_file, csv, frame = diabetes
    model = npdeep.load_trained(model_file)
    features = frame.drop(columns="target")
    expected = model.predict(features.to_numpy())  # an array: by position, training order
    reordered = features[features.columns[::-1]]
    np.testing.assert_array_equal(model.predict(reordered), expected)
    np.testing.assert_array_equal(model.predict(frame), expected)  # the target is ignored
    cli = _cli_predict(capsys, model_file, csv, tmp_path / "p.csv")
    np.testing.assert_allclose(model.predict(reordered), cli["prediction"], rtol=1e-7)


def test_an_array_keeps_its_positional_meaning(diabetes):
    model = npdeep.load_trained(diabetes[0])
    features = diabetes[2].drop(columns="target")
    reversed_array = features.to_numpy()[:, ::-1]
    assert np.abs(model.predict(reversed_array) - model.predict(features)).max() > 1.0
    renamed = pd.DataFrame(features.to_numpy())  # no name occurs: by position, as the CLI
    np.testing.assert_array_equal(model.predict(renamed), model.predict(features))


@pytest.mark.parametrize("change, message", ids=[
    "missing", "none-by-name", "text", "nan", "inf", "twice", "dates"], argvalues=[
    (lambda f: f.drop(columns=["bmi", "s1"]),
     r"^X: lacks 2 of the feature columns the model was trained on: 'bmi', 's1' \(the "
     r"DataFrame has 'age', 'sex', 'bp', 's2'"),
    (lambda f: f.iloc[:, :5].rename(columns=str.upper),
     r"^X: has 5 feature columns but the model expects 10 features; columns missing by name: "
     r"'age', 'sex'"),
    (lambda f: f.assign(bmi="high"),
     r"^X: column 'bmi' holds 'high', which is not a number; the model was trained on it as a "
     r"numeric column"),
    (lambda f: f.assign(bp=np.where(np.arange(len(f)) == 3, np.nan, f["bp"])),
     r"^X: row 3, column 'bp': missing value; missing values are not supported"),
    (lambda f: f.assign(bp=np.inf),
     r"^X: row 0, column 'bp': inf is not a finite number; NaN and inf are not allowed"),
    (lambda f: pd.concat([f, f[["s2"]]], axis=1),
     r"^X: has the column 's2' more than once; which one the model should read is ambiguous"),
    (lambda f: f.assign(age=pd.Timestamp(0)),
     r"^X: column 'age' holds dates or durations \(datetime64\[ns\]\)"),
])
def test_a_dataframe_that_does_not_fit_is_refused_by_name(diabetes, change, message):
    model = npdeep.load_trained(diabetes[0])
    with pytest.raises(npdeep.DataError, match=message):
        model.predict(change(diabetes[2].drop(columns="target")))


def test_one_regression_target_gives_one_dimension_and_several_two(diabetes, tmp_path,
                                                                   capsys):
    # before: (m, 1), where DeepRegressor and scikit-learn give (m,)
    model = npdeep.load_trained(diabetes[0])
    X = diabetes[2].drop(columns="target").to_numpy()
    assert model.predict(X).shape == (len(X),)
    rng = np.random.default_rng(0)
    X2 = rng.normal(size=(60, 3))
    np.savez(tmp_path / "two.npz", X=X2, y=np.column_stack([X2.sum(axis=1), X2[:, 0]]))
    _train(capsys, tmp_path / "two.npz", "-o", tmp_path / "two-train.npz")
    two = npdeep.load_trained(tmp_path / "two-train.npz")
    assert two.predict(X2).shape == (60, 2)
    cli = _cli_predict(capsys, tmp_path / "two-train.npz", tmp_path / "two.npz",
                       tmp_path / "p.csv")  # the command's columns are unchanged
    assert list(cli.columns) == ["prediction_0", "prediction_1"]
    np.testing.assert_allclose(two.predict(X2), cli.to_numpy(), rtol=1e-7, atol=1e-12)


def test_a_one_hot_model_predicts_from_a_dataframe_as_from_its_csv(flowers, tmp_path, capsys):
    # before: DataError for the text column, ConfigurationError without it: no way from Python
    model_file, csv, frame = flowers
    model = npdeep.load_trained(model_file)
    cli = _cli_predict(capsys, model_file, csv, tmp_path / "p.csv")
    features = frame.drop(columns="species")
    np.testing.assert_array_equal(model.predict(features[features.columns[::-1]]),
                                  cli["prediction"])
    np.testing.assert_array_equal(model.predict(frame), cli["prediction"])
    np.testing.assert_allclose(model.predict_proba(features),
                               cli[[f"probability_{c}" for c in model.classes]], atol=1e-5)
    assert (model.predict(features) == frame["species"]).mean() > 0.6


@pytest.mark.parametrize("change, error, message", ids=[
    "unseen", "missing-value", "missing-column", "array"], argvalues=[
    (lambda f: f.assign(kind=np.where(np.arange(len(f)) == 2, "tiny", f["kind"])),
     npdeep.DataError, r"^X: row 2, column 'kind': category 'tiny' was not seen in training; "
                       r"known categories: 'long', 'short'"),
    (lambda f: f.assign(kind=None), npdeep.DataError,
     r"^X: row 0, column 'kind': missing value"),
    (lambda f: f.drop(columns="kind"), npdeep.DataError,
     r"^X: lacks 1 of the feature columns the model was trained on: 'kind'"),
    (lambda f: f.drop(columns="kind").to_numpy(), npdeep.ConfigurationError,
     r"trained with one-hot encoded text columns \('kind'\), which an array of numbers cannot "
     r"hold; pass a pandas DataFrame with the columns 'kind', 'sepal length \(cm\)'.* by name "
     r"\(the text columns as text\), or predict from a CSV with `npdeep predict`"),
])
def test_a_one_hot_model_names_what_it_cannot_encode(flowers, change, error, message):
    model = npdeep.load_trained(flowers[0])
    with pytest.raises(error, match=message):
        model.predict(change(flowers[2].drop(columns="species")))


def test_text_cells_are_stripped_as_in_a_csv(flowers):
    model = npdeep.load_trained(flowers[0])
    features = flowers[2].drop(columns="species")
    padded = features.assign(kind=" " + features["kind"] + " ")
    np.testing.assert_array_equal(model.predict_proba(padded), model.predict_proba(features))


def test_an_estimator_file_is_refused_naming_npdeep_load(tmp_path, capsys):
    # before: "... which this command does not read", the command line's words
    X, y = load_iris(return_X_y=True)
    path = tmp_path / "est.npz"
    npdeep.save(npdeep.DeepClassifier((4,), max_iter=2).fit(X, y), path)
    with pytest.raises(npdeep.ModelFileError,
                       match=r"est\.npz: holds a scikit-learn estimator \(saved by npdeep\.save\), "
                             r"not a model of `npdeep train`; load it with npdeep\.load\(path\), "
                             r"which gives the fitted estimator with its own predict$"):
        npdeep.load_trained(path)
    code, _, err = call(capsys, "gradcheck", path)  # the command keeps its own words
    assert code == 1 and "which this command does not read" in err


def test_a_memory_mapped_x_is_predicted_in_blocks(tmp_path, rng):
    # before: X was cast to float64 whole and scaled whole, two copies (a 200 MB float32
    # file peaked at 823 MB); now a block of samples at a time
    import tracemalloc

    n_x = 100
    frame = pd.DataFrame(rng.normal(5.0, 3.0, size=(300, n_x)),
                         columns=[f"f{j}" for j in range(n_x)])
    frame["label"] = np.array(["a", "b", "c"])[rng.integers(0, 3, 300)]
    csv = tmp_path / "wide.csv"
    frame.to_csv(csv, index=False)
    model_file = tmp_path / "wide.npz"
    assert npdeep.cli.run(["train", str(csv), "--target", "label", "-o", str(model_file),
                           *FAST]) == 0
    model = npdeep.load_trained(model_file)
    assert model.header.get("scaling")  # the blocks are scaled too
    path = tmp_path / "big.npy"
    big = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(100_000, n_x))
    for start in range(0, big.shape[0], 10_000):
        big[start : start + 10_000] = rng.normal(5.0, 3.0, size=(10_000, n_x))
    big.flush()
    del big
    X = np.load(path, mmap_mode="r")
    tracemalloc.start()
    try:
        labels = model.predict(X)
        proba = model.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 3, f"peak {peak / 1e6:.1f} MB for a {X.nbytes / 1e6:.0f} MB file"
    assert labels.shape == (100_000,) and proba.shape == (100_000, 3)
    head = np.array(X[:20_000], dtype=np.float64)  # several blocks, predicted from memory
    np.testing.assert_array_equal(labels[:20_000], model.predict(head))
    # a float32 network: blocks of other sizes round differently in the last digits
    np.testing.assert_allclose(proba[:20_000], model.predict_proba(head), rtol=1e-5)
    np.testing.assert_allclose(proba[-5:], model.predict_proba(np.array(X[-5:])), rtol=1e-5)


def test_errors_describe_x_as_the_caller_passed_it(diabetes):
    # before: an empty DataFrame was "shape (10, 0)" (the network's transposed view), sparse
    # input and a dict "shape () and dtype object"
    import scipy.sparse as sp

    model = npdeep.load_trained(diabetes[0])
    features = diabetes[2].drop(columns="target")
    with pytest.raises(npdeep.DataError, match=r"X has no samples \(a DataFrame of shape "
                                               r"\(0, 10\)\)"):
        model.predict(features.iloc[:0])
    with pytest.raises(npdeep.DataError, match=r"X has no samples \(shape \(0, 10\) and dtype "
                                               r"float64\)"):
        model.predict(np.zeros((0, 10)))
    with pytest.raises(npdeep.DataError, match=r"X is a scipy.sparse csr matrix of shape "
                                               r"\(3, 10\); .* predicts from dense rows only: "
                                               r"pass X.toarray\(\)"):
        model.predict(sp.csr_matrix(features.to_numpy()[:3]))
    with pytest.raises(npdeep.DataError, match=r"samples as rows, got a dict$"):
        model.predict(features.to_dict("list"))
    with pytest.raises(npdeep.DataError, match=r"got shape \(10,\) and dtype float64; for one "
                                               r"sample pass X.reshape\(1, -1\)"):
        model.predict(features.to_numpy()[0])
    with pytest.raises(npdeep.DataError, match="got a list of 2 rows, whose rows differ"):
        model.predict([[1.0] * 10, [1.0] * 9])
