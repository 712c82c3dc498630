"""``aioswf replay``: recorded histories against today's workflow code."""

from __future__ import annotations

import argparse
import logging
import sys

from aioswf.cli._common import (
    Commands,
    add_command,
    add_converter,
    import_module,
    load_converter,
    load_named,
)


def register(commands: Commands) -> None:
    """Add ``replay`` to the parser."""
    replay = add_command(
        commands,
        "replay",
        help="replay recorded histories against workflow code",
        description="Replay workflow histories (JSON of GetWorkflowExecutionHistory, as "
        "the AWS CLI, `aioswf history --json` or handle.fetch_history() writes it) against "
        "the workflows of the given modules; exit 1 if any history no longer replays.",
        example="aioswf replay histories/*.json --workflows shop.workflows",
    )
    replay.add_argument("histories", nargs="+", metavar="HISTORY.json", help="history files")
    replay.add_argument(
        "--workflows",
        action="append",
        required=True,
        metavar="MODULE",
        help="module or package whose @workflow.defn classes to use (repeatable); "
        "the current directory is searched first",
    )
    add_converter(replay)
    replay.add_argument(
        "--interceptor",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="an Interceptor (or a class or function returning one) the workers have, "
        "whose workflow chains replay with the code (repeatable, outermost first: the "
        "client's, then the worker's)",
    )
    replay.set_defaults(handler=_cmd_replay)


def _cmd_replay(args: argparse.Namespace) -> int:
    from aioswf.interceptors import Interceptor
    from aioswf.testing import Replayer

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        modules = [import_module(name) for name in args.workflows]
        interceptors = [load_named("--interceptor", spec, Interceptor) for spec in args.interceptor]
        replayer = Replayer(modules, converter=load_converter(args), interceptors=interceptors)
    except Exception as error:
        print(f"aioswf replay: {error}", file=sys.stderr)
        return 2
    failed = 0
    # Every history gets a line: a file that cannot be read, is not a valid history or
    # records an unknown workflow type is a result like any other (the error names where).
    for path, result in zip(args.histories, replayer.replay_all(args.histories), strict=True):
        if result.ok:
            print(f"ok   {path} ({result.workflow_type})")
        else:
            print(f"FAIL {path} ({result.workflow_type}): {_describe(result.error)}")
            failed += 1
    total = len(args.histories)
    print(f"{total - failed} of {total} histories replayed")
    return 1 if failed else 0


def _describe(error: BaseException | None) -> str:
    return "" if error is None else f"{type(error).__name__}: {error}"
