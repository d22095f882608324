import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  FUNCTIONS,
  FUNCTION_NAMES,
  ROUTES,
  resourcePaths,
  type FunctionName,
  type FunctionSpec,
  type RouteSpec,
} from "../functions/routes";
import { TABLES, type TableKey } from "../functions/tables";
import { ApiRevision } from "./api-deployment";
import { accountLoggingRole } from "./api-account-logging";
import { bundleFunction } from "./bundle";
import { fisExtensionEnvironment, fisExtensionReadPolicy } from "./fis-plan";
import {
  commonEnvironment,
  DEFAULT_FUNCTION_MEMORY_MB,
  lambdaRole,
  tableEnvironment,
} from "./function-parts";
import { functionPolicy } from "./policies";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";
import { DEFAULT_LOG_RETENTION_DAYS } from "./defaults";

/** Lambda runtime of every function; bundles target the same Node.js version. */
export const LAMBDA_RUNTIME = "nodejs22.x";
/** Graviton: cheaper per ms and the default for new functions here. */
export const LAMBDA_ARCHITECTURE = "arm64";
/** CloudWatch namespace of the functions' embedded-format metrics. */
export { METRICS_NAMESPACE } from "./function-parts";

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

/** RegionalApi's defaults: what an Args property left unset means. */
export const REGIONAL_API_DEFAULTS = {
  stageName: "prod",
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  manageAccountLogging: true,
} as const;

/** CustomDomainArgs' defaults. */
export const CUSTOM_DOMAIN_DEFAULTS = {
  basePath: "v1",
  createValidationRecord: true,
} as const;

/** An API function's defaults, unless its spec says otherwise. */
export const API_FUNCTION_DEFAULTS = {
  memoryMb: DEFAULT_FUNCTION_MEMORY_MB,
  timeoutSeconds: 10,
} as const;

export interface CustomDomainArgs {
  /** The service name every region serves, e.g. orders.example.com. */
  domainName: string;
  /** Public hosted zone that gets the certificate's DNS validation record. */
  hostedZoneId: pulumi.Input<string>;
  /** Base path the stage is mapped under. @default "v1" */
  basePath?: string;
  /**
   * Create the certificate's DNS validation record. ACM asks for the same CNAME for a name in
   * every region, so exactly one API (one stack) should own it; the others set this to false and
   * their certificate validates on that record. Destroying the owner deletes the record, and the
   * other regions' certificates then fail their next renewal.
   * @default true
   */
  createValidationRecord?: boolean;
}

/** What FIS Lambda actions need on every function (see FisLambdaTarget). */
export interface FaultInjectionArgs {
  /** The FIS Lambda extension layer for this region and the functions' architecture. */
  layerArn: pulumi.Input<string>;
  /** This region's FIS configuration bucket; each function's role may read its FisConfigs/. */
  configBucketArn: pulumi.Input<string>;
}

export interface RegionalApiArgs {
  /** Region of the API and its functions. Plain value. */
  region: string;
  /** Prefix of log group names and resource descriptions. */
  namePrefix: string;
  /** Physical table names (the same in every region for global tables). */
  tableNames: pulumi.Input<Record<TableKey, string>>;
  /** ARNs of this region's replica of each table; function policies name only these. */
  tableArns: pulumi.Input<Record<TableKey, string>>;
  /** Stage name. @default "prod" */
  stageName?: string;
  /** Steady-state request rate the stage allows, per second. @default 100 */
  throttleRateLimit?: number;
  /** Request burst the stage allows. @default 200 */
  throttleBurstLimit?: number;
  /** Retention of access and function logs, in days. @default 30 */
  logRetentionDays?: number;
  /** Serve the stage on a custom domain with an ACM certificate validated by DNS. @default none */
  customDomain?: CustomDomainArgs;
  /** Browser origin allowed by CORS; OPTIONS preflight methods exist only when set. @default none */
  corsAllowOrigin?: string;
  /**
   * Set this region's API Gateway account CloudWatch role, which access and execution logging
   * need. It is one setting per account and region: turn it off when something else manages it
   * (another stack, or ApiAccountLogging). The setting and its role are retained on delete, so
   * destroying this API leaves logging working for the region's other APIs.
   * @default true
   */
  manageAccountLogging?: boolean;
  /** Functions to deploy. @default FUNCTIONS from functions/routes.ts */
  functions?: Readonly<Record<FunctionName, FunctionSpec>>;
  /** Routes to expose. @default ROUTES from functions/routes.ts */
  routes?: readonly RouteSpec[];
  /**
   * Customer-managed KMS key (in `region`) that encrypts every log group of the API: access,
   * execution and function logs. Its key policy must let CloudWatch Logs in this region use it.
   * @default the CloudWatch Logs service key
   */
  kmsKeyArn?: pulumi.Input<string>;
  /** Tags on every taggable child. */
  tags?: Record<string, string>;
  /**
   * Prepare every function for AWS FIS Lambda actions: the FIS extension layer, its environment
   * and read access to the region's FIS configuration folder. Off: functions as before.
   * @default none
   */
  faultInjection?: FaultInjectionArgs;
}

/** Name API Gateway gives a stage's execution log group (it creates it, without retention). */
export function executionLogGroupName(restApiId: string, stageName: string): string {
  return `API-Gateway-Execution-Logs_${restApiId}/${stageName}`;
}

/** Checks RegionalApiArgs before any resource exists. */
export function validateRegionalApiArgs(args: RegionalApiArgs): void {
  assertPlain("region", args.region);
  assertRegion("region", args.region);
  assertPlain("customDomain", args.customDomain);
  const rate = args.throttleRateLimit ?? REGIONAL_API_DEFAULTS.throttleRateLimit;
  const burst = args.throttleBurstLimit ?? REGIONAL_API_DEFAULTS.throttleBurstLimit;
  if (!(rate > 0 && rate <= 10000))
    throw new Error(`throttleRateLimit must be in (0, 10000]: got ${rate}`);
  assertIntInRange("throttleBurstLimit", burst, 1, 5000);
  const stage = args.stageName ?? REGIONAL_API_DEFAULTS.stageName;
  if (!/^[A-Za-z0-9_]{1,64}$/.test(stage)) {
    throw new Error(
      `stageName must be 1-64 letters, digits or underscores: got ${JSON.stringify(stage)}`,
    );
  }
  const functions = args.functions ?? FUNCTIONS;
  for (const route of args.routes ?? ROUTES) {
    if (!(route.function in functions)) {
      throw new Error(
        `route ${route.method} ${route.path} names unknown function ${route.function}`,
      );
    }
  }
  if (
    args.customDomain?.basePath !== undefined &&
    !/^[A-Za-z0-9._-]+$/.test(args.customDomain.basePath)
  ) {
    throw new Error(
      `customDomain.basePath must be a single path segment: got ${JSON.stringify(args.customDomain.basePath)}`,
    );
  }
}

/** `/orders/{orderId}` -> `orders/*`, the form execute-api ARNs use for a resource path. */
export function executeApiPath(path: string): string {
  return path
    .split("/")
    .filter(Boolean)
    .map((s) => (s.startsWith("{") ? "*" : s))
    .join("/");
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * One region's API: an API Gateway REST API (regional endpoint) whose every method but the health
 * check and CORS preflight requires SigV4 (AWS_IAM), proxying to Lambda functions bundled from
 * functions/ with esbuild, each with its own role limited to the actions it calls on this region's
 * replicas; a stage with JSON access logs, metrics, X-Ray tracing and throttling; and optionally a
 * custom domain with base path `v1`.
 */
export class RegionalApi extends pulumi.ComponentResource {
  readonly apiId: pulumi.Output<string>;
  /** The REST API's name: the `ApiName` dimension of its CloudWatch metrics. */
  readonly apiName: pulumi.Output<string>;
  readonly stageName: pulumi.Output<string>;
  readonly stageArn: pulumi.Output<string>;
  /** `arn:aws:execute-api:region:account:api-id`: scope of execute-api:Invoke for callers. */
  readonly executionArn: pulumi.Output<string>;
  /** The stage's own invoke URL (execute-api host). */
  readonly invokeUrl: pulumi.Output<string>;
  readonly functionArns: pulumi.Output<Record<FunctionName, string>>;
  readonly functionNames: pulumi.Output<Record<FunctionName, string>>;
  /** Custom-domain target for Route 53 aliases; undefined without a custom domain. */
  readonly regionalDomainName: pulumi.Output<string | undefined>;
  readonly regionalZoneId: pulumi.Output<string | undefined>;
  /** `https://<domain>/<basePath>` with a custom domain, otherwise the invoke URL. */
  readonly url: pulumi.Output<string>;
  readonly functions: Readonly<Record<string, aws.lambda.Function>>;
  readonly roles: Readonly<Record<string, aws.iam.Role>>;

  constructor(name: string, args: RegionalApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("RegionalApi"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:api:RegionalApi"),
    );
    validateRegionalApiArgs(args);

    const region = args.region;
    const parent = { parent: this };
    const specs = args.functions ?? FUNCTIONS;
    const routes = args.routes ?? ROUTES;
    const stageName = args.stageName ?? REGIONAL_API_DEFAULTS.stageName;
    const retention = args.logRetentionDays ?? REGIONAL_API_DEFAULTS.logRetentionDays;
    const kmsKeyId = args.kmsKeyArn;
    // Trust policies name this account (aws:SourceAccount), so no other account's resource can
    // get the service to act with these roles (the confused deputy).
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;

    const api = new aws.apigateway.RestApi(
      `${name}-api`,
      {
        region,
        description: `${args.namePrefix} order service (${region})`,
        endpointConfiguration: { types: "REGIONAL" },
        tags: args.tags,
      },
      parent,
    );

    // Functions, one role each.
    const functions: Record<string, aws.lambda.Function> = {};
    const roles: Record<string, aws.iam.Role> = {};
    const usedFunctions = FUNCTION_NAMES.filter((f) => routes.some((r) => r.function === f));
    for (const fn of usedFunctions) {
      const spec = specs[fn];
      const id = `${name}-${kebab(fn)}`;
      const logGroup = new aws.cloudwatch.LogGroup(
        `${id}-logs`,
        {
          region,
          name: `/${args.namePrefix}/${region}/lambda/${kebab(fn)}`,
          retentionInDays: retention,
          kmsKeyId,
          tags: args.tags,
        },
        parent,
      );
      const role = lambdaRole(
        `${id}-role`,
        {
          description: `${fn} function of ${args.namePrefix} in ${region}`,
          accountId,
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
            .apply(([arns, logArn]) => JSON.stringify(functionPolicy(spec, arns, logArn))),
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
      const bundle = bundleFunction(spec.entry);
      const tableEnv = pulumi
        .output(args.tableNames)
        .apply((names) => tableEnvironment(TABLES, spec.access, names, fn));
      functions[fn] = new aws.lambda.Function(
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
          code: new pulumi.asset.AssetArchive({
            "index.js": new pulumi.asset.StringAsset(bundle.code),
            "index.js.map": new pulumi.asset.StringAsset(bundle.sourceMap),
          }),
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
        { parent: this, dependsOn: fisPolicy ? [policy, fisPolicy] : [policy] },
      );
      roles[fn] = role;
    }
    this.functions = functions;
    this.roles = roles;

    // Resources, parents first.
    const resourceIds: Record<string, pulumi.Input<string>> = { "/": api.rootResourceId };
    for (const path of resourcePaths(routes)) {
      const segments = path.split("/").filter(Boolean);
      const parentPath = segments.length === 1 ? "/" : "/" + segments.slice(0, -1).join("/");
      const resource = new aws.apigateway.Resource(
        `${name}-res${path.replace(/[{}]/g, "").replace(/\//g, "-")}`,
        {
          region,
          restApi: api.id,
          parentId: resourceIds[parentPath] as pulumi.Input<string>,
          pathPart: segments.at(-1) as string,
        },
        parent,
      );
      resourceIds[path] = resource.id;
    }

    const deploymentDeps: pulumi.Resource[] = [];
    // Every input a deployment snapshot depends on: see api-deployment.ts.
    const revision = new ApiRevision();
    for (const route of routes) {
      const id = `${name}-${route.method.toLowerCase()}${route.path.replace(/[{}]/g, "").replace(/\//g, "-")}`;
      const fn = functions[route.function] as aws.lambda.Function;
      const method = new aws.apigateway.Method(
        id,
        revision.add("aws:apigateway/method:Method", id, {
          region,
          restApi: api.id,
          resourceId: resourceIds[route.path] as pulumi.Input<string>,
          httpMethod: route.method,
          authorization: route.auth === "iam" ? "AWS_IAM" : "NONE",
        }),
        parent,
      );
      const integration = new aws.apigateway.Integration(
        id,
        revision.add("aws:apigateway/integration:Integration", id, {
          region,
          restApi: api.id,
          resourceId: method.resourceId,
          httpMethod: method.httpMethod,
          type: "AWS_PROXY",
          integrationHttpMethod: "POST",
          uri: fn.invokeArn,
          timeoutMilliseconds: 29000,
        }),
        parent,
      );
      new aws.lambda.Permission(
        id,
        revision.add("aws:lambda/permission:Permission", id, {
          region,
          action: "lambda:InvokeFunction",
          function: fn.name,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${api.executionArn}/*/${route.method}/${executeApiPath(route.path)}`,
        }),
        parent,
      );
      deploymentDeps.push(method, integration);
    }

    if (args.corsAllowOrigin) {
      const allowMethods = (path: string) =>
        [...new Set(routes.filter((r) => r.path === path).map((r) => r.method)), "OPTIONS"].join(
          ",",
        );
      for (const path of new Set(routes.map((r) => r.path))) {
        const id = `${name}-options${path.replace(/[{}]/g, "").replace(/\//g, "-")}`;
        const method = new aws.apigateway.Method(
          id,
          revision.add("aws:apigateway/method:Method", id, {
            region,
            restApi: api.id,
            resourceId: resourceIds[path] as pulumi.Input<string>,
            httpMethod: "OPTIONS",
            authorization: "NONE",
          }),
          parent,
        );
        const integration = new aws.apigateway.Integration(
          id,
          revision.add("aws:apigateway/integration:Integration", id, {
            region,
            restApi: api.id,
            resourceId: method.resourceId,
            httpMethod: method.httpMethod,
            type: "MOCK",
            requestTemplates: { "application/json": '{"statusCode": 200}' },
          }),
          parent,
        );
        const headers = {
          "method.response.header.Access-Control-Allow-Origin": `'${args.corsAllowOrigin}'`,
          "method.response.header.Access-Control-Allow-Methods": `'${allowMethods(path)}'`,
          "method.response.header.Access-Control-Allow-Headers":
            "'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-content-sha256'",
        };
        const response = new aws.apigateway.MethodResponse(
          id,
          revision.add("aws:apigateway/methodResponse:MethodResponse", id, {
            region,
            restApi: api.id,
            resourceId: method.resourceId,
            httpMethod: method.httpMethod,
            statusCode: "200",
            responseParameters: Object.fromEntries(Object.keys(headers).map((h) => [h, true])),
          }),
          parent,
        );
        const integrationResponse = new aws.apigateway.IntegrationResponse(
          id,
          revision.add("aws:apigateway/integrationResponse:IntegrationResponse", id, {
            region,
            restApi: api.id,
            resourceId: method.resourceId,
            httpMethod: method.httpMethod,
            statusCode: response.statusCode,
            responseParameters: headers,
          }),
          { parent: this, dependsOn: [integration] },
        );
        deploymentDeps.push(method, integration, response, integrationResponse);
      }
    }

    // Errors API Gateway answers itself (missing auth, throttling, unknown route) keep the
    // service's JSON error shape and say which region answered.
    for (const [type, code] of [
      ["DEFAULT_4XX", "ClientError"],
      ["DEFAULT_5XX", "GatewayError"],
    ] as const) {
      const id = `${name}-${type.toLowerCase().replace("_", "-")}`;
      deploymentDeps.push(
        new aws.apigateway.Response(
          id,
          revision.add("aws:apigateway/response:Response", id, {
            region,
            restApiId: api.id,
            responseType: type,
            responseTemplates: {
              "application/json": `{"error":"${code}","message":$context.error.messageString}`,
            },
            responseParameters: {
              "gatewayresponse.header.x-served-by-region": `'${region}'`,
              "gatewayresponse.header.content-type": "'application/json'",
            },
          }),
          parent,
        ),
      );
    }

    // A new deployment whenever any input of the snapshot changes, so the stage never serves a
    // stale one; replaced create-before-delete, so the stage always has a live one.
    const deployment = new aws.apigateway.Deployment(
      `${name}-deployment`,
      {
        region,
        restApi: api.id,
        description: `${args.namePrefix} ${region}`,
        triggers: { revision: revision.hash() },
      },
      { parent: this, dependsOn: deploymentDeps },
    );

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      {
        region,
        name: `/${args.namePrefix}/${region}/apigateway/access`,
        retentionInDays: retention,
        kmsKeyId,
        tags: args.tags,
      },
      parent,
    );

    const stageDeps: pulumi.Resource[] = [];
    if (args.manageAccountLogging ?? REGIONAL_API_DEFAULTS.manageAccountLogging) {
      const pushRole = accountLoggingRole(
        `${name}-apigw-logs-role`,
        `API Gateway logging to CloudWatch in ${region}`,
        accountId,
        args.tags,
        { parent: this, retainOnDelete: true },
      );
      stageDeps.push(
        new aws.apigateway.Account(
          `${name}-account`,
          { region, cloudwatchRoleArn: pushRole.arn },
          { parent: this, retainOnDelete: true },
        ),
      );
    }

    const stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        region,
        restApi: api.id,
        deployment: deployment.id,
        stageName,
        xrayTracingEnabled: true,
        accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
        tags: args.tags,
      },
      { parent: this, dependsOn: stageDeps },
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
        retentionInDays: retention,
        kmsKeyId,
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
          throttlingRateLimit: args.throttleRateLimit ?? REGIONAL_API_DEFAULTS.throttleRateLimit,
          throttlingBurstLimit: args.throttleBurstLimit ?? REGIONAL_API_DEFAULTS.throttleBurstLimit,
        },
      },
      { parent: this, dependsOn: [executionLogs] },
    );

    let regionalDomainName: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let regionalZoneId: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let url: pulumi.Output<string> = stage.invokeUrl;
    if (args.customDomain) {
      const domain = args.customDomain;
      const basePath = domain.basePath ?? CUSTOM_DOMAIN_DEFAULTS.basePath;
      const certificate = new aws.acm.Certificate(
        `${name}-cert`,
        { region, domainName: domain.domainName, validationMethod: "DNS", tags: args.tags },
        parent,
      );
      const option = certificate.domainValidationOptions.apply((options) => {
        const first = options[0];
        if (!first)
          throw new Error(`ACM returned no DNS validation record for ${domain.domainName}`);
        return first;
      });
      // Every region's certificate for the same name asks for the same validation record: one
      // API owns it (allowOverwrite takes over a record an older version of a peer created),
      // the others validate on it.
      const validationFqdn =
        (domain.createValidationRecord ?? CUSTOM_DOMAIN_DEFAULTS.createValidationRecord)
          ? new aws.route53.Record(
              `${name}-cert-validation`,
              {
                zoneId: domain.hostedZoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 300,
                allowOverwrite: true,
              },
              parent,
            ).fqdn
          : option.resourceRecordName.apply((n) => n.replace(/\.$/, ""));
      const validation = new aws.acm.CertificateValidation(
        `${name}-cert-validation`,
        { region, certificateArn: certificate.arn, validationRecordFqdns: [validationFqdn] },
        parent,
      );
      const domainName = new aws.apigateway.DomainName(
        `${name}-domain`,
        {
          region,
          domainName: domain.domainName,
          regionalCertificateArn: validation.certificateArn,
          endpointConfiguration: { types: "REGIONAL" },
          securityPolicy: "TLS_1_2",
          tags: args.tags,
        },
        parent,
      );
      new aws.apigateway.BasePathMapping(
        `${name}-base-path`,
        {
          region,
          restApi: api.id,
          stageName: stage.stageName,
          domainName: domainName.domainName,
          basePath,
        },
        parent,
      );
      regionalDomainName = domainName.regionalDomainName;
      regionalZoneId = domainName.regionalZoneId;
      url = pulumi.interpolate`https://${domain.domainName}/${basePath}`;
    }

    const mapOf = (pick: (f: aws.lambda.Function) => pulumi.Output<string>) =>
      pulumi.all(
        Object.fromEntries(Object.entries(functions).map(([fn, f]) => [fn, pick(f)])),
      ) as pulumi.Output<Record<FunctionName, string>>;

    this.apiId = api.id;
    this.apiName = api.name;
    this.stageName = stage.stageName;
    this.stageArn = stage.arn;
    this.executionArn = api.executionArn;
    this.invokeUrl = stage.invokeUrl;
    this.functionArns = mapOf((f) => f.arn);
    this.functionNames = mapOf((f) => f.name);
    this.regionalDomainName = regionalDomainName;
    this.regionalZoneId = regionalZoneId;
    this.url = url;

    this.registerOutputs({
      apiId: this.apiId,
      stageName: this.stageName,
      stageArn: this.stageArn,
      invokeUrl: this.invokeUrl,
      functionArns: this.functionArns,
      regionalDomainName: this.regionalDomainName,
      regionalZoneId: this.regionalZoneId,
      url: this.url,
    });
  }
}
