// A tiny fake ZenML API on 127.0.0.1 for the smoke tests: routes are plain handlers, and
// every request is recorded so tests can assert what the smoke check sent.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The query string without "?" ("" when none). */
  query: string;
}

export type Handler = (req: Recorded, res: http.ServerResponse) => void;

export interface FakeServer {
  url: string;
  requests: Recorded[];
  routes: Map<string, Handler>;
  close(): Promise<void>;
}

export const API_KEY = "ZENKEY_test_0123456789abcdef";
export const TOKEN = "tok.en.secret-bearer-value";

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Routes of a healthy server running `version`, accepting API_KEY. */
export function healthyRoutes(version = "0.98.0"): Map<string, Handler> {
  return new Map<string, Handler>([
    ["GET /health", (_q, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end("ok"); }],
    ["GET /api/v1/info", (_q, res) => json(res, 200, { version, deployment_type: "kubernetes", database_type: "mysql" })],
    ["POST /api/v1/login", (q, res) => {
      const form = new URLSearchParams(q.body);
      if (form.get("password") === API_KEY) json(res, 200, { access_token: TOKEN, token_type: "bearer" });
      else json(res, 401, { detail: ["CredentialsNotValid", `bad key ${form.get("password")}`] });
    }],
    ["GET /api/v1/current-user", (q, res) => {
      if (q.headers.authorization === `Bearer ${TOKEN}`) json(res, 200, { id: "u-1", name: "smoke-ci" });
      else json(res, 401, { detail: "no token" });
    }],
    ["GET /api/v1/stacks", (q, res) => {
      if (q.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { detail: "no token" });
      json(res, 200, { index: 1, max_size: 100, total_pages: 1, total: 1, items: [{ id: "s-1", name: "default" }] });
    }],
  ]);
}

export async function startFake(routes: Map<string, Handler> = healthyRoutes()): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const parsed = new URL(req.url ?? "/", "http://x");
      const path = parsed.pathname;
      const rec: Recorded = { method: req.method ?? "", path, headers: req.headers, body, query: parsed.search.replace(/^\?/, "") };
      requests.push(rec);
      const h = routes.get(`${rec.method} ${path}`);
      if (h) h(rec, res);
      else json(res, 404, { detail: "not found" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPortUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
