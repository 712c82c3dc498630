"""A module of the host service that workflow code calls one function of: the service
changes its state at any time, and workflow code only reads ``version``."""

from __future__ import annotations

results: list[int] = []
count = 0


def version() -> str:
    """A function of the service's module that workflow code calls."""
    return "1.0"


def record_request() -> None:
    """What the service does on each request, outside workflow code."""
    global count
    count += 1
    results.append(count)
