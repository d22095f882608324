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

/**
 * Builds a proxy event for `spec`, with no `resource` (the dispatcher fills it in). The path is
 * kept as written (`/kv/./x` stays so, as API Gateway passes it), and parameter and header names
 * are ordinary keys, `__proto__` included.
 */
export function apiEvent(spec: RequestSpec): APIGatewayProxyEvent {
  const at = spec.path.indexOf("?");
  const path = at < 0 ? spec.path : spec.path.slice(0, at);
  const multi = new Map<string, string[]>();
  const add = (k: string, values: readonly string[]): void => {
    multi.set(k, [...(multi.get(k) ?? []), ...values]);
  };
  for (const [k, v] of new URLSearchParams(at < 0 ? "" : spec.path.slice(at + 1))) add(k, [v]);
  for (const [k, v] of Object.entries(spec.query ?? {})) add(k, typeof v === "string" ? [v] : v);
  const single = new Map([...multi].map(([k, values]) => [k, values[values.length - 1] as string]));
  const hasQuery = multi.size > 0;

  let body: string | null = null;
  if (spec.body !== undefined)
    body = typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
  if (body !== null && spec.base64 === true) body = Buffer.from(body, "utf8").toString("base64");

  return {
    httpMethod: spec.method,
    path,
    resource: "",
    pathParameters: null,
    // Object.fromEntries defines keys, so `__proto__` becomes an own key, as JSON.parse makes it.
    queryStringParameters: hasQuery ? Object.fromEntries(single) : null,
    multiValueQueryStringParameters: hasQuery ? Object.fromEntries(multi) : null,
    headers: Object.fromEntries([
      ["content-type", "application/json"],
      ...Object.entries(spec.headers ?? {}),
    ]),
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

/** A V8 stack frame as it would appear if a stack leaked into a body. */
export const STACK_FRAME = /\bat\s+\S+\s+\(|\bat\s+(?:\/|file:|node:)|\.ts:\d+:\d+/;

/** What a response body must never show: a stack frame, a source path, Node internals. */
export function leaksInternals(body: string): boolean {
  return (
    STACK_FRAME.test(body) ||
    body.includes(process.cwd()) ||
    /node_modules\/|node:internal|file:\/\//.test(body)
  );
}
