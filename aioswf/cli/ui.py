"""``aioswf ui``: the web view of executions, for any SWF endpoint."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from aioswf.cli._common import (
    CommandError,
    Commands,
    add_command,
    add_connection,
    load_converter,
    releasing,
    stop_on_signals,
)


def register(commands: Commands) -> None:
    """Add ``ui``."""
    ui = add_command(
        commands,
        "ui",
        help="serve the web view of executions for any SWF endpoint",
        description="Serve a read-only web view of domains, executions and their timelines, "
        "reading through the public SWF API (AWS included: it needs only the List*, Count*, "
        "Describe* and GetWorkflowExecutionHistory permissions). `aioswf dev` serves the same "
        "view on its own port.",
        example="aioswf ui --region eu-west-1 --port 8080",
    )
    add_connection(ui, domain=False)
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    ui.add_argument("--port", type=int, default=8766, help="port (default: %(default)s)")
    ui.set_defaults(handler=_ui)


def _ui(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_serve(args))
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    from aioswf import Client
    from aioswf.ui import web_view_app

    converter = load_converter(args)

    def client() -> Any:
        return Client(
            "-", endpoint_url=args.endpoint_url, region_name=args.region, converter=converter
        )

    runner = web.AppRunner(web_view_app(client), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, args.host, args.port).start()
    except OSError as error:
        await runner.cleanup()
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    stop = stop_on_signals()
    print(f"aioswf ui: http://{args.host}:{args.port}/  (Ctrl-C stops it)", flush=True)
    try:
        await stop.wait()
    finally:
        async with releasing(converter):
            await runner.cleanup()
