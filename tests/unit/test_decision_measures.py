"""Activity waits on SWF are measured once each, from a replay from the start as from a
cached run's new events."""

from __future__ import annotations

from typing import Any

from aioswf._pollers._decision_metrics import DecisionMeasures


class Recorded:
    """What the measures report, as a worker's metrics would receive it."""

    enabled = True

    def __init__(self) -> None:
        self.waits: list[tuple[str, float]] = []

    def activity_schedule_to_start(self, activity_type: str, seconds: float) -> None:
        self.waits.append((activity_type, seconds))


def scheduled(event_id: int, at: float, name: str) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventType": "ActivityTaskScheduled",
        "eventTimestamp": at,
        "activityTaskScheduledEventAttributes": {"activityType": {"name": name, "version": "1"}},
    }


def started(event_id: int, at: float, scheduled_id: int) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventType": "ActivityTaskStarted",
        "eventTimestamp": at,
        "activityTaskStartedEventAttributes": {"scheduledEventId": scheduled_id},
    }


def other(event_id: int, at: float) -> dict[str, Any]:
    return {"eventId": event_id, "eventType": "DecisionTaskStarted", "eventTimestamp": at}


HISTORY = [
    scheduled(1, 10.0, "old"),
    started(2, 11.0, 1),  # measured when it was new
    other(3, 12.0),
    scheduled(4, 20.0, "waiting"),  # scheduled before the previous task, started after it
    other(5, 21.0),  # the previous task started here
    started(6, 24.5, 4),
    scheduled(7, 30.0, "new"),
    started(8, 30.25, 7),
    scheduled(9, 31.0, "later"),  # starts in a later task
]


def test_a_replay_from_the_start_measures_only_the_starts_after_the_previous_task() -> None:
    recorded = Recorded()
    measures = DecisionMeasures(recorded)  # type: ignore[arg-type]
    measures.events("run", HISTORY, previous_started=5)
    assert recorded.waits == [("waiting/1", 4.5), ("new/1", 0.25)]
    # The start that comes in the next task's events is measured then, once.
    measures.events("run", [started(10, 33.0, 9), other(11, 34.0)], previous_started=9)
    assert recorded.waits[2:] == [("later/1", 2.0)]
    measures.events("run", [*HISTORY, started(10, 33.0, 9)], previous_started=11)
    assert len(recorded.waits) == 3


def test_a_cached_run_s_tasks_measure_each_start_once() -> None:
    recorded = Recorded()
    measures = DecisionMeasures(recorded)  # type: ignore[arg-type]
    measures.events("run", HISTORY[:5], previous_started=0)
    measures.events("run", HISTORY[5:], previous_started=5)
    assert recorded.waits == [("old/1", 1.0), ("waiting/1", 4.5), ("new/1", 0.25)]
    # Another run's start of an activity with the same event id is that run's.
    measures.events("other run", [started(10, 40.0, 9)], previous_started=9)
    assert len(recorded.waits) == 3
