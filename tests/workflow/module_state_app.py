"""An application module that workflow code calls into, with module state of every kind."""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Callable
from typing import Any

calls = 0
limit = 10
registry: list[str] = []
_pattern: re.Pattern[str] | None = None
_table: dict[str, int] | None = None


def bump() -> int:
    """Rebinds a global of this module."""
    global calls
    calls += 1
    return calls


def over_limit(n: int) -> bool:
    """Reads a global of this module (which workflow code assigns from outside)."""
    return n > limit


def remember(name: str) -> None:
    """Appends to a list of this module."""
    registry.append(name)


def pattern() -> re.Pattern[str]:
    """A lazily compiled constant: set once, from None."""
    global _pattern
    if _pattern is None:
        _pattern = re.compile(r"^[a-z]+-\d+$")
    return _pattern


def table() -> dict[str, int]:
    """A lazily built table, read only once built."""
    global _table
    if _table is None:
        _table = {f"sku-{n}": n for n in range(200)}
    return _table


class Tally:
    """A module-level object whose attributes workflow code may change."""

    def __init__(self) -> None:
        self.count = 0
        self.notes: dict[str, Any] = {}


tally = Tally()


class Tracker:
    """An object whose bound method is kept at module level."""

    def __init__(self) -> None:
        self.total = 0

    def add(self) -> int:
        self.total += 1
        return self.total


track = Tracker().add  # the object travels with the method


class Point:
    """An object without a ``__dict__``."""

    __slots__ = ("x",)

    def __init__(self) -> None:
        self.x = 0


origin = Point()
settings = types.SimpleNamespace(retries=3)
_recent: list[str] = []
note = _recent.append  # the list travels with the method
log_line = functools.partial(list.append, [])  # and with the partial


def _counter() -> Callable[[], int]:
    count = 0

    def next_count() -> int:
        nonlocal count
        count += 1
        return count

    return next_count


next_count = _counter()  # state in a closure: the variable it closes over


def _collector() -> Callable[[str], None]:
    seen: list[str] = []

    def collect(name: str) -> None:
        seen.append(name)

    return collect


collect = _collector()
