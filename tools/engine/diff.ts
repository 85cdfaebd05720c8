// How the local plugins answer the engine's Diff: which inputs changed, and which of those force a
// replacement (tools/engine/replacements.ts). Pure: values arrive as the gRPC struct's JavaScript,
// where a secret is a signature-tagged object and an unknown (a preview's not-yet-known output) is
// a sentinel string.

/** The engine's marker for a value not known during a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SIGNATURE = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A value with every secret unwrapped (secretness does not make a value different). */
export function reveal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reveal);
  if (!isObject(value)) return value;
  if (value[SIGNATURE] === SECRET_SIGNATURE) return reveal(value.value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
}

const containsUnknown = (v: unknown): boolean => v === UNKNOWN || (Array.isArray(v) ? v.some(containsUnknown) : isObject(v) && Object.values(v).some(containsUnknown));

/** Equal as inputs: unknowns are never equal to anything; absent, null and empty are not told apart from each other. */
function same(a: unknown, b: unknown): boolean {
  if (containsUnknown(a) || containsUnknown(b)) return false;
  const empty = (v: unknown) => v === undefined || v === null;
  if (empty(a) || empty(b)) return empty(a) && empty(b);
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .filter((k) => v[k] !== undefined && v[k] !== null)
      .sort()
      .map((k) => [k, canonical(v[k])]),
  );
}

/** The values at a dotted path, descending through lists element by element. */
function at(value: unknown, path: string[]): unknown {
  if (path.length === 0) return value;
  if (value === UNKNOWN) return UNKNOWN;
  if (Array.isArray(value)) return value.map((v) => at(v, path));
  if (!isObject(value)) return undefined;
  return at(value[path[0]], path.slice(1));
}

export interface InputDiff {
  /** Top-level inputs whose value differs. */
  changed: string[];
  /** Paths from `replaceOn` whose value differs: the reasons for a replacement. */
  replaces: string[];
}

/** Compares a resource's previous inputs with its new ones. */
export function diffInputs(olds: Record<string, unknown>, news: Record<string, unknown>, replaceOn: readonly string[]): InputDiff {
  const oldPlain = reveal(olds) as Record<string, unknown>;
  const newPlain = reveal(news) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(oldPlain), ...Object.keys(newPlain)])].sort();
  const changed = keys.filter((k) => !same(oldPlain[k], newPlain[k]));
  const replaces = replaceOn.filter((p) => changed.includes(p.split(".")[0]) && !same(at(oldPlain, p.split(".")), at(newPlain, p.split("."))));
  return { changed, replaces };
}

/** The API server a kubeconfig (JSON or its unknown) points at, the identity pulumi-kubernetes' DiffConfig compares. */
export function kubeconfigServer(kubeconfig: unknown): string | undefined {
  const plain = reveal(kubeconfig);
  if (typeof plain !== "string") return undefined;
  try {
    const config = JSON.parse(plain) as { clusters?: { cluster?: { server?: string } }[] };
    return config.clusters?.[0]?.cluster?.server;
  } catch {
    return undefined;
  }
}

/**
 * A Kubernetes provider's DiffConfig, as pulumi-kubernetes answers it: replaced when the kubeconfig
 * becomes unknown (a cluster being replaced) or points at another cluster; else an update at most.
 */
export function diffKubernetesProvider(olds: Record<string, unknown>, news: Record<string, unknown>): InputDiff {
  const { changed } = diffInputs(olds, news, []);
  if (changed.length === 0) return { changed, replaces: [] };
  if (containsUnknown(news.kubeconfig)) return { changed, replaces: ["kubeconfig"] };
  const before = kubeconfigServer(olds.kubeconfig);
  const after = kubeconfigServer(news.kubeconfig);
  return { changed, replaces: before !== undefined && after !== undefined && before !== after ? ["kubeconfig"] : [] };
}
