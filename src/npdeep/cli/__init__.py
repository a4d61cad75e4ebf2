"""The ``npdeep`` command line (click).

Commands, one module each: ``train`` (:mod:`.train`), ``evaluate``, ``predict``,
``gradcheck``, ``inspect``, ``plot``, ``export`` (ONNX) and ``bench``. ``npdeep train``
with no arguments is the main job: the default deep network on scikit-learn's handwritten
digits.

Exit codes: 0 success; 1 the command ran and failed (bad data, bad model file, unwritable
path, a failed gradient check: the message, never a traceback); 2 a usage error (unknown
option or config key, bad option value); 130 training interrupted by Ctrl-C (the best model
so far is saved). With ``--json`` an error is also printed as ``{"ok": false, "error": ...}``
on standard output.
"""

from __future__ import annotations

import json
import os
import sys

import click

from ..errors import NpdeepError
from ._common import JSON_META
from .bench import bench
from .evaluate import evaluate
from .export import export
from .gradcheck import gradcheck
from .inspect import inspect
from .plot import plot
from .predict import predict
from .train import train

__all__ = ["main", "run"]

ARGV_META = "npdeep.argv"


def _fail(ctx: click.Context, message: str) -> click.ClickException:
    if ctx.meta.get(JSON_META):
        click.echo(json.dumps({"ok": False, "error": message, "exit_code": 1}))
    return click.ClickException(message)


def _wants_json(ctx: click.Context) -> bool:
    """``--json`` was given, even where a usage error stopped parsing before it was read."""
    if ctx.meta.get(JSON_META):
        return True
    argv = ctx.meta.get(ARGV_META, [])
    return "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv


class _Group(click.Group):
    """Turn the errors a user can cause into a message and exit code 1, never a traceback."""

    def make_context(self, info_name, args, parent=None, **extra):
        argv = list(args)
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta[ARGV_META] = argv
        return ctx

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if _wants_json(ctx):
                click.echo(json.dumps({"ok": False, "error": exc.format_message(),
                                       "exit_code": exc.exit_code}))
            raise
        except KeyboardInterrupt:  # Ctrl-C outside training: click says "Aborted!", exit 1
            if _wants_json(ctx):
                click.echo(json.dumps({"ok": False, "error": "interrupted (Ctrl-C)",
                                       "exit_code": 1}))
            raise
        except NpdeepError as exc:
            raise _fail(ctx, str(exc)) from None
        except BrokenPipeError:  # `npdeep predict ... | head`: the reader left; stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(1)
        except OSError as exc:  # a file the system refused: name it, no traceback
            where = f"{exc.filename}: " if exc.filename else ""
            raise _fail(ctx, f"{where}{exc.strerror or exc}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="npdeep")
def main() -> None:
    """npdeep: deep L-layer neural networks in NumPy, true to the article's equations.

    Start with `npdeep train` (the digits default job), or `npdeep train data.csv`.
    """


for _command in (train, evaluate, predict, gradcheck, inspect, plot, export, bench):
    main.add_command(_command)


def run(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` in this process; return the exit code (for tests)."""
    try:
        code = main.main(args=argv, prog_name="npdeep", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return code if isinstance(code, int) else 0  # ctx.exit(n) comes back as the return value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
