"""The API used inside workflow code.

Declare a workflow with :func:`defn` on a class, :func:`run` on its entry point and
:func:`signal` on its signal handlers.
"""

from __future__ import annotations

from aioswf._definitions import WorkflowDefinition
from aioswf._definitions import workflow_defn as defn
from aioswf._definitions import workflow_run as run
from aioswf._definitions import workflow_signal as signal

__all__ = ("WorkflowDefinition", "defn", "run", "signal")
