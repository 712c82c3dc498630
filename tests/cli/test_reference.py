"""The CLI reference the docs build writes: every command, with its options and example."""

from __future__ import annotations

from pathlib import Path

from aioswf.cli._reference import cli_reference

PAGE = Path(__file__).parents[2] / "docs" / "cli-reference.md"


def test_the_reference_covers_every_command_and_the_page_asks_for_it() -> None:
    reference = cli_reference()
    for command in ("start", "history", "domain register", "type list", "worker", "dev", "ui"):
        assert f"## `aioswf {command}`" in reference, command
    assert reference.count("example:") >= 17
    assert "<!-- cli-reference -->" in PAGE.read_text(encoding="utf-8")
