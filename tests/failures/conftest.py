"""Fixtures for the failure-policy tests: the end-to-end workflow tests' own, the local SWF
service on a virtual clock."""

from __future__ import annotations

from tests.workflow.conftest import client, clock, local_swf

__all__ = ["client", "clock", "local_swf"]
