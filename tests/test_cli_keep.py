"""``npdeep predict --keep``: identifier columns copied beside the predictions."""

import csv
import io

import numpy as np
import pytest
from cli_helpers import call, call_json

from npdeep import DeepClassifier, Network, save

FAST = ["--units", "8", "--epochs", "3", "--batch-size", "16", "-q"]


def _pets(folder, n=40, name="pets.csv", target=True):
    """A CSV with an identifier, two features and (with ``target``) a label; return its path."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    lines = ["id,size,weight" + (",kind" if target else "")]
    lines += [f"P{i:03d},{x[0]:.4f},{x[1]:.4f}" + (f",{'ab'[int(x[0] > 0)]}" if target else "")
              for i, x in enumerate(X)]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_keep_copies_the_identifier_before_the_predictions_in_every_chunk(tmp_path, capsys):
    data = _pets(tmp_path)
    model = tmp_path / "m.npz"
    call_json(capsys, "train", data, *FAST, "--drop", "id", "-o", model)
    new = _pets(tmp_path, n=25, name="new.csv", target=False)
    code, plain, err = call(capsys, "predict", model, new)
    assert code == 0, err
    code, out, err = call(capsys, "predict", model, new, "--keep", "id", "--chunk-rows", "7")
    assert code == 0, err
    rows = _rows(out)
    assert rows[0] == ["id", *_rows(plain)[0]]
    assert [r[0] for r in rows[1:]] == [f"P{i:03d}" for i in range(25)]
    assert [r[1:] for r in rows[1:]] == _rows(plain)[1:]  # the same predictions, in order


def test_keep_writes_to_a_file_and_names_the_columns_in_the_json(tmp_path, capsys):
    data = _pets(tmp_path)
    model = tmp_path / "m.npz"
    call_json(capsys, "train", data, *FAST, "--drop", "id", "-o", model)
    out = tmp_path / "p.tsv"
    answer = call_json(capsys, "predict", model, data, "--keep", "id,kind", "-o", out)
    assert answer["columns"][:3] == ["id", "kind", "prediction"]
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0][:2] == ["id", "kind"] and rows[1][:2] == ["P000", data.read_text().split(
        "\n")[1].split(",")[-1]]


def test_keep_on_a_model_without_column_names_leaves_the_kept_columns_out(tmp_path, capsys):
    # a Network.save file knows n_x only: the kept column is not one of its features
    model = tmp_path / "net.npz"
    Network([2, 4, 1], seed=0).save(model)
    new = _pets(tmp_path, n=5, name="new.csv", target=False)
    code, _, err = call(capsys, "predict", model, new)
    assert code == 1 and "has 3 columns but the model expects 2 features" in err
    code, out, err = call(capsys, "predict", model, new, "--keep", "id")
    assert code == 0, err
    assert [r[0] for r in _rows(out)] == ["id", *(f"P{i:03d}" for i in range(5))]


def test_keep_with_an_estimator_fitted_on_a_dataframe(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    data = _pets(tmp_path)
    frame = pd.read_csv(data)
    clf = DeepClassifier((4,), max_iter=3, random_state=0)
    with pytest.warns(Warning):  # not converged in 3 epochs
        clf.fit(frame[["size", "weight"]], frame["kind"])
    model = tmp_path / "clf.npz"
    save(clf, model)
    code, out, err = call(capsys, "predict", model, data, "--keep", "id")
    assert code == 0, err
    rows = _rows(out)
    assert rows[0][0] == "id" and rows[1][0] == "P000"
    assert [r[1] for r in rows[1:]] == clf.predict(frame[["size", "weight"]]).tolist()


@pytest.mark.parametrize("keep, code, message", [
    ("idd", 1, "cannot keep column 'idd', which it does not have; the columns are: 'id', "
               "'size', 'weight', 'kind'; did you mean 'id'?"),
    ("id,id", 1, "column 'id' is named twice in --keep"),
    ("prediction", 2, "--keep 'prediction': the predictions have a column of that name"),
    ("id,,kind", 2, "expected comma-separated column names like id,name"),
])
def test_keep_errors_name_the_problem(tmp_path, capsys, keep, code, message):
    data = _pets(tmp_path)
    model = tmp_path / "m.npz"
    call_json(capsys, "train", data, *FAST, "--drop", "id", "-o", model)
    out = tmp_path / "p.csv"
    got, _, err = call(capsys, "predict", model, data, "--keep", keep, "-o", out)
    assert got == code and message in err
    assert not out.exists()  # nothing written


def test_keep_needs_a_csv(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(6, 2))
    npy = tmp_path / "x.npy"
    np.save(npy, X)
    model = tmp_path / "net.npz"
    Network([2, 4, 1], seed=0).save(model)
    code, _, err = call(capsys, "predict", model, npy, "--keep", "id")
    assert code == 2 and "--keep copies columns of a CSV DATA; this DATA is not a CSV" in err
