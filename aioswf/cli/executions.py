"""``start``, ``signal``, ``cancel``, ``terminate``, ``describe`` and ``result``: one execution."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from aioswf._wording import duration
from aioswf.cli import _render
from aioswf.cli._common import (
    CommandError,
    Commands,
    add_command,
    add_connection,
    add_json,
    import_module,
    parse_json_values,
    print_json,
    run_with_client,
)


def register(commands: Commands) -> None:
    """Add the commands that act on one execution."""
    _add_start(commands)
    signal = add_command(
        commands,
        "signal",
        help="send a signal to an execution",
        description="Send a signal (a @workflow.signal method's name) with its arguments.",
        example="aioswf signal order-o-1 approve --input '\"alice\"' -d shop",
    )
    _add_target(signal)
    signal.add_argument("signal", metavar="SIGNAL", help="the signal's name")
    _add_input(signal, "the signal's")
    add_json(signal)
    signal.set_defaults(handler=_signal)
    cancel = add_command(
        commands,
        "cancel",
        help="ask an execution to cancel",
        description="Request cancellation: the workflow sees asyncio.CancelledError and may "
        "clean up before it closes as canceled.",
        example="aioswf cancel order-o-1 -d shop",
    )
    _add_target(cancel)
    add_json(cancel)
    cancel.set_defaults(handler=_cancel)
    terminate = add_command(
        commands,
        "terminate",
        help="end an execution at once",
        description="Terminate an execution: it closes at once and its code does not run again.",
        example="aioswf terminate order-o-1 --reason 'duplicate order' -d shop",
    )
    _add_target(terminate)
    terminate.add_argument("--reason", help="why, recorded in the history")
    terminate.add_argument("--details", help="more about why, recorded in the history")
    terminate.add_argument(
        "--child-policy",
        choices=("TERMINATE", "REQUEST_CANCEL", "ABANDON"),
        help="what happens to its open children (default: the execution's)",
    )
    add_json(terminate)
    terminate.set_defaults(handler=_terminate)
    describe = add_command(
        commands,
        "describe",
        help="show an execution's status, settings and what is in flight",
        description="Show an execution: status, type, task list, timeouts, the state the "
        "workflow reported (workflow.set_state), and the activities, timers and children in "
        "flight.",
        example="aioswf describe order-o-1 -d shop",
    )
    _add_target(describe)
    add_json(describe)
    describe.set_defaults(handler=_describe)
    result = add_command(
        commands,
        "result",
        help="wait for an execution's result",
        description="Wait for an execution to close and print its result, following "
        "continue-as-new to the last run. Exit status 1 if it failed, was canceled, "
        "terminated or timed out; 3 if --timeout passed first.",
        example="aioswf result order-o-1 --timeout 60 -d shop",
    )
    _add_target(result)
    result.add_argument("--timeout", type=float, metavar="SECONDS", help="give up after this")
    result.add_argument(
        "--no-follow", action="store_true", help="the given run's outcome, not the last run's"
    )
    add_json(result)
    result.set_defaults(handler=_result)


def _add_start(commands: Commands) -> None:
    start = add_command(
        commands,
        "start",
        help="start a workflow execution",
        description="Start an execution of a workflow type, named as registered (NAME, with "
        "--type-version or the newest registered version) or as module:Class, whose run "
        "method's annotations check the input before anything is sent.",
        example="aioswf start shop.workflows:Order --workflow-id order-o-1 "
        "--input '\"o-1\"' --input 42 --task-list orders -d shop",
    )
    add_connection(start)
    start.add_argument("workflow", metavar="WORKFLOW", help="type name, or module:Class")
    start.add_argument("--workflow-id", "-w", required=True, help="the execution's id")
    start.add_argument("--type-version", help="the type's version (default: newest registered)")
    start.add_argument("--task-list", "-t", help="task list (default: the type's)")
    _add_input(start, "the run method's")
    start.add_argument("--tag", action="append", default=[], help="a tag (repeatable, up to 5)")
    start.add_argument(
        "--execution-timeout", type=float, metavar="SECONDS", help="execution start-to-close"
    )
    start.add_argument("--task-timeout", type=float, metavar="SECONDS", help="decision task")
    start.add_argument("--wait", action="store_true", help="then wait for its result")
    add_json(start)
    start.set_defaults(handler=_start)


def _add_target(parser: argparse.ArgumentParser) -> None:
    add_connection(parser)
    parser.add_argument("workflow_id", metavar="WORKFLOW_ID", help="the execution's workflow id")
    parser.add_argument("--run-id", "-r", help="a given run (default: the current or last one)")


def _add_input(parser: argparse.ArgumentParser, whose: str) -> None:
    parser.add_argument(
        "--input",
        "-i",
        action="append",
        metavar="JSON",
        help=f"one of {whose} arguments as JSON, in order (repeatable): 42, '\"text\"', "
        "'{\"id\": 7}'",
    )


# --- start ----------------------------------------------------------------------------------


def _start(args: argparse.Namespace) -> int:
    values = parse_json_values(args.input, "--input")

    async def body(client: Any) -> int:
        if ":" in args.workflow:
            handle = await _start_definition(client, args, values)
        else:
            handle = await _start_by_name(client, args, values)
        run_id = handle.run_id
        if args.json and not args.wait:
            print_json({"workflowId": handle.workflow_id, "runId": run_id})
        elif not args.wait:
            _render.console().print(f"started [bold]{handle.workflow_id}[/] run {run_id}")
        if args.wait:
            return await _print_result(handle, args, None)
        return 0

    return run_with_client(args, body)


async def _start_definition(client: Any, args: argparse.Namespace, values: list[Any]) -> Any:
    from aioswf import WorkflowOptions
    from aioswf._definitions import workflow_definition

    module_name, _, class_name = args.workflow.partition(":")
    cls = getattr(import_module(module_name), class_name, None)
    if cls is None:
        raise CommandError(f"{module_name} has no {class_name!r}", status=2)
    definition = workflow_definition(cls)
    options = WorkflowOptions(
        execution_start_to_close_timeout=_seconds(args.execution_timeout),
        task_start_to_close_timeout=_seconds(args.task_timeout),
    )
    client.auto_register = True  # registering a type from its code is what the user asked
    await _check_domain(client)
    return await client.start_workflow(
        definition.run_fn,
        *values,
        workflow_id=args.workflow_id,
        task_list=args.task_list,
        tags=args.tag,
        options=options,
    )


async def _start_by_name(client: Any, args: argparse.Namespace, values: list[Any]) -> Any:
    from aioswf._handles import put_set

    version = args.type_version or await _newest_version(client, args.workflow)
    params: dict[str, Any] = {
        "workflowId": args.workflow_id,
        "workflowType": {"name": args.workflow, "version": version},
    }
    put_set(params, "taskList", {"name": args.task_list} if args.task_list else None)
    put_set(params, "input", client.converter.encode_args(values))
    put_set(params, "tagList", args.tag or None)
    put_set(params, "executionStartToCloseTimeout", _swf_seconds(args.execution_timeout))
    put_set(params, "taskStartToCloseTimeout", _swf_seconds(args.task_timeout))
    response = await client.call("StartWorkflowExecution", **params)
    return client.get_workflow_handle(args.workflow_id, run_id=response["runId"])


async def _check_domain(client: Any) -> None:
    from aioswf.exceptions import UnknownResourceError

    try:
        await client.call("DescribeDomain", name=client.domain)
    except UnknownResourceError:
        raise CommandError(
            f"domain {client.domain!r} does not exist; register it with "
            f"`aioswf domain register {client.domain}` (or check its spelling)"
        ) from None


async def _newest_version(client: Any, name: str) -> str:
    await _check_domain(client)
    versions: list[str] = []
    async for page in client.transport.pages(
        "ListWorkflowTypes",
        {"domain": client.domain, "name": name, "registrationStatus": "REGISTERED"},
    ):
        versions += [info["workflowType"]["version"] for info in page.get("typeInfos", ())]
    if not versions:
        raise CommandError(
            f"no workflow type named {name!r} is registered in domain {client.domain!r}; "
            "start it as module:Class to register it, or see `aioswf type list`"
        )
    return max(versions, key=_version_key)


def _version_key(version: str) -> tuple[Any, ...]:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in version.split(".")
    )


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _swf_seconds(value: float | None) -> str | None:
    return None if value is None else str(int(value))


# --- signal, cancel, terminate -----------------------------------------------------------


def _handle(client: Any, args: argparse.Namespace) -> Any:
    return client.get_workflow_handle(args.workflow_id, run_id=args.run_id)


def _signal(args: argparse.Namespace) -> int:
    values = parse_json_values(args.input, "--input")

    async def body(client: Any) -> int:
        await _handle(client, args).signal(args.signal, *values)
        _done(args, f"sent {args.signal!r} to {args.workflow_id}", signal=args.signal)
        return 0

    return run_with_client(args, body)


def _cancel(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        await _handle(client, args).cancel()
        _done(args, f"asked {args.workflow_id} to cancel", cancelRequested=True)
        return 0

    return run_with_client(args, body)


def _terminate(args: argparse.Namespace) -> int:
    from aioswf.options import ChildPolicy

    async def body(client: Any) -> int:
        policy = ChildPolicy(args.child_policy) if args.child_policy else None
        await _handle(client, args).terminate(
            args.reason, details=args.details, child_policy=policy
        )
        _done(args, f"terminated {args.workflow_id}", terminated=True)
        return 0

    return run_with_client(args, body)


def _done(args: argparse.Namespace, line: str, **fields: Any) -> None:
    """Say what was done: one line, or JSON naming the execution."""
    if args.json:
        print_json({"workflowId": args.workflow_id, "runId": args.run_id, **fields})
    else:
        _render.console().print(line, markup=False)


# --- describe and result -------------------------------------------------------------------


def _describe(args: argparse.Namespace) -> int:
    from aioswf.timeline import build_timeline, fetch_payloads

    async def body(client: Any) -> int:
        handle = _handle(client, args)
        description = await handle.describe()
        run_id = description.info.run_id
        events = [event async for event in handle.history(run_id=run_id)]
        await fetch_payloads(client.converter, events)
        timeline = build_timeline(
            events, converter=client.converter, workflow_id=args.workflow_id, run_id=run_id
        )
        if args.json:
            print_json(_render.description_json(description, timeline))
        else:
            _render.describe(description, timeline)
        return 0

    return run_with_client(args, body)


def _result(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        return await _print_result(_handle(client, args), args, args.timeout)

    return run_with_client(args, body)


async def _print_result(handle: Any, args: argparse.Namespace, timeout: float | None) -> int:
    from aioswf.exceptions import PayloadError, WorkflowExecutionError

    follow = not getattr(args, "no_follow", False)
    try:
        value = await handle.result(timeout=_seconds(timeout), follow_runs=follow)
    except TimeoutError:
        if timeout is None:  # not the caller's timeout
            raise
        raise CommandError(
            f"{handle.workflow_id} did not close within {duration(timeout)}", status=3
        ) from None
    except WorkflowExecutionError as error:
        if args.json:
            print_json(
                {
                    "workflowId": handle.workflow_id,
                    "error": type(error).__name__,
                    "message": str(error),
                }
            )
            return 1
        raise CommandError(str(error)) from None
    except PayloadError as error:
        raise CommandError(
            f"the result of {handle.workflow_id} cannot be read here: {error} (the "
            "application's converter is given with --converter MODULE:ATTR)"
        ) from None
    if args.json:
        print_json({"workflowId": handle.workflow_id, "result": value})
    else:
        _render.console().print_json(data=value) if value is not None else print("null")
    return 0
