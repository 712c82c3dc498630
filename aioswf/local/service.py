"""`LocalSWF`: the local SWF service inside a running asyncio program."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from aiohttp import web

from aioswf.local.clock import Clock, RealClock, VirtualClock
from aioswf.local.engine import Engine, functions
from aioswf.local.engine.state import Json
from aioswf.local.faults import InternalFailure
from aioswf.local.lambdas import LambdaCallable, LambdaRunner, Outcome
from aioswf.local.server import Frontend
from aioswf.local.store import Store

if TYPE_CHECKING:
    from aioswf.client import Client

logger = logging.getLogger(__name__)


_STOP_GRACE = 2.0
"""Seconds :meth:`LocalSWF.stop` lets requests in flight finish before cutting them."""

_SAVE_RETRY_SECONDS = 1.0
"""How long the timer waits to fire due deadlines again after their change could not be
saved (a full disk does not empty itself at once)."""


class _Functions:
    """Adapts the Lambda runner to the engine, keeping the engine's in-flight count."""

    def __init__(self, service: LocalSWF) -> None:
        self.service = service
        self.runner = LambdaRunner(self._done)

    def has(self, name: str) -> bool:
        return self.runner.has(name)

    def start(self, run_id: str, scheduled_id: int, name: str, payload: str | None) -> None:
        self.service.engine.running_lambdas += 1
        self.runner.start(run_id, scheduled_id, name, payload)

    def _done(self, run_id: str, scheduled_id: int, outcome: Outcome) -> None:
        engine = self.service.engine
        engine.running_lambdas -= 1
        result, failure = outcome
        try:
            self.service.change(
                lambda: functions.finish(
                    engine, run_id, scheduled_id, result=result, failure=failure
                )
            )
        except InternalFailure:
            # Not recorded anywhere: the function times out, as after a restart.
            logger.warning(
                "the outcome of Lambda function %d of run %s could not be saved; it will time out",
                scheduled_id,
                run_id,
            )


class LocalSWF:
    """The local SWF service on a loopback port.

    Example::

        async with LocalSWF(clock=VirtualClock()) as swf:
            client = session.create_client("swf", endpoint_url=swf.endpoint_url, ...)

    Args:
        host: The address to listen on; loopback unless told otherwise.
        port: The port; 0 picks a free one (see :attr:`endpoint_url`).
        clock: A :class:`VirtualClock` to control time; the wall clock by default.
        db_path: An SQLite file to keep all state in across restarts; memory only if ``None``.
        long_poll_seconds: How long an empty poll is held before it answers with no task.
        region: The region named in domain ARNs.
        auto_skip_grace: With an auto-skipping virtual clock, how long (real seconds) the
            service must have been idle before it jumps the clock, so requests in transit land.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        db_path: str | Path | None = None,
        long_poll_seconds: float = 60.0,
        region: str = "us-east-1",
        auto_skip_grace: float = 0.002,
    ) -> None:
        self.host, self.port = host, port
        self.clock: Clock = clock if clock is not None else RealClock()
        self.engine = Engine(self.clock, region=region)
        self.auto_skip_grace = auto_skip_grace
        self._functions = _Functions(self)
        self.engine.function_runner = self._functions
        self._store = Store(Path(db_path)) if db_path is not None else None
        self._failed_saves = 0
        self.frontend = Frontend(
            self.engine, long_poll_seconds, self._after_change, self._after_error
        )
        self._kick = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._timer_task: asyncio.Task[None] | None = None
        self._unsubscribe = self.clock.subscribe(self._kick.set)
        self.engine.deadline_listeners.append(self._kick.set)

    @property
    def endpoint_url(self) -> str:
        """The URL to give clients, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    def register_lambda(self, name: str, function: LambdaCallable) -> None:
        """Make a Python callable available to ScheduleLambdaFunction as ``name``.

        Args:
            name: The function name decisions use.
            function: Takes the input string (or ``None``) and returns the result; may be
                ``async``.  Exceptions become ``LambdaFunctionFailed``.
        """
        self._functions.runner.register(name, function)

    def call(self, operation: str, request: Json) -> Json:
        """Run one operation directly, without HTTP (polls do not wait)."""
        return self.frontend.call(operation, request)

    def change(self, fn: Callable[[], object]) -> None:
        """Run an internal change to the engine with the usual bookkeeping.

        Raises:
            InternalFailure: the change could not be saved, and was undone.
        """
        self.engine.apply(fn)
        self._after_change()

    async def start(self) -> None:
        """Load persisted state (if any), bind the port and start the background timer."""
        if self._store is not None:
            self._store.load(self.engine)
            logger.info("loaded %d executions from the store", len(self.engine.executions))
        from aioswf.ui import add_web_view  # the web view of executions, at GET /

        app = self.frontend.make_app()
        add_web_view(app, self._web_view_client)
        # Requests in flight get a short grace on stop (each is answered in milliseconds, and
        # parked polls are answered at once): clients that keep sending on open connections
        # must not hold the service up for aiohttp's default minute.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=_STOP_GRACE
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:  # a busy port: leave nothing open behind the error
            await self.stop()
            raise
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        self._timer_task = asyncio.get_running_loop().create_task(self._timer_loop())
        logger.info("local SWF service listening on %s", self.endpoint_url)

    async def stop(self) -> None:
        """Stop serving and flush state; parked polls are answered at once with no task."""
        self.frontend.shut()
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
            self._timer_task = None
        await self._functions.runner.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._store is not None:
            self._store.close()
        self._unsubscribe()

    async def __aenter__(self) -> LocalSWF:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _web_view_client(self) -> Client:
        from aioswf.client import Client

        # The web view reads through the public API like any client, over loopback.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return Client("-", endpoint_url=f"http://{host}:{self.port}")

    def _after_change(self) -> None:
        try:
            if self._store is not None:
                self._save(self._store)
        finally:
            self._kick.set()

    def _after_error(self) -> None:
        """An operation failed unexpectedly, perhaps halfway: with a store, go back to what
        it holds, so that nothing half made is saved or served."""
        try:
            if self._store is not None:
                self._undo(self._store)
        finally:
            self._kick.set()

    def _save(self, store: Store) -> None:
        """Save the change just made, or undo it: a request's change and its write are one
        unit, so that what a restart loads is what clients were told.

        Raises:
            InternalFailure: the write failed (a full disk, a read-only file, an I/O error);
                the change is undone in memory, and the request gets a 500, which clients
                retry. The service goes on serving.
        """
        try:
            wrote = store.flush(self.engine)
        except Exception as error:
            self._failed_saves += 1
            if self._failed_saves == 1:
                logger.error(
                    "local SWF: cannot save to its store, so requests that change state get "
                    "InternalFailure until it can: %r",
                    error,
                )
            else:
                logger.debug("local SWF: save %d failed: %r", self._failed_saves, error)
            self._undo(store)
            raise InternalFailure(
                f"The local SWF service could not save the change ({error}); it was not applied",
                logged=True,
            ) from error
        if wrote and self._failed_saves:
            logger.info("local SWF: saves again after %d failed", self._failed_saves)
            self._failed_saves = 0

    def _undo(self, store: Store) -> None:
        """Put the engine back to what the store holds."""
        try:
            store.reload(self.engine)
        except Exception:
            logger.exception(
                "local SWF: cannot read its store back either; what it serves may now differ "
                "from the file: restart it"
            )

    async def _timer_loop(self) -> None:
        """Fire deadlines on time (and, for an auto-skipping clock, move time forward)."""
        while True:
            self._kick.clear()
            try:
                if self.engine.fire_due():
                    self._after_change()
            except InternalFailure:
                # Undone, so still due: fire them again once the store may take them.
                await asyncio.sleep(_SAVE_RETRY_SECONDS)
                continue
            due = self.engine.next_deadline()
            if await self._maybe_skip(due):
                continue
            timeout = None
            if due is not None and not self.clock.is_virtual:
                timeout = max(0.0, due - self.clock.now())
            # Not wait_for: on Python 3.11 it can swallow a cancellation that arrives as the
            # kick does (a busy service), and stop() would wait for this loop for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._kick.wait()

    async def _maybe_skip(self, due: float | None) -> bool:
        clock = self.clock
        if not (isinstance(clock, VirtualClock) and clock.auto_skip and due is not None):
            return False
        if not self.engine.is_idle:
            return False
        await asyncio.sleep(self.auto_skip_grace)
        if self._kick.is_set() or not self.engine.is_idle:
            return True  # something happened meanwhile: look again
        if self.engine.next_deadline() == due:
            logger.debug("idle: skipping the virtual clock to %s", due)
            clock.advance_to(due)
        return True
