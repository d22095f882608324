/**
 * API Gateway stand-ins in front of the sandbox's regional servers: one HTTP server per region,
 * each on its own loopback address (127.0.0.2, 127.0.0.3, ...; Linux routes all of 127/8 to lo,
 * no privileges needed) and all on the SAME port, so a DNS answer alone decides which region a
 * client reaches, as with the real service name.
 *
 *   const fronts = await startApiFronts({ regions, upstreams: sandbox.urls.regions,
 *     credentials: [creds], serviceDomain: "orders.example.test" });
 *   fronts.invokeUrls["us-east-1"]  // http://127.0.0.2:PORT/prod  (the stack's invokeUrl)
 *   fronts.serviceUrl               // http://orders.example.test:PORT/v1 (the stack's url)
 *
 * Each front, like a REST API stage with a Regional custom domain:
 * - `Host: <its address>:PORT` serves `/<stage>/...`; `Host: <serviceDomain>:PORT` serves
 *   `/<basePath>/...`; any other host is a 403 `Forbidden`;
 * - a path that is no route of functions/routes.ts is a 403 `Missing Authentication Token`;
 * - a route with `auth: "iam"` needs a valid SigV4 signature for the front's region or a SigV4a
 *   signature whose region set covers it (see sigv4-verify.ts), else a 403 in API Gateway's shape
 *   (API Gateway's message and `x-amzn-ErrorType`, in the body shape of this project's gateway
 *   responses: `{"error": "ClientError", "message": ...}` and `x-served-by-region`);
 *   `auth: "none"` routes (/health) pass unsigned;
 * - the request then goes to the region's sandbox server with the stage or base path removed;
 *   an upstream that cannot be reached is a 502 `Internal server error`, one slower than 29 s a
 *   504 (API Gateway's integration timeout).
 * `stats()` counts what each front let through and refused. `setFault(region, fault)` makes a
 * region's front stand in for FIS Lambda faults after authentication: `unavailable` answers 503
 * without calling the sandbox (aws:lambda:invocation-http-integration-response), `latency`
 * waits `ms` before calling it (aws:lambda:invocation-add-delay); `undefined` clears it.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { SERVED_BY_HEADER } from "../../functions/http";
import { ROUTES, matchPath } from "../../functions/routes";
import {
  BodyTooLargeError,
  arrived,
  listen,
  readBody,
  sendJson,
  type Listening,
} from "./http-util";
import { SignatureVerifier, type StandInCredentials } from "./sigv4-verify";

export const EXECUTE_API = "execute-api";
/** The stage name in invoke URLs, as stack/config.ts's default. */
export const DEFAULT_STAGE = "prod";
/** The custom domain's base path, as components/regional-api.ts's default. */
export const DEFAULT_BASE_PATH = "v1";
/** API Gateway's maximum integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 29_000;
/** The first region's loopback address; the next regions take the following ones. */
export const FIRST_FRONT_ADDRESS = "127.0.0.2";

export interface ApiFrontOptions {
  readonly regions: readonly string[];
  /** Each region's sandbox server (`sandbox.urls.regions`). */
  readonly upstreams: Readonly<Record<string, string>>;
  readonly credentials: readonly StandInCredentials[];
  /** The service name the DNS stand-in answers for. */
  readonly serviceDomain: string;
  /** @default "prod" */
  readonly stage?: string;
  /** @default "v1" */
  readonly basePath?: string;
  /** Port shared by every front. @default a free one */
  readonly port?: number;
  /** @default 300_000 */
  readonly clockSkewMs?: number;
  readonly onError?: (message: string, err: unknown) => void;
}

export interface FrontStats {
  /** Requests let through, by how they were authenticated. */
  readonly SigV4: number;
  readonly SigV4a: number;
  readonly unsigned: number;
  /** Requests answered 403 by the front. */
  readonly refused: number;
  /** Requests a fault answered 503 or delayed. */
  readonly faulted: number;
}

/** A FIS Lambda fault the front applies to every authenticated request of its region. */
export type FrontFault =
  { readonly kind: "unavailable" } | { readonly kind: "latency"; readonly ms: number };

export interface ApiFronts {
  readonly port: number;
  /** Region to its loopback address (what the DNS stand-in answers). */
  readonly addresses: Readonly<Record<string, string>>;
  /** Region to `http://<address>:<port>/<stage>`. */
  readonly invokeUrls: Readonly<Record<string, string>>;
  /** `http://<serviceDomain>:<port>/<basePath>`: needs the DNS stand-in to resolve. */
  readonly serviceUrl: string;
  stats(): Readonly<Record<string, FrontStats>>;
  setFault(region: string, fault: FrontFault | undefined): void;
  fault(region: string): FrontFault | undefined;
  stop(): Promise<void>;
}

/** The loopback address of the i-th region's front (127.0.0.2, 127.0.0.3, ...). */
export function frontAddress(index: number): string {
  const base = FIRST_FRONT_ADDRESS.split(".").map(Number);
  return `127.0.0.${(base[3] as number) + index}`;
}

export async function startApiFronts(opts: ApiFrontOptions): Promise<ApiFronts> {
  const stage = opts.stage ?? DEFAULT_STAGE;
  const basePath = opts.basePath ?? DEFAULT_BASE_PATH;
  const onError = opts.onError ?? (() => undefined);
  const counters = new Map<string, { -readonly [K in keyof FrontStats]: FrontStats[K] }>();
  const faults = new Map<string, FrontFault>();
  const handlers = opts.regions.map((region, i) => {
    const upstream = opts.upstreams[region];
    if (upstream === undefined) throw new Error(`no sandbox server for region ${region}`);
    const count = { SigV4: 0, SigV4a: 0, unsigned: 0, refused: 0, faulted: 0 };
    counters.set(region, count);
    const verifier = new SignatureVerifier({
      credentials: opts.credentials,
      service: EXECUTE_API,
      regions: [region],
      ...(opts.clockSkewMs !== undefined ? { clockSkewMs: opts.clockSkewMs } : {}),
    });
    const address = frontAddress(i);
    return {
      region,
      address,
      handle: (req: IncomingMessage, res: ServerResponse) =>
        serve(req, res, {
          region,
          address,
          upstream,
          verifier,
          count,
          fault: () => faults.get(region),
          stage,
          basePath,
          domain: opts.serviceDomain,
        }),
    };
  });
  const servers = await listenAll(handlers, opts.port ?? 0, onError);
  const port = (servers[0] as Listening).port;
  return {
    port,
    addresses: Object.fromEntries(handlers.map((h) => [h.region, h.address])),
    invokeUrls: Object.fromEntries(
      handlers.map((h) => [h.region, `http://${h.address}:${port}/${stage}`]),
    ),
    serviceUrl: `http://${opts.serviceDomain}:${port}/${basePath}`,
    stats: () => Object.fromEntries([...counters].map(([r, c]) => [r, { ...c }])),
    setFault: (region, fault) => {
      if (!counters.has(region)) throw new Error(`no API front for region ${region}`);
      if (fault === undefined) faults.delete(region);
      else faults.set(region, fault);
    },
    fault: (region) => faults.get(region),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** Binds every front on the same port; retries with a new port if another process took it. */
async function listenAll(
  handlers: readonly {
    address: string;
    handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  }[],
  port: number,
  onError: (message: string, err: unknown) => void,
): Promise<Listening[]> {
  for (let attempt = 0; ; attempt++) {
    const started: Listening[] = [];
    try {
      for (const h of handlers) {
        const p = started.length === 0 ? port : (started[0] as Listening).port;
        started.push(await listen(h.address, p, h.handle, onError));
      }
      return started;
    } catch (err) {
      await Promise.all(started.map((s) => s.stop()));
      const inUse = (err as NodeJS.ErrnoException).code === "EADDRINUSE";
      if (!inUse || port !== 0 || attempt >= 4) throw err;
    }
  }
}

interface FrontContext {
  readonly region: string;
  readonly address: string;
  readonly upstream: string;
  readonly verifier: SignatureVerifier;
  readonly count: { -readonly [K in keyof FrontStats]: FrontStats[K] };
  readonly fault: () => FrontFault | undefined;
  readonly stage: string;
  readonly basePath: string;
  readonly domain: string;
}

/**
 * An error the gateway answers itself, in the shape components/regional-api.ts's gateway
 * responses give it: `{"error": "ClientError"|"GatewayError", "message": ...}`, the region in
 * `x-served-by-region`, plus API Gateway's own `x-amzn-ErrorType`.
 */
function apiError(
  res: ServerResponse,
  ctx: { readonly region: string },
  status: number,
  errorType: string,
  message: string,
  requestId: string,
): void {
  sendJson(
    res,
    status,
    { error: status >= 500 ? "GatewayError" : "ClientError", message },
    {
      "x-amzn-errortype": errorType,
      "x-amzn-requestid": requestId,
      [SERVED_BY_HEADER]: ctx.region,
    },
  );
}

/** The route path under the host's stage or base path, or undefined when there is none. */
function routePath(ctx: FrontContext, hostname: string, path: string): string | undefined | null {
  const prefix =
    hostname === ctx.address
      ? ctx.stage
      : hostname === ctx.domain.toLowerCase()
        ? ctx.basePath
        : null;
  if (prefix === null) return null;
  if (!path.startsWith(`/${prefix}/`)) return undefined;
  return path.slice(prefix.length + 1);
}

async function serve(req: IncomingMessage, res: ServerResponse, ctx: FrontContext): Promise<void> {
  const requestId = randomUUID();
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      return apiError(res, ctx, 413, "RequestTooLongException", "Request Too Long", requestId);
    }
    throw err;
  }
  const hostname = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  const [rawPath = "/", query] = (req.url ?? "/").split(/\?(.*)/s);
  const path = routePath(ctx, hostname, rawPath);
  if (path === null) {
    ctx.count.refused++;
    return apiError(res, ctx, 403, "ForbiddenException", "Forbidden", requestId);
  }
  const route =
    path === undefined
      ? undefined
      : ROUTES.find((r) => r.method === req.method && safeMatch(r.path, path));
  if (path === undefined || route === undefined) {
    ctx.count.refused++;
    return apiError(
      res,
      ctx,
      403,
      "MissingAuthenticationTokenException",
      "Missing Authentication Token",
      requestId,
    );
  }
  if (route.auth === "iam") {
    const verdict = await ctx.verifier.verify(arrived(req, body));
    if (!verdict.ok) {
      ctx.count.refused++;
      return apiError(res, ctx, verdict.status, verdict.errorType, verdict.message, requestId);
    }
    ctx.count[verdict.algorithm]++;
  } else {
    ctx.count.unsigned++;
  }
  const fault = ctx.fault();
  if (fault !== undefined) ctx.count.faulted++;
  if (fault?.kind === "unavailable") {
    // What the FIS Lambda extension answers instead of running the function.
    return sendJson(res, 503, {
      error: "ServiceUnavailable",
      message: `${ctx.region}: the function answered 503 without running (FIS fault)`,
    });
  }
  if (fault?.kind === "latency") await new Promise((r) => setTimeout(r, fault.ms));
  forward(
    ctx,
    req,
    res,
    body,
    `${ctx.upstream}${path}${query !== undefined ? `?${query}` : ""}`,
    requestId,
  );
}

function safeMatch(routePathTemplate: string, path: string): boolean {
  try {
    return matchPath(routePathTemplate, path) !== undefined;
  } catch {
    return false; // a malformed %-escape is no route
  }
}

const HOP_BY_HOP = new Set([
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
]);

function forward(
  ctx: FrontContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  target: string,
  requestId: string,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers["content-length"] = String(body.length);
  const upstream = httpRequest(target, {
    method: req.method,
    headers,
    timeout: INTEGRATION_TIMEOUT_MS,
  });
  upstream.on("response", (up) => {
    const out: Record<string, string | string[]> = { "x-amzn-requestid": requestId };
    for (const [name, value] of Object.entries(up.headers)) {
      if (value !== undefined && name !== "connection" && name !== "keep-alive") out[name] = value;
    }
    res.writeHead(up.statusCode ?? 502, out);
    up.pipe(res);
    up.on("error", () => res.destroy());
  });
  upstream.on("timeout", () => {
    upstream.destroy();
    if (!res.headersSent)
      apiError(res, ctx, 504, "IntegrationTimeout", "Endpoint request timed out", requestId);
  });
  upstream.on("error", () => {
    if (!res.headersSent)
      apiError(res, ctx, 502, "InternalServerErrorException", "Internal server error", requestId);
    else res.destroy();
  });
  upstream.end(body);
}
