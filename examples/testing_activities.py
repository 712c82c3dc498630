"""Testing activities with `ActivityEnvironment`: no worker, no SWF.

Run it with `python examples/testing_activities.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import activity
from aioswf.activity import ActivityInfo
from aioswf.testing import ActivityEnvironment


@activity.defn(
    schedule_to_close_timeout=timedelta(hours=1),
    heartbeat_timeout=timedelta(seconds=30),
)
async def copy_files(paths: list[str]) -> int:
    """Copies files one by one, reporting progress, resumable after a retry."""
    info = activity.info()
    print(f"  copying for workflow {info.workflow_id}, attempt {info.attempt}")
    for done, path in enumerate(paths):
        activity.heartbeat({"done": done, "path": path})
        await asyncio.sleep(0)  # stands for the copy; a cancellation lands at an await
    return len(paths)


async def test_progress_is_reported() -> None:
    env = ActivityEnvironment()
    assert await env.run(copy_files, ["a.csv", "b.csv"]) == 2
    assert env.heartbeats == [{"done": 0, "path": "a.csv"}, {"done": 1, "path": "b.csv"}]


async def test_info_can_be_chosen() -> None:
    env = ActivityEnvironment(
        ActivityInfo(
            task_token="token",
            activity_id="copy-1",
            activity_type="copy_files",
            activity_version="1",
            workflow_id="nightly-backup",
            run_id="run-1",
            started_event_id=7,
            domain="backups",
            task_list="files",
            attempt=3,
        )
    )
    assert await env.run(copy_files, []) == 0


async def test_cancellation_stops_the_copy() -> None:
    env = ActivityEnvironment()
    # Cancel when the second file is reached, as a workflow's cancel request would.
    env.on_heartbeat = lambda details: env.cancel() if details["done"] == 1 else None
    try:
        await env.run(copy_files, ["a.csv", "b.csv", "c.csv"])
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the activity should have been cancelled")
    assert env.is_cancelled
    assert len(env.heartbeats) == 2


async def main() -> None:
    for test in (
        test_progress_is_reported,
        test_info_can_be_chosen,
        test_cancellation_stops_the_copy,
    ):
        await test()
        print(f"passed: {test.__name__}")


if __name__ == "__main__":
    asyncio.run(main())
