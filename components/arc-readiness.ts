/**
 * ArcControlPlane's readiness (opt-in): one cell per region, a recovery group, and one resource
 * set plus readiness check each for API stages, functions and tables, every resource scoped to
 * its region's cell.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  READINESS_RESOURCE_TYPES,
  type ArcControlPlaneArgs,
  type ArcRegionArgs,
  type ReadinessSet,
} from "./arc-control-plane";

/** What readiness needs from the control plane. */
export interface ArcReadinessInput {
  readonly args: ArcControlPlaneArgs;
  /** The validated name prefix. */
  readonly prefix: string;
  /** Options of every ARC resource: the component as parent, the us-west-2 provider. */
  readonly arc: pulumi.CustomResourceOptions;
}

/** Creates the readiness resources; returns the recovery group's ARN. */
export function arcReadiness(name: string, input: ArcReadinessInput): pulumi.Output<string> {
  const { args, prefix, arc } = input;
  const cells: Record<string, aws.route53recoveryreadiness.Cell> = {};
  for (const { region } of args.regions) {
    cells[region] = new aws.route53recoveryreadiness.Cell(
      `${name}-cell-${region}`,
      { cellName: `${prefix}-${region}`, tags: args.tags },
      arc,
    );
  }
  const group = new aws.route53recoveryreadiness.RecoveryGroup(
    `${name}-recovery-group`,
    {
      recoveryGroupName: prefix,
      cells: args.regions.map(({ region }) => cells[region]!.arn),
      tags: args.tags,
    },
    arc,
  );

  // Every resource of a type, across regions, with its region's cell as readiness scope.
  const members = (pick: (r: ArcRegionArgs) => pulumi.Input<string[]>) =>
    pulumi
      .all(
        args.regions.map((r) =>
          pulumi
            .all([pulumi.output(pick(r)), cells[r.region]!.arn])
            .apply(([arns, cell]) =>
              arns.map((resourceArn) => ({ resourceArn, readinessScopes: [cell] })),
            ),
        ),
      )
      .apply((lists) => lists.flat());
  const values = (m: pulumi.Input<Record<string, string>>) =>
    pulumi.output(m).apply((map) => Object.values(map));
  const setMembers: Record<ReadinessSet, ReturnType<typeof members>> = {
    stages: members((r) => pulumi.output(r.stageArn).apply((a) => [a])),
    functions: members((r) => values(r.functionArns)),
    tables: members((r) => values(r.tableArns)),
  };
  for (const set of Object.keys(READINESS_RESOURCE_TYPES) as ReadinessSet[]) {
    const resourceSet = new aws.route53recoveryreadiness.ResourceSet(
      `${name}-${set}`,
      {
        resourceSetName: `${prefix}-${set}`,
        resourceSetType: READINESS_RESOURCE_TYPES[set],
        resources: setMembers[set],
        tags: args.tags,
      },
      { ...arc, dependsOn: [group] },
    );
    new aws.route53recoveryreadiness.ReadinessCheck(
      `${name}-${set}-check`,
      {
        readinessCheckName: `${prefix}-${set}-check`,
        resourceSetName: resourceSet.resourceSetName,
        tags: args.tags,
      },
      arc,
    );
  }
  return group.arn;
}
