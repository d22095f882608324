/** Parts every Lambda function of the service shares, whether an API route or a stream invokes it. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "./policies";

/** CloudWatch namespace of the functions' Powertools metrics. */
export const METRICS_NAMESPACE = "ResilientDynamo";

/** Memory of a function, in MB, unless its spec says otherwise: suits a DynamoDB-bound handler on arm64. */
export const DEFAULT_FUNCTION_MEMORY_MB = 256;

/** A function's execution role: only Lambda may assume it, and only for this account. */
export function lambdaRole(
  name: string,
  args: {
    description: string;
    accountId: pulumi.Output<string>;
    tags?: Record<string, string> | undefined;
  },
  opts: pulumi.CustomResourceOptions,
): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      description: args.description,
      assumeRolePolicy: args.accountId.apply((account) =>
        JSON.stringify(serviceTrustPolicy("lambda.amazonaws.com", account)),
      ),
      tags: args.tags,
    },
    opts,
  );
}

/**
 * The environment variables a function reads its tables from: one per table of `tables` its
 * access lists, holding the physical name. Throws, naming the function, when a name is missing.
 */
export function tableEnvironment(
  tables: readonly { readonly key: string; readonly envVar: string }[],
  access: Readonly<Partial<Record<string, unknown>>>,
  names: Readonly<Record<string, string | undefined>>,
  user: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const table of tables) {
    if (!access[table.key]) continue;
    const physical = names[table.key];
    if (!physical) throw new Error(`no table name for ${table.key}, which ${user} uses`);
    env[table.envVar] = physical;
  }
  return env;
}

/** Variables every function gets: its Powertools service and namespace, and source maps. */
export function commonEnvironment(namePrefix: string): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: namePrefix,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    NODE_OPTIONS: "--enable-source-maps",
  };
}
