"""Post-upgrade work for one environment: the users' snapshots, run templates and schedules.

Runs in the post-upgrade Job (components/post-upgrade.ts) with a ZenML client of exactly the
server's version, after the Helm release has migrated the server. For every catalogue entry it
re-creates the snapshot (a new image through the stack's image builder), the run template and the
schedule with this client, then runs the entry's smoke config once and requires COMPLETED. Stale
items (made by another client version) that no entry owns fail the report unless ignored with a
reason. What this stack cannot prove (a CronJob on an orchestrator that cannot schedule) is marked
`staging-only`, never `pass`.

Usage: post_upgrade.py --catalogue catalogue.json --stack NAME [--sources sources.json]
                       [--workdir DIR] [--report report.json]
The last stdout line is `POST_UPGRADE_REPORT <json>`; exit 0 green, 1 red, 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

REPORT_PREFIX = "POST_UPGRADE_REPORT "
CRON_JOB_METADATA_KEY = "cron_job_name"  # zenml.integrations.kubernetes.constants
# A schedule written through the store (no orchestrator, so no snapshot of its own) records its client here.
SCHEDULE_CLIENT_KEY = "zenml_platform_client_version"


def log(msg: str) -> None:
    print(f"[post-upgrade] {msg}", file=sys.stderr, flush=True)


def all_pages(list_method: Callable[..., Any], **kwargs: Any) -> List[Any]:
    items: List[Any] = []
    page = 1
    while True:
        result = list_method(page=page, size=100, **kwargs)
        items.extend(result.items)
        if page >= result.total_pages:
            return items
        page += 1


def client_version_of_snapshot(snapshot: Any) -> Optional[str]:
    try:
        return snapshot.client_version
    except Exception:  # an unhydrated or partial model
        return None


def inventory(client: Any, version: str) -> Dict[str, List[Dict[str, Any]]]:
    """Named snapshots, run templates and schedules, each with the client version that made it."""
    snapshots = [
        {"kind": "snapshot", "name": s.name, "id": str(s.id), "pipeline": s.pipeline.name, "client_version": client_version_of_snapshot(s)}
        for s in all_pages(client.list_snapshots, named_only=True, hydrate=True)
    ]
    templates = []
    for t in all_pages(client.list_run_templates, hydrate=True):
        source = t.source_snapshot
        templates.append({"kind": "run_template", "name": t.name, "id": str(t.id), "client_version": client_version_of_snapshot(source) if source else None})
    schedules = []
    for s in all_pages(client.list_schedules):
        made = all_pages(client.list_snapshots, schedule_id=s.id, named_only=False, hydrate=True)
        # A schedule row with no snapshot records no client: treat it as stale, it cannot be checked.
        versions = sorted({v for v in (client_version_of_snapshot(m) for m in made) if v})
        metadata = s.run_metadata or {}
        version_of = versions[-1] if versions else metadata.get(SCHEDULE_CLIENT_KEY)
        schedules.append({"kind": "schedule", "name": s.name, "id": str(s.id), "client_version": version_of, "cron_job": metadata.get(CRON_JOB_METADATA_KEY)})
    for item in snapshots + templates + schedules:
        item["stale"] = item["client_version"] != version
    return {"snapshots": snapshots, "run_templates": templates, "schedules": schedules}


def owned_names(entries: List[Dict[str, Any]]) -> Dict[str, Dict[str, str]]:
    owned: Dict[str, Dict[str, str]] = {"snapshot": {}, "run_template": {}, "schedule": {}}
    for e in entries:
        owned["snapshot"][e["snapshot"]] = e["name"]
        if e.get("runTemplate"):
            owned["run_template"][e["runTemplate"]] = e["name"]
            owned["snapshot"][e["runTemplate"]] = e["name"]  # a template names its own snapshot
        if e.get("schedule"):
            owned["schedule"][e["schedule"]["name"]] = e["name"]
    return owned


def unowned_stale(inv: Dict[str, List[Dict[str, Any]]], entries: List[Dict[str, Any]], ignored: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    owned = owned_names(entries)
    ignore = {(i["kind"], i["name"]): i["reason"] for i in ignored}
    out = []
    for item in inv["snapshots"] + inv["run_templates"] + inv["schedules"]:
        if not item["stale"] or item["name"] in owned[item["kind"]]:
            continue
        reason = ignore.get((item["kind"], item["name"]))
        out.append({**item, "status": "ignored" if reason else "fail", "detail": reason or f"stale {item['kind']} {item['name']} (client {item['client_version']}) is owned by no catalogue entry and not ignored"})
    return out


def materialize_source(entry: Dict[str, Any], sources: Dict[str, str], workdir: Path) -> Path:
    src = entry["source"]
    if "path" in src:
        root = workdir / "repo"
        for rel, text in sources.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_text(text)
        path = root / src["path"]
        if not path.is_dir():
            raise RuntimeError(f"source.path {src['path']} is not in the bundled sources")
        return path
    dest = workdir / "git" / entry["name"]
    if not dest.exists():
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", src["ref"], src["repo"], str(dest)], check=True, capture_output=True, text=True, timeout=300)
    return dest


def load_pipeline(root: Path, spec: str) -> Any:
    from zenml.utils import source_utils

    module_name, attr = spec.split(":")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # Code the image builder packs is resolved against this root, like a user's checkout.
    source_utils.set_custom_source_root(str(root))
    os.chdir(root)
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def register_build(client: Any, pipeline: Any, build_stack: str) -> Any:
    """Rehearsal only: records the build an image builder would make, for a stack that has none.

    The build belongs to `build_stack`, a registered stack of remote components (ZenML accepts
    run templates only for those); the image name carries the client version, as ZenML's parent
    images do. Nothing is built or pushed, so the report marks image checks `staging-only`.
    """
    import platform

    import zenml
    from zenml.models import BuildItem, PipelineBuildRequest

    stack = client.get_stack(build_stack)
    return client.zen_store.create_build(
        PipelineBuildRequest(
            project=client.active_project.id,
            stack=stack.id,
            pipeline=pipeline.register().id,
            images={"orchestrator": BuildItem(image=f"{build_stack}.invalid/{pipeline.name}:zenml-{zenml.__version__}", contains_code=True)},
            is_local=False,
            contains_code=True,
            zenml_version=zenml.__version__,
            python_version=platform.python_version(),
        )
    )


def store_schedule(client: Any, pipeline_id: Any, name: str, cron: str) -> Any:
    """A schedule row as ZenML writes it, for an orchestrator that cannot schedule (the local one).

    Nothing runs it; the row carries the client version in its run metadata, since no snapshot does.
    """
    import zenml
    from zenml.enums import MetadataResourceTypes, StackComponentType
    from zenml.models import RunMetadataResource, ScheduleRequest

    orchestrator = client.active_stack_model.components[StackComponentType.ORCHESTRATOR][0]
    schedule = client.zen_store.create_schedule(
        ScheduleRequest(project=client.active_project.id, pipeline_id=pipeline_id, orchestrator_id=orchestrator.id, name=name, active=True, cron_expression=cron)
    )
    client.create_run_metadata(metadata={SCHEDULE_CLIENT_KEY: zenml.__version__}, resources=[RunMetadataResource(id=schedule.id, type=MetadataResourceTypes.SCHEDULE)])
    return schedule


def image_of(build: Any) -> Optional[str]:
    if build is None:
        return None
    try:
        return build.get_image("orchestrator")
    except Exception:
        images = getattr(build, "images", {}) or {}
        return next((getattr(i, "image", None) for i in images.values()), None)


def cron_job_image(orchestrator: Any, cron_job_name: str) -> Optional[str]:
    from kubernetes import client as k8s_client

    api = k8s_client.BatchV1Api(orchestrator.get_kube_client())
    cron = api.read_namespaced_cron_job(name=cron_job_name, namespace=orchestrator.config.kubernetes_namespace)
    containers = cron.spec.job_template.spec.template.spec.containers
    return containers[0].image if containers else None


def rebuild_entry(client: Any, entry: Dict[str, Any], inv: Dict[str, List[Dict[str, Any]]], version: str, sources: Dict[str, str], workdir: Path, registered_builds: Optional[str] = None) -> Dict[str, Any]:
    from zenml.config.schedule import Schedule

    t0 = time.monotonic()
    old = next((s for s in inv["snapshots"] if s["name"] == entry["snapshot"]), None)
    rec: Dict[str, Any] = {"entry": entry["name"], "pipeline": entry["pipeline"], "old_client_version": old["client_version"] if old else None, "new_client_version": version, "checks": []}

    def check(name: str, status: str, detail: str) -> None:
        rec["checks"].append({"name": name, "status": status, "detail": detail})

    try:
        root = materialize_source(entry, sources, workdir)
        pipeline = load_pipeline(root, entry["pipeline"])
        configured = pipeline.with_options(config_path=str(root / entry["config"]))
        if registered_builds:
            configured = configured.with_options(build=register_build(client, configured, registered_builds).id)
        orchestrator = client.active_stack.orchestrator

        snap = client.get_snapshot(configured.create_snapshot(name=entry["snapshot"], replace=True).id, hydrate=True)
        image = image_of(snap.build)
        rec["snapshot"] = {"name": snap.name, "id": str(snap.id), "client_version": snap.client_version, "image": image}
        ok = snap.client_version == version
        check("snapshot", "pass" if ok else "fail", f"{snap.name} re-created by client {snap.client_version}")
        if snap.build is None or registered_builds:
            check("snapshot-image", "staging-only", f"this stack builds no images (build record {image}): the image build is proven on staging")
        else:
            built = snap.build.zenml_version
            check("snapshot-image", "pass" if built == version else "fail", f"{image} built by zenml {built}")

        if entry.get("runTemplate"):
            name = entry["runTemplate"]
            try:
                client.delete_run_template(name)
            except KeyError:
                pass
            # A template renames its source snapshot to its own name, so it gets a snapshot of its own.
            source = configured.create_snapshot(name=name, replace=True)
            template = client.create_run_template(name=name, snapshot_id=source.id)
            rec["template"] = {"name": template.name, "id": str(template.id), "snapshot_id": str(source.id)}
            check("run-template", "pass", f"{name} on snapshot {source.id}")

        if entry.get("schedule"):
            name, cron = entry["schedule"]["name"], entry["schedule"]["cron"]
            try:
                client.delete_schedule(name)  # through the orchestrator: removes the old CronJob
            except KeyError:
                pass
            if orchestrator.config.is_schedulable:
                configured.with_options(schedule=Schedule(name=name, cron_expression=cron))()
                schedule = client.get_schedule(name, allow_name_prefix_match=False)
                cron_job = (schedule.run_metadata or {}).get(CRON_JOB_METADATA_KEY)
                made = all_pages(client.list_snapshots, schedule_id=schedule.id, named_only=False, hydrate=True)
                want = image_of(made[-1].build) if made else None
                got = cron_job_image(orchestrator, cron_job) if cron_job and hasattr(orchestrator, "get_kube_client") else None
                rec["schedule"] = {"name": name, "id": str(schedule.id), "cron": cron, "cron_job": cron_job, "image": got}
                good = bool(got) and got == want
                check("schedule-image", "pass" if good else "fail", f"CronJob {cron_job} runs {got}, new build is {want}")
            else:
                schedule = store_schedule(client, snap.pipeline.id, name, cron)
                rec["schedule"] = {"name": name, "id": str(schedule.id), "cron": cron, "cron_job": None, "image": None}
                check("schedule", "pass", f"{name} re-created ({cron})")
                check("schedule-image", "staging-only", f"orchestrator {orchestrator.flavor} cannot schedule: the CronJob image is proven on staging")

        run = pipeline.with_options(config_path=str(root / entry["smoke"]["config"]))()
        run = client.get_pipeline_run(run.id)
        status = str(getattr(run.status, "value", run.status))
        rec["run_id"] = str(run.id)
        check("smoke-run", "pass" if status == "completed" else "fail", f"run {run.name} {status}")
    except Exception as e:  # the entry fails, the others still run
        log(traceback.format_exc())
        check("error", "fail", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    rec["status"] = "pass" if all(c["status"] in ("pass", "staging-only") for c in rec["checks"]) else "fail"
    rec["seconds"] = round(time.monotonic() - t0, 1)
    return rec


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", required=True)
    parser.add_argument("--stack", required=True, help="the ZenML stack to run on")
    parser.add_argument("--sources", help="JSON {repo path: content} of the in-repo sources")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--report", default=None)
    parser.add_argument("--register-builds", metavar="STACK", help="rehearsal only: record builds of this registered remote stack instead of building images")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    catalogue = json.loads(Path(args.catalogue).read_text())
    sources = json.loads(Path(args.sources).read_text()) if args.sources else {}
    workdir = Path(args.workdir or os.environ.get("TMPDIR", "/tmp")) / "post-upgrade"
    workdir.mkdir(parents=True, exist_ok=True)

    import zenml
    from zenml.client import Client

    t0 = time.monotonic()
    version = zenml.__version__
    client = Client()
    server_version = client.zen_store.get_store_info().version
    report: Dict[str, Any] = {"environment": catalogue.get("environment"), "stack": args.stack, "client_version": version, "server_version": server_version, "entries": [], "unowned_stale": []}
    if server_version != version:
        report["error"] = f"client {version} must equal the server's version {server_version}"
    else:
        client.activate_stack(args.stack)
        inv = inventory(client, version)
        report["inventory"] = inv
        report["stale_before"] = sum(1 for items in inv.values() for i in items if i["stale"])
        log(f"inventory: {len(inv['snapshots'])} snapshot(s), {len(inv['run_templates'])} template(s), {len(inv['schedules'])} schedule(s), {report['stale_before']} stale")
        report["unowned_stale"] = unowned_stale(inv, catalogue["pipelines"], catalogue.get("ignored", []))
        for entry in catalogue["pipelines"]:
            log(f"entry {entry['name']}: rebuilding")
            report["entries"].append(rebuild_entry(client, entry, inv, version, sources, workdir, args.register_builds))
            os.chdir(workdir)
        after = inventory(client, version)
        owned = owned_names(catalogue["pipelines"])
        report["stale_after_owned"] = [i["name"] for items in after.values() for i in items if i["stale"] and i["name"] in owned[i["kind"]]]
    report["ok"] = "error" not in report and all(e["status"] == "pass" for e in report["entries"]) and not any(u["status"] == "fail" for u in report["unowned_stale"]) and not report.get("stale_after_owned")
    report["seconds"] = round(time.monotonic() - t0, 1)
    text = json.dumps(report, default=str)
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, default=str))
    print(REPORT_PREFIX + text, flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
