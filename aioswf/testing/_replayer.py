"""`Replayer`: run recorded histories through today's workflow code, without SWF."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aioswf._decider import InstanceOptions, WorkflowInstance
from aioswf._definitions import WorkflowDefinition
from aioswf._discovery import workflow_definitions
from aioswf._history import History, HistorySource, load_history
from aioswf._history_check import check_payloads
from aioswf.converter import DataConverter
from aioswf.exceptions import (
    HistoryError,
    NondeterminismError,
    PayloadConversionError,
    PayloadError,
    PayloadStoreError,
    WorkerError,
)
from aioswf.interceptors import Interceptor

logger = logging.getLogger(__name__)

_REPLAY_DOMAIN = "replay"
_REPLAY_ID = "replay"
_UNKNOWN_TYPE = "?"


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """How one history replayed.

    Attributes:
        name: the history's name (its file, when it came from one).
        workflow_type: ``name/version`` of the workflow it records.
        error: what went wrong, or ``None`` if the code made the recorded decisions. A
            :class:`~aioswf.exceptions.NondeterminismError` names the first event that
            differs; any other exception was raised by the workflow code while replaying.
    """

    name: str
    workflow_type: str
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether the history replayed without an error."""
        return self.error is None


class Replayer:
    """Replays recorded histories against workflow classes to prove the code still makes
    the decisions it made when the histories were recorded.

    Run it in CI over histories saved from real executions (``handle.fetch_history`` or
    ``aws swf get-workflow-execution-history``), so that a change that would break running
    executions fails a test instead of a deployment.

    Example::

        Replayer([Order]).replay("tests/histories/order.json")   # raises if it differs
        Replayer([Order], interceptors=[TracingInterceptor()]).replay(...)

    Args:
        workflows: ``@workflow.defn`` classes, or modules and packages to find them in.
        converter: the payload converter the workers use. With a payload store, the payloads
            a history refers to are read from it before the history is replayed (on an event
            loop of the replayer's own, in a thread of its own if the caller runs one).
        interceptors: :class:`~aioswf.interceptors.Interceptor` instances, in the order a
            worker has them (its client's, then its own; the first is the outermost). Their
            workflow chains (inbound: the run and signal handlers; outbound: activities,
            children, timers, signals, continue-as-new) wrap each replayed run exactly as on
            a worker, so a decision an interceptor makes differently on replay fails as
            :class:`~aioswf.exceptions.NondeterminismError`. Their client and activity
            chains are not used: nothing is sent and no activity runs.

    Raises:
        WorkerError: no workflow classes were found in ``workflows``.
        TypeError: an item of ``interceptors`` is not an ``Interceptor`` instance (a class
            given instead of an instance is named as such).
    """

    def __init__(
        self,
        workflows: Sequence[Any],
        *,
        converter: DataConverter | None = None,
        interceptors: Sequence[Interceptor] = (),
    ) -> None:
        self.converter = converter or DataConverter()
        self.workflows = {(d.name, d.version): d for d in workflow_definitions(workflows)}
        if not self.workflows:
            raise WorkerError("Replayer was given no workflow classes")
        self.interceptors = _checked(interceptors)
        # The same options a worker's decision poller gives each run: the run builds its
        # workflow interceptor chain from them, as it does on a worker.
        self._options = InstanceOptions(interceptors=self.interceptors)

    def replay(
        self,
        history: HistorySource | History,
        *,
        workflow_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        """Replay one history; return if the code decides as recorded.

        Args:
            history: a file path, a parsed ``{"events": [...]}`` object, a list of events
                (as ``handle.history()`` yields them) or a loaded :class:`History`.
            workflow_id: the execution's workflow id, if the history does not say.
            run_id: the run's id, if the history does not say; it seeds
                ``workflow.random()``, so give the real one when the code uses it.

        Raises:
            NondeterminismError: the code decides differently; the message names the
                history, the decision task, the event and the decision that differ.
            HistoryError: the history is not one SWF could have written; the message names
                the event and the field.
            WorkerError: the history records a workflow type the replayer was not given.
            Exception: whatever the workflow code raised that would have left the decision
                task to time out.
        """
        result = self.replay_result(history, workflow_id=workflow_id, run_id=run_id)
        if result.error is not None:
            raise result.error

    def replay_all(self, histories: Iterable[HistorySource | History]) -> list[ReplayResult]:
        """Replay every history, carrying on after failures of any kind.

        Returns:
            One result per history, in order; a history that cannot be read or is not a valid
            one has a :class:`~aioswf.exceptions.HistoryError` as its ``error``.
        """
        return [self.replay_result(history) for history in histories]

    def replay_result(
        self,
        history: HistorySource | History,
        *,
        workflow_id: str | None = None,
        run_id: str | None = None,
    ) -> ReplayResult:
        """Replay one history and report how it went; never raises for the history's sake.

        The result's ``error`` is a :class:`~aioswf.exceptions.HistoryError` (naming the
        event and field) when the history is not one SWF could have written, a
        :class:`~aioswf.exceptions.WorkerError` when it records a workflow type the replayer
        was not given, a :class:`~aioswf.exceptions.NondeterminismError` when the code
        decides otherwise, or what the workflow code raised.
        """
        name = _name_of(history)
        try:
            loaded = history if isinstance(history, History) else load_history(history)
        except HistoryError as unreadable:
            return ReplayResult(name, _UNKNOWN_TYPE, unreadable)
        try:
            definition = self._definition_for(loaded)
        except (HistoryError, WorkerError) as unusable:
            return ReplayResult(loaded.name, _UNKNOWN_TYPE, unusable)
        undecodable = self._undecodable(loaded) or self._download(loaded)
        if undecodable is not None:  # said as such, not as the code deciding otherwise
            return ReplayResult(loaded.name, definition.type_key, undecodable)
        try:
            check_payloads(loaded.events, loaded.name, self.converter)
        except HistoryError as unreadable:
            return ReplayResult(loaded.name, definition.type_key, unreadable)
        instance = WorkflowInstance(
            definition,
            domain=_REPLAY_DOMAIN,
            workflow_id=workflow_id or loaded.workflow_id or _REPLAY_ID,
            run_id=run_id or loaded.run_id or _REPLAY_ID,
            converter=self.converter,
            options=self._options,
        )
        error: BaseException | None
        try:
            error = instance.run_to_completion(loaded.events, None).failure
        except Exception as unexpected:
            # The events passed the model's checks but do not fit together (an outcome of
            # something never started, say): name the event being applied.
            error = _inconsistent(loaded.name, instance.current_event, unexpected)
        finally:
            instance.close()
        if isinstance(error, NondeterminismError):
            error = _named(error, loaded.name)
        if error is not None:
            logger.info("%s did not replay: %s", loaded.name, error)
        return ReplayResult(loaded.name, definition.type_key, error)

    def _undecodable(self, history: History) -> PayloadConversionError | None:
        """An error naming the first payload the converter cannot decode (a codec it
        lacks), with its event; ``None`` when it can decode them all."""
        for event in history.events:
            for key, attributes in event.items():
                if not key.endswith("EventAttributes") or not isinstance(attributes, dict):
                    continue
                for field, value in attributes.items():
                    codec = self.converter.wire.missing_codec(value)
                    if codec is not None:
                        have = ", ".join(repr(n) for n in self.converter.wire.codec_names)
                        return PayloadConversionError(
                            f"{history.name}: cannot decode the {field} of event "
                            f"{event.get('eventId')} ({event.get('eventType')}): it was encoded "
                            f"with codec {codec!r}, which the converter does not have (its "
                            f"codecs: {have or 'none'}); pass the application's converter"
                        )
        return None

    def _download(self, history: History) -> PayloadError | None:
        """Read the stored payloads ``history`` refers to (replaying does no I/O); the error
        naming the first one that cannot be read, if any."""
        converter = self.converter
        if not converter.wire.unfetched(history.events):
            return None

        async def download() -> None:
            try:
                await converter.download(*history.events)
            finally:
                # A client made for this loop goes with it (S3PayloadStore makes one per loop).
                await converter.close()

        try:
            _run_on_own_loop(download)
        except (PayloadConversionError, PayloadStoreError) as error:
            unreadable = type(error)(f"{history.name}: {error}")
            unreadable.__cause__ = error.__cause__
            return unreadable
        return None

    def _definition_for(self, history: History) -> WorkflowDefinition:
        if not history.events or history.events[0]["eventType"] != "WorkflowExecutionStarted":
            raise HistoryError(
                history.name,
                "a history starts with WorkflowExecutionStarted; this one is empty or was "
                "read from the middle (pass every page, oldest first)",
            )
        started = history.events[0].get("workflowExecutionStartedEventAttributes") or {}
        kind = started.get("workflowType") or {}
        key = (str(kind.get("name")), str(kind.get("version")))
        definition = self.workflows.get(key)
        if definition is None:
            known = ", ".join(sorted(f"{n}/{v}" for n, v in self.workflows))
            raise WorkerError(
                f"{history.name}: records workflow type {key[0]}/{key[1]}, which the replayer "
                f"was not given; it knows: {known}"
            )
        return definition


def _run_on_own_loop(work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` to its end on a new event loop; on a thread of its own when this thread
    already runs one (a replay called from async code, a test's loop)."""

    async def main() -> None:
        await work()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(main())
        return
    with ThreadPoolExecutor(1, thread_name_prefix="aioswf-replayer-io") as pool:
        pool.submit(asyncio.run, main()).result()


def _checked(interceptors: Sequence[Interceptor]) -> tuple[Interceptor, ...]:
    """``interceptors`` as a tuple, each checked to be an ``Interceptor`` instance."""
    if isinstance(interceptors, Interceptor):
        raise TypeError("Replayer(interceptors=...) takes a list of interceptors, not one")
    checked = tuple(interceptors)
    for index, item in enumerate(checked):
        if isinstance(item, type) and issubclass(item, Interceptor):
            raise TypeError(
                f"Replayer(interceptors=...)[{index}] is the class {item.__name__}; "
                f"pass an instance: {item.__name__}(...)"
            )
        if not isinstance(item, Interceptor):
            raise TypeError(
                f"Replayer(interceptors=...)[{index}] is a {type(item).__name__}, "
                "not an aioswf.interceptors.Interceptor"
            )
    return checked


def _name_of(history: HistorySource | History) -> str:
    if isinstance(history, History):
        return history.name
    if isinstance(history, str | os.PathLike):
        return str(history)
    return "history"


def _inconsistent(name: str, event: Mapping[str, Any] | None, error: Exception) -> HistoryError:
    problem = f"does not fit the events before it ({type(error).__name__}: {error})"
    if event is None:
        return HistoryError(name, f"replay failed: {type(error).__name__}: {error}")
    history_error = HistoryError(
        name, problem, event_id=event.get("eventId"), event_type=str(event.get("eventType"))
    )
    history_error.__cause__ = error
    return history_error


def _named(error: NondeterminismError, name: str) -> NondeterminismError:
    """The same error, its message starting with the history's name."""
    named = NondeterminismError(f"{name}: {error}")
    named.__cause__ = error.__cause__
    return named
