import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";
import { DEFAULT_NAME_PREFIX } from "./defaults";
import { arcReadiness } from "./arc-readiness";
import { arcRoutingControls } from "./arc-routing-controls";

/**
 * Region whose endpoint serves ARC's configuration APIs (recovery control config and readiness).
 * Clusters, routing controls, safety rules and readiness resources are created through it,
 * whatever region the stack deploys to.
 */
export const ARC_CONFIG_REGION = "us-west-2";

/** ARC and readiness names are at most 64 characters; the longest suffix added here is 23. */
export const ARC_NAME_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** What ArcControlPlane uses for each optional argument left unset. */
export const ARC_CONTROL_PLANE_DEFAULTS = {
  safetyRuleWaitPeriodMs: 5000,
  /**
   * Off: AWS closed ARC readiness checks to new customers, so an account that was not using them
   * cannot create them. Accounts that were can turn them on.
   */
  readiness: false,
  namePrefix: DEFAULT_NAME_PREFIX,
} as const;

/** What a gating rule uses for each optional argument left unset: the assertion rule's wait. */
export const ARC_GATING_RULE_DEFAULTS = {
  waitPeriodMs: ARC_CONTROL_PLANE_DEFAULTS.safetyRuleWaitPeriodMs,
} as const;

/** Readiness resource set types, one set per type, covering every region. */
export const READINESS_RESOURCE_TYPES = {
  stages: "AWS::ApiGateway::Stage",
  functions: "AWS::Lambda::Function",
  tables: "AWS::DynamoDB::Table",
} as const;
export type ReadinessSet = keyof typeof READINESS_RESOURCE_TYPES;

/** One of the cluster's regional endpoints, through which routing control states are read and set. */
export interface ArcClusterEndpoint {
  /** The endpoint's URL. */
  endpoint: string;
  /** The region it is in. */
  region: string;
}

/** One application region (an ARC "cell"): what its routing control and readiness cover. */
export interface ArcRegionArgs {
  /** The region's name, e.g. us-east-1. Plain value: it names resources. */
  region: string;
  /** ARN of the region's API Gateway stage (`arn:aws:apigateway:<region>::/restapis/<id>/stages/<stage>`). */
  stageArn: pulumi.Input<string>;
  /** The region's Lambda function ARNs, by function name. */
  functionArns: pulumi.Input<Record<string, string>>;
  /** The region's DynamoDB table (replica) ARNs, by table key. */
  tableArns: pulumi.Input<Record<string, string>>;
}

/**
 * A gating safety rule: one extra routing control (the gate, with no health check and no DNS
 * record) that must be on before any region's routing control can change. Operators turn the gate
 * on for a change window and off again, so a stray script cannot fail over traffic.
 */
export interface ArcGatingRuleArgs {
  /** Time ARC waits before it applies a change to a gated control, in ms. @default 5000 */
  waitPeriodMs?: number;
}

/** A role the ARC provider assumes, as the stack's `aws:assumeRoles` entries name it. */
export interface ArcAssumeRoleArgs {
  /** ARN of the role to assume. */
  roleArn: string;
  /** Session name the assumed role's calls are logged under. */
  sessionName?: string;
  /** External id the role's trust policy asks for. */
  externalId?: string;
  /** How long the session lasts, e.g. `1h`. */
  duration?: string;
}

/**
 * The stack's own AWS provider settings, for the us-west-2 provider the ARC resources use: the
 * same credentials, roles, account guard and default tags as everything else the stack creates.
 */
export interface ArcProviderSettingsArgs {
  /** Named profile of the shared AWS config and credentials files (`aws:profile`). */
  profile?: string;
  /** Roles to assume, in order (`aws:assumeRoles`). */
  assumeRoles?: ArcAssumeRoleArgs[];
  /** Tags the provider adds to every taggable resource (the stack's `aws:defaultTags.tags`). */
  defaultTags?: Record<string, string>;
  /** The only accounts the provider may act in (`aws:allowedAccountIds`). */
  allowedAccountIds?: string[];
  /** Accounts the provider must never act in (`aws:forbiddenAccountIds`). */
  forbiddenAccountIds?: string[];
  /** Shared AWS config files to read (`aws:sharedConfigFiles`). */
  sharedConfigFiles?: string[];
  /** Shared AWS credentials files to read (`aws:sharedCredentialsFiles`). */
  sharedCredentialsFiles?: string[];
}

/** The arguments of an ArcControlPlane. */
export interface ArcControlPlaneArgs {
  /** The application regions, at least two, each once. Plain values: they decide the resources. */
  regions: ArcRegionArgs[];
  /**
   * Time ARC waits before it evaluates the assertion rule for a change, in ms, so that a flip of
   * several controls in sequence is judged as a whole. @default 5000
   */
  safetyRuleWaitPeriodMs?: number;
  /** Add a gating rule over every region's routing control. @default none */
  gatingRule?: ArcGatingRuleArgs;
  /**
   * Create readiness checks (cells, recovery group, resource sets, readiness checks). AWS closed
   * ARC readiness checks to new customers, so they are off unless asked for: turn this on only in
   * an account that already uses them. (Before 1.0.0 the default was true; callers that relied on
   * it pass `readiness: true`.)
   * @default false
   */
  readiness?: boolean;
  /** Prefix of every ARC and readiness name (1-40 letters, digits, `-`, `_`). @default "resilient-dynamo" */
  namePrefix?: string;
  /**
   * Provider for the ARC configuration resources; it must target us-west-2. Passing one to a
   * deployed control plane moves its resources off the child provider: Pulumi then replaces them
   * (a new cluster, new ARNs and endpoints) unless the provider is given
   * `aliases: [{ name: "<name>-us-west-2", parent: <this component> }]`. Prefer
   * `arcProviderSettings`, which keeps the child provider.
   * @default a us-west-2 aws.Provider created as a child with `arcProviderSettings`
   */
  arcProvider?: aws.Provider;
  /**
   * Settings of the child us-west-2 provider: pass the stack's `aws:` settings (profile, assumed
   * roles, default tags), which an explicit provider does not inherit. Changing them updates the
   * provider in place; the ARC resources keep their ARNs.
   * @default credentials from the environment, no default tags
   */
  arcProviderSettings?: ArcProviderSettingsArgs;
  /** Tags on every taggable child. */
  tags?: Record<string, string>;
}

/** Checks ArcControlPlaneArgs before any resource exists. */
export function validateArcControlPlaneArgs(args: ArcControlPlaneArgs): void {
  assertPlain("regions", args.regions);
  if (!Array.isArray(args.regions) || args.regions.length < 2) {
    throw new Error(
      `ArcControlPlane needs at least two regions to route between: got ${Array.isArray(args.regions) ? args.regions.length : JSON.stringify(args.regions)}`,
    );
  }
  const seen = new Set<string>();
  for (const [i, r] of args.regions.entries()) {
    assertPlain(`regions[${i}].region`, r.region);
    assertRegion(`regions[${i}].region`, r.region);
    if (seen.has(r.region)) throw new Error(`duplicate region ${r.region} in regions`);
    seen.add(r.region);
  }
  for (const [what, ms] of [
    ["safetyRuleWaitPeriodMs", args.safetyRuleWaitPeriodMs],
    ["gatingRule.waitPeriodMs", args.gatingRule?.waitPeriodMs],
  ] as const) {
    if (ms !== undefined && !(Number.isInteger(ms) && ms >= 0)) {
      throw new Error(`${what} must be a whole number of milliseconds, 0 or more: got ${ms}`);
    }
  }
  const prefix = args.namePrefix ?? ARC_CONTROL_PLANE_DEFAULTS.namePrefix;
  if (!ARC_NAME_PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `namePrefix must be 1-40 letters, digits, "-" or "_", starting with a letter or digit: got ${JSON.stringify(prefix)}`,
    );
  }
}

/**
 * A safety rule's name: the prefix, what it is, and a hash of the inputs AWS cannot change in
 * place (the controls it covers, by region, and its rule config). Adding a region replaces the
 * rule create-before-delete; the new rule gets a new name, so it never collides with the old one
 * still in the control panel, and the panel is never without a rule. A change of name alone is
 * an in-place update (UpdateSafetyRule takes Name and WaitPeriodMs).
 */
export function safetyRuleName(prefix: string, what: string, regions: readonly string[]): string {
  const hash = createHash("sha256")
    .update(JSON.stringify({ what, regions: [...regions].sort(), rule: ["ATLEAST", 1, false] }))
    .digest("hex")
    .slice(0, 6);
  return `${prefix}-${what}-${hash}`;
}

/**
 * Route 53 Application Recovery Controller for a set of regions: a cluster, a control panel, one
 * routing control per region (off when created), an assertion safety rule that keeps at least one
 * region on, optionally a gating rule, and a Route 53 health check of type RECOVERY_CONTROL per
 * routing control for DNS records to carry. Readiness, opt-in (`readiness: true`; off by default
 * because AWS no longer opens ARC readiness to new customers): one cell per region, a recovery
 * group, and a resource set plus readiness check for API stages, functions and tables, each
 * resource scoped to its region's cell. ARC's configuration API lives in us-west-2, so those resources go there
 * whatever the stack's region.
 */
export class ArcControlPlane extends pulumi.ComponentResource {
  /** The ARC cluster. */
  readonly clusterArn: pulumi.Output<string>;
  /** The cluster's five regional endpoints; routing control states are read and set through them. */
  readonly clusterEndpoints: pulumi.Output<ArcClusterEndpoint[]>;
  /** The control panel holding the routing controls and safety rules. */
  readonly controlPanelArn: pulumi.Output<string>;
  /** Routing control ARN by region. */
  readonly routingControlArns: pulumi.Output<Record<string, string>>;
  /** RECOVERY_CONTROL health check id by region, for DNS records. */
  readonly healthCheckIds: pulumi.Output<Record<string, string>>;
  /** The assertion rule that keeps at least one region's routing control on. */
  readonly safetyRuleArn: pulumi.Output<string>;
  /** The gate's routing control ARN; undefined without a gating rule. */
  readonly gatingControlArn: pulumi.Output<string | undefined>;
  /** Undefined when readiness is off. */
  readonly recoveryGroupArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: ArcControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("ArcControlPlane"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:routing:ArcControlPlane"),
    );
    validateArcControlPlaneArgs(args);

    const prefix = args.namePrefix ?? ARC_CONTROL_PLANE_DEFAULTS.namePrefix;
    const settings = args.arcProviderSettings ?? {};
    const provider =
      args.arcProvider ??
      // Same name and parent as before these settings existed: deployed clusters keep their URN.
      new aws.Provider(
        `${name}-${ARC_CONFIG_REGION}`,
        {
          region: ARC_CONFIG_REGION,
          profile: settings.profile,
          assumeRoles: settings.assumeRoles,
          defaultTags: settings.defaultTags ? { tags: settings.defaultTags } : undefined,
          allowedAccountIds: settings.allowedAccountIds,
          forbiddenAccountIds: settings.forbiddenAccountIds,
          sharedConfigFiles: settings.sharedConfigFiles,
          sharedCredentialsFiles: settings.sharedCredentialsFiles,
        },
        { parent: this },
      );
    const arc = { parent: this, provider };

    const cluster = new aws.route53recoverycontrol.Cluster(
      `${name}-cluster`,
      { name: `${prefix}-cluster`, tags: args.tags },
      arc,
    );
    const panel = new aws.route53recoverycontrol.ControlPanel(
      `${name}-panel`,
      { name: `${prefix}-panel`, clusterArn: cluster.arn, tags: args.tags },
      arc,
    );

    const { controls, healthChecks, safetyRule, gatingControlArn } = arcRoutingControls(
      name,
      { args, prefix, clusterArn: cluster.arn, panel, arc },
      this,
    );
    const recoveryGroupArn: pulumi.Output<string | undefined> =
      (args.readiness ?? ARC_CONTROL_PLANE_DEFAULTS.readiness)
        ? arcReadiness(name, { args, prefix, arc })
        : pulumi.output(undefined);

    const byRegion = (pick: (region: string) => pulumi.Output<string>) =>
      pulumi.all(Object.fromEntries(args.regions.map(({ region }) => [region, pick(region)])));

    this.clusterArn = cluster.arn;
    this.clusterEndpoints = cluster.clusterEndpoints.apply((endpoints) =>
      endpoints.map((e) => ({ endpoint: e.endpoint, region: e.region })),
    );
    this.controlPanelArn = panel.arn;
    this.routingControlArns = byRegion((r) => controls[r]!.arn);
    this.healthCheckIds = byRegion((r) => healthChecks[r]!.id);
    this.safetyRuleArn = safetyRule.arn;
    this.gatingControlArn = gatingControlArn;
    this.recoveryGroupArn = recoveryGroupArn;

    this.registerOutputs({
      clusterArn: this.clusterArn,
      clusterEndpoints: this.clusterEndpoints,
      controlPanelArn: this.controlPanelArn,
      routingControlArns: this.routingControlArns,
      healthCheckIds: this.healthCheckIds,
      safetyRuleArn: this.safetyRuleArn,
      gatingControlArn: this.gatingControlArn,
      recoveryGroupArn: this.recoveryGroupArn,
    });
  }
}
