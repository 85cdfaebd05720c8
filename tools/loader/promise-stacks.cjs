// Pulumi's runtime records `new Error().stack` for every promise it makes (runtime/debuggable.js)
// and prints those stacks only for a program that leaks promises, with PULUMI_DEBUG_PROMISE_LEAKS
// set. Formatting them (source-mapped, by our loader or the test runner) was 45% of a plan's time.
"use strict";
const path = require("node:path");

const RECORDER = path.join("@pulumi", "pulumi", "runtime", "debuggable.js");

/** True for a stack Pulumi records and will never show. */
function isUnreadPromiseRecord(frames) {
  const top = frames[0];
  return top !== undefined && top.getFunctionName() === "debuggablePromise" && (top.getFileName() ?? "").endsWith(RECORDER) && !process.env.PULUMI_DEBUG_PROMISE_LEAKS;
}

/** `Error: message` and one `at` line per frame, as Node prints a stack. */
const plainFormat = (error, frames) => [String(error), ...frames.map((f) => `    at ${f}`)].join("\n");

/** An Error.prepareStackTrace that leaves those stacks unformatted and gives every other one to `prepare`. */
function skippingPromiseRecords(prepare) {
  const next = prepare ?? plainFormat;
  return (error, frames) => (isUnreadPromiseRecord(frames) ? `${error}\n    (Pulumi's promise stack: set PULUMI_DEBUG_PROMISE_LEAKS=1 to record it)` : next(error, frames));
}

module.exports = { isUnreadPromiseRecord, plainFormat, skippingPromiseRecords };
