// Just enough of the Kubernetes API for reading a Job, its pods and their logs: a kubeconfig's
// current context with a bearer token (static, or from an exec plugin such as `aws eks get-token`).
import { execFileSync } from "node:child_process";
import * as http from "node:http";
import * as https from "node:https";
import { parse as parseYaml } from "yaml";

export class KubeError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "KubeError";
  }
}

export interface KubeTarget {
  server: string;
  ca?: string;
  insecure: boolean;
  token: () => string;
}

interface Named<T> { name: string; [key: string]: unknown; cluster?: T; user?: T; context?: T }

/** Reads the current context of a kubeconfig (YAML or JSON text). */
export function targetFromKubeconfig(text: string, run: (cmd: string, args: string[], env: Record<string, string>) => string = defaultRun): KubeTarget {
  const cfg = parseYaml(text) as { "current-context"?: string; contexts?: Named<{ cluster: string; user: string }>[]; clusters?: Named<Record<string, unknown>>[]; users?: Named<Record<string, unknown>>[] };
  const contextName = cfg["current-context"] ?? cfg.contexts?.[0]?.name;
  const context = cfg.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new KubeError(`kubeconfig has no context ${contextName ?? "(none)"}`);
  const cluster = cfg.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = cfg.users?.find((u) => u.name === context.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== "string") throw new KubeError(`kubeconfig has no server for cluster ${context.cluster}`);
  const caData = cluster["certificate-authority-data"];
  const exec = user.exec as { command: string; args?: string[]; env?: { name: string; value: string }[] } | undefined;
  const staticToken = typeof user.token === "string" ? user.token : undefined;
  let cached: string | undefined;
  const token = () => {
    if (staticToken) return staticToken;
    if (!exec) throw new KubeError("kubeconfig user has neither a token nor an exec plugin");
    if (cached) return cached;
    const env = Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value]));
    const out = JSON.parse(run(exec.command, exec.args ?? [], env)) as { status?: { token?: string } };
    if (!out.status?.token) throw new KubeError(`kubeconfig exec plugin ${exec.command} returned no token`);
    cached = out.status.token;
    return cached;
  };
  return { server: cluster.server.replace(/\/+$/, ""), ca: typeof caData === "string" ? Buffer.from(caData, "base64").toString("utf8") : undefined, insecure: cluster["insecure-skip-tls-verify"] === true, token };
}

function defaultRun(cmd: string, args: string[], env: Record<string, string>): string {
  return execFileSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

/** GET a path of the API; JSON unless `raw`. Throws KubeError with the HTTP status. */
export function kubeGet(target: KubeTarget, path: string, raw = false, timeoutMs = 30000): Promise<unknown> {
  const url = new URL(target.server + path);
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      { method: "GET", headers: { authorization: `Bearer ${target.token()}`, accept: raw ? "text/plain" : "application/json" }, ca: target.ca, rejectUnauthorized: !target.insecure, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return reject(new KubeError(`GET ${url.pathname} -> HTTP ${status}`, status));
          if (raw) return resolve(body);
          try {
            resolve(JSON.parse(body));
          } catch {
            reject(new KubeError(`GET ${url.pathname}: the answer is not JSON`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new KubeError(`GET ${url.pathname}: timed out`)));
    req.on("error", (e) => reject(e instanceof KubeError ? e : new KubeError(`GET ${url.pathname}: ${e.message}`)));
    req.end();
  });
}
