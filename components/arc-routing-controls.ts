/**
 * ArcControlPlane's routing: one routing control per region with its RECOVERY_CONTROL health
 * check, the assertion rule that keeps at least one region on, and the optional gating rule.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ARC_CONTROL_PLANE_DEFAULTS,
  ARC_GATING_RULE_DEFAULTS,
  safetyRuleName,
  type ArcControlPlaneArgs,
} from "./arc-control-plane";

/** What the routing controls need from the control plane. */
export interface ArcRoutingInput {
  readonly args: ArcControlPlaneArgs;
  /** The validated name prefix. */
  readonly prefix: string;
  readonly clusterArn: pulumi.Output<string>;
  readonly panel: aws.route53recoverycontrol.ControlPanel;
  /** Options of every ARC resource: the component as parent, the us-west-2 provider. */
  readonly arc: pulumi.CustomResourceOptions;
}

/** The routing controls and health checks by region, and the rules over them. */
export interface ArcRouting {
  readonly controls: Record<string, aws.route53recoverycontrol.RoutingControl>;
  readonly healthChecks: Record<string, aws.route53.HealthCheck>;
  readonly safetyRule: aws.route53recoverycontrol.SafetyRule;
  /** The gate's routing control ARN; undefined without a gating rule. */
  readonly gatingControlArn: pulumi.Output<string | undefined>;
}

/** Creates the routing controls (one at a time), their health checks and the safety rules. */
export function arcRoutingControls(
  name: string,
  input: ArcRoutingInput,
  parent: pulumi.Resource,
): ArcRouting {
  const { args, prefix, arc } = input;
  // ARC answers 409 ConflictException to concurrent changes on one cluster, and the provider
  // does not retry them (hashicorp/terraform-provider-aws#48311): create the controls in turn.
  const controls: Record<string, aws.route53recoverycontrol.RoutingControl> = {};
  const healthChecks: Record<string, aws.route53.HealthCheck> = {};
  let previous: pulumi.Resource = input.panel;
  for (const { region } of args.regions) {
    const control = new aws.route53recoverycontrol.RoutingControl(
      `${name}-${region}`,
      {
        name: `${prefix}-${region}`,
        clusterArn: input.clusterArn,
        controlPanelArn: input.panel.arn,
      },
      { ...arc, dependsOn: [previous] },
    );
    previous = control;
    controls[region] = control;
    // Route 53 is global; its health checks need no region.
    healthChecks[region] = new aws.route53.HealthCheck(
      `${name}-${region}`,
      {
        type: "RECOVERY_CONTROL",
        routingControlArn: control.arn,
        tags: { ...args.tags, Name: `${prefix}-${region}` },
      },
      { parent },
    );
  }
  const controlList = args.regions.map(({ region }) => controls[region]!);

  const safetyRule = new aws.route53recoverycontrol.SafetyRule(
    `${name}-at-least-one`,
    {
      name: safetyRuleName(
        prefix,
        "at-least-one-on",
        args.regions.map((r) => r.region),
      ),
      controlPanelArn: input.panel.arn,
      assertedControls: controlList.map((c) => c.arn),
      ruleConfig: { type: "ATLEAST", threshold: 1, inverted: false },
      waitPeriodMs:
        args.safetyRuleWaitPeriodMs ?? ARC_CONTROL_PLANE_DEFAULTS.safetyRuleWaitPeriodMs,
      tags: args.tags,
    },
    { ...arc, dependsOn: [previous] },
  );

  let gatingControlArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
  if (args.gatingRule) {
    const gate = new aws.route53recoverycontrol.RoutingControl(
      `${name}-gate`,
      { name: `${prefix}-gate`, clusterArn: input.clusterArn, controlPanelArn: input.panel.arn },
      { ...arc, dependsOn: [safetyRule] },
    );
    new aws.route53recoverycontrol.SafetyRule(
      `${name}-gating`,
      {
        name: safetyRuleName(
          prefix,
          "gating-rule",
          args.regions.map((r) => r.region),
        ),
        controlPanelArn: input.panel.arn,
        gatingControls: [gate.arn],
        targetControls: controlList.map((c) => c.arn),
        ruleConfig: { type: "ATLEAST", threshold: 1, inverted: false },
        waitPeriodMs: args.gatingRule.waitPeriodMs ?? ARC_GATING_RULE_DEFAULTS.waitPeriodMs,
        tags: args.tags,
      },
      { ...arc, dependsOn: [gate] },
    );
    gatingControlArn = gate.arn;
  }
  return { controls, healthChecks, safetyRule, gatingControlArn };
}
