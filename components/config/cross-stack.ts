// Facts two stacks must not share, checked where both are known (mirror-check, prod's preview).
import { overlaps, parseCidr } from "../cidr";
import { PROJECT, environmentKindOf } from "./environments";

/**
 * What one stack must not share with its mirror. Every stack exports these (output
 * `crossStackFacts`), so prod's preview can check them against its promotion source's.
 */
export interface CrossStackFacts {
  stack: string;
  vpcCidr: string;
  serverHostname: string;
  mlflowHostname: string;
  promotionSourceStack: string;
}

export const crossStackFacts = (c: CrossStackFacts): CrossStackFacts => ({
  stack: c.stack,
  vpcCidr: c.vpcCidr,
  serverHostname: c.serverHostname,
  mlflowHostname: c.mlflowHostname,
  promotionSourceStack: c.promotionSourceStack,
});

/** Problems between two stacks that neither stack can see alone (mirror-check, and prod's preview). */
export function crossStackProblems(a: CrossStackFacts, b: CrossStackFacts): string[] {
  const problems: string[] = [];
  const ra = parseCidr(a.vpcCidr);
  const rb = parseCidr(b.vpcCidr);
  if ("range" in ra && "range" in rb && overlaps(ra.range, rb.range)) {
    problems.push(
      `${PROJECT}:vpcCidr: ${a.stack}'s ${a.vpcCidr} and ${b.stack}'s ${b.vpcCidr} overlap; give each environment its own range so they can be peered and never share addresses`,
    );
  }
  const names = (c: CrossStackFacts) =>
    [
      ["serverHostname", c.serverHostname],
      ["mlflowHostname", c.mlflowHostname],
    ].filter(([, name]) => name !== "");
  for (const [keyA, nameA] of names(a)) {
    for (const [keyB, nameB] of names(b)) {
      if (nameA !== nameB) continue;
      const keys = keyA === keyB ? keyA : `${keyA} / ${keyB}`;
      problems.push(
        `${PROJECT}:${keys}: ${a.stack} and ${b.stack} both serve ${nameA}; each environment needs its own hostname`,
      );
    }
  }
  const self = (c: CrossStackFacts) => c.promotionSourceStack.split("/")[2];
  for (const [c, other] of [
    [a, b],
    [b, a],
  ] as const) {
    if (c.promotionSourceStack === "") continue;
    if (self(c) !== other.stack && environmentKindOf(self(c)) === environmentKindOf(other.stack)) {
      problems.push(
        `${PROJECT}:promotionSourceStack: ${c.stack} is promoted from "${c.promotionSourceStack}", not from ${other.stack}, the stack it is compared with`,
      );
    }
  }
  return problems;
}
