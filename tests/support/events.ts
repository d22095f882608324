/**
 * API Gateway REST proxy events for tests and the sandbox, shaped as API Gateway sends them:
 * `queryStringParameters` keeps the last value of a repeated parameter and
 * `multiValueQueryStringParameters` keeps them all.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";

export interface RequestSpec {
  readonly method: string;
  /** Path, optionally with a query string: "/orders?orderId=1&productId=2". */
  readonly path: string;
  /** Extra query parameters (added after those in `path`). */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  /** A string is sent as is; anything else is JSON-encoded. */
  readonly body?: unknown;
  /** Base64-encode the body and flag it; "as-is" flags it without encoding (bad base64 tests). */
  readonly base64?: boolean | "as-is";
  readonly headers?: Readonly<Record<string, string>>;
}

/** Builds a proxy event for `spec`, with no `resource` (the dispatcher fills it in). */
export function apiEvent(spec: RequestSpec): APIGatewayProxyEvent {
  const url = new URL(spec.path, "http://localhost");
  const multi: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (multi[k] ??= []).push(v);
  for (const [k, v] of Object.entries(spec.query ?? {})) {
    (multi[k] ??= []).push(...(typeof v === "string" ? [v] : v));
  }
  const single: Record<string, string> = {};
  for (const [k, values] of Object.entries(multi)) single[k] = values[values.length - 1] as string;
  const hasQuery = Object.keys(multi).length > 0;

  let body: string | null = null;
  if (spec.body !== undefined)
    body = typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
  if (body !== null && spec.base64 === true) body = Buffer.from(body, "utf8").toString("base64");

  return {
    httpMethod: spec.method,
    path: url.pathname,
    resource: "",
    pathParameters: null,
    queryStringParameters: hasQuery ? single : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    headers: { "content-type": "application/json", ...spec.headers },
    multiValueHeaders: {},
    body,
    isBase64Encoded: spec.base64 !== undefined && spec.base64 !== false,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent["requestContext"],
  };
}

/** A response with its JSON body parsed. */
export interface Parsed<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: T;
  readonly raw: string;
}

/** Parses a handler's result; fails loudly if the body is not JSON. */
export function parse<T = Record<string, unknown>>(result: APIGatewayProxyResult): Parsed<T> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return {
    status: result.statusCode,
    headers,
    body: JSON.parse(result.body) as T,
    raw: result.body,
  };
}
