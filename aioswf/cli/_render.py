"""How the commands show things to a person (rich tables and colour) and to scripts (JSON)."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aioswf._wording import count
from aioswf.executions import WorkflowDescription, WorkflowExecutionInfo
from aioswf.timeline import (
    Step,
    Timeline,
    format_duration,
    format_time,
    shorten,
    step_detail,
)

_STYLES = {
    "COMPLETED": "green",
    "completed": "green",
    "fired": "green",
    "received": "cyan",
    "OPEN": "blue",
    "running": "blue",
    "scheduled": "yellow",
    "FAILED": "bold red",
    "failed": "bold red",
    "TIMED_OUT": "red",
    "timed out": "red",
    "TERMINATED": "magenta",
    "terminated": "magenta",
    "CANCELED": "yellow",
    "canceled": "yellow",
    "refused": "bold red",
    "CONTINUED_AS_NEW": "cyan",
}
_console: Console | None = None
_PIPED_WIDTH = 200


class _Console(Console):
    """Leaves a closed stdout (``| head``) to the CLI's entry point, which exits 0 for every
    command alike; rich's own handling exits 1."""

    def on_broken_pipe(self) -> None:
        del self._buffer[:]
        raise BrokenPipeError


# Narrower than this, the run id column is left out of `aioswf list` (see --json).
_RUN_ID_MIN_WIDTH = 12


def console() -> Console:
    """The console for stdout (colour only on a terminal)."""
    global _console
    if _console is None:
        # Piped into grep or a file, a table is not squeezed into 80 columns and cut.
        piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
        _console = _Console(highlight=False, soft_wrap=True, width=_PIPED_WIDTH if piped else None)
    return _console


def status_text(status: str) -> Text:
    """A status word in its colour."""
    return Text(status, style=_STYLES.get(status, ""))


when = format_time
took = format_duration
short = shorten


def execution_json(info: WorkflowExecutionInfo) -> dict[str, Any]:
    """An execution as the JSON output shows it."""
    return {
        "workflowId": info.workflow_id,
        "runId": info.run_id,
        "workflowType": {"name": info.workflow_type[0], "version": info.workflow_type[1]},
        "status": info.close_status or info.status,
        "startTime": info.start_time,
        "closeTime": info.close_time,
        "tags": list(info.tags),
        "cancelRequested": info.cancel_requested,
        "parent": {"workflowId": info.parent[0], "runId": info.parent[1]} if info.parent else None,
    }


def executions(infos: list[WorkflowExecutionInfo]) -> None:
    """A table of executions."""
    rows = [
        (
            info.workflow_id,
            "/".join(info.workflow_type),
            info.close_status or info.status,
            when(info.start_time),
            when(info.close_time),
        )
        for info in infos
    ]
    heads = ("WORKFLOW ID", "TYPE", "STATUS", "STARTED", "CLOSED")
    natural = [max(len(head), *(len(row[i]) for row in rows)) for i, head in enumerate(heads)]
    table = Table(box=None, header_style="bold", pad_edge=False)
    # The workflow id and the status stay readable; the run id (long, and rarely typed by
    # hand) gets what room is left, cut with an ellipsis, and goes when there is too little.
    table.add_column("WORKFLOW ID", overflow="fold", min_width=min(natural[0], 16))
    table.add_column("TYPE", overflow="fold", min_width=min(natural[1], 8))
    table.add_column("STATUS", no_wrap=True, min_width=natural[2])
    table.add_column("STARTED", min_width=10)
    table.add_column("CLOSED", min_width=10)
    room = console().width - sum(natural) - 2 * len(heads)
    with_run_id = room >= _RUN_ID_MIN_WIDTH
    if with_run_id:
        table.add_column("RUN ID", no_wrap=True, overflow="ellipsis", max_width=room)
    for info, row in zip(infos, rows, strict=True):
        cells: list[Text | str] = [*row[:2], status_text(row[2]), *row[3:]]
        table.add_row(*cells, *((info.run_id,) if with_run_id else ()))
    console().print(table)


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    """A timeline as the JSON output shows it (the same fields as the dataclasses)."""
    data = dataclasses.asdict(timeline)
    for step in data["steps"]:
        step.pop("event_ids")
    return data


def description_json(description: WorkflowDescription, timeline: Timeline) -> dict[str, Any]:
    """``describe --json``: the execution, its settings, what is in flight, its outcome."""
    config = description.configuration
    return {
        **execution_json(description.info),
        "taskList": config.task_list,
        "executionStartToCloseTimeout": config.execution_start_to_close_timeout,
        "taskStartToCloseTimeout": config.task_start_to_close_timeout,
        "childPolicy": str(config.child_policy),
        "state": description.state,
        "decisionsFailing": _decision_failure_json(description),
        "openCounts": dataclasses.asdict(description.open_counts),
        "input": timeline.input,
        "result": timeline.result,
        "error": timeline.error,
        "message": timeline.message,
        "pending": [_step_json(step) for step in timeline.pending],
        "continuedFrom": timeline.continued_from,
        "continuedTo": timeline.continued_to,
    }


def _decision_failure_json(description: WorkflowDescription) -> dict[str, Any] | None:
    failure = description.decision_failure
    if failure is None:
        return None
    return {
        "since": failure.since,
        "attempts": failure.attempts,
        "errorType": failure.error_type,
        "message": failure.message,
        "retryIn": failure.retry_in,
    }


def decision_failure_line(description: WorkflowDescription) -> str:
    """``failing since … (N attempts): Type: message; next try in …``, or ``""``."""
    failure = description.decision_failure
    if failure is None:
        return ""
    return (
        f"failing since {when(failure.since)} ({count(failure.attempts, 'attempt')}): "
        f"{failure.error_type}: {failure.message}; next try in {took(failure.retry_in)}"
    )


def _step_json(step: Step) -> dict[str, Any]:
    data = dataclasses.asdict(step)
    data.pop("event_ids")
    return data


def describe(description: WorkflowDescription, timeline: Timeline) -> None:
    """``describe``: a short sheet, then what is in flight."""
    info, config = description.info, description.configuration
    sheet = Table.grid(padding=(0, 2))
    sheet.add_column(style="bold")
    sheet.add_column()
    status = info.close_status or info.status
    rows: list[tuple[str, Any]] = [
        ("workflow id", info.workflow_id),
        ("run id", info.run_id),
        ("type", "/".join(info.workflow_type)),
        ("status", status_text(status + (" (cancel requested)" if info.cancel_requested else ""))),
        ("started", when(info.start_time)),
        ("closed", when(info.close_time)),
        ("task list", config.task_list),
        ("execution timeout", took(config.execution_start_to_close_timeout)),
        ("tags", ", ".join(info.tags)),
        ("parent", "/".join(info.parent) if info.parent else ""),
        ("continued from", timeline.continued_from or ""),
        ("continued as", timeline.continued_to or ""),
        ("decisions", Text(decision_failure_line(description), style="bold red")),
        ("state", short(description.execution_context, 200)),
        ("input", short(timeline.input, 200)),
        ("result", short(timeline.result, 200)),
        ("failure", _failure(timeline.error, timeline.message)),
    ]
    for label, value in rows:
        if value:
            sheet.add_row(label, value)
    console().print(sheet)
    pending = timeline.pending
    if pending:
        console().print()
        console().print(Text("in flight", style="bold"))
        steps(pending)


def _failure(error: str | None, message: str | None) -> Text | str:
    if not error and not message:
        return ""
    return Text(": ".join(part for part in (error, message) if part), style="red")


def steps(items: list[Step]) -> None:
    """A table of timeline steps."""
    table = Table(box=None, header_style="bold")
    for column in ("STARTED", "KIND", "WHAT", "ID", "STATUS", "TOOK", "DETAIL"):
        # A header is never split mid-word; the cells fold when the terminal is narrow.
        table.add_column(column, overflow="fold", min_width=len(column))
    for step in items:
        table.add_row(
            when(step.started),
            step.kind,
            step.name,
            step.id,
            _step_status(step),
            took(step.duration),
            step_detail(step),
        )
    console().print(table)


def _step_status(step: Step) -> Text:
    text = status_text(step.status)
    if step.kind == "activity" and step.attempt > 1:
        text.append(f" (attempt {step.attempt})")
    return text


def timeline(run: Timeline) -> None:
    """``history``: the run's header, its steps, and how it ended."""
    title = Text.assemble(
        (run.workflow_type or "workflow", "bold"),
        f"  {run.workflow_id}  run {run.run_id}  ",
        status_text(run.status),
    )
    console().print(title)
    if run.continued_from:
        console().print(f"continued from run {run.continued_from}")
    if run.input:
        console().print(f"input: {short(run.input, 200)}")
    steps(run.steps)
    console().print(ending(run))


def ending(run: Timeline) -> Text:
    """One line on how the run ended, or that it is still open."""
    if run.status == "OPEN":
        line = Text("still open", style="blue")
        if run.cancel_requested:
            line.append(" (cancel requested)")
        return line
    line = Text.assemble(status_text(run.status), f" after {took(run.duration)}")
    if run.result is not None:
        line.append(f": {short(run.result, 200)}")
    if run.error or run.message:
        line.append(": " + ": ".join(part for part in (run.error, run.message) if part), "red")
    if run.continued_to:
        line.append(f"; continued as run {run.continued_to}")
    return line
