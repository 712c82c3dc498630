"""``domain`` and ``type``: register, list and describe domains and workflow/activity types."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from rich.table import Table

from aioswf.cli import _render
from aioswf.cli._common import (
    CommandError,
    Commands,
    add_command,
    add_connection,
    add_json,
    import_module,
    print_json,
    run_with_client,
)


def register(commands: Commands) -> None:
    """Add ``domain`` and ``type`` with their subcommands."""
    domain = add_command(
        commands,
        "domain",
        help="register, list or describe domains",
        description="Domains hold workflow executions and types; each keeps closed "
        "executions for its retention period.",
        example="aioswf domain register shop --retention-days 30",
    )
    actions = domain.add_subparsers(dest="action", metavar="ACTION", required=True)
    register_domain = add_command(
        actions,
        "register",
        help="register a domain",
        description="Register a domain; an existing one is left as it is (exit 0).",
        example="aioswf domain register shop --retention-days 30",
    )
    add_connection(register_domain, domain=False)
    register_domain.add_argument("name", metavar="NAME")
    register_domain.add_argument(
        "--retention-days",
        type=int,
        default=7,
        metavar="N",
        help="days closed executions are kept, 0-90 (default: %(default)s)",
    )
    register_domain.add_argument("--description")
    register_domain.set_defaults(handler=_register_domain)
    list_domains = add_command(
        actions,
        "list",
        help="list domains",
        description="List registered (or, with --deprecated, deprecated) domains.",
        example="aioswf domain list",
    )
    add_connection(list_domains, domain=False)
    list_domains.add_argument("--deprecated", action="store_true", help="deprecated ones")
    add_json(list_domains)
    list_domains.set_defaults(handler=_list_domains)
    describe_domain = add_command(
        actions,
        "describe",
        help="describe a domain",
        description="Show a domain's status, retention and description.",
        example="aioswf domain describe shop",
    )
    add_connection(describe_domain, domain=False)
    describe_domain.add_argument("name", metavar="NAME")
    add_json(describe_domain)
    describe_domain.set_defaults(handler=_describe_domain)
    _add_type(commands)


def _add_type(commands: Commands) -> None:
    types = add_command(
        commands,
        "type",
        help="register or list workflow and activity types",
        description="Workflow and activity types, with the defaults they were registered with.",
        example="aioswf type list -d shop",
    )
    actions = types.add_subparsers(dest="action", metavar="ACTION", required=True)
    list_types = add_command(
        actions,
        "list",
        help="list workflow and activity types",
        description="List the registered (or deprecated) workflow and activity types.",
        example="aioswf type list --kind workflow -d shop",
    )
    add_connection(list_types)
    list_types.add_argument("--kind", choices=("workflow", "activity"), help="only this kind")
    list_types.add_argument("--deprecated", action="store_true", help="deprecated ones")
    add_json(list_types)
    list_types.set_defaults(handler=_list_types)
    register_types = add_command(
        actions,
        "register",
        help="register the types defined in modules",
        description="Register the domain (if missing) and every @workflow.defn and "
        "@activity.defn of the given modules with their defaults; existing types are kept.",
        example="aioswf type register shop.workflows shop.activities --task-list orders -d shop",
    )
    add_connection(register_types)
    register_types.add_argument("modules", nargs="+", metavar="MODULE")
    register_types.add_argument("--task-list", help="default task list for types without one")
    register_types.set_defaults(handler=_register_types)


def _no_domain(args: argparse.Namespace) -> str:
    return getattr(args, "name", None) or "-"


def _register_domain(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        created = await client.register_domain(
            retention=timedelta(days=args.retention_days), description=args.description
        )
        verb = "registered" if created else "already registered:"
        _render.console().print(f"{verb} domain {args.name}")
        return 0

    return run_with_client(args, body, domain=args.name)


def _list_domains(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        status = "DEPRECATED" if args.deprecated else "REGISTERED"
        infos = []
        async for page in client.transport.pages("ListDomains", {"registrationStatus": status}):
            infos += page.get("domainInfos", [])
        if args.json:
            print_json(infos)
            return 0
        table = Table(box=None, header_style="bold")
        for column in ("NAME", "STATUS", "DESCRIPTION"):
            table.add_column(column)
        for info in infos:
            table.add_row(info["name"], info["status"], info.get("description", ""))
        _render.console().print(table if infos else "no domains")
        return 0

    return run_with_client(args, body, domain=_no_domain(args))


def _describe_domain(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        detail = await client.call("DescribeDomain", name=args.name)
        if args.json:
            print_json(detail)
            return 0
        info, config = detail["domainInfo"], detail["configuration"]
        retention = config["workflowExecutionRetentionPeriodInDays"]
        _render.console().print(
            f"{info['name']}  {info['status']}  retention {retention} days"
            + (f"\n{info['description']}" if info.get("description") else "")
        )
        return 0

    return run_with_client(args, body, domain=args.name)


def _list_types(args: argparse.Namespace) -> int:
    async def body(client: Any) -> int:
        status = "DEPRECATED" if args.deprecated else "REGISTERED"
        rows = []
        for kind in ("workflow", "activity"):
            if args.kind not in (None, kind):
                continue
            operation = "ListWorkflowTypes" if kind == "workflow" else "ListActivityTypes"
            async for page in client.transport.pages(
                operation, {"domain": client.domain, "registrationStatus": status}
            ):
                for info in page.get("typeInfos", ()):
                    type_ = info[f"{kind}Type"]
                    rows.append(
                        {
                            "kind": kind,
                            **type_,
                            "status": info["status"],
                            "created": info["creationDate"],
                            "description": info.get("description"),
                        }
                    )
        if args.json:
            print_json(rows)
            return 0
        table = Table(box=None, header_style="bold")
        for column in ("KIND", "NAME", "VERSION", "STATUS", "CREATED"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                row["kind"],
                row["name"],
                row["version"],
                row["status"],
                _render.when(row["created"]),
            )
        _render.console().print(table if rows else f"no types in domain {client.domain}")
        return 0

    return run_with_client(args, body)


def _register_types(args: argparse.Namespace) -> int:
    from aioswf._discovery import activity_definitions, workflow_definitions

    modules = [import_module(name) for name in args.modules]
    workflows = workflow_definitions(modules)
    activities = activity_definitions(modules)
    if not workflows and not activities:
        raise CommandError(
            f"no @workflow.defn or @activity.defn found in {', '.join(args.modules)}", status=2
        )

    async def body(client: Any) -> int:
        client.auto_register = True
        await client.ensure_registered(
            workflows=workflows, activities=activities, task_list=args.task_list
        )
        for key in [*(w.type_key for w in workflows), *(a.type_key for a in activities)]:
            _render.console().print(f"registered {key}")
        return 0

    return run_with_client(args, body)
