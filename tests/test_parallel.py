"""The process map: its workers end with their parent (a SIGKILLed `wikiart shard` or `validate` leaves no orphans),
and a worker that dies is one line."""

import ast
import os
import signal
import subprocess
import sys
import time

import psutil

CHILD = """
import os, sys, time
from creative_painting.parallel import ordered_map

def slow(i):
    time.sleep(0.2 if i < 2 else 60)
    return os.getpid()

if __name__ == "__main__":
    for pid in ordered_map(slow, range(8), workers=2, in_flight=4):
        print(pid, flush=True)
"""


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_workers_end_when_their_parent_is_killed(tmp_path):
    (tmp_path / "child.py").write_text(CHILD)  # a file: spawned workers import `slow` from it
    parent = subprocess.Popen([sys.executable, str(tmp_path / "child.py")], stdout=subprocess.PIPE, text=True)
    workers = {int(parent.stdout.readline()) for _ in range(2)}  # items 0 and 1, both done: workers idle or busy
    assert all(_alive(pid) for pid in workers)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    try:
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "a worker outlived its SIGKILLed parent"
    finally:  # a failing run leaves no orphan behind
        for pid in filter(_alive, workers):
            psutil.Process(pid).kill()


DYING = """
import os, sys
from creative_painting.errors import UserError
from creative_painting.parallel import ordered_map

def dies_at_3(i):
    if i == 3:
        os._exit(1)  # as the kernel's OOM killer leaves it: no exception, no result
    return i

if __name__ == "__main__":
    done = []
    try:
        for i in ordered_map(dies_at_3, range(8), workers=2):
            done.append(i)
    except UserError as e:
        print(f"{done} | {e}")
"""


def test_a_worker_that_dies_is_one_line_after_the_results_before_it(tmp_path):
    """A killed worker (out of memory) broke the pool: a BrokenProcessPool traceback. Now one line."""
    (tmp_path / "dying.py").write_text(DYING)
    run = subprocess.run([sys.executable, str(tmp_path / "dying.py")], capture_output=True, text=True, timeout=120)
    done, message = run.stdout.strip().split(" | ")
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert message.startswith("a worker process died") and "try fewer" in message
    done = ast.literal_eval(done)
    assert done == list(range(len(done))) and len(done) <= 3  # in order, none after the dead one
