"""Every process a command test starts ends with the test, whether it passes, fails or times out.

The commands run as subprocesses (``aioswf worker`` and its ``--processes`` children,
``aioswf dev``). A test that fails before it stops them would leave them running for ever,
polling a service that is gone; so after each test every process started under it — the whole
tree, children of children included — is killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from aioswf.cli._common import NOISY_LIBRARIES

PROC = Path("/proc")


def _parents() -> dict[int, int]:
    """Each running process's parent, by pid (Linux's ``/proc``)."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (command) state ppid ...": the command may hold spaces and parentheses.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _descendants() -> set[int]:
    parents = _parents()
    found: set[int] = set()
    frontier = {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.fixture(autouse=True)
def no_process_outlives_its_test() -> Iterator[None]:
    if not PROC.is_dir():
        yield
        return
    before = _descendants()
    yield
    # The tree is read whole before anything is killed, so a supervisor's children are
    # found through it before they would be handed to init.
    for pid in _descendants() - before:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """Commands run in this process set log levels (a terminal wants one line, not retries):
    put them back, so that later tests' log captures see what the library logs."""
    loggers = [logging.getLogger(), *map(logging.getLogger, ("aioswf", *NOISY_LIBRARIES))]
    levels = [logger.level for logger in loggers]
    handlers = list(logging.getLogger().handlers)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
    logging.getLogger().handlers[:] = handlers
