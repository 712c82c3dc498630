"""The README's workflow runs as written, against the local service."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from aioswf.local import LocalSWF

README = Path(__file__).parents[2] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


async def test_the_readme_workflow_runs_as_written(tmp_path: Path) -> None:
    [snippet] = python_blocks(README.read_text(encoding="utf-8"))
    program = tmp_path / "order.py"
    program.write_text(snippet, encoding="utf-8")
    async with LocalSWF(long_poll_seconds=60) as swf:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(program),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path,
            env={**os.environ, "AWS_ENDPOINT_URL_SWF": swf.endpoint_url},
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode() == "receipt-o-1\n"
