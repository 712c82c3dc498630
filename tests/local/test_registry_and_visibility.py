"""Domains, types, deprecation rules, tags, and list/count visibility with filters."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from aioswf.local import VirtualClock
from tests.local.helpers import ACT, DOMAIN, WF, Driver, attrs_of, complete, schedule

ARN = f"arn:aws:swf:us-east-1:123456789012:/domain/{DOMAIN}"


async def test_domain_lifecycle(sw: Driver) -> None:
    with pytest.raises(sw.client.exceptions.DomainAlreadyExistsFault):
        await sw("register_domain", name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    detail = await sw("describe_domain", name=DOMAIN)
    assert detail["domainInfo"]["arn"] == ARN
    assert detail["configuration"] == {"workflowExecutionRetentionPeriodInDays": "1"}
    await sw("deprecate_domain", name=DOMAIN)
    with pytest.raises(sw.client.exceptions.DomainDeprecatedFault):
        await sw("deprecate_domain", name=DOMAIN)
    with pytest.raises(ClientError):
        await sw.start()
    listed = await sw("list_domains", registrationStatus="DEPRECATED")
    assert [d["name"] for d in listed["domainInfos"]] == [DOMAIN]
    await sw("undeprecate_domain", name=DOMAIN)
    with pytest.raises(sw.client.exceptions.DomainAlreadyExistsFault):
        await sw("undeprecate_domain", name=DOMAIN)


async def test_list_domains_pages(sw: Driver) -> None:
    for index in range(5):
        await sw(
            "register_domain", name=f"extra-{index}", workflowExecutionRetentionPeriodInDays="0"
        )
    first = await sw("list_domains", registrationStatus="REGISTERED", maximumPageSize=4)
    rest = await sw(
        "list_domains",
        registrationStatus="REGISTERED",
        maximumPageSize=4,
        nextPageToken=first["nextPageToken"],
    )
    names = [d["name"] for d in first["domainInfos"] + rest["domainInfos"]]
    assert names == sorted(names)
    assert len(names) == 6
    assert "nextPageToken" not in rest


async def test_type_deprecation_rules(sw: Driver) -> None:
    with pytest.raises(sw.client.exceptions.TypeAlreadyExistsFault):
        await sw("register_workflow_type", domain=DOMAIN, **WF)
    with pytest.raises(sw.client.exceptions.TypeNotDeprecatedFault):
        await sw("delete_workflow_type", domain=DOMAIN, workflowType=WF)
    await sw("deprecate_workflow_type", domain=DOMAIN, workflowType=WF)
    with pytest.raises(sw.client.exceptions.TypeDeprecatedFault):
        await sw.start()
    with pytest.raises(sw.client.exceptions.TypeDeprecatedFault):
        await sw("deprecate_workflow_type", domain=DOMAIN, workflowType=WF)
    info = await sw("describe_workflow_type", domain=DOMAIN, workflowType=WF)
    assert info["typeInfo"]["status"] == "DEPRECATED"
    assert "deprecationDate" in info["typeInfo"]
    assert info["configuration"]["defaultChildPolicy"] == "TERMINATE"
    await sw("undeprecate_workflow_type", domain=DOMAIN, workflowType=WF)
    with pytest.raises(sw.client.exceptions.TypeAlreadyExistsFault):
        await sw("undeprecate_workflow_type", domain=DOMAIN, workflowType=WF)
    await sw("deprecate_activity_type", domain=DOMAIN, activityType=ACT)
    await sw("delete_activity_type", domain=DOMAIN, activityType=ACT)
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw("describe_activity_type", domain=DOMAIN, activityType=ACT)


async def test_deprecated_activity_type_cannot_be_scheduled(sw: Driver) -> None:
    run = await sw.start()
    await sw("deprecate_activity_type", domain=DOMAIN, activityType=ACT)
    await sw.decide(schedule("a1"))
    assert attrs_of((await sw.history(run))[4])["cause"] == "ACTIVITY_TYPE_DEPRECATED"


async def test_list_types_filters_and_pages(sw: Driver) -> None:
    for version in ("2", "3", "4"):
        await sw("register_workflow_type", domain=DOMAIN, name="Flow", version=version)
    await sw("register_workflow_type", domain=DOMAIN, name="Other", version="1")
    page = await sw(
        "list_workflow_types",
        domain=DOMAIN,
        registrationStatus="REGISTERED",
        name="Flow",
        maximumPageSize=3,
        reverseOrder=True,
    )
    assert [t["workflowType"]["version"] for t in page["typeInfos"]] == ["4", "3", "2"]
    rest = await sw(
        "list_workflow_types",
        domain=DOMAIN,
        registrationStatus="REGISTERED",
        name="Flow",
        maximumPageSize=3,
        reverseOrder=True,
        nextPageToken=page["nextPageToken"],
    )
    assert [t["workflowType"]["version"] for t in rest["typeInfos"]] == ["1"]


async def test_start_needs_defaults(sw: Driver) -> None:
    await sw("register_workflow_type", domain=DOMAIN, name="Bare", version="1")
    with pytest.raises(sw.client.exceptions.DefaultUndefinedFault):
        await sw.start(workflowType={"name": "Bare", "version": "1"})


async def test_tags(sw: Driver) -> None:
    await sw(
        "tag_resource",
        resourceArn=ARN,
        tags=[{"key": "team", "value": "a"}, {"key": "env", "value": "dev"}],
    )
    await sw("untag_resource", resourceArn=ARN, tagKeys=["env"])
    tags = await sw("list_tags_for_resource", resourceArn=ARN)
    assert tags["tags"] == [{"key": "team", "value": "a"}]
    with pytest.raises(sw.client.exceptions.TooManyTagsFault):
        await sw(
            "tag_resource",
            resourceArn=ARN,
            tags=[{"key": f"k{i}", "value": "v"} for i in range(50)],
        )
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw("list_tags_for_resource", resourceArn=ARN + "-missing")


async def test_list_and_count_filters(sw: Driver, clock: VirtualClock) -> None:
    t0 = clock.now()
    await sw.start("a", tagList=["red"])
    clock.advance(10)
    await sw.start("b", tagList=["blue"])
    await sw.decide(complete())
    window = {"oldestDate": t0}

    async def open_ids(**filters: object) -> list[str]:
        found = await sw(
            "list_open_workflow_executions", domain=DOMAIN, startTimeFilter=window, **filters
        )
        return [i["execution"]["workflowId"] for i in found["executionInfos"]]

    assert await open_ids() == ["b"]
    assert await open_ids(tagFilter={"tag": "blue"}) == ["b"]
    assert await open_ids(executionFilter={"workflowId": "a"}) == []
    assert await open_ids(typeFilter={"name": "Flow"}) == ["b"]
    closed = await sw(
        "list_closed_workflow_executions",
        domain=DOMAIN,
        closeStatusFilter={"status": "COMPLETED"},
        closeTimeFilter={"oldestDate": t0},
    )
    assert [i["execution"]["workflowId"] for i in closed["executionInfos"]] == ["a"]
    clock.advance(1)
    await sw.start("c")
    assert await open_ids() == ["c", "b"]
    assert await open_ids(reverseOrder=True) == ["b", "c"]
    count = await sw(
        "count_open_workflow_executions", domain=DOMAIN, startTimeFilter={"oldestDate": t0 + 5}
    )
    assert count == {"count": 2, "truncated": False}
    count = await sw(
        "count_closed_workflow_executions",
        domain=DOMAIN,
        startTimeFilter={"oldestDate": t0, "latestDate": t0 + 1},
    )
    assert count["count"] == 1
    with pytest.raises(ClientError) as err:
        await open_ids(tagFilter={"tag": "x"}, typeFilter={"name": "Flow"})
    assert err.value.response["Error"]["Code"] == "ValidationException"


async def test_closed_executions_expire_after_retention(sw: Driver, clock: VirtualClock) -> None:
    run = await sw.start()
    await sw.decide(complete())
    clock.advance(86_400 - 1)
    assert (await sw.describe(run))["executionInfo"]["closeStatus"] == "COMPLETED"
    clock.advance(1)
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw.describe(run)


async def test_count_pending_activity_tasks(sw: Driver) -> None:
    await sw.start()
    await sw.decide(schedule("a1"), schedule("a2"))
    count = await sw("count_pending_activity_tasks", domain=DOMAIN, taskList={"name": "main"})
    assert count["count"] == 2
    await sw.poll_activity()
    count = await sw("count_pending_activity_tasks", domain=DOMAIN, taskList={"name": "main"})
    assert count["count"] == 1


async def test_reported_times_find_their_own_run(sw: Driver, clock: VirtualClock) -> None:
    clock.advance(0.1234567)  # finer than a client's datetime can carry back
    run = await sw.start()
    started = (await sw.describe(run))["executionInfo"]["startTimestamp"]
    window = {"oldestDate": started, "latestDate": started}
    found = await sw("list_open_workflow_executions", domain=DOMAIN, startTimeFilter=window)
    assert [i["execution"]["runId"] for i in found["executionInfos"]] == [run]
