"""The web view in a headless browser shows payloads through the converter it was given:
decoded with the codec, a placeholder saying why without it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
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


@pytest.fixture(scope="module")
def views() -> Iterator[dict[str, str]]:
    """A run whose payloads are zlib-encoded, and two web views of it: with the codec, and
    without; served from a thread with its own loop, for the blocking browser driver."""
    ready: Future[dict[str, str]] = Future()
    stop = threading.Event()

    async def serve() -> None:
        try:
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
                    ready.set_result({"decoding": _url(decoding), "blind": _url(blind)})
                    await asyncio.to_thread(stop.wait)
                finally:
                    await decoding.cleanup()
                    await blind.cleanup()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=60)
    finally:
        stop.set()
        thread.join(30)


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
