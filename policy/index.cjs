// The pack's entry (package.json "main"). Pulumi's policy runner always registers ts-node with
// type-checking; on a fresh CI runner (empty ts-node cache) that parses the types of everything the
// pack imports before it answers: 5.7 s, against 1.8 s with a warm cache. The pack's .ts files load
// through the project's loader instead (esbuild, transpile-only: the same as `pulumi preview`), and
// `npm run typecheck` checks them once in CI. The loader registers after ts-node, so it is the one
// Node uses for .ts.
"use strict";
require("../tools/loader/register.cjs");
module.exports = require("./index.ts");
