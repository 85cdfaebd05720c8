// The docs are the project's map, and a map that drifts sends a newcomer to files that are gone.
// README.md and docs/*.md: every relative link (and its #section) and every repo path in backticks
// exists. docs/ARCHITECTURE.md's tree names only paths that exist, every top-level folder, and every
// file under components/ (by name, or by the line of a folder that stands for its contents).
// README links every doc and its table names every component. Fast tier: it reads files and starts
// nothing.
import * as fs from "node:fs";
import * as path from "node:path";
import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const DOCS = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/**
 * Backticked spans shaped like a path that name no file of the repository, on purpose. Everything
 * else path-shaped must name a file or folder of the checkout.
 */
const NOT_REPO_PATHS = new Set([
  // written at run time by the deploy workflows and the rehearsal
  "deploy-record.json",
  "mlflow-report.json",
  // an upgrade's pre-upgrade documents, in the artifact bucket
  "upgrades/",
  "upgrades/<stack>/<from>-<to>/",
  // GitHub actions, git refs, Pulumi stacks
  "actions/checkout",
  "actions/setup-node",
  "actions/upload-artifact",
  "aws-actions/configure-aws-credentials",
  "pulumi/actions",
  "origin/staging",
  "refs/pull/<n>/merge",
  "organization/zenml-platform/staging",
  // image repositories in ECR and Docker Hub
  "zenml-<stack>/zenml",
  "zenml-platform/<name>",
  "zenml-platform-<env>/post-upgrade",
  "zenml-platform-<env>/mlflow",
  "library/python",
  // a Go module, a file of pulumi-kubernetes, a CIDR (docs/ENGINE.md)
  "github.com/pulumi/pulumi/pkg/v3",
  "provider/pkg/provider/diff.go",
  "10.40.0.0/16",
  // a MIME type, a Kubernetes annotation, a file extension
  "text/plain",
  "pulumi.com/skipAwait",
  "pulumi.com/replaceUnready",
  ".ts",
]);
/** What .gitignore keeps out of a checkout (caches, installs, logs): a path under them is a run-time file. */
const IGNORED = fs
  .readFileSync(path.join(ROOT, ".gitignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const ignored = (name: string) => name === ".git" || IGNORED.some((p) => (p.startsWith("*.") ? name.endsWith(p.slice(1)) : p.replace(/\/$/, "") === name));
const underIgnored = (rel: string) => rel.split("/").some(ignored);

const md = new MarkdownIt();
type Token = MarkdownIt.Token;
const tokensOf = (doc: string): Token[] => md.parse(fs.readFileSync(path.join(ROOT, doc), "utf8"), {});
const inlineChildren = (tokens: Token[]): Token[] => tokens.flatMap((t) => (t.type === "inline" ? (t.children ?? []) : []));
const hrefOf = (link: Token): string => String(link.attrGet("href") ?? "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchorsOf(doc: string): Set<string> {
  const tokens = tokensOf(doc);
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  tokens.forEach((t, i) => {
    if (t.type !== "heading_open") return;
    const text = (tokens[i + 1].children ?? []).map((c) => (c.type === "text" || c.type === "code_inline" ? c.content : "")).join("");
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  });
  return anchors;
}

/** Every file and folder of the checkout (folders end in "/"), caches and installs aside. */
function checkout(rel = ""): string[] {
  return fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true }).flatMap((d) => {
    if (ignored(d.name)) return [];
    const child = `${rel}${d.name}`;
    return d.isDirectory() ? [`${child}/`, ...checkout(`${child}/`)] : [child];
  });
}
const CHECKOUT = checkout();
/** `<x>` stands for one path segment; a folder may be written with or without its "/". */
const pathPattern = (rel: string) => rel.replace(/\/$/, "").split(/<[^>]+>/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^/]+") + "/?";
/** The checkout has this path (relative to its root). */
const exists = (rel: string) => {
  const re = new RegExp(`^${pathPattern(path.posix.normalize(rel))}$`);
  return CHECKOUT.some((p) => re.test(p));
};
/** Some file or folder of the checkout ends in this path: a doc may name a file by its name alone. */
const namesRepoFile = (span: string) => {
  const re = new RegExp(`(^|/)${pathPattern(span.replace(/^\.\//, ""))}$`);
  return CHECKOUT.some((p) => re.test(p));
};

/** A repo path in backticks: path characters only (`<x>` for one segment), and a folder or a file extension. */
const PATH_SHAPED = /^(?:[\w.@-]|<[\w-]+>)+(?:\/(?:[\w.@-]|<[\w-]+>)+)*\/?$/;
const FILE_EXTENSION = /\.(?:ts|cts|mts|cjs|mjs|js|py|sh|md|ya?ml|json|txt|in|toml|svg)$/;
/** npm packages (`@scope/name`) are not paths. */
const isPathShaped = (span: string) => PATH_SHAPED.test(span) && (span.includes("/") || FILE_EXTENSION.test(span)) && !span.startsWith("@");

describe.each(DOCS)("%s", (doc) => {
  const dir = path.posix.dirname(doc);
  const children = inlineChildren(tokensOf(doc));

  it("links only to files, folders and sections that exist", () => {
    const broken: string[] = [];
    for (const t of children.filter((c) => c.type === "link_open")) {
      const href = hrefOf(t);
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
      const [target, anchor] = href.split("#") as [string, string | undefined];
      const rel = target === "" ? doc : path.posix.normalize(path.posix.join(dir, decodeURIComponent(target)));
      if (!exists(rel)) broken.push(`${href}: no ${rel}`);
      else if (anchor !== undefined && rel.endsWith(".md") && !anchorsOf(rel).has(anchor)) broken.push(`${href}: ${rel} has no section #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it("names in backticks only repo paths that exist (or ones it says are not repo paths)", () => {
    const missing = children
      .filter((c) => c.type === "code_inline" && isPathShaped(c.content) && !NOT_REPO_PATHS.has(c.content) && !underIgnored(c.content))
      .map((c) => c.content)
      .filter((span) => !(exists(span) || exists(path.posix.join(dir, span)) || namesRepoFile(span)));
    expect([...new Set(missing)]).toEqual([]);
  });
});

interface TreeEntry {
  /** Repo path of the entry; folders end in "/". */
  path: string;
  /** Names and paths its own line and its description lines mention. */
  text: string;
  /** Entries nested under it (folders only). */
  children: TreeEntry[];
}

/**
 * The folder tree of ARCHITECTURE.md: its first fenced block. An entry line starts with one or more
 * names, indented two spaces per level below the folder above it, and ends at two spaces before its
 * description; a line indented to the description column continues the description.
 */
function architectureTree(): TreeEntry[] {
  const fence = tokensOf("docs/ARCHITECTURE.md").find((t) => t.type === "fence");
  if (!fence) throw new Error("docs/ARCHITECTURE.md has no fenced folder tree");
  const lines = fence.content.split("\n").filter((l) => l.trim() !== "");
  // Where descriptions start: after the first line's name and its run of spaces.
  const descriptionColumn = /^\S+ {2,}/.exec(lines[0])?.[0].length ?? Infinity;
  const roots: TreeEntry[] = [];
  const folders: { indent: number; entry: TreeEntry }[] = [];
  let current: TreeEntry[] = [];
  for (const line of lines) {
    const indent = line.search(/\S/);
    if (indent >= descriptionColumn) {
      for (const e of current) e.text += ` ${line.trim()}`;
      continue;
    }
    while (folders.length > 0 && folders[folders.length - 1].indent >= indent) folders.pop();
    const parent = folders.at(-1)?.entry;
    current = line
      .slice(indent)
      .split(/ {2,}/)[0]
      .split(" ")
      .map((name) => ({ path: `${parent?.path ?? ""}${name}`, text: line, children: [] }));
    (parent?.children ?? roots).push(...current);
    const last = current[current.length - 1];
    if (last.path.endsWith("/")) folders.push({ indent, entry: last });
  }
  return roots;
}

const flatten = (entries: TreeEntry[]): TreeEntry[] => entries.flatMap((e) => [e, ...flatten(e.children)]);

const filesUnder = (folder: string) => CHECKOUT.filter((p) => p.startsWith(folder) && !p.endsWith("/"));

describe("docs/ARCHITECTURE.md is true to the tree", () => {
  const tree = architectureTree();
  const entries = flatten(tree);

  it("names only paths that exist", () => {
    const gone = entries.map((e) => e.path).filter((p) => !exists(p));
    expect(gone).toEqual([]);
  });

  it("has a line for every top-level folder", () => {
    const folders = fs
      .readdirSync(ROOT, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !ignored(d.name))
      .map((d) => `${d.name}/`);
    expect(folders.filter((f) => !tree.some((e) => e.path === f))).toEqual([]);
  });

  it("describes every file under components/, by name or by its folder's line", () => {
    const components = tree.find((e) => e.path === "components/");
    expect(components).toBeDefined();
    const undescribed = filesUnder("components/").filter((file) => {
      if (entries.some((e) => e.path === file)) return false;
      // The deepest folder with a line of its own: its line or description names the file, or, when
      // it lists no entries of its own, the line stands for everything under it.
      const folder = entries.filter((e) => e.path.endsWith("/") && file.startsWith(e.path)).sort((a, b) => b.path.length - a.path.length)[0];
      const name = path.posix.basename(file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const named = new RegExp(`(^|[\\s(,/])${name}($|[\\s),:;])`).test(folder.text);
      return !(named || (folder.children.length === 0 && folder !== components));
    });
    expect(undescribed).toEqual([]);
  });
});

describe("README.md", () => {
  it("links to every doc under docs/", () => {
    const links = inlineChildren(tokensOf("README.md")).flatMap((t) => (t.type === "link_open" ? [hrefOf(t).split("#")[0]] : []));
    expect(DOCS.filter((d) => d !== "README.md" && !links.includes(d))).toEqual([]);
  });

  it("lists every component of the environment in its table", () => {
    const components = filesUnder("components/")
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => [...fs.readFileSync(path.join(ROOT, f), "utf8").matchAll(/super\("zenml-platform:index:(\w+)"/g)].map((m) => m[1]));
    expect(components.length).toBeGreaterThanOrEqual(14);
    const rows = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").filter((l) => l.startsWith("| `"));
    expect(components.filter((c) => !rows.some((r) => r.startsWith(`| \`${c}\` |`)))).toEqual([]);
  });
});
