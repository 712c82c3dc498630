"""Start-up mistakes are one line and a non-zero status, never a traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from aioswf.local import LocalSWF
from tests.cli.helpers import aioswf, one_line_error

GREET = """
from datetime import timedelta
from aioswf import activity, workflow

@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def shout(text: str) -> str:
    return text.upper()

@workflow.defn
class Greet:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(shout, f"hello {name}")
"""


async def test_a_busy_port() -> None:
    async with LocalSWF() as swf:
        ran = await aioswf("dev", "--port", str(swf.port))
    assert "the port is in use" in one_line_error(ran, "dev")


async def test_a_database_in_a_missing_folder_or_not_a_database(tmp_path: Path) -> None:
    missing = await aioswf("dev", "--port", "0", "--db", str(tmp_path / "nowhere" / "state.db"))
    assert "does its folder exist" in one_line_error(missing, "dev")
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not a database, just some notes\n" * 100)
    wrong = await aioswf("dev", "--port", "0", "--db", str(garbage))
    assert "not an SQLite database" in one_line_error(wrong, "dev")


async def test_a_database_another_service_is_using(tmp_path: Path) -> None:
    # Two services on one file would each overwrite what the other saved: the second refuses.
    db = tmp_path / "state.db"
    async with LocalSWF(db_path=db) as first:
        ran = await aioswf("dev", "--port", "0", "--db", str(db), timeout=15)
        assert "another process (another aioswf dev?) is using" in one_line_error(ran, "dev")
        first.call(
            "RegisterDomain", {"name": "kept", "workflowExecutionRetentionPeriodInDays": "1"}
        )
    async with LocalSWF(db_path=db) as again:  # let go of on stop
        assert "kept" in {
            d["name"]
            for d in again.call("ListDomains", {"registrationStatus": "REGISTERED"})["domainInfos"]
        }


async def test_a_module_with_no_definitions(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("from aioswf import workflow\n")
    ran = await aioswf("worker", "./empty.py", "--domain", "d", "--task-list", "t", cwd=tmp_path)
    assert "no @workflow.defn class or @activity.defn function in ./empty.py" in one_line_error(
        ran, "worker"
    )
    assert ran.status == 2


async def test_a_module_that_fails_to_import(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import json\nraise RuntimeError('no config file')\n")
    ran = await aioswf("worker", "broken", "--domain", "d", "--task-list", "t", cwd=tmp_path)
    assert "importing 'broken' failed: RuntimeError: no config file" in one_line_error(
        ran, "worker"
    )


async def test_a_worker_runs_a_file_given_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "greet.py").write_text(GREET)
    async with LocalSWF(long_poll_seconds=60) as swf:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aioswf.cli",
            "worker",
            "./greet.py",
            "--domain",
            "files",
            "--task-list",
            "t",
            "--endpoint-url",
            swf.endpoint_url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert "polling 't' in domain 'files'" in banner, err.decode()
    assert process.returncode == 0, err.decode()


async def test_a_setting_out_of_range_is_one_line_with_one_process_or_several(
    tmp_path: Path,
) -> None:
    """Refused in the parent, before any child starts: not a traceback in each child, started
    again after each exit, for ever."""
    (tmp_path / "greet.py").write_text(GREET)
    bad = [
        ("--activity-pollers", "0", "--activity-pollers must be at least 1, got 0"),
        ("--decision-pollers", "0", "--decision-pollers must be at least 1, got 0"),
        ("--max-concurrent-activities", "0", "--max-concurrent-activities must be at least 1"),
        ("--shutdown-seconds", "-1", "--shutdown-seconds must be at least 0, got -1"),
        ("--sticky-seconds", "-5", "--sticky-seconds must be at least 0, got -5"),
        ("--processes", "-2", "--processes must be at least 1, got -2"),
        ("--max-cached-workflows", "-1", "--max-cached-workflows must be at least 0, got -1"),
    ]
    for option, value, message in bad:
        for processes in ("1", "2"):
            ran = await aioswf(
                *("worker", "./greet.py", "--domain", "d", "--task-list", "t"),
                *("--endpoint-url", "http://127.0.0.1:9", "--processes", processes),
                *(option, value),
                cwd=tmp_path,
                timeout=20,
            )
            assert message in one_line_error(ran, "worker"), (option, processes)
            assert ran.status == 2
