"""Fault-injection and fuzz tests: a short form in every run, the full form in ``nox -s faults``.

``AIOSWF_FULL_FAULTS=1`` selects the full form: many more fuzz cases, and the scenarios marked
``faults`` that take minutes. Every case is seeded, so a failure replays.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FULL = os.environ.get("AIOSWF_FULL_FAULTS") == "1"
"""Whether the full form runs."""

settings.register_profile(
    "aioswf-faults",
    derandomize=True,  # a fixed seed: the same cases in every run
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def cases(short: int, full: int) -> int:
    """How many fuzz cases to run: ``short`` in the default run, ``full`` in the full one."""
    return full if FULL else short
