"""CSV dialects on the command line: --delimiter, --decimal, --encoding, --header/--no-header,
the config file keys, and the dialect a model records for predict, evaluate and gradcheck."""

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import call, call_json
from click.testing import CliRunner

from npdeep.cli import main
from npdeep.io import load_model_file

FAST = ("--units", "4", "--epochs", "3", "-q")


def _rows(n=40, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n).round(3), rng.normal(size=n).round(3)
    return a, b, (a + b > 0).astype(int)


def _excel(path, n=40, seed=0, target=True, encoding="cp1252"):
    """A European Excel export: semicolons, decimal commas, cp1252 ('€' in a name)."""
    a, b, y = _rows(n, seed)
    head = "prix €;poids" + (";classe" if target else "")
    lines = [f"{x};{z}" + (f";{t}" if target else "") for x, z, t in zip(a, b, y, strict=True)]
    path.write_bytes(("\n".join([head, *lines]) + "\n").replace(".", ",").encode(encoding))
    return path


def _pipes(path, n=40, seed=0, target=True):
    """A header-less, pipe-separated file; the target is column 2."""
    a, b, y = _rows(n, seed)
    path.write_text("".join(f"{x}|{z}" + (f"|{t}" if target else "") + "\n"
                            for x, z, t in zip(a, b, y, strict=True)))
    return path


@pytest.fixture(scope="module")
def excel_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("excel")
    data = _excel(folder / "train.csv")
    result = CliRunner().invoke(main, ["train", str(data), "--delimiter", ";", "--decimal", ",",
                                       "--encoding", "cp1252", *FAST,
                                       "-o", str(folder / "m.npz")])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def pipes_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipes")
    data = _pipes(folder / "train.txt")
    result = CliRunner().invoke(main, ["train", str(data), "--delimiter", "|", "--no-header",
                                       *FAST, "-o", str(folder / "m.npz")])
    assert result.exit_code == 0, result.output
    return folder


def test_train_records_the_dialect_and_predict_reads_a_same_dialect_file(excel_model, capsys):
    folder = excel_model
    header, _ = load_model_file(folder / "m.npz")
    assert header["data"]["dialect"] == {"delimiter": ";", "decimal": ",",
                                         "encoding": "cp1252", "header": True}
    assert header["data"]["feature_names"] == ["prix €", "poids"]
    new = _excel(folder / "new.csv", n=5, seed=1, target=False)
    out = folder / "pred.csv"
    assert call_json(capsys, "predict", folder / "m.npz", new, "-o", out)["rows"] == 5
    assert out.read_text().splitlines()[0] == "prediction,probability_0,probability_1"
    scores = call_json(capsys, "evaluate", folder / "m.npz", folder / "train.csv")
    assert scores["data"]["n_samples"] == 40
    assert call_json(capsys, "inspect", folder / "m.npz")["data"]["dialect"]["decimal"] == ","


def test_inspect_shows_the_recorded_dialect(excel_model, pipes_model, capsys):
    code, out, _ = call(capsys, "inspect", excel_model / "m.npz")
    assert code == 0 and "csv:      delimiter ';', decimal ',', encoding cp1252, header" in out
    code, out, _ = call(capsys, "inspect", pipes_model / "m.npz")
    assert code == 0 and "csv:      delimiter '|', decimal '.', encoding utf-8, no header" in out


def test_standard_input_is_read_in_the_recorded_dialect(excel_model, capsys, monkeypatch):
    import io

    new = _excel(excel_model / "stdin.csv", n=3, seed=6, target=False).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(new)))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, out, err = call(capsys, "predict", excel_model / "m.npz", "-")
    assert code == 0 and len(out.splitlines()) == 4, err


def test_options_given_to_predict_win_over_the_recorded_dialect(excel_model, capsys):
    folder = excel_model
    a, b, _ = _rows(5, 2)
    plain = folder / "plain.csv"  # the same columns, written the default way
    plain.write_text("prix €,poids\n" + "".join(f"{x},{z}\n" for x, z in zip(a, b, strict=True)))
    code, _, err = call(capsys, "predict", folder / "m.npz", plain, "--delimiter", ",")
    assert code == 2 and ("decimal=',' and delimiter=',' are the same character" in err)
    assert "(decimal ',': the model's, recorded from its training CSV; give the option to " \
           "change it)" in err
    code, out, err = call(capsys, "predict", folder / "m.npz", plain, "--delimiter", ",",
                          "--decimal", ".", "--encoding", "utf-8")
    assert code == 0, err
    assert len(out.splitlines()) == 6


def test_a_header_less_model_reads_new_files_header_less(pipes_model, capsys):
    folder = pipes_model
    header, _ = load_model_file(folder / "m.npz")
    assert header["data"]["feature_names"] == ["0", "1"] and header["data"]["target"] == "2"
    assert header["data"]["dialect"]["header"] is False
    new = _pipes(folder / "new.txt", n=3, seed=3, target=False)
    code, out, err = call(capsys, "predict", folder / "m.npz", new, "--keep", "0")
    assert code == 0, err
    assert out.splitlines()[0] == "0,prediction,probability_0,probability_1"
    assert len(out.splitlines()) == 4  # no row taken for a header
    assert call_json(capsys, "evaluate", folder / "m.npz", folder / "train.txt")["data"][
        "n_samples"] == 40
    # a file that has a header: --header overrides the model's record; matched by position
    named = folder / "named.txt"
    named.write_text("p|q\n" + new.read_text())
    code, out, err = call(capsys, "predict", folder / "m.npz", named, "--header")
    assert code == 0, err
    assert len(out.splitlines()) == 4
    code, _, err = call(capsys, "predict", folder / "m.npz", named)
    assert code == 1 and "named.txt: line 1, column '0': 'p' is not a number (this column is " \
        "numeric) (is line 1 a header? the file is read without one: give header=True, " \
        "--header)" in err


def test_gradcheck_reads_its_data_in_the_recorded_dialect(pipes_model, capsys):
    folder = pipes_model
    doc = call_json(capsys, "gradcheck", folder / "m.npz", "--data", folder / "train.txt",
                    "--samples", "4")
    assert doc["samples"] == 4
    code, _, err = call(capsys, "gradcheck", folder / "m.npz", "--delimiter", ";")
    assert code == 2 and "--delimiter: describe(s) the CSV of --data, which is not given" in err


def test_a_target_and_drop_by_index_without_a_header(tmp_path, capsys):
    data = tmp_path / "d.csv"
    a, b, y = _rows()
    data.write_text("".join(f"{t},{i},{x},{z}\n" for i, (x, z, t) in enumerate(
        zip(a, b, y, strict=True))))
    model = tmp_path / "m.npz"
    doc = call_json(capsys, "train", data, "--no-header", "--target", "0", "--drop", "1",
                    *FAST, "-o", model)
    assert doc["data"]["n_samples"] == 40
    header, _ = load_model_file(model)
    assert header["data"]["feature_names"] == ["2", "3"] and header["data"]["target"] == "0"
    assert call_json(capsys, "evaluate", model, data)["data"]["target"] == "0"


@pytest.mark.parametrize("spelling", ["tab", "\\t", "\t"])
def test_tab_spellings(tmp_path, capsys, spelling):
    data = tmp_path / "d.csv"
    a, b, y = _rows()
    data.write_text("a\tb\ty\n" + "".join(f"{x}\t{z}\t{t}\n" for x, z, t in zip(a, b, y,
                                                                                strict=True)))
    doc = call_json(capsys, "train", data, "--delimiter", spelling, *FAST,
                    "-o", tmp_path / "m.npz")
    assert doc["data"]["n_features"] == 2
    assert load_model_file(tmp_path / "m.npz")[0]["data"]["dialect"]["delimiter"] == "\t"


def test_the_config_file_keys(tmp_path, capsys):
    data = _excel(tmp_path / "d.csv")
    text = data.read_bytes().decode("cp1252").replace("€", "é")
    data.write_bytes(text.encode("latin-1"))
    config = tmp_path / "c.toml"
    config.write_text('delimiter = ";"\ndecimal = ","\nencoding = "latin-1"\nheader = true\n')
    doc = call_json(capsys, "train", data, "--config", config, *FAST, "-o", tmp_path / "m.npz")
    assert doc["data"]["n_samples"] == 40
    assert load_model_file(tmp_path / "m.npz")[0]["training"]["decimal"] == ","
    pipes = _pipes(tmp_path / "p.txt")
    config.write_text(f'data = "{pipes.as_posix()}"\ndelimiter = "|"\nheader = false\n')
    doc = call_json(capsys, "train", "--config", config, *FAST, "-o", tmp_path / "p.npz")
    assert doc["data"]["target"] == "2"


@pytest.mark.parametrize("toml,message", [
    ('decimal = ";"', "key 'decimal': ';' is not one of '.', ','"),
    ('delimiter = "ab"', "key 'delimiter': must be one character (or 'tab'), got 'ab'"),
    ("delimiter = 1", "key 'delimiter': must be one character, got 1"),
    ('encoding = "latin-9x"', "key 'encoding': 'latin-9x' is not a text encoding Python knows"),
    ('header = "no"', "key 'header' must be true or false, got 'no' (str)"),
])
def test_bad_config_values_are_usage_errors(tmp_path, capsys, toml, message):
    config = tmp_path / "c.toml"
    config.write_text(toml + "\n")
    code, _, err = call(capsys, "train", "iris", "--config", config, *FAST,
                        "-o", tmp_path / "m.npz")
    assert code == 2 and message in " ".join(err.split()), err


@pytest.mark.parametrize("argv,code,message", [
    (["--delimiter", "ab"], 2, "Invalid value for '--delimiter': must be one character (or "
                               "'tab'), got 'ab'"),
    (["--delimiter", '"'], 2, "Invalid value for '--delimiter': '\"' is the quote character"),
    (["--decimal", ";"], 2, "Invalid value for '--decimal': ';' is not one of '.', ','."),
    (["--encoding", "latin-9x"], 2, "Invalid value for '--encoding': 'latin-9x' is not a text "
                                    "encoding Python knows; give one such as utf-8, latin-1, "
                                    "cp1252 or utf-16"),
    (["--decimal", ",", "--delimiter", ","], 2, "decimal=',' and delimiter=',' are the same "
                                                "character"),
    (["--decimal", ","], 1, "d.csv: decimal=',' cannot be read with the columns separated by "
                            "commas (the default for its extension)"),
    (["--delimiter", ";"], 1, "(the columns seem separated by commas, but the delimiter "
                              "given is ';': give delimiter=',' (--delimiter ','))"),
    (["--encoding", "ascii"], 1, "d.csv: line 2: not ascii text"),
])
def test_bad_options_exit_non_zero_with_the_message(tmp_path, capsys, argv, code, message):
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n1,né,0\n2,3,1\n")
    for command in (["train", data, *FAST, "-o", tmp_path / "m.npz"],
                    ["predict", tmp_path / "none.npz", data]):
        if command[0] == "predict" and "Invalid value" not in message:
            continue  # the model is read first: its error
        got, _, err = call(capsys, *command, *argv)
        assert got == code and message in " ".join(err.split()), err


def test_a_dialect_for_data_that_is_not_a_csv(tmp_path, capsys):
    code, _, err = call(capsys, "train", "iris", "--no-header", *FAST, "-o", tmp_path / "m.npz")
    assert code == 1 and "iris: delimiter, decimal, encoding and header describe a CSV file, " \
                         "not builtin data (asked for header=False)" in err


def test_a_recorded_dialect_is_not_applied_to_other_data(excel_model, tmp_path, capsys):
    a, b, y = _rows(6, 4)
    np.savez(tmp_path / "d.npz", X=np.column_stack([a, b]), y=y)
    assert call_json(capsys, "evaluate", excel_model / "m.npz", tmp_path / "d.npz")[
        "data"]["n_samples"] == 6


def test_an_estimator_file_reads_a_dialect_given(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    import npdeep
    from npdeep import DeepClassifier

    a, b, y = _rows()
    frame = pd.DataFrame({"a": a, "b": b})
    npdeep.save(DeepClassifier((4,), max_iter=3, random_state=0).fit(frame, y),
                tmp_path / "est.npz")
    data = tmp_path / "d.csv"
    frame.assign(label=y).to_csv(data, sep=";", decimal=",", index=False)
    doc = call_json(capsys, "evaluate", tmp_path / "est.npz", data, "--delimiter", ";",
                    "--decimal", ",")
    assert doc["data"]["target"] == "label" and doc["data"]["n_samples"] == 40


def test_help_lists_the_dialect_options():
    for command in ("train", "predict", "evaluate", "gradcheck"):
        text = CliRunner().invoke(main, [command, "--help"]).output
        assert all(o in text for o in ("--delimiter", "--decimal", "--encoding",
                                       "--header / --no-header")), command


def test_as_processes_a_european_file_trains_predicts_and_a_bad_value_exits_2(tmp_path):
    _excel(tmp_path / "d.csv")
    _excel(tmp_path / "new.csv", n=4, seed=5, target=False)

    def npdeep(*args):
        return subprocess.run([sys.executable, "-m", "npdeep", *map(str, args)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    proc = npdeep("train", "d.csv", "--delimiter", ";", "--decimal", ",", "--encoding",
                  "cp1252", *FAST, "-o", "m.npz", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["data"]["n_features"] == 2
    proc = npdeep("predict", "m.npz", "new.csv")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 5
    proc = npdeep("predict", "m.npz", "new.csv", "--encoding", "nope")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Invalid value for '--encoding': 'nope' is not a text encoding" in proc.stderr
    proc = npdeep("predict", "m.npz", "new.csv", "--encoding", "utf-8")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "new.csv: line 1: not a UTF-8 text file" in proc.stderr


def test_click_runner_bad_values_and_a_clash_exit_2_with_the_message(tmp_path):
    data = _excel(tmp_path / "d.csv")
    runner = CliRunner()
    result = runner.invoke(main, ["train", str(data), "--delimiter", "ab"])
    assert result.exit_code == 2
    assert "Invalid value for '--delimiter': must be one character (or 'tab'), got 'ab'" in \
        result.output
    result = runner.invoke(main, ["train", str(data), "--delimiter", ",", "--decimal", ",",
                                  "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == 2 and "decimal=',' and delimiter=',' are the same" in result.output
    result = runner.invoke(main, ["evaluate", str(tmp_path / "m.npz"), str(data), "--encoding",
                                  "klingon"])
    assert result.exit_code == 2
    assert "'klingon' is not a text encoding Python knows" in " ".join(result.output.split())
    assert not (tmp_path / "m.npz").exists()
