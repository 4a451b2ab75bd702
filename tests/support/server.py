"""A real `workflows serve` (gunicorn and its workers) on a free port of this machine, for tests that need one."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

SERVER = [sys.executable, "-m", "workflows.entrypoints.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(database_url: str, folder: Path, workers: int = 1):
    """Serves `database_url` from `folder` (its var/ holds the secret and the control socket); yields the base URL
    and the path of the server's log."""
    port = free_port()
    log_path = folder / f"server-{port}.log"
    environment = {**os.environ, "WORKFLOWS_SECRET_FILE": str(folder / "var" / "secret_key")}
    with open(log_path, "wb") as log:
        server = subprocess.Popen([*SERVER, "--database-url", database_url, "serve", "--port", str(port),
                                   "--workers", str(workers), "--no-scheduler"], cwd=folder, env=environment,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, log_path)
        yield base, log_path
    finally:
        server.terminate()  # as a service manager stops it: `workflows serve` must stop gunicorn itself
        server.wait(timeout=60)
        _stop_leftovers(server.pid)


def _stop_leftovers(group: int) -> None:
    """Fails when a process `workflows serve` started outlived it (after killing it, so nothing is left)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(group, signal.SIGKILL)
    raise AssertionError("gunicorn outlived `workflows serve`")


def _wait_until_up(base: str, server: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{base}/api/agencies", timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer within {timeout} s: {log_path.read_text()[-2000:]}")
