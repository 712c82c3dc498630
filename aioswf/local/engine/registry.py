"""Domains, workflow and activity types, and tags: the registration operations."""

from __future__ import annotations

import logging

from aioswf.local.engine.core import EngineState
from aioswf.local.engine.paging import page_of
from aioswf.local.engine.state import Domain, Json, RegisteredType
from aioswf.local.faults import (
    ValidationError,
    domain_deprecated,
    domain_exists,
    limit_exceeded,
    too_many_tags,
    type_deprecated,
    type_exists,
    type_not_deprecated,
    unknown_resource,
)

logger = logging.getLogger(__name__)

MAX_DOMAINS = 100
MAX_TYPES = 10_000
MAX_TAGS = 50
MAX_RETENTION_DAYS = 90
_TYPE_FIELDS = {
    "workflow": (
        "defaultTaskStartToCloseTimeout",
        "defaultExecutionStartToCloseTimeout",
        "defaultTaskList",
        "defaultTaskPriority",
        "defaultChildPolicy",
        "defaultLambdaRole",
    ),
    "activity": (
        "defaultTaskStartToCloseTimeout",
        "defaultTaskHeartbeatTimeout",
        "defaultTaskList",
        "defaultTaskPriority",
        "defaultTaskScheduleToStartTimeout",
        "defaultTaskScheduleToCloseTimeout",
    ),
}


# -- domains ---------------------------------------------------------------------------------


def register_domain(eng: EngineState, req: Json) -> Json:
    """RegisterDomain."""
    name, retention = req["name"], req["workflowExecutionRetentionPeriodInDays"]
    if retention != "NONE" and (not retention.isdigit() or int(retention) > MAX_RETENTION_DAYS):
        raise ValidationError(
            "workflowExecutionRetentionPeriodInDays must be NONE or between "
            f"0 and {MAX_RETENTION_DAYS} days"
        )
    if name in eng.domains:
        raise domain_exists(f"Domain already exists: {name}")
    if len(eng.domains) >= MAX_DOMAINS:
        raise limit_exceeded(f"Cannot register more than {MAX_DOMAINS} domains")
    tags = _tag_dict(req.get("tags", []))
    eng.domains[name] = Domain(
        name=name, retention=retention, description=req.get("description"), tags=tags
    )
    eng.meta_dirty = True
    return {}


def describe_domain(eng: EngineState, req: Json) -> Json:
    """DescribeDomain."""
    domain = eng.domain(req["name"])
    return {
        "domainInfo": _domain_info(eng, domain),
        "configuration": {"workflowExecutionRetentionPeriodInDays": domain.retention},
    }


def list_domains(eng: EngineState, req: Json) -> Json:
    """ListDomains."""
    found = sorted(
        (d for d in eng.domains.values() if d.status == req["registrationStatus"]),
        key=lambda d: d.name,
        reverse=bool(req.get("reverseOrder")),
    )
    page, token = page_of([_domain_info(eng, d) for d in found], req, "domains")
    return _with_token({"domainInfos": page}, token)


def deprecate_domain(eng: EngineState, req: Json) -> Json:
    """DeprecateDomain."""
    domain = eng.domain(req["name"])
    if domain.status == "DEPRECATED":
        raise domain_deprecated(f"Domain already deprecated: {domain.name}")
    domain.status = "DEPRECATED"
    eng.meta_dirty = True
    return {}


def undeprecate_domain(eng: EngineState, req: Json) -> Json:
    """UndeprecateDomain."""
    domain = eng.domain(req["name"])
    if domain.status == "REGISTERED":
        raise domain_exists(f"Domain is not deprecated: {domain.name}")
    domain.status = "REGISTERED"
    eng.meta_dirty = True
    return {}


def _domain_info(eng: EngineState, domain: Domain) -> Json:
    info: Json = {"name": domain.name, "status": domain.status, "arn": eng.arn(domain.name)}
    if domain.description is not None:
        info["description"] = domain.description
    return info


# -- types -----------------------------------------------------------------------------------


def register_type(eng: EngineState, req: Json, kind: str) -> Json:
    """RegisterWorkflowType / RegisterActivityType."""
    domain = eng.domain(req["domain"], registered=True)
    key = (kind, domain.name, req["name"], req["version"])
    if key in eng.types:
        raise type_exists(f"{kind.capitalize()}Type=[name={req['name']}, version={req['version']}]")
    if eng.type_counts.get((kind, domain.name), 0) >= MAX_TYPES:
        raise limit_exceeded(f"Cannot register more than {MAX_TYPES} {kind} types")
    config = {f: req[f] for f in _TYPE_FIELDS[kind] if req.get(f) is not None}
    eng.types[key] = RegisteredType(
        kind=kind,
        domain=domain.name,
        name=req["name"],
        version=req["version"],
        creation=eng.now(),
        config=config,
        description=req.get("description"),
    )
    eng.type_counts[(kind, domain.name)] = eng.type_counts.get((kind, domain.name), 0) + 1
    eng.meta_dirty = True
    return {}


def _get_type(eng: EngineState, req: Json, kind: str) -> RegisteredType:
    domain = eng.domain(req["domain"])
    ref = req[f"{kind}Type"]
    found = eng.find_type(kind, domain.name, ref)
    if found is None:
        raise unknown_resource(
            f"Unknown type: {kind.capitalize()}Type=[name={ref['name']}, version={ref['version']}]"
        )
    return found


def describe_type(eng: EngineState, req: Json, kind: str) -> Json:
    """DescribeWorkflowType / DescribeActivityType."""
    found = _get_type(eng, req, kind)
    return {"typeInfo": type_info(found), "configuration": dict(found.config)}


def type_info(found: RegisteredType) -> Json:
    """The ``*TypeInfo`` object of a type."""
    info: Json = {
        f"{found.kind}Type": found.ref,
        "status": found.status,
        "creationDate": found.creation,
    }
    if found.description is not None:
        info["description"] = found.description
    if found.deprecation is not None:
        info["deprecationDate"] = found.deprecation
    return info


def list_types(eng: EngineState, req: Json, kind: str) -> Json:
    """ListWorkflowTypes / ListActivityTypes."""
    domain = eng.domain(req["domain"])
    name = req.get("name")
    found = [
        t
        for t in eng.types.values()
        if t.kind == kind
        and t.domain == domain.name
        and t.status == req["registrationStatus"]
        and (name is None or t.name == name)
    ]
    found.sort(key=lambda t: (t.name, t.version), reverse=bool(req.get("reverseOrder")))
    page, token = page_of([type_info(t) for t in found], req, f"{kind}-types")
    return _with_token({"typeInfos": page}, token)


def deprecate_type(eng: EngineState, req: Json, kind: str) -> Json:
    """DeprecateWorkflowType / DeprecateActivityType."""
    found = _get_type(eng, req, kind)
    if found.status == "DEPRECATED":
        raise type_deprecated(f"Type already deprecated: {found.name} {found.version}")
    found.status, found.deprecation = "DEPRECATED", eng.now()
    eng.meta_dirty = True
    return {}


def undeprecate_type(eng: EngineState, req: Json, kind: str) -> Json:
    """UndeprecateWorkflowType / UndeprecateActivityType."""
    found = _get_type(eng, req, kind)
    if found.status == "REGISTERED":
        raise type_exists(f"Type is not deprecated: {found.name} {found.version}")
    found.status, found.deprecation = "REGISTERED", None
    eng.meta_dirty = True
    return {}


def delete_type(eng: EngineState, req: Json, kind: str) -> Json:
    """DeleteWorkflowType / DeleteActivityType: only a deprecated type can be deleted."""
    found = _get_type(eng, req, kind)
    if found.status != "DEPRECATED":
        raise type_not_deprecated(f"Type must be deprecated first: {found.name} {found.version}")
    del eng.types[(kind, found.domain, found.name, found.version)]
    eng.type_counts[(kind, found.domain)] -= 1
    eng.meta_dirty = True
    return {}


# -- tags ------------------------------------------------------------------------------------


def _domain_of_arn(eng: EngineState, arn: str) -> Domain:
    prefix = f"arn:aws:swf:{eng.region}:{eng.account}:/domain/"
    name = arn[len(prefix) :] if arn.startswith(prefix) else None
    if name is None or name not in eng.domains:
        raise unknown_resource(f"Unknown resource: {arn}")
    return eng.domains[name]


def tag_resource(eng: EngineState, req: Json) -> Json:
    """TagResource."""
    domain = _domain_of_arn(eng, req["resourceArn"])
    merged = {**domain.tags, **_tag_dict(req["tags"])}
    if len(merged) > MAX_TAGS:
        raise too_many_tags(f"A resource can carry at most {MAX_TAGS} tags")
    domain.tags = merged
    eng.meta_dirty = True
    return {}


def untag_resource(eng: EngineState, req: Json) -> Json:
    """UntagResource."""
    domain = _domain_of_arn(eng, req["resourceArn"])
    for key in req["tagKeys"]:
        domain.tags.pop(key, None)
    eng.meta_dirty = True
    return {}


def list_tags(eng: EngineState, req: Json) -> Json:
    """ListTagsForResource."""
    domain = _domain_of_arn(eng, req["resourceArn"])
    return {"tags": [{"key": k, "value": v} for k, v in domain.tags.items()]}


def _tag_dict(tags: list[Json]) -> dict[str, str]:
    result = {str(t["key"]): str(t.get("value", "")) for t in tags}
    if len(result) > MAX_TAGS:
        raise too_many_tags(f"A resource can carry at most {MAX_TAGS} tags")
    return result


def _with_token(result: Json, token: str | None) -> Json:
    if token is not None:
        result["nextPageToken"] = token
    return result
