"""The innermost workflow interceptors: where the chains end and the run's machines begin.

Workflow code reaches SWF through ``WorkflowInstance.outbound`` and is called through
``WorkflowInstance.inbound``; with no interceptors those are these two classes alone.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from aioswf._decider.closing import continue_as_new_attributes
from aioswf._decider.outcome import ContinueAsNew
from aioswf.interceptors import (
    ContinueAsNewInput,
    ExecuteWorkflowInput,
    HandleSignalInput,
    SignalExternalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartTimerInput,
    WorkflowInboundInterceptor,
    WorkflowOutboundInterceptor,
)

if TYPE_CHECKING:
    from aioswf._decider.activity import ActivityHandle
    from aioswf._decider.child import ChildWorkflowHandle
    from aioswf._decider.instance import WorkflowInstance


class WorkflowCalls(WorkflowInboundInterceptor):
    """Calls the workflow's own methods; ``init`` hands the outbound chain to the run."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self.host.outbound = outbound

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        return await input.run_fn(*input.args)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        result = input.handler(*input.args)
        if inspect.isawaitable(result):
            await result


class WorkflowOutboundCalls(WorkflowOutboundInterceptor):
    """Makes the decisions: activities, children, timers, external signals, continue-as-new."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host

    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        return self.host.activities.start(input.activity, input.args, input.options, input.headers)

    async def start_child_workflow(
        self, input: StartChildWorkflowInput
    ) -> ChildWorkflowHandle[Any]:
        return await self.host.children.start(
            input.workflow, input.args, input.options, input.headers
        )

    def start_timer(self, input: StartTimerInput) -> None:
        input.start(input.duration)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        await self.host.externals.signal(
            input.workflow_id, input.run_id, input.signal, input.args, input.headers
        )

    def continue_as_new(self, input: ContinueAsNewInput) -> ContinueAsNew:
        attributes = continue_as_new_attributes(
            self.host, input.args, input.options, input.tags, input.headers
        )
        return ContinueAsNew(attributes)
