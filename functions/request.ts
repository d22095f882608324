/**
 * Request hygiene shared by every route: which route an event is for, a bounded and decoded
 * body, and query parameters that are known and given once. Everything here runs before any
 * DynamoDB call, so bad input never writes anything.
 */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { DomainError, badRequest } from "./domain/errors";
import { clip } from "./domain/validation";
import { ROUTES, matchPath, type FunctionName, type RouteSpec } from "./routes";

/** Largest request body accepted, in bytes after base64 decoding. */
export const MAX_BODY_BYTES = 16 * 1024;

/** 405 for a known path and another method; carries the methods the path does allow. */
export class MethodNotAllowedError extends DomainError {
  constructor(
    method: string,
    path: string,
    readonly allow: readonly string[],
  ) {
    super(
      "MethodNotAllowed",
      `${clip(method, 10)} is not allowed on ${clip(path, 80)}; allowed: ${allow.join(", ")}`,
    );
  }
}

/** A matched route and its decoded path parameters. */
export interface RouteMatch {
  readonly route: RouteSpec;
  readonly params: Readonly<Record<string, string>>;
}

/** `matchPath`, with malformed percent-encoding (`/kv/%E0`) turned into a 400. */
function safeMatch(routePath: string, path: string): Record<string, string> | undefined {
  try {
    return matchPath(routePath, path);
  } catch (err) {
    if (err instanceof URIError) throw badRequest("path", "is not valid percent-encoding");
    throw err;
  }
}

/**
 * Finds the route for a method and path among `routes`: 404 NotFound when no route has the path,
 * 405 MethodNotAllowed when routes have it for other methods only. Literal segments win over
 * parameters when both match.
 */
export function findRoute(
  method: string,
  path: string,
  routes: readonly RouteSpec[] = ROUTES,
): RouteMatch {
  const matches: RouteMatch[] = [];
  for (const route of routes) {
    const params = safeMatch(route.path, path);
    if (params !== undefined) matches.push({ route, params });
  }
  if (matches.length === 0) throw new DomainError("NotFound", `no route for ${clip(path, 80)}`);
  const byMethod = matches
    .filter((m) => m.route.method === method)
    .sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length);
  const found = byMethod[0];
  if (found === undefined) {
    const allow = [...new Set(matches.map((m) => m.route.method))].sort();
    throw new MethodNotAllowedError(method, path, allow);
  }
  return found;
}

/** A request after hygiene, as handlers see it. */
export interface ApiRequest {
  readonly method: string;
  readonly route: RouteSpec;
  readonly pathParameters: Readonly<Record<string, string>>;
  /** Every query parameter, each given exactly once. */
  readonly query: ReadonlyMap<string, string>;
  /** Decoded body text; undefined when the request has none. */
  readonly body: string | undefined;
}

/**
 * Applies the hygiene rules to an API Gateway event for function `fn`: body size (413) first,
 * then route, then query parameters. The route comes from `resource` (set by API Gateway and the
 * dispatcher) or, failing that, from matching `path`.
 */
export function parseRequest(event: APIGatewayProxyEvent, fn: FunctionName): ApiRequest {
  const body = decodeBody(event);
  const own = ROUTES.filter((r) => r.function === fn);
  const sameResource = own.filter((r) => r.path === event.resource);
  if (sameResource.length === 0) {
    const { route, params } = findRoute(event.httpMethod, event.path, own);
    return { method: event.httpMethod, route, pathParameters: params, query: queryOf(event), body };
  }
  const { route } = findRoute(event.httpMethod, event.resource, sameResource);
  // API Gateway has already decoded pathParameters; a hand-made event may lack them.
  const pathParameters = event.pathParameters
    ? definedOnly(event.pathParameters)
    : (safeMatch(route.path, event.path) ?? {});
  return { method: event.httpMethod, route, pathParameters, query: queryOf(event), body };
}

function definedOnly(record: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = v;
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function tooLarge(bytes: number): DomainError {
  return new DomainError(
    "PayloadTooLarge",
    `body is ${bytes} bytes; at most ${MAX_BODY_BYTES} bytes are accepted`,
  );
}

/** The body as text: size-checked before and after base64 decoding, strictly UTF-8. */
export function decodeBody(
  event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded">,
): string | undefined {
  const raw = event.body;
  if (raw === null || raw === undefined || raw === "") return undefined;
  if (!event.isBase64Encoded) {
    const bytes = Buffer.byteLength(raw, "utf8");
    if (bytes > MAX_BODY_BYTES) throw tooLarge(bytes);
    return raw;
  }
  // Refuse to decode something that cannot fit, before spending memory on it.
  if (raw.length > Math.ceil(MAX_BODY_BYTES / 3) * 4)
    throw tooLarge(Math.floor((raw.length * 3) / 4));
  if (raw.length % 4 !== 0 || !BASE64.test(raw)) throw badRequest("body", "is not valid base64");
  const bytes = Buffer.from(raw, "base64");
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge(bytes.length);
  try {
    return utf8.decode(bytes);
  } catch {
    throw badRequest("body", "is not valid UTF-8");
  }
}

/** Query parameters, from the multi-value map when present so a repeated one is noticed. */
function queryOf(event: APIGatewayProxyEvent): Map<string, string> {
  const query = new Map<string, string>();
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      if (values === undefined) continue;
      if (values.length > 1) throw badRequest(clip(name), "is given more than once");
      const value = values[0];
      if (value !== undefined) query.set(name, value);
    }
    return query;
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.set(name, value);
  }
  return query;
}

/**
 * The query parameters of a route that takes `allowed` ones; any other is a 400 naming it.
 * Returns a plain object with only the parameters given.
 */
export function allowedQuery<K extends string>(
  req: ApiRequest,
  allowed: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [name, value] of req.query) {
    if (!(allowed as readonly string[]).includes(name)) {
      const hint =
        allowed.length > 0 ? `; allowed: ${allowed.join(", ")}` : "; this route takes none";
      throw badRequest(clip(name), `is not a known query parameter${hint}`);
    }
    out[name as K] = value;
  }
  return out;
}

/** For routes that take no body: a non-empty one is a 400. */
export function noBody(req: ApiRequest): void {
  if (req.body !== undefined && req.body.trim() !== "") {
    throw badRequest("body", `is not accepted by ${req.route.method} ${req.route.path}`);
  }
}

/** The body parsed as JSON, or undefined when there is none. */
export function jsonBody(req: ApiRequest): unknown {
  if (req.body === undefined || req.body.trim() === "") return undefined;
  try {
    return JSON.parse(req.body) as unknown;
  } catch {
    throw badRequest("body", "is not valid JSON");
  }
}

/** A path parameter the route declares; its absence is a routing bug, reported as a 400. */
export function pathParam(req: ApiRequest, name: string): string {
  const value = req.pathParameters[name];
  if (value === undefined) throw badRequest(name, "is required in the path");
  return value;
}
