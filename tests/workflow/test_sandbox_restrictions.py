"""Every call the sandbox lists is refused inside workflow code, naming its deterministic
replacement; deterministic forms of the same calls, opted-out workflows and pass-through
modules keep working."""

from __future__ import annotations

import asyncio
import datetime
import gc
import os
import random
import secrets
import socket
import subprocess
import sys
import textwrap
import time
import types
import uuid
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from aioswf import Client, NondeterminismError, workflow
from aioswf import _sandbox as sandbox
from aioswf._definitions import workflow_definition
from aioswf._pollers.decision import DecisionPoller, DecisionWorkerOptions
from tests.workflow.histories import Simulation, kinds, retried

NOW, RANDOM, UUID, ACTIVITY = "workflow.now()", "workflow.random()", "workflow.uuid4()", "activity"

DATA = Path(__file__).parent / "conftest.py"
REFUSED: dict[str, tuple[Callable[[], Any], str]] = {
    "random.random()": (lambda: random.random(), RANDOM),
    "random.randint()": (lambda: random.randint(1, 6), RANDOM),
    "random.choice()": (lambda: random.choice("abc"), RANDOM),
    "random.Random()": (lambda: random.Random(), RANDOM),
    "random.SystemRandom()": (lambda: random.SystemRandom().random(), RANDOM),
    "uuid.uuid4()": (lambda: uuid.uuid4(), UUID),
    "uuid.uuid1()": (lambda: uuid.uuid1(), UUID),
    "os.urandom()": (lambda: os.urandom(4), RANDOM),
    "secrets.token_hex()": (lambda: secrets.token_hex(4), RANDOM),
    "secrets.choice()": (lambda: secrets.choice("abc"), RANDOM),
    "datetime.utcnow()": (lambda: datetime.datetime.utcnow(), NOW),
    "datetime.now()": (lambda: datetime.datetime.now(datetime.UTC), NOW),
    "date.today()": (lambda: datetime.date.today(), NOW),
    "time.localtime()": (lambda: time.localtime(), NOW),
    "time.gmtime()": (lambda: time.gmtime(), NOW),
    "time.ctime()": (lambda: time.ctime(), NOW),
    "time.strftime()": (lambda: time.strftime("%Y"), NOW),
    "time.process_time()": (lambda: time.process_time(), NOW),
    "open()": (lambda: open(__file__).close(), ACTIVITY),
    "Path.read_text()": (lambda: Path(__file__).read_text(), ACTIVITY),
    "os.listdir()": (lambda: os.listdir("."), ACTIVITY),
    "os.environ[]": (lambda: os.environ["PATH"], ACTIVITY),
    "os.getenv()": (lambda: os.getenv("PATH"), ACTIVITY),
    "os.environ.get()": (lambda: os.environ.get("PATH"), ACTIVITY),
    "subprocess": (lambda: subprocess.run(["true"], check=False), ACTIVITY),
    "time.clock_gettime()": (lambda: time.clock_gettime(time.CLOCK_REALTIME), NOW),
    "time.clock_gettime_ns()": (lambda: time.clock_gettime_ns(time.CLOCK_MONOTONIC), NOW),
    "os.path.exists()": (lambda: os.path.exists(__file__), ACTIVITY),
    "os.path.getmtime()": (lambda: os.path.getmtime(__file__), ACTIVITY),
    "os.path.islink()": (lambda: os.path.islink(__file__), ACTIVITY),
    "Path.is_file()": (lambda: Path(__file__).is_file(), ACTIVITY),
    "os.stat()": (lambda: os.stat(__file__), ACTIVITY),
    "os.access()": (lambda: os.access(__file__, os.R_OK), ACTIVITY),
    "os.getcwd()": (lambda: os.getcwd(), ACTIVITY),
    "socket.gethostname()": (lambda: socket.gethostname(), ACTIVITY),
}

ALLOWED: dict[str, Callable[[], Any]] = {
    "random.Random(seed)": lambda: random.Random(42).random(),
    "time.localtime(t)": lambda: time.localtime(0),
    "time.strftime(fmt, t)": lambda: time.strftime("%Y", time.gmtime(0)),
    "time.ctime(t)": lambda: time.ctime(0),
    "datetime.fromtimestamp(t)": lambda: datetime.datetime.fromtimestamp(0, datetime.UTC),
    "uuid.uuid5()": lambda: uuid.uuid5(uuid.NAMESPACE_DNS, "example.com"),
    "workflow.random()": lambda: workflow.random().random(),
    "workflow.uuid4()": lambda: workflow.uuid4(),
    "workflow.now()": lambda: workflow.now(),
    "side_effect(secrets)": lambda: workflow.side_effect(lambda: secrets.token_hex(4)),
    # Time zones are data shipped with the code, read once per process and cached: the same
    # answer on every replay, whichever run loads the zone first.
    "ZoneInfo()": lambda: workflow.now().astimezone(zoneinfo.ZoneInfo(_unloaded_zone())),
}


def _unloaded_zone() -> str:
    """A time zone no code of this process has loaded yet, so that its file is read now."""
    loaded = {zone.key for zone in gc.get_objects() if isinstance(zone, zoneinfo.ZoneInfo)}
    return next(key for key in sorted(zoneinfo.available_timezones()) if key not in loaded)


@workflow.defn
class Calls:
    @workflow.run
    async def run(self, name: str) -> str:
        call = REFUSED[name][0] if name in REFUSED else ALLOWED[name]
        call()
        return "did it"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_listed_call_is_refused_naming_its_replacement(name: str) -> None:
    sim = Simulation(Calls, name)
    assert retried(sim.decide())
    error = sim.activations[-1].failure
    assert isinstance(error, NondeterminismError), error
    assert "cannot be used inside a workflow" in str(error)
    assert REFUSED[name][1] in str(error)
    sim.close()


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_their_deterministic_forms_work(name: str) -> None:
    sim = Simulation(Calls, name)
    assert kinds(sim.decide())[-1:] == ["CompleteWorkflowExecution"]  # after a side effect's
    sim.close()


def test_outside_workflows_nothing_changes() -> None:
    Simulation(Calls, "workflow.now()").decide()  # the guards are installed by now
    assert 0 <= random.random() < 1
    assert uuid.uuid4().version == 4
    assert datetime.datetime.now(datetime.UTC).year >= 2024
    assert isinstance(os.environ.get("PATH"), str)
    assert time.localtime().tm_year >= 2024
    assert len(os.urandom(3)) == 3


SHARED_LOCK = asyncio.Lock()
SHARED_EVENT = asyncio.Event()


@workflow.defn
class UsesModuleLevelLock:
    @workflow.run
    async def run(self, what: str) -> str:
        if what == "lock":
            await asyncio.gather(self.hold(), self.hold())  # the second one waits
            return "locked"
        if what == "uncontended lock":
            async with SHARED_LOCK:  # never waits, yet held across runs
                await asyncio.sleep(0)
            return "locked"
        if what == "set event":
            SHARED_EVENT.set()
            return "set"
        await SHARED_EVENT.wait()
        return "waited"

    async def hold(self) -> None:
        async with SHARED_LOCK:
            await asyncio.sleep(0)


@pytest.mark.parametrize("what", ["lock", "event", "uncontended lock", "set event"])
def test_a_module_level_asyncio_primitive_gives_a_clear_error(what: str) -> None:
    for _ in range(2):  # the same on every run, not only after the first one bound it
        sim = Simulation(UsesModuleLevelLock, what)
        assert retried(sim.decide())
        error = sim.activations[-1].failure
        assert isinstance(error, NondeterminismError)
        kind = "Lock" if "lock" in what else "Event"
        assert f"asyncio.{kind} made outside this run" in str(error)
        assert "__init__" in str(error)
        sim.close()


@workflow.defn
class OwnLock:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.queue: asyncio.Queue[int] = asyncio.Queue()

    @workflow.run
    async def run(self) -> int:
        async with self.lock:
            await self.queue.put(1)
            await asyncio.sleep(0)
        return await self.queue.get()


def test_primitives_made_by_the_run_work_across_replays() -> None:
    sim = Simulation(OwnLock, cache=False)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    assert sim.replay().failure is None


@workflow.defn(sandboxed=False)
class Unsandboxed:
    @workflow.run
    async def run(self) -> float:
        return random.random() + time.time() * 0


def test_a_workflow_can_opt_out() -> None:
    sim = Simulation(Unsandboxed)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()


clock_reader = types.ModuleType("clock_reader_for_tests")
exec("import time\ndef read():\n    return time.time()\n", clock_reader.__dict__)
sys.modules[clock_reader.__name__] = clock_reader


@workflow.defn
class ReadsThroughALibrary:
    @workflow.run
    async def run(self) -> str:
        clock_reader.read()
        return "read"


def test_a_pass_through_module_is_let_through() -> None:
    sim = Simulation(ReadsThroughALibrary)
    assert retried(sim.decide())
    sim.close()
    DecisionPoller(
        cast(Client, None),
        "t",
        [workflow_definition(ReadsThroughALibrary)],
        DecisionWorkerOptions(sandbox_pass_through=(clock_reader.__name__,)),
    )
    assert sandbox.is_pass_through(clock_reader.__name__)
    sim = Simulation(ReadsThroughALibrary)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()


BOUND_EARLY = textwrap.dedent(
    """
    from time import time as early_time  # bound before aioswf is even imported
    from random import random as early_random
    from uuid import uuid4 as early_uuid

    import sys

    from aioswf import workflow
    from tests.workflow.histories import Simulation

    @workflow.defn
    class Early:
        @workflow.run
        async def run(self, which: str) -> str:
            {"time": early_time, "random": early_random, "uuid": early_uuid}[which]()
            return "bypassed"

    for which in ("time", "random", "uuid"):
        sim = Simulation(Early, which)
        sim.decide()
        print(which, type(sim.activations[-1].failure).__name__)
        sim.close()
    """
)


def test_names_bound_before_the_guards_cannot_bypass_them(tmp_path: Path) -> None:
    script = tmp_path / "bound_early.py"
    script.write_text(BOUND_EARLY)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == [
        "time NondeterminismError",
        "random NondeterminismError",
        "uuid NondeterminismError",
    ]
