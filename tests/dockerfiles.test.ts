// The Dockerfiles of the images we build, checked by hadolint (a well-kept linter, from PyPI).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BUILT_IMAGES } from "../components/kit/built-images";
import { PROJECT_DIR } from "./helpers/plan";

const HADOLINT = path.join(PROJECT_DIR, "tools", "images", "hadolint.sh");
const hadolint = (...args: string[]) => spawnSync("bash", [HADOLINT, ...args], { cwd: PROJECT_DIR, encoding: "utf8" });

describe("hadolint", () => {
  it("finds nothing in the Dockerfile of each image we build", () => {
    const files = Object.values(BUILT_IMAGES).map((i) => `${i.dir}/Dockerfile`);
    const r = hadolint(...files);
    expect(`${r.stdout}${r.stderr}`.replace(/^\[hadolint\].*\n/m, "")).toBe("");
    expect(r.status).toBe(0);
  }, 180_000);

  it("really lints: an unpinned base and an unpinned apt install are findings", () => {
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hadolint-")), "Dockerfile");
    fs.writeFileSync(bad, "FROM python:latest\nRUN apt-get update && apt-get install -y curl\nRUN pip install zenml\n");
    const r = hadolint(bad);
    expect(r.status).not.toBe(0);
    for (const rule of ["DL3007", "DL3008", "DL3013"]) expect(r.stdout).toContain(rule);
  }, 180_000);
});
