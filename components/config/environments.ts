// The two environment kinds and what each may not go below. The kind comes from the stack name.
import type { ConfigKey } from "./schema";

export const PROJECT = "zenml-platform";
export const ENVIRONMENT_KINDS = ["staging", "prod"] as const;
export type EnvironmentKind = (typeof ENVIRONMENT_KINDS)[number];

export interface EnvironmentMinimums {
  backupRetentionDays: number;
  serverReplicas: number;
  availabilityZones: number;
  multiAz: boolean;
  natGateways: "Single" | "OnePerAz" | undefined;
  /** The pre-upgrade snapshot is restored and checked before the server moves. */
  restoreTestBeforeUpgrade: boolean;
}

/** Floors that the environment kind imposes, so prod can never be configured weaker than this. */
export const ENVIRONMENT_MINIMUMS: Record<EnvironmentKind, EnvironmentMinimums> = {
  // Staging proves every backup restorable; prod may skip it (cost, time) because staging proved the mechanism.
  staging: {
    backupRetentionDays: 7,
    serverReplicas: 1,
    availabilityZones: 2,
    multiAz: false,
    natGateways: undefined,
    restoreTestBeforeUpgrade: true,
  },
  prod: {
    backupRetentionDays: 14,
    serverReplicas: 2,
    availabilityZones: 3,
    multiAz: true,
    natGateways: "OnePerAz",
    restoreTestBeforeUpgrade: false,
  },
};

/** The config key each floor holds down (the config reference lists the floors by key). */
export const FLOOR_KEYS = {
  backupRetentionDays: "dbBackupRetentionDays",
  serverReplicas: "serverReplicas",
  availabilityZones: "availabilityZones",
  multiAz: "dbMultiAz",
  natGateways: "natGateways",
  restoreTestBeforeUpgrade: "restoreTestBeforeUpgrade",
} as const satisfies Record<keyof EnvironmentMinimums, ConfigKey>;

/**
 * The environment kind follows from the stack name ("prod", "prod-eu", "staging", "staging-2"), a
 * fact a careless edit of the stack file cannot change; the declared `environment` may only agree.
 */
export function environmentKindOf(stack: string): EnvironmentKind | undefined {
  return ENVIRONMENT_KINDS.find((kind) => stack === kind || stack.startsWith(`${kind}-`));
}
