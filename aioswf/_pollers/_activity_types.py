"""The timeouts of one activity task, which SWF does not hand to the worker.

A task scheduled by an aioswf workflow states them: the decision states every timeout, and
the ones that differ from the type's declared options travel in headers of its input. A task
scheduled by another SWF client runs with what its decision said, which the worker cannot
see, or else with the type's registered defaults, which ``DescribeActivityType`` tells (once
per type); where neither is known the worker's declared options stand in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from aioswf import exceptions as exc
from aioswf._decider.activity import (
    HEARTBEAT_TIMEOUT_HEADER,
    SCHEDULE_TO_CLOSE_TIMEOUT_HEADER,
    START_TO_CLOSE_TIMEOUT_HEADER,
)
from aioswf._definitions import ActivityDefinition
from aioswf._transport import Transport
from aioswf.options import duration_from_swf

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskTimeouts:
    """The timeouts SWF applies to one activity task; ``None``: none (or none known)."""

    heartbeat: timedelta | None = None
    start_to_close: timedelta | None = None
    schedule_to_close: timedelta | None = None

    def answer_deadline(self, received: float) -> float:
        """The loop time past which SWF can no longer accept the task's answer.

        Both timeouts are counted from ``received`` (when the worker got the task), which is
        no earlier than SWF started (and scheduled) it: the deadline is never before SWF's
        own. ``math.inf`` when neither is known.
        """
        bounds = [t.total_seconds() for t in (self.start_to_close, self.schedule_to_close) if t]
        return received + min(bounds) if bounds else math.inf

    def or_else(self, other: TaskTimeouts) -> TaskTimeouts:
        """These timeouts, each one not known here taken from ``other``."""
        return TaskTimeouts(
            self.heartbeat if self.heartbeat is not None else other.heartbeat,
            self.start_to_close if self.start_to_close is not None else other.start_to_close,
            (
                self.schedule_to_close
                if self.schedule_to_close is not None
                else other.schedule_to_close
            ),
        )


_HEADERS = {
    "heartbeat": HEARTBEAT_TIMEOUT_HEADER,
    "start_to_close": START_TO_CLOSE_TIMEOUT_HEADER,
    "schedule_to_close": SCHEDULE_TO_CLOSE_TIMEOUT_HEADER,
}


def declared_timeouts(definition: ActivityDefinition) -> TaskTimeouts:
    """The timeouts ``@activity.defn`` declares."""
    options = definition.options
    return TaskTimeouts(
        options.heartbeat_timeout, options.start_to_close_timeout, options.schedule_to_close_timeout
    )


def stated_timeouts(headers: Mapping[str, str], describe: str) -> dict[str, timedelta | None]:
    """The per-call timeouts an aioswf workflow stated in the input's headers, by field."""
    stated: dict[str, timedelta | None] = {}
    for field, header in _HEADERS.items():
        text = headers.get(header)
        if text is None:
            continue
        try:
            stated[field] = duration_from_swf(text)
        except ValueError:
            logger.warning("%s: ignoring a malformed %s header: %r", describe, header, text)
    return stated


class RegisteredDefaults:
    """Registered default timeouts of activity types, looked up once each and cached.

    Args:
        transport: where to send ``DescribeActivityType``.
        domain: the types' domain.
    """

    def __init__(self, transport: Transport, domain: str) -> None:
        self._transport = transport
        self._domain = domain
        self._known: dict[tuple[str, str], asyncio.Future[TaskTimeouts]] = {}

    def prefetch(self, definitions: Iterable[ActivityDefinition]) -> None:
        """Start reading the types that declare no heartbeat timeout, in the background."""
        for definition in definitions:
            if definition.options.heartbeat_timeout is None:
                self._lookup(definition)

    async def timeouts(self, definition: ActivityDefinition) -> TaskTimeouts:
        """The registered default timeouts of ``definition``'s type.

        A failed look-up is logged and read as "none registered" (the declared timeouts then
        count); the next task of the type looks again.
        """
        known = self._lookup(definition)
        if known.done():
            return known.result()  # without handing the loop over
        return await asyncio.shield(known)

    def _lookup(self, definition: ActivityDefinition) -> asyncio.Future[TaskTimeouts]:
        key = (definition.name, definition.version)
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = asyncio.ensure_future(self._describe(definition))
        return known

    async def _describe(self, definition: ActivityDefinition) -> TaskTimeouts:
        params = {"domain": self._domain, "activityType": definition.swf_type()}
        try:
            answer = await self._transport.call("DescribeActivityType", params)
        except exc.AioSWFError as error:
            logger.warning(
                "activity type %s: cannot read its registered timeouts, so the declared ones "
                "count for now: %s",
                definition.type_key,
                error,
            )
            self._known.pop((definition.name, definition.version), None)
            return TaskTimeouts()
        configuration = answer.get("configuration") or {}

        def default(name: str) -> timedelta | None:
            try:
                return duration_from_swf(configuration.get(name))
            except ValueError:
                return None

        return TaskTimeouts(
            default("defaultTaskHeartbeatTimeout"),
            default("defaultTaskStartToCloseTimeout"),
            default("defaultTaskScheduleToCloseTimeout"),
        )


async def task_timeouts(
    definition: ActivityDefinition,
    headers: Mapping[str, str],
    *,
    from_aioswf: bool,
    registered: RegisteredDefaults,
    describe: str,
) -> TaskTimeouts:
    """The timeouts of one task of ``definition``, as far as the worker can know them.

    Args:
        definition: the task's activity.
        headers: the headers of the task's input.
        from_aioswf: whether an aioswf workflow scheduled the task: it stated every timeout,
            those not in a header being the declared ones.
        registered: the registered defaults, for tasks of other SWF clients.
        describe: how logs name the task.
    """
    base = declared_timeouts(definition)
    if not from_aioswf:
        # What its decision left out, SWF took from the registered type.
        base = (await registered.timeouts(definition)).or_else(base)
    stated = stated_timeouts(headers, describe) if headers else None
    return dataclasses.replace(base, **stated) if stated else base
