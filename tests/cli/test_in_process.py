"""Commands run in this process (`main()` on a thread) against the local service: fast checks."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator

import pytest

from aioswf import Client
from aioswf.cli import main
from aioswf.local import LocalSWF
from tests.cli.app import Greet

DOMAIN = "cli-in-process"


@pytest.fixture
async def swf() -> AsyncIterator[str]:
    async with (
        LocalSWF(long_poll_seconds=1) as service,
        Client(DOMAIN, endpoint_url=service.endpoint_url) as client,
    ):
        await client.register_domain()
        for number in range(3):
            await client.start_workflow(Greet.run, "x", workflow_id=f"w{number}", task_list="t")
        yield service.endpoint_url


async def run(swf: str, *argv: str) -> int:
    return await asyncio.to_thread(main, [*argv, "-d", DOMAIN, "--endpoint-url", swf])


async def test_a_list_cut_by_its_limit_says_so(
    swf: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(swf, "list", "--limit", "2") == 0
    human = capsys.readouterr()
    assert "showing the newest 2 executions; there are more" in human.err
    assert await run(swf, "list", "--limit", "2", "--json") == 0
    cut = json.loads(capsys.readouterr().out)
    assert cut["truncated"] is True
    assert [e["workflowId"] for e in cut["executions"]] == ["w2", "w1"]
    assert await run(swf, "list", "--limit", "3", "--json") == 0
    whole = capsys.readouterr()
    assert json.loads(whole.out)["truncated"] is False
    assert "there are more" not in whole.err
    # --all merges open and closed, newest first, and still cuts at the limit.
    assert await run(swf, "list", "--all", "--limit", "2", "--json") == 0
    assert json.loads(capsys.readouterr().out)["truncated"] is True


@pytest.mark.parametrize("limit", ["0", "-1"])
async def test_a_limit_below_one_is_refused_in_one_line(
    swf: str, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        await run(swf, "list", "--limit", limit)
    assert exited.value.code == 2
    assert "--limit: must be at least 1" in capsys.readouterr().err


def test_an_unknown_option_is_reported_by_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["type", "list", "--activities", "-d", DOMAIN])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: aioswf type list" in err
    assert "aioswf type list: error: unrecognized arguments: --activities" in err


def test_worker_takes_the_short_options_and_the_domain_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aioswf.cli import build_parser

    monkeypatch.setenv("AIOSWF_DOMAIN", "from-env")
    args = build_parser().parse_args(["worker", "app.py", "-t", "orders"])
    assert (args.domain, args.task_list) == ("from-env", "orders")
    args = build_parser().parse_args(["worker", "app.py", "-d", "shop", "-t", "orders"])
    assert args.domain == "shop"


async def test_a_reader_that_goes_away_is_not_a_failure(
    swf: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `aioswf history w0 | head -1`: the reader closes the pipe after the first line.
    reading, writing = os.pipe()
    os.close(reading)
    closed_pipe = os.fdopen(writing, "w")
    monkeypatch.setattr(sys, "stdout", closed_pipe)
    try:
        statuses = [await run(swf, command, "w0") for command in ("history", "describe")]
        statuses.append(await run(swf, "list"))
    finally:
        monkeypatch.undo()
        closed_pipe.close()
    assert statuses == [0, 0, 0]


@pytest.mark.parametrize("width", [60, 80, 100])
async def test_a_narrow_terminal_keeps_workflow_ids_and_statuses_readable(
    swf: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    from aioswf.cli import _render

    async with Client(DOMAIN, endpoint_url=swf) as client:
        await client.start_workflow(Greet.run, "x", workflow_id="order-2026-11-29", task_list="t")
        handle = await client.start_workflow(Greet.run, "x", workflow_id="big1", task_list="t")
    monkeypatch.setattr(_render, "_console", _render._Console(width=width, soft_wrap=True))
    assert await run(swf, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line.rstrip()) <= width for line in lines), lines
    assert "WORKFLOW ID" in lines[0]
    assert "STATUS" in lines[0]
    table = "\n".join(lines)
    assert "order-2026-11-29" in table
    for workflow_id in ("w0", "w1", "w2", "big1"):
        assert f"\n{workflow_id} " in table
    assert (handle.run_id or "")[:8] in table or width < 100
    assert table.count(" OPEN ") >= 5, table
    assert await run(swf, "history", "big1") == 0
    headers = capsys.readouterr().out.splitlines()
    assert any(
        all(word in line for word in ("STARTED", "KIND", "STATUS", "DETAIL")) for line in headers
    ), headers
