"""The CLI reference page of the documentation, written from the parser itself.

``python -m aioswf.cli._reference > docs/cli-reference.md`` refreshes it; a test checks that
the page in the repository is what the parser says today.
"""

from __future__ import annotations

import argparse
import os

from aioswf.cli._main import build_parser

_HEADER = """# CLI reference

Every command of `aioswf`, as `aioswf COMMAND --help` prints it. This page is generated from
the command's parser (`python -m aioswf.cli._reference > docs/cli-reference.md`); the guide is
[The command line and the web view](cli.md).

"""


def cli_reference() -> str:
    """The Markdown of the reference page (laid out for 100 columns, whatever the terminal)."""
    width = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return _reference()
    finally:
        if width is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = width


def _reference() -> str:
    parser = build_parser()
    parts = [_HEADER, _section("aioswf", parser, level=2)]
    for name, command in _subcommands(parser):
        parts.append(_section(f"aioswf {name}", command, level=2))
        for sub, subcommand in _subcommands(command):
            parts.append(_section(f"aioswf {name} {sub}", subcommand, level=3))
    return "".join(parts).rstrip() + "\n"


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def _section(title: str, parser: argparse.ArgumentParser, *, level: int) -> str:
    parser.prog = title  # usage lines name the whole command
    text = parser.format_help().rstrip()
    return f"{'#' * level} `{title}`\n\n```text\n{text}\n```\n\n"


if __name__ == "__main__":
    print(cli_reference(), end="")
