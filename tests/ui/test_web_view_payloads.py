"""The web view in a headless browser shows payloads through the converter it was given:
decoded with the codec, a placeholder saying why without it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.common.by import By

from aioswf import Client, DataConverter, Worker
from aioswf.local import LocalSWF
from aioswf.ui import web_view_app
from tests.cli.test_converter_option import Says
from tests.cli.zipped import converter as zipped
from tests.ui.threaded import served_from_a_thread

DOMAIN = "coded"


async def _view(endpoint: str, converter: DataConverter | None) -> web.AppRunner:
    def client() -> Client:
        return Client("-", endpoint_url=endpoint, converter=converter)

    runner = web.AppRunner(web_view_app(client), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _url(runner: web.AppRunner) -> str:
    [site] = runner.sites
    host, port = site._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
    return f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def _serving_views() -> AsyncIterator[dict[str, str]]:
    async with (
        LocalSWF(long_poll_seconds=1) as service,
        Client(DOMAIN, endpoint_url=service.endpoint_url, converter=zipped) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="coded", workflows=[Says]):
            handle = await client.start_workflow(
                Says.run, "coded", workflow_id="coded", task_list="coded"
            )
            await handle.result(timeout=timedelta(seconds=30))
        decoding = await _view(service.endpoint_url, zipped)
        blind = await _view(service.endpoint_url, None)
        try:
            yield {"decoding": _url(decoding), "blind": _url(blind)}
        finally:
            await decoding.cleanup()
            await blind.cleanup()


@pytest.fixture(scope="module")
def views() -> Iterator[dict[str, str]]:
    """A run whose payloads are zlib-encoded, and two web views of it: with the codec, and
    without; served from a thread with its own loop, for the blocking browser driver."""
    with served_from_a_thread(_serving_views) as served:
        yield served


def _page_text(browser: webdriver.Chrome, base: str) -> str:
    browser.get(f"{base}/execution?domain={DOMAIN}&workflow_id=coded")
    return str(browser.find_element(By.TAG_NAME, "body").text)


def test_payloads_show_decoded_with_the_codec(
    views: dict[str, str], browser: webdriver.Chrome
) -> None:
    text = _page_text(browser, views["decoding"])
    assert '"coded"' in text  # the input
    assert '"codedcodedcoded"' in text  # the result
    assert "not readable here" not in text
    assert "aioswf:data" not in text


def test_payloads_without_the_codec_say_why(
    views: dict[str, str], browser: webdriver.Chrome
) -> None:
    text = _page_text(browser, views["blind"])
    assert "<encoded payload, not readable here: a payload was encoded with codec 'zlib'" in text
    assert "codedcodedcoded" not in text
    assert "aioswf:data" not in text
