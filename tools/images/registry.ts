// Resolves an image tag to its manifest digest through the OCI distribution API, the way a
// container runtime does: anonymous bearer token on a 401 challenge, then the manifest itself,
// whose sha256 we compute rather than trust from a header.
import { createHash } from "node:crypto";

export const DOCKER_HUB_REGISTRY = "https://registry-1.docker.io";

/** Index types first: a multi-arch tag's digest is its index, which each node resolves to its platform. */
const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];
/** Manifests are a few kB; anything near this is not one. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class RegistryError extends Error {}

export interface ResolveOptions {
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** The parameters of a `WWW-Authenticate: Bearer k="v",...` challenge, or undefined for another scheme. */
export function parseBearerChallenge(header: string | null): Record<string, string> | undefined {
  const m = header?.match(/^\s*Bearer\s+(.*)$/i);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[1].matchAll(/([A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) params[p[1].toLowerCase()] = (p[2] ?? p[3]).replace(/\\(.)/g, "$1");
  return params;
}

async function readCapped(response: Response, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_MANIFEST_BYTES) throw new RegistryError(`${what} is ${declared} bytes, more than a manifest can be (${MAX_MANIFEST_BYTES})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > MAX_MANIFEST_BYTES) throw new RegistryError(`${what} is more than ${MAX_MANIFEST_BYTES} bytes, more than a manifest can be`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

async function anonymousToken(challenge: Record<string, string>, repository: string, fetchOnce: (url: URL) => Promise<Response>): Promise<string> {
  if (!challenge.realm) throw new RegistryError("the registry asked for a bearer token without saying where to get one (no realm)");
  const url = new URL(challenge.realm);
  if (challenge.service) url.searchParams.set("service", challenge.service);
  url.searchParams.set("scope", challenge.scope ?? `repository:${repository}:pull`);
  const response = await fetchOnce(url);
  if (!response.ok) throw new RegistryError(`the token service ${url.origin} answered ${response.status} for ${repository}`);
  const body = JSON.parse((await readCapped(response, "the token response")).toString("utf8")) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === "string" ? body.token : body.access_token;
  if (typeof token !== "string" || token === "") throw new RegistryError(`the token service ${url.origin} returned no token for ${repository}`);
  return token;
}

/** fetch, with a network failure or a timeout reported as what it is rather than as fetch's TypeError. */
async function request(doFetch: typeof fetch, url: string | URL, init: RequestInit & { signal: AbortSignal }, timeoutMs: number): Promise<Response> {
  try {
    return await doFetch(url, init);
  } catch (err) {
    const host = new URL(url).host;
    if (init.signal.aborted) throw new RegistryError(`${host} did not answer within ${timeoutMs / 1000} s`);
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new RegistryError(`${host} cannot be reached: ${(err as Error).message}${cause ? ` (${cause})` : ""}`);
  }
}

/** `sha256:<hex>` of the manifest (or index) `repository:tag` names in `registry` (a base URL). */
export async function resolveDigest(registry: string, repository: string, tag: string, options: ResolveOptions = {}): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signal = AbortSignal.timeout(timeoutMs);
  const url = `${registry.replace(/\/+$/, "")}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
  const headers: Record<string, string> = { Accept: MANIFEST_TYPES.join(", ") };
  let response = await request(doFetch, url, { headers, signal }, timeoutMs);
  if (response.status === 401) {
    const challenge = parseBearerChallenge(response.headers.get("www-authenticate"));
    if (!challenge) throw new RegistryError(`${registry} refused anonymous access to ${repository} and offered no bearer token`);
    await response.body?.cancel();
    headers.Authorization = `Bearer ${await anonymousToken(challenge, repository, (tokenUrl) => request(doFetch, tokenUrl, { signal }, timeoutMs))}`;
    response = await request(doFetch, url, { headers, signal }, timeoutMs);
  }
  if (response.status === 404) throw new RegistryError(`${repository}:${tag} does not exist in ${registry}`);
  if (!response.ok) throw new RegistryError(`${registry} answered ${response.status} for ${repository}:${tag}`);
  const type = (response.headers.get("content-type") ?? "").split(";")[0].trim();
  if (!MANIFEST_TYPES.includes(type)) throw new RegistryError(`${registry} returned "${type.slice(0, 80)}" for ${repository}:${tag}, not an image manifest or index`);
  const body = await readCapped(response, `the manifest of ${repository}:${tag}`);
  const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  const claimed = response.headers.get("docker-content-digest");
  if (claimed && claimed !== digest) throw new RegistryError(`${registry} says ${repository}:${tag} is ${claimed.slice(0, 80)}, but the manifest it sent hashes to ${digest}`);
  return digest;
}
