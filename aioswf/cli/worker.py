"""``aioswf worker``: the workflows and activities of modules, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import sys
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aioswf._wording import duration
from aioswf.cli._common import (
    CommandError,
    Commands,
    add_command,
    add_converter,
    add_logging,
    import_module,
    load_converter,
    releasing,
    setup_logging,
    stop_on_signals,
)

if TYPE_CHECKING:
    from aioswf import ActivityWorkerOptions, ConnectionOptions, DecisionWorkerOptions
    from aioswf.worker import Worker


def register(commands: Commands) -> None:
    """Add ``worker`` to the parser."""
    worker = add_command(
        commands,
        "worker",
        example="aioswf worker shop.workflows shop.activities --domain shop --task-list orders",
        help="run the workflows and activities of modules",
        description="Poll one task list for the workflows and activities defined in the given "
        "modules or packages, until SIGINT or SIGTERM; then stop polling and let the tasks "
        "already received finish. The endpoint, region and credentials come from the usual "
        "AWS chain (AWS_ENDPOINT_URL_SWF for the local service) unless given here.",
    )
    worker.add_argument("modules", nargs="+", metavar="MODULE", help="modules or packages to run")
    domain = os.environ.get("AIOSWF_DOMAIN")
    worker.add_argument(
        "--domain",
        "-d",
        default=domain,
        required=domain is None,
        help="the SWF domain (default: $AIOSWF_DOMAIN)",
    )
    worker.add_argument("--task-list", "-t", required=True, help="the task list to poll")
    worker.add_argument("--endpoint-url", default=None, help="SWF's endpoint, e.g. aioswf dev's")
    worker.add_argument("--region", default=None, help="the AWS region")
    add_converter(worker)
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
    worker.add_argument(
        "--max-cached-workflows",
        type=int,
        default=1000,
        metavar="N",
        help="runs kept live between their decision tasks, so that a task reads only the "
        "events that are new; 0 replays every task from the start and turns sticky task "
        "lists off (default: %(default)s)",
    )
    worker.add_argument(
        "--sticky-seconds",
        type=int,
        default=5,
        metavar="N",
        help="how long a cached run's next decision task waits for this process on its "
        "sticky task list before SWF moves it back to the shared one; 0 turns sticky task "
        "lists off (default: %(default)s)",
    )
    worker.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="run N worker processes sharing the task list, to use N cores; one signal "
        "stops them all (default: %(default)s)",
    )
    add_logging(worker)
    worker.set_defaults(handler=_cmd_worker)


_AT_LEAST = {
    "processes": 1,
    "activity_pollers": 1,
    "decision_pollers": 1,
    "max_cached_workflows": 0,
    "max_concurrent_activities": 1,
    "shutdown_seconds": 0,
    "sticky_seconds": 0,
}
"""The smallest value each numeric option takes."""


def _cmd_worker(args: argparse.Namespace) -> int:
    setup_logging(args)
    modules = [import_module(name) for name in args.modules]  # bad names fail here, once
    _check_definitions(args.modules, modules)
    # Checked here, in the one process: a child refusing them would fail at every start.
    _check_settings(args)
    _options(args)
    if args.processes > 1:
        from aioswf.processes import run_in_processes

        return run_in_processes(functools.partial(_worker_process, args), args.processes)
    return asyncio.run(_run_worker(args, modules, None))


async def _worker_process(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """One of the ``--processes`` children: the same worker, told to stop by its parent."""
    setup_logging(args)
    modules = [import_module(name) for name in args.modules]
    return await _run_worker(args, modules, stop)


def _check_settings(args: argparse.Namespace) -> None:
    for name, least in _AT_LEAST.items():
        value = getattr(args, name)
        if value < least:
            option = "--" + name.replace("_", "-")
            raise CommandError(f"{option} must be at least {least}, got {value:g}", status=2)


def _options(
    args: argparse.Namespace,
) -> tuple[ActivityWorkerOptions, DecisionWorkerOptions, ConnectionOptions]:
    """The worker's options, from the command's; a pool big enough for all its polls."""
    from aioswf import ActivityWorkerOptions, ConnectionOptions, DecisionWorkerOptions
    from aioswf.worker import POOL_HEADROOM

    activity = ActivityWorkerOptions(
        pollers=args.activity_pollers, max_concurrent=args.max_concurrent_activities
    )
    sticky = timedelta(seconds=args.sticky_seconds) if args.sticky_seconds > 0 else None
    decision = DecisionWorkerOptions(
        pollers=args.decision_pollers,
        max_cached_workflows=args.max_cached_workflows,
        sticky_schedule_to_start=sticky,
    )
    pool = activity.pollers + decision.long_polls + POOL_HEADROOM
    return activity, decision, ConnectionOptions(max_pool_connections=pool)


def _check_definitions(names: list[str], modules: list[ModuleType]) -> None:
    from aioswf._discovery import activity_definitions, workflow_definitions

    if not workflow_definitions(modules) and not activity_definitions(modules):
        raise CommandError(
            f"no @workflow.defn class or @activity.defn function in {', '.join(names)}; "
            "name the modules that define them",
            status=2,
        )


async def _run_worker(
    args: argparse.Namespace, modules: list[ModuleType], stop: asyncio.Event | None
) -> int:
    stop = stop or stop_on_signals()
    from aioswf import Client, Worker
    from aioswf.exceptions import AioSWFError

    activity, decision, connection = _options(args)
    converter = load_converter(args)
    async with (
        releasing(converter),
        Client(
            args.domain,
            endpoint_url=args.endpoint_url,
            region_name=args.region,
            connection=connection,
            converter=converter,
        ) as client,
    ):
        worker = Worker(
            client,
            task_list=args.task_list,
            workflows=modules,
            activities=modules,
            activity_options=activity,
            decision_options=decision,
            shutdown_timeout=timedelta(seconds=args.shutdown_seconds),
        )
        try:
            if not await _start(worker, stop):
                return 0
        except AioSWFError as error:
            # Only what waiting cannot heal gets here (outages are waited out): one line.
            print(f"aioswf worker: cannot start: {error}", file=sys.stderr)
            return 1
        async with worker:
            await worker.wait_until_polling()  # the banner then means what it says
            print(
                f"aioswf worker: polling {args.task_list!r} in domain {args.domain!r}; "
                "Ctrl-C stops it",
                flush=True,
            )
            await stop.wait()
            print(
                f"aioswf worker: stopping; letting received tasks finish (up to "
                f"{duration(args.shutdown_seconds)}; Ctrl-C again stops at once)",
                flush=True,
            )
            stop.clear()
            shutdown = asyncio.ensure_future(worker.shutdown())
            again = asyncio.ensure_future(stop.wait())
            await asyncio.wait([shutdown, again], return_when=asyncio.FIRST_COMPLETED)
            if not shutdown.done():
                _stop_now(worker)
            again.cancel()
            report = await shutdown
    # Waiting for idle polls does not make a stop unclean; cancelled or refused work does.
    return 0 if report.clean else 1


async def _start(worker: Worker, stop: asyncio.Event) -> bool:
    """Start ``worker``, unless a stop signal comes first: start-up waits out SWF outages."""
    starting = asyncio.ensure_future(worker.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return False
    starting.result()
    return True


def _stop_now(worker: Any) -> None:
    """A second stop signal: say what is cut, then leave without waiting for anything."""
    running = worker.running_activity_names()
    cut = "; ".join(running) if running else "no running activities"
    print(
        f"aioswf worker: stopping now; cut {cut}. SWF retries them after their timeouts.",
        file=sys.stderr,
        flush=True,
    )
    logging.shutdown()
    os._exit(130)
