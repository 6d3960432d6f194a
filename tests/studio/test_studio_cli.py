"""`creative-painting studio` as a user starts it: an IPv6 loopback serves; what cannot be served is refused
in one line, before anything heavy is imported or loaded."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from creative_painting.files import claim_resumable_dir, run_lock
from tests.studio.server import CLI, Server, http_status


@pytest.mark.slow  # 9 s: a second server start; `make test-all`
def test_an_ipv6_loopback_serves_the_page(tmp_path, tiny_dir):
    server = Server(tmp_path / "data", tiny_dir / "tiny.safetensors", host="::1")
    try:
        server.wait_ready()
        assert server.url.startswith("http://[::1]:")
        assert http_status(server.url + "/config") == 200
    finally:
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log and "share=True" not in log
    assert f"studio: open http://[::1]:{server.port} " in log


def _refused_quickly(argv: list[str]) -> str:
    started = time.perf_counter()
    result = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert elapsed < 2.0, f"refused after {elapsed:.1f} s"  # a new process included
    return lines[0]


def test_a_busy_port_and_a_busy_data_folder_are_refused_in_under_two_seconds(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _refused_quickly(["--data", str(tmp_path / "a"), "--port", str(port)])
    assert f"cannot listen on 127.0.0.1 port {port}" in line and not (tmp_path / "a").exists()
    data = claim_resumable_dir(tmp_path / "b", "studio")
    with run_lock(data):
        line = _refused_quickly(["--data", str(data), "--port", "45999"])
    assert "in use by another run" in line
