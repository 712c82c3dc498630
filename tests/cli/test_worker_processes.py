"""`aioswf worker --processes N`: N processes share a task list, sticky task lists keep each
run with the process that has it cached, a killed process's runs go to the others within
the sticky schedule-to-start timeout, and one signal stops them all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from datetime import timedelta
from typing import Any

from aioswf import Client
from aioswf.local import LocalSWF
from tests.cli.app import Sleeper
from tests.cli.sticky_app import Tally
from tests.cli.test_worker_command import ROOT, start_worker

RUNS = 8
STICKY_SECONDS = 3
RESULT_TIMEOUT = timedelta(seconds=60)


async def events_of(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    return [e async for e in client.get_workflow_handle(workflow_id).history()]


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["eventType"]
    return dict(event[kind[0].lower() + kind[1:] + "EventAttributes"])


def decider_pid(events: list[dict[str, Any]]) -> int:
    started = [e for e in events if e["eventType"] == "DecisionTaskStarted"]
    return int(attrs(started[-1])["identity"].split("@")[0])


async def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def until(predicate: Any, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not await predicate():  # noqa: ASYNC110 - the service is polled, not an event
            await asyncio.sleep(0.05)


async def test_a_killed_process_hands_its_runs_to_the_other_and_one_signal_stops_all() -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        process = await start_worker(
            swf.endpoint_url,
            "tests.cli.sticky_app",
            *("--domain", "procs", "--task-list", "tally", "--processes", "2"),
            *("--sticky-seconds", str(STICKY_SECONDS)),
        )
        assert process.stdout is not None
        for _ in range(2):
            banner = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            assert "polling 'tally' in domain 'procs'" in banner
        async with Client("procs", endpoint_url=swf.endpoint_url) as client:
            handles = [
                await client.start_workflow(Tally.run, 3, workflow_id=f"t{n}", task_list="tally")
                for n in range(RUNS)
            ]
            for handle in handles:
                await handle.signal(Tally.add, 1)

            async def all_signals_decided() -> bool:
                for handle in handles:
                    types = [e["eventType"] for e in await events_of(client, handle.workflow_id)]
                    if (
                        types[-1] != "DecisionTaskCompleted"
                        or "WorkflowExecutionSignaled" not in types
                    ):
                        return False
                return True

            # Each run is now cached by the process that decided it, and sticky to it.
            await until(all_signals_decided)
            holders = {
                h.workflow_id: decider_pid(await events_of(client, h.workflow_id)) for h in handles
            }
            victim, held = Counter(holders.values()).most_common(1)[0]
            assert victim != process.pid
            os.kill(victim, signal.SIGKILL)
            await until(lambda: gone(victim))
            # The service notices the dead process's closed connections (its parked polls)
            # on its next turns; a task handed to one of them first would be lost with it,
            # as on SWF, until its start-to-close timeout.
            await asyncio.sleep(1)
            for handle in handles:  # work for every run, the victim's included
                await handle.signal(Tally.add, 1)
                await handle.signal(Tally.add, 1)
            results = await asyncio.gather(*(h.result(timeout=RESULT_TIMEOUT) for h in handles))
            assert results == [3] * RUNS  # nothing lost
            orphaned = [w for w, pid in holders.items() if pid == victim]
            assert len(orphaned) == held
            for workflow_id in orphaned:
                events = await events_of(client, workflow_id)
                reverted = [
                    e
                    for e in events
                    if e["eventType"] == "DecisionTaskTimedOut"
                    and attrs(e)["timeoutType"] == "SCHEDULE_TO_START"
                ]
                assert reverted, "\n".join(str((e["eventType"], attrs(e))) for e in events)
                scheduled = events[attrs(reverted[0])["scheduledEventId"] - 1]
                waited = reverted[0]["eventTimestamp"] - scheduled["eventTimestamp"]
                assert STICKY_SECONDS <= waited.total_seconds() <= STICKY_SECONDS + 2
                assert attrs(scheduled)["taskList"]["name"].startswith("tally-sticky-")
                assert decider_pid(events) != victim
        # The killed process was replaced; then one signal stops both.
        banner = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert "polling 'tally' in domain 'procs'" in banner
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert err.decode().count("shut down cleanly") == 2
    assert "exited unasked" in err.decode()


async def ctrl_c_run(endpoint: str, presses: int) -> tuple[int, str, list[bool]]:
    """Ctrl-C ``presses`` times, as a terminal sends it (SIGINT to the whole process group),
    to ``aioswf worker --processes 2`` while two 4 s activities run."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-c", "import sys; from aioswf.cli import main; sys.exit(main())"),
        *("worker", "tests.cli.app", "--domain", "ctrlc", "--task-list", "naps"),
        *("--processes", "2", "--shutdown-seconds", "60", "--endpoint-url", endpoint),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert process.stdout is not None
        for _ in range(2):
            banner = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            assert "polling 'naps'" in banner
        async with Client("ctrlc", endpoint_url=endpoint) as client:
            handles = [
                await client.start_workflow(Sleeper.run, 4, workflow_id=f"nap{n}", task_list="naps")
                for n in range(2)
            ]

            async def both_running() -> bool:
                for handle in handles:
                    types = [e["eventType"] for e in await events_of(client, handle.workflow_id)]
                    if "ActivityTaskStarted" not in types:
                        return False
                return True

            await until(both_running)
            for press in range(presses):
                if press:
                    await asyncio.sleep(0.5)
                os.killpg(process.pid, signal.SIGINT)
            _, err = await asyncio.wait_for(process.communicate(), 60)
            # The workers are gone, so the runs stay open: did each activity finish?
            finished = [
                "ActivityTaskCompleted"
                in [e["eventType"] for e in await events_of(client, handle.workflow_id)]
                for handle in handles
            ]
        assert process.returncode is not None
        return process.returncode, err.decode(), finished
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


async def test_one_ctrl_c_lets_every_process_finish_its_activities() -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        status, err, finished = await ctrl_c_run(swf.endpoint_url, presses=1)
    assert "cut" not in err, err
    assert status == 0, err
    assert finished == [True, True]


async def test_a_second_ctrl_c_stops_every_process_at_once() -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        status, err, finished = await ctrl_c_run(swf.endpoint_url, presses=2)
    assert "stopping now; cut activity" in err, err
    assert status != 0
    assert finished == [False, False]
