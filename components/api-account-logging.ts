import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "./policies";
import { assertPlain, assertRegion } from "./validate";
import { componentType } from "./component-type";

/** AWS's managed policy for API Gateway's account-level logging role. */
export const API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY =
  "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

export interface ApiAccountLoggingArgs {
  /** The regions whose API Gateway account setting this sets, each once. Plain values. */
  regions: string[];
  /** Tags on the role. */
  tags?: Record<string, string>;
}

/**
 * The role API Gateway assumes to push logs for the whole account in a region, trusted only for
 * this account (aws:SourceAccount). It serves every API of the account there, so it cannot be
 * scoped to one API's log groups; AWS's managed policy is the documented one.
 */
export function accountLoggingRole(
  name: string,
  description: string,
  accountId: pulumi.Input<string>,
  tags: Record<string, string> | undefined,
  opts: pulumi.CustomResourceOptions,
): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      description,
      assumeRolePolicy: pulumi
        .output(accountId)
        .apply((account) =>
          JSON.stringify(serviceTrustPolicy("apigateway.amazonaws.com", account)),
        ),
      managedPolicyArns: [API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY],
      tags,
    },
    opts,
  );
}

/**
 * API Gateway's CloudWatch role for the account in a set of regions: one setting per account and
 * region, which every REST API's access and execution logging there needs. One stack should own
 * it for every app region (the one that owns the tables), not one per API: two owners overwrite
 * each other. The setting and its role are retained on delete (`retainOnDelete`): destroying the
 * stack leaves logging working for every other API in the region; README (Teardown) says how to
 * remove them by hand.
 */
export class ApiAccountLogging extends pulumi.ComponentResource {
  /** The role API Gateway assumes to write logs, in every region listed. */
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: ApiAccountLoggingArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("ApiAccountLogging"), name, {}, opts);
    assertPlain("regions", args.regions);
    const seen = new Set<string>();
    for (const r of args.regions) {
      assertRegion("regions", r);
      if (seen.has(r)) throw new Error(`duplicate region ${r} in regions`);
      seen.add(r);
    }
    const keep = { parent: this, retainOnDelete: true };
    const role = accountLoggingRole(
      `${name}-role`,
      `API Gateway account logging to CloudWatch in ${args.regions.join(", ")}`,
      aws.getCallerIdentityOutput({}, { parent: this }).accountId,
      args.tags,
      keep,
    );
    for (const region of args.regions) {
      new aws.apigateway.Account(
        `${name}-${region}`,
        { region, cloudwatchRoleArn: role.arn },
        keep,
      );
    }
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
