// Starts policy/ the way the Pulumi CLI does for `--policy-pack policy` (the Node policy runner,
// which compiles the TypeScript with ts-node and serves the Analyzer gRPC API on 127.0.0.1), and
// talks to it with the protocol's own messages. No Pulumi CLI, no engine, no cloud.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { AnalyzeRequest, AnalyzeStackRequest, AnalyzerResource, AnalyzerResourceOptions, EnforcementLevel } from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { PlannedResource } from "../../tools/offline/plan";
import { PROJECT_DIR } from "./plan";

export interface PackDiagnostic {
  policy: string;
  enforcement: "advisory" | "mandatory" | "other";
  message: string;
  urn: string;
}

export interface RunningPack {
  policies(): Promise<{ name: string; enforcement: string; description: string }[]>;
  /** What the engine asks for each resource (resource policies). */
  analyze(resource: PlannedResource): Promise<PackDiagnostic[]>;
  /** What the engine asks once for the whole stack (stack policies). */
  analyzeStack(resources: PlannedResource[]): Promise<PackDiagnostic[]>;
  /** Both, as a preview does: every resource, then the stack. */
  preview(resources: PlannedResource[]): Promise<PackDiagnostic[]>;
  stop(): void;
  /** The runner's ts-node cache, fresh as on a new CI runner: what ts-node compiled lands here. */
  tsNodeCache: string;
}

const level = (l: number): PackDiagnostic["enforcement"] => (l === EnforcementLevel.MANDATORY ? "mandatory" : l === EnforcementLevel.ADVISORY ? "advisory" : "other");

const structOf = (inputs: Record<string, unknown>) => Struct.fromJavaScript(JSON.parse(JSON.stringify(inputs)) as Record<string, never>);

/** The fields a single-resource request and a stack-wide resource share. */
function describeResource<T extends AnalyzerResource | AnalyzeRequest>(target: T, r: PlannedResource): T {
  const options = new AnalyzerResourceOptions();
  options.setProtect(r.options.protect);
  target.setType(r.type);
  target.setUrn(r.urn);
  target.setName(r.name);
  // JSON round trip: protobuf Structs carry no undefined.
  target.setProperties(structOf(r.inputs));
  target.setOptions(options);
  return target;
}

function toAnalyzerResource(r: PlannedResource): AnalyzerResource {
  const resource = describeResource(new AnalyzerResource(), r);
  if (r.parent) resource.setParent(r.parent);
  resource.setDependenciesList(r.options.dependsOn);
  return resource;
}

export async function startPolicyPack(timeoutMs = 90_000): Promise<RunningPack> {
  const packDir = path.join(PROJECT_DIR, "policy");
  // Like the CLI: the runner of the @pulumi/pulumi the pack resolves (its own after `npm ci --prefix policy`).
  const runner = path.dirname(require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] }));
  // The first argument is the engine address, which the runner drops; "." is the pack's program.
  const tsNodeCache = fs.mkdtempSync(path.join(os.tmpdir(), "ts-node-cache-"));
  const child: ChildProcess = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TS_NODE_CACHE_DIRECTORY: tsNodeCache } });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`policy pack did not start within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /^(\d+)\s*$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`policy pack exited with ${code}\n${stderr}`));
    });
  });
  const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const diagnostics = (err: grpc.ServiceError | null, res: { getDiagnosticsList(): import("@pulumi/pulumi/proto/analyzer_pb").AnalyzeDiagnostic[] } | undefined, resolve: (d: PackDiagnostic[]) => void, reject: (e: Error) => void) =>
    err || !res
      ? reject(new Error(`${err?.message}\n${stderr}`))
      : resolve(res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), enforcement: level(d.getEnforcementlevel()), message: d.getMessage(), urn: d.getUrn() })));
  const pack: RunningPack = {
    analyze: (r) => {
      const request = describeResource(new AnalyzeRequest(), r);
      return new Promise((resolve, reject) => client.analyze(request, (err, res) => diagnostics(err, res, resolve, reject)));
    },
    preview: async (resources) => [...(await Promise.all(resources.map((r) => pack.analyze(r)))).flat(), ...(await pack.analyzeStack(resources))],
    policies: () =>
      new Promise((resolve, reject) =>
        client.getAnalyzerInfo(new Empty(), (err, info) =>
          err ? reject(err) : resolve(info.getPoliciesList().map((p) => ({ name: p.getName(), enforcement: level(p.getEnforcementlevel()), description: p.getDescription() }))),
        ),
      ),
    analyzeStack: (resources) => {
      const request = new AnalyzeStackRequest();
      request.setResourcesList(resources.map(toAnalyzerResource));
      return new Promise((resolve, reject) => client.analyzeStack(request, (err, res) => diagnostics(err, res, resolve, reject)));
    },
    stop: () => {
      client.close();
      child.kill();
    },
    tsNodeCache,
  };
  return pack;
}
