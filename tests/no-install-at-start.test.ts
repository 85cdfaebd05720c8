// No Job or server installs packages when it starts: what it runs is in its image, built from a
// locked set. Every container of every workload in the plan of both stacks (MLflow on) is read:
// its command and args, and the scripts from ConfigMaps that they run.
import { describe, expect, it } from "vitest";
import { type Plan, type PlannedResource } from "../tools/offline/plan-result";
import { steadyStateOutputs } from "../tools/offline/plan-inputs";
import { PROJECT_DIR, STACKS, plan, stackRef } from "./helpers/plan";

/** A package manager asked to install, add or sync something (pip, uv, conda & co., OS packages). */
const INSTALL = /\b(?:pip3?|uv|uvx|conda|mamba|micromamba|pipx|poetry|pdm|easy_install|apt-get|apt|apk|yum|dnf|npm|yarn|pnpm)\b[^\n;&|]*?\b(?:install|add|sync)\b|\bpython3?(?:\.\d+)? -m (?:pip|ensurepip)\b|\bensurepip\b/;

interface Container { name: string; command?: string[]; args?: string[]; volumeMounts?: { name: string; mountPath: string }[] }
interface PodSpec { containers?: Container[]; initContainers?: Container[]; volumes?: { name: string; configMap?: { name: string } }[] }

/** Every pod spec in a resource's inputs (Jobs, Deployments, CronJobs, ... at any depth). */
function podSpecs(value: unknown, found: PodSpec[] = []): PodSpec[] {
  if (Array.isArray(value)) for (const v of value) podSpecs(v, found);
  else if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.containers)) found.push(o as PodSpec);
    for (const v of Object.values(o)) podSpecs(v, found);
  }
  return found;
}

/** What each container runs: its command and args, and every mounted ConfigMap file they name. */
function startCommands(p: Plan): { workload: string; container: string; text: string }[] {
  const configMaps = new Map<string, Record<string, string>>();
  for (const r of p.resources.filter((x) => x.type === "kubernetes:core/v1:ConfigMap")) {
    const inputs = r.inputs as { metadata?: { name?: string }; data?: Record<string, string> };
    if (inputs.metadata?.name) configMaps.set(inputs.metadata.name, inputs.data ?? {});
  }
  const out: { workload: string; container: string; text: string }[] = [];
  for (const r of p.resources as PlannedResource[]) {
    for (const spec of podSpecs(r.inputs)) {
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        const argv = [...(c.command ?? []), ...(c.args ?? [])].join(" ");
        const scripts: string[] = [];
        for (const m of c.volumeMounts ?? []) {
          const cm = spec.volumes?.find((v) => v.name === m.name)?.configMap?.name;
          for (const [file, body] of Object.entries(cm ? (configMaps.get(cm) ?? {}) : {})) if (argv.includes(`${m.mountPath}/${file}`)) scripts.push(body);
        }
        out.push({ workload: r.name, container: c.name, text: [argv, ...scripts].join("\n") });
      }
    }
  }
  return out;
}

const installing = (p: Plan) => startCommands(p).filter((c) => INSTALL.test(c.text)).map((c) => `${c.workload}/${c.container}: ${INSTALL.exec(c.text)![0]}`);

// MLflow on in both stacks (staging first): our image from the lock, its server, migration and bootstrap.
const mlflowOn = (stack: string) => ({ mlflowVersion: "3.17.2", mlflowImage: "", mlflowHostname: `mlflow.${stack}.example.com` });
function stagingRunsMlflow() {
  const steady = structuredClone(steadyStateOutputs(PROJECT_DIR, "zenml-platform")[stackRef("staging")]) as { partVersions: Record<string, string>; versionHistory: { parts: Record<string, object> } };
  steady.partVersions.mlflow = "3.17.2";
  steady.versionHistory.parts.mlflow = { deployed: "3.17.2", versions: ["3.17.2"], snapshots: [], awsMoves: [] };
  return { [stackRef("staging")]: steady };
}

describe("no Job or server installs packages when it starts", () => {
  it.each(STACKS)("%s, MLflow on: every container's command, args and the scripts they run", async (stack) => {
    const p = await plan(stack, { overrides: mlflowOn(stack), ...(stack === "prod" ? { deployed: stagingRunsMlflow() } : {}) });
    const read = startCommands(p);
    // What must have been read: the post-upgrade and registration Jobs, MLflow's server and Jobs.
    expect(new Set(read.map((c) => c.workload))).toEqual(new Set(["zenml-post-upgrade-job", "zenml-stack-registration", "zenml-mlflow-deployment", "zenml-mlflow-db-upgrade", "zenml-mlflow-db-bootstrap-job"]));
    // serve.sh, from its ConfigMap, is part of what the MLflow server runs.
    expect(read.find((c) => c.workload === "zenml-mlflow-deployment")!.text).toContain("exec mlflow server");
    expect(installing(p)).toEqual([]);
  });

  it("really looks: the Job's former start, and an install inside a mounted script, are found", async () => {
    const p = await plan("staging");
    const job = p.resources.find((r) => r.name === "zenml-post-upgrade-job")!;
    const container = (job.inputs as { spec: { template: { spec: PodSpec } } }).spec.template.spec.containers![0];
    container.command = ["sh", "-ec", "zenml integration export-requirements --output-file /tmp/i.txt s3 aws kubernetes\npip install --quiet --target /tmp/deps -r /tmp/i.txt\nexec python x.py"];
    expect(installing(p)).toEqual(["zenml-post-upgrade-job/post-upgrade: pip install"]);
    container.command = ["python", "/opt/zenml-platform/post_upgrade.py"];
    const files = p.resources.find((r) => r.name === "zenml-post-upgrade-files")!.inputs as { data: Record<string, string> };
    files.data["post_upgrade.py"] = "import subprocess\nsubprocess.run('uv pip install boto3', shell=True)\n";
    expect(installing(p)).toEqual(["zenml-post-upgrade-job/post-upgrade: uv pip install"]);
    for (const cmd of ["python3 -m pip install x", "conda install -y x", "apt-get update && apt-get install -y curl", "uv sync"]) {
      files.data["post_upgrade.py"] = cmd;
      expect(installing(p), cmd).toHaveLength(1);
    }
  });
});
