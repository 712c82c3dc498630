"""The ``aioswf`` command.

Subcommands are one function each (``_cmd_<name>``) registered in :func:`build_parser`:
``dev`` serves the local SWF service, ``replay`` checks recorded histories against today's
workflow code, ``worker`` runs the workflows and activities of modules until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
from types import ModuleType

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
    _add_replay(commands)
    _add_worker(commands)
    return parser


def _add_worker(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser(
        "worker",
        help="run the workflows and activities of modules",
        description="Poll one task list for the workflows and activities defined in the given "
        "modules or packages, until SIGINT or SIGTERM; then stop polling and let the tasks "
        "already received finish. The endpoint, region and credentials come from the usual "
        "AWS chain (AWS_ENDPOINT_URL_SWF for the local service) unless given here.",
    )
    worker.add_argument("modules", nargs="+", metavar="MODULE", help="modules or packages to run")
    worker.add_argument("--domain", required=True, help="the SWF domain")
    worker.add_argument("--task-list", required=True, help="the task list to poll")
    worker.add_argument("--endpoint-url", default=None, help="SWF's endpoint, e.g. aioswf dev's")
    worker.add_argument("--region", default=None, help="the AWS region")
    worker.add_argument(
        "--max-concurrent-activities",
        type=int,
        default=100,
        metavar="N",
        help="activities running at once, at most (default: %(default)s)",
    )
    worker.add_argument(
        "--activity-pollers",
        type=int,
        default=4,
        metavar="N",
        help="concurrent activity long polls (default: %(default)s)",
    )
    worker.add_argument(
        "--decision-pollers",
        type=int,
        default=2,
        metavar="N",
        help="concurrent decision long polls (default: %(default)s)",
    )
    worker.add_argument(
        "--shutdown-seconds",
        type=float,
        default=30.0,
        metavar="N",
        help="how long received tasks may run after a stop signal (default: %(default)s)",
    )
    worker.add_argument("--log-level", default="INFO", help="logging level (default: %(default)s)")
    worker.set_defaults(handler=_cmd_worker)


def _add_replay(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay",
        help="replay recorded histories against workflow code",
        description="Replay workflow histories (JSON of GetWorkflowExecutionHistory, as "
        "the AWS CLI or handle.fetch_history() writes it) against the workflows of the "
        "given modules; exit 1 if any history no longer replays.",
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
    replay.set_defaults(handler=_cmd_replay)


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

    stop = _stop_on_signals()
    async with LocalSWF(
        host=args.host, port=args.port, db_path=args.db, long_poll_seconds=args.long_poll_seconds
    ) as service:
        _announce(service.endpoint_url, args.db)
        await stop.wait()
        print("aioswf dev: shutting down", flush=True)


def _cmd_replay(args: argparse.Namespace) -> int:
    from aioswf.testing import Replayer

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        modules = [_import(name) for name in args.workflows]
        replayer = Replayer(modules)
    except Exception as error:
        print(f"aioswf replay: {error}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.histories:
        try:
            result = replayer.replay_result(path)
        except Exception as error:
            print(f"FAIL {path}: cannot replay it: {error}")
            failed += 1
            continue
        if result.ok:
            print(f"ok   {path} ({result.workflow_type})")
        else:
            print(f"FAIL {path} ({result.workflow_type}): {_describe(result.error)}")
            failed += 1
    total = len(args.histories)
    print(f"{total - failed} of {total} histories replayed")
    return 1 if failed else 0


def _cmd_worker(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        modules = [_import(name) for name in args.modules]
    except ImportError as error:
        print(f"aioswf worker: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_run_worker(args, modules))


async def _run_worker(args: argparse.Namespace, modules: list[ModuleType]) -> int:
    from datetime import timedelta

    from aioswf import (
        ActivityWorkerOptions,
        Client,
        ConnectionOptions,
        DecisionWorkerOptions,
        Worker,
    )
    from aioswf.worker import POOL_HEADROOM

    activity = ActivityWorkerOptions(
        pollers=args.activity_pollers, max_concurrent=args.max_concurrent_activities
    )
    decision = DecisionWorkerOptions(pollers=args.decision_pollers)
    pool = activity.pollers + decision.pollers + POOL_HEADROOM
    connection = ConnectionOptions(max_pool_connections=pool)
    async with Client(
        args.domain, endpoint_url=args.endpoint_url, region_name=args.region, connection=connection
    ) as client:
        worker = Worker(
            client,
            task_list=args.task_list,
            workflows=modules,
            activities=modules,
            activity_options=activity,
            decision_options=decision,
            shutdown_timeout=timedelta(seconds=args.shutdown_seconds),
        )
        stop = _stop_on_signals()
        async with worker:
            await worker.wait_until_polling()  # the banner then means what it says
            print(
                f"aioswf worker: polling {args.task_list!r} in domain {args.domain!r}; "
                "Ctrl-C stops it",
                flush=True,
            )
            await stop.wait()
            print(
                "aioswf worker: stopping; letting received tasks finish and waiting for the "
                "long polls in flight to return (up to a minute on AWS)",
                flush=True,
            )
            report = await worker.shutdown()
    # Waiting for idle polls does not make a stop unclean; cancelled or refused work does.
    return 0 if report.clean else 1


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: the library installs no handlers, the command does."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(signum, stop.set)
    return stop


def _import(name: str) -> ModuleType:
    # A console script does not put the working directory on sys.path; users expect
    # `--workflows myapp.workflows` to find their project, as `python -m` would.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(name)


def _describe(error: BaseException | None) -> str:
    return "" if error is None else f"{type(error).__name__}: {error}"


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
