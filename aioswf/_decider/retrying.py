"""Retrying a decision task, visibly.

SWF has no "decision task failed" event: a task left unanswered only times out, and nothing
that ``DescribeWorkflowExecution`` or the console shows says why. So when workflow code raises
an error that the worker's policy retries (``NondeterminismError`` by default), the task is
answered with two things, neither of them the code's: the failure report
(:class:`~aioswf.executions.DecisionFailure`) as the execution context, and a back-off timer
under a reserved id, whose firing brings the next attempt.

Replay treats such a task as if it had not run: its events are applied with the next task's,
and the reserved timer's events are ignored, so the decisions of the code never depend on how
many attempts failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aioswf._decider.commands import Command
from aioswf._decider.history import RETRY_TIMER_PREFIX, Event, attrs
from aioswf._failure import error_text, wire_length
from aioswf.converter import MAX_DATA_LENGTH, truncate
from aioswf.executions import DecisionFailure

_FIRST_BACKOFF = 1.0
_MAX_BACKOFF = 3_600.0
"""Each attempt adds five events to the history, which SWF ends at 25,000: at one attempt an
hour, a run waits about 200 days for its fix."""
_MESSAGE_LIMIT = 2_000
"""Characters of the error message kept in the report; the worker log has the whole of it."""


def backoff(attempts: int) -> timedelta:
    """1 s after the first failed attempt, doubling, at most an hour."""
    return timedelta(seconds=min(_MAX_BACKOFF, _FIRST_BACKOFF * 2 ** min(attempts - 1, 32)))


def next_failure(
    previous: DecisionFailure | None, now: float, error: BaseException
) -> DecisionFailure:
    """The report of one more failed attempt, continuing ``previous``'s streak."""
    attempts = previous.attempts + 1 if previous is not None else 1
    since = previous.since if previous is not None else datetime.fromtimestamp(now, UTC)
    return DecisionFailure(
        since=since,
        attempts=attempts,
        error_type=type(error).__name__,
        message=truncate(error_text(error), _MESSAGE_LIMIT),
        retry_in=backoff(attempts),
    )


def retry_timer(started_id: int, failure: DecisionFailure) -> Command:
    """The back-off timer of the attempt that ran as decision task ``started_id``."""
    return Command(
        "StartTimer",
        {
            "timerId": f"{RETRY_TIMER_PREFIX}{started_id}",
            "startToFireTimeout": str(max(1, int(failure.retry_in.total_seconds()))),
        },
    )


class ExecutionContext:
    """What ``DescribeWorkflowExecution`` shows of the run: its state, or a failure report.

    It tracks the context SWF holds (from ``DecisionTaskCompleted`` events), the state the
    code published (``workflow.set_state``), and the report of the attempts that failed just
    before the task being decided.
    """

    def __init__(self) -> None:
        self.state: str | None = None
        """The JSON the code published last, to send when it changes."""
        self.failure: DecisionFailure | None = None
        """The report of the attempts that failed just before this task, if any."""
        self._sent: str | None = None
        self._held: str | None = None
        """The context SWF holds as of the newest event seen, for the streak of failures:
        replay may fail before it reaches the events of the attempts that failed last."""

    def seen(self, events: Sequence[Event]) -> None:
        """Note the newest context among ``events`` (new events of an activation)."""
        for event in reversed(events):
            if event["eventType"] == "DecisionTaskCompleted":
                context = attrs(event).get("executionContext")
                if context is not None:
                    self._held = context
                    return

    def seen_newest(self, context: str | None) -> None:
        """:meth:`seen`, told the newest context among the new events (``None``: none)."""
        if context is not None:
            self._held = context

    def recorded(self, context: str | None) -> None:
        """A ``DecisionTaskCompleted`` recorded ``context`` (``None``: unchanged)."""
        if context is not None:
            self._sent = context
            self.failure, _ = DecisionFailure.from_context(context)

    def to_send(self) -> str | None:
        """The context for a task that succeeded: the state when it changed, or to replace a
        failure report (with nothing, if no state was published); ``None`` to leave it."""
        if self.failure is not None:
            self.failure = None
            self._sent = self.state or ""
            return self._sent
        if self.state is not None and self.state != self._sent:
            self._sent = self.state
            return self._sent
        return None

    def report(self, error: BaseException, now: float) -> tuple[DecisionFailure, str]:
        """The failure report of one more failed attempt, and the context that carries it
        (keeping the state SWF shows now)."""
        previous, state = DecisionFailure.from_context(self._held)
        failure = next_failure(previous, now, error)
        context = failure.to_context(state)
        # Escaped, a long state or a non-ASCII message may not fit in the field: SWF would
        # refuse the answer, and the run would stall unseen. Cut the message, then the state
        # (sent again once a task succeeds).
        while wire_length(context) > MAX_DATA_LENGTH and len(failure.message) > 64:
            failure = replace(failure, message=truncate(failure.message, len(failure.message) // 2))
            context = failure.to_context(state)
        if wire_length(context) > MAX_DATA_LENGTH:
            context = failure.to_context(None)
        return failure, context
