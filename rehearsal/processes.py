"""Processes the rehearsals and the pytest suites start: ports, health, stopping, downtime.

Shared by rehearsal/steps_zenml.py, rehearsal/mlflow_server.py and rehearsal/local_zenml_server.py
(which runs inside a ZenML venv): stdlib only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from typing import Callable, List, Optional


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def answers_health(url: str, timeout: float = 1) -> bool:
    """GET <url>/health answers 200 (refused, reset or a half-started server: all not healthy)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as r:
            return r.status == 200
    except Exception:  # noqa: BLE001 - any failure to answer is "not healthy"
        return False


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen, timeout: float, interval: float = 0.2) -> bool:
    """Polls `ready` until it holds (True), the process exits or the time is up (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(interval)
    return False


def stop_process(proc: subprocess.Popen, timeout: float = 30, group: bool = False) -> None:
    """SIGTERM, then SIGKILL after `timeout`. `group`: the process leads a session (start_new_session)
    whose members (a server's workers) go with it."""
    if proc.poll() is not None:
        return

    def send(sig: int) -> None:
        try:
            os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
        except ProcessLookupError:
            pass  # gone meanwhile

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait()


class HealthPoller(threading.Thread):
    """Samples a health probe every 0.1 s during an upgrade; downtime = the longest gap between two
    healthy answers (the old server's last and the new one's first)."""

    def __init__(self, healthy: Callable[[], bool]) -> None:
        super().__init__(daemon=True)
        self.healthy, self.stopping = healthy, threading.Event()
        self.ups: List[float] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            if self.healthy():
                self.ups.append(time.monotonic())
            time.sleep(0.1)

    def stop(self) -> Optional[float]:
        """Stops sampling; returns the downtime in seconds (None: the server was never up twice)."""
        self.stopping.set()
        self.join()
        gaps = [b - a for a, b in zip(self.ups, self.ups[1:])]
        return round(max(gaps), 1) if gaps else None
