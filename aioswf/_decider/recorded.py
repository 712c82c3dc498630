"""Machines found again through the event that recorded their decision.

Later events name an activity or a Lambda task by ``scheduledEventId``, and a child workflow
or a request to another execution by ``initiatedEventId``: the id of the event that recorded
the decision. Each of those kinds keeps one :class:`Recorded` index and routes its events
through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from aioswf._decider.history import Event, attributes_key, attrs

M = TypeVar("M")


class Recorded(Generic[M]):
    """Machines by the id of the event that recorded them.

    Args:
        attribute: how later events name that id, e.g. ``"scheduledEventId"``.
    """

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        self.machines: dict[int, M] = {}
        """By event id (:meth:`add` and :meth:`discard`, for callers that do them in place)."""

    def add(self, event_id: int, machine: M) -> None:
        """Remember ``machine``, recorded by event ``event_id``."""
        self.machines[event_id] = machine

    def discard(self, event_id: int | None) -> None:
        """Forget the machine recorded by ``event_id``, if any."""
        if event_id is not None:
            self.machines.pop(event_id, None)

    def find(self, data: Mapping[str, Any]) -> M | None:
        """The machine a later event's attributes ``data`` name, if it is still known."""
        return self.machines.get(int(data.get(self.attribute) or 0))

    def routed(
        self, action: Callable[[M, Any], None], kind: str | None = None
    ) -> Callable[[Event], None]:
        """An event handler that calls ``action(machine, attributes)`` for a known machine
        (of events of ``kind`` only, if given: their attributes are then found at once)."""

        machines, attribute = self.machines, self.attribute
        key = attributes_key(kind, "EventAttributes") if kind is not None else None

        def handle(event: Event) -> None:
            data = (event.get(key) or {}) if key is not None else attrs(event)
            machine = machines.get(int(data.get(attribute) or 0))  # `find`, once per outcome
            if machine is not None:
                action(machine, data)

        return handle
