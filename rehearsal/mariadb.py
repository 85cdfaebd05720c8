"""A private MariaDB for a rehearsal: its own data dir under the run's work dir, root over a socket,
TCP on 127.0.0.1 only. MariaDB stands in for RDS MySQL (docs/SMOKE.md lists the differences)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from driver import StepFailed
from processes import stop_process


class MariaDB:
    def __init__(self, work: Path, port: int) -> None:
        self.dir = work / "db"
        self.port = port
        self.socket = self.dir / "mysql.sock"
        self.proc: "subprocess.Popen | None" = None

    def start(self) -> None:
        """Initialises the data dir and starts the server; returns once it answers."""
        self.dir.mkdir(parents=True, exist_ok=True)
        user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        data, log = self.dir / "data", self.dir.parent / "db-install.log"
        with open(log, "w") as f:
            install = ["mariadb-install-db", "--no-defaults", f"--datadir={data}", f"--user={user}", "--auth-root-authentication-method=socket", "--skip-test-db"]
            if subprocess.run(install, stdout=f, stderr=subprocess.STDOUT).returncode:
                raise StepFailed(f"mariadb-install-db failed (see {log})")
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--user={user}", f"--pid-file={self.dir / 'mysqld.pid'}", f"--log-error={self.dir / 'error.log'}", "--skip-name-resolve"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        for _ in range(120):
            if self.client(["-e", "SELECT 1"]).returncode == 0:
                return
            time.sleep(0.5)
        raise StepFailed(f"MariaDB did not start (see {self.dir / 'error.log'})")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=60)

    def client(self, args: list, data: "bytes | None" = None) -> subprocess.CompletedProcess:
        return subprocess.run(["mariadb", "--no-defaults", "-S", str(self.socket), "-uroot", *args], input=data, capture_output=True)

    def sql(self, query: str) -> str:
        out = self.client(["-N", "-B", "-e", query])
        if out.returncode != 0:
            err = out.stderr.decode(errors="replace").strip()
            raise StepFailed(f"SQL failed: {err.splitlines()[-1] if err else query}")
        return out.stdout.decode(errors="replace").strip()

    def version(self) -> str:
        return self.sql("SELECT VERSION()")

    def database_exists(self, name: str) -> bool:
        return self.sql(f"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='{name}'") == "1"

    def dump(self, *databases: str) -> bytes:
        """The databases as SQL (bytes: the dump holds binary columns), with CREATE DATABASE and USE."""
        out = subprocess.run(["mariadb-dump", "--no-defaults", "-S", str(self.socket), "-uroot", "--single-transaction", "--routines", "--triggers", "--databases", *databases], capture_output=True)
        if out.returncode:
            raise StepFailed(f"mariadb-dump of {', '.join(databases)} failed: {out.stderr.decode(errors='replace').strip()[:200]}")
        return out.stdout

    def load(self, dump: bytes, rename: "tuple[str, str] | None" = None) -> None:
        """Runs a dump; `rename=(source, target)` loads a dump of `source` into a new `target`."""
        if rename:
            source, target = (name.encode() for name in rename)
            dump = dump.replace(b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `" + source + b"`", b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `" + target + b"`")
            dump = dump.replace(b"USE `" + source + b"`;", b"USE `" + target + b"`;")
        loaded = self.client([], data=dump)
        if loaded.returncode:
            raise StepFailed(f"loading the dump{f' into {rename[1]}' if rename else ''} failed: {loaded.stderr.decode(errors='replace').strip()[:200]}")
