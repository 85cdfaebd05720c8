import { describe, expect, it } from "vitest";
import { plan } from "./helpers/plan";

describe("repeated plans in one process", () => {
  it("do not leak resources between runs", async () => {
    const a = await plan("staging");
    const b = await plan("prod");
    const c = await plan("staging");
    expect(a.resources.length).toBe(c.resources.length);
    expect(b.stack).toBe("prod");
    expect(c.outputs.clusterName).toBe("zenml-staging");
  });
});
