// How the program exposes a web server: an ALB (EKS Auto Mode's ingress class) ending TLS with an
// ACM certificate, redirecting plain HTTP, admitting only the configured sources.

/** Who reaches a server and how: the same settings for ZenML and MLflow, so both are equally reachable. */
export interface AlbExposure {
  hostname: string;
  /** ACM certificate the ALB ends TLS with. */
  certificateArn: string;
  /** Source CIDRs the load balancer admits; ["0.0.0.0/0"] admits everyone. */
  inboundCidrs: string[];
  scheme: "internet-facing" | "internal";
}

/**
 * The ALB's ingress annotations in two groups, `routing` (targets, listeners, TLS, health check)
 * and `reach` (scheme, allowed sources), so that each ingress keeps the key order its deployed
 * manifest has. `loadBalancerName` gives the ALB a known name (alarms find it by name). Default: the controller's.
 */
export function albAnnotations(exposure: AlbExposure, loadBalancerName?: string): { routing: Record<string, string>; reach: Record<string, string> } {
  return {
    routing: {
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
      "alb.ingress.kubernetes.io/ssl-redirect": "443",
      "alb.ingress.kubernetes.io/certificate-arn": exposure.certificateArn,
      "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
      "alb.ingress.kubernetes.io/healthcheck-path": "/health",
    },
    reach: {
      "alb.ingress.kubernetes.io/scheme": exposure.scheme,
      ...(loadBalancerName === undefined ? {} : { "alb.ingress.kubernetes.io/load-balancer-name": loadBalancerName }),
      "alb.ingress.kubernetes.io/inbound-cidrs": exposure.inboundCidrs.join(","),
    },
  };
}
