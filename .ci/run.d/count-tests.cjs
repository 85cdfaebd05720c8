// The closing line of .ci/run: every test the run ran, from each suite's own report.
//   node .ci/run.d/count-tests.cjs <vitest json> <pytest junit xml>... <rehearsal or engine report json>...
// Each pytest suite, each rehearsal and the engine suite writes its own report; every one given is counted.
// A missing or unreadable report is a failure: a suite that reported nothing did not pass.
"use strict";
const fs = require("node:fs");
const [vitestFile, ...rest] = process.argv.slice(2);
const junitFiles = rest.filter((f) => f.endsWith(".xml"));
const rehearsalFiles = rest.filter((f) => f.endsWith(".json"));
const suites = [];
// Suites of one kind are summed, so the detail reads "pytest 42", not one entry per report.
function add(suite) {
  const same = suites.find((s) => s.name === suite.name);
  if (!same) suites.push(suite);
  else for (const k of ["passed", "failed", "other"]) same[k] += suite[k];
}
const problems = [];

function read(file, what) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    problems.push(`${what}: no report at ${file}`);
    return undefined;
  }
}

const vitest = read(vitestFile, "vitest");
if (vitest !== undefined) {
  const r = JSON.parse(vitest);
  add({ name: "vitest", passed: r.numPassedTests, failed: r.numFailedTests, other: r.numPendingTests + r.numTodoTests, otherLabel: "skipped" });
}
for (const junitFile of junitFiles) {
  const junit = read(junitFile, "pytest");
  if (junit === undefined) continue;
  // pytest writes one <testsuite> with the totals as attributes.
  const attr = (name) => Number(new RegExp(`<testsuite\\b[^>]*\\b${name}="(\\d+)"`).exec(junit)?.[1] ?? NaN);
  const [tests, failures, errors, skipped] = ["tests", "failures", "errors", "skipped"].map(attr);
  if ([tests, failures, errors, skipped].some(Number.isNaN)) problems.push(`pytest: ${junitFile} has no testsuite totals`);
  else add({ name: "pytest", passed: tests - failures - errors - skipped, failed: failures + errors, other: skipped, otherLabel: "skipped" });
}
for (const rehearsalFile of rehearsalFiles) {
  const rehearsal = read(rehearsalFile, "rehearsal");
  if (rehearsal === undefined) continue;
  // The engine suite's report (npm run test:engine -- --report) lists scenario results instead of checks.
  const engine = JSON.parse(rehearsal).results;
  if (Array.isArray(engine)) {
    if (engine.length === 0) problems.push(`engine: ${rehearsalFile} lists no scenarios`);
    else add({ name: "engine scenarios", passed: engine.filter((r) => r.passed).length, failed: engine.filter((r) => !r.passed).length, other: 0, otherLabel: "" });
    continue;
  }
  const checks = JSON.parse(rehearsal).checks;
  if (!Array.isArray(checks) || checks.length === 0) problems.push(`rehearsal: ${rehearsalFile} lists no checks`);
  else {
    const count = (status) => checks.filter((c) => c.status === status).length;
    add({ name: "rehearsal checks", passed: count("pass"), failed: count("fail"), other: checks.length - count("pass") - count("fail"), otherLabel: "staging-only" });
  }
}

const total = (key) => suites.reduce((n, s) => n + s[key], 0);
const detail = suites.map((s) => `${s.name} ${s.passed}${s.failed ? ` (${s.failed} failed)` : ""}${s.other ? ` (+${s.other} ${s.otherLabel})` : ""}`).join(", ");
for (const p of problems) console.log(`tests: ${p}`);
console.log(`tests: ${total("passed")} passed, ${total("failed")} failed — ${detail}`);
process.exit(problems.length || total("failed") ? 1 : 0);
