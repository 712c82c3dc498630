"""``aioswf dev``: the local SWF service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import sqlite3
import sys

from aioswf.cli._common import (
    CommandError,
    Commands,
    add_command,
    add_logging,
    setup_logging,
    stop_on_signals,
)


def register(commands: Commands) -> None:
    """Add ``dev`` to the parser."""
    dev = add_command(
        commands,
        "dev",
        help="run the local SWF service",
        description="Serve the SWF API locally (same wire protocol as AWS), for development "
        "and tests, with the web view of executions at http://HOST:PORT/.",
        example="aioswf dev --port 8765 --db state.db",
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
    add_logging(dev)
    dev.set_defaults(handler=_cmd_dev)


def _cmd_dev(args: argparse.Namespace) -> int:
    setup_logging(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from aioswf.local import LocalSWF

    stop = stop_on_signals()
    try:
        service = LocalSWF(
            host=args.host,
            port=args.port,
            db_path=args.db,
            long_poll_seconds=args.long_poll_seconds,
        )
        await service.start()
    except sqlite3.Error as error:
        raise CommandError(f"cannot use --db {args.db}: {_database_problem(error)}") from None
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno == errno.EADDRINUSE:
            reason = "the port is in use (another aioswf dev?); choose another with --port"
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    try:
        _announce(service.endpoint_url, args.db)
        await stop.wait()
        print("aioswf dev: shutting down (a second Ctrl-C stops at once)", flush=True)
        _exit_on_next_signal()
    finally:
        await service.stop()


def _exit_on_next_signal() -> None:
    """A second stop signal during the shutdown leaves at once: every change is already
    saved (the store writes after each operation), so nothing is lost but the requests in
    flight, which clients retry."""

    def now() -> None:
        print("aioswf dev: stopping now", file=sys.stderr, flush=True)
        logging.shutdown()
        os._exit(130)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(signum, now)


def _database_problem(error: sqlite3.Error) -> str:
    text = str(error)
    if "unable to open" in text:
        return "cannot open or create that file (does its folder exist, and may it be written?)"
    if "not a database" in text:
        return "it is not an SQLite database; give a new file name or one aioswf dev wrote"
    return text


def _announce(endpoint: str, db: str | None) -> None:
    storage = f"state kept in {db}" if db else "state in memory (use --db FILE to keep it)"
    print(
        f"aioswf dev: local SWF service listening on {endpoint} ({storage})\n"
        f"Point clients at it with:\n"
        f"    export AWS_ENDPOINT_URL_SWF={endpoint}\n"
        f"Any access key, secret and region are accepted.  Press Ctrl-C to stop.",
        flush=True,
    )
