"""What a built image's locked requirements give, proven without Docker.

A fresh venv gets exactly one lock (components/<feature>/image/locks/*.txt) through uv, which
resolves it with every hash required, so a lock that misses a dependency, names a yanked file or
mismatches a hash fails here; then the modules the payloads import are imported in that venv.
Used by the image tests of each feature (tools/images/run-tests.sh runs them in the CI's Python lane).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]


def uv() -> str:
    """The project's pinned uv (rehearsal/build-venv.sh bootstraps it once)."""
    out = subprocess.run(["bash", str(ROOT / "rehearsal" / "build-venv.sh"), "--uv"], capture_output=True, text=True)
    assert out.returncode == 0, f"uv cannot be had: {out.stderr[-500:]}"
    return out.stdout.strip()


def locks(image_dir: Path) -> List[Path]:
    found = sorted((image_dir / "locks").glob("*.txt"))
    assert found, f"{image_dir}/locks has no locked requirements"
    return found


def install_fresh(lock: Path, venv: Path) -> Dict[str, float]:
    """A new venv holding the lock and nothing else; returns the install's seconds and size in MB."""
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    t0 = time.monotonic()
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env)
    done = subprocess.run([uv(), "pip", "install", "--quiet", "--require-hashes", "--python", str(venv / "bin" / "python"), "-r", str(lock)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"{lock.relative_to(ROOT)} does not install into a fresh venv:\n{done.stderr[-3000:]}"
    seconds = time.monotonic() - t0
    checked = subprocess.run([uv(), "pip", "check", "--python", str(venv / "bin" / "python")], capture_output=True, text=True, env=env)
    assert checked.returncode == 0, f"{lock.relative_to(ROOT)} installs packages whose requirements conflict:\n{checked.stdout[-2000:]}{checked.stderr[-2000:]}"
    site = next((venv / "lib").glob("python3*/site-packages"))
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file() and not f.is_symlink())
    return {"seconds": round(seconds, 1), "site_packages_mb": round(size / 1e6, 1)}


def imported_modules(*scripts: Path) -> List[str]:
    """Every non-standard module the scripts import, at any depth (a function's imports too)."""
    names = set()
    for script in scripts:
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    local = {s.stem for s in scripts}
    return sorted(n for n in names if n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] not in local and n != "__future__")


def run_in(venv: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {"PATH": f"{venv}/bin:/usr/bin:/bin", "HOME": str(venv), "LANG": "C.UTF-8", "ZENML_ANALYTICS_OPT_IN": "false", "ZENML_CONFIG_PATH": str(venv / "zenml-config")}
    return subprocess.run([str(venv / "bin" / "python"), *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=str(venv))


def assert_imports(venv: Path, modules: List[str]) -> None:
    code = "import importlib, json, sys\nbad = {}\nfor m in sys.argv[1:]:\n    try:\n        importlib.import_module(m)\n    except Exception as e:\n        bad[m] = f'{type(e).__name__}: {e}'\nprint(json.dumps(bad))"
    out = run_in(venv, "-c", code, *modules)
    assert out.returncode == 0, out.stderr[-2000:]
    bad = json.loads(out.stdout.strip().splitlines()[-1])
    assert bad == {}, f"the locked set cannot import what the payloads import: {bad}"


def record(name: str, facts: Dict[str, float]) -> None:
    """Sizes and times, for whoever reads the CI log (and the image's closing note)."""
    print(f"[locked-image] {name}: {json.dumps(facts)}", file=sys.stderr)
    out = os.environ.get("LOCKED_IMAGE_FACTS")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"lock": name, **facts}) + "\n")
