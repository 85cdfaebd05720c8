// What validation collects: one problem per key and message, shown all at once.
import { boundedText } from "../cidr";

export interface Problem {
  /** The fully qualified key ("zenml-platform:vpcCidr", "aws:region"). */
  key: string;
  message: string;
}

/** A value as an error quotes it, cut short if a stack file holds something huge. */
export function describe(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(boundedText(value))
    : boundedText(JSON.stringify(value) ?? String(value));
}
