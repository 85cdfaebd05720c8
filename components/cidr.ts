// Pure: IP ranges parsed with ipaddr.js, never compared as strings, so "the whole internet" is
// recognised however it is spelt or split, and host bits or reserved ranges cannot slip through.
import * as ipaddr from "ipaddr.js";

/** Shortest prefix one allow-list entry may have: anything wider is a typo or an open door. */
export const WIDEST_ALLOW_PREFIX = 8;
/** Most addresses a whole allow-list may cover (one /8): a split of the internet into pieces exceeds it. */
export const MAX_ALLOWED_ADDRESSES = 2 ** 24;
const IPV4_SPACE = 2 ** 32;

// Documentation ranges (RFC 5737) are what example stack files use; they widen nothing.
const DOCUMENTATION = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((c) => ipaddr.IPv4.parseCIDR(c));
const PRIVATE_RANGES = ["private", "carrierGradeNat"];

export interface Range {
  first: number;
  /** Exclusive. */
  end: number;
}

export type ParsedCidr = { cidr: string; range: Range; prefix: number } | { error: string };

const toNumber = (a: ipaddr.IPv4) => a.toByteArray().reduce((n, b) => n * 256 + b, 0);

/** One IPv4 CIDR in canonical a.b.c.d/n form, host bits clear. */
export function parseCidr(text: string): ParsedCidr {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text.trim());
  } catch {
    return { error: "is not a CIDR (a.b.c.d/n)" };
  }
  const [address, prefix] = parsed;
  if (address.kind() === "ipv6") return { error: prefix === 0 ? "is the whole IPv6 internet" : "is IPv6; only IPv4 ranges are accepted here" };
  const v4 = address as ipaddr.IPv4;
  const addressText = text.trim().split("/")[0];
  if (!ipaddr.IPv4.isValidFourPartDecimal(addressText)) {
    return { error: prefix === 0 ? "is the whole internet" : `is not written as four decimal parts; write ${v4.toString()}/${prefix}` };
  }
  const network = ipaddr.IPv4.networkAddressFromCIDR(`${v4.toString()}/${prefix}`);
  if (network.toString() !== v4.toString()) return { error: `has host bits set; the network is ${network.toString()}/${prefix}` };
  const first = toNumber(network);
  return { cidr: `${network.toString()}/${prefix}`, range: { first, end: first + 2 ** (32 - prefix) }, prefix };
}

/** Addresses covered by the union of ranges. */
export function coveredAddresses(ranges: Range[]): number {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  let total = 0;
  let reach = -1;
  for (const r of sorted) {
    const start = Math.max(r.first, reach);
    if (r.end > start) total += r.end - start;
    reach = Math.max(reach, r.end);
  }
  return total;
}

export const overlaps = (a: Range, b: Range) => a.first < b.end && b.first < a.end;

function rangeKind(cidr: string): string {
  const [address] = ipaddr.IPv4.parseCIDR(cidr);
  if (DOCUMENTATION.some((d) => address.match(d))) return "unicast";
  return address.range();
}

export interface AllowListOptions {
  /** Sources reach a public endpoint: private and shared (CGNAT) ranges can never match. */
  publicSources: boolean;
}

/** Problems with an allow-list of source CIDRs, one per entry plus one for the list as a whole. */
export function allowListProblems(entries: readonly unknown[], options: AllowListOptions): string[] {
  const problems: string[] = [];
  const ranges: Range[] = [];
  for (const entry of entries) {
    const shown = JSON.stringify(typeof entry === "string" ? boundedText(entry) : entry) ?? String(entry);
    if (typeof entry !== "string") {
      problems.push(`${shown} is not a CIDR string`);
      continue;
    }
    const parsed = parseCidr(entry);
    if ("error" in parsed) {
      problems.push(`${shown} ${parsed.error}`);
      continue;
    }
    if (parsed.prefix === 0) {
      problems.push(`${shown} is the whole internet`);
      continue;
    }
    const kind = rangeKind(parsed.cidr);
    if (parsed.prefix < WIDEST_ALLOW_PREFIX) problems.push(`${shown} is wider than /${WIDEST_ALLOW_PREFIX} (${(parsed.range.end - parsed.range.first).toLocaleString("en-US")} addresses)`);
    else if (kind !== "unicast" && !PRIVATE_RANGES.includes(kind)) problems.push(`${shown} is a reserved range (${kind}), never a real source`);
    else if (options.publicSources && PRIVATE_RANGES.includes(kind)) problems.push(`${shown} is a ${kind === "private" ? "private" : "shared (CGNAT)"} range, which never reaches a public endpoint`);
    ranges.push(parsed.range);
  }
  const covered = coveredAddresses(ranges);
  if (covered >= IPV4_SPACE) problems.push("together the entries cover the whole internet");
  else if (covered > MAX_ALLOWED_ADDRESSES) problems.push(`together the entries cover ${covered.toLocaleString("en-US")} addresses, more than a /8`);
  return problems;
}

/** True when every entry is a spelling or split of the whole IPv4 (or IPv6) internet. */
export function isOpenToAll(entries: readonly string[]): boolean {
  if (entries.some((e) => { try { const [a, p] = ipaddr.parseCIDR(e.trim()); return a.kind() === "ipv6" && p === 0; } catch { return false; } })) return true;
  const ranges: Range[] = [];
  for (const e of entries) {
    try {
      const [a, p] = ipaddr.parseCIDR(e.trim());
      if (a.kind() !== "ipv4") continue;
      const first = toNumber(ipaddr.IPv4.networkAddressFromCIDR(`${a.toString()}/${p}`));
      ranges.push({ first, end: first + 2 ** (32 - p) });
    } catch {
      // not a CIDR: reported elsewhere
    }
  }
  return coveredAddresses(ranges) >= IPV4_SPACE;
}

/** Values echoed back in errors are cut, so a 100 kB value cannot flood the terminal or a CI log. */
export const ECHO_LIMIT = 80;
export function boundedText(text: string, limit = ECHO_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length} characters)`;
}
