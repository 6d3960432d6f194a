"""Installed, bitsandbytes is imported by every `import diffusers`: 2 s and two warnings on stderr. A command
must pay for it only when it trains with 8-bit AdamW (issue 40: quiet and fast starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BITSANDBYTES = Path(sys.prefix) / "opt" / "bitsandbytes"  # installed beside the venv by `make install`
RUN = """
import json, sys
from creative_painting.cli.main import main
codes = [main(argv) for argv in json.loads(sys.argv[1])]
print("RESULT", json.dumps(codes), sys.modules.get("bitsandbytes") is not None)
"""

pytestmark = pytest.mark.skipif(not BITSANDBYTES.is_dir(), reason="bitsandbytes is installed beside the venv by "
                                                                  "`make install` (which CI runs)")


def run_with_bitsandbytes(*commands: list[str]) -> tuple[list[int], bool, str]:
    """Commands in one fresh process with bitsandbytes importable: (exit codes, imported?, stderr)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BITSANDBYTES), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(commands)], env=env, capture_output=True, text=True,
                          timeout=300)
    codes, imported = done.stdout.strip().splitlines()[-1].split(" ", 1)[1].rsplit(" ", 1)
    return json.loads(codes), imported == "True", done.stderr


def test_painting_commands_neither_import_bitsandbytes_nor_print_its_warnings(tiny_dir, tmp_path):
    tiny = str(tiny_dir / "tiny.safetensors")
    codes, imported, err = run_with_bitsandbytes(
        ["models", "inspect", tiny],
        ["paint", "a tree", "--model", tiny, "--steps", "1", "--width", "32", "--height", "32", "--no-progress",
         "--out", str(tmp_path / "p")],
        ["paint", "a tree", "--steps", "0"])
    assert codes == [0, 0, 2] and not imported, err
    assert "bitsandbytes" not in err and "gemm" not in err and len(err.strip().splitlines()) == 1, err  # the refusal
