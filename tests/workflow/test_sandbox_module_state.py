"""Module state that workflow code changes is refused with a clear error, every time, and
never leads a run on; ordinary libraries and read-only module constants keep working."""

from __future__ import annotations

import array
import asyncio
import dataclasses
import enum
import functools
import itertools
import logging
import re
import subprocess
import sys
import textwrap
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from aioswf import Client, NondeterminismError, WorkflowOptions, workflow
from aioswf._decider import InstanceOptions
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf._sandbox.module_state import state_watch
from aioswf.worker import Worker
from tests.workflow import module_state_app as app
from tests.workflow import service_state_app
from tests.workflow.histories import Simulation, kinds, retried

COUNTER = 0
SEEN: list[str] = []
TOTALS: dict[str, int] = {"orders": 0}
NAMES: set[str] = set()
RECENT: deque[str] = deque(maxlen=3)
BIG: list[int] = list(range(500))
BUFFER = bytearray(4)
SAMPLES = array.array("d", [0.0] * 4)
LONG_SAMPLES = array.array("i", range(500))
IDS = itertools.count(1)
TICKS = itertools.repeat("tick", 1_000_000)
QUEUE = iter([f"job-{n}" for n in range(1000)])
REGISTRY: dict[str, list[str]] = {"k": []}
ROWS: list[dict[str, int]] = [{"n": 0}]


def _numbers() -> Iterator[int]:
    n = 0
    while True:
        yield n
        n += 1


NUMBERS = _numbers()


def _delegating() -> Iterator[int]:
    yield from range(1_000_000)  # keeps its place and variables: only the range goes on


DELEGATED = _delegating()


class Ambiguous:
    """Like an array: comparing two of them gives no plain answer."""

    def __eq__(self, other: object) -> bool:
        raise ValueError("the truth value of a comparison is ambiguous")

    __hash__ = object.__hash__


WEIGHTS = {"w": Ambiguous()}


@workflow.defn
class Mutates:
    """Each ``how`` changes module state in one way."""

    runs = 0
    history: ClassVar[list[str]] = []  # a mutable class attribute: shared by every instance

    def __init__(self) -> None:
        self.local: list[str] = []

    @workflow.run
    async def run(self, how: str) -> str:
        global COUNTER
        await asyncio.sleep(0)
        if how == "global":
            COUNTER += 1
        elif how == "list":
            SEEN.append("x")
        elif how == "dict new key":
            TOTALS[workflow.info().run_id] = 1
        elif how == "dict value":
            TOTALS["orders"] += 1
        elif how == "set":
            NAMES.add(workflow.info().run_id)
        elif how == "deque":
            RECENT.append("y")
        elif how == "big list":
            BIG.append(1)
        elif how == "bytearray":
            BUFFER[0] = (BUFFER[0] + 1) % 256
        elif how == "array":
            SAMPLES[0] += 1.0
        elif how == "long array":
            LONG_SAMPLES.append(1)
        elif how == "itertools.count":
            next(IDS)
        elif how == "itertools.repeat":
            next(TICKS)
        elif how == "generator":
            next(NUMBERS)
        elif how == "generator delegating":
            DELEGATED.send(None)
        elif how == "list iterator":
            next(QUEUE)
        elif how == "list inside a dict":
            REGISTRY["k"].append("r")
        elif how == "dict inside a list":
            ROWS[0]["n"] += 1
        elif how == "object compared ambiguously":
            WEIGHTS["w"] = Ambiguous()
        elif how == "class attribute":
            type(self).runs += 1
        elif how == "mutable class attribute":
            self.history.append("z")
        elif how == "helper global":
            app.bump()
        elif how == "helper list":
            app.remember("w")
        elif how == "helper module attribute":
            app.calls = app.calls + 10
        elif how == "helper global assigned from outside":
            app.limit += 0 if app.over_limit(0) else 1
        elif how == "module-level object":
            app.tally.count += 1
        elif how == "module-level object's dict":
            app.tally.notes[workflow.info().run_id] = 1
        elif how == "bound method's object":
            app.track()
        elif how == "object without a dict":
            app.origin.x += 1
        elif how == "SimpleNamespace":
            app.settings.retries += 1
        elif how == "bound method's list":
            app.note("n")
        elif how == "partial's list":
            app.log_line("l")
        elif how == "closure rebound":
            app.next_count()
        elif how == "closure's list":
            app.collect("c")
        return how


KINDS = {
    "global": "the global COUNTER of module tests.workflow.test_sandbox_module_state was rebound",
    "list": "the global SEEN of module tests.workflow.test_sandbox_module_state (a list) went from",
    "dict new key": "the global TOTALS of module tests.workflow.test_sandbox_module_state (a dict)"
    " went from",
    "dict value": "the global TOTALS of module tests.workflow.test_sandbox_module_state (a dict)"
    " had its items changed",
    "set": "the global NAMES of module tests.workflow.test_sandbox_module_state (a set) went",
    "deque": "the global RECENT of module tests.workflow.test_sandbox_module_state (a deque)",
    "big list": "the global BIG of module tests.workflow.test_sandbox_module_state (a list) went",
    "bytearray": "the global BUFFER of module tests.workflow.test_sandbox_module_state (a "
    "bytearray) had its items changed",
    "array": "the global SAMPLES of module tests.workflow.test_sandbox_module_state (an array) had its items changed",
    "long array": "the global LONG_SAMPLES of module tests.workflow.test_sandbox_module_state (an array) went from",
    "itertools.count": "the global IDS of module tests.workflow.test_sandbox_module_state (an itertools.count) was advanced",
    "itertools.repeat": "the global TICKS of module tests.workflow.test_sandbox_module_state (an itertools.repeat) was advanced",
    "generator": "the global NUMBERS of module tests.workflow.test_sandbox_module_state (a generator) was advanced",
    "generator delegating": "the global DELEGATED of module tests.workflow.test_sandbox_module_state (a generator) was advanced",
    "list iterator": "the global QUEUE of module tests.workflow.test_sandbox_module_state (a list_iterator) was advanced",
    "list inside a dict": "the global REGISTRY of module tests.workflow.test_sandbox_module_state (a dict) had its items changed",
    "dict inside a list": "the global ROWS of module tests.workflow.test_sandbox_module_state (a list) had its items changed",
    "object compared ambiguously": "the global WEIGHTS of module "
    "tests.workflow.test_sandbox_module_state (a dict) had its items changed",
    "class attribute": "the attribute runs of class Mutates was rebound",
    "mutable class attribute": "the attribute history of class Mutates (a list) went from",
    "helper global": "the global calls of module tests.workflow.module_state_app was rebound",
    "helper list": "the global registry of module tests.workflow.module_state_app (a list)",
    "helper module attribute": "the global calls of module tests.workflow.module_state_app was"
    " rebound",
    "helper global assigned from outside": "the global limit of module "
    "tests.workflow.module_state_app was rebound",
    "module-level object": "the attribute count of Tally object was rebound",
    "module-level object's dict": "the attribute notes of Tally object (a dict) went from",
    "bound method's object": "the attribute total of Tracker object was rebound",
    "object without a dict": "the attribute x of Point object was rebound",
    "SimpleNamespace": "the attribute retries of SimpleNamespace object was rebound",
    "bound method's list": "the list that note (list.append) carries (a list) went from",
    "partial's list": "the list that log_line (partial) carries (a list) went from",
    "closure rebound": "the variable count that _counter.<locals>.next_count closes over was",
    "closure's list": "the variable seen that _collector.<locals>.collect closes over (a list)",
}


# Named first, or assigned, in the helper module.
HELPERS = (
    "helper global",
    "helper list",
    "helper module attribute",
    "closure rebound",
    "closure's list",
    "bound method's object",
)


@pytest.mark.parametrize("how", sorted(KINDS))
def test_each_kind_of_module_state_change_is_refused_with_a_clear_error(how: str) -> None:
    for cache in (True, False):  # every run, and every replay: never once let through
        sim = Simulation(Mutates, how, cache=cache)
        assert retried(sim.decide())
        error = sim.activations[-1].failure
        assert isinstance(error, NondeterminismError), error
        message = str(error)
        assert KINDS[how] in message
        assert "workflow Mutates/1" in message
        named_in = "module_state_app.py:" if how in HELPERS else "Mutates.run ("
        assert named_in in message.partition("(the code names it in ")[2]
        assert "keep the state on the workflow instance (self.…)" in message
        assert "sandbox_pass_through" in message
        assert "while a workflow step ran" in message
        sim.close()


def test_a_refused_step_decides_nothing_and_the_run_never_completes() -> None:
    sim = Simulation(Mutates, "list")
    for _ in range(3):
        decisions = sim.decide()
        assert retried(decisions)
        assert "CompleteWorkflowExecution" not in kinds(decisions)
    sim.close()


def test_with_the_execution_failed_on_nondeterminism_the_message_is_its_reason() -> None:
    sim = Simulation(Mutates, "global", options=InstanceOptions(fail_on_nondeterminism=True))
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert "COUNTER" in str(decisions[0])
    sim.close()


REGISTERED: list[str] = []


@workflow.defn
class RegistersItself:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(1)
        REGISTERED.append(workflow.info().workflow_id)
        return "registered"


@pytest.mark.parametrize("threads", [True, False], ids=["workflow threads", "host loop"])
async def test_over_the_wire_the_task_is_retried_visibly_and_the_execution_stays_open(
    client: Client, clock: Any, threads: bool
) -> None:
    options = DecisionWorkerOptions(workflow_threads=threads)
    async with Worker(
        client, task_list="state", workflows=[RegistersItself], decision_options=options
    ):
        handle = await client.start_workflow(
            RegistersItself.run,
            workflow_id=f"registers-{threads}",
            task_list="state",
            options=WorkflowOptions(task_start_to_close_timeout=timedelta(seconds=10)),
        )
        clock.advance(1)  # the timer fires: the step after it changes module state
        for _ in range(300):
            failure = (await handle.describe()).decision_failure
            if failure is not None:
                break
            clock.advance(0.2)
            await asyncio.sleep(0.05)
        assert failure is not None
        assert failure.error_type == "NondeterminismError"
        assert "the global REGISTERED of module tests.workflow.test_sandbox_module_state" in (
            failure.message
        )
        assert (await handle.describe()).info.status == "OPEN"
        await handle.terminate(reason="test over")


def test_state_on_the_instance_is_the_fix() -> None:
    @workflow.defn
    class KeepsItsOwn:
        def __init__(self) -> None:
            self.seen: list[str] = []
            self.count = 0

        @workflow.run
        async def run(self) -> int:
            for n in range(3):
                self.seen.append(str(n))
                self.count += 1
                await asyncio.sleep(0)
            return self.count

    sim = Simulation(KeepsItsOwn, cache=False)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    assert sim.replay().failure is None


INIT_LOG: list[str] = []


@workflow.defn
class MutatesInInit:
    def __init__(self) -> None:
        INIT_LOG.append("constructed")

    @workflow.run
    async def run(self) -> None:
        return None


def test_init_is_workflow_code_too() -> None:
    sim = Simulation(MutatesInInit)
    assert retried(sim.decide())
    assert "the global INIT_LOG" in str(sim.activations[-1].failure)
    sim.close()


@workflow.defn(sandboxed=False)
class OptedOut:
    @workflow.run
    async def run(self) -> int:
        SEEN.append("opted out")
        return len(SEEN)


def test_an_opted_out_workflow_is_not_watched() -> None:
    sim = Simulation(OptedOut)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()


# --- ordinary code ---------------------------------------------------------------------------

logger = logging.getLogger(__name__)
SKU = re.compile(r"^[a-z]+-\d+$")
PRICES = {f"sku-{n}": n * 10 for n in range(100)}  # read only: a lookup table
STEPS = ("pick", "pack", "ship")
_lazy: dict[str, str] | None = None


class Perm(enum.Flag):
    READ = 1
    WRITE = 2
    RUN = 4


class Status(enum.Enum):
    OPEN = "open"
    DONE = "done"


@dataclasses.dataclass
class Line:
    sku: str
    qty: int = 1


class Basket(BaseModel):
    lines: list[Item]  # defined below: the model is completed at its first use


class Item(BaseModel):
    sku: str
    qty: int


@functools.cache
def price(sku: str) -> int:
    return PRICES[sku]


def lazy_labels() -> dict[str, str]:
    global _lazy
    if _lazy is None:
        _lazy = {step: step.title() for step in STEPS}
    return _lazy


CATALOGUE: dict[str, Any] = {"a": [1.0, float("nan")], "b": {"x": Ambiguous()}}
WAVE = array.array("d", [float("nan"), 1.0])  # NaN: equal to nothing, not even itself


@workflow.defn
class Ordinary:
    @workflow.run
    async def run(self) -> list[Any]:
        logger.info("starting")
        workflow.logger.info("starting, said the workflow's logger")
        out: list[Any] = []
        for step in STEPS:
            await asyncio.sleep(0)
            out.append(lazy_labels()[step])
        out.append(bool(SKU.match("sku-1")))
        out.append(price("sku-7") + price("sku-7"))
        out.append((Perm.READ | Perm.WRITE).value)
        out.append(Perm(5).value)
        out.append(Status("done").name)
        out.append(Line("sku-2", 3).qty)
        basket = Basket.model_validate({"lines": [{"sku": "sku-3", "qty": 2}]})
        out.append(basket.model_dump())
        out.append(app.pattern().pattern)
        out.append(len(app.table()))
        out.append(json_round_trip(out[-1]))
        out.append(len(CATALOGUE["a"]) + WAVE[1] + len(CATALOGUE["b"]))
        return out


def json_round_trip(value: int) -> int:
    import json  # an import inside workflow code

    loaded: int = json.loads(json.dumps(value))
    return loaded


def test_ordinary_libraries_and_read_only_module_constants_work() -> None:
    sim = Simulation(Ordinary, cache=False)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"], sim.activations[-1].failure
    assert sim.replay().failure is None
    sim.close()


def test_only_the_application_s_modules_are_watched() -> None:
    watched = {spot.what.split(" (")[0] for spot in state_watch(Ordinary).spots}
    modules = {what.rpartition(" of module ")[2] for what in watched if "of module" in what}
    assert modules <= {
        "tests.workflow.test_sandbox_module_state",
        "tests.workflow.module_state_app",
    }
    assert "the global PRICES of module tests.workflow.test_sandbox_module_state" in watched
    assert "the global _pattern of module tests.workflow.module_state_app" in watched


SIDE_EFFECTS: list[int] = []


@workflow.defn
class RecordsASideEffect:
    @workflow.run
    async def run(self) -> int:
        # The function of a side effect runs once and is recorded: what it changes is its own.
        n: int = workflow.side_effect(lambda: SIDE_EFFECTS.append(1) or len(SIDE_EFFECTS))
        await asyncio.sleep(0)
        return n


def test_a_side_effect_may_change_module_state() -> None:
    sim = Simulation(RecordsASideEffect)
    assert kinds(sim.decide()) == ["RecordMarker", "CompleteWorkflowExecution"]
    sim.close()


@workflow.defn
class ChangesStateAroundASideEffect:
    @workflow.run
    async def run(self) -> int:
        SEEN.append("before")  # the workflow's own change, made before the side effect
        return int(workflow.side_effect(lambda: 1))


def test_a_change_before_a_side_effect_is_still_the_workflow_s() -> None:
    sim = Simulation(ChangesStateAroundASideEffect)
    assert retried(sim.decide())
    assert "the global SEEN" in str(sim.activations[-1].failure)
    sim.close()


ACTIVITY_LOG: list[str] = []


@workflow.defn
class CallsIntoAnActivity:
    @workflow.run
    async def run(self) -> int:
        return len(STEPS)


def test_activities_are_not_read_as_workflow_code() -> None:
    from aioswf import activity

    @activity.defn
    def logs(name: str) -> None:
        ACTIVITY_LOG.append(name)

    assert all("ACTIVITY_LOG" not in s.what for s in state_watch(CallsIntoAnActivity).spots)


INSTALLED = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, sys.argv[1])

    import lazylib  # an installed package that fills its caches when called
    import cachedlib  # an application module, passed through the sandbox
    from aioswf import workflow
    from aioswf._sandbox import pass_through
    from tests.workflow.histories import Simulation, kinds

    pass_through(["cachedlib"])

    @workflow.defn
    class UsesLibraries:
        @workflow.run
        async def run(self) -> list:
            out = []
            for n in range(3):
                await asyncio.sleep(0)
                out.append(lazylib.lookup(n))
                out.append(cachedlib.cached(n))
            return out

    sim = Simulation(UsesLibraries, cache=False)
    print(kinds(sim.decide()), sim.activations[-1].failure)
    """
)


def test_installed_packages_and_pass_through_modules_keep_their_caches(tmp_path: Path) -> None:
    packages = tmp_path / "lib" / "site-packages"
    (packages / "lazylib").mkdir(parents=True)
    (packages / "lazylib" / "__init__.py").write_text(
        "_cache = {}\n_loaded = None\n"
        "def lookup(n):\n"
        "    global _loaded\n"
        "    _loaded = (_loaded or 0) + 1\n"
        "    return _cache.setdefault(n, n * 2)\n"
    )
    (packages / "cachedlib.py").write_text(
        "_memo = []\ndef cached(n):\n    _memo.append(n)\n    return len(_memo)\n"
    )
    script = tmp_path / "uses_libraries.py"
    script.write_text(INSTALLED)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script), str(packages)],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['CompleteWorkflowExecution'] None"


class Unreadable:
    """A class attribute that fails when a reader looks for a wrapped function."""

    def __getattr__(self, name: str) -> Any:
        if name == "__wrapped__":
            raise RuntimeError("a proxy that fails on every other attribute")
        raise AttributeError(name)


def test_code_that_cannot_be_read_runs_unwatched_and_says_so(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aioswf._sandbox import module_state

    def failing_read(self: Any, cls: type) -> Any:
        raise RuntimeError("unreadable")

    monkeypatch.setattr(module_state._Reader, "read", failing_read)

    @workflow.defn
    class NotRead:
        @workflow.run
        async def run(self) -> int:
            SEEN.append("unseen")
            return 1

    sim = Simulation(NotRead)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    assert "the module state of workflow class" in caplog.text
    assert "NotRead is not checked" in caplog.text
    sim.close()


@workflow.defn
class HoldsAnOddObject:
    odd = Unreadable()

    @workflow.run
    async def run(self) -> str:
        return str(type(self.odd).__name__)


def test_objects_that_fail_when_looked_at_are_passed_over() -> None:
    assert [s.name for s in state_watch(HoldsAnOddObject).spots] == ["odd"]  # read, not given up
    sim = Simulation(HoldsAnOddObject)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()


@workflow.defn
class KeepsItsOwnCount:
    """Attributes of its own named like the globals of a module it calls into."""

    def __init__(self) -> None:
        self.results: list[int] = []
        self.count = 0

    @workflow.run
    async def run(self) -> str:
        for _ in range(300_000):  # long enough for the host loop to run meanwhile
            self.count += 1
        self.results.append(self.count)
        return service_state_app.version()


def test_a_module_s_globals_are_watched_only_where_the_code_names_them_on_the_module() -> None:
    watched = [spot.what for spot in state_watch(KeepsItsOwnCount).spots]
    assert "the attribute version of module tests.workflow.service_state_app" in watched
    assert not [what for what in watched if "count of" in what or "results of" in what], watched


async def test_the_host_changing_its_own_module_state_meanwhile_is_no_error(
    client: Client,
) -> None:
    async def serve() -> None:  # the host service at work while the worker decides
        while True:
            service_state_app.record_request()
            await asyncio.sleep(0)

    server = asyncio.create_task(serve())
    try:
        async with Worker(
            client, task_list="own-count", workflows=[KeepsItsOwnCount]
        ):  # workflow code on the worker's thread: the host loop runs while a step does
            for n in range(3):
                handle = await client.start_workflow(
                    KeepsItsOwnCount.run, workflow_id=f"own-{n}", task_list="own-count"
                )
                assert await asyncio.wait_for(handle.result(), timeout=30) == "1.0"
    finally:
        server.cancel()
