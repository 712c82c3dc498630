"""Markers: RecordMarker decisions, matched by name on replay."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aioswf._decider.commands import Command
from aioswf._decider.history import Event, attrs
from aioswf.converter import check_size

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)


class Markers:
    """The markers a run records, and what history says of them."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.recorded: dict[str, list[str | None]] = {}
        """Details of every ``MarkerRecorded`` seen, by name, in history order."""

    def record(self, name: str, details: str | None) -> None:
        """Decide ``RecordMarker``."""
        attributes: dict[str, Any] = {"markerName": name}
        if details is not None:
            attributes["details"] = check_size(f"details of marker {name!r}", details)
        self.host.decisions.add(Command("RecordMarker", attributes))

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this kind reacts to."""
        return {"MarkerRecorded": self._recorded, "RecordMarkerFailed": self._failed}

    def _recorded(self, event: Event) -> None:
        data = attrs(event)
        self.recorded.setdefault(str(data.get("markerName")), []).append(data.get("details"))

    def _failed(self, event: Event) -> None:
        if not self.host.is_replaying:
            data = attrs(event)
            logger.warning(
                "%s: marker %r was not recorded: %s",
                self.host.describe,
                data.get("markerName"),
                data.get("cause"),
            )
