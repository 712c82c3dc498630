"""Decision-task CPU time of the workflow runtime, by history length, cache on and off.

Builds histories of about 100, 1,000 and 10,000 events of a workflow that runs activities one
after another, then measures, in process CPU time:

* cache on: a live instance deciding the last task from its new events only;
* cache off: a fresh instance replaying the whole history to decide the same task;

and replay throughput (events per second of a full replay). No network is involved.

Run it with::

    python benchmarks/bench_decider.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aioswf import activity, workflow
from aioswf._decider import WorkflowInstance
from aioswf.converter import DataConverter
from tests.workflow.histories import Simulation

EVENTS_PER_STEP = 6  # decision scheduled/started/completed, activity scheduled/started/completed


@activity.defn
async def step(n: int) -> int:
    return n + 1


@workflow.defn(name="Bench")
class Bench:
    @workflow.run
    async def run(self, steps: int) -> int:
        total = 0
        for _n in range(steps):
            total = await workflow.execute_activity(step, total)
        return total


def build(events: int) -> tuple[Simulation, int]:
    """A history of about ``events`` events, ending with a decision task still to decide."""
    steps = max(1, events // EVENTS_PER_STEP)
    sim = Simulation(Bench, steps + 10)
    for n in range(steps):
        sim.decide()
        sim.history.activity_completed(f"{n + 1}", n + 1)
    started = sim.history.start_decision_task()
    return sim, started


def fresh(sim: Simulation) -> WorkflowInstance:
    return WorkflowInstance(
        sim.definition,
        domain="bench",
        workflow_id="b",
        run_id=sim.run_id,
        converter=DataConverter(),
    )


def cpu(fn: object, repeat: int) -> float:
    """The median CPU seconds of ``fn()``."""
    samples = []
    for _ in range(repeat):
        begin = time.process_time()
        fn()  # type: ignore[operator]
        samples.append(time.process_time() - begin)
    return statistics.median(samples)


def measure(events: int, repeat: int) -> tuple[int, float, float]:
    sim, started = build(events)
    history = sim.history.events
    previous = sim.instance
    assert previous is not None
    last = previous.last_started_id
    new_events = [e for e in history if e["eventId"] > last]

    def cached() -> None:
        # The cached instance must be fresh for each sample: rebuild it outside the timing.
        instance = states.pop()
        activation = instance.run_to_completion(new_events, started)
        assert activation.failure is None
        assert activation.decisions
        instance.close()

    def replay() -> None:
        instance = fresh(sim)
        activation = instance.run_to_completion(history, started)
        assert activation.failure is None
        assert activation.decisions
        instance.close()

    states: list[WorkflowInstance] = []
    for _ in range(repeat):
        instance = fresh(sim)
        instance.run_to_completion([e for e in history if e["eventId"] <= last], last)
        states.append(instance)
    sim.close()
    return len(history), cpu(cached, repeat), cpu(replay, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="samples per measurement")
    args = parser.parse_args()
    print(f"{'events':>8} {'cache on (ms)':>14} {'cache off (ms)':>15} {'replay events/s':>16}")
    for target in (100, 1_000, 10_000):
        count, cached, replay = measure(target, args.repeat)
        rate = count / replay if replay else float("inf")
        print(f"{count:>8} {cached * 1000:>14.3f} {replay * 1000:>15.2f} {rate:>16,.0f}")


if __name__ == "__main__":
    main()
