/** Parts every Lambda function of the service shares, whether an API route or a stream invokes it. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundleFunction } from "./bundle";
import { serviceTrustPolicy } from "./policies";

/** Lambda runtime of every function; bundles target the same Node.js version. */
export const LAMBDA_RUNTIME = "nodejs22.x";
/** Graviton: cheaper per ms and the default for new functions here. */
export const LAMBDA_ARCHITECTURE = "arm64";

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
 * Throws unless `access` (table key -> DynamoDB actions) names at least one table, only tables
 * `tableEnvVars` binds, and only single DynamoDB actions (never a wildcard). `user` names the
 * function in the message.
 */
export function assertTableAccess(
  user: string,
  access: Readonly<Record<string, readonly string[]>>,
  tableEnvVars: Readonly<Record<string, string>>,
): void {
  const known = Object.keys(tableEnvVars);
  if (Object.keys(access).length === 0)
    throw new Error(`${user}: access must name at least one table`);
  for (const [table, actions] of Object.entries(access)) {
    if (!known.includes(table)) {
      throw new Error(
        `${user}: access names unknown table ${table}, which tableEnvVars does not bind; known: ${known.join(", ")}`,
      );
    }
    for (const a of actions) {
      if (!/^dynamodb:[A-Za-z]+$/.test(a)) {
        throw new Error(
          `${user}: access.${table}: ${JSON.stringify(a)} is not one DynamoDB action`,
        );
      }
    }
  }
}

/**
 * The environment variables a function reads its tables from: for each table of `tableEnvVars`
 * (table key -> variable name) its access lists, the variable holding the physical name. Throws,
 * naming the function, when a name is missing.
 */
export function tableEnvironment(
  tableEnvVars: Readonly<Record<string, string>>,
  access: Readonly<Record<string, unknown>>,
  names: Readonly<Record<string, string | undefined>>,
  user: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [table, envVar] of Object.entries(tableEnvVars)) {
    if (!access[table]) continue;
    const physical = names[table];
    if (!physical) throw new Error(`no table name for ${table}, which ${user} uses`);
    env[envVar] = physical;
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

/** A function's code: `entry` (relative to `codeRoot`) bundled as index.js with its source map. */
export function functionCode(entry: string, codeRoot: string): pulumi.asset.AssetArchive {
  const bundle = bundleFunction(entry, codeRoot);
  return new pulumi.asset.AssetArchive({
    "index.js": new pulumi.asset.StringAsset(bundle.code),
    "index.js.map": new pulumi.asset.StringAsset(bundle.sourceMap),
  });
}
