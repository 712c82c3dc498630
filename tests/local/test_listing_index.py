"""Listing and counting executions from per-domain indexes: same answers as a full scan,
without touching runs outside the page (a scan of the domain would fail these tests)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from aioswf.local import VirtualClock
from aioswf.local.engine import Engine
from aioswf.local.engine.sortedkeys import Key, SortedKeys
from aioswf.local.engine.state import Execution
from aioswf.local.store import Store

Json = dict[str, Any]
TYPES = [
    {"name": "Flow", "version": "1"},
    {"name": "Flow", "version": "2"},
    {"name": "Other", "version": "1"},
]
TAGS = ["red", "blue", "green"]
CLOSES = ["CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution"]


def test_sorted_keys_match_a_sorted_list() -> None:
    rng = random.Random(7)
    keys, reference = SortedKeys(), list[Key]()
    for step in range(6000):
        if reference and rng.random() < 0.3:
            key = reference.pop(rng.randrange(len(reference)))
            keys.discard(key)
        else:
            key = (float(rng.randrange(500)), step, f"r{step}")
            keys.add(key)
            reference.append(key)
        keys.discard((-1.0, 0, "absent"))
    reference.sort()
    assert len(keys) == len(reference)
    assert keys.slice(0, len(keys)) == reference
    assert keys.slice(123, 1777) == reference[123:1777]
    for stamp in (0.0, 17.0, 250.0, 499.0, 600.0):
        assert keys.rank((stamp,)) == sum(1 for k in reference if k[0] < stamp)
        assert keys.rank((stamp, float("inf"))) == sum(1 for k in reference if k[0] <= stamp)
    middle = reference[len(reference) // 2]
    assert keys.rank(middle) == len(reference) // 2
    assert keys.rank(middle, right=True) == len(reference) // 2 + 1


def engine_with_history(seed: int, runs: int) -> tuple[Engine, VirtualClock]:
    """Runs of several ids, types and tags, closed in every way, some past retention."""
    clock = VirtualClock(start=1_700_000_000.0)
    eng = Engine(clock)
    rng = random.Random(seed)
    eng.handle("RegisterDomain", {"name": "d", "workflowExecutionRetentionPeriodInDays": "1"})
    eng.handle("RegisterDomain", {"name": "other", "workflowExecutionRetentionPeriodInDays": "1"})
    for domain in ("d", "other"):
        for wtype in TYPES:
            eng.handle(
                "RegisterWorkflowType",
                {
                    "domain": domain,
                    **wtype,
                    "defaultExecutionStartToCloseTimeout": "NONE",
                    "defaultTaskStartToCloseTimeout": "NONE",
                    "defaultChildPolicy": "TERMINATE",
                },
            )
    for index in range(runs):
        clock.advance(rng.choice([0, 0, 1, 7, 600]))  # ties on purpose
        domain = "d" if index % 5 else "other"
        workflow_id = f"w{rng.randrange(40)}"
        if (domain, workflow_id) in eng.open_by_id:
            continue
        task_list = {"name": f"tl-{index}"}
        eng.handle(
            "StartWorkflowExecution",
            {
                "domain": domain,
                "workflowId": workflow_id,
                "workflowType": rng.choice(TYPES),
                "taskList": task_list,
                "tagList": rng.sample(TAGS, rng.randrange(3)),
            },
        )
        if rng.random() < 0.3:
            continue  # stays open
        clock.advance(rng.choice([0, 3]))
        if rng.random() < 0.2:
            eng.handle("TerminateWorkflowExecution", {"domain": domain, "workflowId": workflow_id})
            continue
        task = eng.handle("PollForDecisionTask", {"domain": domain, "taskList": task_list})
        kind = rng.choice(CLOSES)
        attrs_key = kind[0].lower() + kind[1:] + "DecisionAttributes"
        eng.handle(
            "RespondDecisionTaskCompleted",
            {"taskToken": task["taskToken"], "decisions": [{"decisionType": kind, attrs_key: {}}]},
        )
    return eng, clock


def matches(ex: Execution, req: Json) -> bool:
    """The filters as AWS documents them, applied to one run (the reference)."""

    def within(stamp: float | None, window: Json | None) -> bool:
        if window is None:
            return True
        latest = window.get("latestDate")
        return (
            stamp is not None
            and window["oldestDate"] <= stamp
            and (latest is None or stamp <= latest)
        )

    by_type = req.get("typeFilter")
    return (
        within(ex.start_ts, req.get("startTimeFilter"))
        and within(ex.close_ts, req.get("closeTimeFilter"))
        and ex.workflow_id == req.get("executionFilter", {}).get("workflowId", ex.workflow_id)
        and (by_type is None or ex.workflow_type["name"] == by_type["name"])
        and (by_type is None or by_type.get("version") in (None, ex.workflow_type["version"]))
        and (req.get("tagFilter") is None or req["tagFilter"]["tag"] in ex.tags)
        and ex.close_status == req.get("closeStatusFilter", {}).get("status", ex.close_status)
    )


def expected(eng: Engine, req: Json, closed: bool) -> list[str]:
    found = [
        ex
        for ex in eng.executions.values()
        if ex.domain == req["domain"] and ex.is_open != closed and matches(ex, req)
    ]
    by_close = req.get("closeTimeFilter") is not None
    found.sort(key=lambda e: ((e.close_ts if by_close else e.start_ts), e.number))
    ids = [ex.run_id for ex in found]
    return ids if req.get("reverseOrder") else ids[::-1]


def listed(eng: Engine, req: Json, closed: bool, page: int) -> list[str]:
    operation = "ListClosedWorkflowExecutions" if closed else "ListOpenWorkflowExecutions"
    runs: list[str] = []
    token = None
    while True:
        result = eng.handle(operation, {**req, "maximumPageSize": page, "nextPageToken": token})
        assert len(result["executionInfos"]) <= page
        runs += [info["execution"]["runId"] for info in result["executionInfos"]]
        token = result.get("nextPageToken")
        if token is None:
            return runs


def requests(eng: Engine, clock: VirtualClock) -> list[tuple[Json, bool]]:
    start = 1_700_000_000.0
    now = clock.now()
    windows = [
        {"oldestDate": 0},
        {"oldestDate": start + (now - start) / 3, "latestDate": start + 2 * (now - start) / 3},
        {"oldestDate": now - 700},
    ]
    filters: list[Json] = [{}, {"executionFilter": {"workflowId": "w3"}}]
    filters += [{"typeFilter": {"name": "Flow"}}, {"typeFilter": TYPES[1]}]
    filters += [{"tagFilter": {"tag": tag}} for tag in TAGS]
    statuses = ["COMPLETED", "FAILED", "CANCELED", "TERMINATED"]
    found: list[tuple[Json, bool]] = []
    for window in windows:
        for extra in filters:
            for reverse in (False, True):
                base = {"domain": "d", **extra, "reverseOrder": reverse}
                found.append(({**base, "startTimeFilter": window}, False))
                found.append(({**base, "startTimeFilter": window}, True))
                found.append(({**base, "closeTimeFilter": window}, True))
        for status in statuses:
            found.append(
                (
                    {
                        "domain": "d",
                        "closeTimeFilter": window,
                        "closeStatusFilter": {"status": status},
                    },
                    True,
                )
            )
    return found


def check_all(eng: Engine, clock: VirtualClock) -> None:
    for req, closed in requests(eng, clock):
        want = expected(eng, req, closed)
        assert listed(eng, req, closed, page=7) == want, req
        count_op = "CountClosedWorkflowExecutions" if closed else "CountOpenWorkflowExecutions"
        count_req = {k: v for k, v in req.items() if k != "reverseOrder"}
        assert eng.handle(count_op, count_req) == {"count": len(want), "truncated": False}


def test_lists_and_counts_agree_with_a_full_scan() -> None:
    eng, clock = engine_with_history(seed=1, runs=400)
    assert any(not ex.is_open for ex in eng.executions.values())
    check_all(eng, clock)
    before = len(eng.executions)
    clock.advance(86_400 - 2_000)  # retention removes the oldest closed runs
    eng.fire_due()
    assert 0 < len(eng.executions) < before
    check_all(eng, clock)


def test_indexes_are_rebuilt_from_the_store(tmp_path: Path) -> None:
    eng, clock = engine_with_history(seed=2, runs=200)
    store = Store(tmp_path / "swf.db")
    store.flush(eng)
    store.close()
    loaded = Engine(clock)
    store = Store(tmp_path / "swf.db")
    store.load(loaded)
    store.close()
    for req, closed in requests(eng, clock):
        assert listed(loaded, req, closed, page=1000) == listed(eng, req, closed, page=1000)
    # Runs started after the reload sort after the loaded ones, even at the same time.
    loaded.handle(
        "StartWorkflowExecution",
        {"domain": "d", "workflowId": "late", "workflowType": TYPES[0], "taskList": {"name": "x"}},
    )
    newest = loaded.handle(
        "ListOpenWorkflowExecutions",
        {"domain": "d", "startTimeFilter": {"oldestDate": 0}, "maximumPageSize": 1},
    )
    assert newest["executionInfos"][0]["execution"]["workflowId"] == "late"


class CountingRuns(dict[str, Execution]):
    """The engine's run table, counting look-ups."""

    reads = 0

    def __getitem__(self, run_id: str) -> Execution:
        self.reads += 1
        return super().__getitem__(run_id)

    def get(self, run_id: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(run_id, default)


@pytest.mark.parametrize(
    "req",
    [
        {"closeTimeFilter": {"oldestDate": 0}, "executionFilter": {"workflowId": "w3"}},
        {"closeTimeFilter": {"oldestDate": 0}, "maximumPageSize": 10},
        {"startTimeFilter": {"oldestDate": 0}, "maximumPageSize": 10, "reverseOrder": True},
        {
            "startTimeFilter": {"oldestDate": 0},
            "typeFilter": {"name": "Flow"},
            "maximumPageSize": 10,
        },
    ],
)
def test_a_page_reads_only_its_own_runs(req: Json) -> None:
    eng, _ = engine_with_history(seed=3, runs=600)
    runs = CountingRuns(eng.executions)
    eng.executions = runs
    # Any call peeks at the next deadline's run: that much is not the listing's doing.
    eng.handle("DescribeDomain", {"name": "d"})
    baseline, runs.reads = runs.reads, 0
    result = eng.handle("ListClosedWorkflowExecutions", {"domain": "d", **req})
    assert result["executionInfos"]
    assert runs.reads - baseline == len(result["executionInfos"])
    runs.reads = 0
    count_req = {k: v for k, v in req.items() if k not in ("maximumPageSize", "reverseOrder")}
    assert eng.handle("CountClosedWorkflowExecutions", {"domain": "d", **count_req})["count"] > 0
    assert runs.reads == baseline


def test_page_tokens_survive_runs_closing_between_pages() -> None:
    eng, _ = engine_with_history(seed=4, runs=100)
    req = {"domain": "d", "startTimeFilter": {"oldestDate": 0}, "maximumPageSize": 3}
    first = eng.handle("ListOpenWorkflowExecutions", req)
    shown = [i["execution"] for i in first["executionInfos"]]
    for execution in shown:  # the runs on the first page close
        eng.handle("TerminateWorkflowExecution", {"domain": "d", **execution})
    second = eng.handle(
        "ListOpenWorkflowExecutions", {**req, "nextPageToken": first["nextPageToken"]}
    )
    everything = listed(eng, {k: v for k, v in req.items() if k != "maximumPageSize"}, False, 1000)
    assert [i["execution"]["runId"] for i in second["executionInfos"]] == everything[:3]
