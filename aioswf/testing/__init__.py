"""Tools to test workflows and activities: a time-skipping environment on the local SWF
service, an environment to run one activity, and a replayer for recorded histories.
See ``docs/testing.md``."""

from aioswf._history import (
    History,
    HistorySource,
    load_history,
    save_history,
)
from aioswf.testing._activity_env import ActivityEnvironment
from aioswf.testing._replayer import Replayer, ReplayResult
from aioswf.testing._workflow_env import TimeSkippingHandle, WorkflowEnvironment

__all__ = (
    "WorkflowEnvironment",
    "TimeSkippingHandle",
    "ActivityEnvironment",
    "Replayer",
    "ReplayResult",
    "History",
    "HistorySource",
    "load_history",
    "save_history",
)
