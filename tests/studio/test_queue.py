"""The durable queue: acknowledged means on disk; a crash re-runs the running job once, under its id."""

import sqlite3

import pytest

from creative_painting.studio.queue import JobQueue


def test_a_submitted_job_is_on_disk_before_its_id_is_returned(tmp_path):
    queue = JobQueue(tmp_path / "jobs.sqlite")
    job_id = queue.submit({"prompts": ["a tree"]}, "a tree")
    # Another connection, as a restarted server would open: the job is there.
    rows = sqlite3.connect(tmp_path / "jobs.sqlite").execute("SELECT id, state, request FROM jobs").fetchall()
    assert rows == [(job_id, "pending", '{"prompts": ["a tree"]}')]
    assert sqlite3.connect(tmp_path / "jobs.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_jobs_run_in_order_and_a_crashed_running_job_runs_again_under_its_id(tmp_path):
    queue = JobQueue(tmp_path / "jobs.sqlite")
    ids = [queue.submit({"n": n}, f"job {n}") for n in range(3)]
    first = queue.claim_next()
    assert first.id == ids[0] and first.state == "running" and first.attempts == 1
    queue.finish(first.id, "done")
    second = queue.claim_next()
    queue.progress(second.id, 5, 10)
    # The server dies here (no finish). A new queue on the same file recovers it.
    restarted = JobQueue(tmp_path / "jobs.sqlite")
    assert restarted.recover() == [second.id]
    again = restarted.claim_next()
    assert (again.id, again.attempts, again.done_steps) == (second.id, 2, 0)
    restarted.finish(again.id, "done")
    third = restarted.claim_next()
    assert third.id == ids[2]
    restarted.finish(third.id, "done")
    assert restarted.claim_next() is None
    assert [j.id for j in restarted.jobs()] == ids[::-1]
    assert restarted.counts() == {"pending": 0, "running": 0, "done": 3, "failed": 0, "cancelled": 0}


def test_cancel_stops_pending_jobs_at_once_and_asks_running_ones(tmp_path):
    queue = JobQueue(tmp_path / "jobs.sqlite")
    running, pending = queue.submit({}, "a"), queue.submit({}, "b")
    queue.claim_next()
    assert queue.cancel(pending) == "cancelled"
    assert queue.cancel(running) == "running"
    assert queue.progress(running, 1, 10) is True  # the worker learns it must stop
    queue.finish(running, "cancelled")
    assert queue.get(running).state == "cancelled" and queue.get(pending).state == "cancelled"
    assert queue.claim_next() is None
    assert queue.cancel(999) is None


def test_finish_takes_final_states_only(tmp_path):
    queue = JobQueue(tmp_path / "jobs.sqlite")
    with pytest.raises(ValueError):
        queue.finish(queue.submit({}, "x"), "running")


def test_seconds_left_follows_the_pace(tmp_path, monkeypatch):
    import creative_painting.studio.queue as q

    queue = JobQueue(tmp_path / "jobs.sqlite")
    queue.submit({}, "x")
    monkeypatch.setattr(q.time, "time", lambda: 1000.0)
    job = queue.claim_next()
    queue.progress(job.id, 10, 40)
    monkeypatch.setattr(q.time, "time", lambda: 1020.0)  # 10 steps in 20 s: 30 left take 60 s
    assert queue.get(job.id).seconds_left == pytest.approx(60.0)
