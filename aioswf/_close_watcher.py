"""One watcher per client for the runs its callers await: O(1) calls per interval, not per run.

Every ``handle.result()`` of a client registers the run it waits for here. One task per
client then learns which of them closed:

* a run is read once when first awaited (the newest event of its history): it may be closed
  already, and if not, the event's timestamp tells where the service's clock stands. A run
  this client started itself is not, while the listings still reach back to its start: it
  started after the service time the watcher knew of then, so they cover its whole life;
* then, at each interval (0.05 s, growing to 1 s while the listings find no close),
  one ``ListClosedWorkflowExecutions`` call (more pages only if many closed) lists what closed
  in the domain since then, and only the awaited runs among them are read for their close
  event. When the awaited runs are of a few workflow types known here (this client started
  them), the listing is made type by type: the closes of other types in a busy domain are
  not read at every interval;
* a worker of the same process that answers a decision task with a close decision says so at
  once (:meth:`CloseWatcher.saw_close`), so its result is read without waiting for the next
  listing (and such closes do not make the listings more frequent: they need none);
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
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aioswf import exceptions as exc
from aioswf._decider.history import timestamp

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
_CONCURRENT_READS = 16
_STARTED_KEPT = 10_000
_TYPES_LISTED_APART = 3
"""Awaited runs of at most this many workflow types are listed type by type."""
"""How many runs started by this client are remembered as such."""
_OUTAGES = (exc.ServiceUnavailableError, exc.ThrottlingError)


@dataclass(eq=False)
class _Waiter:
    workflow_id: str
    run_id: str
    futures: list[asyncio.Future[dict[str, Any]]] = field(default_factory=list)
    due: float = 0.0
    """Loop time at which the run's history is read directly (0: at the next look)."""
    fresh: bool = False
    """Started by this client: the listings cover it once the service's time is known."""
    workflow_type: tuple[str, str] | None = None
    """Its workflow type's name and version, when this client started it (else unknown)."""
    told: bool = False
    """A worker of this process answered (or is answering) a decision task of the run with a
    close decision."""


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
        self._started: dict[str, tuple[float, tuple[str, str]]] = {}
        """Runs started by this client, oldest first, with the service time known then and
        their workflow type's name."""
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
            fresh = bool(known_then) and known_then >= self._service_time - VISIBILITY_LAG
            waiter = _Waiter(workflow_id, run_id, fresh=fresh, workflow_type=workflow_type)
            self._waiters[run_id] = waiter
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

    def started(self, run_id: str, workflow_type: tuple[str, str]) -> None:
        """This client started ``run_id``, of the workflow type ``(name, version)``, just now
        (``StartWorkflowExecution`` answered)."""
        self._started[run_id] = (self._service_time, workflow_type)
        if len(self._started) > _STARTED_KEPT:
            del self._started[next(iter(self._started))]

    def closing(self, run_id: str) -> None:
        """A worker of this process is about to answer a decision task of ``run_id`` with a
        close decision (:meth:`saw_close` follows once it is answered): a listing that finds
        the close first is not news of closes made elsewhere."""
        waiter = self._waiters.get(run_id)
        if waiter is not None:
            waiter.told = True

    def saw_close(self, run_id: str) -> None:
        """A decision task of ``run_id`` was answered with a close decision: look now.

        SWF may still refuse the close (new events came in meanwhile), so the run's history
        says whether it closed, not this call.
        """
        waiter = self._waiters.get(run_id)
        if waiter is not None:
            waiter.due, waiter.fresh, waiter.told = 0.0, False, True
            self._wake.set()

    async def close(self) -> None:
        """Stop watching; callers still waiting get ``WorkerError``."""
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
        while self._waiters:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, next_listing - loop.time()))
            self._wake.clear()
            if self._new_waiters:
                self._new_waiters, interval = False, INTERVAL_MIN
                next_listing = min(next_listing, loop.time() + interval)
            # Woken early (a close answered here, a new waiter): read what is due, and list
            # only when the interval has passed.
            listing = loop.time() >= next_listing
            try:
                closed = await self._look(listing)
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
                # elsewhere now: look again soon. Closes told here need no listing.
                interval = INTERVAL_MIN if closed else min(interval * 1.5, INTERVAL_MAX)
                next_listing = loop.time() + interval

    def _closed_error(self) -> exc.WorkerError | None:
        """The error for waits on a client that was closed (whatever a call in flight then
        raised, botocore's own errors included), or ``None`` while it is open."""
        if self.client.transport.is_open:
            return None
        return exc.WorkerError("result(): the SWF client is not open; use 'async with'")

    async def _look(self, listing: bool) -> int:
        """One look: the listing, then the reads it and the clock call for; how many of the
        runs closed that no worker of this process told of."""
        now = asyncio.get_running_loop().time()
        due = [w for w in self._waiters.values() if w.due <= now]
        if self._listing:
            for waiter in [w for w in due if w.fresh]:
                # Started after any time known here: the listings cover its whole life.
                waiter.fresh = False
                waiter.due = now + RECHECK
                due.remove(waiter)
        if listing and self._listing and self._service_time:
            due += await self._closed_among_waiters()
        if listing and not self._listing:
            due = list(self._waiters.values())  # no listing: read every awaited run
        due = _unique(due)
        reads = await self._read_all(due)
        return sum(closed and not waiter.told for waiter, closed in zip(due, reads, strict=True))

    async def _closed_among_waiters(self) -> list[_Waiter]:
        since = self._service_time - VISIBILITY_LAG
        params: dict[str, Any] = {
            "domain": self.client.domain,
            "closeTimeFilter": {"oldestDate": datetime.fromtimestamp(since, UTC)},
            "maximumPageSize": 1000,
        }
        found: list[_Waiter] = []
        try:
            for type_filter in self._type_filters():
                listing = {**params, **type_filter}
                pages = self.client.transport.pages("ListClosedWorkflowExecutions", listing)
                async for page in pages:
                    self.calls += 1
                    found += self._among_waiters(page.get("executionInfos", ()))
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
            return []
        self._say_reachable()
        return found

    def _type_filters(self) -> list[dict[str, Any]]:
        """One listing per workflow type awaited, when every awaited run's type is known and
        they are few: the closes of other types in a busy domain are not worth reading (and
        parsing) at every interval. Otherwise one listing of every type."""
        types = {w.workflow_type for w in self._waiters.values()}
        known = sorted(t for t in types if t is not None)
        if len(known) < len(types) or len(known) > _TYPES_LISTED_APART:
            return [{}]
        # With the version too: SWF takes a name alone, but moto's server refuses a type
        # filter without a version with a 500 that would read as an outage forever.
        return [{"typeFilter": {"name": name, "version": version}} for name, version in known]

    def _among_waiters(self, infos: Iterable[dict[str, Any]]) -> list[_Waiter]:
        """The awaited runs among listed ``infos``; the service's time moves on with them."""
        found = []
        for info in infos:
            closed_at = info.get("closeTimestamp")
            if closed_at is not None:
                self._service_time = max(self._service_time, _seconds(closed_at))
            waiter = self._waiters.get(info["execution"]["runId"])
            if waiter is not None:
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


def _unique(waiters: list[_Waiter]) -> list[_Waiter]:
    return list(dict.fromkeys(waiters))


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)
