"""The workflow environment as a pytest fixture.

Put the fixture in your `conftest.py` and set `asyncio_mode = "auto"` for pytest-asyncio.
Run this file with `pytest examples/testing_pytest.py`, or `python examples/testing_pytest.py`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest

# The tests of testing_workflows.py take an `env` argument: pytest collects them from here.
from testing_workflows import (  # noqa: F401
    test_a_stuck_export_times_out,
    test_subscribing_during_the_trial,
    test_trial_expires_after_30_days,
)

from aioswf.testing import WorkflowEnvironment


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh local SWF service, client and domain for each test."""
    async with WorkflowEnvironment() as env:
        yield env


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
