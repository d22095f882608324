/**
 * RegionalApi's stage and logs: the deployment (replaced whenever a route's inputs change), the
 * stage with JSON access logs and X-Ray tracing, the execution log group (created before API
 * Gateway would create it without retention), metrics and throttling, and optionally the
 * region's API Gateway account logging role.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountLoggingRole } from "./api-account-logging";
import type { ApiRoutes } from "./regional-api-routes";
import type { RegionalApiArgs } from "./regional-api";

/** Fields of every access log line (JSON, one request a line). */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  ip: "$context.identity.sourceIp",
  caller: "$context.identity.caller",
  user: "$context.identity.user",
  userArn: "$context.identity.userArn",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  integrationLatency: "$context.integration.latency",
  responseLatency: "$context.responseLatency",
  errorType: "$context.error.responseType",
  xrayTraceId: "$context.xrayTraceId",
});

/** Name API Gateway gives a stage's execution log group (it creates it, without retention). */
export function executionLogGroupName(restApiId: string, stageName: string): string {
  return `API-Gateway-Execution-Logs_${restApiId}/${stageName}`;
}

/** The stage's settings, defaults resolved. */
export interface ApiStageSettings {
  /** Stage name. */
  readonly stageName: string;
  /** Steady-state request rate the stage allows, per second. */
  readonly throttleRateLimit: number;
  /** Request burst the stage allows. */
  readonly throttleBurstLimit: number;
  /** Retention of the access and execution logs, in days. */
  readonly retentionDays: number;
  /** Set the region's API Gateway account CloudWatch role. */
  readonly manageAccountLogging: boolean;
}

/** What the stage needs besides RegionalApiArgs. */
export interface ApiStageContext {
  /** The RegionalApi: parent of every resource. */
  readonly owner: pulumi.ComponentResource;
  /** The RegionalApi's name: prefix of every resource name. */
  readonly name: string;
  /** The REST API the stage serves. */
  readonly api: aws.apigateway.RestApi;
  /** The routes the deployment snapshots. */
  readonly routes: ApiRoutes;
  /** This account, which the account logging role's trust policy names. */
  readonly accountId: pulumi.Output<string>;
}

/** Creates the deployment, the stage and its logs; returns the stage. */
export function apiStage(
  args: RegionalApiArgs,
  settings: ApiStageSettings,
  context: ApiStageContext,
): aws.apigateway.Stage {
  const { owner, name, api, routes } = context;
  const region = args.region;
  const parent = { parent: owner };
  // A new deployment whenever any input of the snapshot changes, so the stage never serves a
  // stale one; replaced create-before-delete, so the stage always has a live one.
  const deployment = new aws.apigateway.Deployment(
    `${name}-deployment`,
    {
      region,
      restApi: api.id,
      description: `${args.namePrefix} ${region}`,
      triggers: { revision: routes.revision.hash() },
    },
    { parent: owner, dependsOn: routes.deploymentDeps },
  );

  const accessLogs = new aws.cloudwatch.LogGroup(
    `${name}-access-logs`,
    {
      region,
      name: `/${args.namePrefix}/${region}/apigateway/access`,
      retentionInDays: settings.retentionDays,
      kmsKeyId: args.kmsKeyArn,
      tags: args.tags,
    },
    parent,
  );

  const stage = new aws.apigateway.Stage(
    `${name}-stage`,
    {
      region,
      restApi: api.id,
      deployment: deployment.id,
      stageName: settings.stageName,
      xrayTracingEnabled: true,
      accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
      tags: args.tags,
    },
    {
      parent: owner,
      dependsOn: settings.manageAccountLogging ? [accountLogging(args, context)] : [],
    },
  );

  // Execution logs (loggingLevel below) go to a group API Gateway would create on first use, with
  // no retention and no key: create it first, so it has both.
  const executionLogs = new aws.cloudwatch.LogGroup(
    `${name}-execution-logs`,
    {
      region,
      name: pulumi
        .all([api.id, stage.stageName])
        .apply(([apiId, stageName]) => executionLogGroupName(apiId, stageName)),
      retentionInDays: settings.retentionDays,
      kmsKeyId: args.kmsKeyArn,
      tags: args.tags,
    },
    parent,
  );

  new aws.apigateway.MethodSettings(
    `${name}-method-settings`,
    {
      region,
      restApi: api.id,
      stageName: stage.stageName,
      methodPath: "*/*",
      settings: {
        metricsEnabled: true,
        loggingLevel: "ERROR",
        dataTraceEnabled: false,
        throttlingRateLimit: settings.throttleRateLimit,
        throttlingBurstLimit: settings.throttleBurstLimit,
      },
    },
    { parent: owner, dependsOn: [executionLogs] },
  );
  return stage;
}

/**
 * The region's API Gateway account setting and the role it names, which access and execution
 * logging need; both retained on delete (see RegionalApiArgs.manageAccountLogging).
 */
function accountLogging(args: RegionalApiArgs, context: ApiStageContext): aws.apigateway.Account {
  const { owner, name } = context;
  const pushRole = accountLoggingRole(
    `${name}-apigw-logs-role`,
    `API Gateway logging to CloudWatch in ${args.region}`,
    context.accountId,
    args.tags,
    { parent: owner, retainOnDelete: true },
  );
  return new aws.apigateway.Account(
    `${name}-account`,
    { region: args.region, cloudwatchRoleArn: pushRole.arn },
    { parent: owner, retainOnDelete: true },
  );
}
