"""``history``: a run's history as a timeline, live with ``--follow``, or as JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from aioswf.cli import _render
from aioswf.cli._common import Commands, add_command, add_connection, run_with_client

_FOLLOW_START = 0.5
_FOLLOW_MAX = 5.0


def register(commands: Commands) -> None:
    """Add ``history``."""
    history = add_command(
        commands,
        "history",
        help="show a run's history as a timeline",
        description="Show what a run did: each activity attempt, timer, signal, child and "
        "marker, with its timing, status, result or failure. --follow watches an open run "
        "until it closes. --json writes the history as the AWS CLI does "
        "(get-workflow-execution-history), which `aioswf replay` reads.",
        example="aioswf history order-o-1 --follow -d shop\n"
        "  aioswf history order-o-1 --json -d shop > order.json && "
        "aioswf replay order.json --workflows shop.workflows",
    )
    add_connection(history)
    history.add_argument("workflow_id", metavar="WORKFLOW_ID", help="the execution's workflow id")
    history.add_argument("--run-id", "-r", help="a given run (default: the current or last one)")
    mode = history.add_mutually_exclusive_group()
    mode.add_argument("--follow", "-f", action="store_true", help="watch it until it closes")
    mode.add_argument(
        "--json", action="store_true", help="the raw events as JSON, in the AWS CLI's form"
    )
    mode.add_argument("--events", action="store_true", help="the raw events, one per line")
    history.set_defaults(handler=_history)


def _history(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        handle = client.get_workflow_handle(args.workflow_id, run_id=args.run_id)
        run_id = args.run_id or (await handle.describe()).info.run_id
        if args.follow:
            await _follow(client, handle, run_id)
            return 0
        events = [event async for event in handle.history(run_id=run_id)]
        if args.json:
            _write_json(events, args.workflow_id, run_id)
        elif args.events:
            _print_events(events)
        else:
            from aioswf.timeline import build_timeline, fetch_payloads

            await fetch_payloads(client.converter, events)
            _render.timeline(
                build_timeline(
                    events, converter=client.converter, workflow_id=args.workflow_id, run_id=run_id
                )
            )
        return 0

    return run_with_client(args, body)


def _write_json(events: list[dict[str, Any]], workflow_id: str, run_id: str) -> None:
    from aioswf._history import _plain

    document = {
        "events": [_plain(event) for event in events],
        "workflowExecution": {"workflowId": workflow_id, "runId": run_id},
    }
    sys.stdout.write(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def _print_events(events: list[dict[str, Any]]) -> None:
    from aioswf.timeline import _attrs

    for event in events:
        attrs = json.dumps(_attrs(event), default=str, ensure_ascii=False)
        _render.console().print(
            f"{event['eventId']:>5}  {_render.when(event['eventTimestamp'])}  "
            f"{event['eventType']:<40} {_render.short(attrs, 100)}",
            markup=False,
        )


async def _follow(client: Any, handle: Any, run_id: str) -> None:
    """Print each step as it begins and ends, until the run closes (following new runs)."""
    from aioswf.timeline import build_timeline, fetch_payloads

    shown: dict[int, str] = {}
    events: list[dict[str, Any]] = []
    delay = _FOLLOW_START
    _render.console().print(f"following {handle.workflow_id} run {run_id} (Ctrl-C stops)")
    while True:
        last = events[-1]["eventId"] if events else 0
        async for event in handle.history(run_id=run_id):
            if event["eventId"] > last:
                events.append(event)
        await fetch_payloads(client.converter, events)
        run = build_timeline(
            events, converter=client.converter, workflow_id=handle.workflow_id, run_id=run_id
        )
        changed = False
        for number, step in enumerate(run.steps):
            if shown.get(number) != step.status:
                shown[number] = step.status
                changed = True
                _render.console().print(_follow_line(step))
        if run.status != "OPEN":
            _render.console().print(_render.ending(run))
            if run.continued_to is None:
                return
            run_id, events, shown = run.continued_to, [], {}
            _render.console().print(f"following run {run_id}")
            continue
        delay = _FOLLOW_START if changed else min(delay * 1.5, _FOLLOW_MAX)
        await asyncio.sleep(delay)


def _follow_line(step: Any) -> Any:
    from rich.text import Text

    from aioswf.timeline import step_detail

    at = step.ended if step.ended is not None else step.started
    line = Text(f"{_render.when(at)}  {step.kind:<8} {step.name} {step.id} ")
    line.append_text(_render.status_text(step.status))
    if step.kind == "activity" and step.attempt > 1:
        line.append(f" (attempt {step.attempt})")
    if step.duration is not None and step.kind != "signal":
        line.append(f" in {_render.took(step.duration)}")
    detail = step_detail(step)
    if detail:
        line.append(f"  {detail}")
    return line
