"""A workflow step that does not yield fails its decision task as a deadlock, and the host
loop keeps running meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest

from aioswf import Client, WorkerError, WorkflowDeadlockError, WorkflowOptions, workflow
from aioswf._decider import CacheMiss, InstanceOptions
from aioswf._pollers._activation import InlineActivations, ThreadActivations
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.local import VirtualClock
from aioswf.worker import Worker
from tests.workflow.histories import Simulation, kinds, retried


def burn(seconds: float) -> int:
    """CPU work that never yields (the clock is read outside the workflow's guards)."""
    deadline = _clock() + seconds
    spins = 0
    while _clock() < deadline:
        spins += 1
    return spins


_clock = time.perf_counter


@workflow.defn(sandboxed=False)  # it reads the clock to burn a set time
class Spins:
    @workflow.run
    async def run(self, seconds: float) -> str:
        burn(seconds)  # the line named in the error
        return "done"


@workflow.defn
class YieldsForever:
    def __init__(self) -> None:
        self.flag = False

    @workflow.run
    async def run(self) -> str:
        while not self.flag:  # noqa: ASYNC110
            await asyncio.sleep(0)  # yields to the loop, never waits on history
        return "done"


@workflow.defn
class Forever:
    @workflow.run
    async def run(self) -> str:
        while True:
            pass


def sim_of(workflow_class: type, *args: object, limit: float | None) -> Simulation:
    return Simulation(workflow_class, *args, options=InstanceOptions(deadlock_timeout=limit))


async def activate_on_thread(sim: Simulation, limit: float | None) -> object:
    started = sim.history.start_decision_task()
    instance = sim.new_instance()
    executor = ThreadActivations(1, check_interval=0.05)
    try:
        return await executor.activate(instance, sim.history.events, started)
    finally:
        await executor.close(instance)
        executor.shutdown()


async def test_a_step_that_never_yields_is_interrupted_with_its_stack() -> None:
    sim = sim_of(Forever, limit=0.3)
    activation = await activate_on_thread(sim, 0.3)
    error = activation.failure  # type: ignore[attr-defined]
    assert isinstance(error, WorkflowDeadlockError)
    text = str(error)
    assert "Forever" in text
    assert "deadlock" in text
    assert "0.3 s" in text
    assert "test_deadlock.py" in text
    assert "while True" in text
    assert retried(activation.decisions)  # type: ignore[attr-defined]


async def test_the_default_limit_is_two_seconds_and_names_the_line() -> None:
    sim = sim_of(Spins, 30.0, limit=InstanceOptions().deadlock_timeout)
    began = time.monotonic()
    activation = await activate_on_thread(sim, None)
    error = activation.failure  # type: ignore[attr-defined]
    assert isinstance(error, WorkflowDeadlockError)
    assert error.limit == 2.0
    assert "within 2 seconds" in str(error)
    assert "burn(seconds)  # the line named in the error" in str(error)
    assert "in burn" in str(error)
    assert time.monotonic() - began < 20  # interrupted, not run to its end


def test_a_loop_that_keeps_yielding_is_caught_on_any_executor() -> None:
    sim = sim_of(YieldsForever, limit=0.2)
    assert retried(sim.decide())
    error = sim.activations[-1].failure
    assert isinstance(error, WorkflowDeadlockError)
    assert "await asyncio.sleep(0)  # yields to the loop" in str(error)
    assert "NondeterminismError" not in type(error).__name__


def test_no_limit_lets_a_long_step_finish() -> None:
    sim = sim_of(Spins, 0.3, limit=None)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]


async def test_the_host_loop_keeps_running_while_a_step_computes() -> None:
    async def worst_stall(executor: ThreadActivations | InlineActivations) -> float:
        sim = sim_of(Spins, 1.0, limit=None)  # wall time: the same on a loaded machine
        started = sim.history.start_decision_task()
        instance = sim.new_instance()
        worst = 0.0
        running = True

        async def tick() -> None:
            nonlocal worst
            last = time.perf_counter()
            while running:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                worst = max(worst, now - last)
                last = now

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.01)
        activation = await executor.activate(instance, sim.history.events, started)
        running = False
        await ticker
        await executor.close(instance)
        assert kinds(activation.decisions) == ["CompleteWorkflowExecution"]
        return worst

    threaded = ThreadActivations(1)
    try:
        on_thread = await worst_stall(threaded)
    finally:
        threaded.shutdown()
    inline = await worst_stall(InlineActivations())
    assert inline >= 0.9  # the step held the host loop for all of its second
    assert on_thread < inline / 2  # margins for a loaded machine; the benchmark measures


def test_debug_mode_turns_the_detector_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DecisionWorkerOptions().deadlock_seconds() == 2.0
    assert DecisionWorkerOptions(debug_mode=True).deadlock_seconds() is None
    assert DecisionWorkerOptions(deadlock_timeout=None).deadlock_seconds() is None
    assert DecisionWorkerOptions(deadlock_timeout=timedelta(seconds=5)).deadlock_seconds() == 5
    monkeypatch.setenv("AIOSWF_DEBUG", "1")
    assert DecisionWorkerOptions().deadlock_seconds() is None
    with pytest.raises(ValueError, match="deadlock_timeout"):
        DecisionWorkerOptions(deadlock_timeout=timedelta(0))


@workflow.defn
class StuckUntilFixed:
    @workflow.run
    async def run(self) -> str:
        if not FIXED:
            while True:
                pass
        return "fixed"


FIXED = False


async def test_a_deadlocked_task_is_retried_and_the_execution_stays_open(
    client: Client, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    global FIXED
    options = DecisionWorkerOptions(deadlock_timeout=timedelta(milliseconds=300))
    async with Worker(
        client, task_list="dl", workflows=[StuckUntilFixed], decision_options=options
    ):
        handle = await client.start_workflow(
            StuckUntilFixed.run,
            workflow_id="stuck",
            task_list="dl",
            options=WorkflowOptions(task_start_to_close_timeout=timedelta(seconds=10)),
        )
        for _ in range(200):
            if "potential deadlock" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "potential deadlock" in caplog.text
        assert "StuckUntilFixed" in caplog.text
        description = await handle.describe()
        assert description.info.status == "OPEN"
        FIXED = True
        clock.advance(11)  # the failed task times out; the next attempt runs fixed code
        try:
            assert await handle.result(timeout=timedelta(seconds=30)) == "fixed"
        finally:
            FIXED = False


RELEASE = threading.Event()


@workflow.defn(sandboxed=False)  # it blocks on a thread event
class BlockedInC:
    @workflow.run
    async def run(self) -> str:
        RELEASE.wait(30)  # an interrupt cannot reach a blocking C call
        return "done"


@workflow.defn(sandboxed=False)  # it reads the clock to burn a set time
class SwallowsTheInterrupt:
    @workflow.run
    async def run(self) -> str:
        deadline = _clock() + 30
        while _clock() < deadline and not RELEASE.is_set():
            try:
                burn(0.05)
            except BaseException:  # swallows the interrupt: the point of the test
                continue
        return "done"


@pytest.mark.parametrize("workflow_class", [BlockedInC, SwallowsTheInterrupt])
async def test_a_step_that_cannot_be_interrupted_is_retried_visibly(workflow_class: type) -> None:
    sim = sim_of(workflow_class, limit=0.2)
    started = sim.history.start_decision_task()
    instance = sim.new_instance()
    executor = ThreadActivations(1, check_interval=0.05)
    try:
        activation = await executor.activate(instance, sim.history.events, started)
        await executor.close(instance)
    finally:
        RELEASE.set()
        executor.shutdown()
    await until_no_thread_is_given_up(executor)  # nothing left spinning for later tests
    RELEASE.clear()
    assert isinstance(activation.failure, WorkflowDeadlockError)
    assert retried(activation.decisions)  # a back-off timer, not an empty answer
    assert activation.decision_failure is not None
    assert activation.decision_failure.error_type == "WorkflowDeadlockError"
    assert activation.decision_failure.attempts == 1
    assert activation.execution_context
    with pytest.raises(CacheMiss):  # the abandoned instance is never used again
        next(instance.activate(sim.history.events, started))


SPIN = threading.Event()


@workflow.defn
class SpinsUntilReleased:
    @workflow.run
    async def run(self) -> str:
        while not SPIN.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0)  # never waits on history
        return "released"


async def test_in_debug_mode_shutdown_gives_up_a_step_that_never_yields(client: Client) -> None:
    options = DecisionWorkerOptions(debug_mode=True)
    worker = Worker(
        client, task_list="spin", workflows=[SpinsUntilReleased], decision_options=options
    )
    await worker.start()
    try:
        await client.start_workflow(SpinsUntilReleased.run, workflow_id="spinner", task_list="spin")
        for _ in range(200):
            if worker._decision_poller and worker._decision_poller.deciding:
                break
            await asyncio.sleep(0.05)
        began = time.monotonic()
        report = await asyncio.wait_for(worker.shutdown(timeout=timedelta(seconds=1)), 30)
        assert time.monotonic() - began < 15  # the timeout, not a long poll's end
        assert not report.clean
        assert len(report.abandoned_decisions) == 1
        assert report.abandoned_decisions[0].startswith("spinner (run ")
    finally:
        SPIN.set()


STOP_SWALLOWING = threading.Event()


@workflow.defn(sandboxed=False)  # it reads the clock to burn a set time
class SwallowsUntilStopped:
    @workflow.run
    async def run(self) -> str:
        while not STOP_SWALLOWING.is_set():
            try:
                burn(0.02)
            except BaseException:  # swallows every interrupt: the point of the test
                continue
        return "stopped"


@workflow.defn
class Quick:
    @workflow.run
    async def run(self) -> str:
        return "quick"


def workflow_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("aioswf-workflow")}


async def until_no_thread_is_given_up(executor: ThreadActivations) -> None:
    for _ in range(300):
        if not len(executor.given_up):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the given-up thread never stopped")


async def test_a_run_whose_thread_was_given_up_gets_no_other_thread_until_it_stops() -> None:
    sim = sim_of(SwallowsUntilStopped, limit=0.2)
    executor = ThreadActivations(1, check_interval=0.05)
    try:
        started = sim.history.start_decision_task()
        first = await executor.activate(sim.new_instance(), sim.history.events, started)
        assert isinstance(first.failure, WorkflowDeadlockError)
        threads = workflow_threads()
        for attempt in range(2, 6):  # each attempt answered at once, on no thread
            sim.history.complete_decision_task(started, first.decisions, first.execution_context)
            started = sim.history.start_decision_task()
            first = await executor.activate(sim.new_instance(), sim.history.events, started)
            error = first.failure
            assert isinstance(error, WorkflowDeadlockError)
            assert "still runs on a thread the worker gave up" in str(error)
            assert "burn(0.02)" in str(error)  # where the given-up code was
            assert retried(first.decisions)
            assert first.decision_failure is not None
            assert first.decision_failure.attempts == attempt
        assert workflow_threads() == threads
    finally:
        STOP_SWALLOWING.set()
    try:
        await until_no_thread_is_given_up(executor)
        sim.history.complete_decision_task(started, first.decisions, first.execution_context)
        started = sim.history.start_decision_task()
        done = await executor.activate(sim.new_instance(), sim.history.events, started)
        assert kinds(done.decisions) == ["CompleteWorkflowExecution"]
    finally:
        executor.shutdown()
        STOP_SWALLOWING.clear()


async def test_past_its_limit_of_given_up_threads_a_worker_runs_no_workflow_code() -> None:
    stuck = sim_of(SwallowsUntilStopped, limit=0.2)
    executor = ThreadActivations(1, check_interval=0.05, max_given_up=1)
    try:
        started = stuck.history.start_decision_task()
        await executor.activate(stuck.new_instance(), stuck.history.events, started)
        threads = workflow_threads()
        other = sim_of(Quick, limit=0.2)
        started = other.history.start_decision_task()
        refused = await executor.activate(other.new_instance(), other.history.events, started)
        error = refused.failure
        assert isinstance(error, WorkerError)
        assert "1 workflow threads it gave up still running" in str(error)
        assert "SwallowsUntilStopped" in str(error)
        assert "Restart the worker" in str(error)
        assert retried(refused.decisions)
        assert refused.decision_failure is not None
        assert refused.decision_failure.error_type == "WorkerError"
        assert workflow_threads() == threads
    finally:
        STOP_SWALLOWING.set()
    try:
        await until_no_thread_is_given_up(executor)
        ran = await executor.activate(other.new_instance(), other.history.events, started)
        assert kinds(ran.decisions) == ["CompleteWorkflowExecution"]
    finally:
        executor.shutdown()
        STOP_SWALLOWING.clear()


async def test_a_worker_answers_the_attempts_it_refuses_and_routes_them_home(
    local_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    # With sticky routing on (the default), a refused attempt ran no code on a fresh
    # instance: its answer still names the run's own task list.
    options = DecisionWorkerOptions(deadlock_timeout=timedelta(seconds=0.2))
    worker = Worker(
        local_client, task_list="refuse", workflows=[SwallowsUntilStopped], decision_options=options
    )
    try:
        async with worker:
            handle = await local_client.start_workflow(
                SwallowsUntilStopped.run, workflow_id="refused", task_list="refuse"
            )
            for _ in range(300):
                if "still runs on a thread the worker gave up" in caplog.text:
                    break
                await asyncio.sleep(0.05)
            assert "still runs on a thread the worker gave up" in caplog.text
            assert "failed in the worker" not in caplog.text
            STOP_SWALLOWING.set()
            assert await handle.result(timeout=timedelta(seconds=60)) == "stopped"
    finally:
        STOP_SWALLOWING.set()
        STOP_SWALLOWING.clear()
