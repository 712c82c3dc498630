"""The web view in a real headless Chromium, against the local service and a real worker.

The service and the worker run on their own event loop in a thread, so the browser driver
(selenium, blocking) can be used from plain tests. Chromium and its driver come from the
system's packages (Debian's `chromium` and `chromium-driver`); selenium is told where they
are, so it never downloads a browser.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from aioswf import Client, DecisionWorkerOptions, Worker, WorkflowFailedError
from aioswf.local import LocalSWF
from tests.cli.app import (
    Approval,
    Doomed,
    Greet,
    Misconfigured,
    Pages,
    Sleeper,
    flaky,
    shout,
    slow,
)
from tests.ui.threaded import served_from_a_thread

DOMAIN = "shop"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@dataclass
class Site:
    """The service's address and the runs made for the pages to show."""

    url: str
    runs: dict[str, str] = field(default_factory=dict)


def _browser_missing() -> str | None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not missing:
        return None
    reason = f"no system Chromium ({', '.join(missing)}); apt-get install chromium chromium-driver"
    if os.environ.get("AIOSWF_REQUIRE_BROWSER"):
        pytest.fail(reason)
    return reason


async def _populate(client: Client, site: Site) -> None:
    done = await client.start_workflow(Approval.run, "o-1", workflow_id="order-1", task_list="ui")
    await done.signal(Approval.approve, "alice")
    await done.result(timeout=timedelta(seconds=30))
    doomed = await client.start_workflow(
        Doomed.run, "no stock", workflow_id="doomed", task_list="ui"
    )
    with pytest.raises(WorkflowFailedError):
        await doomed.result(timeout=timedelta(seconds=30))
    pages = await client.start_workflow(Pages.run, 0, workflow_id="pages", task_list="ui")
    await pages.result(timeout=timedelta(seconds=30))
    waiting = await client.start_workflow(
        Approval.run, "o-2", workflow_id="order-2", task_list="ui", tags=["vip"]
    )
    await client.start_workflow(Misconfigured.run, workflow_id="stuck", task_list="ui")
    await client.start_workflow(Sleeper.run, 600.0, workflow_id="sleeping", task_list="ui")
    await client.start_workflow(Greet.run, "ada", workflow_id="greet", task_list="ui")
    await client.get_workflow_handle("greet").result(timeout=timedelta(seconds=30))
    site.runs.update(
        {"order-1": done.run_id or "", "pages": pages.run_id or "", "order-2": waiting.run_id or ""}
    )


@contextlib.asynccontextmanager
async def _serving_site() -> AsyncIterator[Site]:
    async with (
        LocalSWF(long_poll_seconds=1) as service,
        Client(DOMAIN, endpoint_url=service.endpoint_url) as client,
        Worker(
            client,
            task_list="ui",
            workflows=[Greet, Approval, Doomed, Pages, Misconfigured, Sleeper],
            activities=[shout, flaky, slow],
            decision_options=DecisionWorkerOptions(retry_decision_task_on=(KeyError,)),
            shutdown_timeout=timedelta(0),  # the sleeping activity is cut at the end
        ),
    ):
        site = Site(service.endpoint_url)
        await _populate(client, site)
        yield site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """The local service with a few executions in every state, served from a thread."""
    with served_from_a_thread(_serving_site) as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium that talks to nothing but the page under test."""
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="aioswf-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
