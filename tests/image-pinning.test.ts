// Server images pinned by digest: resolved from a registry the way a runtime does, recorded once in
// images.lock.yaml, rendered into the chart and both Jobs, and never allowed to change for a tag.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGE_LOCK_FILE, parseImageLock } from "../components/image-lock";
import { UserFacingError } from "../components/errors";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { main as pinCli } from "../tools/images/pin-cli";
import { RegistryError, parseBearerChallenge, resolveDigest } from "../tools/images/registry";
import { withLockedDigest } from "../tools/images/pin";
import { captureTool } from "./helpers/cli";
import { PROJECT_DIR, at, named, one, plan, stackRef } from "./helpers/plan";

const REPO = "zenmldocker/zenml-server";
const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const INDEX_TYPE = "application/vnd.oci.image.index.v1+json";

interface FakeImage { body: string; type?: string; claimedDigest?: string }
/** A registry speaking the distribution API with Docker Hub's anonymous token dance. */
class FakeRegistry {
  images = new Map<string, FakeImage>();
  requests: string[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  url = "";
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.pathname === "/token") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: `t-${url.searchParams.get("scope")}` }));
      return;
    }
    const m = url.pathname.match(/^\/v2\/(.+)\/manifests\/([^/]+)$/);
    if (!m) return void res.writeHead(404).end();
    if (req.headers.authorization !== `Bearer t-repository:${m[1]}:pull`) {
      res.writeHead(401, { "www-authenticate": `Bearer realm="${this.url}/token",service="registry.test",scope="repository:${m[1]}:pull"` }).end("{}");
      return;
    }
    const image = this.images.get(`${m[1]}:${decodeURIComponent(m[2])}`);
    if (!image) return void res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    res.writeHead(200, { "content-type": image.type ?? INDEX_TYPE, "docker-content-digest": image.claimedDigest ?? sha(image.body) }).end(image.body);
  }
}

const registry = new FakeRegistry();
beforeAll(() => registry.start());
afterAll(() => registry.stop());

describe("resolving a tag to its digest", () => {
  it("follows the bearer challenge anonymously and hashes the manifest itself", async () => {
    registry.images.set(`${REPO}:0.98.0`, { body: '{"manifests":[]}' });
    registry.requests = [];
    expect(await resolveDigest(registry.url, REPO, "0.98.0")).toBe(sha('{"manifests":[]}'));
    expect(registry.requests).toEqual([`GET /v2/${REPO}/manifests/0.98.0`, `GET /token?service=registry.test&scope=repository%3A${encodeURIComponent(REPO)}%3Apull`, `GET /v2/${REPO}/manifests/0.98.0`]);
  });

  it("refuses a registry whose digest header does not match the bytes it sent", async () => {
    registry.images.set(`${REPO}:lying`, { body: "{}", claimedDigest: sha("something else") });
    await expect(resolveDigest(registry.url, REPO, "lying")).rejects.toThrow(new RegistryError(`${registry.url} says ${REPO}:lying is ${sha("something else")}, but the manifest it sent hashes to ${sha("{}")}`));
  });

  it("names a missing tag and refuses what is not a manifest", async () => {
    await expect(resolveDigest(registry.url, REPO, "9.9.9")).rejects.toThrow(`${REPO}:9.9.9 does not exist in ${registry.url}`);
    registry.images.set(`${REPO}:html`, { body: "<html>", type: "text/html" });
    await expect(resolveDigest(registry.url, REPO, "html")).rejects.toThrow('returned "text/html" for zenmldocker/zenml-server:html, not an image manifest or index');
  });

  it("caps what it reads: a huge body is no manifest", async () => {
    registry.images.set(`${REPO}:huge`, { body: "x".repeat(5 * 1024 * 1024) });
    await expect(resolveDigest(registry.url, REPO, "huge")).rejects.toThrow(/more than a manifest can be/);
  });

  it("reports an unreachable registry as such, not as fetch's TypeError", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await resolveDigest(`http://127.0.0.1:${port}`, REPO, "0.98.0").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} cannot be reached: fetch failed \\(.*ECONNREFUSED`));
  });

  it("parses quoted and bare challenge parameters", () => {
    expect(parseBearerChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull"')).toEqual({ realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:a/b:pull" });
    expect(parseBearerChallenge("Bearer realm=https://x/token")).toEqual({ realm: "https://x/token" });
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
  });
});

describe("npm run pin-images", () => {
  const project = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pin-images-"));
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", IMAGE_LOCK_FILE]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    return dir;
  };
  const run = (argv: string[]) => captureTool(pinCli, argv);

  it("pins every version a stack file pins, keeps the file's comments, and never rewrites a recorded digest", async () => {
    const dir = project();
    registry.images.set(`${REPO}:0.97.0`, { body: '{"v":"0.97.0"}' });
    registry.images.set(`${REPO}:0.98.0`, { body: '{"v":"0.98.0"}' });
    const first = await run(["--dir", dir, "--registry", registry.url]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    const text = fs.readFileSync(path.join(dir, IMAGE_LOCK_FILE), "utf8");
    expect(text).toContain("# The digest of each upstream image tag");
    expect(parseImageLock(text)).toEqual({ [REPO]: { "0.97.0": sha('{"v":"0.97.0"}'), "0.98.0": sha('{"v":"0.98.0"}') } });

    // Upstream re-pushes 0.98.0: a plain run keeps the lock, --check says the tag moved and fails.
    registry.images.set(`${REPO}:0.98.0`, { body: '{"v":"0.98.0","rebuilt":true}' });
    expect((await run(["--dir", dir, "--registry", registry.url])).stdout).toContain(`${REPO}:0.98.0 kept ${sha('{"v":"0.98.0"}')}`);
    const check = await run(["--dir", dir, "--registry", registry.url, "--check"]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`${REPO}:0.97.0 verified`);
    expect(check.stdout).toContain(`${REPO}:0.98.0 MOVED upstream: locked ${sha('{"v":"0.98.0"}')}, registry now ${sha('{"v":"0.98.0","rebuilt":true}')}`);
    expect(fs.readFileSync(path.join(dir, IMAGE_LOCK_FILE), "utf8")).toBe(text);
  });

  it("--base pins the base image of the images we build, from the same registry", async () => {
    const dir = project();
    registry.images.set("library/python:3.11-slim-bookworm", { body: '{"python":"3.11"}' });
    const out = await run(["--dir", dir, "--registry", registry.url, "--base"]);
    expect(out).toMatchObject({ code: 0, stdout: `library/python:3.11-slim-bookworm added ${sha('{"python":"3.11"}')}\n` });
    expect(parseImageLock(fs.readFileSync(path.join(dir, IMAGE_LOCK_FILE), "utf8"))["library/python"]).toEqual({ "3.11-slim-bookworm": sha('{"python":"3.11"}') });
  });

  it("writes nothing when the registry fails, and says why", async () => {
    const dir = project();
    const before = fs.readFileSync(path.join(dir, IMAGE_LOCK_FILE), "utf8");
    const out = await run(["--dir", dir, "--registry", registry.url, "--version", "0.98.0", "--version", "0.0.1"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`pin-images: ${REPO}:0.0.1 does not exist in ${registry.url}\n`);
    expect(fs.readFileSync(path.join(dir, IMAGE_LOCK_FILE), "utf8")).toBe(before);
    expect((await run(["--nope"])).code).toBe(2);
  });
});

describe("images.lock.yaml", () => {
  const digest = sha("a");
  it("lists every bad entry at once, naming repository and tag", () => {
    const bad = `${REPO}:\n  "0.98.0": sha256:abc\n  1.10: ${digest}\n  "0.97.0": "${digest}"\n`;
    expect(() => parseImageLock(bad)).toThrow(
      new UserFacingError(`Invalid ${IMAGE_LOCK_FILE}:\n  - ${REPO}:0.98.0 is "sha256:abc", not "sha256:<64 lowercase hex digits>"\n  - ${REPO}: tag 1.10 must be a quoted string\nRewrite an entry with \`npm run pin-images -- --version <tag>\`.`),
    );
    expect(() => parseImageLock("- a\n- b\n")).toThrow(/must map each image repository/);
  });

  it("reads back what the writer writes, as text (a tag like 1.10 stays 1.10)", () => {
    const text = withLockedDigest(`# keep me\n${REPO}: {}\n`, REPO, "1.10", digest);
    expect(text).toBe(`# keep me\n${REPO}:\n  "1.10": "${digest}"\n`);
    expect(parseImageLock(text)).toEqual({ [REPO]: { "1.10": digest } });
  });
});

describe("the program pins the server image by digest", () => {
  const A = sha("0.98.0 as staging ran it");
  const B = sha("0.98.0 re-pushed upstream");
  const P = sha("0.97.0");
  const lock = { [REPO]: { "0.97.0": P, "0.98.0": A } };
  const containersImage = (p: Plan, name: string) => (at(named(p, name).inputs, "spec.template.spec.containers") as { image: string }[])[0].image;
  const failure = (p: Promise<Plan>) => p.then(() => undefined, (e: unknown) => e as ProgramFailed);

  it("renders <ECR cache>:<version>@<digest> into the chart (server and migration hook) and the registration Job", async () => {
    const p = await plan("staging", { imageLock: lock });
    const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub-staging/zenmldocker/zenml-server";
    expect(at(one(p, "kubernetes:helm.sh/v3:Release").inputs, "values.zenml.image")).toEqual({ repository: ecr, tag: `0.98.0@${A}` });
    expect(containersImage(p, "zenml-stack-registration")).toBe(`${ecr}:0.98.0@${A}`);
    expect(p.outputs.serverImageDigests).toEqual({ "0.98.0": A });
    expect(p.warnings.filter((w) => w.includes("not pinned by digest"))).toEqual([]);
  });

  it("warns, and pulls by tag from our cache, while the lock has no digest for the version", async () => {
    const p = await plan("staging", { imageLock: { [REPO]: {} } });
    expect(at(one(p, "kubernetes:helm.sh/v3:Release").inputs, "values.zenml.image.tag")).toBe("0.98.0");
    expect(containersImage(p, "zenml-stack-registration")).toMatch(/\.dkr\.ecr\..*\/docker-hub-staging\/zenmldocker\/zenml-server:0\.98\.0$/);
    expect(p.warnings).toContain(`${REPO}:0.98.0 is not pinned by digest in ${IMAGE_LOCK_FILE} (stack staging): pods pull whatever the tag points to; run \`npm run pin-images -- --version 0.98.0\` where the registry is reachable and commit the file`);
    expect(p.outputs.serverImageDigests).toEqual({});
  });

  it("refuses a new digest for a tag this stack already ran, or dropping it, before any resource is registered", async () => {
    const deployed = { [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.97.0", "0.98.0"], serverImageDigests: { "0.98.0": A } } };
    const moved = await failure(plan("staging", { imageLock: { [REPO]: { "0.98.0": B } }, deployed }));
    expect(moved).toBeInstanceOf(ProgramFailed);
    expect(moved!.message).toContain(`${IMAGE_LOCK_FILE} pins ${REPO}:0.98.0 to ${B}, but stack staging already ran ${A} for that tag: an upstream tag that moved is not the image that was tested; restore ${A}`);
    expect(moved!.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
    const dropped = await failure(plan("staging", { imageLock: { [REPO]: {} }, deployed }));
    expect(dropped!.message).toContain(`${IMAGE_LOCK_FILE} has no digest for ${REPO}:0.98.0, but stack staging already ran ${A} for that tag`);
  });

  it("refuses prod a digest other than the one staging ran for the same version", async () => {
    const deployed = { [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.97.0", "0.98.0"], serverImageDigests: { "0.97.0": P, "0.98.0": A } } };
    const refused = await failure(plan("prod", { imageLock: { [REPO]: { "0.97.0": sha("other bytes") } }, deployed }));
    expect(refused!.message).toContain(`${IMAGE_LOCK_FILE} pins ${REPO}:0.97.0 to ${sha("other bytes")}, but stack prod is promoted from ${stackRef("staging")}, which ran ${P} for that tag`);
    const same = await plan("prod", { imageLock: lock, deployed });
    expect(at(one(same, "kubernetes:helm.sh/v3:Release").inputs, "values.zenml.image.tag")).toBe(`0.97.0@${P}`);
  });

  it("keeps the first digest of every version it ran in its outputs, for the next update and for prod", async () => {
    const deployed = { [stackRef("staging")]: { zenmlVersion: "0.97.0", zenmlVersionHistory: ["0.97.0"], serverImageDigests: { "0.97.0": P } } };
    const p = await plan("staging", { imageLock: lock, deployed });
    expect(p.outputs.serverImageDigests).toEqual({ "0.97.0": P, "0.98.0": A });
  });
});
