"""Patches and side effects: values decided once, recorded as markers, read back on replay.

``patched("id")`` records the marker ``aioswf.patch.id`` the first time new code passes it;
replaying a decision task that recorded no such marker means the task ran before the change,
so the old branch is taken again. ``side_effect(fn)`` records ``fn()``'s value in the marker
``aioswf.side_effect.N`` and, on replay, returns the recorded value without calling ``fn``.

``deprecate_patch("id")`` takes the new branch and records nothing. Replay skips the patch
markers of a task that the code no longer asks about (:func:`without_unasked_patches`): a run
that recorded one before the call was deprecated (or removed) replays as it did.

Both ``patched`` and ``side_effect`` look ahead at the markers that the decision task being
replayed recorded: that is what the code decided then, and it is in history before the code
runs again.
"""

from __future__ import annotations

import inspect
import logging
import operator
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aioswf import _sandbox as sandbox
from aioswf._decider.commands import Command
from aioswf._decider.history import Event, attrs

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)

PATCH_MARKER = "aioswf.patch."
SIDE_EFFECT_MARKER = "aioswf.side_effect."
_MARKER_NAME_LIMIT = 256
_FORBIDDEN = re.compile(r"[:/|\x00-\x1f\x7f-\x9f]|arn")
"""What SWF refuses in a marker name."""


def _check_patch_id(patch_id: str) -> None:
    if (
        not isinstance(patch_id, str)
        or not patch_id
        or patch_id != patch_id.strip()
        or _FORBIDDEN.search(patch_id)
        or len(PATCH_MARKER) + len(patch_id) > _MARKER_NAME_LIMIT
    ):
        raise ValueError(
            f"patch id {patch_id!r} cannot name an SWF marker: use a short name without "
            "':', '/', '|', control characters, surrounding spaces or the text 'arn'"
        )


class Versioning:
    """The patches and side effects of one run."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self._patches: dict[str, bool] = {}

    def _recorded_now(self, name: str) -> Event | None:
        """The marker ``name`` recorded by the decision task being replayed, if any."""
        for event in self.host.current_echoes:
            if event["eventType"] == "MarkerRecorded" and attrs(event).get("markerName") == name:
                return event
        return None

    def patched(self, patch_id: str) -> bool:
        """Whether the run takes the new branch of ``patch_id``; the same answer every call."""
        _check_patch_id(patch_id)
        known = self._patches.get(patch_id)
        if known is not None:
            return known
        name = PATCH_MARKER + patch_id
        taken = not self.host.is_replaying or self._recorded_now(name) is not None
        if taken:
            self.host.markers.record(name, None)
        self._patches[patch_id] = taken
        return taken

    def deprecate_patch(self, patch_id: str) -> None:
        """The new branch of ``patch_id`` is the only one left: take it, record nothing."""
        _check_patch_id(patch_id)
        self._patches[patch_id] = True

    def side_effect(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` once, recorded; the recorded value on every replay."""
        converter = self.host.converter
        name = f"{SIDE_EFFECT_MARKER}{self.host.decisions.next_id('side_effect')}"
        echo = self._recorded_now(name) if self.host.is_replaying else None
        if echo is not None:
            details = attrs(echo).get("details")
        else:
            with sandbox.unguarded():  # recorded once: what it reads is the point
                value = fn()
            if inspect.isawaitable(value):
                if inspect.iscoroutine(value):
                    value.close()
                raise TypeError(
                    "workflow.side_effect() takes a plain function; run asynchronous work "
                    "in an activity"
                )
            details = converter.encode_payload(value)
        self.host.markers.record(name, details)
        # The value always comes back through the converter, so the first run and every
        # replay see the same type.
        return converter.decode_result(fn, details)


def without_unasked_patches(commands: Sequence[Command], echoes: Sequence[Event]) -> list[Event]:
    """``echoes`` without the patch markers that none of ``commands`` records.

    A patch marker the code no longer asks about (the patch was deprecated, then removed)
    says only that the run took the new branch, which is now the only one: it is no
    mismatch.
    """
    if _MARKER_EVENTS.isdisjoint(map(_KIND, echoes)):
        return list(echoes)  # the common task: no marker at all
    asked = {c.attributes.get("markerName") for c in commands if c.decision_type == "RecordMarker"}
    return [e for e in echoes if not _unasked_patch(e, asked)]


_MARKER_EVENTS = frozenset({"MarkerRecorded", "RecordMarkerFailed"})
_KIND = operator.itemgetter("eventType")


def _unasked_patch(event: Event, asked: set[Any]) -> bool:
    if event["eventType"] not in _MARKER_EVENTS:
        return False
    name = attrs(event).get("markerName")
    return isinstance(name, str) and name.startswith(PATCH_MARKER) and name not in asked
