"""DATA '-' is standard input, as for Unix tools: train, evaluate, predict and gradcheck --data
read it; messages name it <stdin>; a terminal and MODEL '-' are refused in words."""

import contextlib
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest
from sklearn.datasets import load_iris

from npdeep.cli import run


class FakeStdin(io.TextIOWrapper):
    """Standard input holding ``data`` (bytes); a terminal when ``tty``."""

    def __init__(self, data: bytes, tty: bool = False):
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self.tty = tty

    def isatty(self):
        return self.tty


def call(capsys, monkeypatch, stdin: bytes, *argv):
    monkeypatch.setattr(sys, "stdin", FakeStdin(stdin))
    code = run([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iris")
    frame = load_iris(as_frame=True).frame
    frame.to_csv(folder / "iris.csv", index=False)
    frame.drop(columns="target").to_csv(folder / "features.csv", index=False)
    model = folder / "m.npz"
    assert run(["train", str(folder / "iris.csv"), "--units", "4", "--epochs", "3", "-q",
                "-o", str(model)]) == 0
    return folder, model


def test_predict_reads_standard_input_like_the_file(iris, tmp_path, capsys, monkeypatch):
    folder, model = iris
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where the copy of stdin goes
    capsys.readouterr()
    assert run(["predict", str(model), str(folder / "features.csv")]) == 0
    from_file = capsys.readouterr().out
    data = (folder / "features.csv").read_bytes()
    code, out, err = call(capsys, monkeypatch, data, "predict", model, "-")
    assert code == 0, err
    assert out == from_file and len(out.splitlines()) == 151
    code, out, err = call(capsys, monkeypatch, gzip.compress(data), "predict", model, "-",
                          "-o", tmp_path / "p.csv")
    assert code == 0, err
    assert (tmp_path / "p.csv").read_text() == from_file
    assert list(spool.iterdir()) == []  # the copy of standard input is gone


def test_evaluate_and_train_read_standard_input(iris, tmp_path, capsys, monkeypatch):
    folder, model = iris
    data = (folder / "iris.csv").read_bytes()
    code, out, err = call(capsys, monkeypatch, data, "evaluate", model, "-", "--json")
    assert code == 0, err
    scores = json.loads(out)
    assert sum(row["support"] for row in scores["per_class"]) == 150
    assert scores["data"]["source"].startswith("stdin (CSV, 150 rows")
    out_model = tmp_path / "t.npz"
    code, out, err = call(capsys, monkeypatch, data, "train", "-", "--units", "4",
                          "--epochs", "2", "-q", "-o", out_model)
    assert code == 0, err
    assert out_model.is_file()


def test_binary_data_from_standard_input_is_recognised_by_its_bytes(iris, capsys, monkeypatch):
    _, model = iris
    buffer = io.BytesIO()
    X, y = load_iris(return_X_y=True)
    np.savez(buffer, X=X, y=y)
    code, out, err = call(capsys, monkeypatch, buffer.getvalue(), "evaluate", model, "-",
                          "--json")
    assert code == 0, err
    assert json.loads(out)["data"]["n_samples"] == 150


def test_gradcheck_data_from_standard_input(iris, capsys, monkeypatch):
    folder, model = iris
    code, out, err = call(capsys, monkeypatch, (folder / "iris.csv").read_bytes(),
                          "gradcheck", model, "--data", "-", "--json")
    assert code == 0, err
    assert json.loads(out)["ok"] is True


@pytest.mark.parametrize("stdin, message", [
    (b"", "Error: <stdin>: the file is empty"),
    (b"a,b\n1,2\n3,4\n", "Error: <stdin>: has 2 feature columns but the model expects 4"),
    (b"sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n"
     b"5.1,3.5,,0.2\n", "Error: <stdin>: line 2, column 'petal length (cm)'"),
])
def test_bad_data_on_standard_input_is_named_stdin(iris, tmp_path, capsys, monkeypatch,
                                                   stdin, message):
    _, model = iris
    code, out, err = call(capsys, monkeypatch, stdin, "predict", model, "-",
                          "-o", tmp_path / "p.csv")
    assert code == 1
    assert err.startswith(message), err
    assert "npdeep-stdin-" not in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_terminal_on_standard_input_is_refused(iris, capsys, monkeypatch):
    _, model = iris
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"", tty=True))
    assert run(["predict", str(model), "-"]) == 1
    assert ("DATA '-' reads standard input, which is a terminal here; pipe or redirect the "
            "data into it") in capsys.readouterr().err


def test_model_from_standard_input_is_refused(iris, capsys, monkeypatch):
    folder, _ = iris
    code, _, err = call(capsys, monkeypatch, b"", "predict", "-", folder / "iris.csv")
    assert code == 1
    assert "MODEL: '-' (standard input) is for DATA only; give the model file's path" in err


def test_a_real_pipe_into_predict(iris, tmp_path):
    folder, model = iris
    with open(folder / "features.csv", "rb") as data:
        proc = subprocess.run([sys.executable, "-m", "npdeep", "predict", str(model), "-"],
                              stdin=data, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert lines[0].startswith("prediction,probability_0") and len(lines) == 151


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "gradcheck"])
def test_help_says_that_dash_is_standard_input(command, capsys):
    assert run([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "standard input" in text


@contextlib.contextmanager
def _fifo(path, data: bytes):
    """A named pipe at ``path`` that gives ``data`` once, then nothing to every later reader
    (as a process substitution does), without ever leaving a reader or the writer hanging."""
    os.mkfifo(path)
    done = threading.Event()

    def write():
        try:
            with open(path, "wb") as fh:  # blocks until the command opens the pipe
                fh.write(data)
        except BrokenPipeError:  # the reader left early
            pass
        while not done.is_set():
            with open(path, "wb"):  # a second reading (the defect) gets nothing at once
                pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield path
    finally:
        done.set()
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # releases a writer waiting in open
        writer.join(5)
        os.close(fd)


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")
def test_a_named_pipe_is_read_once_like_standard_input(iris, tmp_path, capsys):
    """``npdeep predict m.npz <(zcat new.csv.gz)``: DATA is a pipe, which was read twice (the
    format sniffed from its first bytes, then the table) and said 'the file is empty'."""
    folder, model = iris
    expected = tmp_path / "expected.csv"
    assert run(["predict", str(model), str(folder / "features.csv"), "-o", str(expected)]) == 0
    capsys.readouterr()
    with _fifo(tmp_path / "pipe", (folder / "features.csv").read_bytes()) as pipe:
        assert run(["predict", str(model), str(pipe)]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == expected.read_text()
    with _fifo(tmp_path / "bad", b"a,b\n1,x\n") as pipe:
        assert run(["evaluate", str(model), str(pipe)]) == 1
    assert f"Error: {tmp_path / 'bad'}: " in capsys.readouterr().err  # not the copy's path
