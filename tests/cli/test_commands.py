"""Every execution command of `aioswf`, in a subprocess against the local service, both modes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Client, DecisionWorkerOptions, Worker
from aioswf.cli import build_parser
from aioswf.local import LocalSWF
from tests.cli.app import Approval, Doomed, Greet, Misconfigured, Pages, flaky, shout
from tests.cli.helpers import ROOT, aioswf, one_line_error

DOMAIN = "cli-commands"


@pytest.fixture
async def swf() -> AsyncIterator[str]:
    async with (
        LocalSWF(long_poll_seconds=1) as service,
        Client(DOMAIN, endpoint_url=service.endpoint_url) as client,
        Worker(
            client,
            task_list="cli",
            workflows=[Greet, Approval, Doomed, Pages, Misconfigured],
            activities=[shout, flaky],
            decision_options=DecisionWorkerOptions(retry_decision_task_on=(KeyError,)),
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

    # Read-only commands run side by side: each is a process of its own.
    listed, listed_json, counted, counted_human, described, description_json = await asyncio.gather(
        aioswf("list", *d, endpoint=swf),
        aioswf("list", "--json", *d, endpoint=swf),
        aioswf("count", "--json", *d, endpoint=swf),
        aioswf("count", *d, endpoint=swf),
        aioswf("describe", "order-1", *d, endpoint=swf),
        aioswf("describe", "order-1", "--json", *d, endpoint=swf),
    )
    assert "order-1" in listed.out
    assert counted_human.out.strip() == "1 open"
    assert "Approval/1" in listed.out
    assert "OPEN" in listed.out
    assert [
        (e["workflowId"], e["runId"], e["status"])
        for e in json.loads(listed_json.out)["executions"]
    ] == [("order-1", run_id, "OPEN")]
    assert json.loads(counted.out) == {"open": {"count": 1, "truncated": False}}
    assert "waiting for approval" in described.out
    assert run_id in described.out
    description = json.loads(description_json.out)
    assert description["state"] == {"stage": "waiting for approval"}
    assert description["input"] == '["o-1"]'

    signalled = await aioswf(
        "signal", "order-1", "approve", "-i", '"alice"', "--json", *d, endpoint=swf
    )
    assert signalled.status == 0, signalled.err
    assert json.loads(signalled.out)["signal"] == "approve"
    result = await aioswf("result", "order-1", "--timeout", "30", *d, endpoint=swf)
    assert result.status == 0, result.err
    assert json.loads(result.out) == "o-1 approved by alice (finally)"

    history, as_json, closed_json = await asyncio.gather(
        aioswf("history", "order-1", *d, endpoint=swf),
        aioswf("history", "order-1", "--json", *d, endpoint=swf),
        aioswf("list", "--closed", "--status", "COMPLETED", "--json", *d, endpoint=swf),
    )
    assert history.status == 0, history.err
    out = history.out
    assert "approve" in out
    assert '["alice"]' in out
    assert "flaky/1" in out
    assert "attempt 1 failed" in out
    assert "attempt 2" in out  # the retry that worked
    assert "COMPLETED" in out

    # --json writes what `aws swf get-workflow-execution-history` writes; replay reads it.
    document = json.loads(as_json.out)
    assert document["events"][0]["eventType"] == "WorkflowExecutionStarted"
    assert isinstance(document["events"][0]["eventTimestamp"], float)
    saved = tmp_path / "order-1.json"
    saved.write_text(as_json.out)
    replayed = await aioswf("replay", str(saved), "--workflows", "tests.cli.app")
    assert replayed.status == 0, replayed.out + replayed.err

    assert [e["workflowId"] for e in json.loads(closed_json.out)["executions"]] == ["order-1"]


async def test_failures_cancel_terminate_and_continue_as_new(swf: str) -> None:
    d = ("-d", DOMAIN)
    # Types started by their registered names (the worker registered them).
    started, *_, waited = await asyncio.gather(
        aioswf(
            "start", "Doomed", "-w", "doomed", "-i", '"no stock"', "-t", "cli", *d, endpoint=swf
        ),
        aioswf(
            "start", "Approval", "-w", "to-cancel", "-i", '"o-2"', "-t", "cli", *d, endpoint=swf
        ),
        aioswf("start", "Approval", "-w", "to-end", "-i", '"o-3"', "-t", "cli", *d, endpoint=swf),
        aioswf("start", "Pages", "-w", "pages", "-i", "0", "-t", "cli", *d, endpoint=swf),
        aioswf(
            "start",
            "tests.cli.app:Greet",
            "-w",
            "waited",
            "-i",
            '"ann"',
            "-t",
            "cli",
            "--wait",
            "--json",
            *d,
            endpoint=swf,
        ),
    )
    assert started.status == 0, started.err
    assert "started doomed" in started.out
    assert json.loads(waited.out) == {"workflowId": "waited", "result": "HELLO ANN"}
    cancelled, terminated = await asyncio.gather(
        aioswf("cancel", "to-cancel", "--json", *d, endpoint=swf),
        aioswf("terminate", "to-end", "--reason", "duplicate", "--json", *d, endpoint=swf),
    )
    assert cancelled.status == 0, cancelled.err
    assert json.loads(cancelled.out) == {
        "workflowId": "to-cancel",
        "runId": None,
        "cancelRequested": True,
    }
    assert terminated.status == 0, terminated.err
    assert json.loads(terminated.out)["terminated"] is True
    failed, failed_json, ended, gone, pages = await asyncio.gather(
        aioswf("result", "doomed", "--timeout", "30", *d, endpoint=swf),
        aioswf("result", "doomed", "--timeout", "30", "--json", *d, endpoint=swf),
        aioswf("result", "to-end", *d, endpoint=swf),
        aioswf("result", "to-cancel", "--timeout", "30", *d, endpoint=swf),
        aioswf("result", "pages", "--timeout", "30", *d, endpoint=swf),
    )
    assert "cannot go on: no stock" in one_line_error(failed, "result")
    assert failed_json.status == 1
    assert json.loads(failed_json.out)["error"] == "WorkflowFailedError"
    assert "duplicate" in one_line_error(ended, "result")
    assert "cancel" in one_line_error(gone, "result")
    assert json.loads(pages.out) == "read 3 pages"

    history, last, counts, failed_only, by_type = await asyncio.gather(
        aioswf("history", "doomed", *d, endpoint=swf),
        aioswf("describe", "pages", "--json", *d, endpoint=swf),
        aioswf("count", "--all", "--json", *d, endpoint=swf),
        aioswf("list", "--status", "FAILED", "--json", *d, endpoint=swf),
        aioswf("list", "--all", "--type", "Pages", *d, endpoint=swf),
    )
    assert "FAILED" in history.out
    assert "cannot go on: no stock" in history.out
    assert json.loads(last.out)["continuedFrom"]
    # doomed, to-cancel, to-end, waited, three runs of pages
    assert json.loads(counts.out)["closed"]["count"] == 7
    assert [e["workflowId"] for e in json.loads(failed_only.out)["executions"]] == ["doomed"]
    assert by_type.out.count("pages") == 3


async def test_domains_and_types(swf: str) -> None:
    registered = await aioswf("domain", "register", "spare", "--retention-days", "3", endpoint=swf)
    assert registered.out.strip() == "registered domain spare"
    again, domains_json, domains, described, described_json = await asyncio.gather(
        aioswf("domain", "register", "spare", endpoint=swf),
        aioswf("domain", "list", "--json", endpoint=swf),
        aioswf("domain", "list", endpoint=swf),
        aioswf("domain", "describe", "spare", endpoint=swf),
        aioswf("domain", "describe", "spare", "--json", endpoint=swf),
    )
    assert "spare" in domains.out
    assert "REGISTERED" in domains.out
    config = json.loads(described_json.out)["configuration"]
    assert config["workflowExecutionRetentionPeriodInDays"] == "3"
    assert again.status == 0
    assert "already registered" in again.out
    assert {d["name"] for d in json.loads(domains_json.out)} == {DOMAIN, "spare"}
    assert "retention 3 days" in described.out
    types = await aioswf("type", "register", "tests.cli.app", "-d", "spare", endpoint=swf)
    assert "registered Greet/1" in types.out
    assert "registered shout/1" in types.out
    listed_json, human = await asyncio.gather(
        aioswf("type", "list", "--json", "-d", "spare", endpoint=swf),
        aioswf("type", "list", "--kind", "workflow", "-d", "spare", endpoint=swf),
    )
    listed = json.loads(listed_json.out)
    assert {(t["kind"], t["name"]) for t in listed} >= {
        ("workflow", "Greet"),
        ("activity", "flaky"),
    }
    assert "Pages" in human.out
    assert "flaky" not in human.out


async def test_expected_failures_are_one_line_and_a_non_zero_status(swf: str) -> None:
    d = ("-d", DOMAIN)
    greet = ("start", "tests.cli.app:Greet", "-w", "g", "-t", "cli")
    (
        unknown_domain,
        mistyped,
        unknown,
        unreachable,
        bad_json,
        wrong_type,
        no_type,
        no_domain,
        timed_out,
        debug,
    ) = await asyncio.gather(
        aioswf("list", "-d", "no-such-domain", endpoint=swf),
        aioswf(*greet, "-i", '"x"', "-d", "cli-comands", endpoint=swf),
        aioswf("describe", "nobody", *d, endpoint=swf),
        aioswf("list", *d, endpoint="http://127.0.0.1:9"),
        aioswf("start", "Greet", "-w", "g", "-i", "ada", *d, endpoint=swf),
        aioswf(*greet, "-i", "3", *d, endpoint=swf),
        aioswf("start", "Nothing", "-w", "g", *d, endpoint=swf),
        aioswf("list", endpoint=swf),
        aioswf("result", "nobody", *d, "--timeout", "0.5", endpoint=swf),
        aioswf("--debug", "describe", "x", *d, endpoint="http://127.0.0.1:9", traceback=True),
    )
    assert "no-such-domain" in one_line_error(unknown_domain, "list")
    assert "domain 'cli-comands' does not exist" in one_line_error(mistyped, "start")
    assert "no execution with workflow id 'nobody'" in one_line_error(unknown, "describe")
    assert "could not be reached" in one_line_error(unreachable, "list")
    assert bad_json.status == 2
    assert "--input 1 is not JSON" in bad_json.err
    assert "argument 'name' of Greet.run does not fit str" in one_line_error(wrong_type, "start")
    assert "no workflow type named 'Nothing'" in one_line_error(no_type, "start")
    assert no_domain.status == 2
    assert "AIOSWF_DOMAIN" in no_domain.err
    assert timed_out.status != 0
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
        await client.register_domain()
        handle = await client.start_workflow(
            Approval.run, "o", workflow_id="late", task_list="none"
        )
        assert handle.run_id is not None  # the run it started, as repr() shows
        assert handle.run_id in repr(handle)
        with pytest.raises(
            TimeoutError,
            match=r"workflow 'late' in domain 'cli-commands' did not close within 0\.2 s\b",
        ):
            await handle.result(timeout=timedelta(seconds=0.2))


async def test_describe_says_when_decision_tasks_are_failing(swf: str) -> None:
    d = ("-d", DOMAIN)
    await aioswf("start", "Misconfigured", "-w", "stuck", "-t", "cli", *d, endpoint=swf)
    for _ in range(100):
        described = json.loads((await aioswf("describe", "stuck", "--json", *d, endpoint=swf)).out)
        if described["decisionsFailing"]:
            break
        await asyncio.sleep(0.2)
    failing = described["decisionsFailing"]
    assert failing["errorType"] == "KeyError"
    assert "PAYMENT_URL is not set" in failing["message"]
    human = await aioswf("describe", "stuck", *d, endpoint=swf)
    assert "failing since" in human.out
    assert "KeyError" in human.out


async def test_history_follow_prints_steps_as_they_happen(swf: str) -> None:
    d = ("-d", DOMAIN)
    await aioswf(
        "start", "Approval", "-w", "followed", "-i", '"o-9"', "-t", "cli", *d, endpoint=swf
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioswf.cli",
        "history",
        "followed",
        "--follow",
        *d,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "AWS_ENDPOINT_URL_SWF": swf, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert "following followed run" in first
    await aioswf("signal", "followed", "approve", "-i", '"bob"', *d, endpoint=swf)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    lines = out.decode().splitlines()
    assert process.returncode == 0, err.decode()
    assert any("signal" in line and "approve" in line for line in lines)
    assert any("flaky/1" in line and "failed" in line for line in lines)
    assert any("flaky/1" in line and "completed" in line and "attempt 2" in line for line in lines)
    assert lines[-1].startswith("COMPLETED after")
    assert '"o-9 approved by bob (finally)"' in lines[-1]
