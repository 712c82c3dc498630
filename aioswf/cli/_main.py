"""The parser that gathers every command group, and the entry point."""

from __future__ import annotations

import argparse

from aioswf.cli import dev, replay, worker


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="aioswf", description="asyncio-native Amazon SWF")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (dev, replay, worker):
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status
