import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { baseTags } from "./kit/tags";

/** Thresholds every environment shares; the alarms are the same in staging and prod. */
export const ALARM_THRESHOLDS = {
  /** 5xx responses (load balancer's own plus the server's) per minute. */
  http5xxPerMinute: 10,
  /** Average database CPU, percent, for 3 of 5 minutes running. */
  dbCpuPercent: 80,
  /** Free storage below this share of the allocated storage. */
  dbFreeStorageFraction: 0.1,
  /** Open connections: well below MySQL's default max_connections on the smallest class we allow. */
  dbConnections: 200,
};

export interface AlarmsArgs {
  environmentName: string;
  /** The on-call's SNS topic (config alarmTopicArn). */
  topicArn: string;
  /** Name the ingress gives the load balancer (alb.ingress.kubernetes.io/load-balancer-name). */
  loadBalancerName: string;
  /** Tag the load balancer controller puts on the server's target group: "<namespace>/<ingress>". */
  ingressStack: string;
  /** The load balancer exists once the release's ingress is reconciled. */
  loadBalancerDependsOn: pulumi.Resource[];
  dbInstanceIdentifier: pulumi.Input<string>;
  dbAllocatedStorageGb: number;
}

/**
 * CloudWatch alarms that tell on-call about what an upgrade can break: 5xx bursts and unhealthy
 * targets at the load balancer, a saturated, full or connection-starved database. `npm run
 * alarm-watch` watches the same alarms for N minutes after a deploy.
 */
export class Alarms extends pulumi.ComponentResource {
  public readonly alarmNames: pulumi.Output<string[]>;

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:Alarms", name, {}, opts);
    const tags = baseTags(args.environmentName, "alarms");
    const child = { parent: this };
    const prefix = alarmPrefix(args.environmentName);
    const lookup = { parent: this, dependsOn: args.loadBalancerDependsOn };
    const lb = aws.lb.getLoadBalancerOutput({ name: args.loadBalancerName }, lookup);
    const tg = aws.lb.getTargetGroupOutput({ tags: { "ingress.k8s.aws/stack": args.ingressStack } }, lookup);
    const notify = { alarmActions: [args.topicArn], okActions: [args.topicArn] };
    const lbDims = { LoadBalancer: lb.arnSuffix };
    const tgDims = { LoadBalancer: lb.arnSuffix, TargetGroup: tg.arnSuffix };
    const dbDims = { DBInstanceIdentifier: args.dbInstanceIdentifier };
    const alarm = (suffix: string, a: Omit<aws.cloudwatch.MetricAlarmArgs, "name" | "tags" | "alarmActions" | "okActions">) =>
      new aws.cloudwatch.MetricAlarm(`${name}-${suffix}`, { name: `${prefix}${suffix}`, ...notify, tags, ...a }, child);

    const alarms = [
      alarm("alb-5xx", {
        alarmDescription: `More than ${ALARM_THRESHOLDS.http5xxPerMinute} 5xx responses a minute at the ZenML load balancer`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: ALARM_THRESHOLDS.http5xxPerMinute,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: "notBreaching",
        metricQueries: [
          { id: "elb", metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", dimensions: lbDims, period: 60, stat: "Sum" } },
          { id: "target", metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: lbDims, period: 60, stat: "Sum" } },
          { id: "total", expression: "FILL(elb, 0) + FILL(target, 0)", label: "5xx per minute", returnData: true },
        ],
      }),
      alarm("alb-unhealthy-targets", {
        alarmDescription: "A ZenML server target is unhealthy at the load balancer",
        namespace: "AWS/ApplicationELB",
        metricName: "UnHealthyHostCount",
        dimensions: tgDims,
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        treatMissingData: "notBreaching",
      }),
      alarm("alb-no-healthy-targets", {
        alarmDescription: "No healthy ZenML server target at the load balancer: the server is down",
        namespace: "AWS/ApplicationELB",
        metricName: "HealthyHostCount",
        dimensions: tgDims,
        statistic: "Minimum",
        period: 60,
        evaluationPeriods: 2,
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
        treatMissingData: "breaching",
      }),
      alarm("rds-cpu", {
        alarmDescription: `Database CPU above ${ALARM_THRESHOLDS.dbCpuPercent}%`,
        namespace: "AWS/RDS",
        metricName: "CPUUtilization",
        dimensions: dbDims,
        statistic: "Average",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: "GreaterThanThreshold",
        threshold: ALARM_THRESHOLDS.dbCpuPercent,
      }),
      alarm("rds-free-storage", {
        alarmDescription: `Database free storage below ${ALARM_THRESHOLDS.dbFreeStorageFraction * 100}% of ${args.dbAllocatedStorageGb} GiB`,
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions: dbDims,
        statistic: "Minimum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "LessThanThreshold",
        threshold: Math.round(args.dbAllocatedStorageGb * 2 ** 30 * ALARM_THRESHOLDS.dbFreeStorageFraction),
      }),
      alarm("rds-connections", {
        alarmDescription: `More than ${ALARM_THRESHOLDS.dbConnections} open database connections`,
        namespace: "AWS/RDS",
        metricName: "DatabaseConnections",
        dimensions: dbDims,
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: "GreaterThanThreshold",
        threshold: ALARM_THRESHOLDS.dbConnections,
      }),
    ];
    this.alarmNames = pulumi.all(alarms.map((a) => a.name));
    this.registerOutputs({ alarmNames: this.alarmNames });
  }
}

/** Every alarm of an environment starts with this, which is how alarm-watch finds them. */
export const alarmPrefix = (environmentName: string) => `zenml-${environmentName}-`;
