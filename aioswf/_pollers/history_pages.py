"""Where a decision task's history comes from: newest-first pages, read only as far as needed.

A decision task for a run the worker has cached needs only the events since its previous task,
so polls on the worker's sticky task list ask for small pages (sized from the recent tasks) and
fetch more only when the first one does not reach back far enough. A task whose run must be
replayed from the start reads the whole history once, in SWF's largest pages.

The pages are read and put in order on the host's event loop, each in a step of a
millisecond or two: parsing a page is one call into C that holds the interpreter whichever
thread makes it (so handing it to the workflow thread would not shorten the host's wait, only
add a hand-over), and putting a long history in order is done in C (see
:meth:`TaskHistory.after`).
"""

from __future__ import annotations

import bisect
import logging
import operator
from itertools import compress
from typing import TYPE_CHECKING, Any

from aioswf._decider.history import Event

if TYPE_CHECKING:
    from aioswf.client import Client

logger = logging.getLogger(__name__)

_EVENT_ID = operator.itemgetter("eventId")

FULL_PAGE = 1000
"""SWF's largest ``maximumPageSize``, for histories read in full."""
SMALL_PAGE_MIN = 16
"""The smallest page a poll for a cached run asks for."""
_GROWTH = 2.0
"""How many times the recent tasks' new events a small page holds."""


class PageSource:
    """Sends ``PollForDecisionTask`` for one worker and reads the rest of each task's history.

    Args:
        client: the connection to SWF.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._recent_new = float(SMALL_PAGE_MIN / _GROWTH)
        self.page_size: int | None = None
        """A fixed ``maximumPageSize`` for every poll (tests), instead of the chosen one."""

    def small_page(self) -> int:
        """The page size for a poll whose task is most likely a cached run's."""
        if self.page_size is not None:
            return self.page_size
        return max(SMALL_PAGE_MIN, min(FULL_PAGE, round(self._recent_new * _GROWTH)))

    def full_page(self) -> int:
        """The page size for a poll whose task may need the whole history."""
        return self.page_size if self.page_size is not None else FULL_PAGE

    def saw_new_events(self, count: int) -> None:
        """A cached run's task brought ``count`` new events; the next small pages follow it."""
        self._recent_new = 0.8 * self._recent_new + 0.2 * count
        self._recent_new = max(self._recent_new, count / _GROWTH)

    async def poll(self, task_list: str, page_size: int) -> dict[str, Any]:
        """One PollForDecisionTask on ``task_list``, newest events first."""
        return await self._poll(task_list, page_size)

    async def _poll(self, task_list: str, page_size: int, **extra: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "domain": self.client.domain,
            "taskList": {"name": task_list},
            "identity": self.client.identity,
            "reverseOrder": True,
            "maximumPageSize": page_size,
            **extra,
        }
        return await self.client.transport.call("PollForDecisionTask", params)

    def history(self, first_page: dict[str, Any], task_list: str, page_size: int) -> TaskHistory:
        """The history of the task that ``first_page`` (a poll's answer) started."""
        return TaskHistory(self, first_page, task_list, page_size)

    async def next_page(self, task_list: str, page_size: int, token: str) -> dict[str, Any]:
        """The next page of a task's history (SWF wants the poll's parameters unchanged)."""
        return await self._poll(task_list, page_size, nextPageToken=token)

    async def older_events(
        self, execution: dict[str, Any], after: int, before: int
    ) -> list[Event] | None:
        """Events ``after + 1 .. before - 1`` of a run, in any order, in the largest pages.

        Read oldest first from the start of a history, newest first otherwise.
        ``GetWorkflowExecutionHistory`` is eventually consistent: if it does not yet hold
        every one of those events, ``None`` says to keep paging the poll instead.
        """
        params: dict[str, Any] = {
            "domain": self.client.domain,
            "execution": {"workflowId": execution["workflowId"], "runId": execution["runId"]},
            "maximumPageSize": FULL_PAGE,
            "reverseOrder": after > 0,
        }
        wanted = before - 1 - after
        events: list[Event] = []
        async for page in self.client.transport.pages("GetWorkflowExecutionHistory", params):
            for event in page.get("events", ()):
                if after < int(event["eventId"]) < before:
                    events.append(event)
            if len(events) == wanted:
                return events
        return None


class TaskHistory:
    """The history pages of one decision task, newest first, read only as far as needed."""

    def __init__(
        self, source: PageSource, first_page: dict[str, Any], task_list: str, page_size: int
    ) -> None:
        self._source = source
        self.first_page = first_page
        """The poll's answer: the task token, the run, the newest events."""
        self.task_list = task_list
        """The task list the task came from."""
        self._page_size = page_size
        self._execution: dict[str, Any] = first_page["workflowExecution"]
        self._started_id = int(first_page["startedEventId"])
        self._events: list[Event] = []
        """The events read so far: ``_oldest`` up to the task's ``startedEventId``, each once."""
        self._oldest = self._started_id + 1
        self._token: str | None = None
        self.pages = 0
        """Poll pages read so far, the first included."""
        self.events_read = 0
        """History events received so far, however they were read."""
        self._add(first_page)

    def _add(self, page: dict[str, Any]) -> None:
        events: list[Event] = page.get("events") or []
        self.pages += 1
        self.events_read += len(events)
        # Events recorded after the task started belong to the next task; events from
        # `_oldest` on are held already. The poll's pages and `older_events` can overlap (a
        # cache hit that turns into a full replay reads the start after the middle), and an
        # event handed to the run twice would be applied twice. Each pass is one call into C:
        # a page of a long replay holds a thousand events.
        if events:
            ids = [*map(_EVENT_ID, events)]
            oldest = self._oldest
            if max(ids) >= oldest:  # some are held already, or newer than the task
                kept = [*map(oldest.__gt__, ids)]
                events, ids = [*compress(events, kept)], [*compress(ids, kept)]
            if events:
                self._events += events
                self._oldest = min(oldest, min(ids))
        self._token = page.get("nextPageToken") or None

    def _pages_left(self, known_id: int) -> int:
        return -(-(self._oldest - 1 - known_id) // self._page_size)

    async def after(self, known_id: int) -> list[Event]:
        """Every event after ``known_id``, oldest first, fetching more pages if needed."""
        while self._token is not None and self._oldest > known_id + 1:
            if self._pages_left(known_id) > 2 and self._page_size < FULL_PAGE:
                # Far from what is known with small pages: read the rest in large ones.
                older = await self._source.older_events(self._execution, known_id, self._oldest)
                if older is not None:
                    self.events_read += len(older)
                    self._events.extend(older)
                    self._oldest = known_id + 1
                    break
            page = await self._source.next_page(self.task_list, self._page_size, self._token)
            self._add(page)
        # On the host's loop, so in C: a sort keyed by a Python function, or a Python loop,
        # over a 25,000-event history holds the loop for several milliseconds, this for
        # about one. Pages come newest first, and the sort turns such runs round in one pass.
        events = self._events
        events.sort(key=_EVENT_ID)
        return events[bisect.bisect_right(events, known_id, key=_EVENT_ID) :]
