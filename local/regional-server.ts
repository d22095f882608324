/**
 * One region's API on loopback: each HTTP request becomes an API Gateway REST proxy event for the
 * region's handler (the same dispatcher and handlers Lambda runs), and the handler's result
 * becomes the HTTP response. No authorizer: routes that need IAM on AWS are open locally.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { SERVED_BY_HEADER } from "../functions/http";
import type { ApiHandler } from "../functions/runtime";
import { Ring } from "./stats";

/** API Gateway's payload limit for REST APIs. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** The stage name local events carry. */
export const LOCAL_STAGE = "local";
/** User agent of the global endpoint's health checker, as Route 53's checkers send theirs. */
export const HEALTH_CHECK_USER_AGENT = "Amazon-Route53-Health-Check-Service (sandbox)";

export interface RequestFacts {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Header names with their values, in order, as sent (Node's `rawHeaders`). */
  readonly rawHeaders: readonly string[];
  readonly sourceIp: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A dictionary in which every name, `__proto__` and `constructor` included, is plain data. */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * Builds the REST proxy event API Gateway would send for this request. Lambda hands a function
 * its event as parsed JSON, so the event goes through JSON too: a header or query parameter
 * named `__proto__` or `constructor` arrives as an ordinary own property, as it does on AWS.
 */
export function toProxyEvent(
  req: RequestFacts,
  body: Buffer,
  ctx: { readonly region: string; readonly requestId: string; readonly now: number },
): APIGatewayProxyEvent {
  return JSON.parse(JSON.stringify(buildProxyEvent(req, body, ctx))) as APIGatewayProxyEvent;
}

/**
 * The request target parsed as sent: `//x` is a path (API Gateway takes it as one), never a
 * host, as WHATWG URL resolution against a base would make it. Undefined when it cannot be parsed.
 */
export function targetUrl(raw: string): URL | undefined {
  try {
    return raw.startsWith("/") ? new URL(`http://localhost${raw}`) : new URL(raw);
  } catch {
    return undefined;
  }
}

/**
 * The path as the client sent it. API Gateway passes `/kv/./x` or `/kv//x` on as is (the
 * handlers refuse them); WHATWG URL parsing would resolve them to `/kv/x` first.
 */
export function pathAsSent(raw: string, parsed: URL): string {
  if (!raw.startsWith("/")) return parsed.pathname; // absolute-form target (a proxy's)
  const end = raw.search(/[?#]/);
  return end < 0 ? raw : raw.slice(0, end);
}

function buildProxyEvent(
  req: RequestFacts,
  body: Buffer,
  ctx: { readonly region: string; readonly requestId: string; readonly now: number },
): APIGatewayProxyEvent {
  const url = targetUrl(req.url);
  if (url === undefined) throw new Error(`unparseable request target ${JSON.stringify(req.url)}`);
  const headers = dict<string>();
  const multiValueHeaders = dict<string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const multiQuery = dict<string[]>();
  for (const [k, v] of url.searchParams) (multiQuery[k] ??= []).push(v);
  const query = dict<string>();
  for (const [k, values] of Object.entries(multiQuery))
    query[k] = values[values.length - 1] as string;
  const hasQuery = Object.keys(multiQuery).length > 0;

  let text: string | null = null;
  let isBase64Encoded = false;
  if (body.length > 0) {
    try {
      text = utf8.decode(body);
    } catch {
      text = body.toString("base64");
      isBase64Encoded = true;
    }
  }
  const userAgent = headers["user-agent"] ?? headers["User-Agent"] ?? null;
  const requestContext = {
    accountId: "000000000000",
    apiId: `local-${ctx.region}`,
    protocol: "HTTP/1.1",
    httpMethod: req.method,
    path: `/${LOCAL_STAGE}${pathAsSent(req.url, url)}`,
    stage: LOCAL_STAGE,
    requestId: ctx.requestId,
    requestTimeEpoch: ctx.now,
    resourceId: "local",
    resourcePath: url.pathname,
    domainName: headers.host ?? headers.Host ?? "localhost",
    authorizer: null,
    identity: {
      sourceIp: req.sourceIp,
      userAgent,
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      user: null,
      userArn: null,
    },
  } as unknown as APIGatewayProxyEvent["requestContext"];
  return {
    httpMethod: req.method,
    path: pathAsSent(req.url, url),
    resource: "",
    pathParameters: null,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    headers,
    multiValueHeaders,
    body: text,
    isBase64Encoded,
    stageVariables: null,
    requestContext,
  };
}

/** Writes a handler's result as API Gateway would. */
export function writeProxyResult(
  res: ServerResponse,
  result: APIGatewayProxyResult,
  requestId: string,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.multiValueHeaders ?? {}))
    headers[k.toLowerCase()] = v.map(String);
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  headers["x-amzn-requestid"] = requestId;
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, "base64")
    : Buffer.from(result.body ?? "", "utf8");
  headers["content-length"] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

export interface ServedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  readonly healthCheck: boolean;
}

export interface RegionalServerOptions {
  readonly region: string;
  readonly handler: ApiHandler;
  /** @default 0 (a free port, kept across stop/start) */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** Where a request that failed in the server itself (not in a handler) is reported. */
  readonly onError?: (message: string, err: unknown) => void;
}

/** A region's HTTP front door. `stop()` and `start()` again keep the port. */
export class RegionalServer {
  readonly region: string;
  private readonly handler: ApiHandler;
  private readonly host: string;
  private readonly onError: (message: string, err: unknown) => void;
  private port: number;
  private server?: Server | undefined;
  /** Why the region answers 503 to everything, /health included; serving when undefined. */
  private unavailableReason?: string | undefined;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Recent requests (not health checks), for traffic figures. */
  readonly recent = new Ring<ServedRequest>(5_000);
  served = 0;
  healthChecks = 0;

  constructor(opts: RegionalServerOptions) {
    this.region = opts.region;
    this.handler = opts.handler;
    this.host = opts.host ?? "127.0.0.1";
    this.port = opts.port ?? 0;
    this.onError = opts.onError ?? (() => undefined);
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** The reason every request gets a 503, while the region's data is not there to serve. */
  get unavailable(): string | undefined {
    return this.unavailableReason;
  }

  /**
   * Answers every request, /health included, with 503 and `reason` (undefined: serve again).
   * Requests already in a handler finish; `idle()` says when they have.
   */
  setUnavailable(reason: string | undefined): void {
    this.unavailableReason = reason;
  }

  /** Resolves once no request is inside a handler. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.listen(this.port, this.host);
    try {
      await Promise.race([
        once(server, "listening"),
        once(server, "error").then(([err]) => {
          throw err;
        }),
      ]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        code === "EADDRINUSE"
          ? `port ${this.port} for ${this.region} is taken; choose other ports (--port)`
          : `cannot listen for ${this.region}: ${String(err)}`,
        { cause: err },
      );
    }
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = once(server, "close");
    server.close();
    server.closeAllConnections();
    await closed;
  }

  /** Never rejects: whatever goes wrong becomes this request's 500, and the server serves on. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    let result: APIGatewayProxyResult;
    try {
      const body = await readBody(req);
      if (body === undefined) {
        res.destroy();
        return;
      }
      result = await this.answer(req, body, requestId);
    } catch (err) {
      this.onError(`${this.region}: ${req.method} ${req.url} failed in the sandbox`, err);
      result = this.errorResult(500, "InternalError", "internal error");
    }
    try {
      if (res.destroyed) return;
      writeProxyResult(res, result, requestId);
      this.count(req, result.statusCode, started);
    } catch (err) {
      // A result no HTTP response can carry (a bad header, say): a 500 if nothing went out yet.
      this.onError(`${this.region}: writing the response to ${req.method} ${req.url} failed`, err);
      try {
        if (res.headersSent) res.destroy();
        else
          writeProxyResult(
            res,
            this.errorResult(500, "InternalError", "internal error"),
            requestId,
          );
      } catch {
        res.destroy();
      }
    }
  }

  private async answer(
    req: IncomingMessage,
    body: Buffer | "tooLarge",
    requestId: string,
  ): Promise<APIGatewayProxyResult> {
    // What the deployed API answers (components/regional-api.ts: REQUEST_TOO_LARGE falls back
    // to the DEFAULT_4XX gateway response, which names the region).
    if (body === "tooLarge") return this.errorResult(413, "ClientError", "Request Too Long");
    if (targetUrl(req.url ?? "/") === undefined) {
      return this.errorResult(400, "ClientError", "the request target is not a valid path");
    }
    const reason = this.unavailableReason;
    if (reason !== undefined) {
      return {
        ...this.errorResult(503, "ServiceUnavailable", reason),
        headers: { ...JSON_HEADERS, [SERVED_BY_HEADER]: this.region, "retry-after": "1" },
      };
    }
    const event = toProxyEvent(
      {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        rawHeaders: req.rawHeaders,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
      },
      body,
      { region: this.region, requestId, now: Date.now() },
    );
    this.inflight++;
    try {
      return await this.handler(event);
    } catch (err) {
      // What API Gateway answers when the Lambda function itself fails (DEFAULT_5XX).
      this.onError(`${this.region}: the handler failed on ${req.method} ${req.url}`, err);
      return this.errorResult(502, "GatewayError", "Internal server error");
    } finally {
      if (--this.inflight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private count(req: IncomingMessage, status: number, started: number): void {
    const healthCheck = (req.headers["user-agent"] ?? "") === HEALTH_CHECK_USER_AGENT;
    if (healthCheck) {
      this.healthChecks++;
      return;
    }
    this.served++;
    // An unparseable target still counts as a request.
    const path = targetUrl(req.url ?? "/")?.pathname ?? "?";
    this.recent.push({
      at: Date.now(),
      method: req.method ?? "GET",
      path,
      status,
      ms: Math.round(performance.now() - started),
      healthCheck,
    });
  }

  /** An error answered by the "gateway" itself: the service's `{ error, message }` shape. */
  private errorResult(status: number, error: string, message: string): APIGatewayProxyResult {
    return {
      statusCode: status,
      headers: { ...JSON_HEADERS, [SERVED_BY_HEADER]: this.region },
      body: JSON.stringify({ error, message }),
    };
  }
}

const JSON_HEADERS = { "content-type": "application/json" } as const;

/** The request body; "tooLarge" past API Gateway's limit; undefined if the client went away. */
async function readBody(req: IncomingMessage): Promise<Buffer | "tooLarge" | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk as Buffer);
    }
  } catch {
    return undefined;
  }
  return size > MAX_PAYLOAD_BYTES ? "tooLarge" : Buffer.concat(chunks);
}
