"""A refusal of bad input arrives in under 2 s, a new process included: checks run before the heavy imports
(torch, diffusers, transformers, scikit-learn) and before any model or index loads."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

CLI = [sys.executable, "-m", "creative_painting.cli.main"]


@pytest.mark.parametrize("argv", [
    ["extend", "x", "--top", "0"], ["paint", "x", "--steps", "0"], ["studio", "--port", "0"],
    ["batch", "--out", "b", "--prompt", "x", "--seeds", "0"], ["train", "no-such-config.yaml"],
], ids=lambda a: "-".join(a[:2] + a[-2:-1]))
def test_bad_input_is_refused_in_under_two_seconds(tmp_path, argv):
    started = time.perf_counter()
    result = subprocess.run([*CLI, *argv], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    elapsed = time.perf_counter() - started
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert elapsed < 2.0, f"{' '.join(argv)}: refused after {elapsed:.2f} s"
