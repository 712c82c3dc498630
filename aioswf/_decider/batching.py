"""Keeping every RespondDecisionTaskCompleted within SWF's 1 MB request limit.

Each decision is small (every payload member is capped at 32,768 characters), but a step that
schedules many activities at once can make a batch larger than SWF accepts: sixty activities
with 20 KB inputs are over 1 MB. Such a batch is split, in order: the decisions that fit are
sent with a zero-second *continuation timer* under a reserved id, whose firing brings the next
decision task, and the rest are carried over and sent first in that task.

Replay splits where history says the task's answer was split (at its continuation timer),
not by size again: the size of the same decisions changes with the deployment (a codec added,
a header set by an interceptor), and a split that moved would shift every later decision to
another task. The continuation timer is no decision of the code's: its events are ignored,
like those of any timer id the code did not make.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aioswf._decider.history import CONTINUE_TIMER_PREFIX, Event, attrs, is_continuation_event

if TYPE_CHECKING:
    # `commands` imports this module to split what it takes; the timers below are rare.
    from aioswf._decider.commands import Command

logger = logging.getLogger(__name__)

REQUEST_LIMIT_BYTES = 1_000_000
"""SWF's request size limit: 1 MB, headers included."""
DECISIONS_BUDGET_BYTES = REQUEST_LIMIT_BYTES - 100_000
"""What the decisions of one answer may take: the rest is kept for the task token (up to
1,024 characters), the execution context (up to 32,768), headers and JSON framing."""


def encoded_size(commands: Sequence[Command]) -> int:
    """Bytes of the decisions of ``commands`` as one JSON list, as botocore sends it."""
    if not commands:
        return len("[]")
    separators = len(", ") * (len(commands) - 1)
    return len("[]") + separators + sum(c.encoded_size() for c in commands)


def fit_request(commands: list[Command], started_id: int) -> tuple[list[Command], list[Command]]:
    """Split ``commands`` into what decision task ``started_id`` sends and what waits.

    Returns:
        The commands to send (with a continuation timer last when some wait) and the ones
        carried over to the next task, in order.
    """
    framing = len("[]") + len(", ") * len(commands)
    if framing + sum(c.size_bound() for c in commands) <= DECISIONS_BUDGET_BYTES:
        return commands, []
    if encoded_size(commands) <= DECISIONS_BUDGET_BYTES:
        return commands, []
    timer = continuation_timer(started_id)
    used = encoded_size([timer])
    sent: list[Command] = []
    for command in commands:
        size = command.encoded_size() + len(", ")  # with its separator in the list
        # One decision always fits: each member is capped far below the budget.
        if sent and used + size > DECISIONS_BUDGET_BYTES:
            break
        sent.append(command)
        used += size
    carried = commands[len(sent) :]
    logger.info(
        "decision task %d: %d decisions (%d bytes) exceed what one answer may carry; "
        "sending %d now and %d in the next task",
        started_id,
        len(commands),
        encoded_size(commands),
        len(sent),
        len(carried),
    )
    return [*sent, timer], carried


def split_as_recorded(
    commands: list[Command], recorded: Sequence[Event]
) -> tuple[list[Command], list[Command]]:
    """Split ``commands`` as the replayed task's answer was: before its continuation timer.

    ``recorded`` are the events that recorded the task's decisions, in order. Without a
    continuation timer among them the task sent every decision.

    Returns:
        The commands the task sent (with its continuation timer last when some waited) and
        the ones carried over to the next task, in order.
    """
    for index, event in enumerate(recorded):
        if event["eventType"] == "TimerStarted" and is_continuation_event(event):
            from aioswf._decider.commands import Command

            timer = Command(
                "StartTimer", {"timerId": attrs(event)["timerId"], "startToFireTimeout": "0"}
            )
            return [*commands[:index], timer], commands[index:]
    return commands, []


def continuation_timer(started_id: int) -> Command:
    """The timer whose firing brings the task that sends the rest of a split batch."""
    from aioswf._decider.commands import Command

    return Command(
        "StartTimer", {"timerId": f"{CONTINUE_TIMER_PREFIX}{started_id}", "startToFireTimeout": "0"}
    )
