/**
 * Generated bad input for every route of functions/routes.ts (fast-check arbitraries), as it goes
 * on the wire: a method, a raw request target, header pairs (names may repeat) and body bytes.
 * The same requests drive the handlers (as API Gateway proxy events) and a running sandbox (over
 * HTTP). Every request to a route that writes carries at least one defect that must make the
 * service refuse it, so a run may never change a table.
 */
import { request } from "node:http";
import type { APIGatewayProxyEvent } from "aws-lambda";
import fc from "fast-check";
import { KV_KEY_MAX_LENGTH, KV_VALUE_MAX_BYTES } from "../../functions/domain/kv";
import { FILL_MAX_PER_KIND } from "../../functions/domain/fill";
import { ID_MAX_LENGTH } from "../../functions/domain/validation";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../../functions/request";
import { ROUTES } from "../../functions/routes";
import { MAX_PAYLOAD_BYTES } from "../../local/regional-server";
import { expect } from "chai";
import { apiEvent, leaksInternals } from "./events";

/** One request as sent. */
export interface WireRequest {
  readonly method: string;
  /** Path and query exactly as sent: printable ASCII, percent-encoded where needed. */
  readonly target: string;
  /** Header pairs in order; a name may repeat. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** What makes it bad, for reading a failure. */
  readonly why: string;
}

/**
 * Existing data the generators point at, so a refusal is about the input and reads hit real
 * items. Every id is longer than any generated good id (at most 20 characters), so a generated
 * request can never name it by chance.
 */
export interface Seed {
  readonly customer: string;
  readonly inStock: string;
  readonly sold: string;
  /** The order, by `customer`, that bought `sold`. */
  readonly soldBy: string;
  readonly key: string;
}

/** Longest good id a generator makes; seeds are longer. */
export const GOOD_ID_MAX = 20;

/** Names that are special on a plain JavaScript object. */
export const PROTO_NAMES = [
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "__defineGetter__",
] as const;

// ---- ids and names ------------------------------------------------------------------------

export const protoName = fc.constantFrom(...PROTO_NAMES);

/** Ids the service accepts. */
export const goodId = fc
  .stringMatching(new RegExp(`^[A-Za-z0-9._:-]{1,${GOOD_ID_MAX}}$`))
  .filter((s) => s !== "." && s !== "..");

/** One character (or grapheme) an id may not contain. */
const unsafeChar = fc.oneof(
  fc.constantFrom(
    "\u0000",
    " ",
    "/",
    "?",
    "#",
    "%",
    "&",
    "=",
    "+",
    "\\",
    '"',
    "'",
    "<",
    "\n",
    "\u202e",
    "\ufeff",
    "\ud800",
    "é",
    "𝕏",
  ),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }).filter((s) => /[^\w.:-]/.test(s)),
);

/** Ids the service must refuse where at most `maxLength` characters are allowed. */
export function badId(maxLength: number = ID_MAX_LENGTH): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom("", ".", ".."),
    fc.integer({ min: maxLength + 1, max: maxLength * 8 }).map((n) => "x".repeat(n)),
    fc
      .tuple(fc.option(goodId, { nil: "" }), unsafeChar, fc.option(goodId, { nil: "" }))
      .map((parts) => parts.join("")),
  );
}

/** Any id: accepted, refused or a prototype name. */
export const anyId = fc.oneof(goodId, badId(), protoName);

/** Percent-encodes every byte outside RFC 3986's unreserved set (a lone surrogate as U+FFFD). */
export function pct(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

// ---- query strings --------------------------------------------------------------------------

/** Every query parameter any route knows, so a generated name is sometimes a real one. */
const KNOWN_PARAMS = [
  "customerId",
  "productId",
  "orderId",
  "cust",
  "product",
  "order",
  "limit",
  "cursor",
] as const;

type Pairs = readonly (readonly [string, string])[];

const paramName = fc.oneof(
  protoName,
  fc.constantFrom(...KNOWN_PARAMS),
  fc.string({ maxLength: 12 }),
  protoName.map((p) => `a[${p}]`),
);
const paramValue = fc.oneof(anyId, fc.string({ maxLength: 30 }), badId(KV_KEY_MAX_LENGTH));

/** `?a=1&b=2` from pairs (no pairs: no `?`). */
export function queryOf(pairs: Pairs): string {
  return pairs.length === 0 ? "" : "?" + pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join("&");
}

/** Query strings that break on their own: broken escapes, empty and nested names. */
const RAW_JUNK = ["%ZZ=1", "a=%E0%A4%A", "=1&=2", "__proto__[x]=1", "constructor.prototype=1"];

/**
 * Query strings a route taking `allowed` parameters refuses: at least one name it does not take,
 * or a name given twice. Each is the query's start, without `?`.
 */
function refusedQuery(allowed: readonly string[]): fc.Arbitrary<string> {
  const pairs = fc
    .array(fc.tuple(paramName, paramValue), { minLength: 1, maxLength: 4 })
    .filter((ps) => ps.some(([k]) => !allowed.includes(k)));
  return fc.oneof(
    pairs.map((ps) => queryOf(ps).slice(1)),
    fc
      .tuple(fc.oneof(protoName, fc.constantFrom(...KNOWN_PARAMS)), goodId, goodId)
      .map(([k, a, b]) => `${pct(k)}=${pct(a)}&${pct(k)}=${pct(b)}`),
    fc.constantFrom(...RAW_JUNK),
  );
}

/** Any query at all, for routes that only read. */
const anyQuery = fc.oneof(
  fc.constant(""),
  fc.array(fc.tuple(paramName, paramValue), { maxLength: 4 }).map(queryOf),
  refusedQuery([]).map((q) => `?${q}`),
);

// ---- bodies ---------------------------------------------------------------------------------

const text = (s: string): Buffer => Buffer.from(s, "utf8");
const json = (v: unknown): Buffer => text(JSON.stringify(v));

/** JSON text nested `depth` levels deep around `leaf`. */
export function deepJson(depth: number, leaf = "1", open = "[", close = "]"): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

/** Nesting beyond MAX_JSON_DEPTH, most of it within MAX_BODY_BYTES (so the depth rule fires). */
const deepText = fc.oneof(
  fc.integer({ min: MAX_JSON_DEPTH + 1, max: 6_000 }).map((d) => deepJson(d)),
  fc.integer({ min: MAX_JSON_DEPTH + 1, max: 2_500 }).map((d) => deepJson(d, "1", '{"a":', "}")),
);

/** Text that is not JSON. */
const invalidJson = fc.oneof(
  fc.constantFrom(
    "{",
    "{'value': 1}",
    '{"value": 1,}',
    "NaN",
    "undefined",
    '{"value":01}',
    "\u0000",
  ),
  fc.json().map((s) => s.slice(0, -1) + "\u0001"),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== "" && !parses(s)),
);

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** Bytes that are not UTF-8. */
const notUtf8 = fc
  .tuple(fc.uint8Array({ maxLength: 20 }), fc.constantFrom(0xff, 0xc0, 0xfe, 0x80))
  .map(([bytes, bad]) => Buffer.concat([Buffer.from(bytes), Buffer.from([bad])]));

/** Over MAX_BODY_BYTES. */
const hugeBody = fc
  .integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES * 4 })
  .map((n) => text(`{"value":"${"x".repeat(n)}"}`));

/** A JSON object with a prototype name as an own key (as JSON.parse makes it) beside `extra`. */
function protoObject(extra: Readonly<Record<string, unknown>>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(protoName, fc.jsonValue({ maxDepth: 2 }))
    .map(([name, value]) => json(Object.fromEntries([...Object.entries(extra), [name, value]])));
}

/** Bodies every JSON route refuses whatever the rest of the request says. */
function jsonDefect(field: string): fc.Arbitrary<Buffer> {
  return fc.oneof(
    invalidJson.map(text),
    deepText.map(text),
    deepText.map((d) => text(`{"${field}":${d}}`)),
    hugeBody,
    notUtf8,
    fc.oneof(fc.array(fc.jsonValue({ maxDepth: 1 })), fc.integer(), fc.string()).map(json),
    fc.constant(text("null")),
    protoObject({ [field]: 1 }),
  );
}

/** A body PUT /kv accepts. */
const validKvBody = fc.jsonValue({ maxDepth: 3 }).map((value) => json({ value }));

/** Well-formed JSON of the wrong shape for PUT /kv. */
const kvShapeDefect = fc.oneof(
  fc.constant(json({})),
  fc
    .constantFrom(0, -60, 1.5, "60", 1e12, null, true)
    .map((ttlSeconds) => json({ value: 1, ttlSeconds })),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }))
    .filter(([k]) => k !== "value" && k !== "ttlSeconds")
    .map(([k, v]) =>
      json(
        Object.fromEntries([
          ["value", 1],
          [k, v],
        ]),
      ),
    ),
  protoObject({}),
  protoObject({ value: 1 }),
  fc
    .integer({ min: KV_VALUE_MAX_BYTES + 1, max: MAX_BODY_BYTES - 20 })
    .map((n) => json({ value: "v".repeat(n) })),
);

// ---- requests -------------------------------------------------------------------------------

const NO_BODY: Buffer = Buffer.alloc(0);

/** Extra headers: prototype names, repeats, odd client ids and regions. */
const headerPairs = fc.array(
  fc.tuple(
    fc.oneof(
      protoName,
      fc.constantFrom("x-client-id", "x-client-region", "content-type", "accept", "x-amz-date"),
    ),
    fc.oneof(protoName, fc.stringMatching(/^[!-~]{0,40}$/)),
  ),
  { maxLength: 4 },
);

/** A request before its headers are generated. */
interface Parts {
  readonly method: string;
  readonly target: string;
  readonly body?: Buffer;
  readonly why: string;
}

const part =
  (method: string, why: string) =>
  (target: string, body?: Buffer): Parts =>
    body === undefined ? { method, target, why } : { method, target, body, why };

function withHeaders(parts: fc.Arbitrary<Parts>): fc.Arbitrary<WireRequest> {
  return fc.tuple(parts, headerPairs).map(([p, headers]) => ({
    method: p.method,
    target: p.target,
    headers: [["content-type", "application/json"] as const, ...headers],
    body: p.body ?? NO_BODY,
    why: p.why,
  }));
}

/**
 * Ways to write `/<segments>` that a normaliser would read as that path, or that name nothing:
 * each is refused (400 naming the path rule, or 404), never served as the plain path.
 */
export function pathTrick(segments: readonly [string, ...string[]]): fc.Arbitrary<string> {
  const [head, ...rest] = segments;
  const tail = rest.join("/");
  return fc.constantFrom(
    `/${head}//${tail}`,
    `/${head}/${tail}/`,
    `/${head}/./${tail}`,
    `/${head}/../${head}/${tail}`,
    `/${head}/%2e/${tail}`,
    `/${head}/%2E%2E/${head}/${tail}`,
    `//${head}/${tail}`,
    `/${head}/${tail}/..`,
    `/${head}/${tail}/.`,
    `/${head}/${tail}//`,
    `/${head}/${tail}/extra`,
    `/${head}/${tail}%2F..`,
    `/${head}/${tail}%00`,
    `/${head.toUpperCase()}/${tail}`,
    `/${head}/`,
  );
}

/** PUT /kv/{key}: a bad body, or a good body with a bad key, path or query. */
function kvPut(seed: Seed): fc.Arbitrary<Parts> {
  const put = (why: string) => part("PUT", why);
  return fc.oneof(
    fc
      .tuple(fc.oneof(goodId, protoName, badId(KV_KEY_MAX_LENGTH)), jsonDefect("value"))
      .map(([key, body]) => put("kv body")(`/kv/${pct(key)}`, body)),
    fc.tuple(goodId, kvShapeDefect).map(([key, body]) => put("kv shape")(`/kv/${pct(key)}`, body)),
    fc
      .tuple(badId(KV_KEY_MAX_LENGTH), validKvBody)
      .map(([key, body]) => put("kv key")(`/kv/${pct(key)}`, body)),
    fc
      .tuple(fc.oneof(goodId, fc.constant(seed.key)), validKvBody)
      .chain(([key, body]) => pathTrick(["kv", pct(key)]).map((t) => put("kv path")(t, body))),
    fc
      .tuple(fc.oneof(goodId, protoName), validKvBody, refusedQuery([]))
      .map(([key, body, q]) => put("kv query")(`/kv/${pct(key)}?${q}`, body)),
  );
}

/** GET /kv/{key}: anything at all. */
function kvGet(seed: Seed): fc.Arbitrary<Parts> {
  const get = (why: string) => part("GET", why);
  return fc.oneof(
    fc
      .tuple(fc.oneof(anyId, fc.constant(seed.key)), anyQuery)
      .map(([key, q]) => get("kv get")(`/kv/${pct(key)}${q}`)),
    fc
      .tuple(goodId, fc.oneof(jsonDefect("value"), validKvBody))
      .map(([key, body]) => get("kv get body")(`/kv/${pct(key)}`, body)),
    pathTrick(["kv", seed.key]).map((t) => get("kv get path")(t)),
  );
}

/** An order field: accepted, refused, a prototype name, or absent. */
const maybeId = fc.option(anyId, { nil: undefined });

function definedPairs(fields: Readonly<Record<string, string | undefined>>): [string, string][] {
  return Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);
}

/**
 * POST /orders: a defect in the query or the body, or well-formed but refused by the data
 * (unknown customer or product, sold product). Generated ids never name the seed's customer, so
 * an order that passes validation always names someone who does not exist or a sold product.
 */
function ordersPost(seed: Seed): fc.Arbitrary<Parts> {
  const post = (why: string) => part("POST", why);
  const good = `customerId=${seed.customer}&productId=${seed.inStock}`;
  const order = (fields: Record<string, string | undefined>): string =>
    `/orders${queryOf(definedPairs(fields))}`;
  return fc.oneof(
    fc
      .record({ customerId: maybeId, productId: maybeId, orderId: maybeId })
      .map((q) => post("orders query")(order(q))),
    refusedQuery(["customerId", "productId", "orderId"]).map((q) =>
      post("orders refused query")(`/orders?${q}&${good}`),
    ),
    jsonDefect("customerId").map((body) => post("orders body")("/orders", body)),
    protoName.map((p) =>
      post("orders proto body")(
        "/orders",
        text(`{"customerId":"${seed.customer}","productId":"${seed.inStock}","${p}":{"x":1}}`),
      ),
    ),
    goodId.map((other) =>
      post("orders disagree")(
        `/orders?customerId=${seed.customer}x`,
        json({ customerId: `${seed.customer}${other}y`, productId: seed.inStock }),
      ),
    ),
    fc
      .tuple(goodId, maybeId)
      .map(([c, orderId]) =>
        post("orders unknown customer")(order({ customerId: c, productId: seed.inStock, orderId })),
      ),
    fc
      .tuple(goodId, maybeId)
      .map(([p, orderId]) =>
        post("orders unknown product")(order({ customerId: seed.customer, productId: p, orderId })),
      ),
    maybeId.map((orderId) =>
      post("orders sold product")(
        order({ customerId: seed.customer, productId: seed.sold, orderId }),
      ),
    ),
  );
}

/** GET /orders?orderId&productId: anything at all. */
function ordersGet(seed: Seed): fc.Arbitrary<Parts> {
  const get = (why: string) => part("GET", why);
  return fc.oneof(
    fc
      .record({ orderId: maybeId, productId: maybeId })
      .map((q) => get("read query")(`/orders${queryOf(definedPairs(q))}`)),
    anyQuery.map((q) => get("read any query")(`/orders${q}`)),
    jsonDefect("orderId").map((body) =>
      get("read body")(`/orders?orderId=${seed.soldBy}&productId=${seed.sold}`, body),
    ),
  );
}

/**
 * GET /<collection>/{id}: any id (or `knownId`, which exists) with any query, and path tricks
 * around `knownId`. `label` names the case in a failure.
 */
function oneByIdGet(collection: string, knownId: string, label: string): fc.Arbitrary<Parts> {
  const get = (why: string) => part("GET", why);
  return fc.oneof(
    fc
      .tuple(fc.oneof(anyId, fc.constant(knownId)), anyQuery)
      .map(([id, q]) => get(`${label} by path`)(`/${collection}/${pct(id)}${q}`)),
    pathTrick([collection, knownId]).map((t) => get(`${label} path`)(t)),
  );
}

/** GET /orders/{orderId}: anything at all. */
function orderGet(seed: Seed): fc.Arbitrary<Parts> {
  return oneByIdGet("orders", seed.soldBy, "read");
}

/** POST /fill: always a refused count or parameter, or a body. */
function fillPost(): fc.Arbitrary<Parts> {
  const post = (why: string) => part("POST", why);
  const badCount = fc.oneof(
    fc.constantFrom("-1", "1.5", "1e2", " 5", "0x10", "", "ten", "99999999999999999999"),
    fc.constant(String(FILL_MAX_PER_KIND + 1)),
    fc.string({ maxLength: 8 }).filter((s) => !/^\d{1,16}$/.test(s)),
  );
  return fc.oneof(
    fc
      .tuple(fc.constantFrom("cust", "product", "order"), badCount)
      .map(([name, v]) => post("fill count")(`/fill?${name}=${pct(v)}`)),
    fc
      .constantFrom("/fill?cust=0&product=0&order=0", "/fill", "/fill?cust=1&cust=1")
      .map(post("fill")),
    refusedQuery(["cust", "product", "order"]).map((q) => post("fill query")(`/fill?${q}`)),
    fc
      .oneof(jsonDefect("cust"), fc.constant(json({ cust: 1 })))
      .map((body) => post("fill body")("/fill?cust=1", body)),
    pathTrick(["fill"]).map((t) => post("fill path")(`${t}?cust=1`)),
  );
}

/** GET /products: anything at all. */
function productsGet(): fc.Arbitrary<Parts> {
  const get = (why: string) => part("GET", why);
  const limit = fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), fc.string());
  const cursor = fc.oneof(fc.string(), fc.base64String(), anyId);
  return fc.oneof(
    fc
      .record({
        limit: fc.option(limit, { nil: undefined }),
        cursor: fc.option(cursor, { nil: undefined }),
      })
      .map((q) => get("products query")(`/products${queryOf(definedPairs(q))}`)),
    anyQuery.map((q) => get("products any query")(`/products${q}`)),
    jsonDefect("limit").map((body) => get("products body")("/products", body)),
  );
}

/** GET /products/{productId}: anything at all. */
function productGet(seed: Seed): fc.Arbitrary<Parts> {
  return oneByIdGet("products", seed.inStock, "product");
}

/** GET /health: any query, a body, path tricks. */
function healthGet(): fc.Arbitrary<Parts> {
  const get = (why: string) => part("GET", why);
  return fc.oneof(
    anyQuery.map((q) => get("health query")(`/health${q}`)),
    jsonDefect("deep").map((body) => get("health body")("/health", body)),
    pathTrick(["health", ""]).map((t) => get("health path")(t)),
  );
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] as const;

/** A method no route of the path takes, with a body that would be valid for a write. */
function wrongMethod(seed: Seed): fc.Arbitrary<Parts> {
  return fc
    .tuple(fc.constantFrom(...ROUTES), fc.constantFrom(...METHODS))
    .filter(([r, m]) => !ROUTES.some((o) => o.path === r.path && o.method === m))
    .map(([route, method]) => ({
      method,
      target: route.path
        .replace("{key}", seed.key)
        .replace("{orderId}", seed.soldBy)
        .replace("{productId}", seed.inStock),
      body: method === "GET" || method === "HEAD" ? NO_BODY : json({ value: 1 }),
      why: "wrong method",
    }));
}

/**
 * Paths the sandbox's global endpoint answers itself, not through the service's API: its status
 * page (`/`, `/status`) and its control API (`/control/...`, tested in the sandbox suites).
 */
const SANDBOX_OWN_PATH = /^\/(?:status)?$|^\/control(?:\/|$)/;

/** Any method on any path made of generated segments, without a body. */
const anyPath: fc.Arbitrary<Parts> = fc
  .tuple(
    fc.constantFrom(...METHODS),
    fc.array(fc.oneof(goodId, protoName, badId()), { maxLength: 4 }),
  )
  .map(([method, segs]) => ({ method, target: `/${segs.map(pct).join("/")}`, why: "any path" }))
  .filter((req) => !SANDBOX_OWN_PATH.test(req.target));

/** What the suite fuzzes: every route of routes.ts as `METHOD /path`, wrong methods, any path. */
export const FUZZ_KEYS = [
  "POST /fill",
  "POST /orders",
  "GET /orders",
  "GET /orders/{orderId}",
  "GET /products",
  "GET /products/{productId}",
  "PUT /kv/{key}",
  "GET /kv/{key}",
  "GET /health",
  "wrong method",
  "any path",
] as const;

export type FuzzKey = (typeof FUZZ_KEYS)[number];

/** One arbitrary per entry of FUZZ_KEYS, pointing at `seed`'s items. */
export function fuzzRoutes(seed: Seed): Readonly<Record<FuzzKey, fc.Arbitrary<WireRequest>>> {
  return {
    "POST /fill": withHeaders(fillPost()),
    "POST /orders": withHeaders(ordersPost(seed)),
    "GET /orders": withHeaders(ordersGet(seed)),
    "GET /orders/{orderId}": withHeaders(orderGet(seed)),
    "GET /products": withHeaders(productsGet()),
    "GET /products/{productId}": withHeaders(productGet(seed)),
    "PUT /kv/{key}": withHeaders(kvPut(seed)),
    "GET /kv/{key}": withHeaders(kvGet(seed)),
    "GET /health": withHeaders(healthGet()),
    "wrong method": withHeaders(wrongMethod(seed)),
    "any path": withHeaders(anyPath),
  };
}

/** A request of issue 8 and what it must get. */
export interface KnownBad {
  readonly req: WireRequest;
  readonly status: number;
  /** Text the message must contain (absent for a success). */
  readonly mentions?: string;
}

/**
 * The requests issue 8 found crashing or aliasing, sent once by every run so they are tried even
 * when the generators do not draw them.
 */
export function knownBad(seed: Seed): readonly KnownBad[] {
  const kvBody = json({ value: 1 });
  const literal = "taken literally";
  return [
    { req: wire("GET", "/products?__proto__=1"), status: 400, mentions: "__proto__" },
    { req: wire("GET", "/products?constructor=1"), status: 400, mentions: "constructor" },
    { req: wire("GET", "/health", [["__proto__", "1"]]), status: 200 },
    {
      req: wire("GET", "/health", [
        ["constructor", "1"],
        ["constructor", "2"],
      ]),
      status: 200,
    },
    {
      req: wire("PUT", `/kv/${seed.key}`, [], text(`{"value":${deepJson(5_000)}}`)),
      status: 400,
      mentions: `${MAX_JSON_DEPTH} levels`,
    },
    { req: wire("PUT", "/kv//x", [], kvBody), status: 400, mentions: literal },
    { req: wire("PUT", "/kv/x/", [], kvBody), status: 400, mentions: literal },
    { req: wire("PUT", "/kv/./x", [], kvBody), status: 400, mentions: literal },
    { req: wire("PUT", "/kv/%2e%2e/kv/x", [], kvBody), status: 400, mentions: literal },
    { req: wire("GET", `/kv/./${seed.key}`), status: 400, mentions: literal },
    // A path, not a protocol-relative URL: resolving it against a base threw (a 500 before).
    { req: wire("GET", "//%3AA"), status: 400, mentions: literal },
    // Over API Gateway's 10 MB: the sandbox answers for the gateway, the handler on its own.
    { req: wire("PUT", "/kv/x", [], Buffer.alloc(MAX_PAYLOAD_BYTES + 1, "x")), status: 413 },
    {
      req: wire("PUT", "/kv/x", [], text(`{"value":1,"__proto__":{"polluted":1}}`)),
      status: 400,
      mentions: "__proto__",
    },
  ];
}

function wire(
  method: string,
  target: string,
  headers: Pairs = [],
  body: Buffer = NO_BODY,
): WireRequest {
  return {
    method,
    target,
    headers: [["content-type", "application/json"], ...headers],
    body,
    why: "issue 8",
  };
}

// ---- sending --------------------------------------------------------------------------------

/** A response, whichever way it came. */
export interface WireAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The proxy event API Gateway would send for `req` (a body that is not UTF-8 goes base64). */
export function wireEvent(req: WireRequest): APIGatewayProxyEvent {
  let body: string | undefined;
  let base64: "as-is" | undefined;
  if (req.body.length > 0) {
    const asText = req.body.toString("utf8");
    if (Buffer.from(asText, "utf8").equals(req.body)) body = asText;
    else [body, base64] = [req.body.toString("base64"), "as-is"];
  }
  return apiEvent({
    method: req.method,
    path: req.target,
    headers: Object.fromEntries(req.headers),
    ...(body !== undefined ? { body } : {}),
    ...(base64 !== undefined ? { base64 } : {}),
  });
}

/** Sends `req` to `baseUrl` byte for byte (no URL normalisation, as curl --path-as-is). */
export function sendWire(
  baseUrl: string,
  req: WireRequest,
  timeoutMs = 10_000,
): Promise<WireAnswer> {
  const url = new URL(baseUrl);
  const headers = [
    "host",
    url.host,
    "content-length",
    String(req.body.length),
    ...req.headers.flat(),
  ];
  return new Promise((resolve, reject) => {
    const out = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.target,
        headers,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = String(v);
          resolve({
            status: res.statusCode ?? 0,
            headers: h,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    out.on("timeout", () => out.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    out.on("error", reject);
    out.end(req.body);
  });
}

/** Describes a request for a failure message without flooding it. */
export function describeWire(req: WireRequest): string {
  const body =
    req.body.length > 200 ? `${req.body.length} bytes` : JSON.stringify(req.body.toString("utf8"));
  const target = req.target.length > 200 ? `${req.target.slice(0, 200)}…` : req.target;
  return `${req.method} ${target} (${req.why}) headers=${JSON.stringify(req.headers)} body=${body}`;
}

/**
 * What every answer to bad input must be: not a 5xx; from a handler (`x-served-by-region`); an
 * error as exactly `{ error, message }` with string fields; no stack, source path or Node
 * internals anywhere in the body. `refused`: the request must get a 4xx (routes that write).
 */
export function checkAnswer(req: WireRequest, res: WireAnswer, refused: boolean): void {
  const body = res.body.length > 300 ? `${res.body.slice(0, 300)}…` : res.body;
  const what = `${describeWire(req)}\n  -> ${res.status} ${body}`;
  expect(res.status, what).to.be.within(200, 499);
  if (refused) expect(res.status, what).to.be.at.least(400);
  expect(res.headers["x-served-by-region"], what).to.be.a("string");
  expect(leaksInternals(res.body), what).to.equal(false);
  // Node drops the body of a response to HEAD.
  if (req.method === "HEAD" && res.body === "") return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    expect.fail(`body is not JSON: ${what}`);
  }
  if (res.status < 400) return;
  expect(parsed, what).to.be.an("object").that.has.all.keys("error", "message");
  const { error, message } = parsed as { error: unknown; message: unknown };
  expect(error, what).to.be.a("string");
  expect(message, what).to.be.a("string");
}
