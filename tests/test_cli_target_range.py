"""``npdeep train`` on regression targets an output activation cannot reach (refused, by
column and file) or trains on far from unit size (a note)."""

import numpy as np
import pytest
from cli_helpers import call, call_json

FAST = ["--units", "8", "--epochs", "3", "--batch-size", "0", "--dropout", "0", "-q"]


def _csv(path, **targets):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    columns = {"x1": X[:, 0], "x2": X[:, 1]}
    columns.update({name: f(X) for name, f in targets.items()})
    lines = [",".join(columns)] + [",".join(f"{v:.17g}" for v in row)
                                   for row in zip(*columns.values(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_range_error_names_the_column_and_the_file(tmp_path, capsys):
    data = _csv(tmp_path / "two.csv", a=lambda X: 3 + X[:, 0] ** 2,
                b=lambda X: X[:, 1] - 4)
    code, _, err = call(capsys, "train", data, "--target", "a,b", "--output-activation",
                        "relu", "--test-fraction", "0", *FAST, "-o", tmp_path / "m.npz")
    b = np.loadtxt(data, delimiter=",", skiprows=1)[:, 3]
    assert code == 1 and not (tmp_path / "m.npz").exists()
    assert (f"{data}: target 'b' has values in [{b.min():.4g}, {b.max():.4g}], outside [0, "
            "inf] where --output-activation relu can reach; shift or scale the target into that "
            "range, or use --output-activation identity (which standardizes it)") in err, err


@pytest.mark.parametrize("g", ["softplus", "tanh", "sigmoid"])
def test_targets_far_from_unit_size_get_a_note(tmp_path, capsys, g):
    size = 0.001 if g in ("tanh", "sigmoid") else 5000.0
    data = _csv(tmp_path / "far.csv", a=lambda X: 0.5 + 0.1 * np.tanh(X[:, 0]),
                y=lambda X: size * (1.5 + np.tanh(X[:, 1])) / 2.5)
    y = np.loadtxt(data, delimiter=",", skiprows=1)[:, 3]
    result = call_json(capsys, "train", data, "--target", "a,y", "--output-activation", g,
                       "--test-fraction", "0", *FAST, "-o", tmp_path / "m.npz")
    rms = np.sqrt(np.mean(y ** 2))
    note = (f"target 'y' has a root mean square of {rms:.3g}, far from the unit size that "
            f"--output-activation {g} trains on as given; scale the target (and the "
            "predictions back), or use --output-activation identity (which standardizes it)")
    # judged by the largest column: beside a (root mean square ~0.5), y of ~0.001 is no cause
    assert (note in result["notes"]) == (g == "softplus"), result["notes"]
    code, _, err = call(capsys, "train", data, "--target", "y", "--output-activation", g,
                        "--test-fraction", "0", *FAST, "-o", tmp_path / "m.npz")
    assert code == 0 and f"note: {note}" in err, err


@pytest.mark.parametrize("g", ["identity", "relu", "exp"])
def test_scaled_outputs_get_no_unit_size_note(tmp_path, capsys, g):
    data = _csv(tmp_path / "big.csv", y=lambda X: 5000 * (1.5 + np.tanh(X[:, 1])))
    result = call_json(capsys, "train", data, "--target", "y", "--output-activation", g,
                       "--test-fraction", "0", *FAST, "-o", tmp_path / "m.npz")
    assert not any("unit size" in n for n in result["notes"])


def _with_text_cell(path, source, column, line=4):
    rows = source.read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[line - 1].split(",")
    cells[header.index(column)] = "n/d"  # text, no missing-value marker
    rows[line - 1] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")
    return path


def test_train_advises_task_classification_for_a_text_cell_in_a_numeric_target(tmp_path,
                                                                              capsys):
    data = _with_text_cell(tmp_path / "bad.csv",
                           _csv(tmp_path / "r.csv", y=lambda X: X[:, 0] + 0.5), "y")
    code, _, err = call(capsys, "train", data, *FAST, "-o", tmp_path / "m.npz")
    assert code == 1 and (f"{data}: line 4, column 'y': the target holds numbers and text "
                          "('n/d'): for classes use --task classification "
                          "(task='classification'); regression needs a number in every "
                          "row") in err, err


@pytest.mark.parametrize("command", ["evaluate", "gradcheck"])
def test_a_text_cell_in_the_target_of_a_regression_model_names_the_model(tmp_path, capsys,
                                                                         command):
    good = _csv(tmp_path / "r.csv", y=lambda X: X[:, 0] + 0.5)
    model = tmp_path / "m.npz"
    call_json(capsys, "train", good, *FAST, "-o", model)
    data = _with_text_cell(tmp_path / "bad.csv", good, "y")
    argv = [model, data] if command == "evaluate" else [model, "--data", data]
    code, _, err = call(capsys, command, *argv)
    assert code == 1
    assert (f"{data}: line 4, column 'y': 'n/d' is not a number, but m.npz was trained for "
            "regression (a number in every row)") in err, err
    assert "--task" not in err


def test_a_text_cell_in_a_multi_label_target_names_the_model(tmp_path, capsys):
    good = _csv(tmp_path / "ml.csv", a=lambda X: (X[:, 0] > 0).astype(int),
                b=lambda X: (X[:, 1] > 0).astype(int))
    model = tmp_path / "m.npz"
    assert call_json(capsys, "train", good, "--target", "a,b", *FAST,
                     "-o", model)["task"] == "multilabel"
    data = _with_text_cell(tmp_path / "bad.csv", good, "b", line=6)
    code, _, err = call(capsys, "evaluate", model, data)
    assert code == 1
    assert (f"{data}: line 6, column 'b': 'n/d' is not a number, but m.npz was trained for "
            "multi-label classification (0 or 1 in every row of each label column)") in err, err
    assert "--task" not in err and "regression" not in err


def test_train_task_multilabel_says_what_multi_label_needs(tmp_path, capsys):
    good = _csv(tmp_path / "ml.csv", a=lambda X: (X[:, 0] > 0).astype(int),
                b=lambda X: (X[:, 1] > 0).astype(int))
    data = _with_text_cell(tmp_path / "bad.csv", good, "b", line=6)
    code, _, err = call(capsys, "train", data, "--target", "a,b", "--task", "multilabel",
                        *FAST, "-o", tmp_path / "m.npz")
    assert code == 1 and (f"{data}: line 6, column 'b': the target holds numbers and text "
                          "('n/d'): multi-label classification needs 0 or 1 in every "
                          "row") in err, err
