import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { baseTags } from "./kit/tags";

export const DB_NAME = "zenml";
export const DB_USER = "zenml";
export const DB_PORT = 3306;

export interface DatabaseArgs {
  environmentName: string;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string[]>;
  /** The only security group allowed to connect (the cluster's). */
  clientSecurityGroupId: pulumi.Input<string>;
  /** MySQL major version ("8.4"); minors auto-upgrade so the program never fights AWS. */
  engineVersion: string;
  instanceClass: string;
  allocatedStorageGb: number;
  maxAllocatedStorageGb: number;
  multiAz: boolean;
  backupRetentionDays: number;
  /** Daily UTC window, validated not to overlap maintenanceWindow. */
  backupWindow: string;
  maintenanceWindow: string;
  /** Protect instances and password from deletion/replacement, and turn on deletion protection (prod). */
  protect: boolean;
  /** When set, a manual snapshot with this identifier is taken of the active instance (before an upgrade). */
  preUpgradeSnapshotId?: string;
  /** What must happen before that snapshot, e.g. stopping a server that writes to the database. Default: nothing. */
  preUpgradeSnapshotAfter?: pulumi.Resource[];
  /** When set, a second instance is restored from this snapshot and becomes the active one (rollback). Default: none. */
  restoreFromSnapshot?: { snapshotIdentifier: string; label: string };
  /** This update upgrades the MySQL major (e.g. 8.0 -> 8.4): snapshot first, new parameter group, then the switch. Default: none. */
  majorUpgrade?: { fromVersion: string; snapshotId: string; applyImmediately: boolean };
}

/** Where the active instance is, and its master password (only the server and the MLflow bootstrap Job use it). */
export type DatabaseAccess = Pick<Database, "address" | "password">;

/** Parameter groups are named by family; the alias adopts the group of stacks made before that naming. */
const parameterGroupName = (name: string, family: string) => `${name}-params-${family.replace(/\./g, "-")}`;

/**
 * RDS MySQL for the ZenML server, private and TLS-only. A rollback restores into a new instance
 * and leaves the upgraded one in place, so no path through this component loses data.
 */
export class Database extends pulumi.ComponentResource {
  /** The primary instance, created on first deploy; never replaced by an upgrade or rollback. */
  public readonly instanceIdentifier: pulumi.Output<string>;
  /** The instance the server uses: the primary, or the restored one during a rollback. */
  public readonly activeInstanceIdentifier: pulumi.Output<string>;
  public readonly address: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly password: pulumi.Output<string>;
  public readonly preUpgradeSnapshot?: aws.rds.Snapshot;
  /** The snapshot taken before a MySQL major upgrade, when this update performs one. */
  public readonly preMajorUpgradeSnapshot?: aws.rds.Snapshot;
  /** Where a copy of it goes (the restore-test): the same subnets, firewall and parameters. */
  public readonly placement: { subnetGroupName: pulumi.Output<string>; securityGroupId: pulumi.Output<string>; parameterGroupName: pulumi.Output<string> };

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:Database", name, {}, opts);
    const tags = baseTags(args.environmentName, "database");
    const child = { parent: this };
    const stateful = { parent: this, protect: args.protect };
    const baseIdentifier = `zenml-${args.environmentName}`;
    const activeIdentifier = args.restoreFromSnapshot ? `${baseIdentifier}-restored-${args.restoreFromSnapshot.label}` : baseIdentifier;

    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.subnetIds, tags }, child);
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `MySQL for ${baseIdentifier}, from the cluster only`,
        ingress: [{ protocol: "tcp", fromPort: DB_PORT, toPort: DB_PORT, securityGroups: [args.clientSecurityGroupId], description: "ZenML server and migration job" }],
        tags,
      },
      child,
    );
    // The server rejects plaintext connections, whatever a client asks for.
    const newParameterGroup = (family: string, extra: pulumi.CustomResourceOptions) =>
      new aws.rds.ParameterGroup(parameterGroupName(name, family), { family, parameters: [{ name: "require_secure_transport", value: "1" }], tags }, { ...child, ...extra });
    const legacyName = { aliases: [{ name: `${name}-params` }] };
    const upgrade = args.majorUpgrade;
    // A major upgrade keeps the old family's group (the instance uses it until RDS switches, possibly in
    // the maintenance window) and retains it, so dropping it later never fails on a group still in use.
    if (upgrade) newParameterGroup(`mysql${upgrade.fromVersion}`, { ...legacyName, retainOnDelete: true });
    const parameterGroup = newParameterGroup(`mysql${args.engineVersion}`, upgrade ? {} : legacyName);
    // RDS refuses '/', '@', '"' and spaces in master passwords.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: true, overrideSpecial: "!#%^*()-_=+[]{}<>:?" }, stateful);
    // Secret by construction, not only because the provider's schema says so.
    const masterPassword = pulumi.secret(password.result);

    const common: aws.rds.InstanceArgs = {
      engine: "mysql",
      engineVersion: args.engineVersion,
      autoMinorVersionUpgrade: true,
      instanceClass: args.instanceClass,
      allocatedStorage: args.allocatedStorageGb,
      maxAllocatedStorage: args.maxAllocatedStorageGb,
      storageType: "gp3",
      storageEncrypted: true,
      password: masterPassword,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      parameterGroupName: parameterGroup.name,
      publiclyAccessible: false,
      multiAz: args.multiAz,
      backupRetentionPeriod: args.backupRetentionDays,
      backupWindow: args.backupWindow,
      maintenanceWindow: args.maintenanceWindow,
      copyTagsToSnapshot: true,
      deletionProtection: args.protect,
      skipFinalSnapshot: false,
      enabledCloudwatchLogsExports: ["error", "slowquery"],
      applyImmediately: false,
      tags,
    };
    // Snapshot of the instance as it is, before RDS touches it; the same retained mechanism as ZenML's.
    const majorSnapshot =
      upgrade &&
      new aws.rds.Snapshot(
        `${name}-${upgrade.snapshotId}`,
        { dbInstanceIdentifier: activeIdentifier, dbSnapshotIdentifier: upgrade.snapshotId, tags: { ...tags, purpose: "pre-upgrade" } },
        { parent: this, retainOnDelete: true },
      );
    // allowMajorVersionUpgrade only in the update that performs it; applied in the maintenance window unless the stack says otherwise.
    const activeOptions: pulumi.CustomResourceOptions = majorSnapshot ? { ...stateful, dependsOn: [majorSnapshot, parameterGroup] } : stateful;
    const activeExtra: Partial<aws.rds.InstanceArgs> = upgrade ? { allowMajorVersionUpgrade: true, applyImmediately: upgrade.applyImmediately } : {};
    const primary = new aws.rds.Instance(
      `${name}-instance`,
      { ...common, ...activeExtra, identifier: baseIdentifier, dbName: DB_NAME, username: DB_USER, finalSnapshotIdentifier: `${baseIdentifier}-final` },
      args.restoreFromSnapshot ? stateful : activeOptions,
    );

    let active = primary;
    if (args.restoreFromSnapshot) {
      const identifier = activeIdentifier;
      active = new aws.rds.Instance(
        `${name}-restored-${args.restoreFromSnapshot.label}`,
        { ...common, ...activeExtra, identifier, snapshotIdentifier: args.restoreFromSnapshot.snapshotIdentifier, finalSnapshotIdentifier: `${identifier}-final` },
        activeOptions,
      );
    }

    if (args.preUpgradeSnapshotId) {
      // Retained: the snapshot outlives this update and `pulumi destroy`; it is the rollback point.
      this.preUpgradeSnapshot = new aws.rds.Snapshot(
        `${name}-${args.preUpgradeSnapshotId}`,
        { dbInstanceIdentifier: active.identifier, dbSnapshotIdentifier: args.preUpgradeSnapshotId, tags: { ...tags, purpose: "pre-upgrade" } },
        { parent: this, retainOnDelete: true, dependsOn: [active, ...(args.preUpgradeSnapshotAfter ?? [])] },
      );
    }

    this.preMajorUpgradeSnapshot = majorSnapshot || undefined;
    this.placement = { subnetGroupName: subnetGroup.name, securityGroupId: securityGroup.id, parameterGroupName: parameterGroup.name };
    this.instanceIdentifier = primary.identifier;
    this.activeInstanceIdentifier = active.identifier;
    this.address = active.address;
    this.endpoint = active.endpoint;
    this.password = masterPassword;
    this.registerOutputs({ instanceIdentifier: this.instanceIdentifier, activeInstanceIdentifier: this.activeInstanceIdentifier, endpoint: this.endpoint });
  }
}
