"""Decisions as the code makes them, and how they are matched with history on replay.

Every decision is a :class:`Command`, created by the machine of its kind (activity, timer,
marker, close, and later child workflow, external signal/cancel, Lambda). The
:class:`DecisionBook` collects them in the order the code made them and numbers them per kind,
so the same code makes the same ids in every replay. A command not yet sent can be dropped
(an activity scheduled and cancelled in the same task is never sent at all).
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pydantic_core

from aioswf._decider.batching import fit_request, split_as_recorded
from aioswf._decider.history import (
    ECHO_ATTRIBUTE_KEYS,
    ECHO_EVENTS,
    Event,
    attributes_key,
    attrs,
    describe_event,
    type_text,
)
from aioswf._envelope import unwrap
from aioswf.exceptions import NondeterminismError

_ID_ATTRIBUTE = {
    "ScheduleActivityTask": "activityId",
    "RequestCancelActivityTask": "activityId",
    "StartTimer": "timerId",
    "CancelTimer": "timerId",
    "RecordMarker": "markerName",
    "StartChildWorkflowExecution": "workflowId",
    "SignalExternalWorkflowExecution": "control",
    "RequestCancelExternalWorkflowExecution": "workflowId",
    "ScheduleLambdaFunction": "id",
}
_TYPE_ATTRIBUTE = {
    "ScheduleActivityTask": "activityType",
    "StartChildWorkflowExecution": "workflowType",
    "ScheduleLambdaFunction": "name",
}
# Besides kind, id and type, these must be the same on replay: the same call with other
# arguments, reordered by code that is not deterministic (iterating a set, say), would
# otherwise be handed another call's result without anyone noticing.
_COMPARED_ATTRIBUTES = {
    "ScheduleActivityTask": ("input",),
    "StartTimer": ("startToFireTimeout",),
    "StartChildWorkflowExecution": ("input",),
    "ScheduleLambdaFunction": ("input",),
    "SignalExternalWorkflowExecution": ("signalName", "input"),
}
_SHOWN_CHARACTERS = 80
_BYTES_PER_COMPACT_BYTE = 7
"""A bound of how many bytes the ASCII-escaped JSON of a value takes per byte of its compact
UTF-8 JSON (see :meth:`Command.size_bound`)."""


def _compared(value: Any) -> Any:
    # Headers are set by interceptors (a trace context, say), not by the workflow's logic:
    # adding or removing an interceptor must not make running executions non-deterministic.
    return unwrap(value)[0] if isinstance(value, str) else value


CLOSE_DECISIONS = frozenset(
    {
        "CompleteWorkflowExecution",
        "FailWorkflowExecution",
        "CancelWorkflowExecution",
        "ContinueAsNewWorkflowExecution",
    }
)


class Command:
    """One decision.

    Args:
        decision_type: SWF's ``decisionType``.
        attributes: the decision's attributes.
        on_recorded: called with the history event that recorded the decision, once: it is
            dropped then, so that the command and its machine (which refer to each other)
            are freed as soon as the machine is done, without the garbage collector.
    """

    __slots__ = ("_size", "attributes", "decision_type", "dropped", "on_recorded", "sent")

    def __init__(
        self,
        decision_type: str,
        attributes: dict[str, Any],
        on_recorded: Callable[[Event], None] | None = None,
    ) -> None:
        self.decision_type = decision_type
        self.attributes = attributes
        self.on_recorded = on_recorded
        self.dropped = False
        self.sent = False
        self._size: int | None = None

    def to_swf(self) -> dict[str, Any]:
        """The decision as RespondDecisionTaskCompleted takes it."""
        key = attributes_key(self.decision_type, "DecisionAttributes")
        return {"decisionType": self.decision_type, key: self.attributes}

    def encoded_size(self) -> int:
        """Bytes of :meth:`to_swf` as JSON with ASCII escapes (how botocore sends it).

        Worked out once: a decision's attributes do not change once the code has made it.
        """
        if self._size is None:
            self._size = len(json.dumps(self.to_swf()))
        return self._size

    def size_bound(self) -> int:
        """At least :meth:`encoded_size`, and cheaper to know: nearly every batch is far
        below the budget, which this bound is enough to tell.

        A character takes at most six times as many bytes ASCII-escaped as in compact UTF-8
        JSON (six for the one byte of ``\\x7f``, twelve for the four of an emoji), and the
        spaces after the separators at most one more byte per byte.
        """
        if self._size is not None:
            return self._size
        try:
            return _BYTES_PER_COMPACT_BYTE * len(pydantic_core.to_json(self.to_swf()))
        except pydantic_core.PydanticSerializationError:
            return self.encoded_size()

    def describe(self) -> str:
        """``ScheduleActivityTask (activityId='1', activityType=charge/1)``."""
        details = []
        id_attr = _ID_ATTRIBUTE.get(self.decision_type)
        if id_attr and id_attr in self.attributes:
            details.append(f"{id_attr}={self.attributes[id_attr]!r}")
        type_attr = _TYPE_ATTRIBUTE.get(self.decision_type)
        if type_attr and type_attr in self.attributes:
            details.append(f"{type_attr}={type_text(self.attributes[type_attr])}")
        inside = f" ({', '.join(details)})" if details else ""
        return f"{self.decision_type}{inside}"

    def matches(self, event: Event, data: Mapping[str, Any] | None = None) -> bool:
        """Whether ``event`` (whose attributes are ``data``, if known) records this
        decision: same kind, same id, same type."""
        spec = ECHO_EVENTS.get(event["eventType"])
        if spec is None or spec[0] != self.decision_type:
            return False
        _, id_attr, type_attr = spec
        if data is None:
            data = attrs(event)
        if id_attr is not None and data.get(id_attr) != self.attributes.get(id_attr):
            return False
        if type_attr is None or type_attr not in data:
            return True
        recorded, decided = data[type_attr], self.attributes.get(type_attr)
        return recorded == decided or type_text(recorded) == type_text(decided)

    def differing_attribute(
        self,
        event: Event,
        canonical: Callable[[Any], Any] = _compared,
        data: Mapping[str, Any] | None = None,
    ) -> str | None:
        """The first compared attribute whose value in ``event`` (attributes ``data``, if
        known) is not the decision's.

        ``canonical`` gives what is compared of a value (a payload, decoded).
        """
        if data is None:
            data = attrs(event)
        for name in _COMPARED_ATTRIBUTES.get(self.decision_type, ()):
            # A *Failed echo (the decision was refused) does not repeat the attributes.
            if name not in data:
                continue
            recorded, decided = data[name], self.attributes.get(name)
            if recorded != decided and canonical(recorded) != canonical(decided):
                return name
        return None


class DecisionBook:
    """The decisions of the step in progress, and the per-kind sequence numbers."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}
        self._current: list[Command] = []
        self._carried: list[Command] = []
        """Decisions of an earlier step that did not fit in its answer (see ``batching``)."""

    def next_id(self, kind: str) -> int:
        """The next number of ``kind`` (1, 2, …): the same in every replay of the same code."""
        value = self._counters.get(kind, 0) + 1
        self._counters[kind] = value
        return value

    def add(self, command: Command) -> Command:
        """Record a decision the code just made."""
        self._current.append(command)
        return command

    def carried(self) -> list[dict[str, Any]]:
        """The decisions (SWF shape) waiting for the next task, a batch being too large."""
        return [c.to_swf() for c in self._carried if not c.dropped]

    def close_waiting(self) -> bool:
        """Whether a close decision is among the carried ones: made, not yet sent."""
        return any(c.decision_type in CLOSE_DECISIONS for c in self._carried if not c.dropped)

    def pending(self) -> list[Command]:
        """The decisions not sent yet: the carried ones first, without the dropped ones."""
        # In C: a comprehension is a call of its own, once per replayed task.
        return list(itertools.filterfalse(_DROPPED, itertools.chain(self._carried, self._current)))

    def take(
        self,
        started_id: int = 0,
        recorded: Sequence[Event] | None = None,
        pending: list[Command] | None = None,
    ) -> list[Command]:
        """The decisions decision task ``started_id`` sends, without the dropped ones
        (``pending``, when the caller has just asked for them).

        Decisions carried over from an earlier task come first; a batch too large for one
        answer is split (see :mod:`~aioswf._decider.batching`): by size for a new task, as
        history ``recorded`` it (the events of the task's decisions) for a replayed one.
        """
        if pending is None:
            pending = self.pending()
        self._current = []
        if recorded is None:
            taken, self._carried = fit_request(pending, started_id)
        else:
            taken, self._carried = split_as_recorded(pending, recorded)
        for command in taken:
            command.sent = True
        return taken

    def take_replayed(
        self, echoes: Sequence[Event], canonical: Callable[[Any], Any] = _compared
    ) -> list[Command] | None:
        """The decisions of a replayed task, when they are exactly the ones history
        recorded in ``echoes`` (in order, nothing carried over, dropped or split): taken as
        :meth:`take` would, and their machines told of their echoes as :func:`match` tells
        them; ``None``, with nothing changed, for anything else.

        Replay asks once per decision task of the history, nearly always for that common
        case: one loop here, without the calls of the general path (the caller takes it on
        ``None``, and it words every mismatch). A decision's echo is the one event whose kind,
        id, type and compared attributes are its own: no patch marker left out of the
        comparison (see ``without_unasked_patches``) nor continuation timer of a split batch
        (see ``split_as_recorded``) is one.
        """
        commands = self._current
        if self._carried or len(commands) != len(echoes):
            return None
        for command, event in zip(commands, echoes, strict=True):
            # `Command.matches` and `Command.differing_attribute`, in place.
            kind = event["eventType"]
            spec = ECHO_EVENTS.get(kind)
            decision_type = command.decision_type
            if command.dropped or spec is None or spec[0] != decision_type:
                return None
            data = event.get(ECHO_ATTRIBUTE_KEYS[kind]) or {}
            decided = command.attributes
            _, id_attr, type_attr = spec
            if id_attr is not None and data.get(id_attr) != decided.get(id_attr):
                return None
            if type_attr is not None and type_attr in data:
                recorded = data[type_attr]
                wanted = decided.get(type_attr)
                if recorded != wanted and type_text(recorded) != type_text(wanted):
                    return None
            for name in _COMPARED_ATTRIBUTES.get(decision_type, ()):
                if name in data:
                    recorded = data[name]
                    wanted = decided.get(name)
                    if recorded != wanted and canonical(recorded) != canonical(wanted):
                        return None
        self._current = []
        for command in commands:
            command.sent = True
        for command, event in zip(commands, echoes, strict=True):
            if (recorded := command.on_recorded) is not None:
                command.on_recorded = None
                recorded(event)
        return commands

    def remove_recorded(
        self,
        recorded: Sequence[Event],
        where: str,
        run: str,
        canonical: Callable[[Any], Any] = _compared,
    ) -> None:
        """Take out of the step in progress the decisions that history already recorded.

        Raises:
            NondeterminismError: see :func:`match_recorded`.
        """
        # The refused task may have sent the tail of a split batch: decisions carried over
        # from an earlier step are matched like the ones of the step in progress.
        pending = self.pending()
        rest = match_recorded(pending, recorded, where, run, canonical)
        for command in pending:
            if command not in rest:
                command.sent = True
        self._carried = [c for c in self._carried if c in rest]
        self._current = [c for c in self._current if c in rest]

    def discard(self) -> None:
        """Forget the decisions of the step in progress (the task is not answered)."""
        self._current = []


def match(
    commands: Sequence[Command],
    echoes: Sequence[Event],
    where: str,
    run: str,
    canonical: Callable[[Any], Any] = _compared,
) -> None:
    """Check that history recorded exactly ``commands``, in order, and tell their machines.

    Payloads are compared as ``canonical`` gives them: headers set aside, codecs undone.

    Raises:
        NondeterminismError: naming the first event and decision that differ.
    """
    pairs: Iterable[tuple[Command | None, Event | None]] = (
        zip(commands, echoes, strict=True)  # the common case, without index arithmetic
        if len(commands) == len(echoes)
        else itertools.zip_longest(commands, echoes)
    )
    for command, event in pairs:
        if command is None:
            assert event is not None
            raise NondeterminismError(
                f"{run} is not deterministic: in {where}, history has {describe_event(event)} "
                "but the code made no such decision"
            )
        if event is None:
            raise NondeterminismError(
                f"{run} is not deterministic: in {where}, the code decided {command.describe()} "
                "but history has no such decision"
            )
        key = ECHO_ATTRIBUTE_KEYS.get(event["eventType"])  # `attrs`, in place
        data = (event.get(key) or {}) if key is not None else attrs(event)
        if not command.matches(event, data):
            raise NondeterminismError(
                f"{run} is not deterministic: in {where}, history has {describe_event(event)} "
                f"where the code decided {command.describe()}"
            )
        name = command.differing_attribute(event, canonical, data)
        if name is not None:
            raise NondeterminismError(
                f"{run} is not deterministic: in {where}, history has {describe_event(event)} "
                f"with {name}={_shown(data.get(name))} where the code decided it with "
                f"{name}={_shown(command.attributes.get(name))}"
            )
        if (recorded := command.on_recorded) is not None:
            command.on_recorded = None
            recorded(event)


_DROPPED = operator.attrgetter("dropped")


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return text[: _SHOWN_CHARACTERS - 1] + "…"


_LET_GO = frozenset(
    {
        # Requests whose effect SWF has applied, and that nothing in the run waits on.
        "ActivityTaskCancelRequested",
        "RequestCancelExternalWorkflowExecutionInitiated",
        "SignalExternalWorkflowExecutionInitiated",
        "MarkerRecorded",
    }
)


def _let_go(event: Event) -> bool:
    """Whether a decision recorded beside a refused close may be missing from the decisions
    made again with the news.

    The news can make a decision moot: the activity whose cancellation was requested
    completed, the timer to cancel fired. A decision SWF refused (its ``*Failed`` echo) changed
    nothing; a request SWF applied, that the run does not wait on, is done either way (its
    outcome, if any, finds no machine and is ignored). What SWF started for the run (an
    activity, a timer, a child, a Lambda) or a cancelled timer the code still waits on is not
    let go: the code would lose track of it.
    """
    kind: str = event["eventType"]
    return kind.endswith("Failed") or kind in _LET_GO


def match_recorded(
    commands: Sequence[Command],
    recorded: Sequence[Event],
    where: str,
    run: str,
    canonical: Callable[[Any], Any] = _compared,
) -> list[Command]:
    """Find among ``commands`` those history already recorded; return the others.

    ``recorded`` are the decisions SWF recorded beside a close it refused for news: the code,
    deciding again with the news, makes them again (in any order, among new ones), except
    those the news made moot (see :func:`_let_go`).

    Raises:
        NondeterminismError: a recorded decision that the code did not make again and that
            cannot be let go.
    """
    rest = list(commands)
    for event in recorded:
        found = next((c for c in rest if c.matches(event)), None)
        if found is None and _let_go(event):
            continue
        if found is None:
            raise NondeterminismError(
                f"{run} is not deterministic: in {where}, history has {describe_event(event)} "
                "but the code, deciding again after its close was refused, made no such decision"
            )
        name = found.differing_attribute(event, canonical)
        if name is not None:
            raise NondeterminismError(
                f"{run} is not deterministic: in {where}, history has {describe_event(event)} "
                f"with {name}={_shown(attrs(event).get(name))} where the code decided it with "
                f"{name}={_shown(found.attributes.get(name))}"
            )
        rest.remove(found)
        if (tell := found.on_recorded) is not None:
            found.on_recorded = None
            tell(event)
    return rest
