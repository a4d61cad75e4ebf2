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


def test_a_failed_connect_raises_and_leaves_no_thread_running(closes_its_event_loops):
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


@pytest.mark.parametrize("address, match", [
    ("tcp://127.0.0.1", r"address 'tcp://127.0.0.1' has no port: give it as 'tcp://host:port', "
                        r"as 'tcp://127.0.0.1:8786' \(the scheduler's port is usually 8786; "
                        r"8787 is the dashboard\)"),
    ("127.0.0.1:", r"address '127.0.0.1:' has no port"),
    ("tls://[::1]", r"address 'tls://\[::1\]' has no port"),
    ("http://127.0.0.1:8787", r"address 'http://127.0.0.1:8787' has the scheme 'http', which is "
                              r"not a Dask scheduler's: use one of tcp, tls, ucx, ws, wss, "
                              r"inproc, as 'tcp://10.0.0.5:8786' \(the scheduler's port is "
                              r"usually 8786; 8787 is the dashboard"),
    ("tcp://127.0.0.1:87x6", r"has the port '87x6', not a number from 1 to 65535"),
    ("tcp://127.0.0.1:70000", r"has the port '70000', not a number from 1 to 65535"),
])
def test_connect_names_a_mistyped_address_before_making_a_client(address, match, monkeypatch):
    # before: Dask's raw ValueError ("missing port number", "unknown address scheme"), then
    # "Exception ignored in Client.__del__ ... IOLoop is closed" from the half-made client
    import npdeep.distributed.cluster as cluster
    from npdeep import ConfigurationError

    def no_client(*args, **kwargs):  # pragma: no cover - reached only if the check is missing
        raise AssertionError("a Client was made")

    monkeypatch.setattr(cluster, "Client", no_client)
    with pytest.raises(ConfigurationError, match=match):
        connect(address, timeout=0.5)


def test_a_failed_connect_to_port_8787_says_it_is_the_dashboard(monkeypatch):
    import npdeep.distributed.cluster as cluster

    class Refused(cluster.Client):  # a Client class still: connect's clean-up looks for one
        def __init__(self, *args, **kwargs):
            raise OSError("Timed out trying to connect to tcp://127.0.0.1:8787 after 0.5 s")

    monkeypatch.setattr(cluster, "Client", Refused)
    with pytest.raises(OSError, match="Timed out") as info:
        connect("tcp://127.0.0.1:8787", timeout=0.5)
    assert info.value.__notes__ == [
        "connect: the scheduler's port is usually 8786; 8787 is the dashboard"]
