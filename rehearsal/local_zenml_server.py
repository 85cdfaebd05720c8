"""A real ZenML server (this interpreter's version, SQLite store) on 127.0.0.1, for pytest suites.

Shared by components/registration/tests and components/post-upgrade/tests: both need the same server started the same
way, and only differ in extra server settings and in how the process is wrapped.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

from processes import answers_health, stop_process, wait_until


@dataclass
class LocalServer:
    url: str
    password: str
    process: subprocess.Popen

    def client_env(self) -> Dict[str, str]:
        """What a client needs to log in as the auto-activated admin."""
        return {
            "ZENML_STORE_URL": self.url,
            "ZENML_STORE_USERNAME": "admin",
            "ZENML_STORE_PASSWORD": self.password,
            "ZENML_ANALYTICS_OPT_IN": "false",
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_zenml_server(
    root: Path,
    port: Optional[int] = None,
    extra_env: Optional[Dict[str, str]] = None,
    wrap: Callable[[List[str]], List[str]] = lambda cmd: cmd,
    start_timeout: float = 180,
) -> Iterator[LocalServer]:
    """Starts the server under `root`, waits for /health, stops it on exit (log: root/server.log)."""
    port = port or free_port()
    password = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "ZENML_CONFIG_PATH": str(root / "server-config"),
        "ZENML_STORE_URL": f"sqlite:///{root / 'zenml.db'}",
        "ZENML_SERVER_AUTO_ACTIVATE": "1",
        "ZENML_DEFAULT_USER_NAME": "admin",
        "ZENML_DEFAULT_USER_PASSWORD": password,
        "ZENML_SERVER_JWT_SECRET_KEY": secrets.token_hex(32),
        "ZENML_ANALYTICS_OPT_IN": "false",
        **(extra_env or {}),
    }
    log_path = root / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        wrap([sys.executable, "-m", "uvicorn", "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1", "--port", str(port)]),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: answers_health(url, timeout=2), proc, start_timeout, interval=0.5):
            raise RuntimeError(f"ZenML server did not start; log: {log_path.read_text()[-2000:]}")
        yield LocalServer(url=url, password=password, process=proc)
    finally:
        stop_process(proc, timeout=20)
        log.close()
