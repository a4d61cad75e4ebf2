"""Calling the CLI in-process from tests: exit code and captured output."""

import json

from npdeep.cli import run


def call(capsys, *argv):
    """Run the CLI; return (exit code, stdout, stderr)."""
    code = run([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def call_json(capsys, *argv):
    """Run the CLI with ``--json``; assert it succeeded and return the parsed answer."""
    code, out, err = call(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)
