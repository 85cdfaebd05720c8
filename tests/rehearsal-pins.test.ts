import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..");
const pinOf = (stack: string) => spawnSync("bash", [path.join(ROOT, "rehearsal/pin.sh"), stack], { encoding: "utf8" });

describe("the rehearsal follows the pins", () => {
  it("reads FROM (prod) and TO (staging) from the stack files, as YAML reads them", () => {
    for (const stack of ["prod", "staging"]) {
      const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
      const r = pinOf(stack);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(String(file.config["zenml-platform:zenmlVersion"]));
    }
  });

  it("fails loudly for a stack file without a pin instead of rehearsing nothing", () => {
    const r = pinOf("no-such-stack");
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no zenml-platform:zenmlVersion in .*Pulumi\.no-such-stack\.yaml/);
  });

  it("every CI script that needs the versions takes them from pin.sh, not from a copy", () => {
    for (const script of [".ci/run.d/prepare-python.sh", "post_upgrade/run-tests.sh", "rehearsal/rehearse.sh"]) {
      const text = fs.readFileSync(path.join(ROOT, script), "utf8");
      expect(text, script).toMatch(/rehearsal\/pin\.sh" prod|rehearsal\/pin\.sh prod/);
      expect(text, script).not.toMatch(/zenml-platform:zenmlVersion/);
    }
  });
});
