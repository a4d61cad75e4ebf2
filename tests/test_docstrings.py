"""The examples in the package's docstrings run and print what they show."""

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "npdeep"
MODULES = sorted(
    ".".join(("npdeep", *path.relative_to(SRC).with_suffix("").parts)).replace(".__init__", "")
    for path in SRC.rglob("*.py") if ">>>" in path.read_text(encoding="utf-8")
)


def test_there_are_docstring_examples():
    assert "npdeep.network" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    if name.startswith("npdeep.distributed"):
        pytest.importorskip("dask")
    monkeypatch.chdir(tmp_path)  # examples may write files
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
