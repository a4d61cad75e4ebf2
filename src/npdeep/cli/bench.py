"""``npdeep bench [ARGS]``: run the benchmark suite of a source checkout.

The suite (``bench/run.py``, comparing npdeep with PyTorch, scikit-learn and the article's
code) lives in the repository, not in the installed package: this command runs it in a
subprocess with the same Python, in the current folder (a relative ``--out`` is there), passing
ARGS through (``npdeep bench --help`` shows its
options), and exits with its exit code. Without a checkout it says where it looked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from ..errors import ConfigurationError


def find_bench_script() -> Path:
    """Return ``bench/run.py`` of the checkout this npdeep was installed from (editable)."""
    root = Path(__file__).resolve().parents[3]
    script = root / "bench" / "run.py"
    if not script.is_file():
        raise ConfigurationError(
            f"npdeep bench runs bench/run.py from a source checkout of npdeep, and there is "
            f"none at {root} (this npdeep is installed from a wheel); clone the repository, "
            "pip install -e it, and run npdeep bench there"
        )
    return script


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def bench(ctx, args):
    """Run the benchmark suite (bench/run.py) of a source checkout; ARGS go to it."""
    script = find_bench_script()
    env = {**os.environ, "NPDEEP_BENCH_PROG": "npdeep bench"}  # its usage and errors say so
    # in the caller's folder: a relative --out is where the user is, not in the checkout
    ctx.exit(_run_suite([sys.executable, str(script), *args], env))


def _run_suite(cmd: list[str], env: dict[str, str]) -> int:
    """Run the suite and return its exit code; Ctrl-C waits for it to save and exit (130).

    A terminal's Ctrl-C reaches the suite too (else it is passed on after 10 s): the suite
    saves the cases that finished, says so and exits 130. ``subprocess.run`` would kill it
    0.25 s after the interrupt instead, and click would print "Aborted!" over its message.
    """
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        try:
            return proc.wait(timeout=10)  # a terminal's Ctrl-C reached the suite as well
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # only this process was interrupted: pass it on
            return proc.wait()
