"""Every execution command of `aioswf`, in a subprocess against the local service, both modes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Client, Worker
from aioswf.cli import build_parser
from aioswf.local import LocalSWF
from tests.cli.app import Approval, Doomed, Greet, Pages, flaky, shout
from tests.cli.helpers import aioswf, one_line_error

DOMAIN = "cli-commands"


@pytest.fixture
async def swf() -> AsyncIterator[str]:
    async with (
        LocalSWF(long_poll_seconds=1) as service,
        Client(DOMAIN, endpoint_url=service.endpoint_url) as client,
        Worker(
            client,
            task_list="cli",
            workflows=[Greet, Approval, Doomed, Pages],
            activities=[shout, flaky],
        ),
    ):
        yield service.endpoint_url


async def test_an_execution_from_start_to_result_in_both_modes(swf: str, tmp_path: Path) -> None:
    d = ("-d", DOMAIN)
    started = await aioswf(
        "start",
        "tests.cli.app:Approval",
        "-w",
        "order-1",
        "-i",
        '"o-1"',
        "-t",
        "cli",
        "--json",
        *d,
        endpoint=swf,
    )
    assert started.status == 0, started.err
    run_id = json.loads(started.out)["runId"]
    assert run_id

    listed = await aioswf("list", *d, endpoint=swf)
    assert "order-1" in listed.out
    assert "Approval/1" in listed.out
    assert "OPEN" in listed.out
    listed_json = json.loads((await aioswf("list", "--json", *d, endpoint=swf)).out)
    assert [(e["workflowId"], e["runId"], e["status"]) for e in listed_json] == [
        ("order-1", run_id, "OPEN")
    ]
    counted = await aioswf("count", "--json", *d, endpoint=swf)
    assert json.loads(counted.out) == {"open": {"count": 1, "truncated": False}}

    described = await aioswf("describe", "order-1", *d, endpoint=swf)
    assert "waiting for approval" in described.out
    assert run_id in described.out
    description = json.loads((await aioswf("describe", "order-1", "--json", *d, endpoint=swf)).out)
    assert description["state"] == {"stage": "waiting for approval"}
    assert description["input"] == '["o-1"]'

    signalled = await aioswf("signal", "order-1", "approve", "-i", '"alice"', *d, endpoint=swf)
    assert signalled.status == 0, signalled.err
    result = await aioswf("result", "order-1", "--timeout", "30", *d, endpoint=swf)
    assert result.status == 0, result.err
    assert json.loads(result.out) == "o-1 approved by alice (finally)"

    history = await aioswf("history", "order-1", *d, endpoint=swf)
    assert history.status == 0, history.err
    out = history.out
    assert "approve" in out
    assert '["alice"]' in out
    assert "flaky/1" in out
    assert "attempt 1 failed" in out
    assert "attempt 2" in out  # the retry that worked
    assert "COMPLETED" in out

    # --json writes what `aws swf get-workflow-execution-history` writes; replay reads it.
    as_json = await aioswf("history", "order-1", "--json", *d, endpoint=swf)
    document = json.loads(as_json.out)
    assert document["events"][0]["eventType"] == "WorkflowExecutionStarted"
    assert isinstance(document["events"][0]["eventTimestamp"], float)
    saved = tmp_path / "order-1.json"
    saved.write_text(as_json.out)
    replayed = await aioswf("replay", str(saved), "--workflows", "tests.cli.app")
    assert replayed.status == 0, replayed.out + replayed.err

    closed = json.loads(
        (await aioswf("list", "--closed", "--status", "COMPLETED", "--json", *d, endpoint=swf)).out
    )
    assert [e["workflowId"] for e in closed] == ["order-1"]


async def test_failures_cancel_terminate_and_continue_as_new(swf: str) -> None:
    d = ("-d", DOMAIN)
    # A type started by its registered name (the worker registered it).
    started = await aioswf(
        "start", "Doomed", "-w", "doomed", "-i", '"no stock"', "-t", "cli", *d, endpoint=swf
    )
    assert started.status == 0, started.err
    assert "started doomed" in started.out
    failed = await aioswf("result", "doomed", "--timeout", "30", *d, endpoint=swf)
    assert "cannot go on: no stock" in one_line_error(failed, "result")
    failed_json = await aioswf("result", "doomed", "--timeout", "30", "--json", *d, endpoint=swf)
    assert failed_json.status == 1
    assert json.loads(failed_json.out)["error"] == "WorkflowFailedError"
    history = await aioswf("history", "doomed", *d, endpoint=swf)
    assert "FAILED" in history.out
    assert "cannot go on: no stock" in history.out

    await aioswf(
        "start", "Approval", "-w", "to-cancel", "-i", '"o-2"', "-t", "cli", *d, endpoint=swf
    )
    await aioswf("start", "Approval", "-w", "to-end", "-i", '"o-3"', "-t", "cli", *d, endpoint=swf)
    cancelled = await aioswf("cancel", "to-cancel", *d, endpoint=swf)
    assert cancelled.status == 0, cancelled.err
    terminated = await aioswf("terminate", "to-end", "--reason", "duplicate", *d, endpoint=swf)
    assert terminated.status == 0, terminated.err
    ended = await aioswf("result", "to-end", *d, endpoint=swf)
    assert "duplicate" in one_line_error(ended, "result")
    gone = await aioswf("result", "to-cancel", "--timeout", "30", *d, endpoint=swf)
    assert "cancel" in one_line_error(gone, "result")

    await aioswf("start", "Pages", "-w", "pages", "-i", "0", "-t", "cli", *d, endpoint=swf)
    assert json.loads(
        (await aioswf("result", "pages", "--timeout", "30", *d, endpoint=swf)).out
    ) == ("read 3 pages")
    last = await aioswf("describe", "pages", "--json", *d, endpoint=swf)
    assert json.loads(last.out)["continuedFrom"]

    counts = json.loads((await aioswf("count", "--all", "--json", *d, endpoint=swf)).out)
    assert counts["closed"]["count"] == 6  # doomed, to-cancel, to-end, three runs of pages
    failed_only = await aioswf("list", "--status", "FAILED", "--json", *d, endpoint=swf)
    assert [e["workflowId"] for e in json.loads(failed_only.out)] == ["doomed"]
    by_type = await aioswf("list", "--all", "--type", "Pages", *d, endpoint=swf)
    assert by_type.out.count("pages") == 3


async def test_domains_and_types(swf: str) -> None:
    registered = await aioswf("domain", "register", "spare", "--retention-days", "3", endpoint=swf)
    assert registered.out.strip() == "registered domain spare"
    again = await aioswf("domain", "register", "spare", endpoint=swf)
    assert again.status == 0
    assert "already registered" in again.out
    domains = json.loads((await aioswf("domain", "list", "--json", endpoint=swf)).out)
    assert {d["name"] for d in domains} == {DOMAIN, "spare"}
    described = await aioswf("domain", "describe", "spare", endpoint=swf)
    assert "retention 3 days" in described.out
    types = await aioswf("type", "register", "tests.cli.app", "-d", "spare", endpoint=swf)
    assert "registered Greet/1" in types.out
    assert "registered shout/1" in types.out
    listed = json.loads((await aioswf("type", "list", "--json", "-d", "spare", endpoint=swf)).out)
    assert {(t["kind"], t["name"]) for t in listed} >= {
        ("workflow", "Greet"),
        ("activity", "flaky"),
    }
    human = await aioswf("type", "list", "--kind", "workflow", "-d", "spare", endpoint=swf)
    assert "Pages" in human.out
    assert "flaky" not in human.out


async def test_expected_failures_are_one_line_and_a_non_zero_status(swf: str) -> None:
    unknown_domain = await aioswf("list", "-d", "no-such-domain", endpoint=swf)
    assert "no-such-domain" in one_line_error(unknown_domain, "list")
    mistyped = await aioswf(
        "start",
        "tests.cli.app:Greet",
        "-w",
        "g",
        "-i",
        '"x"',
        "-t",
        "cli",
        "-d",
        "cli-comands",
        endpoint=swf,
    )
    assert "domain 'cli-comands' does not exist" in one_line_error(mistyped, "start")
    unknown = await aioswf("describe", "nobody", "-d", DOMAIN, endpoint=swf)
    assert "no execution with workflow id 'nobody'" in one_line_error(unknown, "describe")
    unreachable = await aioswf("list", "-d", DOMAIN, endpoint="http://127.0.0.1:9")
    assert "could not be reached" in one_line_error(unreachable, "list")
    bad_json = await aioswf("start", "Greet", "-w", "g", "-i", "ada", "-d", DOMAIN, endpoint=swf)
    assert bad_json.status == 2
    assert "--input 1 is not JSON" in bad_json.err
    wrong_type = await aioswf(
        "start",
        "tests.cli.app:Greet",
        "-w",
        "g",
        "-i",
        "3",
        "-t",
        "cli",
        "-d",
        DOMAIN,
        endpoint=swf,
    )
    assert "argument 'name' of Greet.run does not fit str" in one_line_error(wrong_type, "start")
    no_type = await aioswf("start", "Nothing", "-w", "g", "-d", DOMAIN, endpoint=swf)
    assert "no workflow type named 'Nothing'" in one_line_error(no_type, "start")
    no_domain = await aioswf("list", endpoint=swf)
    assert no_domain.status == 2
    assert "AIOSWF_DOMAIN" in no_domain.err
    timed_out = await aioswf("result", "nobody", "-d", DOMAIN, "--timeout", "0.5", endpoint=swf)
    assert timed_out.status != 0
    debug = await aioswf(
        "--debug", "describe", "nobody", "-d", DOMAIN, endpoint="http://127.0.0.1:9", traceback=True
    )
    assert debug.status == 1


def test_every_command_has_help_with_an_example() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    seen = []
    for name, command in commands.items():
        help_text = command.format_help()
        assert "example:\n  aioswf " in help_text, name
        seen.append(name)
        for action in command._actions:
            if getattr(action, "choices", None) and isinstance(action.choices, dict):
                for sub, subcommand in action.choices.items():
                    assert "example:\n  aioswf " in subcommand.format_help(), f"{name} {sub}"
    assert {
        "start",
        "signal",
        "cancel",
        "terminate",
        "describe",
        "result",
        "list",
        "count",
        "history",
        "domain",
        "type",
        "worker",
        "dev",
        "ui",
        "replay",
    } <= set(seen)


async def test_no_arguments_prints_help_and_version_prints_the_version() -> None:
    bare = await aioswf()
    assert bare.status == 0
    assert "usage: aioswf" in bare.out
    assert "history" in bare.out
    version = await aioswf("--version")
    assert version.status == 0
    assert version.out.startswith("aioswf ")


async def test_the_timeout_names_the_execution() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as service,
        Client(DOMAIN, endpoint_url=service.endpoint_url) as client,
    ):
        handle = await client.start_workflow(
            Approval.run, "o", workflow_id="late", task_list="none"
        )
        assert handle.run_id is not None  # the run it started, as repr() shows
        assert handle.run_id in repr(handle)
        with pytest.raises(
            TimeoutError,
            match="workflow 'late' in domain 'cli-commands' did not close within 0.2 seconds",
        ):
            await handle.result(timeout=timedelta(seconds=0.2))
