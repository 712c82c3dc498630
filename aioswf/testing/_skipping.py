"""When a test environment may move time forward, and by how much.

Two rules, one per way of skipping:

* *Automatic* (while a test awaits a result): jump to the next deadline when at least one
  execution is open and the service is idle — no decision or activity task queued or in
  flight, no Lambda function running. A running activity holds time still: it is real code,
  and its timeouts should only fire if it really overruns them.
* *Explicit* (``env.sleep``): move forward by the given duration, deadline by deadline,
  letting the workers react to each. Queued tasks, decision tasks in flight and Lambda
  functions hold time here; a running activity holds it only until it has been silent (no
  heartbeat) for ``stuck_after`` of real time, then counts as stuck — that is how a test makes
  a stuck activity time out, while a quick fake activity still finishes in its own time.

Either way a queued task holds time only until it has waited ``stuck_after`` of real time
and no task of its list was taken for as long: a worker that polls its task list takes a task
within milliseconds, or works through a backlog one task after another, so a list still
untouched by then is one nobody polls, and waiting for its tasks would hold time for ever
(their schedule-to-start timeout could never come). And ``sleep`` gives up, with an error
naming what holds time, when nothing at all has changed for ``stall_after`` of real time (a
decision task taken and never answered, say).

Either way, the state must stay the same for a short grace period before a jump, so that a
request already on its way (a worker answering, a poll being handed a task) lands first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from aioswf._wording import count, duration
from aioswf.local import Engine
from aioswf.testing._clock import SkippingClock

logger = logging.getLogger(__name__)

_DECISION = "decision"  # the kind of a decision task's token in the engine

_Mark = tuple[str, float | None]  # an activity task's token and heartbeat deadline


class TimeSkipper:
    """Moves a :class:`SkippingClock` forward for a local SWF engine, by the rules above.

    Args:
        engine: the engine of the local service.
        clock: the engine's clock.
        grace: real seconds the service must stay unchanged before a jump.
        stuck_after: real seconds after which a silent running activity no longer holds
            back :meth:`sleep`.
    """

    def __init__(
        self,
        engine: Engine,
        clock: SkippingClock,
        grace: float,
        stuck_after: float,
        stall_after: float = 30.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.grace = grace
        self.stuck_after = stuck_after
        self.stall_after = stall_after
        self._heard: dict[_Mark, float] = {}
        self._queued: dict[tuple[object, ...], float] = {}
        self._taken: dict[object, tuple[int, float]] = {}
        """Per task list with tasks queued: how many tasks were taken from it, and since when
        (monotonic seconds) that count has stood still."""
        self._holders = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether automatic skipping is on now."""
        return self._holders > 0

    def start(self) -> None:
        """Start the background task that skips while automatic skipping is on."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="time skipper")

    async def stop(self) -> None:
        """Stop the background task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextlib.contextmanager
    def automatic(self) -> Iterator[None]:
        """Skip automatically inside the ``with`` block (blocks may nest and overlap)."""
        self._holders += 1
        self._wake.set()
        try:
            yield
        finally:
            self._holders -= 1

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of service time pass, as fast as the workers keep up."""
        target = self.clock.now() + seconds
        while self.clock.now() < target:
            due = await self._settled(self._may_step, guarded=True)
            self.clock.advance_to(target if due is None else min(due, target))

    # --- internals -------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if not self.enabled:
                self._wake.clear()
                await self._wake.wait()
                continue
            settled, due = await self._settle_once(self._may_jump)
            if settled and due is not None:
                self.clock.advance_to(due)

    async def _settled(self, allowed: Callable[[], bool], guarded: bool = False) -> float | None:
        """Wait until ``allowed()`` holds across a grace period; the next deadline then.

        With ``guarded``, raise if the service stays exactly as it is, held, for
        ``stall_after`` of real time: nothing is making progress, and nothing will.
        """
        state = self._state()
        since = time.monotonic()
        while True:
            settled, due = await self._settle_once(allowed)
            if settled:
                return due
            now_state = self._state()
            if now_state != state:
                state, since = now_state, time.monotonic()
            elif guarded and time.monotonic() - since > self.stall_after:
                raise RuntimeError(
                    f"env.sleep(): time has been held for {duration(self.stall_after)} of real "
                    "time "
                    f"and nothing changed meanwhile; held by {self._holders_text()}"
                )

    def _state(self) -> tuple[object, ...]:
        """What the service's progress shows in: tasks, heartbeats, deadlines."""
        engine = self.engine
        return (
            engine.queued_total,
            engine.running_lambdas,
            engine.next_deadline(),
            frozenset(
                (token, self._heartbeat_deadline(ref.run_id, ref.event_id))
                for token, ref in engine.tokens.items()
            ),
        )

    def _holders_text(self) -> str:
        engine = self.engine
        held = []
        for ref in engine.tokens.values():
            execution = engine.executions.get(ref.run_id)
            workflow_id = execution.workflow_id if execution is not None else "?"
            what = "a decision task" if ref.kind == _DECISION else "an activity task"
            held.append(f"{what} of workflow {workflow_id!r} taken by a worker, never answered")
        if engine.running_lambdas:
            held.append(count(engine.running_lambdas, "Lambda function") + " running")
        if engine.queued_total:
            held.append(count(engine.queued_total, "queued task"))
        return "; ".join(held) or "nothing visible"

    async def _settle_once(self, allowed: Callable[[], bool]) -> tuple[bool, float | None]:
        """Whether ``allowed()`` held across one grace period, and the next deadline."""
        if not allowed():
            await asyncio.sleep(self.grace)
            return False, None
        due = self.engine.next_deadline()
        await asyncio.sleep(self.grace)
        if allowed() and self.engine.next_deadline() == due:
            return True, due
        return False, None

    def _may_jump(self) -> bool:
        engine = self.engine
        has_open = any(engine.open_runs.values())
        if not (self.enabled and has_open) or engine.tokens or engine.running_lambdas:
            return False
        return not self._queued_holds()

    def _queued_holds(self) -> bool:
        """Whether a queued task may still be taken by a worker: it is young, or a worker took
        another task of its list lately (a backlog being worked through, one task at a time,
        with moments when none is in flight)."""
        if not self.engine.queued_total:
            self._queued, self._taken = {}, {}
            return False
        now = time.monotonic()
        seen: dict[tuple[object, ...], float] = {}
        taken: dict[object, tuple[int, float]] = {}
        holds = False
        for queue_key, queue in self.engine.queues.items():
            if not queue.live:
                continue
            count, still_since = self._taken.get(queue_key, (queue.taken, now))
            if count != queue.taken:
                still_since = now
            taken[queue_key] = (queue.taken, still_since)
            holds = holds or now - still_since < self.stuck_after
            for task_key in queue.live:
                mark = (queue_key, task_key)
                seen[mark] = first = self._queued.get(mark, now)
                holds = holds or now - first < self.stuck_after
        self._queued, self._taken = seen, taken
        return holds

    def _may_step(self) -> bool:
        engine = self.engine
        if engine.running_lambdas or self._queued_holds():
            return False
        now = time.monotonic()
        heard: dict[_Mark, float] = {}
        held = False
        for token, ref in engine.tokens.items():
            if ref.kind == _DECISION:
                return False
            # A heartbeat moves the deadline, so a new mark: the activity was heard from.
            mark = (token, self._heartbeat_deadline(ref.run_id, ref.event_id))
            heard[mark] = self._heard.get(mark, now)
            held = held or now - heard[mark] < self.stuck_after
        self._heard = heard
        return not held

    def _heartbeat_deadline(self, run_id: str, scheduled_id: int) -> float | None:
        execution = self.engine.executions.get(run_id)
        if execution is None:
            return None
        activity_id = execution.activity_ids.get(scheduled_id)
        state = execution.activities.get(activity_id) if activity_id is not None else None
        return state.heartbeat_at if state is not None else None
