"""Every view of payloads (``describe``, ``history``, ``result``, ``replay``, the web view)
reads them through ``--converter``: an encoding codec, payloads stored in S3 (moto's server),
and an honest placeholder for what cannot be read."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiobotocore.session import get_session
from aiohttp import web

from aioswf import Client, DataConverter, Worker, activity, workflow
from aioswf.cli._main import main
from aioswf.testing import WorkflowEnvironment
from aioswf.ui import web_view_app
from tests.cli import stored, zipped

PLACEHOLDER = "<encoded payload, not readable here: "
_buckets = itertools.count(1)


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def shout(word: str) -> str:
    return word.upper() + " (shouted by the activity)"


@workflow.defn(execution_start_to_close_timeout=timedelta(minutes=1))
class Echoes:
    @workflow.run
    async def run(self, word: str) -> str:
        return await workflow.execute_activity(shout, word + ", and some more")


async def _run_echoes(converter: DataConverter, tmp_path: Path) -> tuple[WorkflowEnvironment, Path]:
    env = WorkflowEnvironment(converter=converter)
    await env.__aenter__()
    async with Worker(env.client, task_list="v", workflows=[Echoes], activities=[shout]):
        handle = await env.client.start_workflow(
            Echoes.run, "hello views, said at length", workflow_id="echoes", task_list="v"
        )
        result = await handle.result(timeout=timedelta(seconds=30))
    assert result == "HELLO VIEWS, SAID AT LENGTH, AND SOME MORE (shouted by the activity)"
    path = tmp_path / "echoes.json"
    await handle.fetch_history(path)
    return env, path


async def _command(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    status = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


async def _web_page(env: WorkflowEnvironment, converter: DataConverter | None) -> str:
    """The run's page of the web view, whose client reads through ``converter``."""

    def client() -> Client:
        return Client("-", endpoint_url=env.endpoint_url, converter=converter)

    runner = web.AppRunner(web_view_app(client), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            query = {"domain": env.client.domain, "workflow_id": "echoes"}
            async with http.get(f"http://127.0.0.1:{port}/execution", params=query) as page:
                assert page.status == 200
                return await page.text()
    finally:
        await runner.cleanup()
        if converter is not None:
            await converter.close()


SHOWN = (
    '"hello views, said at length"',
    '"HELLO VIEWS, SAID AT LENGTH, AND SOME MORE (shouted by the activity)"',
)


def _service(env: WorkflowEnvironment) -> tuple[str, ...]:
    """The options that point a command at the run's domain and service."""
    return ("--domain", env.client.domain, "--endpoint-url", env.endpoint_url)


async def _result(
    env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str], converter: tuple[str, ...]
) -> str:
    """What ``aioswf result`` prints of the run, with ``converter`` options."""
    return await _command(capsys, "result", "echoes", *_service(env), *converter)


async def _views(
    env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str], converter: tuple[str, ...]
) -> dict[str, str]:
    """What each command and the web view show of the run, with ``converter`` options."""
    common = (*_service(env), *converter)
    return {
        "describe": await _command(capsys, "describe", "echoes", *common),
        "describe --json": await _command(capsys, "describe", "echoes", "--json", *common),
        "history": await _command(capsys, "history", "echoes", *common),
    }


async def test_views_decode_through_a_codec(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env, history = await _run_echoes(zipped.converter, tmp_path)
    try:
        spec = ("--converter", "tests.cli.zipped:converter")
        views = await _views(env, capsys, spec)
        views["result"] = await _result(env, capsys, spec)
        views["web"] = await _web_page(env, zipped.converter)
        for name, shown in views.items():
            for value in SHOWN[1:] if name == "result" else SHOWN:
                assert value.strip('"') in shown.replace("&#34;", '"'), (name, value)
            assert PLACEHOLDER not in shown, name
        replayed = await _command(capsys, "replay", str(history), "--workflows", __name__, *spec)
        assert "1 of 1 histories replayed" in replayed

        # Without the codec: a placeholder naming it, never the encoded text as if it were
        # the payload; `result`, whose output is the value, says so in one line.
        assert await asyncio.to_thread(main, ["result", "echoes", *_service(env)]) == 1
        said = capsys.readouterr().err
        assert "the result of echoes cannot be read here: result: a payload was encoded" in said
        assert "codec 'zlib'" in said
        assert "--converter MODULE:ATTR" in said
        blind = await _views(env, capsys, ())
        blind["web"] = await _web_page(env, None)
        for name, shown in blind.items():
            text = shown.replace("&lt;", "<").replace("&#39;", "'").replace("&#34;", '"')
            assert PLACEHOLDER in text, name
            assert "codec 'zlib'" in text, name
            assert "aioswf:data" not in text, name
    finally:
        await env.__aexit__(None, None, None)


@pytest.fixture
async def stored_converter(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """``tests.cli.stored:make_converter`` on a fresh bucket of moto's S3 server."""
    bucket = f"views-{next(_buckets)}"
    session = get_session()
    session.set_credentials("testing", "testing")
    async with session.create_client("s3", endpoint_url=moto_server, region_name="us-east-1") as s3:
        await s3.create_bucket(Bucket=bucket)
        monkeypatch.setenv("AIOSWF_TEST_S3", moto_server)
        monkeypatch.setenv("AIOSWF_TEST_BUCKET", bucket)
        yield s3, bucket


async def test_views_read_payloads_stored_in_s3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, stored_converter: Any
) -> None:
    s3, bucket = stored_converter
    converter = stored.make_converter()
    env, history = await _run_echoes(converter, tmp_path)
    try:
        assert "aioswf:ref" in history.read_text()
        spec = ("--converter", "tests.cli.stored:make_converter")
        views = await _views(env, capsys, spec)
        views["web"] = await _web_page(env, stored.make_converter())
        for name, shown in views.items():
            for value in SHOWN:
                assert value.strip('"') in shown.replace("&#34;", '"'), (name, value)
            assert PLACEHOLDER not in shown, name
        result = await _result(env, capsys, spec)
        assert SHOWN[1].strip('"') in result
        replayed = await _command(capsys, "replay", str(history), "--workflows", __name__, *spec)
        assert "1 of 1 histories replayed" in replayed

        # Without a store: a placeholder saying where the payload is, and what is missing.
        blind = await _views(env, capsys, ())
        for name, shown in blind.items():
            assert PLACEHOLDER in shown, name
            if name != "describe":  # a table, whose cells are cut to fit
                assert "has no payload store" in shown, name

        # A stored object that is gone: its placeholder says why; the others still show.
        listing = await s3.list_objects_v2(Bucket=bucket)
        contents = {}
        for item in listing["Contents"]:
            stored_object = await s3.get_object(Bucket=bucket, Key=item["Key"])
            async with stored_object["Body"] as body:
                contents[item["Key"]] = await body.read()
        [gone] = [
            key for key, data in contents.items() if data == b'["hello views, said at length"]'
        ]
        await s3.delete_object(Bucket=bucket, Key=gone)
        broken = await _views(env, capsys, spec)
        broken["web"] = await _web_page(env, stored.make_converter())
        for name, shown in broken.items():
            text = shown.replace("&lt;", "<").replace("&#34;", '"').replace("&#39;", "'")
            assert PLACEHOLDER in text, name
            assert f"s3://{bucket}/aioswf/payloads/{gone.rsplit('/', 1)[-1]}" in text, name
            assert "NoSuchKey" in text or "does not exist" in text, name
            assert SHOWN[1].strip('"') in text, name  # the result is still read
    finally:
        await env.__aexit__(None, None, None)
        await converter.wire.store.close()  # type: ignore[union-attr]
