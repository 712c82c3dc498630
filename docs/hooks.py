"""mkdocs hooks: the CLI reference page is written from the command's parser at build time."""

from __future__ import annotations

from typing import Any

MARKER = "<!-- cli-reference -->"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    from aioswf.cli._reference import cli_reference

    return markdown.replace(MARKER, cli_reference())
