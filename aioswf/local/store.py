"""Optional SQLite persistence: a restart resumes exactly where the service stopped.

Layout: one row per execution (its state without the history, as JSON), one row per history
event (append-only, so saving costs what changed, not the history's length), and one row for
domains and types.  Queues, tokens and the deadline heap are not stored: they are rebuilt
from the executions on load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
from pathlib import Path

from aioswf.local.engine import Engine
from aioswf.local.engine.core import ACTIVITY, DECISION, TaskKey, TokenRef
from aioswf.local.engine.state import Domain, Execution, RegisteredType

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (run_id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL, event_id INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (run_id, event_id));
"""


class DatabaseInUseError(sqlite3.OperationalError):
    """Another process serves from the same database file."""


class Store:
    """Saves the engine's changes to an SQLite file after every operation.

    The file is held for the store's life (an exclusive lock on ``<file>.lock``): two services
    writing one file would each overwrite what the other saved.

    Args:
        path: The database file; created if missing.

    Raises:
        DatabaseInUseError: another process holds the file.
    """

    def __init__(self, path: Path) -> None:
        self._hold = _hold(path)
        try:
            self._db = sqlite3.connect(path)
        except BaseException:
            if self._hold is not None:
                os.close(self._hold)
            raise
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._saved_events: dict[str, int] = {}

    def close(self) -> None:
        """Close the database and let go of the file."""
        self._db.close()
        if self._hold is not None:
            os.close(self._hold)  # closing the descriptor ends the lock
            self._hold = None

    def flush(self, engine: Engine) -> bool:
        """Write what changed since the last flush, in one transaction; whether there was
        anything to write.

        Raises:
            sqlite3.Error: the write failed (a full disk, a read-only file, an I/O error);
                nothing of it was saved, and the engine still holds the unsaved change:
                :meth:`reload` puts it back to what is saved.
        """
        if not (engine.dirty_runs or engine.deleted_runs or engine.meta_dirty):
            return False
        saved: dict[str, int] = {}
        try:
            with self._db:
                if engine.meta_dirty:
                    registry = json.dumps(_registry(engine))
                    self._db.execute("REPLACE INTO meta VALUES ('registry', ?)", (registry,))
                for run_id in engine.dirty_runs:
                    saved[run_id] = self._save_run(engine.executions[run_id])
                for run_id in engine.deleted_runs:
                    self._db.execute("DELETE FROM executions WHERE run_id = ?", (run_id,))
                    self._db.execute("DELETE FROM events WHERE run_id = ?", (run_id,))
        except BaseException:
            # A failed COMMIT can leave the transaction open: the next flush must not
            # carry what this one failed to save.
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            raise
        # Committed: only now does it count as saved.
        self._saved_events.update(saved)
        for run_id in engine.deleted_runs:
            self._saved_events.pop(run_id, None)
        engine.dirty_runs.clear()
        engine.deleted_runs.clear()
        engine.meta_dirty = False
        return True

    def _save_run(self, ex: Execution) -> int:
        """Write one execution and its new events; how many events are saved then."""
        saved = self._saved_events.get(ex.run_id, 0)
        self._db.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            [(ex.run_id, e["eventId"], json.dumps(e)) for e in ex.history[saved:]],
        )
        self._db.execute(
            "REPLACE INTO executions VALUES (?, ?)", (ex.run_id, json.dumps(ex.to_record()))
        )
        return len(ex.history)

    def reload(self, engine: Engine) -> None:
        """Put the engine back to the saved state, dropping every change not saved.

        Raises:
            sqlite3.Error: the file cannot be read either; the engine is then incomplete.
        """
        engine.clear()
        self._saved_events.clear()
        self.load(engine)
        logger.debug("reloaded %d executions from the store", len(engine.executions))

    def load(self, engine: Engine) -> None:
        """Fill an empty engine with the saved state and rebuild its indexes."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'registry'").fetchone()
        if row is not None:
            _load_registry(engine, json.loads(row[0]))
        histories: dict[str, list[dict[str, object]]] = {}
        for run_id, body in self._db.execute(
            "SELECT run_id, body FROM events ORDER BY run_id, event_id"
        ):
            histories.setdefault(run_id, []).append(json.loads(body))
        for run_id, record in self._db.execute("SELECT run_id, record FROM executions"):
            history = histories.get(run_id, [])
            engine.executions[run_id] = Execution.from_record(json.loads(record), history)
            self._saved_events[run_id] = len(history)
        _rebuild(engine)


def _hold(path: Path) -> int | None:
    """Lock ``<path>.lock`` for this process; the descriptor that holds it (``None`` where
    the platform has no ``flock``).

    Raises:
        DatabaseInUseError: another process holds it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    try:
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise sqlite3.OperationalError(f"unable to open {path}.lock: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise DatabaseInUseError(
            f"another process (another aioswf dev?) is using {path}; stop it, or give another file"
        ) from None
    return fd


def _registry(engine: Engine) -> dict[str, list[dict[str, object]]]:
    return {
        "domains": [dataclasses.asdict(d) for d in engine.domains.values()],
        "types": [dataclasses.asdict(t) for t in engine.types.values()],
    }


def _load_registry(engine: Engine, data: dict[str, list[dict[str, object]]]) -> None:
    for raw in data["domains"]:
        domain = Domain(**raw)  # type: ignore[arg-type]
        engine.domains[domain.name] = domain
    for raw in data["types"]:
        found = RegisteredType(**raw)  # type: ignore[arg-type]
        engine.types[(found.kind, found.domain, found.name, found.version)] = found
        key = (found.kind, found.domain)
        engine.type_counts[key] = engine.type_counts.get(key, 0) + 1


def _rebuild(engine: Engine) -> None:
    """Indexes, queues, tokens and deadlines, from the executions alone."""
    queued: list[tuple[float, str, str, str, TaskKey, int]] = []
    for ex in engine.executions.values():
        if ex.expire_at is not None:
            engine.add_deadline(ex.expire_at, "retention", ex.run_id)
        engine.started_total = max(engine.started_total, ex.number + 1)
        if not ex.is_open:
            engine.closed_runs.setdefault(ex.domain, {})[ex.run_id] = None
            engine.runs.add_closed(ex)
            continue
        engine.open_by_id[(ex.domain, ex.workflow_id)] = ex.run_id
        engine.open_runs.setdefault(ex.domain, {})[ex.run_id] = None
        engine.runs.opened(ex)
        for due, kind, key in _deadlines(ex):
            engine.add_deadline(due, kind, ex.run_id, key)
        if ex.dt_started:
            engine.tokens[ex.dt_token] = _token(DECISION, ex.run_id, ex.dt_started)
        elif ex.dt_scheduled:
            stamp = ex.history[ex.dt_scheduled - 1]["eventTimestamp"]
            queued.append(
                (
                    stamp,
                    DECISION,
                    ex.domain,
                    ex.dt_queue,
                    (ex.run_id, ex.dt_scheduled),
                    int(ex.priority or 0),
                )
            )
        for act in ex.activities.values():
            if act.started_id:
                engine.tokens[act.token] = _token(ACTIVITY, ex.run_id, act.scheduled_id)
            else:
                stamp = ex.history[act.scheduled_id - 1]["eventTimestamp"]
                queued.append(
                    (
                        stamp,
                        ACTIVITY,
                        ex.domain,
                        act.task_list,
                        (ex.run_id, act.scheduled_id),
                        act.priority,
                    )
                )
    for _, kind, domain, task_list, task, priority in sorted(queued, key=lambda q: q[0]):
        engine.enqueue(kind, domain, task_list, task, priority)


def _deadlines(ex: Execution) -> list[tuple[float, str, str | int]]:
    found: list[tuple[float | None, str, str | int]] = [
        (ex.timeout_at, "workflow", ""),
        (ex.dt_schedule_deadline, "decision-start", ex.dt_scheduled),
        (ex.dt_deadline, "decision", ex.dt_started),
    ]
    found += [(t.fire_at, "timer", t.timer_id) for t in ex.timers.values()]
    found += [(f.deadline, "lambda", f.scheduled_id) for f in ex.lambdas.values()]
    for act in ex.activities.values():
        for due in (
            act.schedule_to_start_at,
            act.schedule_to_close_at,
            act.start_to_close_at,
            act.heartbeat_at,
        ):
            found.append((due, "activity", act.scheduled_id))
    return [(due, kind, key) for due, kind, key in found if due is not None]


def _token(kind: str, run_id: str, event_id: int) -> TokenRef:
    return TokenRef(kind, run_id, event_id)
