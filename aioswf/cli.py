"""The ``aioswf`` command.

Subcommands are one function each (``_cmd_<name>``) registered in :func:`build_parser`, so
more can be added beside ``dev``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="aioswf", description="asyncio-native Amazon SWF")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dev = commands.add_parser(
        "dev",
        help="run the local SWF service",
        description="Serve the SWF API locally (same wire protocol as "
        "AWS), for development and tests.",
    )
    dev.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, loopback only)",
    )
    dev.add_argument(
        "--port", type=int, default=8765, help="port (default: %(default)s; 0 picks a free one)"
    )
    dev.add_argument(
        "--db",
        metavar="FILE",
        default=None,
        help="SQLite file to keep state in across restarts (default: memory only)",
    )
    dev.add_argument(
        "--long-poll-seconds",
        type=float,
        default=60.0,
        metavar="N",
        help="how long an empty poll is held (default: %(default)s)",
    )
    dev.add_argument("--log-level", default="INFO", help="logging level (default: %(default)s)")
    dev.set_defaults(handler=_cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


def _cmd_dev(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from aioswf.local import LocalSWF

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(signum, stop.set)
    async with LocalSWF(
        host=args.host, port=args.port, db_path=args.db, long_poll_seconds=args.long_poll_seconds
    ) as service:
        _announce(service.endpoint_url, args.db)
        await stop.wait()
        print("aioswf dev: shutting down", flush=True)


def _announce(endpoint: str, db: str | None) -> None:
    storage = f"state kept in {db}" if db else "state in memory (use --db FILE to keep it)"
    print(
        f"aioswf dev: local SWF service listening on {endpoint} ({storage})\n"
        f"Point clients at it with:\n"
        f"    export AWS_ENDPOINT_URL_SWF={endpoint}\n"
        f"Any access key, secret and region are accepted.  Press Ctrl-C to stop.",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
