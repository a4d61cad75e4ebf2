"""Start a local Dask cluster safely, or connect to a running scheduler.

:func:`local_cluster` binds every server to 127.0.0.1 (scheduler, workers, nannies, dashboard),
runs one process per worker, and undoes Dask's ``MALLOC_TRIM_THRESHOLD_`` setting, which makes
small-batch NumPy training 2-2.7x slower inside workers. :func:`check_loopback` and
:func:`listening_sockets` say what a cluster listens on.
"""

from __future__ import annotations

import ipaddress
import logging
import numbers
import os
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster
from distributed.comm import get_address_host

from .._notes import add_note
from ..errors import ConfigurationError

__all__ = ["local_cluster", "connect", "check_loopback", "listening_sockets", "ALLOCATOR_CONFIG",
           "check_client", "scheduler_identity"]

#: Dask config that stops the nanny from exporting ``MALLOC_TRIM_THRESHOLD_`` to its worker.
ALLOCATOR_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}

_LOOPBACK = "127.0.0.1"
_FIXED = ("host", "ip", "interface", "processes", "dashboard_address", "worker_dashboard_address",
          "protocol")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _usable_cores() -> int:
    """Cores this process may use (affinity and cgroup quota, as Dask counts them)."""
    return dask.system.CPU_COUNT


@contextmanager
def local_cluster(
    n_workers: int = 2,
    threads_per_worker: int = 1,
    *,
    dashboard: bool = True,
    silence_logs: int = logging.WARNING,
    **cluster_kwargs,
) -> Iterator[Client]:
    """Start a local cluster on 127.0.0.1 and yield a connected :class:`distributed.Client`.

    Every server binds the loopback interface: the scheduler, each worker (and its HTTP server)
    and its nanny, and the dashboard (on a free port, ``dashboard_address="127.0.0.1:0"``, or
    none with ``dashboard=False``). Workers are separate processes (``processes=True``) whose
    BLAS pools Dask limits to one thread each. The nanny's ``MALLOC_TRIM_THRESHOLD_`` is unset
    for the cluster's whole life (restarted workers included). On exit the client and cluster
    close.
    More worker threads than usable cores (``dask.system.CPU_COUNT``) warn: they would only
    take turns. Each worker's memory limit is Dask's default, the machine's memory divided
    among the workers, unless ``memory_limit=`` says otherwise.

    In a script, call it under ``if __name__ == "__main__":``: workers are spawned processes
    that import the main module.

    Parameters
    ----------
    n_workers : int
        Worker processes.
    threads_per_worker : int
        Threads of each worker.
    dashboard : bool
        Serve the dashboard on a free loopback port (``client.dashboard_link``).
    silence_logs : int
        Logging level of the cluster's servers.
    **cluster_kwargs
        Passed to :class:`distributed.LocalCluster` (``memory_limit``, ...). The binding options
        (host, ip, interface, processes, dashboard_address, worker_dashboard_address,
        protocol) are fixed and refused.

    Yields
    ------
    distributed.Client

    Examples
    --------
    Needs a cluster, so not run as a doctest::

        from npdeep.distributed import local_cluster
        with local_cluster(n_workers=2) as client:
            print(client.scheduler.address)
        # tcp://127.0.0.1:...
    """
    for name, value in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
        # numbers.Integral: NumPy integers (from np.arange, a parameter grid) are integers too
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    n_workers, threads_per_worker = int(n_workers), int(threads_per_worker)
    fixed = sorted(set(cluster_kwargs) & set(_FIXED))
    if fixed:
        raise ConfigurationError(
            f"local_cluster binds 127.0.0.1 with worker processes; it does not accept "
            f"{', '.join(fixed)} (got {', '.join(f'{k}={cluster_kwargs[k]!r}' for k in fixed)}); "
            "start a LocalCluster yourself for other bindings"
        )
    cores = _usable_cores()
    if n_workers * threads_per_worker > cores:
        warnings.warn(
            f"local_cluster(n_workers={n_workers}, threads_per_worker={threads_per_worker}) "
            f"runs {n_workers * threads_per_worker} worker threads on {cores} usable core(s): "
            "they take turns on the cores, so each task runs slower; keep n_workers * "
            f"threads_per_worker <= {cores}",
            RuntimeWarning,
            stacklevel=3,
        )
    with dask.config.set(ALLOCATOR_CONFIG):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            host=_LOOPBACK,
            dashboard_address=f"{_LOOPBACK}:0" if dashboard else None,
            # each worker's HTTP server (health, metrics): distributed 2024.1 bound it to every
            # interface when given no address
            worker_dashboard_address=f"{_LOOPBACK}:0",
            silence_logs=silence_logs,
            **cluster_kwargs,
        )
        try:
            client = Client(cluster)
            try:
                check_loopback(client)
                yield client
            finally:
                client.close()
        finally:
            cluster.close()


def connect(address: str, *, timeout: float = 30.0, check_allocator: bool = True) -> Client:
    """Connect to a running scheduler and return a :class:`distributed.Client`.

    Parameters
    ----------
    address : str
        The scheduler's address, ``"tcp://host:8786"`` (as printed by ``dask scheduler``).
    timeout : float
        Seconds to wait for the connection.
    check_allocator : bool
        Warn (``RuntimeWarning``) when workers run with ``MALLOC_TRIM_THRESHOLD_`` set, which
        slows small-batch NumPy training; ``docs/DISTRIBUTED.md`` says how to unset it.

    Returns
    -------
    distributed.Client
        Use it as a context manager, or call ``close()``.

    Raises
    ------
    ConfigurationError
        An address that is not a scheduler's, before any client is made: an unknown scheme
        (Dask's are tcp, tls, ucx, ws, wss and inproc; not http), or no port (the
        scheduler's is usually 8786; 8787 is the dashboard's).
    OSError
        No scheduler answered at ``address`` within ``timeout`` (Dask's message; at port
        8787, with a note that it is the dashboard's). Nothing is left running: the client's
        event-loop thread is stopped.
    """
    if not isinstance(address, str) or "://" not in address and ":" not in address:
        raise ConfigurationError(
            f"address must be a scheduler address such as 'tcp://10.0.0.5:8786', got {address!r}"
        )
    _check_address(address)
    if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool) or not timeout > 0:
        # Dask: "could not convert string to float: '1-1'" for -1, a KeyError for "x"
        raise ConfigurationError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    try:
        client = Client(address, timeout=timeout)
    except BaseException as exc:
        _stop_failed_client(exc)
        if isinstance(exc, OSError) and address.rstrip("/").endswith(":8787"):
            add_note(exc, f"connect: {_PORT_HINT}")
        raise
    if check_allocator:
        try:
            found = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        except BaseException:
            client.close()  # connected, then failed: close it rather than return or leak it
            raise
        slowed = sorted(w for w, v in found.items() if v is not None)
        if slowed:
            warnings.warn(
                f"{len(slowed)} worker(s) run with MALLOC_TRIM_THRESHOLD_ set "
                f"({found[slowed[0]]}), which can make small-batch NumPy training 2-3x slower; "
                "start them with distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_ "
                "set to null (see docs/DISTRIBUTED.md)",
                RuntimeWarning,
                stacklevel=2,
            )
    return client


#: The schemes of Dask's comms (``distributed.comm.registry``) a scheduler can listen on.
_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
_PORT_HINT = "the scheduler's port is usually 8786; 8787 is the dashboard"


def _check_address(address: str) -> None:
    """Refuse an address Dask would fail on after starting a client: an unknown scheme (Dask:
    "unknown address scheme"), a missing or invalid port (Dask: "missing port number", then
    "IOLoop is closed" from the half-made client)."""
    scheme, _, rest = address.rpartition("://")
    scheme = scheme or "tcp"  # Dask's default for 'host:port'
    if scheme.lower() not in _SCHEMES:
        raise ConfigurationError(
            f"address {address!r} has the scheme {scheme!r}, which is not a Dask scheduler's: "
            f"use one of {', '.join(_SCHEMES)}, as 'tcp://10.0.0.5:8786' ({_PORT_HINT}, "
            "served over http)")
    if scheme.lower() == "inproc":
        return
    host, colon, port = rest.rpartition(":")
    if not colon or not host or host.startswith("[") and not host.endswith("]") or not port:
        raise ConfigurationError(
            f"address {address!r} has no port: give it as '{scheme}://host:port', as "
            f"'{scheme}://{rest.rstrip(':') or '10.0.0.5'}:8786' ({_PORT_HINT})")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(
            f"address {address!r} has the port {port!r}, not a number from 1 to 65535 "
            f"({_PORT_HINT})")


def _stop_failed_client(exc: BaseException) -> None:
    """Stop the event-loop thread of a Client whose constructor raised ``exc``.

    ``Client.__init__`` starts an "IO loop" thread before it connects; when the connection
    fails (nothing listens, timeout) the half-made client is never returned, its status is
    already ``"closed"`` so ``close()`` does nothing, and the thread would run until the
    process exits. The client is found in the traceback's frames.
    """
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        client = frame.f_locals.get("self")
        if isinstance(client, Client):
            runner = getattr(client, "_loop_runner", None)
            if runner is not None:
                runner.stop()
            return


def check_client(client, who: str, *, default: bool = True) -> Client:
    """Return a running client for ``who`` (a function name), or raise naming the problem.

    ``client=None`` means the current client when ``default`` is true. A closed client, no
    client at all, or something that is not a client raise :class:`ConfigurationError` here,
    before anything is sent, instead of an error from deep inside Dask (``IOLoop is closed``,
    ``'NoneType' object has no attribute 'ncores'``).
    """
    if client is None and default:
        from distributed import get_client

        try:
            client = get_client()
        except ValueError as exc:
            raise ConfigurationError(
                f"{who} needs a Dask client and none is running: pass client=, or call it "
                "inside `with local_cluster() as client:` or after connect(address)"
            ) from exc
    if not (hasattr(client, "scheduler_info") and hasattr(client, "submit")):
        raise ConfigurationError(
            f"client must be a dask.distributed Client (npdeep.distributed.connect or "
            f"local_cluster), got {client!r}"
        )
    status = getattr(client, "status", None)
    if status in ("closing", "closed"):
        raise ConfigurationError(
            f"{who} got a closed Dask client (status {status!r}); call it inside the "
            "`with local_cluster() as client:` block, or connect(address) again"
        )
    return client


def scheduler_identity(client: Client) -> dict:
    """Return the scheduler's identity (``"address"``, ``"services"``, ``"workers"``), fetched now.

    Not ``client.scheduler_info()``: that returns the client's cached copy, which the client's
    own periodic refresh (every ``distributed.client.scheduler-info-interval``) replaces, in
    recent Dask, with one whose ``"workers"`` is empty; read at that moment it says a running
    cluster has no workers (a ``ZeroDivisionError`` in data-parallel training, a few calls in
    ten thousand).
    """
    import inspect

    from distributed import Scheduler

    every = "n_workers" in inspect.signature(Scheduler.identity).parameters
    return client.sync(client.scheduler.identity, **({"n_workers": -1} if every else {}))


def _declared_addresses(client: Client) -> dict[str, str]:
    """Return ``{role: address}`` of the scheduler, workers, nannies and dashboard."""
    info = scheduler_identity(client)
    found = {"scheduler": info["address"]}
    for address, worker in info["workers"].items():
        found[f"worker {address}"] = address
        if worker.get("nanny"):
            found[f"nanny of {address}"] = worker["nanny"]
    link = client.dashboard_link if info.get("services", {}).get("dashboard") else None
    if link:
        found["dashboard"] = link.split("://", 1)[-1].split("/", 1)[0]
    return found


def check_loopback(client: Client) -> dict[str, str]:
    """Check that the scheduler, workers, nannies and dashboard bind loopback addresses.

    Returns
    -------
    dict
        ``{role: address}`` of every server checked.

    Raises
    ------
    ConfigurationError
        Naming each server that listens on a non-loopback address.
    """
    found = _declared_addresses(client)
    outside = {}
    for role, address in found.items():
        host = address.rsplit(":", 1)[0] if "://" not in address else get_address_host(address)
        if not _is_loopback(host):
            outside[role] = address
    if outside:
        raise ConfigurationError(
            "the cluster listens outside the loopback interface: "
            + ", ".join(f"{role} at {addr}" for role, addr in outside.items())
            + "; expected 127.0.0.1 only"
        )
    return found


def listening_sockets(client: Client) -> list[tuple[int, str, int]]:
    """Return ``(pid, ip, port)`` of every listening TCP socket of this process and its workers.

    Reads the operating system's socket table (psutil), so it sees servers a config would not
    declare. Meaningful for a local cluster only: remote workers' processes are not visible.
    """
    import psutil

    pids = {os.getpid(), *client.run(os.getpid).values()}
    return sorted(
        (c.pid, c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    )
