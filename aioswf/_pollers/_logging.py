"""What workers say about their tasks and their polls, for a person following the log.

One INFO line per decided decision task and per finished activity task, with the context
also as structured fields on the record (``workflow_id``, ``run_id``, ``workflow_type``,
``activity_id``, ``activity_type``), so a JSON log formatter can index them. Poll failures
are said once per outage, with the back-off, and again when polling works once more.

An idle worker's long poll may not return for a minute after SWF is back, so after a poll SWF
could not answer, a cheap call (``DescribeDomain``) goes first, and its answer ends the
outage in the log at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aioswf import exceptions as exc
from aioswf._pollers._contact import SwfContact
from aioswf._transport import Transport
from aioswf._wording import count, duration


def decision_summary(decisions: Sequence[Mapping[str, Any]]) -> str:
    """``2 ScheduleActivityTask, StartTimer``, or ``nothing new`` for no decisions."""
    counts = collections.Counter(str(d.get("decisionType")) for d in decisions)
    if not counts:
        return "nothing new"
    return ", ".join(name if n == 1 else f"{n} {name}" for name, n in counts.items())


def task_fields(execution: Mapping[str, Any], **more: str | None) -> dict[str, str | None]:
    """The structured fields of a log record about a task of ``execution``."""
    return {
        "workflow_id": execution.get("workflowId"),
        "run_id": execution.get("runId"),
        **more,
    }


def short_error(error: BaseException) -> str:
    """An error in a few words, for a line that repeats: SWF's code and message."""
    if isinstance(error, exc.ServiceError):
        message = (error.service_message or "").splitlines()
        return f"{error.code}: {message[0]}" if message else str(error.code)
    return f"{type(error).__name__}: {error}"


class PollHealth:
    """Logs each kind of poll failure once per outage, and when polling works again.

    Args:
        logger: where to log.
        what: what is polled, e.g. ``"activity tasks on 'orders'"``.
        max_delay: the longest back-off, for the message.
        contact: shared by the worker's poll loops, so that the first to reach SWF after an
            outage wakes the others.
    """

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        max_delay: float,
        contact: SwfContact | None = None,
    ) -> None:
        self.logger = logger
        self.contact = contact or SwfContact()
        self.what = what
        self.max_delay = max_delay
        self.failures = 0
        self._since = 0.0
        self._seen: set[str] = set()
        self._answered_at: int | None = None
        """The failure count when a probe went through in this outage, if one did."""

    def failed(self, error: BaseException, delay: float) -> None:
        """A poll failed: logged the first time this kind of failure is seen in an outage."""
        self.failures += 1
        if self.failures == 1:
            self._since = time.monotonic()
        kind = _kind(error)
        if kind not in self._seen:
            self._seen.add(kind)
            transient = isinstance(error, exc.ThrottlingError | exc.ServiceUnavailableError)
            self.logger.log(
                logging.WARNING if transient else logging.ERROR,
                "polling %s failed (%s); polling again with back-off (up to %s apart) "
                "until it works, which will be logged",
                self.what,
                short_error(error),
                duration(self.max_delay),
                exc_info=not isinstance(error, exc.AioSWFError),
            )
        else:
            self.logger.debug(
                "polling %s failed again (%d in a row, next in %s): %s",
                self.what,
                self.failures,
                duration(delay),
                short_error(error),
            )

    async def back_off(self, error: BaseException, delay: float, stopping: asyncio.Event) -> None:
        """Wait ``delay`` seconds after ``error``, or until ``stopping`` is set.

        After a poll SWF could not answer, the wait also ends when SWF answers another poll
        loop of the worker; a refusal (throttling, a 4xx) is waited out in full.
        """
        if isinstance(error, exc.ServiceUnavailableError):
            await self.contact.back_off(stopping, delay)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)

    def should_probe(self, error: BaseException) -> bool:
        """Whether the next poll waits for a probe after ``error``.

        After a poll SWF could not answer (unreachable, a server error) until a probe goes
        through in this outage; not after a refusal (throttling, a 4xx such as
        AccessDenied), which a probe would not tell apart from health.
        """
        return isinstance(error, exc.ServiceUnavailableError) and self._answered_at is None

    async def probe(self, transport: Transport, domain: str) -> None:
        """Check with ``DescribeDomain`` that SWF answers again, and say so at once.

        Raises:
            aioswf.exceptions.AioSWFError: it does not; counted like a failed poll.
        """
        await transport.call("DescribeDomain", {"name": domain}, retry=False)
        self.contact.answered()
        if self.failures and self._answered_at is None:
            self._answered_at = self.failures
            self.logger.info(
                "SWF answers again, after %s of %s over %s; polling resumes",
                count(self.failures, "failed poll"),
                self.what,
                duration(round(time.monotonic() - self._since)),
            )

    def succeeded(self) -> None:
        """A poll was answered; after an outage, say it is over (unless a probe did)."""
        if self.failures:
            self.contact.answered()
            # Polls that failed after the probe went through (SWF answered other calls only)
            # would leave the probe's line the last word.
            said = self._answered_at == self.failures
            self.logger.log(
                logging.DEBUG if said else logging.INFO,
                "polling %s works again, after %s over %s",
                self.what,
                count(self.failures, "failed poll"),
                duration(round(time.monotonic() - self._since)),
            )
        self.failures = 0
        self._answered_at = None
        self._seen.clear()


def _kind(error: BaseException) -> str:
    return str(error.code) if isinstance(error, exc.ServiceError) else type(error).__name__
