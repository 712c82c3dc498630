"""How messages say how many and how long: ``1 poll``, ``2 polls``, ``1 second``, ``0.5 s``."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 poll``, ``0 polls``, ``3 activities`` (give ``plural`` where it is not ``+s``)."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def duration(seconds: float) -> str:
    """A span of time for a message: ``1 second``, ``30 seconds``, ``0.5 s``, ``12.35 s``.

    Whole seconds are spelt out; anything finer keeps two decimals at most.
    """
    rounded = round(seconds, 2)
    if rounded == int(rounded):
        return count(int(rounded), "second")
    return f"{rounded:g} s"
