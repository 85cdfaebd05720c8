// Pure: what AWS accepts, checked before anything is registered so a typo fails in the preview, not
// half-way through an apply. Re-check these lists when AWS adds regions or instance families.

/** Regions with EKS Auto Mode, RDS MySQL and ACM, by partition. */
export const AWS_REGIONS: Record<string, readonly string[]> = {
  aws: [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "ca-central-1", "ca-west-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
    "ap-south-1", "ap-south-2", "ap-east-1",
    "sa-east-1", "me-south-1", "me-central-1", "il-central-1", "af-south-1", "mx-central-1",
  ],
  "aws-us-gov": ["us-gov-west-1", "us-gov-east-1"],
  "aws-cn": ["cn-north-1", "cn-northwest-1"],
};

export const KNOWN_REGIONS: readonly string[] = Object.values(AWS_REGIONS).flat();

/** The ARN partition of a region ("aws", "aws-cn", "aws-us-gov"); undefined for an unknown region. */
export function partitionOf(region: string): string | undefined {
  return Object.entries(AWS_REGIONS).find(([, regions]) => regions.includes(region))?.[0];
}

/** RDS for MySQL instance families and the sizes each offers (burstable ones start at micro). */
const BURSTABLE_SIZES = ["micro", "small", "medium", "large", "xlarge", "2xlarge"];
const STANDARD_SIZES = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"];
export const RDS_MYSQL_FAMILIES: Record<string, readonly string[]> = {
  t3: BURSTABLE_SIZES,
  t4g: BURSTABLE_SIZES,
  m5: STANDARD_SIZES,
  m5d: STANDARD_SIZES,
  m6g: [...STANDARD_SIZES.slice(0, 6)],
  m6gd: [...STANDARD_SIZES.slice(0, 6)],
  m6i: [...STANDARD_SIZES, "32xlarge"],
  m7g: [...STANDARD_SIZES.slice(0, 6)],
  m7i: [...STANDARD_SIZES, "48xlarge"],
  r5: STANDARD_SIZES,
  r6g: [...STANDARD_SIZES.slice(0, 6)],
  r6i: [...STANDARD_SIZES, "32xlarge"],
  r7g: [...STANDARD_SIZES.slice(0, 6)],
  r7i: [...STANDARD_SIZES, "48xlarge"],
};

/** Why an RDS class name is not one RDS for MySQL offers, or undefined when it is. */
export function explainRdsClass(name: string): string | undefined {
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(name);
  if (!m) return undefined; // the format check reports it
  const sizes = RDS_MYSQL_FAMILIES[m[1]];
  if (!sizes) return `"${name}": RDS for MySQL has no instance family "${m[1]}" (families: ${Object.keys(RDS_MYSQL_FAMILIES).join(", ")})`;
  if (!sizes.includes(m[2])) return `"${name}": family ${m[1]} comes in ${sizes.join(", ")}`;
  return undefined;
}
