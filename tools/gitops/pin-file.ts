// Edits one part's version pin in a stack file in place: only the value's bytes change, comments
// and formatting stay. `yaml` finds the exact source range; the edit is a splice at that range.
// An add-on's pin is its "<add-on>=<version>" entry in eksAddonVersions.
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { isScalar, isSeq, parseDocument, type Document } from "yaml";
import { ADDON_PINS_KEY, addonOf, partRule, partsInOrder } from "../../components/parts";

const PROJECT = "zenml-platform";
/** ZenML's pin, the key other tools (images, rehearsal) read. */
export const PIN_KEY = `${PROJECT}:zenmlVersion`;
/** The stack file key that pins a part. */
export const pinKey = (part: string) => `${PROJECT}:${partRule(part).configKey}`;

export class PinFileError extends Error {}

export interface PinLocation {
  /** The pinned version; "" for an optional part that is off, or an add-on at AWS's default. */
  value: string;
  /** Where the bytes to replace are; for an add-on not pinned yet, where its entry goes. */
  start: number;
  end: number;
  quote: "" | '"' | "'";
  /** How a new value is written at [start, end) (add-ons: a whole entry, or a new list). */
  render: (version: string) => string;
}

function parse(text: string, fileName: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: true });
  if (doc.errors.length > 0) throw new PinFileError(`${fileName} cannot be parsed: ${doc.errors[0].message.split("\n")[0]}`);
  return doc;
}

/** An add-on's entry in the eksAddonVersions list, or the place a new one goes. */
function locateAddonPin(doc: Document, text: string, fileName: string, addon: string): PinLocation {
  const key = `${PROJECT}:${ADDON_PINS_KEY}`;
  const node = doc.getIn(["config", key], true);
  if (!isSeq(node) || !node.range) throw new PinFileError(`${fileName} has no ${key} list under config:`);
  for (const item of node.items) {
    if (!isScalar(item) || typeof item.value !== "string" || !item.range || !item.value.startsWith(`${addon}=`)) continue;
    const raw = text.slice(item.range[0], item.range[1]);
    const quote = raw.startsWith('"') ? '"' : raw.startsWith("'") ? "'" : "";
    const start = item.range[0] + quote.length + addon.length + 1;
    return { value: item.value.slice(addon.length + 1), start, end: start + item.value.length - addon.length - 1, quote: "", render: (v) => v };
  }
  const entry = (v: string) => JSON.stringify(`${addon}=${v}`);
  const flow = node.flow;
  const [start, end] = node.range;
  if (flow && node.items.length === 0) return { value: "", start, end: text.indexOf("]", start) + 1, quote: "", render: (v) => `[${entry(v)}]` };
  if (flow) {
    const close = text.lastIndexOf("]", end);
    return { value: "", start: close, end: close, quote: "", render: (v) => `, ${entry(v)}` };
  }
  // A block list: one more line, indented like the others.
  const last = node.items.at(-1) as { range?: [number, number, number] };
  const lineEnd = text.indexOf("\n", last.range![1]);
  const lineStart = text.lastIndexOf("\n", last.range![0]) + 1;
  const indent = text.slice(lineStart, last.range![0]);
  return { value: "", start: lineEnd, end: lineEnd, quote: "", render: (v) => `\n${indent}${entry(v)}` };
}

/** Where a part's pin sits in the text; throws if the file cannot be parsed or has no such key. */
export function locatePin(text: string, fileName: string, part = "zenml"): PinLocation {
  const doc = parse(text, fileName);
  const addon = addonOf(part);
  if (addon) return locateAddonPin(doc, text, fileName, addon);
  const key = pinKey(part);
  const node = doc.getIn(["config", key], true);
  if (!isScalar(node) || !node.range) throw new PinFileError(`${fileName} has no ${key} under config:`);
  if (typeof node.value !== "string") throw new PinFileError(`${fileName}: ${key} is ${JSON.stringify(node.value)}, not a version string`);
  const [start, end] = node.range;
  const raw = text.slice(start, end);
  const quote = raw.startsWith('"') ? '"' : raw.startsWith("'") ? "'" : "";
  return { value: node.value, start, end, quote, render: (v) => `${quote}${v}${quote}` };
}

export function readPin(file: string, part = "zenml"): { text: string; pin: PinLocation } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new PinFileError(`${path.basename(file)} cannot be read`);
  }
  return { text, pin: locatePin(text, path.basename(file), part) };
}

/** Every part's pin in a stack file's text (parts that are off or at AWS's default are absent). */
export function pinnedVersions(text: string, fileName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rule of partsInOrder()) {
    const value = locatePin(text, fileName, rule.name).value;
    if (value !== "") out[rule.name] = value;
  }
  return out;
}

/** The same text with only the pin's value replaced (quoting style kept). */
export function withPin(text: string, pin: PinLocation, version: string): string {
  return text.slice(0, pin.start) + pin.render(version) + text.slice(pin.end);
}

/**
 * Proof, before anything is written, that `after` is `before` with only the part's pin changed: the
 * bytes around the edit are identical, the pin reads back as `version`, and every other value of
 * the document is unchanged. Throws (and so nothing is written) otherwise.
 */
export function verifyOnlyPinChanged(before: string, after: string, pin: PinLocation, version: string, fileName: string, part = "zenml"): void {
  const tail = before.length - pin.end;
  const bytesKept = after.slice(0, pin.start) === before.slice(0, pin.start) && after.slice(after.length - tail) === before.slice(pin.end);
  let now: PinLocation | undefined;
  try {
    now = bytesKept ? locatePin(after, fileName, part) : undefined;
  } catch {
    now = undefined;
  }
  const key = pinKey(part);
  const rest = (text: string) => {
    const js = parseDocument(text).toJS() as { config: Record<string, unknown> };
    const addon = addonOf(part);
    if (addon) js.config[key] = (js.config[key] as string[]).filter((p) => !p.startsWith(`${addon}=`));
    else delete js.config[key];
    return js;
  };
  if (!now || now.value !== version || !isDeepStrictEqual(rest(after), rest(before))) {
    throw new PinFileError(`${fileName}: internal error, the edit would change more than ${key}${addonOf(part) ? ` (${addonOf(part)})` : ""}; nothing was written`);
  }
}

/** The text with the part's pin set to `version`, verified to differ from `text` in that pin alone. */
export function replacePin(text: string, pin: PinLocation, version: string, fileName: string, part = "zenml"): string {
  const after = withPin(text, pin, version);
  verifyOnlyPinChanged(text, after, pin, version, fileName, part);
  return after;
}

/** Writes through a temporary file and a rename, so a failure never leaves half a file. */
export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
