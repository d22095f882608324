/**
 * RegionalApi's functions: for each function it is given, a log group with retention, an execution
 * role whose policy allows exactly the DynamoDB actions the function lists on this region's
 * replicas, and the Lambda function itself, bundled with esbuild from the caller's code.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fisExtensionEnvironment, fisExtensionReadPolicy } from "./fis-plan";
import {
  commonEnvironment,
  DEFAULT_FUNCTION_MEMORY_MB,
  functionCode,
  LAMBDA_ARCHITECTURE,
  LAMBDA_RUNTIME,
  lambdaRole,
  tableEnvironment,
} from "./function-parts";
import { functionPolicy } from "./policies";
import type { ApiFunctionArgs, RegionalApiArgs } from "./regional-api";

/** An API function's defaults, unless its spec says otherwise. */
export const API_FUNCTION_DEFAULTS = {
  memoryMb: DEFAULT_FUNCTION_MEMORY_MB,
  timeoutSeconds: 10,
} as const;

/** Function names become resource names and log group paths: camelCase identifiers. */
export const FUNCTION_NAME_PATTERN = /^[a-z][A-Za-z0-9]{0,47}$/;

/** `createOrder` -> `create-order`: the form of a function's name in resource names and log groups. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** What the functions need besides RegionalApiArgs. */
export interface ApiFunctionsContext {
  /** The RegionalApi: parent of every resource. */
  readonly owner: pulumi.ComponentResource;
  /** The RegionalApi's name: prefix of every resource name. */
  readonly name: string;
  /** Retention of the function logs, in days (the default resolved). */
  readonly retentionDays: number;
  /** This account, which the execution roles' trust policies name. */
  readonly accountId: pulumi.Output<string>;
}

/** Creates every function of `args.functions`, each with its own log group and role. */
export function apiFunctions(
  args: RegionalApiArgs,
  context: ApiFunctionsContext,
): Record<string, aws.lambda.Function> {
  return Object.fromEntries(
    Object.entries(args.functions).map(([fn, spec]) => [fn, apiFunction(fn, spec, args, context)]),
  );
}

/** One function: log group, role, role policies (tables and logs; FIS configuration), function. */
function apiFunction(
  fn: string,
  spec: ApiFunctionArgs,
  args: RegionalApiArgs,
  context: ApiFunctionsContext,
): aws.lambda.Function {
  const { owner, retentionDays } = context;
  const region = args.region;
  const parent = { parent: owner };
  const id = `${context.name}-${kebab(fn)}`;
  const logGroup = new aws.cloudwatch.LogGroup(
    `${id}-logs`,
    {
      region,
      name: `/${args.namePrefix}/${region}/lambda/${kebab(fn)}`,
      retentionInDays: retentionDays,
      kmsKeyId: args.kmsKeyArn,
      tags: args.tags,
    },
    parent,
  );
  const role = lambdaRole(
    `${id}-role`,
    {
      description: `${fn} function of ${args.namePrefix} in ${region}`,
      accountId: context.accountId,
      tags: args.tags,
    },
    parent,
  );
  const policy = new aws.iam.RolePolicy(
    `${id}-policy`,
    {
      role: role.name,
      policy: pulumi
        .all([pulumi.output(args.tableArns), logGroup.arn])
        .apply(([arns, logArn]) => JSON.stringify(functionPolicy(spec.access, arns, logArn))),
    },
    parent,
  );
  const fis = args.faultInjection;
  const fisPolicy = fis
    ? new aws.iam.RolePolicy(
        `${id}-fis-config`,
        {
          role: role.name,
          policy: pulumi
            .output(fis.configBucketArn)
            .apply((arn) => JSON.stringify(fisExtensionReadPolicy(arn))),
        },
        parent,
      )
    : undefined;
  const tableEnv = pulumi
    .output(args.tableNames)
    .apply((names) => tableEnvironment(args.tableEnvVars, spec.access, names, fn));
  return new aws.lambda.Function(
    id,
    {
      region,
      description: `${fn} (${args.namePrefix}, ${region})`,
      runtime: LAMBDA_RUNTIME,
      architectures: [LAMBDA_ARCHITECTURE],
      handler: "index.handler",
      role: role.arn,
      memorySize: spec.memoryMb ?? API_FUNCTION_DEFAULTS.memoryMb,
      timeout: spec.timeoutSeconds ?? API_FUNCTION_DEFAULTS.timeoutSeconds,
      code: functionCode(spec.entry, args.codeRoot),
      layers: fis ? [fis.layerArn] : undefined,
      environment: {
        variables: pulumi.all([tableEnv, fis?.configBucketArn]).apply(([env, fisBucket]) => ({
          ...env,
          ...commonEnvironment(args.namePrefix),
          ...(args.corsAllowOrigin ? { CORS_ALLOW_ORIGIN: args.corsAllowOrigin } : {}),
          ...(fisBucket ? fisExtensionEnvironment(fisBucket) : {}),
        })),
      },
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      tracingConfig: { mode: "Active" },
      tags: args.tags,
    },
    { parent: owner, dependsOn: fisPolicy ? [policy, fisPolicy] : [policy] },
  );
}
