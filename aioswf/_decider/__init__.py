"""The deterministic workflow runtime: the loop, the decision machines, history matching.

Private: ``aioswf.workflow`` is the API workflow code uses, and the decision poller drives
:class:`WorkflowInstance`.
"""

from aioswf._decider.activity import ActivityHandle
from aioswf._decider.cache import InstanceCache
from aioswf._decider.instance import WorkflowInstance
from aioswf._decider.loop import WorkflowLoop
from aioswf._decider.outcome import (
    Activation,
    CacheMiss,
    InstanceOptions,
    WorkflowEvicted,
)
from aioswf._decider.runtime import WorkflowInfo, WorkflowRuntime, current_runtime

__all__ = (
    "Activation",
    "ActivityHandle",
    "CacheMiss",
    "InstanceCache",
    "InstanceOptions",
    "WorkflowEvicted",
    "WorkflowInfo",
    "WorkflowInstance",
    "WorkflowLoop",
    "WorkflowRuntime",
    "current_runtime",
)
