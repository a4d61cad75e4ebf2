"""The documentation covers what a user meets: every module in docs/ARCHITECTURE.md's map,
every public name of ``npdeep`` in the README or docs/, every command and option in
docs/CLI.md."""

import re
from pathlib import Path

import click
import pytest

import npdeep
from npdeep.cli import main

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "npdeep"
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
CLI_MD = (ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
PAGES = "\n".join(p.read_text(encoding="utf-8")
                  for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
MAPPED = set(re.findall(r"`([\w/]+\.py|\w+/)`", ARCHITECTURE))


@pytest.mark.parametrize("path", sorted(
    [p for p in SRC.glob("*.py") if p.name != "__init__.py"]
    + [p for p in (SRC / "cli").glob("*.py")  # "one module per subcommand", and the others
       if p.stem not in main.commands and p.name != "__init__.py"]
    + [p for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()]),
    ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_is_in_the_architecture_map(path):
    name = f"{path.name}/" if path.is_dir() else path.name
    assert name in MAPPED, f"docs/ARCHITECTURE.md does not list {path.relative_to(SRC)}"


@pytest.mark.parametrize("name", sorted(MAPPED))
def test_every_module_in_the_architecture_map_exists(name):
    # the package's modules by name, anywhere in it; the rest (bench/, tests/...) from the root
    found = any(SRC.rglob(name.rstrip("/"))) or any(
        (folder / name).exists() for folder in (ROOT, ROOT / "bench"))
    assert found, f"docs/ARCHITECTURE.md lists {name}, which does not exist"


@pytest.mark.parametrize("name", npdeep.__all__)
def test_every_public_name_is_documented(name):
    assert re.search(rf"`(npdeep\.)?{name}[`(.]", PAGES), (
        f"npdeep.{name} is in __all__ but in neither README.md nor docs/")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_a_section_in_cli_md(command):
    assert re.search(rf"^## .*`npdeep {command}\b", CLI_MD, flags=re.M)


@pytest.mark.parametrize("command,option", sorted(
    (name, opt) for name, cmd in main.commands.items() for param in cmd.params
    if isinstance(param, click.Option) for opt in param.opts + param.secondary_opts
    if opt.startswith("--") and opt != "--help"))
def test_every_option_is_in_cli_md(command, option):
    assert f"`{option}" in CLI_MD, f"npdeep {command} {option} is not in docs/CLI.md"


# npdeep.distributed needs the dask extra and an import of its own, as the docs show
DOTTED = sorted({name for name in re.findall(r"`(npdeep(?:\.\w+)+)[`(]", PAGES)
                 if not name.startswith("npdeep.distributed")})


def test_the_dotted_names_the_docs_use_resolve_after_a_plain_import():
    # `npdeep.checkpoint.resume(...)` must work as written, after `import npdeep` alone; a
    # fresh interpreter, since the suite has imported every submodule already
    import subprocess
    import sys

    assert "npdeep.checkpoint.resume" in DOTTED and "npdeep.schedules" in DOTTED
    code = ("import functools, npdeep\n"
            "missing = []\n"
            f"for name in {DOTTED!r}:\n"
            "    try:\n"
            "        functools.reduce(getattr, name.split('.')[1:], npdeep)\n"
            "    except AttributeError:\n"
            "        missing.append(name)\n"
            "print(missing)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]", f"not reachable after `import npdeep`: {out}"
