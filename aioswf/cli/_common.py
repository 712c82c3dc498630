"""What several commands share: importing user modules, stop signals."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import sys
from types import ModuleType
from typing import TypeAlias

#: What ``add_subparsers`` returns; each command group registers its commands on it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def import_module(name: str) -> ModuleType:
    """Import a user's module or package, the current directory first.

    A console script does not put the working directory on ``sys.path``; users expect
    ``--workflows myapp.workflows`` to find their project, as ``python -m`` would.
    """
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(name)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: the library installs no handlers, the command does."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(signum, stop.set)
    return stop
