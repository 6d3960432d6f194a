"""Helpers shared by the batch tests."""

import json
import os
import signal
import subprocess
import time


def kill_when_recorded(cmd: list[str], manifest, cells: int, timeout: float = 180) -> set[str]:
    """Start `cmd`, SIGKILL it once `manifest` records `cells` cells; return the files recorded by then."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline and (not manifest.exists() or len(manifest.read_text().splitlines()) < cells):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return {json.loads(line)["file"] for line in manifest.read_text().splitlines() if line.endswith("}")}
