"""Per-domain indexes of executions for ListOpen/Closed and CountOpen/Closed.

Every filter the visibility operations accept names one *facet* of a run: all runs, its
workflowId, its type name, its type name and version, one of its tags, or its close status.
AWS makes these filters mutually exclusive, so one facet index answers any request exactly.
Each facet keeps its runs ordered by start time (open runs), or by start time and by close
time (closed runs), so a time window is two bisects, a count is their difference and a page
is a slice: nothing is proportional to the number of executions in the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aioswf.local.engine.sortedkeys import Key, SortedKeys
from aioswf.local.engine.state import Execution

Facet = tuple[str, ...]
ALL: Facet = ("all",)
FacetIndex = dict[Facet, SortedKeys]


@dataclass
class DomainRuns:
    """The runs of one domain, by facet and order."""

    open: FacetIndex = field(default_factory=dict)
    closed_by_start: FacetIndex = field(default_factory=dict)
    closed_by_close: FacetIndex = field(default_factory=dict)


def facets(ex: Execution, *, with_status: bool) -> list[Facet]:
    """The facets a run is listed under."""
    name, version = ex.workflow_type["name"], ex.workflow_type["version"]
    found: list[Facet] = [ALL, ("id", ex.workflow_id), ("type", name), ("type", name, version)]
    found += [("tag", tag) for tag in dict.fromkeys(ex.tags)]
    if with_status and ex.close_status is not None:
        found.append(("status", ex.close_status))
    return found


def start_key(ex: Execution) -> Key:
    """The key ordering a run by start time."""
    return (ex.start_ts, ex.number, ex.run_id)


def close_key(ex: Execution) -> Key:
    """The key ordering a closed run by close time."""
    return (ex.close_ts or 0.0, ex.number, ex.run_id)


class RunIndex:
    """The visibility indexes of every domain."""

    def __init__(self) -> None:
        self.domains: dict[str, DomainRuns] = {}

    def opened(self, ex: Execution) -> None:
        """A run started."""
        runs = self.domains.setdefault(ex.domain, DomainRuns())
        for facet in facets(ex, with_status=False):
            _add(runs.open, facet, start_key(ex))

    def closed(self, ex: Execution) -> None:
        """A run closed: it moves from the open indexes to the closed ones."""
        runs = self.domains.setdefault(ex.domain, DomainRuns())
        for facet in facets(ex, with_status=False):
            _discard(runs.open, facet, start_key(ex))
        self.add_closed(ex)

    def add_closed(self, ex: Execution) -> None:
        """Index a closed run (when it closes, or when the store loads it)."""
        runs = self.domains.setdefault(ex.domain, DomainRuns())
        for facet in facets(ex, with_status=True):
            _add(runs.closed_by_start, facet, start_key(ex))
            _add(runs.closed_by_close, facet, close_key(ex))

    def deleted(self, ex: Execution) -> None:
        """A closed run's retention period is over."""
        runs = self.domains.get(ex.domain)
        if runs is None:
            return
        for facet in facets(ex, with_status=True):
            _discard(runs.closed_by_start, facet, start_key(ex))
            _discard(runs.closed_by_close, facet, close_key(ex))

    def lookup(self, domain: str, facet: Facet, *, closed: bool, by_close: bool) -> SortedKeys:
        """The ordered runs of ``domain`` under ``facet`` (empty when there are none)."""
        runs = self.domains.get(domain)
        if runs is None:
            return _EMPTY
        if not closed:
            index = runs.open
        else:
            index = runs.closed_by_close if by_close else runs.closed_by_start
        return index.get(facet, _EMPTY)


_EMPTY = SortedKeys()


def _add(index: FacetIndex, facet: Facet, key: Key) -> None:
    index.setdefault(facet, SortedKeys()).add(key)


def _discard(index: FacetIndex, facet: Facet, key: Key) -> None:
    keys = index.get(facet)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[facet]  # a facet per workflowId: drop empty ones or they pile up
