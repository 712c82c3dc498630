"""The API used inside workflow code.

Declare a workflow with :func:`defn` on a class, :func:`run` on its entry point and
:func:`signal` on its signal handlers. Inside it, ordinary asyncio works and is durable
(``asyncio.sleep``, ``wait_for``, ``timeout``, ``gather``, ``TaskGroup``, ``Event``, ``Lock``,
``Queue``, ``shield``); this module adds activities, child workflows, signals and cancel
requests to other executions, continue-as-new, Lambda tasks, conditions, patches and side
effects, deterministic time, random numbers and ids, the execution's visible state, and a
logger that is quiet during replay.

Example:
    >>> @workflow.defn
    ... class Greet:
    ...     @workflow.run
    ...     async def run(self, name: str) -> str:
    ...         await asyncio.sleep(60)                  # a durable SWF timer
    ...         return await workflow.execute_activity(say_hello, name)
"""

from aioswf._decider.activity import ActivityHandle
from aioswf._decider.child import ChildWorkflowHandle
from aioswf._decider.external import ExternalWorkflowHandle
from aioswf._decider.outcome import ContinueAsNew
from aioswf._decider.runtime import WorkflowInfo
from aioswf._definitions import WorkflowDefinition
from aioswf._definitions import workflow_defn as defn
from aioswf._definitions import workflow_init as init
from aioswf._definitions import workflow_run as run
from aioswf._definitions import workflow_signal as signal
from aioswf.options import HandlerUnfinishedPolicy
from aioswf.workflow._activities import execute_activity, start_activity
from aioswf.workflow._children import (
    continue_as_new,
    execute_child_workflow,
    get_external_workflow_handle,
    start_child_workflow,
)
from aioswf.workflow._core import (
    all_handlers_finished,
    info,
    is_replaying,
    logger,
    now,
    random,
    set_state,
    uuid4,
)
from aioswf.workflow._recorded import deprecate_patch, execute_lambda, patched, side_effect
from aioswf.workflow._waiting import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    as_completed,
    wait,
    wait_condition,
)

__all__ = (
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "ActivityHandle",
    "ChildWorkflowHandle",
    "ContinueAsNew",
    "ExternalWorkflowHandle",
    "HandlerUnfinishedPolicy",
    "WorkflowDefinition",
    "WorkflowInfo",
    "all_handlers_finished",
    "as_completed",
    "continue_as_new",
    "defn",
    "deprecate_patch",
    "execute_activity",
    "execute_child_workflow",
    "execute_lambda",
    "get_external_workflow_handle",
    "info",
    "init",
    "is_replaying",
    "logger",
    "now",
    "patched",
    "random",
    "run",
    "set_state",
    "side_effect",
    "signal",
    "start_activity",
    "start_child_workflow",
    "uuid4",
    "wait",
    "wait_condition",
)
