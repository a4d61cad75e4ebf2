"""Bad input at the command line: each mistake gets its message and exit code, no traceback,
and nothing is written."""

import json
import os
import re

import numpy as np
import pytest
from cli_helpers import call
from sklearn.datasets import load_iris

from npdeep.cli import run
from npdeep.io import load_model_file, save_model_file


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Data files, good and bad, and a trained iris model, in one read-only-by-convention folder."""
    d = tmp_path_factory.mktemp("inputs")
    X, y = load_iris(return_X_y=True)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    lines = [",".join([*names, "species"])] + [
        ",".join([*(f"{v:g}" for v in row), str(t)]) for row, t in zip(X, y, strict=True)]
    (d / "iris.csv").write_text("\n".join(lines) + "\n")
    three = [",".join([*names[:3], "species"])] + [
        ",".join([*(f"{v:g}" for v in row[:3]), str(t)]) for row, t in zip(X, y, strict=True)]
    (d / "iris3.csv").write_text("\n".join(three) + "\n")
    (d / "empty.csv").write_text("")
    (d / "model.json").write_text('{"units": [4, 3]}\n')
    (d / "question.csv").write_text("\n".join(lines[:3] + [lines[3].rsplit(",", 1)[0] + ",?"])
                                    + "\n")
    (d / "underscore.csv").write_text("\n".join(lines[:3] + [lines[3].rsplit(",", 1)[0]
                                                              + ",1_0"]) + "\n")
    (d / "curves.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (d / "headerless.data").write_text("5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,setosa\n")
    (d / "separators.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n,,,\n")
    import gzip

    packed = gzip.compress((d / "iris.csv").read_bytes())
    (d / "corrupt.csv.gz").write_bytes(packed[:40] + bytes(40) + packed[80:])
    (d / "wrongmagic-images-idx3-ubyte").write_bytes(b"\0\0\x07\x03" + bytes(16))
    (d / "wrongmagic-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01" + bytes(8))
    (d / "ragged.csv").write_text("a,b,c\n1,2,0\n3,4,1\n5,6\n7,8,1\n")
    (d / "cell.csv").write_text("a,b,c\n1,2,0\n3,4,1\n5,oops,0\n7,8,1\n")
    (d / "single.csv").write_text("a,b,c\n1,2,0\n3,4,0\n5,6,0\n7,8,0\n")
    (d / "unknown.toml").write_text("epochs = 2\nlearning_rat = 0.1\n")
    (d / "float_epochs.toml").write_text("epochs = 2.5\n")
    (d / "text_flag.toml").write_text('early_stopping = "yes"\n')
    (d / "number_path.toml").write_text("plot = 3\n")
    (d / "utf16.toml").write_text("epochs = 2\n", encoding="utf-16")
    (d / "renamed_target.csv").write_text("\n".join([lines[0].replace("species", "kind")]
                                                    + lines[1:]) + "\n")
    renamed = ["sepal_length,sepal_width,petal_length,PW,species"] + lines[1:]
    (d / "renamed.csv").write_text("\n".join(renamed) + "\n")
    (d / "semicolons.csv").write_text("\n".join(line.replace(",", ";") for line in lines[:4]))
    (d / "trailing.csv").write_text("a,b,\n1,0,\n2,1,\n")
    np.save(d / "x5.npy", np.ones((10, 5)))
    declared = b"{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000, 100000), }"
    declared += b" " * (118 - len(declared)) + b"\n"  # 8 EB declared over 16 bytes of data
    (d / "bomb.npy").write_bytes(b"\x93NUMPY\x01\x00" + bytes([len(declared), 0]) + declared
                                 + bytes(16))
    model = d / "iris.npz"
    assert run(["train", str(d / "iris.csv"), "--units", "4", "--epochs", "2", "-q",
                "-o", str(model)]) == 0
    header, arrays = load_model_file(model)[:2]
    for key in ("format", "arrays", "format_version", "npdeep_version"):
        header.pop(key, None)
    save_model_file(d / "short_classes.npz", {**header, "classes": [0, 1]}, arrays)
    save_model_file(d / "huge_class.npz", {**header, "classes": [0, 1, 1e308]}, arrays)
    save_model_file(d / "mixed_classes.npz", {**header, "classes": ["a", 1, 2]}, arrays)
    save_model_file(d / "signs_apart.npz", {**header, "classes": [-1, 0, 2**63]}, arrays)
    save_model_file(d / "repeated_classes.npz", {**header, "classes": [0, 1, 1]}, arrays)
    history = {**header["history"], "cost": "low"}
    save_model_file(d / "text_history.npz", {**header, "history": history}, arrays)
    history = {**header["history"], "cost": [*header["history"]["cost"], 0.5]}
    save_model_file(d / "long_history.npz", {**header, "history": history}, arrays)
    return d


def listing(folder):
    return sorted(os.listdir(folder))


CASES = {
    # name: (argv with {d} for the inputs and {out} for the output folder, exit code, message)
    "missing file": (["train", "{d}/nope.csv", "-o", "{out}/m.npz"], 1,
                     r"nope\.csv: no such file or folder"),
    "empty file": (["train", "{d}/empty.csv", "-o", "{out}/m.npz"], 1,
                   r"empty\.csv: the file is empty"),
    "ragged rows": (["train", "{d}/ragged.csv", "-o", "{out}/m.npz"], 1,
                    r"ragged\.csv: line 4 has 2 fields, expected 3"),
    "non-numeric cell": (["train", "{d}/cell.csv", "-o", "{out}/m.npz"], 1,
                         r"cell\.csv: line 4, column 'b': 'oops' is not a number"),
    "missing target": (["train", "{d}/iris.csv", "--target", "kind", "-o", "{out}/m.npz"], 1,
                       r"target column 'kind' not found; the columns are: 'sepal_length', "
                       r"'sepal_width', 'petal_length', 'petal_width', 'species'"),
    "single class": (["train", "{d}/single.csv", "-o", "{out}/m.npz"], 1,
                     r"single\.csv: target 'c' has a single class \(0\) in all 4 samples"),
    "model given as data": (["train", "{d}/iris.npz", "-o", "{out}/m.npz"], 1,
                            r"iris\.npz: looks like a model file, not data"),
    "data given as model": (["evaluate", "{d}/iris.csv", "{d}/iris.csv"], 1,
                            r"iris\.csv: looks like a data file \(CSV\), not a model"),
    "data given as model to predict": (["predict", "{d}/iris.csv", "{d}/iris.csv",
                                        "-o", "{out}/p.csv"], 1, r"not a model"),
    "image given as model": (["inspect", "{d}/curves.png"], 1,
                             r"model file '.*curves\.png': not an npdeep model file: it is not a "
                             r"zip archive"),
    "text file given as model": (["inspect", "{d}/model.json"], 1,
                                 r"model\.json: is a text file, not a model"),
    "headerless CSV with a text column": (["train", "{d}/headerless.data", "-o", "{out}/m.npz"],
                                          1, r"headerless\.data: line 1 looks like data, not a "
                                             r"header \(cells such as '5.1', '3.5', '1.4'"),
    "a row of separators only": (["predict", "{d}/iris.npz", "{d}/separators.csv",
                                  "-o", "{out}/p.csv"], 1,
                                 r"separators\.csv: line 3, column 'sepal_length': empty cell"),
    "corrupt gzip": (["train", "{d}/corrupt.csv.gz", "-o", "{out}/m.npz"], 1,
                     r"corrupt\.csv\.gz: corrupt gzip file"),
    "IDX file with a wrong magic": (["train", "{d}/wrongmagic-images-idx3-ubyte",
                                     "-o", "{out}/m.npz"], 1, r"not an IDX file \(magic bytes"),
    "text label for numeric classes": (["evaluate", "{d}/iris.npz", "{d}/question.csv"], 1,
                                       r"question\.csv: label '\?' \(sample 3\) is not of the "
                                       r"kind the model was trained on \(classes such as "
                                       r"0, 1, 2\)"),
    "a label with '_' for numeric classes": (["evaluate", "{d}/iris.npz", "{d}/underscore.csv"],
                                             1, r"underscore\.csv: label '1_0' \(sample 3\) is "
                                                r"not of the kind the model was trained on"),
    "empty DATA": (["evaluate", "{d}/iris.npz", ""], 1,
                   r"the data source '' is an empty name; give a file, a folder or a built-in "
                   r"name \(digits,"),
    "empty DATA at predict": (["predict", "{d}/iris.npz", "", "-o", "{out}/p.csv"], 1,
                              r"the data source '' is an empty name"),
    "empty MODEL": (["inspect", ""], 1, r"MODEL: the path is empty; give the model file's path"),
    "empty predict output": (["predict", "{d}/iris.npz", "{d}/iris.csv", "-o", ""], 1,
                             r"--output: the path is empty; give a file name"),
    "empty plot output": (["plot", "{d}/iris.npz", "-o", ""], 1,
                          r"--output: the path is empty; give a file name"),
    "empty --units": (["train", "iris", "--units", "", "-o", "{out}/m.npz"], 2,
                      r"'--units': is empty; give comma-separated widths like 128,64, or 'none'"),
    "empty --plot": (["train", "iris", "--plot", "", "-o", "{out}/m.npz"], 1,
                     r"--plot: the path is empty; give a file name"),
    "empty --config": (["train", "iris", "--config", "", "-o", "{out}/m.npz"], 2,
                       r"Invalid value for '--config': is empty; give the path of a TOML file"),
    "empty DATA at train": (["train", "", "-o", "{out}/m.npz"], 1,
                            r"DATA is empty; give a file, a folder or a built-in name, or leave "
                            r"it out for the digits default job"),
    "the trained-on target missing at evaluate": (["evaluate", "{d}/iris.npz",
                                                    "{d}/renamed_target.csv"], 1,
                                                   r"renamed_target\.csv: has no column "
                                                   r"'species', the target iris\.npz was trained "
                                                   r"on; name this file's target column with "
                                                   r"--target \(the columns are: 'sepal_length'"),
    "feature mismatch at evaluate": (["evaluate", "{d}/iris.npz", "{d}/iris3.csv"], 1,
                                     r"lacks 1 of the feature columns the model was trained "
                                     r"on: 'petal_width'"),
    "renamed column at predict": (["predict", "{d}/iris.npz", "{d}/renamed.csv",
                                   "-o", "{out}/p.csv"], 1,
                                  r"renamed\.csv: lacks 1 of the feature columns .*'petal_width'"
                                  r" \(the file has .*'PW'"),
    "renamed column at evaluate": (["evaluate", "{d}/iris.npz", "{d}/renamed.csv"], 1,
                                   r"lacks 1 of the feature columns .*'petal_width'"),
    "negative seed": (["train", "iris", "--seed", "-1", "-o", "{out}/m.npz"], 2,
                      r"'--seed': -1 is not in the range 0<=x<=4294967295"),
    "seed too large": (["train", "iris", "--seed", "4294967296", "-o", "{out}/m.npz"], 2,
                       r"'--seed': 4294967296 is not in the range"),
    "nan learning rate": (["train", "iris", "--learning-rate", "nan", "-o", "{out}/m.npz"], 2,
                          r"'--learning-rate': 'nan' is not a finite number"),
    "infinite l2": (["train", "iris", "--l2", "inf", "-o", "{out}/m.npz"], 2,
                    r"'--l2': 'inf' is not a finite number"),
    "dropout of 1": (["train", "iris", "--dropout", "0.2,1", "-o", "{out}/m.npz"], 2,
                     r"drop probabilities must be in \[0, 1\), got 1 in '0.2,1'"),
    "softmax hidden": (["train", "iris", "--activation", "softmax", "-o", "{out}/m.npz"], 2,
                       r"'softmax' is not one of 'sigmoid', 'tanh', 'relu'"),
    "output and loss that do not go together": (["train", "iris", "--output-activation", "gelu",
                                                 "--loss", "bce", "-o", "{out}/m.npz"], 2,
                                                r"loss 'binary_crossentropy' needs an output "
                                                r"activation in \['sigmoid'\], got 'gelu'"),
    "dropout without hidden layers": (["train", "iris", "--units", "none", "--dropout", "0.3",
                                       "-o", "{out}/m.npz"], 2,
                                      r"dropout=0\.3 applies to hidden layers, and this network "
                                      r"has none"),
    "gradcheck output and loss that do not go together": (
        ["gradcheck", "--output-activation", "gelu", "--loss", "bce"], 2,
        r"loss 'binary_crossentropy' needs an output activation in \['sigmoid'\]"),
    "gradcheck nan epsilon": (["gradcheck", "--epsilon", "nan"], 2,
                              r"'--epsilon': 'nan' is not a finite number"),
    "gradcheck model with network options": (["gradcheck", "{d}/iris.npz", "--units", "3"], 2,
                                             r"--units: only for a network built from options"),
    "plot over the model": (["train", "iris", "-o", "{out}/m.npz", "--plot", "{out}/m.npz"], 1,
                            r"--plot: '.*m\.npz' is also the model's --output"),
    "model over the data": (["train", "{d}/iris.csv", "-o", "{d}/iris.csv"], 1,
                            r"--output: '.*iris\.csv' is the data file DATA"),
    "predictions over the model": (["predict", "{d}/iris.npz", "{d}/iris.csv",
                                    "-o", "{d}/iris.npz"], 1,
                                   r"--output: '.*iris\.npz' is the model file MODEL"),
    "predictions over the data": (["predict", "{d}/iris.npz", "{d}/iris.csv",
                                   "-o", "{d}/iris.csv"], 1, r"is the data file DATA"),
    "curves over the model": (["plot", "{d}/iris.npz", "-o", "{d}/iris.npz"], 1,
                              r"--output: '.*iris\.npz' is the model file MODEL"),
    "curves to an unknown format": (["plot", "{d}/iris.npz", "-o", "{out}/c.txt"], 1,
                                    r"cannot draw to a \.txt file .* use a name ending in "
                                    r"\.png, \.pdf, \.svg"),
    "float epochs in config": (["train", "iris", "--config", "{d}/float_epochs.toml",
                                "-o", "{out}/m.npz"], 2,
                               r"key 'epochs' must be an integer, got 2\.5 \(float\)"),
    "text flag in config": (["train", "iris", "--config", "{d}/text_flag.toml",
                             "-o", "{out}/m.npz"], 2,
                            r"key 'early_stopping' must be true or false, got 'yes'"),
    "number as a path in config": (["train", "iris", "--config", "{d}/number_path.toml",
                                    "-o", "{out}/m.npz"], 2,
                                   r"key 'plot' must be a string, got 3 \(int\)"),
    "classes edited short": (["predict", "{d}/short_classes.npz", "{d}/iris.csv"], 1,
                             r"short_classes\.npz: invalid model header: 'classes' must list 3 "
                             r"labels for 3 output unit\(s\), got \[0, 1\]"),
    "a class edited to a huge float": (["evaluate", "{d}/huge_class.npz", "{d}/iris.csv"], 1,
                                       r"huge_class\.npz: invalid model header: 'classes' must "
                                       r"all be text, all integers or all booleans, got "
                                       r"\[0, 1, 1e\+308\]"),
    "classes of mixed kinds": (["predict", "{d}/mixed_classes.npz", "{d}/iris.csv"], 1,
                               r"'classes' must all be text, all integers or all booleans, "
                               r"got \['a', 1, 2\]"),
    "classes no 64-bit type holds": (["evaluate", "{d}/signs_apart.npz", "{d}/iris.csv"], 1,
                                     r"'classes' must fit one 64-bit integer type"),
    "a repeated class": (["evaluate", "{d}/repeated_classes.npz", "{d}/iris.csv"], 1,
                         r"'classes' must be distinct labels, got \[0, 1, 1\]"),
    "history edited to text": (["inspect", "{d}/text_history.npz"], 1,
                               r"text_history\.npz: invalid model: history 'cost' must be a list"),
    "history with more costs than epochs": (["plot", "{d}/long_history.npz", "-o",
                                             "{out}/c.png"], 1,
                                            r"long_history\.npz: invalid model: history 'cost' "
                                            r"holds 3 values for 2 epochs"),
    "feature mismatch at predict": (["predict", "{d}/iris.npz", "{d}/x5.npy",
                                     "-o", "{out}/p.csv"], 1,
                                    r"x5\.npy: has 5 features but the model expects 4 features"),
    "output in a missing folder": (["train", "iris", "-o", "{out}/no/such/m.npz"], 1,
                                   r"--output: the folder '.*no/such' .* does not exist"),
    "predict output in a missing folder": (["predict", "{d}/iris.npz", "{d}/iris.csv",
                                            "-o", "{out}/none/p.csv"], 1, r"does not exist"),
    "plot output in a missing folder": (["train", "iris", "-o", "{out}/m.npz",
                                         "--plot", "{out}/none/c.png"], 1,
                                        r"--plot: the folder .* does not exist"),
    "output under a file": (["train", "iris", "-o", "{d}/iris.csv/m.npz"], 1,
                            r"is not a folder"),
    "an .npy declaring more than it holds": (["predict", "{d}/iris.npz", "{d}/bomb.npy",
                                              "-o", "{out}/p.csv"], 1,
                                             r"bomb\.npy: truncated or corrupt: its header "
                                             r"declares an array of shape \(10000000000, "
                                             r"100000\)"),
    "a diverged run": (["train", "{d}/iris.csv", "--learning-rate", "1e30", "--optimizer", "sgd",
                        "--schedule", "constant", "--epochs", "5", "-q", "-o", "{out}/m.npz"], 1,
                       r"training diverged before any epoch had a finite cost, so no model was "
                       r"saved: the gradients became NaN or inf at epoch 1, batch \d+.* Try a "
                       r"smaller --learning-rate \(got 1e\+30\)"),
    "config in UTF-16": (["train", "iris", "--config", "{d}/utf16.toml", "-o", "{out}/m.npz"],
                         2, r"utf16\.toml' is not UTF-8 text \(byte 0x[fe]{2} at position 0\); "
                            r"TOML files are UTF-8"),
    "unknown config key": (["train", "iris", "--config", "{d}/unknown.toml",
                            "-o", "{out}/m.npz"], 2,
                           r"unknown key 'learning_rat'; did you mean 'learning_rate'\?"),
    "missing config": (["train", "--config", "{d}/none.toml", "-o", "{out}/m.npz"], 2,
                       r"none\.toml'?: no such file"),
    "bad option value": (["train", "iris", "--units", "12,x", "-o", "{out}/m.npz"], 2,
                         r"expected comma-separated integers like 128,64"),
    "unknown activation": (["train", "iris", "--activation", "relux", "-o", "{out}/m.npz"], 2,
                           r"'relux' is not one of"),
    "missing model": (["inspect", "{d}/nothing.npz"], 1, r"nothing\.npz: no such model file"),
    "unknown built-in": (["train", "digit", "-o", "{out}/m.npz"], 1,
                         r"did you mean the built-in 'digits'\?"),
    "model output named as data": (["train", "iris", "-q", "-o", "{out}/iris.csv"], 1,
                                   r"--output: '.*iris\.csv' ends in \.csv, which names data "
                                   r"or a drawing, but this writes a model file \(a zip "
                                   r"archive\); name it \.npz or \.npdeep"),
    "predictions named as a model": (["predict", "{d}/iris.npz", "{d}/iris.csv",
                                      "-o", "{out}/other.npz"], 1,
                                     r"--output: '.*other\.npz' ends in \.npz, which names a "
                                     r"model or NumPy file, but the predictions are a CSV "
                                     r"table; name it \.csv"),
    "semicolons at predict": (["predict", "{d}/iris.npz", "{d}/semicolons.csv"], 1,
                              r"semicolons\.csv: has 1 feature column but the model expects 4 "
                              r"features; .* \(the columns seem separated by semicolons"),
    "trailing comma in the header": (["train", "{d}/trailing.csv", "-o", "{out}/m.npz"], 1,
                                     r"trailing\.csv: line 1: header column 2 has no name "
                                     r"\(a comma at the end of the line\?\)"),
    "layers too wide for memory": (["train", "{d}/iris.csv", "--units", "1000000000000",
                                    "-o", "{out}/m.npz"], 1,
                                   r"units \[4, 1000000000000, 3\] need 8,000,000,000,003 "
                                   r"parameters \(29,802.3 GiB as float32 per copy\), more "
                                   r"memory than could be allocated; choose smaller layers"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_message_exit_code_and_nothing_written(case, files, tmp_path, capsys):
    argv, expected_code, message = CASES[case]
    argv = [a.format(d=files, out=tmp_path) for a in argv]
    before = listing(files)
    code = run(argv)
    err = capsys.readouterr().err
    assert code == expected_code, err
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert listing(tmp_path) == [], "nothing is written on failure"
    assert listing(files) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_output_in_an_unwritable_folder(files, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code = run(["train", "iris", "-q", "-o", str(locked / "m.npz")])
        assert code == 1
        assert "is not writable (permission denied)" in capsys.readouterr().err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_unwritable_folder_message_as_any_user(tmp_path, capsys, monkeypatch):
    """The same refusal where the permission bits cannot be tested (root): os.access says no."""
    import importlib

    common = importlib.import_module("npdeep.cli._common")
    monkeypatch.setattr(common.os, "access", lambda path, mode: False)
    code = run(["train", "iris", "-q", "-o", str(tmp_path / "m.npz")])
    assert code == 1
    assert f"the folder '{tmp_path}' is not writable" in capsys.readouterr().err
    assert listing(tmp_path) == []


def test_a_failing_write_leaves_no_partial_file(files, tmp_path, capsys, monkeypatch):
    """A CSV that goes bad half way through predict leaves no output file behind."""
    rows = ["sepal_length,sepal_width,petal_length,petal_width"] + ["5.1,3.5,1.4,0.2"] * 30
    rows[25] = "5.1,3.5,oops,0.2"
    data = tmp_path / "late.csv"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "p.csv"
    code = run(["predict", str(files / "iris.npz"), str(data), "-o", str(out),
                "--chunk-rows", "5"])
    assert code == 1
    assert "line 26, column 'petal_length'" in capsys.readouterr().err
    assert listing(tmp_path) == ["late.csv"]


def test_outputs_never_overwrite_inputs(files, tmp_path, capsys):
    """Refused before any work: the model and the data keep their bytes, not just their names."""
    model, data = files / "iris.npz", files / "iris.csv"
    before = {p: p.read_bytes() for p in (model, data)}
    for argv in (["predict", str(model), str(data), "-o", str(model)],
                 ["predict", str(model), str(data), "-o", str(data)],
                 ["plot", str(model), "-o", str(model)],
                 ["train", str(data), "-q", "-o", str(data)]):
        assert run(argv) == 1
    assert "would destroy it" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before} == before


def test_json_usage_errors_are_json(capsys):
    """With --json, a usage error (exit 2) still prints one JSON object on standard output."""
    import json

    code = run(["train", "iris", "--json", "--seed", "-1"])
    out = capsys.readouterr().out
    assert code == 2
    doc = json.loads(out)
    assert doc["ok"] is False and doc["exit_code"] == 2
    assert "'--seed': -1 is not in the range" in doc["error"]
    assert run(["evaluate", "--json"]) == 2
    assert "Missing argument 'MODEL'" in json.loads(capsys.readouterr().out)["error"]
    assert run(["train", "iris", "--seed", "-1"]) == 2  # without --json: nothing on stdout
    assert capsys.readouterr().out == ""


def test_curves_follow_the_suffix(files, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    for suffix, magic in ((".pdf", b"%PDF"), (".svg", b"<?xml"), (".png", b"\x89PNG")):
        out = tmp_path / f"c{suffix}"
        assert run(["plot", str(files / "iris.npz"), "-o", str(out)]) == 0
        assert out.read_bytes().startswith(magic)


def test_evaluate_scores_a_subset_of_one_class(files, tmp_path, capsys):
    """Training needs two classes; scoring a one-class subset is ordinary use."""
    import json

    lines = (files / "iris.csv").read_text().splitlines()
    subset = tmp_path / "setosa.csv"
    subset.write_text("\n".join([lines[0], *[ln for ln in lines[1:] if ln.endswith(",0")]]) + "\n")
    assert run(["evaluate", str(files / "iris.npz"), str(subset), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True and doc["data"]["n_samples"] == 50
    assert 0.0 <= doc["accuracy"] <= 1.0


def test_tsv_gz_is_read_as_tsv(tmp_path, capsys):
    import gzip

    text = "a\tb\tlabel\n" + "".join(f"{i}\t{i % 3}\t{i % 2}\n" for i in range(40))
    (tmp_path / "d.tsv.gz").write_bytes(gzip.compress(text.encode()))
    assert run(["train", str(tmp_path / "d.tsv.gz"), "--epochs", "1", "-q",
                "-o", str(tmp_path / "m.npz")]) == 0


def test_evaluate_reads_labels_as_the_model_knows_them(tmp_path, capsys):
    """Classes '1', '2', 'unknown' (text); a subset without 'unknown' reads as numbers."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=90)
    labels = np.where(a > 0.5, "2", np.where(a > -0.5, "1", "unknown"))
    rows = ["a,grade"] + [f"{x!r},{g}" for x, g in zip(a.tolist(), labels.tolist(), strict=True)]
    (tmp_path / "all.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "sub.csv").write_text("\n".join([r for r in rows if not r.endswith("unknown")])
                                      + "\n")
    model = tmp_path / "m.npz"
    assert run(["train", str(tmp_path / "all.csv"), "--task", "classification", "--epochs", "5",
                "-q", "-o", str(model)]) == 0
    assert run(["evaluate", str(model), str(tmp_path / "sub.csv")]) == 0, capsys.readouterr().err
    assert "not seen in training" not in capsys.readouterr().out


def test_labels_beyond_float64_survive_train_evaluate_and_predict(tmp_path, capsys):
    """Labels 2**53 and 2**53 + 1 (one float64), 2**64 - 1 (no int64): three classes."""
    labels = [2**53, 2**53 + 1, 2**64 - 1]
    rows = ["a,id"] + [f"{i % 3 + 0.5 * (i % 2)},{labels[i % 3]}" for i in range(60)]
    (tmp_path / "ids.csv").write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.npz"
    assert call(capsys, "train", tmp_path / "ids.csv", "--units", "4", "--epochs", "2", "-q",
                "--test-fraction", "0", "-o", model)[0] == 0
    code, out, err = call(capsys, "evaluate", model, tmp_path / "ids.csv", "--json")
    assert code == 0, err
    scores = json.loads(out)
    assert scores["labels"] == labels and scores["unseen_labels"] == []
    assert [row["support"] for row in scores["per_class"]] == [20, 20, 20]
    code, out, err = call(capsys, "predict", model, tmp_path / "ids.csv")
    assert code == 0, err
    assert out.splitlines()[0] == ",".join(["prediction",
                                            *(f"probability_{c}" for c in labels)])
    assert {int(line.split(",")[0]) for line in out.splitlines()[1:]} <= set(labels)
    (tmp_path / "negative.csv").write_text("a,id\n1,-5\n2,3\n")
    code, out, err = call(capsys, "evaluate", model, tmp_path / "negative.csv")
    assert code == 1 and "Traceback" not in err
    assert "negative.csv: label -5 cannot be compared exactly with the model's classes" in err


def test_evaluate_refuses_a_target_as_wide_as_other_outputs(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(30, 3))
    np.savez(tmp_path / "two.npz", X=X, y=X[:, :2])
    np.savez(tmp_path / "one.npz", X=X, y=X[:, 0])
    model = tmp_path / "m.npz"
    assert call(capsys, "train", tmp_path / "two.npz", "--units", "3", "--epochs", "1", "-q",
                "-o", model)[0] == 0
    code, _, err = call(capsys, "evaluate", model, tmp_path / "one.npz")
    assert code == 1 and "Traceback" not in err  # sklearn raised 'different number of output'
    assert "one.npz: the target 'y' holds 1 value per sample but m.npz predicts 2" in err
    assert call(capsys, "evaluate", model, tmp_path / "two.npz")[0] == 0


def test_a_model_trained_on_bytes_labels_is_saved_and_scored(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(20, 2))
    np.savez(tmp_path / "d.npz", X=X, y=np.array([b"a", b"b"] * 10))
    model = tmp_path / "m.npz"
    code, _, err = call(capsys, "train", tmp_path / "d.npz", "--units", "2", "--epochs", "1",
                        "-q", "-o", model)
    assert code == 0, err  # was: 'header is not strict JSON (... bytes ...)' after training
    code, out, err = call(capsys, "evaluate", model, tmp_path / "d.npz", "--json")
    assert code == 0, err
    assert json.loads(out)["labels"] == ["a", "b"]


def test_units_none_drops_only_the_default_dropout(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert run(["train", "iris", "--units", "none", "--epochs", "1", "-q", "-o", str(out)]) == 0
    assert run(["train", "iris", "--units", "none", "--dropout", "0.2", "--epochs", "1", "-q",
                "-o", str(out)]) == 2  # options that do not go together: a usage error
    assert "applies to hidden layers, and this network has none" in capsys.readouterr().err


def test_evaluate_reads_the_npz_target_the_model_was_trained_on(tmp_path, capsys):
    import json

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    np.savez(tmp_path / "d.npz", X=X, z=(X[:, 0] > 0).astype(int), y=np.zeros(120, int))
    model = tmp_path / "m.npz"
    assert run(["train", str(tmp_path / "d.npz"), "--target", "z", "--epochs", "20", "-q",
                "-o", str(model)]) == 0
    capsys.readouterr()
    assert run(["evaluate", str(model), str(tmp_path / "d.npz"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data"]["target"] == "z" and doc["accuracy"] > 0.8


def test_evaluate_with_a_numeric_feature_as_target_names_the_column(files, capsys):
    """evaluate has no --task: the hint points at --target, the model fixes the task."""
    code = run(["evaluate", str(files / "iris.npz"), str(files / "iris.csv"),
                "--target", "sepal_length"])
    err = capsys.readouterr().err
    assert code == 1
    assert "'sepal_length' holds non-integer numbers" in err and "is a classifier" in err
    assert "--task" not in err and "Traceback" not in err


def _edited_model(files, tmp_path, edit):
    header, arrays = load_model_file(files / "iris.npz")
    for key in ("format", "arrays", "format_version", "npdeep_version"):
        header.pop(key)
    edit(header)
    return save_model_file(tmp_path / "edited.npz", header, arrays)


@pytest.mark.parametrize("edit, message", [
    (lambda h: h.update(training=-1), r"'training' must be a JSON object, got -1"),
    (lambda h: h.update(test_scores=[0.9]), r"'test_scores' must be a JSON object, got \[0.9\]"),
    (lambda h: h["data"].update(classes=0), r"'data.classes' must be a list, got 0"),
])
def test_inspect_refuses_an_edited_header_in_one_line(files, tmp_path, capsys, edit, message):
    path = _edited_model(files, tmp_path, edit)
    assert run(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(r"Error: .*edited\.npz'?: invalid model header: " + message + "\n", err)


def test_inspect_shows_a_history_holding_nulls(files, tmp_path, capsys):
    def nulls(h):
        h["history"].update(learning_rate=[None, 0.001], time=[None, 0.5])

    assert run(["inspect", str(_edited_model(files, tmp_path, nulls))]) == 0
    out = capsys.readouterr().out
    assert "learning rate: 0.001 -> 0.001" in out and "epochs run: 2 in 0.5 s" in out


def _claim_zip_version(src, dst, version: int):
    """Copy a zip whose first central-directory entry claims 'version needed' ``version``."""
    raw = bytearray(src.read_bytes())
    at = raw.index(b"PK\x01\x02") + 6
    raw[at:at + 2] = version.to_bytes(2, "little")
    dst.write_bytes(bytes(raw))
    return dst


def test_a_zip_claiming_an_unknown_version_is_one_line(files, tmp_path, capsys):
    model = _claim_zip_version(files / "iris.npz", tmp_path / "m.npz", 200)
    assert run(["inspect", str(model)]) == 1
    assert re.fullmatch(r"Error: model file '.*m\.npz' is truncated or corrupt \(zip file "
                        r"version 20\.0\)\n", capsys.readouterr().err)
    np.savez(tmp_path / "d.npz", X=np.ones((4, 2)), y=np.arange(4) % 2)
    data = _claim_zip_version(tmp_path / "d.npz", tmp_path / "bad.npz", 200)
    assert run(["predict", str(files / "iris.npz"), str(data)]) == 1
    assert re.fullmatch(r"Error: .*bad\.npz: corrupt zip/npz archive \(zip file version 20\.0\)\n",
                        capsys.readouterr().err)


def test_a_model_file_is_read_once_per_command(files, capsys, monkeypatch):
    import npdeep.serialization as serialization

    reads = []
    monkeypatch.setattr(serialization, "load_model_file",
                        lambda path, **kw: reads.append(path) or load_model_file(path, **kw))
    assert run(["inspect", str(files / "iris.npz")]) == 0
    assert len(reads) == 1  # the header shown is the one the network was built from


def test_gradcheck_names_an_estimator_file_as_such(tmp_path, capsys):
    """A DeepClassifier saved with npdeep.save is a model file too, which evaluate, predict,
    plot and inspect read; gradcheck checks network files: the message says what the file
    holds and what to do, not only its 'kind'."""
    from sklearn.datasets import load_iris

    import npdeep

    X, y = load_iris(return_X_y=True)
    path = tmp_path / "est.npz"
    npdeep.save(npdeep.DeepClassifier((4,), max_iter=2).fit(X, y), path)
    assert run(["gradcheck", str(path)]) == 1
    err = capsys.readouterr().err
    assert "holds a scikit-learn estimator (saved by npdeep.save), which this command does " \
        "not read (evaluate, predict, plot and inspect do)" in err
    assert "npdeep.load(path) in Python" in err and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["--patience", "3"], "--patience 3 has no effect with early stopping off: add "
                          "--early-stopping"),
    (["--units", "16,8", "--dropout", "0.1,0.2,0.3"],
     "Invalid value for '--dropout': 3 drop probabilities for 2 hidden layers (--units 16,8): "
     "give one for all, or one per hidden layer"),
    (["--units", "16", "--dropout", "0.1,0.2"], "2 drop probabilities for 1 hidden layer "),
])
def test_options_that_cannot_apply_are_usage_errors(args, message, tmp_path, capsys):
    # --patience without early stopping was silently ignored; a wrong --dropout count exited 1
    # with a message from the network that did not name --dropout
    out = tmp_path / "m.npz"
    assert run(["train", "iris", "-q", "--epochs", "1", "-o", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert run(["train", "iris", "-q", "--epochs", "1", "-o", str(out), "--early-stopping",
                "--patience", "3", "--units", "16,8", "--dropout", "0.1,0.2"]) == 0


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_read_only_output_is_refused_before_any_work(command, files, tmp_path, capsys,
                                                       monkeypatch):
    """As cp or an editor would: a file the user may not write is not replaced (os.access
    patched, so that root, who may write anything, sees what other users see)."""
    import npdeep.atomic

    out = tmp_path / ("m.npz" if command == "train" else "p.csv")
    out.write_text("keep me")
    out.chmod(0o444)
    monkeypatch.setattr(npdeep.atomic, "_may_write", lambda p: False)
    argv = (["train", "iris", "-q", "--epochs", "1"] if command == "train"
            else ["predict", str(files / "iris.npz"), str(files / "iris.csv")])
    code = run([*argv, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"--output: '{out}' is read-only (mode 0444); make it writable" in err
    assert out.read_text() == "keep me"
    assert listing(tmp_path) == [out.name]


@pytest.mark.parametrize("mode", [0o600, 0o640], ids=lambda m: f"{m:04o}")
def test_outputs_written_over_a_file_keep_its_permissions(mode, files, tmp_path, capsys):
    model, predictions = tmp_path / "m.npz", tmp_path / "p.csv"
    for path in (model, predictions):
        path.write_text("old")
        path.chmod(mode)
    assert run(["train", str(files / "iris.csv"), "-q", "--epochs", "1", "-o", str(model)]) == 0
    assert run(["predict", str(model), str(files / "iris.csv"), "-o", str(predictions)]) == 0
    assert predictions.read_text().startswith("prediction,")
    assert {p.name: p.stat().st_mode & 0o777 for p in (model, predictions)} == {
        "m.npz": mode, "p.csv": mode}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_predictions_never_replace_a_pipe_or_what_a_link_points_to(files, tmp_path, capsys):
    """`-o /dev/null` run as root turned /dev/null into a regular file; `-o /dev/stdout`
    replaced the link. A pipe stands in for the device (mknod needs root)."""
    import stat

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)
    for target, message in ((fifo, r"cannot save predictions file '.*fifo': it is not a regular "
                                   r"file \(a device, pipe or socket\)"),
                            (link, r"cannot save predictions file '.*stdout': it links to "
                                   r"something that is not a regular file")):
        code = run(["predict", str(files / "iris.npz"), str(files / "iris.csv"),
                    "-o", str(target)])
        err = capsys.readouterr().err
        assert code == 1 and "Traceback" not in err
        assert re.search(message, err), err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert listing(tmp_path) == ["fifo", "stdout"]


def test_predictions_through_a_link_replace_the_file_it_names(files, tmp_path, capsys):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    (tmp_path / "link.csv").symlink_to(real)
    assert run(["predict", str(files / "iris.npz"), str(files / "iris.csv"),
                "-o", str(tmp_path / "link.csv")]) == 0
    assert (tmp_path / "link.csv").is_symlink()
    assert real.read_text().startswith("prediction,probability_0")
    assert listing(tmp_path) == ["link.csv", "real.csv"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_curves_that_cannot_be_written_say_why_not_that_there_is_no_history(files, tmp_path,
                                                                            capsys):
    fifo = tmp_path / "curves.png"
    os.mkfifo(fifo)
    for argv in (["plot", str(files / "iris.npz"), "-o", str(fifo)],
                 ["train", "iris", "--units", "4", "--epochs", "1", "-q",
                  "-o", str(tmp_path / "m.npz"), "--plot", str(fifo)]):
        code = run(argv)
        err = capsys.readouterr().err
        assert code == 1 and "Traceback" not in err
        assert re.search(r"cannot save plot '.*curves\.png': it is not a regular file", err), err
        assert "no training history" not in err


def test_gradcheck_refuses_labels_the_model_has_no_class_for(files, tmp_path, capsys):
    # a label outside the model's classes was given a neighbouring class's target, silently
    lines = (files / "iris.csv").read_text().splitlines()
    (tmp_path / "seven.csv").write_text("\n".join(
        [lines[0], *(line.rsplit(",", 1)[0] + ",7" for line in lines[1:4])]) + "\n")
    assert run(["gradcheck", str(files / "iris.npz"), "--data", str(tmp_path / "seven.csv")]) == 1
    assert re.search(r"seven\.csv: labels \[7\] are not among the classes \[0, 1, 2\] of "
                     r"iris\.npz; the gradient check needs targets", capsys.readouterr().err)


def test_a_folder_named_like_a_built_in_data_set_says_it_hides_it(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wine").mkdir()
    assert run(["train", "wine", "-o", str(tmp_path / "m.npz")]) == 1
    assert ("wine: no IDX images file (named like 't10k-images-idx3-ubyte.gz') here; this "
            "folder hides the built-in data set 'wine': run from another folder, or rename it"
            in capsys.readouterr().err)
    assert not (tmp_path / "m.npz").exists()


def test_flags_override_a_config_file_s_early_stopping_and_name_its_values(tmp_path, capsys):
    # --no-early-stopping was refused because of the file's patience, and a --units flag
    # against the file's dropout list named only --dropout, which the user never typed
    config = tmp_path / "full.toml"
    config.write_text("early_stopping = true\npatience = 5\ndropout = [0.1, 0.2]\n"
                      "units = [16, 8]\nepochs = 1\n")
    out = tmp_path / "m.npz"
    assert run(["train", "iris", "-q", "--config", str(config), "--no-early-stopping",
                "-o", str(out)]) == 0
    assert run(["train", "iris", "-q", "--config", str(config), "--units", "8",
                "-o", str(out)]) == 2
    assert f"2 drop probabilities from '{config}' for 1 hidden layer (--units 8)" in \
        " ".join(capsys.readouterr().err.split())
    contradictory = tmp_path / "bad.toml"
    contradictory.write_text("early_stopping = false\npatience = 5\n")
    assert run(["train", "iris", "-q", "--config", str(contradictory), "-o", str(out)]) == 2
    assert f"'{contradictory}': patience = 5 has no effect with early stopping off" in \
        " ".join(capsys.readouterr().err.split())


def test_a_constant_regression_target_is_refused_before_training(tmp_path, capsys):
    # it trained, and reported a test R^2 of -8.2e17
    rng = np.random.default_rng(0)
    data = tmp_path / "c.csv"
    data.write_text("a,b,price\n" + "".join(f"{rng.normal():.3f},{rng.normal():.3f},123456.7\n"
                                            for _ in range(50)))
    out = tmp_path / "m.npz"
    assert run(["train", str(data), "-q", "-o", str(out)]) == 1
    assert ("target 'price' is constant (123456.7 in all 50 samples): regression needs values "
            "that vary") in capsys.readouterr().err
    assert not out.exists()


def test_train_does_not_write_a_model_over_a_numpy_data_file(tmp_path, capsys):
    # an unrelated .npz of arrays was replaced by the model, its data lost
    data = tmp_path / "other.npz"
    np.savez(data, X=np.ones((3, 2)), y=np.zeros(3))
    before = data.read_bytes()
    assert run(["train", "iris", "-q", "--epochs", "1", "-o", str(data)]) == 1
    assert f"--output: '{data}' holds NumPy arrays (X.npy, y.npy), not an npdeep model: " \
        "saving would replace that data; choose another name" in \
        " ".join(capsys.readouterr().err.split())
    assert data.read_bytes() == before
    model = tmp_path / "m.npz"  # a model over a model is the usual retraining
    assert run(["train", "iris", "-q", "--epochs", "1", "-o", str(model)]) == 0
    assert run(["train", "iris", "-q", "--epochs", "1", "-o", str(model)]) == 0


@pytest.mark.parametrize("kind, suffix", [("xz", ".xz"), ("bzip2", ".bz2")])
def test_a_file_compressed_other_than_with_gzip_is_named(tmp_path, capsys, kind, suffix):
    # it was read as text: "not a UTF-8 text file ... save it as UTF-8 (Excel: 'CSV UTF-8')"
    import bz2
    import lzma

    text = b"a,b,y\n" + b"".join(b"%d,%d,%d\n" % (i, i % 3, i % 2) for i in range(20))
    data = tmp_path / f"d.csv{suffix}"
    data.write_bytes(lzma.compress(text) if kind == "xz" else bz2.compress(text))
    assert run(["train", str(data), "-q", "-o", str(tmp_path / "m.npz")]) == 1
    assert f"compressed with {kind}, which npdeep does not read; decompress it, or compress " \
        "it with gzip (.gz), which it reads" in capsys.readouterr().err


def test_early_stopping_with_no_held_out_data_and_a_mixed_config_are_usage_errors(tmp_path,
                                                                                 capsys):
    # --validation-fraction 0 was silently replaced by 0.1; a [train] table beside top-level
    # keys said "unknown key 'train'; did you mean 'test_fraction'?"
    out = tmp_path / "m.npz"
    assert run(["train", "iris", "-q", "--early-stopping", "--validation-fraction", "0",
                "-o", str(out)]) == 2
    assert "--early-stopping needs held-out data, and --validation-fraction 0 leaves none" in \
        " ".join(capsys.readouterr().err.split())
    config = tmp_path / "mixed.toml"
    config.write_text("epochs = 2\n[train]\nunits = [8]\n")
    assert run(["train", "iris", "-q", "--config", str(config), "-o", str(out)]) == 2
    assert "has options both at the top level and in a [train] table" in \
        " ".join(capsys.readouterr().err.split())
    assert not out.exists()


def test_a_split_that_cannot_be_stratified_names_the_data(tmp_path, capsys):
    data = tmp_path / "few.csv"
    data.write_text("a,y\n1,0\n2,0\n3,1\n")
    assert run(["train", str(data), "-q", "-o", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert f"Error: {data}: cannot hold out a test split of 0.25 from 3 samples" in err
    assert "class 1 has only 1 sample" in err
