"""npdeep.distributed.connect when no scheduler answers: an error, and nothing left running.

Needs no cluster (nothing listens on the address), so it runs apart from test_distributed.py's
module-wide cluster; skipped without dask[distributed].
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

pytest.importorskip("distributed", reason="npdeep.distributed needs dask[distributed]")

from npdeep.distributed import connect  # noqa: E402


def _unused_port() -> int:
    with socket.socket() as s:  # bound, then closed: nothing listens on it afterwards
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _threads_left(before: set[int], deadline: float = 5.0) -> list[str]:
    """Names of threads started since ``before`` still alive after up to ``deadline`` s."""
    stop = time.monotonic() + deadline
    while True:
        new = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not new or time.monotonic() > stop:
            return new
        time.sleep(0.05)


def test_a_failed_connect_raises_and_leaves_no_thread_running():
    address = f"tcp://127.0.0.1:{_unused_port()}"
    with pytest.raises(OSError, match="Timed out trying to connect"):
        connect(address, timeout=0.5)  # first call: Dask's lasting pools, if any, start here
    before = {t.ident for t in threading.enumerate()}
    for _ in range(2):
        with pytest.raises(OSError, match=f"{address}"):
            connect(address, timeout=0.5)
    assert _threads_left(before) == []


def test_a_failed_connect_leaves_no_default_client():
    from distributed import get_client

    with pytest.raises(OSError):
        connect(f"tcp://127.0.0.1:{_unused_port()}", timeout=0.5)
    with pytest.raises(ValueError, match="No global client"):
        get_client()
