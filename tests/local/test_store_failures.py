"""A change the store cannot write is not applied: memory and disk never disagree.

The failures are real SQLite errors on a real file: a database that may not grow (a full
disk: changes that need new pages fail), one made read-only, and an I/O error raised in the
middle of a transaction that has already written part of the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

import aioswf.local.service
from aioswf.local import LocalSWF, VirtualClock
from aioswf.local.engine import OPERATIONS
from aioswf.local.engine.state import Execution, Json
from aioswf.local.store import Store
from tests.local.aio_helpers import AioDriver, aio_client
from tests.local.helpers import DOMAIN, schedule


class _FlakyStore(Store):
    """A store whose transactions fail with an I/O error after writing part of the change."""

    failing = False

    def _save_run(self, ex: Execution) -> int:
        saved = super()._save_run(ex)
        if self.failing:
            raise sqlite3.OperationalError("disk I/O error")
        return saved


def _db(swf: LocalSWF) -> sqlite3.Connection:
    store = swf._store
    assert store is not None
    return store._db


def _disk_full(swf: LocalSWF, on: bool) -> None:
    db = _db(swf)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages if on else 1_000_000_000}")


def _read_only(swf: LocalSWF, on: bool) -> None:
    _db(swf).execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")


def _io_error(swf: LocalSWF, on: bool) -> None:
    store = swf._store
    assert isinstance(store, _FlakyStore)
    store.failing = on


FAILURES: dict[str, Callable[[LocalSWF, bool], None]] = {
    "read-only": _read_only,
    "I/O error": _io_error,
}

BIG = "x" * 30_000
"""An input that needs new pages of the database to be saved."""


@contextlib.asynccontextmanager
async def _served(db: Path) -> AsyncIterator[tuple[LocalSWF, AioDriver]]:
    """The local service keeping its state in ``db``, and a driver of it."""
    async with (
        LocalSWF(db_path=db, long_poll_seconds=0.2) as swf,
        aio_client(swf.endpoint_url) as client,
    ):
        yield swf, AioDriver(client)


async def _refused(call: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await call
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error["Error"]["Code"] == "InternalFailure"


async def _state(sw: AioDriver) -> dict[str, Any]:
    """What a client sees of every execution: its status and its history."""
    seen: dict[str, Any] = {}
    for closed in (False, True):
        operation = "list_closed_workflow_executions" if closed else "list_open_workflow_executions"
        listed = await sw(operation, domain=DOMAIN, startTimeFilter={"oldestDate": 0})
        for info in listed["executionInfos"]:
            execution = info["execution"]
            history = await sw.history(execution["runId"], execution["workflowId"])
            key = execution["workflowId"]
            seen[key] = (info["executionStatus"], info.get("closeStatus"), history)
    return seen


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_a_change_that_cannot_be_saved_is_not_applied_and_the_service_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    monkeypatch.setattr(aioswf.local.service, "Store", _FlakyStore)
    db = tmp_path / "swf.db"
    clock = VirtualClock(start=1_700_000_000.0)
    fail = FAILURES[failure]
    async with (
        LocalSWF(clock=clock, db_path=db, long_poll_seconds=0.2) as swf,
        aio_client(swf.endpoint_url) as client,
    ):
        sw = AioDriver(client)
        await sw.setup()
        run = await sw.start("kept")
        await sw.start("times-out", executionStartToCloseTimeout="20")
        task = await sw.poll()
        assert task["workflowExecution"]["workflowId"] == "kept"
        told = await _state(sw)

        fail(swf, True)
        # Every kind of change is refused with a 500, which clients retry...
        await _refused(sw.start("never"))
        await _refused(sw.signal("lost", workflow_id="kept"))
        await _refused(
            sw(
                "respond_decision_task_completed",
                taskToken=task["taskToken"],
                decisions=[schedule("a1")],
            )
        )
        await _refused(sw.poll())  # the other run's decision task stays queued
        # ...what does not change state is still served, from unchanged memory...
        assert await _state(sw) == told
        # ...and a timeout that comes due meanwhile waits for the store.
        clock.advance(21)  # within the decision task's 30 s
        await asyncio.sleep(0.3)
        assert not swf.engine.executions[run].history[-1]["eventType"].endswith("TimedOut")

        fail(swf, False)
        await sw.signal("kept", workflow_id="kept")
        await sw(
            "respond_decision_task_completed",
            taskToken=task["taskToken"],
            decisions=[schedule("a1")],
        )
        activity = await sw.poll_activity()
        assert activity["activityId"] == "a1"
        told = await _state(sw)
    assert told["times-out"][1] == "TIMED_OUT"
    assert "never" not in told
    kept = [e["eventType"] for e in told["kept"][2]]
    assert kept.count("WorkflowExecutionSignaled") == 1
    assert kept[-1] == "ActivityTaskStarted"

    # After a restart from the file, the state is exactly what clients were told.
    async with (
        LocalSWF(clock=clock, db_path=db, long_poll_seconds=0.2) as swf,
        aio_client(swf.endpoint_url) as client,
    ):
        sw = AioDriver(client)
        assert await _state(sw) == told
        await sw("respond_activity_task_completed", taskToken=activity["taskToken"])
        assert "ActivityTaskCompleted" in await sw.types(run, "kept")


async def test_a_failed_save_is_one_error_line_and_recovery_one_more(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aioswf")
    async with (
        LocalSWF(db_path=tmp_path / "swf.db", long_poll_seconds=0.2) as swf,
        aio_client(swf.endpoint_url) as client,
    ):
        sw = AioDriver(client)
        await sw.setup()
        _disk_full(swf, True)
        for n in range(5):
            await _refused(sw.start(f"wf-{n}", input=BIG))
        _disk_full(swf, False)
        await sw.start("wf-ok")
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, errors
    assert "cannot save to its store" in errors[0]
    assert "full" in errors[0]
    assert any("saves again after 5 failed" in r.getMessage() for r in caplog.records)


async def test_a_full_disk_refuses_what_does_not_fit_and_a_restart_shows_what_was_told(
    tmp_path: Path,
) -> None:
    db = tmp_path / "swf.db"
    async with _served(db) as (swf, sw):
        await sw.setup()
        await sw.start("kept")
        told = await _state(sw)
        _disk_full(swf, True)
        await _refused(sw.start("never", input=BIG))
        await _refused(sw.signal("lost", workflow_id="kept", input=BIG))
        assert await _state(sw) == told
        _disk_full(swf, False)
        await sw.signal("kept", workflow_id="kept", input=BIG)
        told = await _state(sw)
    assert "never" not in told
    async with _served(db) as (_, sw):
        assert await _state(sw) == told


async def test_a_change_a_bug_left_halfway_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signal = OPERATIONS["SignalWorkflowExecution"]

    def half_done(engine: Any, request: Json) -> Json:
        signal(engine, request)  # the signal is recorded, then something breaks
        if request.get("signalName") == "breaks":
            raise RuntimeError("a bug")
        return {}

    monkeypatch.setitem(OPERATIONS, "SignalWorkflowExecution", half_done)
    db = tmp_path / "swf.db"
    async with _served(db) as (swf, sw):
        await sw.setup()
        run = await sw.start("kept")
        await _refused(sw.signal("breaks", workflow_id="kept"))
        await sw.signal("works", workflow_id="kept")
        told = await _state(sw)
    signals = [e for e in told["kept"][2] if e["eventType"] == "WorkflowExecutionSignaled"]
    assert [e["workflowExecutionSignaledEventAttributes"]["signalName"] for e in signals] == [
        "works"
    ]
    async with _served(db) as (swf, sw):  # the service restarted on the same file
        assert await _state(sw) == told
        assert run in swf.engine.executions
