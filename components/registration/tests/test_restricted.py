"""The server runs (and answers) with what the pods' restricted security context leaves it."""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from typing import Dict

from conftest import SERVER_PROCESS


def status_of(pid: int) -> Dict[str, str]:
    # setpriv execs the server in place, so the pid is the server's own.
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines if ":" in line)}


def test_server_answers_without_privilege_escalation_or_capabilities(server: Dict[str, str]) -> None:
    status = status_of(SERVER_PROCESS["server"].pid)
    assert status["NoNewPrivs"] == "1"
    for caps in ("CapEff", "CapPrm", "CapInh", "CapAmb", *(("CapBnd",) if os.geteuid() == 0 else ())):
        assert int(status[caps], 16) == 0, f"{caps} is {status[caps]}"
    with urllib.request.urlopen(f"{server['ZENML_STORE_URL']}/health", timeout=5) as r:
        assert r.status == 200
