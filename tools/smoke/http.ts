// One HTTP request with a hard timeout, and a translation of every way it can fail into a
// short, one-line reason plus whether retrying can help (server still rolling out).
export type FailureKind =
  | "dns" // host name does not resolve: wrong URL
  | "refused" // nothing listens: wrong port or server (re)starting
  | "connection" // reset / other socket error
  | "tls" // certificate or TLS handshake problem
  | "timeout" // no complete answer within --timeout
  | "unauthorized" // 401/403: the API key is wrong, expired or lacks rights
  | "http" // other unexpected HTTP status
  | "non-json" // the body is not the JSON a ZenML server sends
  | "too-large" // the body exceeds the cap: not a ZenML answer, or a misbehaving proxy
  | "check" // the server answered, but not what we expect
  | "config"; // missing input (API key, token from an earlier step)

export class StepFailure extends Error {
  constructor(
    public readonly kind: FailureKind,
    message: string,
    public readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface HttpResponse {
  status: number;
  body: unknown; // parsed JSON, or the raw text when the spec says text
}

export interface RequestSpec {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  /** A JSON request body (MLflow's REST API). */
  json?: unknown;
  timeoutMs: number;
  /** "text" accepts any body (ZenML's /health answers text/plain "ok"). Default "json". */
  expect?: "json" | "text";
  /** Bytes of body read at most; more fails the step. Default MAX_BODY_BYTES. */
  maxBytes?: number;
}

/** Every answer the smoke check reads is small (a page of 100 stacks is tens of kB). */
export const MAX_BODY_BYTES = 1 << 20;

/** Reads at most `limit` bytes of the body, cancelling the stream as soon as it is exceeded. */
async function readCapped(res: Response, limit: number, what: string): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await res.body?.cancel();
    throw new StepFailure("too-large", `${what} announced a ${declared}-byte body, over the ${limit}-byte cap`, false);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new StepFailure("too-large", `${what} sent more than the ${limit}-byte cap`, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const TLS_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_NOT_YET_VALID",
  "EPROTO",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

function errCode(e: unknown): string | undefined {
  if (e === null || typeof e !== "object") return undefined;
  const o = e as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof o.code === "string") return o.code;
  // Node's happy-eyeballs connect raises an AggregateError whose members carry the code.
  if (Array.isArray(o.errors) && o.errors.length > 0) return errCode(o.errors[0]);
  return undefined;
}

/** Maps a thrown fetch error to a StepFailure. Exported for tests. */
export function classifyNetworkError(e: unknown, url: string, timeoutMs: number): StepFailure {
  const err = e as { name?: string; cause?: unknown; message?: string };
  const host = safeHost(url);
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return new StepFailure("timeout", `timed out after ${timeoutMs / 1000}s waiting for ${host}`, true);
  }
  const code = errCode(err?.cause) ?? errCode(err);
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "ETIMEDOUT") {
    return new StepFailure("timeout", `timed out after ${timeoutMs / 1000}s waiting for ${host}`, true);
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
    return new StepFailure("dns", `cannot resolve host ${host} (${code}): check the URL`, false);
  }
  if (code === "ECONNREFUSED") {
    return new StepFailure("refused", `connection refused by ${host}: server down or wrong port`, true);
  }
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL"))) {
    return new StepFailure("tls", `TLS error talking to ${host} (${code})`, false);
  }
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
    return new StepFailure("connection", `connection to ${host} failed (${code})`, true);
  }
  const msg = (err?.cause as Error | undefined)?.message ?? err?.message ?? String(e);
  return new StepFailure("connection", `request to ${host} failed: ${oneLine(msg)}`, true);
}

export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "<invalid url>";
  }
}

export function oneLine(s: string, max = 160): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/**
 * Sends the request and returns status + parsed JSON. Throws StepFailure for network errors,
 * timeouts, 401/403, other non-2xx statuses and non-JSON bodies.
 */
export async function requestJson(spec: RequestSpec): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: "application/json", ...spec.headers };
  let body: string | undefined;
  if (spec.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(spec.form).toString();
  } else if (spec.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(spec.json);
  }
  const path = new URL(spec.url).pathname;
  let status: number;
  let text: string;
  let contentType: string;
  let location: string | null;
  try {
    const res = await fetch(spec.url, {
      method: spec.method,
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(spec.timeoutMs),
    });
    status = res.status;
    contentType = res.headers.get("content-type") ?? "";
    location = res.headers.get("location");
    text = await readCapped(res, spec.maxBytes ?? MAX_BODY_BYTES, `${spec.method} ${path}`); // still under the same timeout signal
  } catch (e) {
    if (e instanceof StepFailure) throw e;
    throw classifyNetworkError(e, spec.url, spec.timeoutMs);
  }
  if (status === 401 || status === 403) {
    throw new StepFailure("unauthorized", `HTTP ${status} on ${spec.method} ${path}: API key rejected (wrong, expired or inactive)`, false);
  }
  if (status >= 300 && status < 400) {
    // Not followed: a redirect usually means http:// where https:// is served (or a login page).
    throw new StepFailure("http", `HTTP ${status} on ${spec.method} ${path}: redirected to ${location ?? "?"}; check the URL`, false);
  }
  if (status < 200 || status >= 300) {
    // 5xx and 404 happen while an ingress / load balancer waits for ready pods.
    const retryable = status >= 500 || status === 404 || status === 429;
    throw new StepFailure("http", `HTTP ${status} on ${spec.method} ${path}`, retryable);
  }
  if (spec.expect === "text") return { status, body: text };
  try {
    return { status, body: JSON.parse(text) as unknown };
  } catch {
    const what = contentType ? contentType.split(";")[0] : "no content-type";
    throw new StepFailure("non-json", `${spec.method} ${path} returned non-JSON (${what}): not a ZenML API?`, false);
  }
}
