"""In a replay run by an activation executor, module state is compared once per batch of
replayed steps: the same changes are refused with the same messages as when every step is
compared, and the host's code between two slices of an inline replay is not blamed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from aioswf import NondeterminismError, workflow
from aioswf._decider import Activation, WorkflowInstance
from aioswf._pollers import _activation
from aioswf._pollers._activation import InlineActivations, ThreadActivations
from tests.workflow.histories import Simulation, attrs_of, kinds

REPLAYED: list[str] = []
COUNT = 0
LAZY: list[str] | None = None
HOST_LOG: list[str] = []


@workflow.defn
class ChangesWhenReplayed:
    """Changes module state only while its steps are replayed: the tasks' first runs pass,
    and a replay is the first to see the change."""

    @workflow.run
    async def run(self, how: str) -> int:
        global COUNT, LAZY
        for n in range(4):
            await asyncio.sleep(1)
            if not workflow.is_replaying():
                continue
            if how == "list" and n == 0:
                REPLAYED.append("x")
            elif how == "rebound" and n == 0:
                COUNT += 1
            elif how == "created, then changed" and n == 0:
                LAZY = []  # from None: a lazily computed constant
            elif how == "created, then changed" and n == 1:
                assert LAZY is not None
                LAZY.append("y")
        return len(HOST_LOG)


MESSAGES = {
    "list": "the global REPLAYED of module tests.workflow.test_sandbox_module_state_batches "
    "(a list) went from",
    "rebound": "the global COUNT of module tests.workflow.test_sandbox_module_state_batches "
    "was rebound",
    "created, then changed": "the global LAZY of module "
    "tests.workflow.test_sandbox_module_state_batches (a list) went from 0 to 1 items",
}


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    global COUNT, LAZY
    yield
    REPLAYED.clear()
    HOST_LOG.clear()
    COUNT, LAZY = 0, None


def history(how: str) -> tuple[Simulation, int]:
    """A run decided task by task by its cached instance (nothing replayed), and its last
    task started, still to decide."""
    sim = Simulation(ChangesWhenReplayed, how)
    decisions = sim.decide()
    for n in range(4):
        assert kinds(decisions) == ["StartTimer"], decisions
        sim.history.timer_fired(attrs_of(decisions[0])["timerId"])
        if n < 3:
            decisions = sim.decide()
    assert not REPLAYED
    assert COUNT == 0
    assert LAZY is None
    return sim, sim.history.start_decision_task()


async def replay_with(executor: str, sim: Simulation, started: int) -> Activation:
    instance = sim.new_instance()
    try:
        if executor == "workflow thread":
            threads = ThreadActivations(1)
            try:
                return await threads.activate(instance, sim.history.events, started)
            finally:
                threads.shutdown()
        return await InlineActivations().activate(instance, sim.history.events, started)
    finally:
        instance.close()


EXECUTORS = ["workflow thread", "host loop", "host loop, a step per slice"]


@pytest.fixture
def executor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    if name.endswith("a step per slice"):
        monkeypatch.setattr(_activation, "_SLICE_SECONDS", 0.0)
    return name


@pytest.mark.parametrize("executor", EXECUTORS, indirect=True)
@pytest.mark.parametrize("how", sorted(MESSAGES))
async def test_a_change_made_by_replayed_steps_is_refused_as_each_step_would_refuse_it(
    executor: str, how: str
) -> None:
    sim, started = history(how)
    activation = await replay_with(executor, sim, started)
    assert isinstance(activation.failure, NondeterminismError), activation.failure
    assert MESSAGES[how] in str(activation.failure)
    assert kinds(activation.decisions) == ["StartTimer"]  # the retry's back-off: nothing else
    batched = str(activation.failure)

    # The same message as a replay that compares after every step.
    global COUNT, LAZY
    REPLAYED.clear()
    COUNT, LAZY = 0, None
    instance: WorkflowInstance = sim.new_instance()
    each_step = instance.run_to_completion(sim.history.events, started).failure
    instance.close()
    assert str(each_step) == batched
    sim.close()


@pytest.mark.parametrize("executor", EXECUTORS, indirect=True)
async def test_a_replay_that_changes_nothing_decides_its_task(executor: str) -> None:
    sim, started = history("nothing")
    activation = await replay_with(executor, sim, started)
    assert activation.failure is None
    assert kinds(activation.decisions) == ["CompleteWorkflowExecution"]
    sim.close()


async def test_the_host_s_code_between_two_slices_of_a_replay_is_not_blamed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_activation, "_SLICE_SECONDS", 0.0)  # the host runs after each step
    sim, started = history("nothing")
    host_ran = 0

    async def host() -> None:
        nonlocal host_ran
        while True:
            HOST_LOG.append("request")  # a list the workflow's code names, changed by the host
            host_ran += 1
            await asyncio.sleep(0)

    serving = asyncio.create_task(host())
    try:
        activation = await replay_with("host loop", sim, started)
    finally:
        serving.cancel()
    assert activation.failure is None, activation.failure
    assert host_ran >= 4  # between the replayed steps, not only before and after
    sim.close()


def test_outside_an_executor_every_replayed_step_is_compared() -> None:
    """Replayers run a history without an executor: nothing is left for later."""
    sim, _ = history("list")
    instance = sim.new_instance()
    replayed = instance.run_to_completion(sim.history.events, None)
    instance.close()
    assert MESSAGES["list"] in str(replayed.failure)
    sim.close()
