"""The Python examples of the README and docs/TRAINING.md run as written (those that need
no file or cluster of yours)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, ROOT / "docs" / "TRAINING.md"]  # DISTRIBUTED.md's example has its own test
BLOCKS = [block for page in PAGES
          for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"),
                                  flags=re.S)]
# the memory-mapped example reads the reader's own file; the Dask one has its own tests
RUNNABLE = [b for b in BLOCKS if "mmap_mode" not in b and "__main__" not in b]


def test_the_readme_has_examples():
    assert len(RUNNABLE) >= 3


@pytest.mark.parametrize("index", range(len(RUNNABLE)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    block = RUNNABLE[index]
    if "to_onnx" in block:
        pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)          # examples write model files to the current folder
    namespace = {"__name__": "readme_example"}
    exec(compile("import numpy as np\nimport npdeep\n" + block, f"README block {index}", "exec"),
         namespace)
    assert any(p.suffix in (".npz", ".onnx") for p in tmp_path.iterdir()) or "history" in namespace
