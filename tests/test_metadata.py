"""The package's metadata in pyproject.toml."""

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli, a dependency there
    import tomli as tomllib

PROJECT = tomllib.loads(
    (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
)["project"]


def test_the_license_is_an_spdx_expression():
    # setuptools deprecates the {text = ...} table: builds that use it stop on 2027-02-18
    assert PROJECT["license"] == "MIT"


def test_the_classifiers_name_every_python_from_requires_python_on():
    # they listed none; each version named has run the whole suite
    lowest = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"]).group(1)
    named = [int(c.rsplit(".", 1)[1]) for c in PROJECT["classifiers"]
             if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert named == list(range(int(lowest), 14))


def test_the_license_file_ships_with_the_package():
    root = Path(__file__).resolve().parent.parent
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (root / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
