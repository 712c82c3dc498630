"""The CLI reference page of the documentation, written from the parser itself.

The docs build puts it in place of the marker in ``docs/cli-reference.md`` (see
``docs/hooks.py``), so the page always says what the parser says; ``python -m
aioswf.cli._reference`` prints it.
"""

from __future__ import annotations

import argparse
import os

from aioswf.cli._main import build_parser


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
    parts = [_section("aioswf", parser, level=2)]
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
