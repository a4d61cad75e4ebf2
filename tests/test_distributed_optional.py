"""Dask stays optional: the core and the estimators import without it, and
``npdeep.distributed`` says how to install it. Runs with or without Dask installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK_DASK = textwrap.dedent("""
    import sys

    class BlockDask:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("dask", "distributed"):
                raise ImportError(f"No module named {name!r} (blocked by the test)")
            return None

    sys.meta_path.insert(0, BlockDask())
""")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_DASK + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_core_and_estimators_import_without_dask():
    proc = _run("""
        import numpy as np
        import npdeep
        import npdeep.sklearn
        net = npdeep.Network([2, 3, 1], seed=0)
        net.fit(np.ones((2, 4)), np.ones((1, 4)), epochs=2)
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_distributed_without_dask_names_the_extra():
    proc = _run("""
        try:
            import npdeep.distributed
        except ImportError as exc:
            print(exc)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'npdeep[dask]'" in proc.stdout
