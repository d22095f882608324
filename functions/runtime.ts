/**
 * What a handler needs from its environment, as one value (`Deps`), so the same handler code runs
 * on Lambda (built once per container from environment variables) and in the local sandbox (two
 * regions side by side in one process, each with its own `Deps`).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger, LogLevel } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { DEFAULT_HEALTH_TIMEOUT_MS } from "./domain/health";
import type { Clock } from "./domain/model";
import { newId } from "./domain/validation";
import { FUNCTIONS, type FunctionName } from "./routes";
import { TABLES, tableSpec, type TableKey } from "./tables";

/** An API Gateway (REST, proxy integration) handler. */
export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * The part of Powertools `Metrics` the handlers use. A real `Metrics` instance fits; tests and the
 * sandbox may pass a recorder or `NO_METRICS`.
 */
/** A Powertools metric unit ("Milliseconds", "Count", ...). */
export type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export interface MetricsSink {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: Unit, value: number): unknown;
  publishStoredMetrics(): unknown;
}

/** Discards metrics (sandbox, tests, or `POWERTOOLS_METRICS_DISABLED=true`). */
export const NO_METRICS: MetricsSink = {
  addDimension: () => undefined,
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
};

export interface Deps {
  /** Region this instance serves; echoed in `x-served-by-region` and metric dimensions. */
  readonly region: string;
  /** Physical table names, only for the tables configured. */
  readonly tables: Readonly<Partial<Record<TableKey, string>>>;
  readonly doc: DynamoDBDocumentClient;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  /** Bound on `/health`'s probes. @default 2000 */
  readonly healthTimeoutMs?: number;
  /** Browser origin allowed by CORS; responses carry no CORS headers when unset. */
  readonly corsAllowOrigin?: string;
}

/**
 * SDK limits for an API behind API Gateway (29 s cap): fail a call in seconds, not minutes, so a
 * dead region turns into a quick 503 and clients fail over.
 */
export const SDK_LIMITS = {
  maxAttempts: 3,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
} as const;

/** Metric namespace when `POWERTOOLS_METRICS_NAMESPACE` is not set. */
export const DEFAULT_METRICS_NAMESPACE = "ResilientDynamo";
/** Service name for logs when `POWERTOOLS_SERVICE_NAME` is not set. */
export const DEFAULT_SERVICE_NAME = "resilient-dynamo";

/** Credentials for DynamoDB Local, which only checks that some are present. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

export interface DocumentClientOptions {
  readonly region: string;
  /** Override the endpoint, e.g. DynamoDB Local. */
  readonly endpoint?: string | undefined;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly maxAttempts?: number;
}

/** A document client with the API's timeouts; drops undefined attributes instead of failing. */
export function createDocumentClient(opts: DocumentClientOptions): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: opts.region,
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    maxAttempts: opts.maxAttempts ?? SDK_LIMITS.maxAttempts,
    // An options object, not a NodeHttpHandler instance: the SDK builds its own handler from it,
    // so we need no direct dependency on @smithy/node-http-handler. Without
    // throwOnRequestTimeout a request timeout only logs a warning.
    requestHandler: {
      connectionTimeout: SDK_LIMITS.connectionTimeoutMs,
      requestTimeout: SDK_LIMITS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

type Env = Readonly<Record<string, string | undefined>>;

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}

function logLevelFrom(env: Env): keyof typeof LogLevel | undefined {
  const raw = env.POWERTOOLS_LOG_LEVEL?.trim().toUpperCase();
  if (raw === undefined || raw === "") return undefined;
  if (!Object.hasOwn(LogLevel, raw)) {
    throw new Error(
      `POWERTOOLS_LOG_LEVEL must be one of ${Object.keys(LogLevel).join(", ")}: got ${raw}`,
    );
  }
  return raw as keyof typeof LogLevel;
}

function positiveInt(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new Error(`${name} must be a positive whole number of milliseconds: got ${raw}`);
  }
  return Number(raw);
}

/** A Powertools logger tagged with the serving region. */
export function createLogger(region: string, env: Env = process.env): Logger {
  const logLevel = logLevelFrom(env);
  return new Logger({
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    ...(logLevel !== undefined ? { logLevel } : {}),
    persistentKeys: { servedByRegion: region },
  });
}

/**
 * Powertools metrics in embedded metric format. The default `service` dimension is cleared so
 * ReadTime/WriteTime carry exactly the seed dashboard's one dimension, `Region`.
 */
export function createMetrics(env: Env = process.env): MetricsSink {
  if (isTrue(env.POWERTOOLS_METRICS_DISABLED)) return NO_METRICS;
  const metrics = new Metrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
  });
  metrics.clearDefaultDimensions();
  return metrics;
}

/**
 * Builds `Deps` from environment variables:
 * - `AWS_REGION` (set by Lambda) — required;
 * - the table variables of `tables.ts` (`TABLE_ORDERS`, ...) — those of `fn` required when given;
 * - `DYNAMODB_ENDPOINT` — optional endpoint override (DynamoDB Local); with it, the
 *   `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` of `env` or else fixed local credentials;
 * - `HEALTH_TIMEOUT_MS`, `CORS_ALLOW_ORIGIN`, `POWERTOOLS_LOG_LEVEL` (SILENT mutes), `POWERTOOLS_METRICS_DISABLED`,
 *   `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME` — optional.
 * Throws an error naming the variable when one is missing or malformed.
 */
export function depsFromEnv(env: Env = process.env, fn?: FunctionName): Deps {
  const region = env.AWS_REGION;
  if (region === undefined || region === "") throw new Error("AWS_REGION is not set");

  const tables: Partial<Record<TableKey, string>> = {};
  for (const spec of TABLES) {
    const name = env[spec.envVar];
    if (name !== undefined && name !== "") tables[spec.key] = name;
  }

  const endpoint = env.DYNAMODB_ENDPOINT || undefined;
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    throw new Error(`DYNAMODB_ENDPOINT must be a URL: got ${endpoint}`);
  }
  // Against AWS, leave credentials to the SDK's default chain (it refreshes them). Against an
  // endpoint override, use the given keys, or fixed ones DynamoDB Local accepts.
  const credentials =
    endpoint === undefined
      ? undefined
      : env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
        : LOCAL_CREDENTIALS;

  const healthTimeoutMs = positiveInt(env, "HEALTH_TIMEOUT_MS") ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const deps: Deps = {
    region,
    tables,
    doc: createDocumentClient({ region, endpoint, ...(credentials ? { credentials } : {}) }),
    logger: createLogger(region, env),
    metrics: createMetrics(env),
    healthTimeoutMs,
    ...(env.CORS_ALLOW_ORIGIN ? { corsAllowOrigin: env.CORS_ALLOW_ORIGIN } : {}),
  };
  if (fn !== undefined) requireTables(deps, fn);
  return deps;
}

/**
 * The physical names of `keys`, tables function `fn` uses. Throws at startup, naming the
 * environment variable, when one is not configured, and refuses a table routes.ts does not grant
 * `fn` (the IAM policy is built from that list, so the call would be denied on AWS).
 */
export function requireTables<K extends TableKey>(
  deps: Pick<Deps, "tables">,
  fn: FunctionName,
  keys: readonly K[] = Object.keys(FUNCTIONS[fn].access) as K[],
): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const key of keys) {
    if (FUNCTIONS[fn].access[key] === undefined) {
      throw new Error(`${fn} uses the ${key} table but routes.ts grants it no access`);
    }
    const name = deps.tables[key];
    if (name === undefined) {
      throw new Error(`${fn} needs the ${key} table: set ${tableSpec(key).envVar}`);
    }
    out[key] = name;
  }
  return out;
}

/** The real clock and ULID ids, for a region. */
export function systemClock(region: string): Clock {
  return { region, now: () => new Date(), newId };
}

/**
 * The Lambda entry point for a handler factory. On Lambda (AWS_LAMBDA_FUNCTION_NAME set) the
 * handler and its clients are built during init, so a misconfigured function fails its cold start
 * with a clear message; elsewhere (tests, sandbox, bundling) importing the module builds nothing.
 */
export function lambdaHandler(fn: FunctionName, make: (deps: Deps) => ApiHandler): ApiHandler {
  let built: ApiHandler | undefined;
  const get = (): ApiHandler => (built ??= make(depsFromEnv(process.env, fn)));
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) get();
  return (event) => get()(event);
}
