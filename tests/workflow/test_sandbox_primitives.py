"""Asyncio primitives shared between runs are refused; the host's own pay nothing."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from aioswf import NondeterminismError, workflow
from aioswf import _sandbox as sandbox
from tests.workflow.histories import Simulation, kinds, retried


def made_by_the_host() -> list[Any]:
    return [
        asyncio.Lock(),
        asyncio.Event(),
        asyncio.Condition(),
        asyncio.Semaphore(),
        asyncio.BoundedSemaphore(),
        asyncio.Queue(),
        asyncio.LifoQueue(),
        asyncio.Barrier(2),
    ]


def test_the_hosts_own_primitives_are_plain_asyncio_objects() -> None:
    sandbox.install()
    for primitive in made_by_the_host():
        assert type(primitive).__module__.startswith("asyncio")
        assert "_aioswf_public" not in vars(type(primitive))
    # Their methods are asyncio's own: no check runs when the host takes a lock.
    for cls, name in (
        (asyncio.Lock, "acquire"),
        (asyncio.Lock, "release"),
        (asyncio.Event, "set"),
        (asyncio.Queue, "put_nowait"),
    ):
        assert inspect.getsourcefile(getattr(cls, name)).endswith(  # type: ignore[union-attr]
            os.path.join("asyncio", "locks.py" if cls is not asyncio.Queue else "queues.py")
        )


async def test_a_module_level_primitive_still_works_for_the_host() -> None:
    assert "_aioswf_public" in vars(type(MODULE_SEMAPHORE))  # checked: it can be shared
    assert isinstance(MODULE_SEMAPHORE, asyncio.BoundedSemaphore)
    assert repr(MODULE_SEMAPHORE).startswith("<asyncio.locks.BoundedSemaphore object")
    async with MODULE_SEMAPHORE:
        pass
    with pytest.raises(ValueError, match="released too many times"):
        MODULE_SEMAPHORE.release()
    MODULE_QUEUE.put_nowait(1)
    assert MODULE_QUEUE.get_nowait() == 1


MODULE_SEMAPHORE = asyncio.BoundedSemaphore()
MODULE_QUEUE: asyncio.Queue[int] = asyncio.LifoQueue()
HANDED_OVER: dict[str, asyncio.Lock] = {}
"""A lock one run made, handed by the test to the next run (only the host changes it)."""


@workflow.defn
class SharesPrimitives:
    CLASS_LOCK = asyncio.Lock()

    @workflow.run
    async def run(self, what: str) -> str:
        if what == "class lock":
            async with self.CLASS_LOCK:  # uncontended: it never waits
                pass
        elif what == "semaphore":
            async with MODULE_SEMAPHORE:
                pass
        elif what == "queue":
            MODULE_QUEUE.put_nowait(1)
        elif what == "another run's lock":
            self.lock = HANDED_OVER.get("lock") or asyncio.Lock()  # the first run makes it
            async with self.lock:
                pass
        return what


@pytest.mark.parametrize("what", ["class lock", "semaphore", "queue"])
def test_a_primitive_made_to_last_is_refused_at_its_first_use(what: str) -> None:
    sim = Simulation(SharesPrimitives, what)
    assert retried(sim.decide())
    error = sim.activations[-1].failure
    assert isinstance(error, NondeterminismError)
    kind = {"class lock": "Lock", "semaphore": "BoundedSemaphore", "queue": "LifoQueue"}[what]
    assert f"asyncio.{kind} made outside this run" in str(error)
    sim.close()


def test_a_primitive_made_by_one_run_is_refused_in_another() -> None:
    HANDED_OVER.clear()
    first = Simulation(SharesPrimitives, "another run's lock")
    assert kinds(first.decide()) == ["CompleteWorkflowExecution"]  # its own lock
    assert first.instance is not None
    HANDED_OVER["lock"] = first.instance.starting.obj.lock
    second = Simulation(SharesPrimitives, "another run's lock")
    assert retried(second.decide())
    assert "asyncio.Lock made outside this run" in str(second.activations[-1].failure)
    first.close()
    second.close()
    HANDED_OVER.clear()


MADE_EARLY = textwrap.dedent(
    """
    import asyncio

    LOCK = asyncio.Lock()  # made before aioswf is even imported

    from aioswf import workflow
    from tests.workflow.histories import Simulation

    @workflow.defn
    class Early:
        @workflow.run
        async def run(self) -> str:
            async with LOCK:  # uncontended: it never waits
                pass
            return "shared"

    sim = Simulation(Early)
    sim.decide()
    print(type(sim.activations[-1].failure).__name__)
    sim.close()
    """
)


def test_a_primitive_made_before_the_sandbox_is_refused_too(tmp_path: Path) -> None:
    script = tmp_path / "made_early.py"
    script.write_text(MADE_EARLY)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "NondeterminismError"
