"""What an activity worker reads from the registered activity types, once per type.

SWF hands a worker the task but not its timeouts. A task scheduled by an aioswf workflow
states them (a header carries a per-call heartbeat timeout); a task scheduled by another SWF
client without one runs with the type's registered default, which ``DescribeActivityType``
tells.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from aioswf import exceptions as exc
from aioswf._definitions import ActivityDefinition
from aioswf._transport import Transport
from aioswf.options import duration_from_swf

logger = logging.getLogger(__name__)


class RegisteredDefaults:
    """Registered heartbeat timeouts of activity types, looked up once each and cached.

    Args:
        transport: where to send ``DescribeActivityType``.
        domain: the types' domain.
    """

    def __init__(self, transport: Transport, domain: str) -> None:
        self._transport = transport
        self._domain = domain
        self._heartbeat: dict[tuple[str, str], asyncio.Future[timedelta | None]] = {}

    def prefetch(self, definitions: Iterable[ActivityDefinition]) -> None:
        """Start reading the types that declare no heartbeat timeout, in the background."""
        for definition in definitions:
            if definition.options.heartbeat_timeout is None:
                self._lookup(definition)

    async def heartbeat_timeout(self, definition: ActivityDefinition) -> timedelta | None:
        """The registered ``defaultTaskHeartbeatTimeout`` of ``definition``'s type, if any.

        A failed look-up is logged and read as "none" (the worker then paces heartbeats by
        its ``heartbeat_interval``); it is not retried for this type.
        """
        known = self._lookup(definition)
        if known.done():
            return known.result()  # without handing the loop over
        return await asyncio.shield(known)

    def _lookup(self, definition: ActivityDefinition) -> asyncio.Future[timedelta | None]:
        key = (definition.name, definition.version)
        known = self._heartbeat.get(key)
        if known is None:
            known = self._heartbeat[key] = asyncio.ensure_future(self._describe(definition))
        return known

    async def _describe(self, definition: ActivityDefinition) -> timedelta | None:
        params = {"domain": self._domain, "activityType": definition.swf_type()}
        try:
            answer = await self._transport.call("DescribeActivityType", params)
        except exc.AioSWFError as error:
            logger.warning(
                "activity type %s: cannot read its registered heartbeat timeout: %s",
                definition.type_key,
                error,
            )
            return None
        configuration = answer.get("configuration") or {}
        try:
            return duration_from_swf(configuration.get("defaultTaskHeartbeatTimeout"))
        except ValueError:
            return None
