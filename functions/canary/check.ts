/**
 * What one canary run checks, as a pure function over its configuration and three boundaries:
 * `sign` (SigV4/SigV4a for execute-api), `send` (one HTTP exchange with a time bound) and `log`.
 * The real boundaries live in `transport.ts`; tests replace `send` only.
 *
 * A run is three requests, in order, and fails at the first problem:
 * 1. `GET /health`, unsigned (the route needs no auth); with a region configured, its
 *    `x-served-by-region` must be that region;
 * 2. `GET /orders/{orderId}`, signed; the body's order has the id asked for;
 * 3. `GET /products/{productId}`, signed; the body is the product asked for.
 * With `CANARY_SIGNING_REGION` `*` (the global name, whose serving region changes on failover)
 * the reads are signed with SigV4a for every region, so a request DNS sends to either region is
 * valid there and any region may serve it; if a gateway refuses it with a 403, the read is signed
 * again with SigV4 for the region that answered the 403 (`x-served-by-region`, else the one that
 * served /health) and sent once more, and the rest of the run signs for that region.
 * A non-2xx status, a timeout, a body that is not the expected JSON, or a response served by
 * another region than the one signed for, fails the run with a `CanaryFailure` whose message
 * names the URL, the status and the `x-served-by-region` it got.
 */
import { REGION_PATTERN } from "resilient-dynamo/regions";
import * as z from "zod/mini";
import { idSchema } from "../domain/validation";
import { SERVED_BY_HEADER } from "../http";

/** Per-request time bound when `CANARY_TIMEOUT_MS` is not set. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Bounds on `CANARY_TIMEOUT_MS`: a run is three requests inside the canary's own timeout. */
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 60_000;

/** Longest part of a response body repeated in a failure message. */
export const BODY_EXCERPT_CHARS = 300;

/** The value of `CANARY_SIGNING_REGION` that signs with SigV4a for every region. */
export const ANY_REGION = "*";

/** Hosts to which plain `http:` is allowed (a local sandbox); everything else needs https. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A canary's settings, validated. */
export interface CanaryConfig {
  /** Base URL including stage or base path, without a trailing slash. */
  readonly endpoint: string;
  /** Region to sign for, or `*` (SigV4a, every region). */
  readonly signingRegion: string;
  readonly orderId: string;
  readonly productId: string;
  /** Bound on each request, from sending it to the end of its body, in milliseconds. */
  readonly timeoutMs: number;
}

/** An HTTP request as the canary builds it; header names are lower case. */
export interface CanaryRequest {
  readonly method: "GET";
  /** Absolute URL. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** An HTTP response; header names are lower case. */
export interface CanaryResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** Thrown by `send` when no complete response arrived within the time bound. */
export class RequestTimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`no complete response from ${url} within ${timeoutMs} ms`);
    this.name = "RequestTimeoutError";
  }
}

export interface CanaryDeps {
  /** Returns `request` signed for service `execute-api` in `region` (SigV4a when `*`). */
  sign(request: CanaryRequest, region: string): Promise<CanaryRequest>;
  /**
   * Sends one request; resolves with any status, rejects on a network error and with a
   * `RequestTimeoutError` when the whole exchange takes longer than `timeoutMs`.
   */
  send(request: CanaryRequest, timeoutMs: number): Promise<CanaryResponse>;
  log(message: string, fields: Readonly<Record<string, unknown>>): void;
}

/** What failed in a run: the request, and what came back (if anything). */
export class CanaryFailure extends Error {
  constructor(
    readonly step: CheckName,
    readonly url: string,
    /** HTTP status, or undefined when no response arrived. */
    readonly status: number | undefined,
    /** The response's `x-served-by-region`, or undefined when absent or no response. */
    readonly servedBy: string | undefined,
    problem: string,
    options?: { cause?: unknown },
  ) {
    const got = status === undefined ? "no response" : `status ${status}`;
    super(
      `canary step ${step} failed: GET ${url}: ${problem} (${got}, ` +
        `${SERVED_BY_HEADER}: ${servedBy ?? "none"})`,
      options,
    );
    this.name = "CanaryFailure";
  }
}

export type CheckName = "health" | "order" | "product";

/** One successful step, as logged and returned. */
export interface StepResult {
  readonly step: CheckName;
  readonly url: string;
  readonly status: number;
  readonly servedBy: string | undefined;
  readonly signedFor: string | undefined;
}

/** Thrown for bad canary settings; the message names every bad key. */
export class CanaryConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`canary configuration is invalid: ${problems.join("; ")}`);
    this.name = "CanaryConfigError";
  }
}

function clip(raw: string, max = 80): string {
  return raw.length <= max ? raw : `${raw.slice(0, max)}…`;
}

function endpointProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL such as https://abc123.execute-api.us-east-1.amazonaws.com/prod";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)))
    return "must use https (plain http only to localhost)";
  if (url.username !== "" || url.password !== "") return "must not contain credentials";
  if (url.search !== "" || url.hash !== "") return "must not have a query or fragment";
  return undefined;
}

const envSchema = z.object({
  CANARY_ENDPOINT: z.string({ error: "is required" }).check(
    z.minLength(1, { error: "is required", abort: true }),
    z.superRefine((value, ctx) => {
      const problem = endpointProblem(value);
      if (problem !== undefined)
        ctx.issues.push({ code: "custom", input: value, message: problem });
    }),
  ),
  CANARY_SIGNING_REGION: z.string({ error: "is required" }).check(
    z.minLength(1, { error: "is required", abort: true }),
    z.refine((v) => v === ANY_REGION || REGION_PATTERN.test(v), {
      message: `must be a region such as us-east-1, or '${ANY_REGION}'`,
    }),
  ),
  CANARY_ORDER_ID: idSchema(),
  CANARY_PRODUCT_ID: idSchema(),
  CANARY_TIMEOUT_MS: z.optional(
    z.string().check(
      z.regex(/^\d{1,9}$/, { error: "must be a whole number of milliseconds", abort: true }),
      z.refine((v) => Number(v) >= MIN_TIMEOUT_MS && Number(v) <= MAX_TIMEOUT_MS, {
        message: `must be from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`,
      }),
    ),
  ),
});

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the canary's settings from environment variables, reporting every bad or missing key at
 * once with the value it got. An empty `CANARY_TIMEOUT_MS` counts as unset.
 */
export function parseCanaryConfig(env: Env): CanaryConfig {
  const input = {
    CANARY_ENDPOINT: env.CANARY_ENDPOINT?.trim(),
    CANARY_SIGNING_REGION: env.CANARY_SIGNING_REGION?.trim(),
    CANARY_ORDER_ID: env.CANARY_ORDER_ID?.trim(),
    CANARY_PRODUCT_ID: env.CANARY_PRODUCT_ID?.trim(),
    CANARY_TIMEOUT_MS: env.CANARY_TIMEOUT_MS?.trim() || undefined,
  };
  const result = envSchema.safeParse(input);
  if (!result.success) {
    // The first problem of each key is the one to fix; later rules on the same value only echo it.
    const problems = new Map<string, string>();
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? "environment");
      if (problems.has(key)) continue;
      const value = input[key as keyof typeof input];
      const got = value === undefined || value === "" ? "" : `: got '${clip(value)}'`;
      problems.set(key, `${key} ${issue.message}${got}`);
    }
    throw new CanaryConfigError([...problems.values()]);
  }
  const data = result.data;
  return {
    endpoint: data.CANARY_ENDPOINT.replace(/\/+$/, ""),
    signingRegion: data.CANARY_SIGNING_REGION,
    orderId: data.CANARY_ORDER_ID,
    productId: data.CANARY_PRODUCT_ID,
    timeoutMs:
      data.CANARY_TIMEOUT_MS === undefined ? DEFAULT_TIMEOUT_MS : Number(data.CANARY_TIMEOUT_MS),
  };
}

/** `endpoint` + `path`; ids match `ID_PATTERN` (idSchema), so no segment needs escaping. */
function urlOf(config: CanaryConfig, path: string): string {
  return `${config.endpoint}${path}`;
}

const BASE_HEADERS = {
  accept: "application/json",
  "user-agent": "resilient-dynamo-canary",
} as const;

function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat === "" ? "empty body" : clip(flat, BODY_EXCERPT_CHARS);
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sends one step's request; a network error or timeout fails the step. */
async function transmit(
  deps: CanaryDeps,
  config: CanaryConfig,
  step: CheckName,
  request: CanaryRequest,
): Promise<CanaryResponse> {
  try {
    return await deps.send(request, config.timeoutMs);
  } catch (err) {
    const problem =
      err instanceof RequestTimeoutError
        ? `timed out after ${config.timeoutMs} ms`
        : `request failed: ${err instanceof Error ? err.message : String(err)}`;
    throw new CanaryFailure(step, request.url, undefined, undefined, problem, { cause: err });
  }
}

/**
 * Checks one step's response: a 2xx status, and, when the request was signed, that the region
 * signed for served it (for `*`, that some named region did). Returns the parsed JSON body.
 */
function accept(
  step: CheckName,
  url: string,
  response: CanaryResponse,
  signedFor: string | undefined,
): unknown {
  const servedBy = response.headers[SERVED_BY_HEADER];
  const fail = (problem: string): CanaryFailure =>
    new CanaryFailure(step, url, response.status, servedBy, problem);
  if (response.status < 200 || response.status > 299) {
    throw fail(`non-2xx response: ${excerpt(response.body)}`);
  }
  if (signedFor === ANY_REGION) {
    if (servedBy === undefined || !REGION_PATTERN.test(servedBy)) {
      throw fail("signed for every region (*) but the response names no region that served it");
    }
  } else if (signedFor !== undefined && servedBy !== signedFor) {
    throw fail(`signed for ${signedFor} but served by ${servedBy ?? "an unnamed region"}`);
  }
  const json = parseJson(response.body);
  if (json === undefined) throw fail(`body is not JSON: ${excerpt(response.body)}`);
  return json;
}

/**
 * Runs the three checks against `config.endpoint`. Resolves with each step's result when all
 * pass; rejects with `CanaryFailure` at the first that does not.
 */
export async function runCanary(config: CanaryConfig, deps: CanaryDeps): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const passed = (result: StepResult): void => {
    results.push(result);
    deps.log("canary step passed", { ...result });
  };

  const healthUrl = urlOf(config, "/health");
  const health = await transmit(deps, config, "health", {
    method: "GET",
    url: healthUrl,
    headers: BASE_HEADERS,
  });
  const healthJson = accept("health", healthUrl, health, undefined);
  const healthServedBy = health.headers[SERVED_BY_HEADER];
  const healthFail = (problem: string): CanaryFailure =>
    new CanaryFailure("health", healthUrl, health.status, healthServedBy, problem);
  if (!isRecord(healthJson) || healthJson.status !== "ok") {
    throw healthFail(`body does not report status ok: ${excerpt(health.body)}`);
  }
  if (config.signingRegion !== ANY_REGION && healthServedBy !== config.signingRegion) {
    throw healthFail(
      `expected ${config.signingRegion} (CANARY_SIGNING_REGION) to serve this endpoint; ` +
        `use '${ANY_REGION}' for a name whose serving region changes`,
    );
  }
  passed({
    step: "health",
    url: healthUrl,
    status: health.status,
    servedBy: healthServedBy,
    signedFor: undefined,
  });

  /** Set when a SigV4a request was refused and the run fell back to SigV4 for one region. */
  let resignedFor: string | undefined;
  const signedStep = async (
    step: CheckName,
    path: string,
    check: (json: unknown) => string | undefined,
  ): Promise<void> => {
    const url = urlOf(config, path);
    const unsigned: CanaryRequest = { method: "GET", url, headers: BASE_HEADERS };
    let signedFor = resignedFor ?? config.signingRegion;
    let response = await transmit(deps, config, step, await deps.sign(unsigned, signedFor));
    if (response.status === 403 && signedFor === ANY_REGION) {
      const region = response.headers[SERVED_BY_HEADER] ?? healthServedBy;
      if (region !== undefined && REGION_PATTERN.test(region)) {
        deps.log("SigV4a request refused; signing again with SigV4", {
          step,
          url,
          status: response.status,
          region,
        });
        resignedFor = signedFor = region;
        response = await transmit(deps, config, step, await deps.sign(unsigned, region));
      }
    }
    const json = accept(step, url, response, signedFor);
    const servedBy = response.headers[SERVED_BY_HEADER];
    const problem = check(json);
    if (problem !== undefined) {
      throw new CanaryFailure(step, url, response.status, servedBy, problem);
    }
    passed({ step, url, status: response.status, servedBy, signedFor });
  };

  await signedStep("order", `/orders/${config.orderId}`, (json) => {
    const order = isRecord(json) ? json.order : undefined;
    const got = isRecord(order) ? order.OrderId : undefined;
    return got === config.orderId
      ? undefined
      : `expected order ${config.orderId} in the body, got ${describe(got)}`;
  });
  await signedStep("product", `/products/${config.productId}`, (json) => {
    const got = isRecord(json) ? json.ProductId : undefined;
    return got === config.productId
      ? undefined
      : `expected product ${config.productId} in the body, got ${describe(got)}`;
  });
  return results;
}

function describe(value: unknown): string {
  if (value === undefined) return "none";
  return typeof value === "string" ? `'${clip(value, 40)}'` : clip(JSON.stringify(value), 40);
}
