"""docs/cli-reference.md is what the parser says today."""

from __future__ import annotations

from pathlib import Path

from aioswf.cli._reference import cli_reference

PAGE = Path(__file__).parents[2] / "docs" / "cli-reference.md"


def test_the_cli_reference_page_is_current() -> None:
    assert PAGE.read_text(encoding="utf-8") == cli_reference(), (
        "refresh it: python -m aioswf.cli._reference > docs/cli-reference.md"
    )
