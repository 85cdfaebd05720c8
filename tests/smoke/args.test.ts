import { describe, expect, it } from "vitest";
import { UsageError } from "../../tools/cli-io";
import { DEFAULT_DEPLOYMENT, backoffDelay, normalizeUrl, parseSmokeArgs } from "../../tools/smoke/args";
import { targetFromOutputs } from "../../tools/smoke/pulumi-stack";

describe("parseSmokeArgs", () => {
  it("parses url + version and applies defaults", () => {
    const o = parseSmokeArgs(["--url", "https://zenml.example.com/", "--expect-version", "0.98.0"]);
    expect(o).toMatchObject({
      url: "https://zenml.example.com",
      expectVersion: "0.98.0",
      expectDeployment: DEFAULT_DEPLOYMENT,
      expectDatabase: "mysql",
      timeoutSec: 10,
      retries: 5,
      backoffMs: 1000,
      maxBackoffMs: 30000,
      json: false,
    });
    expect(o.expectStack).toBeUndefined();
  });

  it("reads every option", () => {
    const o = parseSmokeArgs([
      "--url", "http://127.0.0.1:8080", "--expect-version", "0.97.0", "--expect-deployment", "other",
      "--expect-stack", "aws-stack", "--timeout", "2.5", "--retries", "0", "--backoff-ms", "50", "--json",
    ]);
    expect(o).toMatchObject({ expectDeployment: "other", expectStack: "aws-stack", timeoutSec: 2.5, retries: 0, backoffMs: 50, json: true });
  });

  it("accepts --stack without url/version (read from pulumi later)", () => {
    const o = parseSmokeArgs(["--stack", "staging"]);
    expect(o.stack).toBe("staging");
    expect(o.url).toBeUndefined();
  });

  it.each([
    [[], /--url \(or --stack\) is required/],
    [["--url", "http://x"], /--expect-version is required/],
    [["--url", "http://x", "--stack", "s", "--expect-version", "1.2.3"], /either --url or --stack/],
    [["--url", "http://x", "--expect-version", "latest"], /X\.Y\.Z/],
    [["--url", "ftp://x", "--expect-version", "1.2.3"], /http\(s\)/],
    [["--url", "not a url", "--expect-version", "1.2.3"], /not a valid URL/],
    [["--url", "https://u:p@x", "--expect-version", "1.2.3"], /credentials/],
    [["--url", "http://x", "--expect-version", "1.2.3", "--timeout", "abc"], /--timeout must be a number/],
    [["--url", "http://x", "--expect-version", "1.2.3", "--retries=-1"], /--retries must be a number >= 0/],
    [["--url", "http://x", "--expect-version", "1.2.3", "--bogus"], /Unknown option/],
  ])("rejects %j", (argv, msg) => {
    expect(() => parseSmokeArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseSmokeArgs(argv as string[])).toThrow(msg as RegExp);
  });

  it("help short-circuits validation", () => {
    expect(parseSmokeArgs(["-h"]).help).toBe(true);
  });
});

describe("backoffDelay", () => {
  it("doubles from the first delay and caps", () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 1000, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});

describe("normalizeUrl", () => {
  it("strips trailing slashes but keeps a path prefix", () => {
    expect(normalizeUrl("https://h.example.com/zenml//")).toBe("https://h.example.com/zenml");
  });
});

describe("targetFromOutputs", () => {
  it("picks url and version from stack outputs", () => {
    expect(targetFromOutputs({ serverUrl: "https://z.example.com/", zenmlVersion: "0.98.0" }, "staging")).toEqual({
      url: "https://z.example.com",
      version: "0.98.0",
    });
  });
  it("picks the registered ZenML stack when the environment reports one", () => {
    expect(targetFromOutputs({ serverUrl: "https://z.example.com", zenmlVersion: "0.98.0", zenmlStackName: "aws-prod" }, "prod").zenmlStack).toBe("aws-prod");
  });
  it("says which output is missing", () => {
    expect(() => targetFromOutputs({ zenmlVersion: "0.98.0" }, "prod")).toThrow(/stack prod has no output serverUrl/);
    expect(() => targetFromOutputs({ serverUrl: "https://z" }, "prod")).toThrow(/no output zenmlVersion/);
  });
});
