"""Start the studio as a user would (`creative-painting studio`), in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLI = [sys.executable, "-m", "creative_painting.cli.main", "studio"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data: Path, model: Path | None, *extra: str, port: int | None = None, host: str = "127.0.0.1"):
        self.data, self.port = data, port or free_port()
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        self.log = data.parent / f"studio-{self.port}.log"
        cmd = [*CLI, "--data", str(data), "--host", host, "--port", str(self.port), *extra]
        if model is not None:
            cmd += ["--model", str(model)]
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost,::1"}
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout: float = 120) -> Server:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"studio exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/config", timeout=2)
                return self
            except urllib.error.HTTPError:
                return self  # it answers (401 with --auth)
            except OSError:
                time.sleep(0.25)
        raise AssertionError(f"studio did not start: {self.log.read_text()[-2000:]}")

    def client(self, **kwargs):
        from gradio_client import Client

        return Client(self.url, verbose=False, **kwargs)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def http_status(url: str, **kwargs) -> int:
    try:
        return urllib.request.urlopen(urllib.request.Request(url, **kwargs), timeout=30).status
    except urllib.error.HTTPError as e:
        return e.code
