"""Workflows that orchestrate other executions, shared by the orchestration tests."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

from aioswf import (
    ApplicationError,
    ChildWorkflowError,
    ExternalWorkflowError,
    LambdaFunctionError,
    StartChildWorkflowFailedError,
    workflow,
)
from tests.workflow.workflows import greet


@workflow.defn
class Kid:
    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self, mode: str) -> str:
        if mode == "fail":
            raise ApplicationError("kid gave up", 7, type="KidError")
        if mode == "wait":
            await workflow.wait_condition(lambda: self.released)
        if mode == "sleep":
            await asyncio.sleep(3600)
        return f"{mode} done"

    @workflow.signal
    def release(self) -> None:
        self.released = True


@workflow.defn(register=False)
class Ghost:
    @workflow.run
    async def run(self) -> None:
        return None


def describe(error: BaseException) -> str:
    """A child outcome as one comparable string."""
    if isinstance(error, StartChildWorkflowFailedError):
        return f"StartChildWorkflowFailedError {error.cause}"
    return type(error).__name__


@workflow.defn
class Parent:
    """Children in parallel, each with a different outcome."""

    @workflow.run
    async def run(self) -> dict[str, str]:
        async def outcome(mode: str, **options: Any) -> str:
            try:
                return await workflow.execute_child_workflow(Kid.run, mode, **options)
            except ChildWorkflowError as error:
                return describe(error)

        async def cancelled() -> str:
            handle = await workflow.start_child_workflow(Kid.run, "wait", workflow_id="kid-cancel")
            await handle.cancel()
            try:
                return await handle
            except ChildWorkflowError as error:
                return describe(error)

        async def ghost() -> str:
            try:
                await workflow.execute_child_workflow(Ghost.run)
            except ChildWorkflowError as error:
                return describe(error)
            return "started"

        async def signalled() -> str:
            handle = await workflow.start_child_workflow(Kid.run, "wait")
            await handle.signal(Kid.release)
            return await handle

        results = await asyncio.gather(
            outcome("ok"),
            outcome("fail"),
            outcome("sleep", execution_start_to_close_timeout=timedelta(seconds=20)),
            outcome("wait", workflow_id="kid-terminate"),
            cancelled(),
            ghost(),
            signalled(),
        )
        keys = ["ok", "fail", "timeout", "terminate", "cancel", "ghost", "signal"]
        return dict(zip(keys, results, strict=True))


@workflow.defn
class InfoChild:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        info = workflow.info()
        return {
            "workflow_id": info.workflow_id,
            "task_list": info.task_list,
            "parent": [info.parent_workflow_id, info.parent_run_id],
            "type": list(info.workflow_type),
            "tags": list(info.tags),
            "timeout": info.execution_start_to_close_timeout.total_seconds()
            if info.execution_start_to_close_timeout
            else None,
            "tasks": info.decision_task_count,
        }


@workflow.defn
class InfoParent:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        child: dict[str, Any] = await workflow.execute_child_workflow(
            InfoChild.run, tags=["child"], execution_start_to_close_timeout=timedelta(hours=2)
        )
        child["my_run_id"] = workflow.info().run_id
        return child


@workflow.defn
class Counter:
    """Continues as new until the fifth run; the last run's result is the chain's."""

    @workflow.run
    async def run(self, run: int, runs: list[str]) -> dict[str, Any]:
        info = workflow.info()
        runs = [*runs, info.run_id]
        assert info.continued_execution_run_id == (runs[-2] if run > 1 else None)
        await asyncio.sleep(1)
        if run < 5:
            try:
                # Moves to another task list for the last two runs.
                task_list = "e2e-other" if run >= 3 else None
                workflow.continue_as_new(run + 1, runs, task_list=task_list)
            except Exception:  # it must not catch continue-as-new
                return {"swallowed": True}
        return {"run": run, "runs": runs, "task_list": info.task_list}


@workflow.defn
class Target:
    """Waits for a poke, then to be cancelled; cleans up with activities when it is."""

    def __init__(self) -> None:
        self.pokes: list[str] = []

    @workflow.run
    async def run(self) -> None:
        try:
            await workflow.wait_condition(lambda: False)
        except asyncio.CancelledError:
            await workflow.execute_activity(greet, f"cleanup after {self.pokes}")
            raise
        finally:
            await workflow.execute_activity(greet, "finally")

    @workflow.signal
    def poke(self, text: str) -> None:
        self.pokes.append(text)


@workflow.defn
class Sender:
    """Signals and cancels another execution, and fails to reach one that does not exist."""

    @workflow.run
    async def run(self, target_id: str) -> dict[str, Any]:
        target = workflow.get_external_workflow_handle(target_id)
        await target.signal(Target.poke, "hello")
        await target.cancel()
        ghost = workflow.get_external_workflow_handle("no-such-workflow")
        causes = []
        for action in (lambda: ghost.signal("poke"), ghost.cancel):
            try:
                await action()
            except ExternalWorkflowError as error:
                causes.append(f"{type(error).__name__} {error.cause}")
        return {"causes": causes}


@workflow.defn
class SelfCancel:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(greet, "before")
        raise asyncio.CancelledError


@workflow.defn
class Guardian:
    """A parent that starts a child and waits; the test terminates it."""

    @workflow.run
    async def run(self) -> None:
        await workflow.start_child_workflow(Kid.run, "wait", workflow_id="ward")
        await workflow.wait_condition(lambda: False)


@workflow.defn(name="Shipping")
class ShippingV1:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(greet, "pack")
        await asyncio.sleep(10)
        return "shipped"


@workflow.defn(name="Shipping")
class ShippingV2:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(greet, "pack")
        if workflow.patched("insure"):
            await workflow.execute_activity(greet, "insure")
            await asyncio.sleep(10)
            return "shipped insured"
        await asyncio.sleep(10)
        return "shipped"


@workflow.defn(name="Shipping")
class ShippingV3:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(greet, "pack")
        workflow.deprecate_patch("insure")
        await workflow.execute_activity(greet, "insure")
        await asyncio.sleep(10)
        return "shipped insured"


effects = itertools.count(1)
"""Counts every real call of the side effect below, across replays."""


def draw() -> int:
    return next(effects)


@workflow.defn
class Effects:
    @workflow.run
    async def run(self) -> list[int]:
        first = workflow.side_effect(draw)
        seen = [first]
        for _ in range(4):
            await asyncio.sleep(1)
            seen.append(first)
        second = workflow.side_effect(draw)
        return [*seen, second]


@workflow.defn
class Lambdas:
    @workflow.run
    async def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {"double": await workflow.execute_lambda("double", 21)}
        for name in ("broken", "missing", "stuck"):
            try:
                await workflow.execute_lambda(
                    name, {"n": 1}, start_to_close_timeout=timedelta(seconds=5)
                )
            except LambdaFunctionError as error:
                out[name] = type(error).__name__
        return out
