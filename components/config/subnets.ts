// Subnet arithmetic: whether a VPC range holds the subnets components/network.ts lays out.

/** Subnets each AZ gets (components/network.ts lays them out with awsx's "Auto" strategy, in this order). */
export const SUBNET_MASKS = { public: 22, private: 19 } as const;

/** Addresses each AZ's subnets need when laid out in order, each aligned to its own size. */
export function addressesPerAz(): number {
  let next = 0;
  for (const mask of [SUBNET_MASKS.public, SUBNET_MASKS.private]) {
    const size = 2 ** (32 - mask);
    next = Math.ceil(next / size) * size + size;
  }
  return next;
}

/** Whether awsx's Auto layout fits: the VPC is split evenly into a power-of-two number of AZ slots. */
export function subnetsFit(vpcPrefix: number, availabilityZones: number): boolean {
  const slots = 2 ** Math.ceil(Math.log2(availabilityZones));
  return 2 ** (32 - vpcPrefix) / slots >= addressesPerAz();
}
