"""The aiohttp handlers of the web view, and how it is mounted on an application."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import jinja2
from aiohttp import web

from aioswf import exceptions as exc
from aioswf.client import Client
from aioswf.executions import ExecutionFilter
from aioswf.timeline import format_duration, format_time, shorten, step_detail
from aioswf.ui.reader import BadQuery, Reader

logger = logging.getLogger(__name__)

CLOSE_STATUSES = ("COMPLETED", "FAILED", "CANCELED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT")
REFRESH_SECONDS = 2

_READER = web.AppKey("aioswf_ui_reader", Reader)
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("aioswf.ui", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters.update(when=format_time, took=format_duration, short=shorten)
_TEMPLATES.globals.update(step_detail=step_detail, refresh_seconds=REFRESH_SECONDS)


def add_web_view(app: web.Application, client: Callable[[], Client]) -> None:
    """Serve the web view's pages (``GET`` only) on ``app``.

    Args:
        app: the application; the SWF API of the local service may share it (it is ``POST``).
        client: makes the client the pages read through; called at the first page, and the
            client is closed with the application.
    """
    state: dict[str, Reader] = {}

    async def reader() -> Reader:
        if "reader" not in state:
            opened = client()
            await opened.open()
            state["reader"] = Reader(opened)
        return state["reader"]

    async def close(_: web.Application) -> None:
        if "reader" in state:
            await state.pop("reader").client.close()

    app.on_cleanup.append(close)
    for path, page in (
        ("/", _domains),
        ("/executions", _executions),
        ("/execution", _execution),
    ):
        app.router.add_get(path, _page(page, reader))


def web_view_app(client: Callable[[], Client]) -> web.Application:
    """An application serving only the web view (what ``aioswf ui`` runs)."""
    app = web.Application()
    add_web_view(app, client)
    return app


Page = Callable[[Reader, web.Request], Awaitable[str]]


def _page(page: Page, reader: Callable[[], Awaitable[Reader]]) -> Any:
    async def handler(request: web.Request) -> web.Response:
        try:
            body = await page(await reader(), request)
        except BadQuery as error:
            return _error(400, "Bad request", str(error))
        except exc.UnknownResourceError as error:
            return _error(404, "Not found", str(error))
        except exc.ValidationError as error:
            # SWF refused a request the page built from its query: the query is at fault.
            return _error(400, "Bad request", str(error))
        except exc.ServiceError as error:
            logger.warning("web view: %s", error)
            return _error(502, "SWF answered with an error", str(error))
        except Exception as error:  # a page must answer; the log keeps the traceback
            logger.exception("web view: %s failed", request.path_qs)
            return _error(500, "The page failed", f"{type(error).__name__}: {error}")
        return web.Response(text=body, content_type="text/html")

    return handler


def _error(status: int, title: str, message: str) -> web.Response:
    body = _TEMPLATES.get_template("error.html").render(title=title, message=message)
    return web.Response(status=status, text=body, content_type="text/html")


async def _domains(reader: Reader, _request: web.Request) -> str:
    domains = await reader.domains()
    return _TEMPLATES.get_template("domains.html").render(domains=domains)


async def _executions(reader: Reader, request: web.Request) -> str:
    query = request.query
    domain = _required(request, "domain")
    show = query.get("show", "open")
    if show not in ("open", "closed"):
        raise BadQuery(f"show must be open or closed, not {show!r}")
    chosen = _filter(query, closed=show == "closed")
    listing = await reader.executions(
        domain, chosen, closed=show == "closed", page=query.get("page") or None
    )
    return _TEMPLATES.get_template("executions.html").render(
        domain=domain,
        show=show,
        query=dict(query),
        listing=listing,
        statuses=CLOSE_STATUSES,
    )


async def _execution(reader: Reader, request: web.Request) -> str:
    domain = _required(request, "domain")
    workflow_id = _required(request, "workflow_id")
    run_id = request.query.get("run_id") or await reader.current_run(domain, workflow_id)
    if run_id is None:
        raise exc.UnknownResourceError(
            f"no execution with workflow id {workflow_id!r} in domain {domain!r}",
            operation="ListWorkflowExecutions",
            code="UnknownResourceFault",
        )
    view = await reader.run(domain, workflow_id, run_id)
    run = view.timeline
    span = _span(run.started, run.closed or _latest(run))
    return _TEMPLATES.get_template("execution.html").render(
        domain=domain,
        info=view.description.info,
        description=view.description,
        run=run,
        bars=[
            _bar(step.started, step.ended or run.closed, run.started, span) for step in run.steps
        ],
        open=run.status == "OPEN",
    )


def _required(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if not value:
        raise BadQuery(f"the page needs ?{name}=…")
    return value


def _filter(query: Any, *, closed: bool) -> ExecutionFilter:
    def when(name: str) -> datetime | None:
        text = query.get(name)
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise BadQuery(f"{name}: {text!r} is not a date (YYYY-MM-DD[THH:MM])") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # the page shows UTC

    workflow_type = None
    if query.get("type"):
        name, _, version = str(query["type"]).partition("/")
        workflow_type = (name, version or None)
    chosen = ExecutionFilter(
        started_after=when("started_after"),
        started_before=when("started_before"),
        workflow_id=query.get("workflow_id") or None,
        workflow_type=workflow_type,
        tag=query.get("tag") or None,
        close_status=(query.get("status") or None) if closed else None,
    )
    try:
        chosen.to_swf(closed=closed)
    except ValueError as error:
        raise BadQuery(str(error)) from None
    return chosen


def _latest(run: Any) -> datetime | None:
    times: list[datetime] = [
        t for step in run.steps for t in (step.started, step.ended) if t is not None
    ]
    latest: datetime | None = max(times, default=run.started)
    return latest


def _span(start: datetime | None, end: datetime | None) -> float:
    if start is None or end is None:
        return 0.0
    return max((end - start).total_seconds(), 0.0)


def _bar(
    started: datetime | None, ended: datetime | None, origin: datetime | None, span: float
) -> tuple[float, float]:
    """Where a step's bar starts and how wide it is, in percent of the run so far."""
    if started is None or origin is None or span <= 0:
        return 0.0, 100.0 if ended is None else 0.5
    left = (started - origin).total_seconds() / span * 100
    width = ((ended - started).total_seconds() / span * 100) if ended else 100 - left
    return round(min(left, 99.5), 2), round(max(min(width, 100 - left), 0.5), 2)
