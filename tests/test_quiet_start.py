"""Installed, bitsandbytes is imported by every `import diffusers`: 2 s and two warnings on stderr. A command
must pay for it only when it trains with 8-bit AdamW (issue 40: quiet and fast starts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BITSANDBYTES = Path(sys.prefix) / "opt" / "bitsandbytes"  # installed beside the venv by `make install`
RUN = """
import sys
from creative_painting.cli.main import main
code = main(sys.argv[1:])
print("RESULT", code, sys.modules.get("bitsandbytes") is not None)
"""

pytestmark = pytest.mark.skipif(not BITSANDBYTES.is_dir(), reason="bitsandbytes is installed beside the venv by "
                                                                  "`make install` (which CI runs)")


def run_with_bitsandbytes(*argv: str) -> tuple[int, bool, str]:
    """The command line in a fresh process with bitsandbytes importable: (exit code, imported?, stderr)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BITSANDBYTES), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", RUN, *argv], env=env, capture_output=True, text=True, timeout=300)
    code, imported = done.stdout.strip().splitlines()[-1].split()[1:]
    return int(code), imported == "True", done.stderr


def test_painting_commands_neither_import_bitsandbytes_nor_print_its_warnings(tiny_dir, tmp_path):
    code, imported, err = run_with_bitsandbytes("models", "inspect", str(tiny_dir / "tiny.safetensors"))
    assert code == 0 and not imported and "bitsandbytes" not in err and "gemm" not in err, err
    code, imported, err = run_with_bitsandbytes("paint", "a tree", "--model", str(tiny_dir / "tiny.safetensors"),
                                                "--steps", "1", "--width", "32", "--height", "32", "--no-progress",
                                                "--out", str(tmp_path / "p"))
    assert code == 0 and not imported and err == "", err
    code, imported, err = run_with_bitsandbytes("paint", "a tree", "--steps", "0")
    assert code == 2 and not imported and len(err.strip().splitlines()) == 1, err
