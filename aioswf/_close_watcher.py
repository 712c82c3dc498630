"""One watcher per client for the runs its callers await: O(1) calls per interval, not per run.

Every ``handle.result()`` of a client registers the run it waits for here. One task per
client then learns which of them closed:

* a run is read once when first awaited (the newest event of its history): it may be closed
  already, and if not, the event's timestamp tells where the service's clock stands. A run
  known to have been open at a service time the listings still reach back to is not: one
  this client started after it knew the service's time, or one a worker of this process
  holds a decision task of. The listings cover its whole life from then on;
* then, at each interval (0.05 s, growing to 1 s while the listings find no close),
  one ``ListClosedWorkflowExecutions`` call (more pages only if many closed) lists what closed
  in the domain since then (no further back than the oldest time an awaited run is known to
  have been open at), and only the awaited runs among them are read for their close event.
  When the awaited runs are of a few workflow types known here (this client started them),
  the listing is made type by type: the closes of other types in a busy domain are not read
  at every interval;
* a close decided by a worker of the same process (on any client of the same event loop,
  domain and endpoint: the worker tells every such client's watcher) is delivered without
  reading the run (:meth:`CloseWatcher.saw_close`): SWF may refuse a close decision
  (``UnhandledDecision``, when events came in while it was being decided) and says so only in
  the history, so the decided close is delivered once a listing (one for all the closes
  answered meanwhile, reaching back only to their decision tasks) shows the run closed with
  that close's status, before anyone but this worker could have decided the run again: the
  answer sent the run's next decision task to this worker's sticky task list, where only this
  worker takes it until the sticky schedule-to-start timeout. A decision task of the run
  taken here meanwhile, or a listing that does not show it so, and the run is read as any
  other;
* each awaited run is still read on its own every few minutes, in case the listing (which
  SWF updates eventually, not at once) missed it.

The listing's time window is kept in the service's own time (event and close timestamps), so a
service whose clock differs from this machine's, such as the local service on a virtual clock,
is watched the same way. SWF outages (throttling, 5xx answers, network faults) are waited
out, said once in the log: the executions go on without their callers. A fault that will not
heal (the client closed, no such domain, access denied) ends the waits with its exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import math
import weakref
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aioswf import exceptions as exc
from aioswf._decider.history import timestamp
from aioswf._transport.parsing import fast_timestamp, raw_answers

if TYPE_CHECKING:
    from aioswf.client import Client

logger = logging.getLogger(__name__)

CLOSE_EVENTS = frozenset(
    {
        "WorkflowExecutionCompleted",
        "WorkflowExecutionFailed",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionTerminated",
        "WorkflowExecutionTimedOut",
        "WorkflowExecutionContinuedAsNew",
    }
)

INTERVAL_MIN = 0.05
"""Seconds between two listings right after something happened."""
INTERVAL_MAX = 1.0
"""Seconds between two listings at most, while nothing closes."""
VISIBILITY_LAG = 10.0
"""Seconds each listing reaches back before the newest time it knows of: SWF may list a
close a little after it happened."""
RECHECK = 300.0
"""Seconds between two reads of one awaited run's own history, whatever the listing says."""
CONFIRM_SPACING = 0.1
"""Seconds between two listings for closes answered here, while they keep coming: one listing
confirms the closes answered meanwhile. The first close after a quiet spell is listed at
once."""
CONFIRM_PATIENCE = 5.0
"""Seconds a close answered here waits for a listing to show it before the run is read."""
DATE_MARGIN = 2.0
"""Seconds a ``Date`` header may be past the start it answers (its whole seconds, and the
time from recording the start to answering)."""
_CONCURRENT_READS = 16
_STARTED_KEPT = 10_000
"""How many runs started by this client (or decided here) are remembered as such."""
_UNCLAIMED_KEPT = 1000
"""How many closes answered here are kept for a result() that has not come yet (each holds
the result as sent, up to 32 KB)."""
_TYPES_LISTED_APART = 3
"""Awaited runs of at most this many workflow types are listed type by type."""
_OUTAGES = (exc.ServiceUnavailableError, exc.ThrottlingError)

_DECIDED_CLOSES = {
    # decision: (its close status in a listing, the close event, the attributes it carries)
    "CompleteWorkflowExecution": ("COMPLETED", "WorkflowExecutionCompleted", ("result",)),
    "FailWorkflowExecution": ("FAILED", "WorkflowExecutionFailed", ("reason", "details")),
    "CancelWorkflowExecution": ("CANCELED", "WorkflowExecutionCanceled", ("details",)),
}
"""The close decisions whose close event holds nothing but what the decision said (a
continue-as-new's event also names the new run, which only SWF knows)."""


@dataclass(frozen=True)
class _AnsweredClose:
    """A close decision SWF accepted the answer of; whether it closed the run is not known."""

    status: str
    """The run's close status in a listing if it did."""
    event: dict[str, Any]
    """The close event it makes, but for its id and timestamp."""
    started_at: float
    """When its decision task started (service time, epoch seconds)."""
    until: float
    """Service time before which only this worker could have decided the run again."""

    def closed(self, info: dict[str, Any]) -> dict[str, Any] | None:
        """The close event, if the listed ``info`` can only be this close; else ``None``."""
        closed_at = info.get("closeTimestamp")
        if info.get("closeStatus") != self.status or closed_at is None:
            return None
        if _seconds(closed_at) >= self.until:
            return None  # a decision task taken elsewhere since may have closed it
        # Epoch seconds from a listing read as plain JSON; a ``datetime`` from a client on a
        # caller's own session (parsed by botocore): given as a history read gives it.
        when = closed_at if isinstance(closed_at, datetime) else fast_timestamp(closed_at)
        return {**self.event, "eventTimestamp": when}


def _answered_close(
    decision: dict[str, Any], started_at: float | None, sticky_seconds: int | None
) -> _AnsweredClose | None:
    """What a close decision proves once a listing shows it, when it can prove anything: the
    run's next decision task was routed to the deciding worker's own task list."""
    kind = decision.get("decisionType", "")
    if kind not in _DECIDED_CLOSES or started_at is None or not sticky_seconds:
        return None
    status, event_type, names = _DECIDED_CLOSES[kind]
    given = decision.get(kind[0].lower() + kind[1:] + "DecisionAttributes") or {}
    attributes = {name: given[name] for name in names if given.get(name) is not None}
    event = {
        "eventType": event_type,
        event_type[0].lower() + event_type[1:] + "EventAttributes": attributes,
    }
    return _AnsweredClose(status, event, started_at, started_at + sticky_seconds)


_OPEN_WATCHERS: weakref.WeakSet[CloseWatcher] = weakref.WeakSet()
"""The watchers of this process's open clients: what a worker learns of a run concerns every
client of its event loop on the same domain and endpoint, not only the worker's own."""


@dataclass(eq=False)
class _Waiter:
    workflow_id: str
    run_id: str
    futures: list[asyncio.Future[dict[str, Any]]] = field(default_factory=list)
    due: float = 0.0
    """Loop time at which the run's history is read directly (0: at the next look)."""
    fresh: bool = False
    """Known open at a service time the listings still reach back to: they cover it."""
    open_at: float = 0.0
    """The newest service time it is known to have been open at (0: unknown): it closed
    after that, so a listing for it reaches back no further."""
    workflow_type: tuple[str, str] | None = None
    """Its workflow type's name and version, when this client started it (else unknown)."""
    told: bool = False
    """A worker of this process answered (or is answering) a decision task of the run with a
    close decision."""
    answered: _AnsweredClose | None = None
    """The close a worker of this process answered, until a listing confirms it."""
    answered_at: float = 0.0
    """Loop time it was answered at."""


class CloseWatcher:
    """Waits for the close events of runs, for one client.

    Args:
        client: the client whose domain and connection it uses.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._waiters: dict[str, _Waiter] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._service_time = 0.0
        """The newest service time known (epoch seconds), from events and close times; 0
        until a first run is read, and nothing is listed before that."""
        self._listing = True
        self._outage = False
        self._new_waiters = False
        self._confirm_at = math.inf
        self._confirmed_at = -math.inf
        """Loop time of the latest listing for closes answered here."""
        """Loop time of the next listing for the closes answered here, if any wait for one."""
        self._started: dict[str, tuple[float, tuple[str, str]]] = {}
        """Runs started by this client, oldest first, with the service time known then and
        their workflow type's name."""
        self._start_dates: dict[str, float] = {}
        """Runs started by this client, with the service time they started after (from the
        answer's ``Date``), until :meth:`started` takes it."""
        self._last_date, self._last_date_seconds = "", 0.0
        self._unclaimed: dict[str, _AnsweredClose] = {}
        """Closes answered here of runs no result() awaited yet, newest last."""
        self._decided: dict[str, float] = {}
        """Runs a worker of this process took a decision task of, oldest first, with the
        service time that task started at (so the run was open then)."""
        self._service: tuple[str, str, asyncio.AbstractEventLoop] | None = None
        """The domain, endpoint and event loop of the open client, for its neighbours."""
        self.calls = 0
        """History and listing calls made so far (for benchmarks and metrics)."""

    @property
    def waiting(self) -> int:
        """Runs awaited now."""
        return len(self._waiters)

    async def wait(self, workflow_id: str, run_id: str) -> dict[str, Any]:
        """The close event of run ``run_id`` of ``workflow_id``, once it closes.

        Raises:
            aioswf.exceptions.ServiceError: reading the run failed other than by an outage
                (e.g. ``UnknownResourceError``: no such run).
            aioswf.exceptions.WorkerError: the client is not open, or was closed meanwhile.
        """
        if not self.client.transport.is_open:
            raise exc.WorkerError(
                f"result() of workflow {workflow_id!r} (run {run_id!r}): the SWF client is not "
                "open; use 'async with'"
            )
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        waiter = self._waiters.get(run_id)
        if waiter is None:
            known_then, workflow_type = self._started.get(run_id, (0.0, None))
            open_at = max(known_then, self._decided.get(run_id, 0.0))
            lately = self._service_time - VISIBILITY_LAG
            fresh = bool(open_at) and open_at >= lately
            waiter = _Waiter(
                workflow_id, run_id, fresh=fresh, open_at=open_at, workflow_type=workflow_type
            )
            self._waiters[run_id] = waiter
            answered = self._unclaimed.pop(run_id, None)
            # Closed here before it was awaited, lately enough for a short listing to show.
            if answered is not None and self._listing and answered.started_at >= lately:
                waiter.told = True
                self._await_confirmation(waiter, answered)
        waiter.futures.append(future)
        self._new_waiters = True
        self._start()
        try:
            return await future
        finally:
            if future in waiter.futures:  # the caller stopped waiting (cancelled, timed out)
                waiter.futures.remove(future)
                if not waiter.futures and self._waiters.get(run_id) is waiter:
                    del self._waiters[run_id]

    def listen(self, events: Any, endpoint: str) -> None:
        """Start hearing of the open client's runs (called once it is open, on its loop).

        The service's time at each start is learned from the answer's ``Date`` header,
        through botocore's ``events`` of the client's connection (the answers' bodies say
        nothing of time). SWF sends its clock there, the local service its own (virtual or
        not). And the workers of every client of this loop on the same domain and
        ``endpoint`` tell this watcher of the decision tasks they take and the closes they
        answer, as they tell their own client's.
        """
        events.register("after-call.swf.StartWorkflowExecution", self._start_answered)
        self._service = (self.client.domain, endpoint, asyncio.get_running_loop())
        _OPEN_WATCHERS.add(self)

    def _neighbours(self) -> list[CloseWatcher]:
        """The open watchers of this watcher's service and loop, itself first."""
        if self._service is None:
            return [self]
        others = [w for w in _OPEN_WATCHERS if w._service == self._service and w is not self]
        return [self, *others]

    def _start_answered(self, parsed: dict[str, Any], **_: Any) -> None:
        run_id = parsed.get("runId")
        date = parsed.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        if run_id and date:
            if date != self._last_date:
                with contextlib.suppress(TypeError, ValueError):
                    self._last_date_seconds = email.utils.parsedate_to_datetime(date).timestamp()
                    self._last_date = date
            if date == self._last_date:
                # Whole seconds, sent once the start was recorded: it started after this.
                _remember(self._start_dates, run_id, self._last_date_seconds - DATE_MARGIN)

    def started(self, run_id: str, workflow_type: tuple[str, str]) -> None:
        """This client started ``run_id``, of the workflow type ``(name, version)``, just now
        (``StartWorkflowExecution`` answered)."""
        since = max(self._service_time, self._start_dates.pop(run_id, 0.0))
        self._service_time = max(self._service_time, since)
        _remember(self._started, run_id, (since, workflow_type))

    def deciding(self, task: dict[str, Any]) -> None:
        """A worker of this process took decision task ``task`` (a ``PollForDecisionTask``
        answer, newest events first) and holds the run's lock: the run was open when the
        task started, and a close answered here before it was refused."""
        for watcher in self._neighbours():
            watcher._deciding(task)

    def _deciding(self, task: dict[str, Any]) -> None:
        run_id = task["workflowExecution"]["runId"]
        started_id = task.get("startedEventId")
        started_at = next(
            (timestamp(e) for e in task.get("events") or () if e.get("eventId") == started_id),
            0.0,
        )
        if not started_at:
            return
        self._service_time = max(self._service_time, started_at)
        _remember(self._decided, run_id, started_at)
        self._unclaimed.pop(run_id, None)  # a close answered before was refused
        waiter = self._waiters.get(run_id)
        if waiter is not None:
            # Open now, at a time the listings reach back to: they cover it from here on.
            waiter.answered, waiter.fresh = None, True
            waiter.open_at = max(waiter.open_at, started_at)

    def closing(self, run_id: str) -> None:
        """A worker of this process is about to answer a decision task of ``run_id`` with a
        close decision (:meth:`saw_close` follows once it is answered): a listing that finds
        the close first is not news of closes made elsewhere."""
        for watcher in self._neighbours():
            watcher._closing(run_id)

    def _closing(self, run_id: str) -> None:
        waiter = self._waiters.get(run_id)
        if waiter is not None:
            waiter.told = True

    def saw_close(
        self, run_id: str, decision: dict[str, Any], *, sticky_seconds: int | None = None
    ) -> None:
        """SWF accepted the answer to a decision task of ``run_id`` ending with the close
        ``decision`` (as sent): look now.

        SWF may still refuse the close (new events came in meanwhile), so a listing or the
        run's history says whether it closed, not this call. The close is delivered as
        decided, unread, when a listing shows the run closed so (same status) within
        ``sticky_seconds`` of its decision task's start, and no decision task of the run was
        taken here since: the answer routed the run's next decision task to the deciding
        worker's sticky task list, where no other worker can take it for that long (the
        sticky schedule-to-start timeout, or the run's decision task start-to-close timeout
        if shorter; ``None``: it was not routed so, and the run is read).
        """
        for watcher in self._neighbours():
            watcher._saw_close(run_id, decision, sticky_seconds)

    def _saw_close(self, run_id: str, decision: dict[str, Any], sticky_seconds: int | None) -> None:
        answered = _answered_close(decision, self._decided.pop(run_id, None), sticky_seconds)
        waiter = self._waiters.get(run_id)
        if waiter is None:
            if answered is not None:  # for a result() that comes later
                _remember(self._unclaimed, run_id, answered, _UNCLAIMED_KEPT)
            return
        waiter.fresh, waiter.told = False, True
        if answered is None or not self._listing:
            waiter.due = 0.0
            self._wake.set()
        else:
            self._await_confirmation(waiter, answered)

    def _await_confirmation(self, waiter: _Waiter, answered: _AnsweredClose) -> None:
        now = asyncio.get_running_loop().time()
        waiter.answered, waiter.answered_at, waiter.fresh = answered, now, False
        waiter.due = now + CONFIRM_PATIENCE
        spacing = self._confirmation_spacing()
        if self._confirm_at == math.inf or not spacing:
            self._confirm_at = min(self._confirm_at, max(now, self._confirmed_at + spacing))
            self._wake.set()

    def _confirmation_spacing(self) -> float:
        """How long after the latest listing for closes answered here the next one comes:
        :data:`CONFIRM_SPACING`, so that the closes answered meanwhile share it, but none once
        every awaited run waits only for it (the last of a batch of results): no other close
        could join it."""
        if all(w.answered is not None for w in self._waiters.values()):
            return 0.0
        return CONFIRM_SPACING

    async def close(self) -> None:
        """Stop watching; callers still waiting get ``WorkerError``."""
        _OPEN_WATCHERS.discard(self)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        waiters, self._waiters = list(self._waiters.values()), {}
        for waiter in waiters:
            for future in waiter.futures:
                if not future.done():
                    future.set_exception(
                        exc.WorkerError(
                            f"the client was closed while result() waited for workflow "
                            f"{waiter.workflow_id!r} (run {waiter.run_id!r})"
                        )
                    )

    # --- the watching task ------------------------------------------------------------------

    def _start(self) -> None:
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="aioswf result watcher")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval, next_listing = INTERVAL_MIN, 0.0
        confirm_interval = INTERVAL_MIN
        while self._waiters:
            wake_at = min(next_listing, self._confirm_at)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, wake_at - loop.time()))
            self._wake.clear()
            if self._new_waiters:
                self._new_waiters, interval = False, INTERVAL_MIN
                next_listing = min(next_listing, loop.time() + interval)
            # Woken early (a close answered here, a new waiter): read what is due, and list
            # only when the interval has passed.
            looked_at = loop.time()
            listing = looked_at >= next_listing
            confirming = looked_at >= self._confirm_at
            try:
                closed = await self._look(listing, confirming)
            except Exception as error:
                # Outages are waited out inside the look; anything reaching here (the client
                # closed under the watcher, a fault no retry heals) would fail again at every
                # look, so the waits end with it rather than loop for ever.
                self._fail_all(self._closed_error() or error)
                return
            if (closed_error := self._closed_error()) is not None:
                # Closed under a call in flight, whose fault then looked like an outage.
                self._fail_all(closed_error)
                return
            if listing:
                # Closes the listing found, that no worker here told of, say that runs close
                # elsewhere now: look again soon. Closes told here do not hasten it: the
                # listings for closes answered here confirm them.
                interval = INTERVAL_MIN if closed else min(interval * 1.5, INTERVAL_MAX)
                next_listing = loop.time() + interval
            if listing or confirming:
                self._confirmed_at = looked_at
                answered = [w.answered_at for w in self._waiters.values() if w.answered]
                if any(at < looked_at for at in answered):
                    # Closes answered here that the listing did not show yet (SWF lists
                    # them a little later): look for them again, less and less often.
                    confirm_interval = min(confirm_interval * 1.5, INTERVAL_MAX)
                    self._confirm_at = loop.time() + confirm_interval
                else:
                    confirm_interval = INTERVAL_MIN
                    # Answered during the listing, or none: the next at its spacing.
                    next_confirmation = looked_at + self._confirmation_spacing()
                    self._confirm_at = next_confirmation if answered else math.inf

    def _closed_error(self) -> exc.WorkerError | None:
        """The error for waits on a client that was closed (whatever a call in flight then
        raised, botocore's own errors included), or ``None`` while it is open."""
        if self.client.transport.is_open:
            return None
        return exc.WorkerError("result(): the SWF client is not open; use 'async with'")

    async def _look(self, listing: bool, confirming: bool) -> int:
        """One look: the listing, then the reads it and the clock call for; how many of the
        runs closed that no worker of this process told of."""
        now = asyncio.get_running_loop().time()
        due = [w for w in self._waiters.values() if w.due <= now]
        if self._listing:
            for waiter in [w for w in due if w.fresh]:
                # Open at a time the listings reach back to: they cover the rest of its life.
                waiter.fresh = False
                waiter.due = now + RECHECK
                due.remove(waiter)
        if self._listing and (listing or confirming):
            due += await self._closed_among_waiters(listing, reading=due)
        if listing and not self._listing:
            due = list(self._waiters.values())  # no listing: read every awaited run
        # Not those a listing just confirmed.
        due = [w for w in _unique(due) if self._waiters.get(w.run_id) is w]
        reads = await self._read_all(due)
        return sum(closed and not waiter.told for waiter, closed in zip(due, reads, strict=True))

    async def _closed_among_waiters(
        self, listing: bool, reading: Collection[_Waiter] = ()
    ) -> list[_Waiter]:
        """The awaited runs a listing shows closed, to be read; the closes answered here that
        it confirms are delivered at once. With ``listing`` false, only those are listed:
        of their types, as far back as the oldest of their decision tasks started. The runs
        ``reading`` are read right after: the listing need not reach back for them."""
        answered = [w.answered for w in self._waiters.values() if w.answered is not None]
        oldest = [a.started_at for a in answered]  # a close comes after its task started
        if listing and self._service_time:
            # As far back as SWF may be late to list a close, but not past the time each
            # run was known open: in a busy domain, the closes of the last seconds before
            # are not read again at every interval.
            lately = self._service_time - VISIBILITY_LAG
            oldest += [
                max(w.open_at, lately)
                for w in self._waiters.values()
                if w.answered is None and w not in reading
            ]
            filters = self._type_filters(self._waiters.values())
        elif answered:
            filters = self._type_filters(w for w in self._waiters.values() if w.answered)
        else:
            return []
        if not oldest:
            return []  # every run awaited is read now
        since = min(oldest)
        params: dict[str, Any] = {
            "domain": self.client.domain,
            # Whole seconds on the wire (botocore), rounded down: a little more is listed.
            "closeTimeFilter": {"oldestDate": datetime.fromtimestamp(since, UTC)},
            # The time window bounds a page; the size only matters where a service ignores
            # it (moto's server lists every close, oldest first, in one page).
            "maximumPageSize": 1000,
        }
        found: list[_Waiter] = []
        try:
            for type_filter in filters:
                request = {**params, **type_filter}
                while True:
                    # As plain JSON (where the session is the transport's own): a page lists
                    # up to 1,000 closes, of which only three members are read here, and
                    # botocore's walk costs about 7 us each.
                    with raw_answers():
                        page = await self.client.transport.call(
                            "ListClosedWorkflowExecutions", request
                        )
                    self.calls += 1
                    infos = page.get("executionInfos") or []
                    found += self._among_waiters(infos)
                    token = page.get("nextPageToken")
                    # Newest first: past ``since``, the rest closed before anything looked for.
                    if not token or (infos and _seconds(infos[-1]["closeTimestamp"]) < since):
                        break
                    request["nextPageToken"] = token
        except _OUTAGES as error:
            self._say_outage(error)
            return []
        except exc.ServiceError as error:
            # Allowed to read histories but not to list (an IAM policy can say so): read
            # each awaited run instead, as often as the interval allows.
            logger.warning(
                "result() cannot list closed executions in domain %r (%s); it reads each "
                "awaited execution's history instead",
                self.client.domain,
                error,
            )
            self._listing = False
            confirming = [w for w in self._waiters.values() if w.answered is not None]
            for waiter in confirming:
                waiter.answered, waiter.due = None, 0.0
            return confirming
        self._say_reachable()
        return found

    def _type_filters(self, waiters: Iterable[_Waiter]) -> list[dict[str, Any]]:
        """One listing per workflow type of ``waiters``, when every one's type is known and
        they are few: the closes of other types in a busy domain are not worth reading (and
        parsing) at every interval. Otherwise one listing of every type."""
        types = {w.workflow_type for w in waiters}
        known = sorted(t for t in types if t is not None)
        if len(known) < len(types) or len(known) > _TYPES_LISTED_APART:
            return [{}]
        # With the version too: SWF takes a name alone, but moto's server refuses a type
        # filter without a version with a 500 that would read as an outage forever.
        return [{"typeFilter": {"name": name, "version": version}} for name, version in known]

    def _among_waiters(self, infos: Iterable[dict[str, Any]]) -> list[_Waiter]:
        """The awaited runs among listed ``infos`` to read; those whose close answered here
        they confirm are delivered. The service's time moves on with them."""
        found = []
        for info in infos:
            closed_at = info.get("closeTimestamp")
            if closed_at is not None:
                self._service_time = max(self._service_time, _seconds(closed_at))
            waiter = self._waiters.get(info["execution"]["runId"])
            if waiter is None:
                continue
            answered, waiter.answered = waiter.answered, None
            event = answered.closed(info) if answered is not None else None
            if event is not None:
                self._finish(waiter, event)
            else:
                found.append(waiter)
        return found

    async def _read_all(self, waiters: Iterable[_Waiter]) -> list[bool]:
        limit = asyncio.Semaphore(_CONCURRENT_READS)

        async def read(waiter: _Waiter) -> bool:
            async with limit:
                return await self._read(waiter)

        return await asyncio.gather(*(read(w) for w in waiters))

    async def _read(self, waiter: _Waiter) -> bool:
        """Read the newest event of ``waiter``'s run; deliver it if it closed the run."""
        params = {
            "domain": self.client.domain,
            "execution": {"workflowId": waiter.workflow_id, "runId": waiter.run_id},
            "reverseOrder": True,
            "maximumPageSize": 1,
        }
        self.calls += 1
        try:
            page = await self.client.transport.call("GetWorkflowExecutionHistory", params)
        except _OUTAGES as error:
            self._say_outage(error)
            return False
        except exc.ServiceError as error:
            self._finish(waiter, error)
            return False
        self._say_reachable()
        events = page.get("events") or [{}]
        newest = events[0]
        self._service_time = max(self._service_time, timestamp(newest))
        if newest.get("eventType") in CLOSE_EVENTS:
            self._finish(waiter, newest)
            return True
        waiter.due = asyncio.get_running_loop().time() + RECHECK
        waiter.open_at = max(waiter.open_at, timestamp(newest))
        return False

    def _fail_all(self, error: BaseException) -> None:
        for waiter in list(self._waiters.values()):
            self._finish(waiter, error)

    def _finish(self, waiter: _Waiter, outcome: dict[str, Any] | BaseException) -> None:
        if self._waiters.get(waiter.run_id) is waiter:
            del self._waiters[waiter.run_id]
        for future in waiter.futures:
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        waiter.futures.clear()

    def _say_outage(self, error: BaseException) -> None:
        if not self._outage:
            logger.warning("result() waits out an SWF outage: %s", error)
        self._outage = True

    def _say_reachable(self) -> None:
        if self._outage:
            logger.info("result(): SWF is reachable again")
        self._outage = False


def _remember(runs: dict[str, Any], run_id: str, value: Any, kept: int = _STARTED_KEPT) -> None:
    """``runs[run_id] = value``, as the newest entry, forgetting the oldest beyond ``kept``."""
    runs.pop(run_id, None)
    runs[run_id] = value
    if len(runs) > kept:
        del runs[next(iter(runs))]


def _unique(waiters: list[_Waiter]) -> list[_Waiter]:
    return list(dict.fromkeys(waiters))


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)
