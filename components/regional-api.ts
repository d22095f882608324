import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assertCodeRoot } from "./bundle";
import { componentType, withPreviousType } from "./component-type";
import { DEFAULT_LOG_RETENTION_DAYS } from "./defaults";
import { assertTableAccess } from "./function-parts";
import { apiDomain, assertCustomDomain } from "./regional-api-domain";
import { apiFunctions, FUNCTION_NAME_PATTERN } from "./regional-api-functions";
import { apiRoutes, assertRoutes, type HttpMethod, type RouteAuth } from "./regional-api-routes";
import { apiStage } from "./regional-api-stage";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";

/** RegionalApi's defaults: what an Args property left unset means. */
export const REGIONAL_API_DEFAULTS = {
  stageName: "prod",
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  manageAccountLogging: true,
} as const;

/** One Lambda function of a RegionalApi; routes name it by its key in `functions`. */
export interface ApiFunctionArgs {
  /** Handler module, relative to RegionalApiArgs.codeRoot; it exports `handler`. */
  entry: string;
  /**
   * Exactly the tables the function touches (keys of `tableEnvVars`) and the DynamoDB actions it
   * calls on each, e.g. `{ orders: ["dynamodb:GetItem"] }`. Never a wildcard.
   */
  access: Record<string, string[]>;
  /** Memory in MB. @default 256 */
  memoryMb?: number;
  /** Timeout in seconds; API Gateway gives up after 29 s, so stay well below. @default 10 */
  timeoutSeconds?: number;
}

/** One route of a RegionalApi: a method on a path, proxied to one of its functions. */
export interface ApiRouteArgs {
  /** The HTTP method. */
  method: HttpMethod;
  /** Resource path, e.g. `/orders/{orderId}`; `{name}` segments are path parameters. */
  path: string;
  /** The function (its key in RegionalApiArgs.functions) that answers the route. */
  function: string;
  /** `iam` requires a SigV4-signed request; `none` only for health checks. */
  auth: RouteAuth;
}

/** A custom domain every region's API serves, each with its own regional certificate. */
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

/** The arguments of a RegionalApi. */
export interface RegionalApiArgs {
  /** Region of the API and its functions. Plain value. */
  region: string;
  /** Prefix of log group names and resource descriptions. */
  namePrefix: string;
  /**
   * Absolute directory the functions' `entry` paths are relative to; esbuild bundles there, so
   * source map paths are relative to it (typically the program's root). Plain value.
   */
  codeRoot: string;
  /**
   * The API's Lambda functions by name (camelCase; `createOrder` becomes `<name>-create-order`).
   * Each must answer at least one route. Plain value.
   */
  functions: Record<string, ApiFunctionArgs>;
  /** The routes the API exposes, each answered by one of `functions`. Plain value. */
  routes: ApiRouteArgs[];
  /**
   * The tables the functions may use, by table key: the environment variable that carries the
   * table's physical name to a function whose `access` names it. Plain value.
   */
  tableEnvVars: Record<string, string>;
  /** Physical table names by table key (the same in every region for global tables). */
  tableNames: pulumi.Input<Record<string, string>>;
  /** ARNs of this region's replica of each table, by table key; function policies name only these. */
  tableArns: pulumi.Input<Record<string, string>>;
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

/** Checks RegionalApiArgs before any resource exists. */
export function validateRegionalApiArgs(args: RegionalApiArgs): void {
  for (const k of ["region", "codeRoot", "functions", "routes", "tableEnvVars"] as const) {
    assertPlain(k, args[k]);
  }
  assertPlain("customDomain", args.customDomain);
  assertRegion("region", args.region);
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
  assertCodeRoot(args.codeRoot);
  assertTableBindings(args.tableEnvVars);
  assertFunctions(args.functions, args.tableEnvVars);
  if (args.routes.length === 0) throw new Error("routes must list at least one route");
  assertRoutes(args.routes);
  for (const route of args.routes) {
    if (!Object.hasOwn(args.functions, route.function)) {
      throw new Error(
        `route ${route.method} ${route.path} names unknown function ${route.function}`,
      );
    }
  }
  for (const fn of Object.keys(args.functions)) {
    if (!args.routes.some((r) => r.function === fn)) {
      throw new Error(`function ${fn} answers no route: list a route for it or leave it out`);
    }
  }
  assertCustomDomain(args.customDomain);
}

/** Throws unless every table binding names an environment variable. */
function assertTableBindings(tableEnvVars: Readonly<Record<string, string>>): void {
  for (const [table, envVar] of Object.entries(tableEnvVars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envVar)) {
      throw new Error(
        `tableEnvVars.${table} must be an environment variable name: got ${JSON.stringify(envVar)}`,
      );
    }
  }
}

/** Throws unless every function has a usable name, sizes Lambda accepts and bound tables only. */
function assertFunctions(
  functions: Readonly<Record<string, ApiFunctionArgs>>,
  tableEnvVars: Readonly<Record<string, string>>,
): void {
  if (Object.keys(functions).length === 0) throw new Error("functions must name at least one");
  for (const [fn, spec] of Object.entries(functions)) {
    if (!FUNCTION_NAME_PATTERN.test(fn)) {
      throw new Error(
        `function name ${JSON.stringify(fn)} must be camelCase letters and digits, at most 48`,
      );
    }
    // Lambda's limits: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    if (spec.memoryMb !== undefined) assertIntInRange(`${fn}.memoryMb`, spec.memoryMb, 128, 10240);
    if (spec.timeoutSeconds !== undefined) {
      assertIntInRange(`${fn}.timeoutSeconds`, spec.timeoutSeconds, 1, 900);
    }
    assertTableAccess(`function ${fn}`, spec.access, tableEnvVars);
  }
}

/**
 * One region's API: an API Gateway REST API (regional endpoint) whose every method but the health
 * check and CORS preflight requires SigV4 (AWS_IAM), proxying to Lambda functions bundled from
 * the caller's code with esbuild, each with its own role limited to the actions it calls on this
 * region's replicas; a stage with JSON access logs, metrics, X-Ray tracing and throttling; and
 * optionally a custom domain with base path `v1`.
 */
export class RegionalApi extends pulumi.ComponentResource {
  /** The REST API's id. */
  readonly apiId: pulumi.Output<string>;
  /** The REST API's name: the `ApiName` dimension of its CloudWatch metrics. */
  readonly apiName: pulumi.Output<string>;
  /** The stage's name. */
  readonly stageName: pulumi.Output<string>;
  /** The stage's ARN. */
  readonly stageArn: pulumi.Output<string>;
  /** `arn:aws:execute-api:region:account:api-id`: scope of execute-api:Invoke for callers. */
  readonly executionArn: pulumi.Output<string>;
  /** The stage's own invoke URL (execute-api host). */
  readonly invokeUrl: pulumi.Output<string>;
  /** Each function's ARN, by function name. */
  readonly functionArns: pulumi.Output<Record<string, string>>;
  /** Each function's physical name, by function name. */
  readonly functionNames: pulumi.Output<Record<string, string>>;
  /** Custom-domain target for Route 53 aliases; undefined without a custom domain. */
  readonly regionalDomainName: pulumi.Output<string | undefined>;
  /** Hosted zone of `regionalDomainName`; undefined without a custom domain. */
  readonly regionalZoneId: pulumi.Output<string | undefined>;
  /** `https://<domain>/<basePath>` with a custom domain, otherwise the invoke URL. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: RegionalApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("RegionalApi"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:api:RegionalApi"),
    );
    validateRegionalApiArgs(args);

    const region = args.region;
    const retentionDays = args.logRetentionDays ?? REGIONAL_API_DEFAULTS.logRetentionDays;
    // Trust policies name this account (aws:SourceAccount), so no other account's resource can
    // get the service to act with these roles (the confused deputy).
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

    const api = new aws.apigateway.RestApi(
      `${name}-api`,
      {
        region,
        description: `${args.namePrefix} order service (${region})`,
        endpointConfiguration: { types: "REGIONAL" },
        tags: args.tags,
      },
      { parent: this },
    );
    const functions = apiFunctions(args, { owner: this, name, retentionDays, accountId });
    const routes = apiRoutes(args, { owner: this, name, api, functions });
    const stage = apiStage(
      args,
      {
        stageName: args.stageName ?? REGIONAL_API_DEFAULTS.stageName,
        throttleRateLimit: args.throttleRateLimit ?? REGIONAL_API_DEFAULTS.throttleRateLimit,
        throttleBurstLimit: args.throttleBurstLimit ?? REGIONAL_API_DEFAULTS.throttleBurstLimit,
        retentionDays,
        manageAccountLogging:
          args.manageAccountLogging ?? REGIONAL_API_DEFAULTS.manageAccountLogging,
      },
      { owner: this, name, api, routes, accountId },
    );
    const domain = args.customDomain
      ? apiDomain(args.customDomain, { owner: this, name, region, api, stage, tags: args.tags })
      : undefined;

    const mapOf = (pick: (f: aws.lambda.Function) => pulumi.Output<string>) =>
      pulumi.all(Object.fromEntries(Object.entries(functions).map(([fn, f]) => [fn, pick(f)])));

    this.apiId = api.id;
    this.apiName = api.name;
    this.stageName = stage.stageName;
    this.stageArn = stage.arn;
    this.executionArn = api.executionArn;
    this.invokeUrl = stage.invokeUrl;
    this.functionArns = mapOf((f) => f.arn);
    this.functionNames = mapOf((f) => f.name);
    this.regionalDomainName = domain ? domain.regionalDomainName : pulumi.output(undefined);
    this.regionalZoneId = domain ? domain.regionalZoneId : pulumi.output(undefined);
    this.url = domain ? domain.url : stage.invokeUrl;

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
