"""``--converter MODULE:ATTR``: the commands read and write the application's payloads."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Worker, workflow
from aioswf.cli._main import main
from aioswf.exceptions import PayloadConversionError
from aioswf.testing import Replayer, WorkflowEnvironment
from tests.cli.zipped import converter


@workflow.defn(execution_start_to_close_timeout=timedelta(minutes=1))
class Says:
    @workflow.run
    async def run(self, word: str) -> str:
        return word * 3


async def test_result_decodes_with_the_applications_converter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with WorkflowEnvironment(converter=converter) as env:
        async with Worker(env.client, task_list="z", workflows=[Says]):
            handle = await env.client.start_workflow(
                Says.run, "hey", workflow_id="zipped", task_list="z"
            )
            assert await handle.result(timeout=timedelta(seconds=20)) == "heyheyhey"
        common = ["--domain", env.client.domain, "--endpoint-url", env.endpoint_url]
        for spec in ("tests.cli.zipped:converter", "tests.cli.zipped:make_converter"):
            status = await asyncio.to_thread(
                main, ["result", "zipped", *common, "--converter", spec]
            )
            assert status == 0
            assert "heyheyhey" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("tests.cli.zipped", "MODULE:ATTR"),
        ("tests.cli.zipped:missing", "has no 'missing'"),
        ("tests.cli.zipped:not_a_converter", "not a DataConverter"),
    ],
)
def test_a_wrong_converter_is_said_in_one_line(
    spec: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--domain", "d", "--endpoint-url", "http://127.0.0.1:9"]
    assert main(["result", "w", *common, "--converter", spec]) == 2
    assert says in capsys.readouterr().err


async def test_replay_without_the_codec_says_it_cannot_decode(tmp_path: Path) -> None:
    async with WorkflowEnvironment(converter=converter) as env:
        async with Worker(env.client, task_list="z", workflows=[Says]):
            handle = await env.client.start_workflow(
                Says.run, "hey", workflow_id="zipped-replay", task_list="z"
            )
            await handle.result(timeout=timedelta(seconds=20))
        history = await handle.fetch_history(tmp_path / "zipped.json")
    plain = Replayer([Says]).replay_result(history)
    assert isinstance(plain.error, PayloadConversionError)
    assert "codec 'zlib'" in str(plain.error)
    assert "event 1 (WorkflowExecutionStarted)" in str(plain.error)
    assert Replayer([Says], converter=converter).replay_result(history).error is None
