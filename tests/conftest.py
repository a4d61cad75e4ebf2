import os

import numpy as np
import pytest
from hypothesis import settings

# The property tests draw the same examples on every run, so that CI never turns red on an
# input met by chance. NPDEEP_HYPOTHESIS=explore draws fresh ones, NPDEEP_HYPOTHESIS_SCALE=10
# ten times as many (how the overflow of a learning rate near 1e154 was found).
settings.register_profile("fixed", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if os.environ.get("NPDEEP_HYPOTHESIS") == "explore" else "fixed")
EXAMPLES_SCALE = max(1, int(os.environ.get("NPDEEP_HYPOTHESIS_SCALE", "1")))


@pytest.fixture
def rng():
    """A seeded generator: every test draws from it, never from global state."""
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def _registries():
    """What a test (or a README example) registers with npdeep.register is gone after it."""
    from npdeep import activations, losses, optimizers, schedules

    saved = [(m._REGISTRY, dict(m._REGISTRY)) for m in (activations, losses, optimizers,
                                                          schedules)]
    yield
    for registry, before in saved:
        registry.clear()
        registry.update(before)


@pytest.fixture
def closes_its_event_loops():
    """Fail the test if it leaves an asyncio event loop open that it made.

    Python warns ``ResourceWarning: unclosed event loop`` for such a loop when it is collected,
    often at interpreter exit, long after the test that made it (IPython's shell makes one for
    ``%matplotlib``). Loops running in threads (a Dask cluster's) are left out.
    """
    import asyncio
    import gc

    def idle_open_loops():
        return {id(o): o for o in gc.get_objects()
                if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()
                and not o.is_running()}

    before = idle_open_loops()
    yield
    left = [loop for key, loop in idle_open_loops().items() if key not in before]
    assert not left, f"the test left {len(left)} event loop(s) open: {left}"
