"""Smoke tests of the benchmark suite (bench/): it runs, skips what is absent, writes its files.

Tiny sizes only; nothing here asserts on time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
RUN_PY = REPO_ROOT / "bench" / "run.py"


@pytest.fixture(scope="module")
def run_module():
    """``bench/run.py`` imported by path (it puts the repo root on sys.path for ``bench``)."""
    spec = importlib.util.spec_from_file_location("npdeep_bench_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(out: Path, stem: str) -> tuple[dict, str]:
    return json.loads((out / f"{stem}.json").read_text()), (out / f"{stem}.md").read_text()


def _torch_importable() -> bool:
    return importlib.util.find_spec("torch") is not None


def test_tiny_case_b_writes_json_and_markdown(run_module, tmp_path):
    assert run_module.main(["--tiny", "--cases", "b", "--out", str(tmp_path),
                            "--name", "smoke"]) == 0
    report, md = _load(tmp_path, "smoke")

    assert set(report) == {"meta", "cases"}
    meta = report["meta"]
    for key in ("date", "cpu", "versions", "threads", "mode", "rounds", "skipped_frameworks"):
        assert key in meta
    assert meta["mode"] == "tiny"
    assert "threadpools" in meta["threads"]
    assert list(report["cases"]) == ["b"]
    case = report["cases"]["b"]
    assert case["unit"] == "steps/s"
    assert [c["id"] for c in case["configs"]] == ["m2", "m256"]
    for config in case["configs"]:
        for key in ("params", "results", "skipped", "ratios", "ratio_values", "targets",
                    "target_met"):
            assert key in config
        article = config["results"]["article"]
        assert article["median"] > 0
        assert article["min"] <= article["median"] <= article["max"]
        assert len(article["values"]) == meta["rounds"]
        if _torch_importable():
            assert "torch" in config["results"]
        else:
            assert "import torch failed" in config["skipped"]["torch"]
        # npdeep either ran, or is reported as skipped with a reason: never silently absent
        assert "npdeep" in config["results"] or config["skipped"]["npdeep"]
    assert "## b. The article's network" in md
    assert "| config |" in md and "| m2 |" in md
    # tiny sizes measure nothing: a 'MISSED, target >= 2' there read like a real verdict
    assert "Tiny mode checks that the suite runs and measures nothing" in md
    assert "MISSED" not in md and "met," not in md and "target >=" not in md


def test_without_torch_skips_torch_cleanly(run_module, tmp_path):
    assert run_module.main(["--tiny", "--cases", "b", "--without", "torch", "--out",
                            str(tmp_path), "--name", "notorch"]) == 0
    report, md = _load(tmp_path, "notorch")

    assert report["meta"]["skipped_frameworks"]["torch"] == "left out with --without"
    for config in report["cases"]["b"]["configs"]:
        assert "torch" not in config["results"]
        assert config["skipped"]["torch"] == "left out with --without"
        assert config["ratio_values"]["npdeep/torch"] is None
    assert "torch skipped: left out with --without" in md


def test_script_reexecs_without_openblas_coretype(tmp_path):
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    env.pop("NPDEEP_BENCH_ENV_REMOVED", None)
    proc = subprocess.run(
        [sys.executable, str(RUN_PY), "--tiny", "--cases", "b", "--without", "torch",
         "--out", str(tmp_path), "--name", "script"],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    report, _ = _load(tmp_path, "script")
    assert report["meta"]["env_removed"]["OPENBLAS_CORETYPE"] == "Haswell"
    assert "OPENBLAS_CORETYPE" not in report["meta"]["blas_env"]
    assert "# npdeep benchmark results" in proc.stdout


def test_unknown_case_letter_is_an_error(run_module, capsys):
    with pytest.raises(SystemExit) as excinfo:
        run_module.main(["--cases", "b,z"])
    assert excinfo.value.code == 2
    assert "--cases: got 'b,z'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--out", "{tmp}/file"], r"--out: '.*file' is a file, expected a folder"),
    (["--out", "{tmp}/file/sub"], r"--out: '.*file' is a file, so '.*sub' cannot be created"),
    (["--name", ""], r"--name: got '', expected a file stem"),
    (["--name", "a/b"], r"--name: got 'a/b', expected a file stem \(no folder"),
])
def test_an_output_that_cannot_be_written_is_refused_before_running(run_module, tmp_path,
                                                                    capsys, argv, message):
    # the files were written after the whole suite had run (13 minutes), which then failed
    # with a FileExistsError or FileNotFoundError traceback and lost the results
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as excinfo:
        run_module.parse_args(["--tiny", *[a.format(tmp=tmp_path) for a in argv]])
    assert excinfo.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_case_named_twice_runs_once(run_module, tmp_path):
    assert run_module.parse_args(["--cases", "b,a,b", "--out", str(tmp_path)]).cases == ["b", "a"]


def test_ratios_and_targets_from_medians(run_module):
    from bench.report import compute_ratios

    case = {"higher_is_better": True, "configs": [{
        "results": {"npdeep": {"median": 300.0}, "torch": {"median": 100.0}},
        "ratios": {"npdeep/torch": ["npdeep", "torch"], "npdeep/sklearn": ["npdeep", "sklearn"]},
        "targets": {"npdeep/torch": 8.0, "npdeep/sklearn": 2.0},
    }]}
    compute_ratios(case)
    config = case["configs"][0]
    assert config["ratio_values"] == {"npdeep/torch": 3.0, "npdeep/sklearn": None}
    assert config["target_met"] == {"npdeep/torch": False, "npdeep/sklearn": None}
    assert config["reliable"] == {"npdeep/torch": True, "npdeep/sklearn": None}  # one value

    memory = {"higher_is_better": False, "configs": [{
        "results": {"npdeep": {"median": 200.0}, "torch": {"median": 400.0}},
        "ratios": {"npdeep/torch": ["npdeep", "torch"]}, "targets": {"npdeep/torch": 1.0},
    }]}
    compute_ratios(memory)
    assert memory["configs"][0]["target_met"] == {"npdeep/torch": True}


def test_markdown_table_of_a_case_whose_contestants_were_all_skipped(run_module):
    # the header read "| config |  |" over a one-column separator: a broken table
    from bench.report import compute_ratios, markdown

    case = {"title": "f. Dask", "unit": "samples/s", "configs": [{
        "id": "f1", "results": {}, "skipped": {"npdeep_dask": "dask is not installed"},
        "ratios": {"npdeep/single": ["npdeep_dask", "npdeep"]}, "targets": {},
    }]}
    compute_ratios(case)
    meta = {"date": "d", "mode": "tiny", "rounds": 1, "cpu": "cpu", "platform": "p",
            "threads": {"affinity": 2}, "versions": {}}
    lines = markdown({"meta": meta, "cases": {"f": case}}).splitlines()
    header = lines.index("| config |")
    assert lines[header + 1] == "| --- |" and lines[header + 2] == "| f1 |"
    assert "- f1: npdeep_dask skipped: dask is not installed" in lines


def test_markdown_judges_targets_outside_tiny_mode(run_module):
    from bench.report import compute_ratios, markdown

    case = {"title": "b. The article", "unit": "steps/s", "configs": [{
        "id": "m2", "results": {"npdeep": {"median": 3.0}, "article": {"median": 1.0}},
        "skipped": {}, "ratios": {"npdeep/article": ["npdeep", "article"]},
        "targets": {"npdeep/article": 2.0},
    }]}
    compute_ratios(case)
    meta = {"date": "d", "mode": "quick", "rounds": 1, "cpu": "cpu", "platform": "p",
            "threads": {"affinity": 2}, "versions": {}}
    md = markdown({"meta": meta, "cases": {"b": case}})
    assert "| m2 | 3.00 | 1.00 | 3.00x (met, target >= 2) |" in md
    assert "Tiny mode" not in md


def test_profile_step_times_the_engines_products():
    # the engine's products were never timed: the workspaces cached by the untimed epochs
    # held the unwrapped np.matmul, so the table had no "engine: np.matmul" row at all
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "profile_step.py"), "--samples", "256",
         "--batch-size", "64"],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = {line.strip().split("  ")[0]: line.split() for line in proc.stdout.splitlines()
            if line.startswith("  engine: np.")}
    assert "engine: np.matmul" in rows
    # 784-512-256-10, 4 batches of 64: forward 3 products, backward 8 per step, at least
    assert int(rows["engine: np.matmul"][-1]) >= 4 * 11


def test_memory_probe_threads_limit_every_framework_pool():
    # --threads reached only PyTorch's intra-op pool: npdeep's and scikit-learn's OpenBLAS
    # ran with all cores in case e while PyTorch had the asked number
    pytest.importorskip("threadpoolctl")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "memory_probe.py"), "--framework", "npdeep",
         "--samples", "256", "--batch-size", "64", "--threads", "1"],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert record["threadpools"], record
    assert set(record["threadpools"].values()) == {1}, record["threadpools"]


def test_torch_adam_is_the_fused_kernel():
    # on CPU torch.optim's default is the single-tensor loop, 1.7x slower than fused=True for
    # case a's Adam; npdeep updates one flat buffer, so PyTorch gets its fused kernel too
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(REPO_ROOT))
    from bench import torch_side

    model = torch_side.mlp([4, 3, 2], "relu", None, "float32")
    adam = torch_side._optimizer(model, "adam", 0.001)
    assert adam.defaults["fused"] is True
    assert adam.defaults["betas"] == (0.9, 0.999) and adam.defaults["eps"] == 1e-8
    sgd = torch_side._optimizer(model, "sgd", 0.01)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0


def test_article_loop_enters_errstate_once_per_run_not_per_epoch(monkeypatch):
    # the errstate around the cost was entered every epoch: ~1.5 us, 1-2% of the article's
    # step at m = 2, work the article's loop does not do (inflating npdeep/article)
    import numpy as np

    sys.path.insert(0, str(REPO_ROOT))
    from bench import numpy_side

    entered = []
    real = np.errstate

    def counting(**kw):
        entered.append(kw)
        return real(**kw)

    contestant = numpy_side.article_loop("article", [3, 4, 1], np.random.default_rng(0).random(
        (3, 2)), np.array([[0.0, 1.0]]), 0.01, np.random.default_rng(0))
    monkeypatch.setattr(np, "errstate", counting)
    assert contestant.run(7) == 7.0
    assert len(entered) == 1


def _fake_clock_contestant(monkeypatch, first_call_s: float, per_unit_s: float):
    """A contestant whose first call carries a one-off cost, timed on a fake clock."""
    sys.path.insert(0, str(REPO_ROOT))
    from bench import harness

    clock = {"now": 0.0, "calls": 0}

    def run(count: int) -> float:
        clock["calls"] += 1
        clock["now"] += (first_call_s if clock["calls"] == 1 else 0.0) + count * per_unit_s
        return float(count)

    monkeypatch.setattr(harness.time, "perf_counter", lambda: clock["now"])
    return harness, harness.Contestant("npdeep", run, calibrate=True)


def test_calibration_comes_after_the_warm_up(monkeypatch):
    # the first fit of a process (lazy set-up, 46-69 ms) was the calibration's first timing:
    # the search stopped at count 1 and every measurement was 2-3 steps of fixed costs
    harness, contestant = _fake_clock_contestant(monkeypatch, 0.06, 1e-4)
    harness._prepare(contestant, min_time=0.1)
    assert 1000 <= contestant.count <= 1001  # 0.1 s of 0.1 ms units (ceil of a float)


def test_calibration_decides_on_the_second_timing_of_a_count(monkeypatch):
    harness, contestant = _fake_clock_contestant(monkeypatch, 0.06, 1e-4)
    # untimed warm-up skipped here: the search's first call at count 1 carries the 60 ms
    assert 1000 <= harness._calibrate(contestant, min_time=0.1) <= 1001


def _fake_case(median: float = 100.0, low: float = 90.0, high: float = 110.0):
    """A case function measuring one config with npdeep and the article, instantly."""
    def case(ctx):
        result = {"median": median, "min": low, "max": high, "values": [low, high]}
        return {"title": "z. Fake", "unit": "steps/s", "configs": [{
            "id": "c1", "params": {}, "results": {"npdeep": dict(result),
                                                  "article": dict(result, median=median / 2)},
            "skipped": {}, "ratios": {"npdeep/article": ["npdeep", "article"]},
            "targets": {"npdeep/article": 1.5}}]}
    return case


def _raising(exc: BaseException):
    def case(ctx):
        raise exc
    return case


FAKE_ARGS = ["--without", "torch,sklearn"]


def test_an_interrupted_run_keeps_the_finished_cases(run_module, monkeypatch, tmp_path,
                                                     capsys):
    # Ctrl-C lost every finished case: the files were written only at the end, and the
    # KeyboardInterrupt ended in a traceback
    from bench import cases

    monkeypatch.setitem(cases.CASES, "b", _fake_case())
    monkeypatch.setitem(cases.CASES, "d", _raising(KeyboardInterrupt()))
    code = run_module.main(["--tiny", "--cases", "b,d", *FAKE_ARGS, "--out",
                            str(tmp_path / "out"), "--name", "i"])
    assert code == 130
    report, md = _load(tmp_path / "out", "i")
    assert list(report["cases"]) == ["b"] and report["meta"]["complete"] is False
    assert "**Incomplete**" in md and "## z. Fake" in md
    err = capsys.readouterr().err
    assert "interrupted: saved case b in" in err and "Traceback" not in err
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_an_interrupt_before_any_case_removes_the_folder_it_created(run_module, monkeypatch,
                                                                    tmp_path, capsys):
    from bench import cases

    monkeypatch.setitem(cases.CASES, "b", _raising(KeyboardInterrupt()))
    out = tmp_path / "new" / "out"
    assert run_module.main(["--tiny", "--cases", "b", *FAKE_ARGS, "--out", str(out)]) == 130
    assert not (tmp_path / "new").exists()
    assert "nothing saved" in capsys.readouterr().err


def test_a_complete_run_is_marked_complete(run_module, monkeypatch, tmp_path):
    from bench import cases

    monkeypatch.setitem(cases.CASES, "b", _fake_case())
    assert run_module.main(["--quick", "--cases", "b", *FAKE_ARGS, "--out", str(tmp_path),
                            "--name", "c"]) == 0
    report, md = _load(tmp_path, "c")
    assert report["meta"]["complete"] is True and "Incomplete" not in md
    assert report["cases"]["b"]["configs"][0]["target_met"] == {"npdeep/article": True}


def test_a_failed_case_exits_1_and_keeps_its_traceback(run_module, monkeypatch, tmp_path,
                                                       capsys):
    # exit 0 with the traceback thrown away; the Markdown read "Unit: ."
    from bench import cases

    monkeypatch.setitem(cases.CASES, "b", _fake_case())
    monkeypatch.setitem(cases.CASES, "d", _raising(ValueError("bad shape")))
    assert run_module.main(["--tiny", "--cases", "b,d", *FAKE_ARGS, "--out", str(tmp_path),
                            "--name", "f"]) == 1
    report, md = _load(tmp_path, "f")
    failed = report["cases"]["d"]
    assert failed["error"] == "ValueError: bad shape"
    assert "Traceback" in failed["traceback"] and "bad shape" in failed["traceback"]
    assert "failed: ValueError: bad shape" in md and "Unit: ." not in md
    assert "error: case d failed: ValueError: bad shape" in capsys.readouterr().err


def test_a_case_that_measured_nothing_exits_1(run_module, tmp_path, capsys):
    assert run_module.main(["--tiny", "--cases", "e", "--without", "npdeep,torch,sklearn",
                            "--out", str(tmp_path), "--name", "n"]) == 1
    assert "error: case e measured nothing" in capsys.readouterr().err
    _, md = _load(tmp_path, "n")
    assert "Cells: one measurement per framework, each in a fresh process" in md


def test_an_output_path_that_is_a_folder_is_refused_before_running(run_module, tmp_path,
                                                                   capsys):
    # IsADirectoryError after the whole run, leaving t.json without t.md
    (tmp_path / "t.md").mkdir()
    with pytest.raises(SystemExit) as excinfo:
        run_module.parse_args(["--tiny", "--out", str(tmp_path), "--name", "t"])
    assert excinfo.value.code == 2
    assert "t.md' is a folder, where the report file would go" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.md"]


def test_a_name_too_long_is_refused_and_the_new_folder_removed(run_module, tmp_path, capsys):
    # OSError after the run, and an empty folder left behind
    with pytest.raises(SystemExit) as excinfo:
        run_module.parse_args(["--tiny", "--out", str(tmp_path / "new" / "sub"),
                               "--name", "x" * 260])
    assert excinfo.value.code == 2
    assert "cannot write" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_a_failed_write_is_one_line_and_the_table_is_printed(run_module, monkeypatch,
                                                             tmp_path, capsys):
    from bench import cases, report

    def failing_write(results, out_dir, stem):
        raise PermissionError(13, "Permission denied", str(out_dir / f"{stem}.json"))

    monkeypatch.setitem(cases.CASES, "b", _fake_case())
    monkeypatch.setattr(report, "write", failing_write)
    assert run_module.main(["--tiny", "--cases", "b", *FAKE_ARGS, "--out", str(tmp_path),
                            "--name", "w"]) == 1
    captured = capsys.readouterr()
    assert "## z. Fake" in captured.out
    assert "error: cannot write the results to " in captured.err
    assert "w.json: Permission denied" in captured.err and "Traceback" not in captured.err


def test_write_replaces_the_files_atomically(tmp_path):
    sys.path.insert(0, str(REPO_ROOT))
    from bench import report

    (tmp_path / "r.json").write_text("old")
    meta = {"date": "d", "mode": "quick", "rounds": 1, "cpu": "cpu", "platform": "p",
            "threads": {"affinity": 2}, "versions": {}}
    report.write({"meta": meta, "cases": {}}, tmp_path, "r")
    assert json.loads((tmp_path / "r.json").read_text())["meta"]["mode"] == "quick"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.md"]


def test_tiny_mode_records_no_verdict(run_module):
    from bench.report import compute_ratios

    case = _fake_case()(None)
    compute_ratios(case, judged=False)
    assert case["configs"][0]["ratio_values"] == {"npdeep/article": 2.0}
    assert case["configs"][0]["target_met"] == {"npdeep/article": None}


def test_a_ratio_over_a_huge_spread_is_unreliable_and_not_judged(run_module):
    # a PyTorch round ranging 2.67-94.3 steps/s printed "187.41x (met, target >= 8)"
    from bench.report import compute_ratios, markdown

    case = _fake_case(median=100.0, low=10.0, high=110.0)(None)
    compute_ratios(case)
    config = case["configs"][0]
    assert config["reliable"] == {"npdeep/article": False}
    assert config["spread"]["npdeep/article"] == pytest.approx(11.0)
    assert config["target_met"] == {"npdeep/article": None}
    meta = {"date": "d", "mode": "quick", "rounds": 2, "cpu": "cpu", "platform": "p",
            "threads": {"affinity": 2}, "versions": {}}
    md = markdown({"meta": meta, "cases": {"b": case}})
    assert "2.00x (unreliable: spread 11.0x) |" in md
    assert "met," not in md and "MISSED" not in md

    steady = _fake_case(median=100.0, low=90.0, high=110.0)(None)
    compute_ratios(steady)
    assert steady["configs"][0]["reliable"] == {"npdeep/article": True}
    assert steady["configs"][0]["target_met"] == {"npdeep/article": True}


def test_help_gives_the_per_mode_defaults(run_module, capsys):
    with pytest.raises(SystemExit):
        run_module.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 5 full, 3 quick, 2 tiny)" in text
    assert "(default: 2.0 full, 0.25 quick, 0.0 tiny)" in text


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(REPO_ROOT / "bench" / name), *args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.mark.parametrize("args, message", [
    (["--repeat", "0"], "--repeat: got 0, expected an integer >= 1"),
    (["--repeat", "-2"], "--repeat: got -2, expected an integer >= 1"),
    (["--threads", "0"], "--threads: got 0, expected an integer >= 1"),
])
def test_accuracy_refuses_counts_below_1(args, message):
    # --repeat 0 ended in an UnboundLocalError; --threads 0 silently meant the default
    proc = _script("accuracy.py", "iris", "--no-article", *args)
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--samples", "0"], "--samples: got 0, expected an integer >= 1"),
    (["--batch-size", "0"], "--batch-size: got 0, expected an integer >= 1"),
    (["--optimizer", "bogus"], "profile_step.py: error: unknown optimizer 'bogus'"),
])
def test_profile_step_reports_npdeep_errors_in_one_line(args, message):
    proc = _script("profile_step.py", "--samples", "64", *args)
    assert proc.returncode == 2, proc.stderr
    # raw tracebacks before; now argparse's usage and error, or npdeep's message in one line
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr.strip().splitlines()[-1]
    if "--optimizer" in args:
        assert len(proc.stderr.strip().splitlines()) == 1


def test_npdeep_bench_waits_for_the_interrupted_suite_to_save(monkeypatch):
    # subprocess.run killed the suite 0.25 s after Ctrl-C and click printed "Aborted!"
    bench_cli = importlib.import_module("npdeep.cli.bench")  # the module, not the command

    class Suite:
        waits = 0

        def __init__(self, cmd, env):
            self.cmd = cmd

        def wait(self, timeout=None):
            Suite.waits += 1
            if Suite.waits == 1:
                raise KeyboardInterrupt
            return 130

    monkeypatch.setattr(bench_cli.subprocess, "Popen", Suite)
    assert bench_cli._run_suite(["python", "bench/run.py"], {}) == 130
    assert Suite.waits == 2
