"""Run npdeep's benchmark suite: npdeep against PyTorch CPU, scikit-learn and the article.

Usage::

    python bench/run.py [--quick] [--cases a,b,c,d,e] [--out bench/results]

Every case runs its frameworks side by side in this process (same network, data, batch size,
optimizer and dtype), in interleaved rounds, and reports the median rate with its spread; case
e runs one fresh process per framework. The results land in ``<out>/<name>.json`` and
``<out>/<name>.md``, rewritten atomically after every case (marked incomplete until the end, so
Ctrl-C keeps the finished cases); the Markdown table is printed too. Exit codes: 0, 1 (a case
failed or measured nothing, or the files could not be written), 2 (usage), 130 (interrupted).
See ``bench/README.md``.

When started as a script, the suite first re-executes itself without ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` (they slow numpy's OpenBLAS on this project's machines); the environment
of the caller is untouched. ``--keep-env`` turns that off.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

BLAS_ENV_TO_REMOVE = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_REMOVED_MARKER = "NPDEEP_BENCH_ENV_REMOVED"
FRAMEWORKS = ("npdeep", "torch", "sklearn")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from bench.cases import CASES

    parser = argparse.ArgumentParser(  # `npdeep bench` names itself in usage and errors
        prog=os.environ.get("NPDEEP_BENCH_PROG", "bench/run.py"),
        description="npdeep vs PyTorch CPU, scikit-learn and the article.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller data, 3 rounds (~1 min)")
    size.add_argument("--tiny", action="store_true",
                      help="smallest sizes, 2 rounds: checks the suite runs, measures nothing")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated case letters among {','.join(CASES)} "
                             "(default: all)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results",
                        help="directory for the JSON and Markdown files")
    parser.add_argument("--name", default=None,
                        help="file stem of the outputs (default bench-<mode>-<timestamp>)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds per configuration (default: 5 full, 3 quick, "
                             "2 tiny)")
    parser.add_argument("--cooldown", type=float, default=None,
                        help="seconds of sleep before every timed run (default: 2.0 full, "
                             "0.25 quick, 0.0 tiny): lets the previous framework's threads "
                             "go idle")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (default: numpy's BLAS pool size)")
    parser.add_argument("--without", default="",
                        help=f"comma-separated frameworks to leave out among {FRAMEWORKS}")
    parser.add_argument("--keep-env", action="store_true",
                        help=f"do not re-exec without {', '.join(BLAS_ENV_TO_REMOVE)}")
    args = parser.parse_args(argv)
    cases = list(dict.fromkeys(c.strip() for c in args.cases.split(",") if c.strip()))
    # (once each: a repeated letter ran its case again, and its table replaced the first)
    unknown = [c for c in cases if c not in CASES]
    if unknown or not cases:
        parser.error(f"--cases: got {args.cases!r}, expected letters among {','.join(CASES)}")
    args.cases = cases
    without = [w.strip() for w in args.without.split(",") if w.strip()]
    bad = [w for w in without if w not in FRAMEWORKS]
    if bad:
        parser.error(f"--without: got {bad}, expected names among {', '.join(FRAMEWORKS)}")
    args.without = without
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds: got {args.rounds}, expected an integer >= 1")
    if args.cooldown is not None and not 0 <= args.cooldown <= 60:
        parser.error(f"--cooldown: got {args.cooldown}, expected seconds in [0, 60]")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads: got {args.threads}, expected an integer >= 1")
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    if args.name is None:
        args.name = f"bench-{mode}-{time.strftime('%Y%m%d-%H%M%S')}"
    # now, not after a 13-minute run: the files are written after every case
    problem = _output_problem(args.out, args.name)
    if problem is None:
        problem, args.created_folders = _probe_outputs(args.out, args.name)
    if problem:
        parser.error(problem)
    return args


def _output_problem(out: Path, name: str | None) -> str | None:
    """Why ``<out>/<name>.json`` and ``.md`` could not be written, or None (names only)."""
    if name is not None and (name in ("", ".", "..") or "/" in name or os.sep in name):
        return f"--name: got {name!r}, expected a file stem (no folder; --out names the folder)"
    if out.exists() and not out.is_dir():
        return f"--out: {str(out)!r} is a file, expected a folder"
    existing = out
    while not existing.exists():  # the folder is created at the end: its first existing parent
        existing = existing.parent
    if not existing.is_dir():
        return f"--out: {str(existing)!r} is a file, so {str(out)!r} cannot be created"
    return None


def _make_folder(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, deepest first."""
    missing = []
    folder = out
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    out.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_folders(folders: list[Path]) -> None:
    """Remove the folders this run created (deepest first), where still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _probe_one(path: Path) -> str | None:
    """Write and remove ``path``'s temporary file; why that failed, or None."""
    from bench.report import temp_path

    try:
        if path.is_dir():
            return (f"--out/--name: {str(path)!r} is a folder, where the report file "
                    "would go; choose another --name or --out")
        temp_path(path).write_text("")
        temp_path(path).unlink()
    except OSError as exc:
        shown = str(path) if len(str(path)) <= 80 else str(path)[:60] + "..." + path.suffix
        return f"--out/--name: cannot write {shown!r}: {exc.strerror or exc}"
    return None


def _probe_outputs(out: Path, stem: str) -> tuple[str | None, list[Path]]:
    """Check by writing that ``<out>/<stem>.json`` and ``.md`` can be written.

    Returns why not (or None) and the folders created for them, deepest first.

    Creates ``out``, then writes and removes the temporary files the report is written
    through (their names are the outputs' plus ``.tmp``: if they fit, the outputs do). A
    folder created here is removed again when the check fails. Real writes, not
    ``os.access``: root passes that on a read-only file system, and it knows nothing of
    names too long for the file system.
    """
    from bench.report import output_paths

    try:
        created = _make_folder(out)
    except OSError as exc:
        return f"--out: cannot create the folder {str(out)!r}: {exc.strerror or exc}", []
    for path in output_paths(out, stem):
        problem = _probe_one(path)
        if problem:
            _remove_folders(created)
            return problem, []
    return None, created


def _frameworks(without: list[str]) -> dict[str, str]:
    """Frameworks to skip, with the reason (asked for, or not importable)."""
    from bench.numpy_side import npdeep_missing
    from bench.torch_side import torch_missing

    skip = {name: "left out with --without" for name in without}
    if "npdeep" not in skip and (reason := npdeep_missing()):
        skip["npdeep"] = reason
    if "torch" not in skip and (reason := torch_missing()):
        skip["torch"] = reason
    if "sklearn" not in skip:
        try:
            import sklearn.neural_network  # noqa: F401
        except ImportError as exc:
            skip["sklearn"] = f"import sklearn failed: {exc}"
    return skip


def _case_problem(case: dict[str, Any]) -> str | None:
    """Why a finished case makes the run fail (it raised, or measured nothing), or None."""
    if "error" in case:
        return f"failed: {case['error']}"
    if not any(config["results"] for config in case["configs"]):
        return "measured nothing (every contestant was skipped or dropped; see the table)"
    return None


def _run_case(letter: str, ctx: Any) -> dict[str, Any]:
    """Run one case and compute its ratios; a case that raises becomes a failed record."""
    from bench import report
    from bench.cases import CASES

    try:
        case = CASES[letter](ctx)
        report.compute_ratios(case, judged=ctx.mode != "tiny")
    except Exception as exc:  # noqa: BLE001 - one broken case must not lose the others
        case = {"title": f"{letter}. (failed)", "unit": "", "configs": [],
                "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        print(f"case {letter} failed: {case['error']}", file=sys.stderr, flush=True)
    return case


def _save(results: dict[str, Any], args: argparse.Namespace) -> str | None:
    """Write ``<out>/<name>.json`` and ``.md`` (atomically); the error message, or None."""
    from bench import report

    try:
        report.write(results, args.out, args.name)
    except OSError as exc:
        where = exc.filename2 or exc.filename or f"{args.out / args.name}.json/.md"
        return f"error: cannot write the results to {where}: {exc.strerror or exc}"
    return None


def _interrupted(results: dict[str, Any], args: argparse.Namespace) -> int:
    """Say what an interrupted run kept; exit code 130 (as a shell reports Ctrl-C)."""
    saved = list(results["cases"])
    if saved:
        print(f"\ninterrupted: saved {'case' if len(saved) == 1 else 'cases'} "
              f"{', '.join(saved)} in {args.out / args.name}.json and .md (marked "
              "incomplete)", file=sys.stderr)
    else:
        _remove_folders(args.created_folders)
        print("\ninterrupted before any case finished: nothing saved", file=sys.stderr)
    return 130


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases, write ``<out>/<name>.json`` and ``.md``; return an exit code.

    The files are rewritten after every finished case (marked incomplete until the end), so
    Ctrl-C keeps what finished. Exit codes: 0 all cases measured, 1 a case failed or
    measured nothing or the files could not be written, 2 usage, 130 interrupted.
    """
    args = parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    results: dict[str, Any] = {"meta": {}, "cases": {}}
    try:
        return _suite(args, results)
    except KeyboardInterrupt:
        return _interrupted(results, args)


def _suite(args: argparse.Namespace, results: dict[str, Any]) -> int:
    """The body of :func:`main`: set up the frameworks and threads, then run the cases."""
    from bench import harness
    from bench.cases import SIZES, Context

    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    skip = _frameworks(args.without)
    threads = args.threads or harness.numpy_blas_threads() or len(os.sched_getaffinity(0))
    limiter = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(args.threads)
    if "torch" not in skip:
        import torch

        torch.set_num_threads(threads)
    ctx = Context(mode=mode, rounds=args.rounds or SIZES[mode]["rounds"],
                  min_time=SIZES[mode]["min_time"], skip=skip, threads=args.threads,
                  cooldown=args.cooldown)

    meta: dict[str, Any] = results["meta"]
    meta.update(harness.machine_report())
    meta.update(mode=mode, rounds=ctx.rounds,
                cooldown=SIZES[mode]["cooldown"] if ctx.cooldown is None else ctx.cooldown,
                argv=args.argv, complete=False,
                skipped_frameworks=skip, threads=harness.thread_report(),
                env_removed=json.loads(os.environ.get(_REMOVED_MARKER, "{}")))
    print(f"npdeep bench, mode {mode}, cases {','.join(args.cases)}; skipped: "
          f"{skip or 'none'}", file=sys.stderr, flush=True)
    try:
        return _run_cases(args, ctx, results)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def _run_cases(args: argparse.Namespace, ctx: Any, results: dict[str, Any]) -> int:
    """Run the cases, saving after each; print the table; the exit code (see :func:`main`)."""
    from bench import harness, report

    meta = results["meta"]
    start = time.perf_counter()
    for letter in args.cases:
        print(f"case {letter}", file=sys.stderr, flush=True)
        results["cases"][letter] = _run_case(letter, ctx)
        meta["seconds"] = time.perf_counter() - start
        if error := _save(results, args):
            print(report.markdown(results))  # the results are not lost with the files
            print(error, file=sys.stderr)
            return 1
    meta["complete"] = True
    meta["threads"] = harness.thread_report()  # again: torch and scipy pools now loaded
    print(report.markdown(results), flush=True)  # before the files: a failed write keeps it
    if error := _save(results, args):
        print(error, file=sys.stderr)
        return 1
    print(f"wrote {args.out / args.name}.json and .md in {meta['seconds']:.0f} s",
          file=sys.stderr)
    problems = {letter: p for letter, case in results["cases"].items()
                if (p := _case_problem(case))}
    for letter, problem in problems.items():
        print(f"error: case {letter} {problem}", file=sys.stderr)
    return 1 if problems else 0


def _reexec_without_blas_env(argv: list[str]) -> None:
    """Replace this process by itself without the BLAS variables that slow numpy down."""
    if "--keep-env" in argv or _REMOVED_MARKER in os.environ:
        return
    removed = {k: os.environ[k] for k in BLAS_ENV_TO_REMOVE if k in os.environ}
    if not removed:
        return
    env = {k: v for k, v in os.environ.items() if k not in removed}
    env[_REMOVED_MARKER] = json.dumps(removed)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *argv], env)


if __name__ == "__main__":
    _reexec_without_blas_env(sys.argv[1:])
    sys.exit(main(sys.argv[1:]))
