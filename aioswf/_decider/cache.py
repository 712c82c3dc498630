"""The bounded cache of live workflow instances, keyed by run id, least recently used out."""

from __future__ import annotations

import collections
import logging

from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)


class InstanceCache:
    """Live instances that can continue from new events instead of replaying everything.

    Args:
        capacity: how many instances to keep; 0 keeps none (every task replays in full).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"the cache capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self._items: collections.OrderedDict[str, WorkflowInstance] = collections.OrderedDict()
        self.evictions = 0
        """Instances closed to make room for others."""

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._items

    def take(self, run_id: str) -> WorkflowInstance | None:
        """Remove and return the instance of ``run_id``, if cached."""
        return self._items.pop(run_id, None)

    def put(self, instance: WorkflowInstance) -> None:
        """Keep ``instance``, closing the least recently used one beyond capacity."""
        if self.capacity == 0:
            instance.close()
            return
        self._items[instance.run_id] = instance
        self._items.move_to_end(instance.run_id)
        while len(self._items) > self.capacity:
            _, evicted = self._items.popitem(last=False)
            logger.debug("evicting %s from the cache", evicted.describe)
            self.evictions += 1
            evicted.close()

    def clear(self) -> None:
        """Close and forget every instance."""
        while self._items:
            _, instance = self._items.popitem(last=False)
            instance.close()
