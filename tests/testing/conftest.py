"""Fixtures for the testing toolkit's own tests: a workflow environment per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from aioswf.testing import WorkflowEnvironment

START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping environment, as users write it in their own conftest.py."""
    async with WorkflowEnvironment(start=START) as env:
        yield env
