"""The parser that gathers every command group, and the entry point that reports failures."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from importlib import metadata

from aioswf.cli import dev, executions, history, listing, registry, replay, ui, worker
from aioswf.cli._common import CommandError

_GROUPS = (executions, listing, history, registry, worker, dev, ui, replay)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="aioswf",
        description="asyncio-native Amazon SWF: run workers and the local SWF service, "
        "start and inspect workflow executions. `aioswf COMMAND --help` shows each command "
        "with an example.",
    )
    parser.add_argument("--version", action="version", version=f"aioswf {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure, not one line"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in _GROUPS:
        group.register(commands)
    for command in commands.choices.values():
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Expected failures (SWF unreachable, an unknown domain or execution, a bad file or
    argument) are one line on stderr and a non-zero status; ``--debug`` shows the traceback.
    """
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    # Not left on args: they go to worker processes, and a parser does not pickle.
    command: argparse.ArgumentParser = vars(args).pop("command_parser", parser)
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        status: int = args.handler(args)
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): what it wanted was written.
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        print(f"aioswf {args.command}: interrupted", file=sys.stderr)
        return 130
    except CommandError as error:
        _report(args, error)
        return error.status
    except Exception as error:
        _report(args, error)
        return 1
    return status


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _report(args: argparse.Namespace, error: Exception) -> None:
    if args.debug:
        traceback.print_exception(error)
    from aioswf.exceptions import AioSWFError

    expected = isinstance(error, CommandError | AioSWFError | OSError | ValueError)
    message = str(error) if isinstance(error, CommandError | AioSWFError) else _one_line(error)
    hint = "" if expected or args.debug else " (run with --debug for the traceback)"
    print(f"aioswf {args.command}: error: {message}{hint}", file=sys.stderr)
    logging.shutdown()


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _version() -> str:
    try:
        return metadata.version("aioswf")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"
