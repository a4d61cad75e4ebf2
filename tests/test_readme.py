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


MEMORY_MAPPED = [b for b in BLOCKS if "mmap_mode" in b]


def test_the_memory_mapped_example_runs(tmp_path, monkeypatch):
    # the example reads the reader's own train_X.npy with the `net` and `y` of the digits
    # example before it: a small file of digits, saved with samples as rows, stands in
    import numpy as np
    from sklearn.datasets import load_digits

    import npdeep

    assert len(MEMORY_MAPPED) == 1
    X, y = load_digits(return_X_y=True)
    np.save(tmp_path / "train_X.npy", (X / 16.0).astype(np.float32))
    monkeypatch.chdir(tmp_path)
    net = npdeep.Network([64, 32, 10], seed=0)
    namespace = {"__name__": "readme_example", "np": np, "npdeep": npdeep, "net": net, "y": y}
    exec(compile(MEMORY_MAPPED[0], "README memory-mapped block", "exec"), namespace)
    assert isinstance(namespace["X"], np.memmap) or isinstance(namespace["X"].base, np.memmap)
    assert namespace["X"].shape == (64, len(y))
    assert len(net.history.cost) == 5 and net.history.cost[-1] < net.history.cost[0]
