"""``list`` and ``count``: executions by SWF's visibility filters."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from aioswf.cli import _render
from aioswf.cli._common import (
    CommandError,
    Commands,
    add_command,
    add_connection,
    add_json,
    parse_time,
    print_json,
    run_with_client,
)

CLOSE_STATUSES = ("COMPLETED", "FAILED", "CANCELED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT")


def register(commands: Commands) -> None:
    """Add ``list`` and ``count``."""
    listing = add_command(
        commands,
        "list",
        help="list executions, newest first",
        description="List open executions (or closed ones with --closed, or both with --all), "
        "newest first. SWF filters by one time window and at most one of --workflow-id, "
        "--type, --tag, --status.",
        example="aioswf list --closed --status FAILED --started-after 1d -d shop",
    )
    _add_filters(listing)
    listing.add_argument(
        "--limit",
        type=_positive,
        default=100,
        metavar="N",
        help="at most N, the newest (default: %(default)s); a note on stderr (and "
        '"truncated" in --json) says when there are more',
    )
    add_json(listing)
    listing.set_defaults(handler=_list)
    count = add_command(
        commands,
        "count",
        help="count executions",
        description="Count open executions (or closed ones with --closed), with the filters "
        "of `aioswf list`.",
        example="aioswf count --closed --type Order -d shop",
    )
    _add_filters(count)
    add_json(count)
    count.set_defaults(handler=_count)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    add_connection(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--open", dest="which", action="store_const", const="open", help="open")
    which.add_argument("--closed", dest="which", action="store_const", const="closed")
    which.add_argument("--all", dest="which", action="store_const", const="all")
    parser.set_defaults(which=None)
    for name in ("started-after", "started-before", "closed-after", "closed-before"):
        parser.add_argument(
            f"--{name}",
            type=parse_time,
            metavar="TIME",
            help="ISO 8601 time, or a duration ago: 30m, 2h, 7d",
        )
    parser.add_argument("--workflow-id", "-w", help="executions with this workflow id")
    parser.add_argument("--type", metavar="NAME[/VERSION]", help="executions of this type")
    parser.add_argument("--tag", help="executions with this tag")
    parser.add_argument("--status", choices=CLOSE_STATUSES, help="close status (closed only)")


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _filter(args: argparse.Namespace, which: str) -> Any:
    from aioswf import ExecutionFilter

    workflow_type = None
    if args.type:
        name, _, version = args.type.partition("/")
        workflow_type = (name, version or None)
    closing = (args.closed_after, args.closed_before, args.status)
    if which == "open" and any(value is not None for value in closing):
        raise CommandError(
            "--closed-after, --closed-before and --status apply to closed executions; add --closed",
            status=2,
        )
    chosen = ExecutionFilter(
        started_after=args.started_after,
        started_before=args.started_before,
        closed_after=args.closed_after,
        closed_before=args.closed_before,
        workflow_id=args.workflow_id,
        workflow_type=workflow_type,
        tag=args.tag,
        close_status=args.status,
    )
    try:
        chosen.to_swf(closed=which == "closed")  # SWF's rules, checked before any call
    except ValueError as error:
        raise CommandError(str(error), status=2) from None
    return chosen


def _which(args: argparse.Namespace) -> list[str]:
    chosen = args.which
    if chosen is None:
        closing = (args.closed_after, args.closed_before, args.status)
        chosen = "closed" if any(value is not None for value in closing) else "open"
    return ["open", "closed"] if chosen == "all" else [chosen]


def _list(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        found = []
        truncated = False
        for which in _which(args):
            listing = (
                client.list_open_workflows if which == "open" else client.list_closed_workflows
            )
            # Up to the limit from each listing: the newest of both are merged below.
            taken = 0
            async for info in listing(_filter(args, which)):
                if taken == args.limit:
                    truncated = True
                    break
                found.append(info)
                taken += 1
        found.sort(key=lambda info: info.start_time, reverse=True)
        truncated = truncated or len(found) > args.limit
        found = found[: args.limit]
        if truncated:
            print(
                f"aioswf list: showing the newest {args.limit} executions; there are more "
                "(use --limit N, or narrow the filters)",
                file=sys.stderr,
            )
        if args.json:
            executions = [_render.execution_json(info) for info in found]
            print_json({"executions": executions, "truncated": truncated})
        elif found:
            _render.executions(found)
        else:
            _render.console().print("no executions match")
        return 0

    return run_with_client(args, body)


def _count(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        counts = {}
        for which in _which(args):
            counter = (
                client.count_open_workflows if which == "open" else client.count_closed_workflows
            )
            counts[which] = await counter(_filter(args, which))
        if args.json:
            print_json(
                {which: {"count": c.count, "truncated": c.truncated} for which, c in counts.items()}
            )
        else:
            for which, c in counts.items():
                more = " or more" if c.truncated else ""
                _render.console().print(f"{c.count}{more} {which}")
        return 0

    return run_with_client(args, body)
