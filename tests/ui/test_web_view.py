"""The web view in a headless browser: list, filter, open, read a failure, follow links."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.ui.conftest import DOMAIN, Site

DOCS = Path(__file__).parents[2] / "docs" / "images"


def texts(browser: webdriver.Chrome, selector: str) -> list[str]:
    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, selector)]


def click(browser: webdriver.Chrome, element: WebElement) -> None:
    """Click something that loads a page, and wait until the new page has replaced the old."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(page))


def screenshot(browser: webdriver.Chrome, name: str) -> None:
    """Refresh a screenshot in docs/ when asked (AIOSWF_SCREENSHOTS=1)."""
    if os.environ.get("AIOSWF_SCREENSHOTS"):
        DOCS.mkdir(exist_ok=True)
        browser.save_screenshot(str(DOCS / name))


def test_domains_list_their_open_executions(site: Site, browser: webdriver.Chrome) -> None:
    browser.get(site.url + "/")
    assert browser.title == "Domains · aioswf"
    rows = texts(browser, "#domains tbody tr")
    assert rows == [f"{DOMAIN} 3"]  # order-2 waits for approval, stuck cannot go on, sleeping
    screenshot(browser, "web-domains.png")
    click(browser, browser.find_element(By.LINK_TEXT, DOMAIN))
    assert sorted(texts(browser, "#executions a.execution")) == ["order-2", "sleeping", "stuck"]


def test_closed_executions_and_filters(site: Site, browser: webdriver.Chrome) -> None:
    browser.get(f"{site.url}/executions?domain={DOMAIN}")
    click(browser, browser.find_element(By.ID, "tab-closed"))
    closed = texts(browser, "#executions a.execution")
    assert sorted(closed) == ["doomed", "greet", "order-1", "pages", "pages", "pages"]
    screenshot(browser, "web-executions.png")
    # Filter by close status, through the form as a person would.
    status = browser.find_element(By.NAME, "status")
    status.find_element(By.CSS_SELECTOR, "option[value=FAILED]").click()
    click(browser, browser.find_element(By.ID, "apply"))
    assert texts(browser, "#executions a.execution") == ["doomed"]
    # Then by type, and by workflow id.
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=closed&type=Pages")
    assert texts(browser, "#executions a.execution") == ["pages"] * 3
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=open&tag=vip")
    assert texts(browser, "#executions a.execution") == ["order-2"]
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=closed&started_after=2999-01-01")
    assert browser.find_element(By.ID, "no-executions").is_displayed()
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=closed&started_after=2000-01-01")
    assert len(texts(browser, "#executions a.execution")) == 6
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=closed&workflow_id=nobody")
    assert browser.find_element(By.ID, "no-executions").is_displayed()
    # Two filters at once are refused the way SWF refuses them: a clear message.
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=closed&tag=a&type=Pages")
    assert (
        "one of workflow_id, workflow_type, tag, close_status"
        in browser.find_element(By.ID, "error-message").text
    )


def test_a_completed_run_shows_its_timeline(site: Site, browser: webdriver.Chrome) -> None:
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=closed&workflow_id=order-1")
    click(browser, browser.find_element(By.CSS_SELECTOR, "a.execution"))
    assert browser.find_element(By.ID, "run-status").text == "COMPLETED"
    assert browser.find_element(By.ID, "input").text == '["o-1"]'
    assert browser.find_element(By.ID, "result").text == '"o-1 approved by alice (finally)"'
    assert texts(browser, "#signals tbody td:nth-child(2)") == ["approve"]
    steps = texts(browser, "#timeline tr.step")
    assert any("flaky/1" in s and "failed" in s and "attempt 1 failed" in s for s in steps)
    assert any("flaky/1" in s and "completed" in s and "attempt 2" in s for s in steps)
    screenshot(browser, "web-execution.png")


def test_a_failure_shows_its_message(site: Site, browser: webdriver.Chrome) -> None:
    browser.get(f"{site.url}/executions?domain={DOMAIN}&show=closed&status=FAILED")
    click(browser, browser.find_element(By.LINK_TEXT, "doomed"))
    failure = browser.find_element(By.ID, "failure")
    assert "ApplicationError: cannot go on: no stock" in failure.text


def test_continue_as_new_links_lead_from_run_to_run(site: Site, browser: webdriver.Chrome) -> None:
    first = site.runs["pages"]
    browser.get(f"{site.url}/execution?domain={DOMAIN}&workflow_id=pages&run_id={first}")
    assert browser.find_element(By.ID, "run-status").text == "CONTINUED_AS_NEW"
    seen = [first]
    while browser.find_elements(By.CSS_SELECTOR, "#continued-to a"):
        click(browser, browser.find_element(By.CSS_SELECTOR, "#continued-to a"))
        seen.append(browser.find_element(By.CSS_SELECTOR, "dd.mono").text)
    assert len(seen) == 3
    assert browser.find_element(By.ID, "run-status").text == "COMPLETED"
    assert browser.find_element(By.ID, "result").text == '"read 3 pages"'
    click(browser, browser.find_element(By.CSS_SELECTOR, "#continued-from a"))
    assert browser.find_element(By.CSS_SELECTOR, "dd.mono").text == seen[1]


def test_an_open_run_refreshes_itself(site: Site, browser: webdriver.Chrome) -> None:
    run_id = site.runs["order-2"]
    browser.get(f"{site.url}/execution?domain={DOMAIN}&workflow_id=order-2&run_id={run_id}")
    assert browser.find_element(By.ID, "run-status").text == "OPEN"
    assert browser.find_element(By.ID, "auto-refresh").is_selected()
    assert "waiting for approval" in browser.find_element(By.CSS_SELECTOR, ".sheet").text
    marker = browser.execute_script("window.stale = true; return window.stale;")
    assert marker is True
    deadline = time.monotonic() + 15
    while browser.execute_script("return window.stale === true;"):
        assert time.monotonic() < deadline, "the open run's page did not refresh"
        time.sleep(0.2)
    # Switched off, it stays as it is.
    browser.find_element(By.ID, "auto-refresh").click()
    browser.execute_script("window.stale = true;")
    time.sleep(3)
    assert browser.execute_script("return window.stale === true;")


def test_unknown_pages_say_what_is_missing(site: Site, browser: webdriver.Chrome) -> None:
    browser.get(f"{site.url}/execution?domain={DOMAIN}&workflow_id=nobody")
    assert (
        "no execution with workflow id 'nobody'"
        in browser.find_element(By.ID, "error-message").text
    )
    browser.get(f"{site.url}/executions?domain=nowhere")
    assert "nowhere" in browser.find_element(By.ID, "error-message").text


@pytest.mark.parametrize("path", ["/", f"/executions?domain={DOMAIN}"])
def test_pages_fetch_nothing_from_elsewhere(
    site: Site, browser: webdriver.Chrome, path: str
) -> None:
    browser.get(site.url + path)
    sources = browser.execute_script(
        "return Array.from(document.querySelectorAll('[src],link[href]'))"
        ".map(e => e.src || e.href);"
    )
    assert sources == []


def test_failing_decision_tasks_are_shown(site: Site, browser: webdriver.Chrome) -> None:
    deadline = time.monotonic() + 20
    while True:
        browser.get(f"{site.url}/execution?domain={DOMAIN}&workflow_id=stuck")
        banner = browser.find_elements(By.ID, "decisions-failing")
        if banner or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert banner, "the failing decision tasks were never shown"
    assert "Decision tasks are failing since" in banner[0].text
    assert "KeyError" in banner[0].text
    assert "PAYMENT_URL is not set" in banner[0].text


def test_an_activity_in_flight_shows_its_attempt_and_worker(
    site: Site, browser: webdriver.Chrome
) -> None:
    deadline = time.monotonic() + 20
    while True:
        browser.get(f"{site.url}/execution?domain={DOMAIN}&workflow_id=sleeping")
        rows = texts(browser, "#pending tbody tr")
        if any("running" in row for row in rows) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    [row] = rows
    assert row.startswith("activity slow/1 1 1 running")
    assert "@" in row  # the worker's identity, pid@host


@pytest.mark.parametrize(
    "query",
    ["show=open&page=garbage", "show=closed&page=garbage", "show=open&page=%00"],
)
def test_a_bad_page_token_is_the_clients_mistake(site: Site, query: str) -> None:
    url = f"{site.url}/executions?domain={DOMAIN}&{query}"
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(url, timeout=30)
    assert answer.value.code == 400
    assert "page token" in answer.value.read().decode()
