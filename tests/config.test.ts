import { describe, expect, it } from "vitest";
import { FIELDS, parseConfig, type PlatformConfig } from "../components/config";
import { ProgramFailed } from "../tools/offline/plan-result";
import { readStackConfig } from "../tools/offline/stack-files";
import { PROJECT_DIR, plan } from "./helpers/plan";

const K = (key: string) => `zenml-platform:${key}`;

function raw(stack: "staging" | "prod", changes: Record<string, string | undefined> = {}): Record<string, string> {
  const values = { ...readStackConfig(PROJECT_DIR, stack).values };
  for (const [key, value] of Object.entries(changes)) {
    const full = key.includes(":") ? key : K(key);
    if (value === undefined) delete values[full];
    else values[full] = value;
  }
  return values;
}

function errorOf(stack: "staging" | "prod", changes: Record<string, string | undefined>, secretKeys: string[] = []): string {
  try {
    parseConfig(stack, raw(stack, changes), secretKeys);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the config to be refused");
}

describe("config validation", () => {
  it("accepts both real stack files", () => {
    const staging: PlatformConfig = parseConfig("staging", raw("staging"));
    const prod = parseConfig("prod", raw("prod"));
    expect(staging).toMatchObject({ environment: "staging", isProd: false, zenmlVersion: "0.98.0", availabilityZones: 2, region: "eu-west-1" });
    expect(prod).toMatchObject({ environment: "prod", isProd: true, zenmlVersion: "0.97.0", availabilityZones: 3, dbMultiAz: true });
  });

  it("names the key, the stack and what is allowed for a wrong type", () => {
    const message = errorOf("staging", { serverReplicas: "two" });
    expect(message).toContain(`stack "staging"`);
    expect(message).toContain("zenml-platform:serverReplicas");
    expect(message).toMatch(/"two" is not an integer \(allowed: an integer 1\.\.10/);
    expect(errorOf("staging", { dbMultiAz: "yes" })).toMatch(/dbMultiAz: "yes" is not true or false/);
    expect(errorOf("staging", { clusterPublicAccessCidrs: "10.0.0.0/8" })).toMatch(/clusterPublicAccessCidrs: 10\.0\.0\.0\/8 is not a list/);
  });

  it("refuses unknown keys, listing the known ones", () => {
    expect(errorOf("prod", { zenmlVersoin: "0.97.0" })).toMatch(/zenml-platform:zenmlVersoin: is not a known key \(did you mean zenml-platform:zenmlVersion\?\) \(known: environment, zenmlVersion,/);
  });

  it("refuses missing keys, but not keys with a declared default", () => {
    expect(errorOf("prod", { certificateArn: undefined })).toMatch(/zenml-platform:certificateArn: is missing \(allowed: an ACM certificate ARN/);
    expect(parseConfig("staging", raw("staging", { rollbackSnapshot: undefined })).rollbackSnapshot).toBe("");
    expect(errorOf("staging", { "aws:region": undefined })).toMatch(/aws:region: is missing/);
  });

  it("refuses out-of-range sizes", () => {
    expect(errorOf("staging", { dbAllocatedStorageGb: "5" })).toMatch(/dbAllocatedStorageGb: 5 is not allowed \(allowed: an integer 20\.\.16384\)/);
    expect(errorOf("staging", { dbBackupRetentionDays: "36" })).toMatch(/dbBackupRetentionDays: 36 is not allowed/);
    expect(errorOf("staging", { logRetentionDays: "10" })).toMatch(/logRetentionDays: 10 is not allowed \(allowed: one of 1, 3, 5, 7, 14/);
    expect(errorOf("staging", { dbMaxAllocatedStorageGb: "10" })).toMatch(/dbMaxAllocatedStorageGb/);
    expect(errorOf("staging", { dbMaxAllocatedStorageGb: "19", dbAllocatedStorageGb: "20" })).toMatch(/dbMaxAllocatedStorageGb/);
    expect(errorOf("staging", { clusterPublicAccessCidrs: '["0.0.0.0/0"]' })).toMatch(/clusterPublicAccessCidrs.*0\.0\.0\.0\/0 is refused/);
  });

  it("refuses version strings that are not exact releases, saying why", () => {
    expect(errorOf("staging", { zenmlVersion: "latest" })).toMatch(/zenmlVersion: "latest" is a moving tag/);
    expect(errorOf("staging", { zenmlVersion: "v0.98.0" })).toMatch(/zenmlVersion: "v0\.98\.0" has a "v" prefix/);
    expect(errorOf("staging", { zenmlVersion: "0.98" })).toMatch(/no patch number/);
  });

  it("refuses overlapping backup and maintenance windows", () => {
    const message = errorOf("prod", { dbBackupWindow: "04:30-05:30", dbMaintenanceWindow: "sun:04:00-sun:05:00" });
    expect(message).toContain(`stack "prod"`);
    expect(message).toMatch(/dbBackupWindow: "04:30-05:30" overlaps dbMaintenanceWindow "sun:04:00-sun:05:00"/);
  });

  it("holds prod to its floors", () => {
    const message = errorOf("prod", { dbBackupRetentionDays: "7", serverReplicas: "1", availabilityZones: "2", dbMultiAz: "false", natGateways: "Single" });
    expect(message).toMatch(/dbBackupRetentionDays: prod keeps automated backups at least 14 days, got 7/);
    expect(message).toMatch(/serverReplicas: prod runs at least 2 server replicas/);
    expect(message).toMatch(/availabilityZones: prod spans at least 3/);
    expect(message).toMatch(/dbMultiAz: prod runs the database Multi-AZ/);
    expect(message).toMatch(/natGateways: prod uses OnePerAz/);
    expect(errorOf("staging", { dbBackupRetentionDays: "3" })).toMatch(/staging keeps automated backups at least 7 days, got 3/);
  });

  it("refuses an environment kind outside the allowed set", () => {
    expect(errorOf("staging", { environment: "production" })).toMatch(/environment: "production" is not allowed \(allowed: one of staging, prod\)/);
  });

  it("refuses secrets stored for settings that are not sensitive", () => {
    expect(errorOf("staging", {}, [K("certificateArn")])).toMatch(/certificateArn: is stored as a secret/);
  });

  it("validates rollback settings", () => {
    expect(errorOf("staging", { rollbackSnapshot: "my-manual-snapshot" })).toMatch(/rollbackSnapshot: "my-manual-snapshot" is not allowed \(allowed: "" or a pre-upgrade snapshot identifier/);
    expect(errorOf("staging", { rollbackSnapshot: "zenml-prod-pre-upgrade-0-97-0-to-0-98-0", zenmlVersion: "0.97.0" })).toMatch(/belongs to stack "prod"/);
    expect(errorOf("staging", { rollbackSnapshot: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0", zenmlVersion: "0.96.0" })).toMatch(/zenmlVersion must be "0\.97\.0" or later/);
  });

  it("requires prod, and only prod, to name its promotion source", () => {
    expect(errorOf("prod", { promotionSourceStack: "" })).toMatch(/promotionSourceStack: prod must name the stack it is promoted from/);
    expect(errorOf("staging", { promotionSourceStack: "organization/zenml-platform/prod" })).toMatch(/staging is the first environment/);
  });

  it("reports every problem at once", () => {
    const message = errorOf("staging", { serverReplicas: "0", zenmlVersion: "latest", bogus: "1" });
    expect(message.split("\n").filter((l) => l.startsWith("  - "))).toHaveLength(3);
  });

  it("keeps a description of what is allowed for every key", () => {
    for (const [key, field] of Object.entries(FIELDS)) expect(field.allowed.length, key).toBeGreaterThan(5);
  });
});

describe("bad config stops the program before any resource is registered", () => {
  it.each(["staging", "prod"])("%s", async (stack) => {
    const failure = await plan(stack, { overrides: { dbBackupWindow: "03:30-04:30", dbMaintenanceWindow: "sun:04:00-sun:05:00" } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ProgramFailed);
    expect((failure as ProgramFailed).userFacing).toBe(true);
    expect((failure as ProgramFailed).message).toMatch(/overlaps dbMaintenanceWindow/);
    expect((failure as ProgramFailed).registeredTypes).toEqual([]);
  });
});
