// `node --require` this to prove a command answers without loading Pulumi: requiring any
// @pulumi/* package fails the process with a line naming who asked for it.
"use strict";
const Module = require("node:module");
const load = Module._load;
Module._load = function loadWithoutPulumi(request, parent, ...rest) {
  if (/^@pulumi\//.test(request)) {
    process.stderr.write(`forbid-pulumi: ${request} required by ${parent?.filename}\n`);
    process.exit(99);
  }
  return load.call(this, request, parent, ...rest);
};
