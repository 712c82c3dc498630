"""`WorkflowEnvironment`: the local SWF service in-process, a client, and time skipping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from aiobotocore.session import AioSession, get_session

from aioswf.client import Client, WorkflowHandle
from aioswf.converter import DataConverter
from aioswf.interceptors import Interceptor
from aioswf.local import LocalSWF
from aioswf.options import seconds_of
from aioswf.testing._clock import SkippingClock
from aioswf.testing._skipping import TimeSkipper

logger = logging.getLogger(__name__)

R = TypeVar("R")

_CLOSE_CHECK_SECONDS = 0.005
"""How often a result waits on the in-process service's state; costs no request."""

_session: AioSession | None = None


def _shared_session() -> AioSession:
    """One botocore session for every environment of the process.

    Creating a session loads botocore's data files again, a tenth of a second that every
    test would pay. Its credentials are placeholders: the local service does not check
    them, and a developer's real ones have no business being sent to it.
    """
    global _session
    if _session is None:
        _session = get_session()
        _session.set_credentials("aioswf-test", "aioswf-test")
    return _session


class WorkflowEnvironment:
    """The local SWF service on a free loopback port, a client on a fresh domain, and time
    that skips ahead while workflows only wait.

    Time passes at the wall clock's rate and jumps forward:

    * while a test awaits :meth:`WorkflowHandle.result` on a handle of :attr:`client` (or
      runs inside :meth:`auto_time_skipping`), whenever at least one execution is open and
      nothing is queued or running — no decision or activity task waiting for a worker or
      being worked on — time jumps to the next timer or timeout. A workflow that sleeps for
      thirty days finishes at once; a running activity holds time still;
    * :meth:`sleep` moves time forward by a given duration, deadline by deadline, letting
      the workers react to each; a running activity holds it back only until it has gone
      ``stuck_after`` without a heartbeat, which is how a test makes a stuck activity time
      out.

    Outside those, time is not skipped, so a test that signals a workflow sees it at the
    moment it expects.

    Example::

        async with WorkflowEnvironment() as env:
            async with Worker(env.client, task_list="tests", workflows=[Reminder]):
                handle = await env.client.start_workflow(
                    Reminder.run, workflow_id="r-1", task_list="tests")
                assert await handle.result() == "sent"

    Args:
        domain: the SWF domain to register and use.
        start: the time the environment begins at; the current time if ``None``.
        converter: the client's payload converter.
        interceptors: the client's interceptors (workers on :attr:`client` use them too).
        long_poll: how long the service holds an empty poll; short, so that workers shut
            down quickly at the end of a test.
        skip_grace: how long the service must stay unchanged before time jumps, so that a
            request already on its way lands first.
        stuck_after: in :meth:`sleep`, how long (real time) a running activity may go without
            a heartbeat before it stops holding time back and counts as stuck; also how long
            a queued task holds time before it counts as on a task list nobody polls (once
            no task of its list has been taken for as long either).
        stall_after: how long (real time) :meth:`sleep` waits while time is held and nothing
            changes at all before it raises ``RuntimeError`` naming what holds it.
    """

    def __init__(
        self,
        *,
        domain: str = "aioswf-test",
        start: datetime | None = None,
        converter: DataConverter | None = None,
        long_poll: timedelta = timedelta(seconds=0.2),
        skip_grace: timedelta = timedelta(milliseconds=5),
        stuck_after: timedelta = timedelta(milliseconds=250),
        stall_after: timedelta = timedelta(seconds=30),
        interceptors: Sequence[Interceptor] = (),
    ) -> None:
        self.domain = domain
        self._start = start.timestamp() if start is not None else None
        self._converter = converter
        self._interceptors = tuple(interceptors)
        self._long_poll = seconds_of(long_poll, "long_poll")
        self._grace = seconds_of(skip_grace, "skip_grace")
        self._stuck_after = seconds_of(stuck_after, "stuck_after")
        self._stall_after = seconds_of(stall_after, "stall_after")
        self._service: LocalSWF | None = None
        self._client: Client | None = None
        self._clock: SkippingClock | None = None
        self._skipper: TimeSkipper | None = None

    # --- what a test uses -------------------------------------------------------------------

    @property
    def client(self) -> Client:
        """A client on the environment's domain; its handles skip time in ``result()``."""
        return _started(self._client)

    @property
    def service(self) -> LocalSWF:
        """The local SWF service, e.g. to ``register_lambda`` functions."""
        return _started(self._service)

    @property
    def endpoint_url(self) -> str:
        """The service's URL, for other clients (boto3, a second ``Client``)."""
        return self.service.endpoint_url

    def now(self) -> datetime:
        """The service's current time (timezone-aware, UTC)."""
        return datetime.fromtimestamp(_started(self._clock).now(), UTC)

    @property
    def skipped(self) -> timedelta:
        """How far time has jumped ahead of the wall clock in all."""
        return timedelta(seconds=_started(self._clock).skipped)

    async def sleep(self, duration: timedelta) -> None:
        """Let ``duration`` pass on the service's clock, as fast as the workers keep up.

        Timers and timeouts due on the way fire in order, each at its time, and the workers
        answer the decision tasks they cause before time moves on. A running activity holds
        time back until it has gone ``stuck_after`` (real time) without a heartbeat; then
        time moves on past its timeouts, as it would for an activity that hangs. A task
        queued on a task list nobody polls holds it for ``stuck_after`` only.

        Args:
            duration: how much time passes; at least zero.

        Raises:
            RuntimeError: time stayed held, with nothing changing, for ``stall_after`` (a
                decision task taken and never answered, say); the message says what held it.
        """
        seconds = seconds_of(duration, "sleep(duration)")
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative duration: {duration}")
        await _started(self._skipper).sleep(seconds)

    @contextlib.contextmanager
    def auto_time_skipping(self) -> Iterator[None]:
        """Skip time automatically inside the ``with`` block, as ``result()`` does.

        Use it around code that waits for workflows by other means than ``result()``.
        Do not send signals from outside the workflows inside it: time may jump before a
        signal arrives.
        """
        with _started(self._skipper).automatic():
            yield

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the service and the client, and register the domain."""
        clock = SkippingClock(self._start)
        service = LocalSWF(port=0, clock=clock, long_poll_seconds=self._long_poll)
        await service.start()
        try:
            client = _EnvClient(
                self,
                self.domain,
                endpoint_url=service.endpoint_url,
                converter=self._converter,
                interceptors=self._interceptors,
                session=_shared_session(),
                # Recorded histories then name no machine, and read the same everywhere.
                identity="aioswf-test",
            )
            await client.open()
            try:
                await client.register_domain()
            except BaseException:
                await client.close()
                raise
        except BaseException:
            await service.stop()
            raise
        self._clock, self._service, self._client = clock, service, client
        self._skipper = TimeSkipper(
            service.engine, clock, self._grace, self._stuck_after, self._stall_after
        )
        self._skipper.start()
        logger.debug("test environment on %s, domain %r", service.endpoint_url, self.domain)

    async def shutdown(self) -> None:
        """Stop the client and the service. Idempotent."""
        if self._skipper is not None:
            await self._skipper.stop()
            self._skipper = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._service is not None:
            await self._service.stop()
            self._service = None

    async def __aenter__(self) -> WorkflowEnvironment:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    # --- for the handles --------------------------------------------------------------------

    async def wait_closed(self, workflow_id: str, run_id: str | None) -> None:
        """Return once the run (or, without ``run_id``, every run of the id) is closed.

        It reads the in-process service's state, so waiting costs no request and ends the
        moment the run closes.
        """
        engine = self.service.engine
        while True:
            if run_id is not None:
                execution = engine.executions.get(run_id)
                if execution is None or not execution.is_open:
                    return
            elif (self.domain, workflow_id) not in engine.open_by_id:
                return
            await asyncio.sleep(_CLOSE_CHECK_SECONDS)


class TimeSkippingHandle(WorkflowHandle[R]):
    """A :class:`~aioswf.client.WorkflowHandle` whose ``result()`` skips time while it waits."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        client: Client,
        workflow_id: str,
        *,
        run_id: str | None = None,
        first_run_id: str | None = None,
        result_fn: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(
            client, workflow_id, run_id=run_id, first_run_id=first_run_id, result_fn=result_fn
        )
        self.env = env

    async def result(self, *, timeout: timedelta | None = None, follow_runs: bool = True) -> R:
        """Wait for the execution to close, skipping time meanwhile, and return its result.

        See :meth:`aioswf.client.WorkflowHandle.result` for the arguments and errors.
        """
        seconds = None if timeout is None else seconds_of(timeout, "result(timeout=...)")
        with self.env.auto_time_skipping():
            async with self.timeout_named(seconds), asyncio.timeout(seconds):
                # Following runs, the chain ends when no run of the id is open any more.
                watched = self.pinned_run_id or (None if follow_runs else self.first_run_id)
                await self.env.wait_closed(self.workflow_id, watched)
                return await super().result(follow_runs=follow_runs)


class _EnvClient(Client):
    """A client whose workflow handles skip time in ``result()``."""

    def __init__(self, env: WorkflowEnvironment, domain: str, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self._env = env

    def _handle(
        self,
        workflow_id: str,
        *,
        run_id: str | None = None,
        first_run_id: str | None = None,
        result_fn: Callable[..., Any] | None = None,
    ) -> WorkflowHandle[Any]:
        return TimeSkippingHandle(
            self._env,
            self,
            workflow_id,
            run_id=run_id,
            first_run_id=first_run_id,
            result_fn=result_fn,
        )


T = TypeVar("T")


def _started(value: T | None) -> T:
    if value is None:
        raise RuntimeError("the test environment is not started: use `async with` or start()")
    return value
