"""Reading and writing workflow histories as JSON files.

The format is what ``aws swf get-workflow-execution-history --output json`` prints: an object
whose ``events`` are the events as SWF sends them, timestamps in epoch seconds. A file saved
here also names its execution under ``workflowExecution`` (``workflowId`` and ``runId``), so
that a replay seeds ``workflow.random()`` and ``workflow.uuid4()`` exactly as the run did;
files without it load all the same.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aioswf._history_check import check_event_ids, check_events, check_execution
from aioswf.exceptions import HistoryError

if TYPE_CHECKING:
    from aioswf.client import WorkflowHandle

logger = logging.getLogger(__name__)

HistorySource = str | os.PathLike[str] | Mapping[str, Any] | Sequence[Mapping[str, Any]]
"""A history: a JSON file's path, its parsed object, or a list of events."""


@dataclass(frozen=True, slots=True)
class History:
    """The events of one workflow run, oldest first, with ``eventTimestamp`` as ``datetime``.

    Attributes:
        events: the events, as ``handle.history()`` yields them.
        workflow_id: the execution's workflow id, when known.
        run_id: the run's id, when known.
        name: where the history came from, for messages (a file name, or ``"history"``).
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    workflow_id: str | None = None
    run_id: str | None = None
    name: str = "history"


def load_history(source: HistorySource, *, name: str | None = None) -> History:
    """Read a history from a JSON file, a parsed JSON object, or a list of events.

    Timestamps may be epoch seconds (as SWF and the AWS CLI write them), ISO 8601 strings or
    ``datetime`` objects; they come back as timezone-aware ``datetime`` objects.

    Args:
        source: the history.
        name: how messages name it; the file name by default.

    Raises:
        HistoryError: the data is not a history SWF could have written (a ``ValueError``);
            the message names the event and the field at fault.
    """
    label = name
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = label or str(path)
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as error:
            raise HistoryError(label, f"cannot be read as JSON: {error}") from None
    label = label or "history"
    execution: Any = None
    if isinstance(source, Mapping):
        execution = source.get("workflowExecution")
        raw = source.get("events")
    else:
        raw = source
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise HistoryError(label, "expected a list of events or {'events': [...]}")
    if execution is None:
        execution = {}
    else:  # it seeds the replayed run's random numbers: a wrong one would pass unseen
        check_execution(execution, label)
    check_event_ids(raw, label)
    events = [_read_event(event, label) for event in raw]
    events.sort(key=lambda event: int(event["eventId"]))
    check_events(events, label)
    workflow_id, run_id = execution.get("workflowId"), execution.get("runId")
    return History(
        events,
        workflow_id if isinstance(workflow_id, str) else None,
        run_id if isinstance(run_id, str) else None,
        label,
    )


def save_history(
    path: str | os.PathLike[str],
    events: Sequence[Mapping[str, Any]],
    *,
    workflow_id: str | None = None,
    run_id: str | None = None,
) -> None:
    """Write ``events`` to ``path`` as the AWS CLI would, timestamps in epoch seconds.

    Args:
        path: the file to write (replaced if it exists).
        events: the history events, oldest first.
        workflow_id: the execution's workflow id, kept beside the events.
        run_id: the run's id, kept beside the events.
    """
    document: dict[str, Any] = {"events": [_plain(event) for event in events]}
    if workflow_id is not None and run_id is not None:
        document["workflowExecution"] = {"workflowId": workflow_id, "runId": run_id}
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")


async def fetch_history(
    handle: WorkflowHandle[Any], path: str | os.PathLike[str], *, run_id: str | None = None
) -> History:
    """Save the history of a handle's run to ``path``, for the replayer.

    Args:
        handle: the execution.
        path: the JSON file to write.
        run_id: the run to save; by default the handle's run, else the one it started,
            else the execution's current run.

    Returns:
        The history as saved.
    """
    chosen = run_id or handle.pinned_run_id or handle.first_run_id
    if chosen is None:
        chosen = (await handle.describe()).info.run_id
    events = [dict(event) async for event in handle.history(run_id=chosen)]
    save_history(path, events, workflow_id=handle.workflow_id, run_id=chosen)
    logger.info("saved %d events of %s/%s to %s", len(events), handle.workflow_id, chosen, path)
    return History(events, handle.workflow_id, chosen, str(path))


def _read_event(event: Mapping[str, Any], label: str) -> dict[str, Any]:
    if "eventType" not in event:
        raise HistoryError(label, f"{event!r} is not a history event: it has no eventType")
    copy = dict(event)
    try:
        copy["eventTimestamp"] = _as_datetime(event.get("eventTimestamp"))
    except (ValueError, OverflowError, OSError) as error:
        raise HistoryError(
            label,
            f"is not a time: {error}",
            event_id=event.get("eventId"),
            event_type=str(event.get("eventType")),
            field="eventTimestamp",
        ) from None
    return copy


def _as_datetime(value: Any, label: str | None = None) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except ValueError:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    where = f"{label}: " if label else ""  # a HistoryError around it names the history itself
    raise ValueError(f"{where}expected epoch seconds or an ISO 8601 time, not {value!r}")


def _plain(value: Any) -> Any:
    """``value`` with every ``datetime`` as epoch seconds, ready for ``json.dumps``."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
