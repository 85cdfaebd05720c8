// A stand-in `npm` for tests that run workflow steps as written: `npm run [--silent] <script>
// [-- args...]` runs package.json's script from the package's folder with the arguments appended,
// announcing it on stdout unless --silent, as npm does, without npm's own start (~0.3 s of CPU
// each; the process tier ran 22). Anything else fails loudly. tests/npm-stand-in.test.ts holds it
// equal to npm; real npm still runs the smoke alias (tests/gitops-workflows.test.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = `#!/bin/sh
set -e
fail() { echo "npm stand-in: $*" >&2; exit 97; }
[ "$1" = run ] || fail "only 'npm run <script>' is stood in for, got: npm $*"
shift
# --silent, or a caller run with it (npm hands its log level down to the scripts it runs).
silent=false
[ "\${npm_config_loglevel:-}" = silent ] && silent=true
[ "$1" = --silent ] && { silent=true; shift; }
[ -n "$1" ] || fail "npm run needs a script name"
name="$1"; shift
if [ "$#" -gt 0 ]; then [ "$1" = -- ] || fail "arguments go after --, got: $*"; shift; fi
root="$PWD"
while [ ! -f "$root/package.json" ]; do [ "$root" = / ] && fail "no package.json above $PWD"; root="$(dirname "$root")"; done
script="$(node -e 'const s = require(process.argv[1]).scripts?.[process.argv[2]]; if (s === undefined) process.exit(3); process.stdout.write(s);' "$root/package.json" "$name")" || { echo "npm error Missing script: \\"$name\\"" >&2; exit 1; }
cd "$root"
# Without --silent npm announces the script on stdout: a step that parses stdout must pass --silent.
$silent || printf '\n> %s %s\n> %s\n\n' "$(node -p 'const p = require("./package.json"); p.name + "@" + p.version')" "$name" "$script\${*:+ $*}"
PATH="$root/node_modules/.bin:$PATH" exec sh -c "$script \\"\\$@\\"" "$name" "$@"
`;

/** A folder holding the stand-in `npm`, to put first on PATH. */
export function npmStandIn(): string {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "npm-stand-in-"));
  fs.writeFileSync(path.join(bin, "npm"), SCRIPT, { mode: 0o755 });
  return bin;
}
