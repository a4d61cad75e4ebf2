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
import warnings

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


def _import_file(path: str) -> None:
    """Run the ``.py`` file ``path`` as the module named by its stem, as ``python FILE`` would
    (its folder searched for its sibling modules); one of that name imported already from
    another file (``json.py``) is refused rather than replaced."""
    import importlib.util

    if not os.path.isfile(path):
        raise ModuleNotFoundError(f"no file {path!r}")
    name = os.path.splitext(os.path.basename(path))[0]
    held = sys.modules.get(name)
    if held is not None:
        where = getattr(held, "__file__", None)
        if where and os.path.samefile(where, path):
            return  # imported already (--import NAME, then its file)
        raise ImportError(f"a module named {name!r} is already imported "
                          f"({where or 'built in'}); rename the file")
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]  # as a failed import leaves nothing behind
        raise


def _import_modules(ctx: click.Context, param: click.Parameter, names) -> tuple:
    """Import each ``--import`` module (a name, or a .py file's path) before the command runs,
    so the classes it registers with npdeep.register are known to the model files."""
    import importlib

    search = list(sys.path)
    if names and "" not in sys.path:
        sys.path.insert(0, "")  # a module beside the user, as `python -m` finds it
    for name in names:
        try:
            if name.endswith(".py"):
                _import_file(name)
            else:
                importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the user's module: its error, not a traceback
            # a failed import leaves the search path as it was: a file's folder left first on
            # it would shadow any module of that name (json.py), here and in the processes
            # this one spawns, which start from its sys.path
            sys.path[:] = search
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = (f" (line {tb.tb_lineno} of {tb.tb_frame.f_code.co_filename})"
                     if tb is not None and not isinstance(exc, ModuleNotFoundError) else "")
            raise click.BadParameter(f"{name}: {type(exc).__name__}: {exc}{where}",
                                     ctx=ctx, param=param) from None
    return names


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="npdeep")
@click.option("--import", "imports", multiple=True, metavar="MODULE", envvar="NPDEEP_IMPORT",
              callback=_import_modules, expose_value=False, is_eager=True,
              help="Import MODULE (a module name or a .py file) first: the activations, "
                   "losses, optimizers or schedules it registers with npdeep.register can "
                   "then be named by model files (repeatable; also NPDEEP_IMPORT).")
def main() -> None:
    """npdeep: deep L-layer neural networks in NumPy, true to the article's equations.

    Start with `npdeep train` (the digits default job), or `npdeep train data.csv`.
    """
    if warnings.showwarning is _PYTHON_SHOWWARNING:  # not where a test records warnings
        warnings.showwarning = _show_warning
        # the command's, not the process's: Python's printer again once it ends (in-process
        # runs, npdeep.cli.run, leave the caller's warnings as they were)
        click.get_current_context().call_on_close(_restore_showwarning)


def _restore_showwarning() -> None:
    if warnings.showwarning is _show_warning:
        warnings.showwarning = _PYTHON_SHOWWARNING


#: Python's warning printer, replaced for the command line by :func:`_show_warning`
_PYTHON_SHOWWARNING = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one ``warning: ...`` line on standard error, without the source
    file and line of the library code that raised it (a user's data, not npdeep's code, is
    what it is about)."""
    click.echo(f"warning: {message}", err=True)


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
