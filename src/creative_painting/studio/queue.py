"""A durable job queue in one SQLite file (WAL): a job is on disk before anyone is told its id.

States: pending -> running -> done | failed | cancelled. After a crash, `recover()` turns the job
that was running back into pending: it runs again from the start under the same id, so it is
listed once and its output folder is replaced, never duplicated.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATES = ("pending", "running", "done", "failed", "cancelled")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request TEXT NOT NULL,
    label TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    done_steps INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER NOT NULL DEFAULT 0,
    cancel INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
"""


@dataclass(frozen=True)
class Job:
    id: int
    request: dict[str, Any]
    label: str
    state: str
    created: float
    started: float | None
    finished: float | None
    attempts: int
    done_steps: int
    total_steps: int
    cancel: bool
    error: str | None

    @property
    def seconds_left(self) -> float | None:
        """From the pace so far; None before the first step."""
        if self.state != "running" or not self.started or not self.done_steps:
            return None
        pace = (time.time() - self.started) / self.done_steps
        return pace * (self.total_steps - self.done_steps)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "state": self.state, "created": self.created,
                "started": self.started, "finished": self.finished, "attempts": self.attempts,
                "step": self.done_steps, "steps": self.total_steps, "seconds_left": self.seconds_left,
                "error": self.error, "request": self.request}


class JobQueue:
    """Thread-safe; every write is committed (synchronous=FULL) before the call returns."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        self.changed = threading.Event()  # set on submit, so a waiting worker wakes at once
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def submit(self, request: dict[str, Any], label: str) -> int:
        with self._transaction() as db:
            cursor = db.execute("INSERT INTO jobs (request, label, created) VALUES (?, ?, ?)",
                                (json.dumps(request, sort_keys=True), label, time.time()))
        self.changed.set()
        return int(cursor.lastrowid)

    def recover(self) -> list[int]:
        """Jobs a killed server left running go back to the queue, ahead of newer ones (they keep their id)."""
        with self._transaction() as db:
            ids = [row[0] for row in db.execute("SELECT id FROM jobs WHERE state = 'running'")]
            db.execute("UPDATE jobs SET state = 'pending', started = NULL, done_steps = 0 WHERE state = 'running'")
            db.execute("UPDATE jobs SET state = 'cancelled', finished = ? WHERE state = 'pending' AND cancel = 1",
                       (time.time(),))
        return ids

    def claim_next(self) -> Job | None:
        """The oldest pending job, now running; None when there is none."""
        with self._transaction() as db:
            row = db.execute("SELECT id FROM jobs WHERE state = 'pending' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET state = 'running', started = ?, attempts = attempts + 1, done_steps = 0 "
                       "WHERE id = ?", (time.time(), row[0]))
        return self.get(row[0])

    def progress(self, job_id: int, done: int, total: int) -> bool:
        """Record progress; returns True when the job has been asked to stop."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET done_steps = ?, total_steps = ? WHERE id = ?", (done, total, job_id))
            row = db.execute("SELECT cancel FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def finish(self, job_id: int, state: str, error: str | None = None) -> None:
        if state not in ("done", "failed", "cancelled"):
            raise ValueError(f"not a final state: {state}")
        with self._transaction() as db:
            db.execute("UPDATE jobs SET state = ?, error = ?, finished = ? WHERE id = ? AND state = 'running'",
                       (state, error, time.time(), job_id))

    def cancel(self, job_id: int) -> str | None:
        """A pending job is cancelled at once; a running one is asked to stop. Returns the new state."""
        with self._transaction() as db:
            row = db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row[0] == "pending":
                db.execute("UPDATE jobs SET state = 'cancelled', cancel = 1, finished = ? WHERE id = ?",
                           (time.time(), job_id))
                return "cancelled"
            if row[0] == "running":
                db.execute("UPDATE jobs SET cancel = 1 WHERE id = ?", (job_id,))
            return row[0]

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def jobs(self, limit: int = 200) -> list[Job]:
        """Newest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_job(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {state: 0 for state in STATES} | dict(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _job(row: tuple) -> Job:
    (id_, request, label, state, created, started, finished, attempts, done, total, cancel, error) = row
    return Job(id_, json.loads(request), label, state, created, started, finished, attempts, done, total,
               bool(cancel), error)
