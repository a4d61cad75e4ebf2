"""Every command once as a real process (``python -m npdeep``), and Ctrl-C sent as SIGINT."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def npdeep(*args, cwd, timeout=120):
    return subprocess.run([sys.executable, "-m", "npdeep", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("proc")
    proc = npdeep("train", "wine", "--units", "8", "--epochs", "5", "--validation-fraction",
                  "0.2", "-o", "wine.npz", cwd=folder)
    return folder, proc


def test_train_as_a_process_prints_one_line_per_epoch_when_not_a_terminal(trained):
    folder, proc = trained
    assert proc.returncode == 0, proc.stderr
    epoch_lines = [line for line in proc.stderr.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 5 and epoch_lines[-1].startswith("epoch 5/5 cost=")
    assert "val_accuracy=" in epoch_lines[-1]
    assert "test accuracy:" in proc.stdout and (folder / "wine.npz").is_file()


@pytest.mark.parametrize("argv, expected", [
    (["evaluate", "wine.npz", "wine", "--json"], '"accuracy"'),
    (["predict", "wine.npz", "wine", "-o", "p.csv"], "wrote 178 predictions to p.csv"),
    (["inspect", "wine.npz"], "training options"),
    (["plot", "wine.npz", "-o", "c.png"], "drew cost"),
    (["gradcheck", "wine.npz", "--max-checks", "10"], "PASSED"),
])
def test_each_command_as_a_process(trained, argv, expected):
    folder, _ = trained
    proc = npdeep(*argv, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout
    if "--json" in argv:
        assert json.loads(proc.stdout)["ok"] is True


def test_failures_and_usage_errors_exit_1_and_2_without_traceback(tmp_path):
    proc = npdeep("evaluate", "missing.npz", "wine", cwd=tmp_path)
    assert proc.returncode == 1 and "Error: missing.npz: no such model file" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = npdeep("train", "--no-such-option", cwd=tmp_path)
    assert proc.returncode == 2 and "No such option" in proc.stderr
    # steps of 100 (and down to 100/64) cannot see the gradient: the check fails
    proc = npdeep("gradcheck", "--epsilon", "100", cwd=tmp_path)
    assert proc.returncode == 1 and "FAILED" in proc.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not (REPO / "bench" / "run.py").is_file(), reason="no bench/ checkout")
def test_bench_passes_its_arguments_to_the_checkout_suite(tmp_path):
    proc = npdeep("bench", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout


@pytest.mark.skipif(os.name != "posix", reason="SIGINT as Ctrl-C")
def test_ctrl_c_stops_cleanly_and_saves_the_best_model(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "npdeep", "train", "iris", "--units", "8", "--epochs", "100000",
         "--batch-size", "0", "-o", "m.npz"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell without job control starts background jobs with SIGINT ignored, and Python
        # keeps an inherited "ignore": give the child the default, as a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        epochs = 0
        for line in proc.stderr:
            if line.startswith("epoch "):
                epochs += 1
                if epochs == 3:
                    proc.send_signal(signal.SIGINT)
                    break
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: saved the best model so far" in out and "m.npz" in out
    assert "Traceback" not in err
    info = json.loads(npdeep("inspect", "m.npz", "--json", cwd=tmp_path).stdout)
    assert info["interrupted"] is True and info["history"]["epochs"] >= 3


def test_docs_first_run_on_your_own_data_runs_as_written(tmp_path, monkeypatch):
    """docs/CLI.md's "A first run" block, line by line, with only npdeep's dependencies (and
    matplotlib, which the page asks for): pandas, a test extra, must not be needed."""
    import re
    import shlex

    from npdeep.cli import run

    page = (REPO / "docs" / "CLI.md").read_text(encoding="utf-8")
    block = re.search(r"## A first run on your own data\n\n```sh\n(.*?)```", page, re.S).group(1)
    lines = block.strip().splitlines()
    assert lines[0].startswith("python -c ") and len(lines) == 5
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "pandas.py").write_text("raise ImportError('pandas is not installed')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    proc = subprocess.run([sys.executable, *shlex.split(lines[0])[1:]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    monkeypatch.chdir(tmp_path)
    for line in lines[1:]:
        argv = shlex.split(line)
        assert argv[0] == "npdeep"
        if argv[1] == "train":
            argv += ["--epochs", "5", "-q"]  # the page's run, shortened
        assert run(argv[1:]) == 0, line
    for name in ("wine.npz", "wine-curves.png", "wine-predictions.csv"):
        assert (tmp_path / name).is_file()
    assert len((tmp_path / "wine-predictions.csv").read_text().splitlines()) == 179


def test_an_unscaled_network_file_warns_in_one_line_on_raw_features(tmp_path):
    # a Network.save file has no scaling: raw wine features (rms up to 810) got 33% accuracy
    # with nothing said; a warning is one "warning: ..." line, not Python's file:line form
    import numpy as np
    from sklearn.datasets import load_wine

    import npdeep as nd

    X, y = load_wine(return_X_y=True)
    net = nd.Network([13, 6, 3], seed=0)
    net.fit(((X - X.mean(0)) / X.std(0)).T, y, epochs=30, learning_rate=0.1, diagnose=False)
    net.save(tmp_path / "raw.npz")
    np.savetxt(tmp_path / "wine.csv", np.column_stack([X, y]), delimiter=",",
               header=",".join([f"f{i}" for i in range(13)] + ["y"]), comments="")
    proc = npdeep("evaluate", "raw.npz", "wine.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line]
    assert lines == ["warning: raw.npz: holds a network without feature scaling "
                     "(Network.save), and these features are far from unit size (column 12 "
                     "has a root mean square of 810): the network gets them as they are. Scale "
                     "them as its training data was (npdeep train stores the scaling it fits; "
                     "so does a saved Pipeline with a StandardScaler)"]
    np.savetxt(tmp_path / "features.csv", X, delimiter=",",
               header=",".join(f"f{i}" for i in range(13)), comments="")
    proc = npdeep("predict", "raw.npz", "features.csv", "-o", "p.csv", "--chunk-rows", "10",
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("warning:") == 1  # once for the file, not once per chunk of 10
    with pytest.warns(UserWarning, match=r"^raw\.npz: holds a network without feature scaling"):
        nd.load_trained(tmp_path / "raw.npz").predict(X)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scaled features: nothing to say
        nd.load_trained(tmp_path / "raw.npz").predict((X - X.mean(0)) / X.std(0))
