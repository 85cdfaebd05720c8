"""The post-upgrade Job's image, without Docker: each locked set installs into a fresh venv, holds
exactly its ZenML, loads every flavor of the integrations the registered stack uses, imports what
post_upgrade.py imports, and the Job's entry point answers --help."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

IMAGE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(IMAGE.parents[1] / "kit"))
from locked_image import assert_imports, imported_modules, install_fresh, locks, record, run_in  # noqa: E402

SCRIPT = IMAGE.parent / "post_upgrade.py"
# components/kit/built-images.ts: BUILT_IMAGES["post-upgrade"].zenmlIntegrations
INTEGRATIONS = ["s3", "aws", "kubernetes"]

# Loads each integration's flavors and their implementation classes: what a client does when it
# runs a pipeline on the stack (ZenML activates an integration only when its requirements are met).
FLAVORS = """
import json, sys
from zenml.integrations.registry import integration_registry as r
out = {"missing": [i for i in sys.argv[1:] if not r.is_installed(i)], "loaded": []}
for name in sys.argv[1:]:
    for flavor in r.integrations[name].flavors():
        f = flavor()
        f.implementation_class
        out["loaded"].append(f"{name}:{f.type.value}:{f.name}")
print(json.dumps(out))
"""


@pytest.mark.parametrize("lock", locks(IMAGE), ids=lambda p: p.stem)
def test_locked_set_runs_the_job(lock: Path, tmp_path: Path) -> None:
    version = re.fullmatch(r"zenml-(\d+\.\d+\.\d+)", lock.stem).group(1)
    venv = tmp_path / "venv"
    facts = install_fresh(lock, venv)

    got = run_in(venv, "-c", "import zenml; print(zenml.__version__)")
    assert got.stdout.strip() == version, got.stderr[-1000:]

    flavors = run_in(venv, "-c", FLAVORS, *INTEGRATIONS)
    assert flavors.returncode == 0, flavors.stderr[-2000:]
    loaded = json.loads(flavors.stdout.strip().splitlines()[-1])
    assert loaded["missing"] == [], f"ZenML {version} does not count these integrations as installed: {loaded['missing']}"
    # The registered stack's components (components/registration/register_stack.py).
    for want in ["s3:artifact_store:s3", "aws:container_registry:aws", "aws:image_builder:aws", "kubernetes:orchestrator:kubernetes"]:
        assert want in loaded["loaded"], f"{want} did not load: {loaded['loaded']}"

    assert_imports(venv, imported_modules(SCRIPT))

    helped = run_in(venv, str(SCRIPT), "--help")
    assert helped.returncode == 0 and "--catalogue" in helped.stdout, helped.stderr[-1000:]
    record(lock.name, facts)


def test_the_payload_import_scan_sees_function_level_imports() -> None:
    # post_upgrade.py imports zenml and kubernetes inside functions: the scan must find them.
    modules = imported_modules(SCRIPT)
    assert "zenml.client" in modules and "kubernetes" in modules
    assert not any(m.split(".")[0] in {"json", "argparse", "post_upgrade"} for m in modules)
