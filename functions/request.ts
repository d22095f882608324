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

/**
 * Deepest nesting of arrays and objects accepted in a JSON body. DynamoDB caps a document at 32
 * levels (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-attributes);
 * the same bound here keeps recursive code (JSON.stringify, zod) far from the stack's limit.
 */
export const MAX_JSON_DEPTH = 32;

/** The path rule, repeated in every message that refuses a path. */
export const LITERAL_PATH_RULE =
  "paths are taken literally: no empty, '.' or '..' segments and no trailing slash";

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

/**
 * Refuses a path that a server or proxy could read as another path: `/kv//x`, `/kv/x/`,
 * `/kv/./x` and `/kv/%2e%2e/x` would otherwise reach key `x` (or nothing) depending on who
 * normalises it. `/` alone is the root.
 */
export function checkLiteralPath(path: string): void {
  if (path === "/") return;
  const segments = path.split("/");
  let problem: string | undefined;
  if (!path.startsWith("/")) problem = "does not start with /";
  else if (path.endsWith("/")) problem = "ends with a slash";
  else if (segments.slice(1).includes("")) problem = "has an empty segment";
  else if (segments.some(isDotSegment)) problem = "has a '.' or '..' segment";
  if (problem !== undefined) throw badRequest("path", `${problem}: ${LITERAL_PATH_RULE}`);
}

/** `.` or `..`, also percent-encoded (`%2e`), which URL parsers treat alike. */
function isDotSegment(segment: string): boolean {
  const plain = segment.replace(/%2e/gi, ".");
  return plain === "." || plain === "..";
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
 * Refuses a path that is not literal (`checkLiteralPath`) with a 400 first.
 */
export function findRoute(
  method: string,
  path: string,
  routes: readonly RouteSpec[] = ROUTES,
): RouteMatch {
  checkLiteralPath(path);
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
  // With `resource` set, the route comes from the template: check the concrete path as well.
  checkLiteralPath(event.path);
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

/** The body parsed as JSON, or undefined when there is none; deeper than MAX_JSON_DEPTH is a 400. */
export function jsonBody(req: ApiRequest): unknown {
  if (req.body === undefined || req.body.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(req.body) as unknown;
  } catch {
    throw badRequest("body", "is not valid JSON");
  }
  if (jsonDepthExceeds(req.body, MAX_JSON_DEPTH)) {
    throw badRequest(
      "body",
      `nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep; ` +
        `at most ${MAX_JSON_DEPTH} levels are accepted`,
    );
  }
  return value;
}

/**
 * Whether valid JSON text nests arrays and objects deeper than `max`. A scan of the text, not a
 * walk of the parsed value, so depth itself can never exhaust the stack.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (++depth > max) return true;
    } else if (c === "]" || c === "}") depth--;
  }
  return false;
}

/** A path parameter the route declares; its absence is a routing bug, reported as a 400. */
export function pathParam(req: ApiRequest, name: string): string {
  const value = req.pathParameters[name];
  if (value === undefined) throw badRequest(name, "is required in the path");
  return value;
}
