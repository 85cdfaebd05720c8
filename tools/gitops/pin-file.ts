// Edits the version pin of a stack file in place: only the value's bytes change, comments and
// formatting stay. `yaml` finds the exact source range; the edit is a splice at that range.
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { isScalar, parseDocument } from "yaml";

export const PIN_KEY = "zenml-platform:zenmlVersion";

export class PinFileError extends Error {}

export interface PinLocation {
  value: string;
  start: number;
  end: number;
  quote: "" | '"' | "'";
}

/** Where the pin's value sits in the text; throws if the file cannot be parsed or has no pin. */
export function locatePin(text: string, fileName: string): PinLocation {
  const doc = parseDocument(text, { keepSourceTokens: true });
  if (doc.errors.length > 0) throw new PinFileError(`${fileName} cannot be parsed: ${doc.errors[0].message.split("\n")[0]}`);
  const node = doc.getIn(["config", PIN_KEY], true);
  if (!isScalar(node) || !node.range) throw new PinFileError(`${fileName} has no ${PIN_KEY} under config:`);
  if (typeof node.value !== "string") throw new PinFileError(`${fileName}: ${PIN_KEY} is ${JSON.stringify(node.value)}, not a version string`);
  const [start, end] = node.range;
  const raw = text.slice(start, end);
  const quote = raw.startsWith('"') ? '"' : raw.startsWith("'") ? "'" : "";
  return { value: node.value, start, end, quote };
}

export function readPin(file: string): { text: string; pin: PinLocation } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new PinFileError(`${path.basename(file)} cannot be read`);
  }
  return { text, pin: locatePin(text, path.basename(file)) };
}

/** The same text with only the pin's value replaced (quoting style kept). */
export function withPin(text: string, pin: PinLocation, version: string): string {
  return text.slice(0, pin.start) + pin.quote + version + pin.quote + text.slice(pin.end);
}

/**
 * Proof, before anything is written, that `after` is `before` with only the pin changed: the bytes
 * before and after the pin's value are identical, the pin parses as `version`, and every other
 * value of the document is unchanged. Throws (and so nothing is written) otherwise.
 */
export function verifyOnlyPinChanged(before: string, after: string, pin: PinLocation, version: string, fileName: string): void {
  const tail = before.length - pin.end;
  const bytesKept = after.slice(0, pin.start) === before.slice(0, pin.start) && after.slice(after.length - tail) === before.slice(pin.end);
  const now = bytesKept ? locatePin(after, fileName) : undefined;
  const rest = (text: string) => {
    const js = parseDocument(text).toJS() as { config: Record<string, unknown> };
    delete js.config[PIN_KEY];
    return js;
  };
  if (!now || now.value !== version || !isDeepStrictEqual(rest(after), rest(before))) {
    throw new PinFileError(`${fileName}: internal error, the edit would change more than ${PIN_KEY}; nothing was written`);
  }
}

/** The text with the pin set to `version`, verified to differ from `text` in the pin alone. */
export function replacePin(text: string, pin: PinLocation, version: string, fileName: string): string {
  const after = withPin(text, pin, version);
  verifyOnlyPinChanged(text, after, pin, version, fileName);
  return after;
}

/** Writes through a temporary file and a rename, so a failure never leaves half a file. */
export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
