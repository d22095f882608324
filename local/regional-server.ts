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

/** Builds the REST proxy event API Gateway would send for this request. */
export function toProxyEvent(
  req: RequestFacts,
  body: Buffer,
  ctx: { readonly region: string; readonly requestId: string; readonly now: number },
): APIGatewayProxyEvent {
  const url = new URL(req.url, "http://localhost");
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (multiQuery[k] ??= []).push(v);
  const query: Record<string, string> = {};
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
    path: `/${LOCAL_STAGE}${url.pathname}`,
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
    path: url.pathname,
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
}

/** A region's HTTP front door. `stop()` and `start()` again keep the port. */
export class RegionalServer {
  readonly region: string;
  private readonly handler: ApiHandler;
  private readonly host: string;
  private port: number;
  private server?: Server | undefined;
  /** Recent requests (not health checks), for traffic figures. */
  readonly recent = new Ring<ServedRequest>(5_000);
  served = 0;
  healthChecks = 0;

  constructor(opts: RegionalServerOptions) {
    this.region = opts.region;
    this.handler = opts.handler;
    this.host = opts.host ?? "127.0.0.1";
    this.port = opts.port ?? 0;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
        else chunks.push(chunk as Buffer);
      }
    } catch {
      res.destroy();
      return;
    }
    let result: APIGatewayProxyResult;
    if (tooLarge) {
      result = gatewayError(413, "Request Too Long");
    } else {
      const event = toProxyEvent(
        {
          method: req.method ?? "GET",
          url: req.url ?? "/",
          rawHeaders: req.rawHeaders,
          sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        },
        Buffer.concat(chunks),
        { region: this.region, requestId, now: Date.now() },
      );
      try {
        result = await this.handler(event);
      } catch {
        // What API Gateway answers when the Lambda function itself fails.
        result = gatewayError(502, "Internal server error");
      }
    }
    if (res.destroyed) return;
    writeProxyResult(res, result, requestId);
    const healthCheck = (req.headers["user-agent"] ?? "") === HEALTH_CHECK_USER_AGENT;
    if (healthCheck) this.healthChecks++;
    else {
      this.served++;
      this.recent.push({
        at: Date.now(),
        method: req.method ?? "GET",
        path: new URL(req.url ?? "/", "http://localhost").pathname,
        status: result.statusCode,
        ms: Math.round(performance.now() - started),
        healthCheck,
      });
    }
  }
}

function gatewayError(status: number, message: string): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": "InternalServerErrorException",
    },
    body: JSON.stringify({ message }),
  };
}
