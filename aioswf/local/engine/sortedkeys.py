"""An ordered set of keys with cheap insert, removal, rank and positional slices.

The visibility indexes need all four: runs are added as they start, moved as they close,
dropped when retention expires, counted inside a time window and listed a page at a time.
A flat sorted list would make every removal a memmove of the whole index; this keeps the keys
in buckets of at most ``2 * LOAD``, so a change touches one bucket, and a rank is a bisect over
the bucket maxima plus one inside a bucket (the prefix counts are rebuilt, per bucket not per
key, only after a change).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right, insort
from typing import Any

Key = tuple[float, int, str]  # (timestamp, start order, run id): unique, time-ordered
LOAD = 500


class SortedKeys:
    """Keys in ascending order; duplicates are not expected (keys end with a run id)."""

    def __init__(self) -> None:
        self._buckets: list[list[Key]] = []
        self._maxes: list[Key] = []
        self._len = 0
        self._offsets: list[int] | None = None  # keys before each bucket, then the total

    def __len__(self) -> int:
        return self._len

    def add(self, key: Key) -> None:
        """Insert ``key`` in order."""
        buckets, maxes = self._buckets, self._maxes
        if not buckets:
            buckets.append([key])
            maxes.append(key)
        else:
            index = min(bisect_left(maxes, key), len(buckets) - 1)
            bucket = buckets[index]
            insort(bucket, key)
            maxes[index] = bucket[-1]
            if len(bucket) > 2 * LOAD:
                buckets[index : index + 1] = [bucket[:LOAD], bucket[LOAD:]]
                maxes[index : index + 1] = [buckets[index][-1], buckets[index + 1][-1]]
        self._len += 1
        self._offsets = None

    def discard(self, key: Key) -> None:
        """Remove ``key`` if present."""
        index = bisect_left(self._maxes, key)
        if index == len(self._buckets):
            return
        bucket = self._buckets[index]
        position = bisect_left(bucket, key)
        if position == len(bucket) or bucket[position] != key:
            return
        del bucket[position]
        self._len -= 1
        self._offsets = None
        if bucket:
            self._maxes[index] = bucket[-1]
        else:
            del self._buckets[index]
            del self._maxes[index]

    def rank(self, probe: tuple[Any, ...], *, right: bool = False) -> int:
        """How many keys sort before ``probe`` (with ``right``: before or equal to it).

        A probe may be a prefix, e.g. ``(timestamp,)`` sorts before every key of that time.
        """
        find = bisect_right if right else bisect_left
        index = find(self._maxes, probe)
        if index == len(self._buckets):
            return self._len
        return self._prefix()[index] + find(self._buckets[index], probe)

    def slice(self, start: int, stop: int) -> list[Key]:
        """The keys at positions ``start`` to ``stop`` (exclusive), in ascending order."""
        start, stop = max(start, 0), min(stop, self._len)
        if start >= stop:
            return []
        offsets = self._prefix()
        index = bisect_right(offsets, start) - 1
        found: list[Key] = []
        position = start - offsets[index]
        while len(found) < stop - start:
            bucket = self._buckets[index]
            found.extend(bucket[position : position + stop - start - len(found)])
            index, position = index + 1, 0
        return found

    def _prefix(self) -> list[int]:
        if self._offsets is None:
            self._offsets = list(itertools.accumulate(map(len, self._buckets), initial=0))
        return self._offsets
