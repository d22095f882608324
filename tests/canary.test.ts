/**
 * The canary script (functions/canary): its checks with only the HTTP exchange replaced (the real
 * SigV4 signer runs, with fixed fake credentials), its settings, the real HTTP client against a
 * local server (including one that never answers), the handler end to end, and the esbuild
 * bundle loaded on its own, the way a Synthetics runtime loads it.
 */
import { createHash, createHmac } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { builtinModules } from "node:module";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { bundleFunction } from "../components/bundle";
import {
  CanaryConfigError,
  CanaryFailure,
  DEFAULT_TIMEOUT_MS,
  RequestTimeoutError,
  parseCanaryConfig,
  runCanary,
  type CanaryConfig,
  type CanaryDeps,
  type CanaryRequest,
  type CanaryResponse,
} from "../functions/canary/check";
import { httpSend, sigV4Signer, type Credentials } from "../functions/canary/transport";
import { SignatureVerifier } from "../local/aws-standin/sigv4-verify";
import { SERVICE_CODE_ROOT } from "../stack/service-api";
import { withEnv as withEnvOf } from "./support/env";

const CREDENTIALS: Credentials = {
  accessKeyId: "AKIDCANARYTEST",
  secretAccessKey: "canary-test-secret-key",
  sessionToken: "canary-test-session-token",
};

const ORDER_ID = "01JCANARYORDER0000000000000";
const PRODUCT_ID = "01JCANARYPRODUCT00000000000";

// --- A SigV4 verifier written from the specification, independent of the signer under test ---

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

interface Received {
  readonly method: string;
  /** Path as sent on the wire, without the query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const hmac = (key: Buffer | string, text: string): Buffer =>
  createHmac("sha256", key).update(text, "utf8").digest();

/** RFC 3986 encoding of one path segment, as SigV4 wants it. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * What API Gateway does with an IAM-authorized request: the region it is scoped to, or a reason to
 * refuse it (unsigned, wrong service, unknown key, bad signature).
 */
function verifySigV4(req: Received, secrets: Readonly<Record<string, string>>): string {
  const auth = req.headers.authorization;
  if (auth === undefined) throw new Error("Missing Authentication Token");
  const m = AUTH_PATTERN.exec(auth);
  if (!m) throw new Error(`malformed Authorization header: ${auth}`);
  const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (service !== "execute-api") throw new Error(`signed for service ${service}`);
  const secret = secrets[keyId as string];
  if (secret === undefined) throw new Error(`unknown access key ${keyId}`);
  const amzDate = req.headers["x-amz-date"] ?? "";
  if (amzDate.slice(0, 8) !== date) throw new Error("x-amz-date does not match the scope date");
  const names = (signedHeaders as string).split(";");
  if (!names.includes("host")) throw new Error("host is not signed");
  const canonicalHeaders = names
    .map((name) => `${name}:${(req.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalUri = req.path.split("/").map(encodeSegment).join("/");
  const payloadHash = req.headers["x-amz-content-sha256"] ?? sha256("");
  const canonicalRequest = [
    req.method,
    canonicalUri,
    "",
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secret}`, date as string), region as string), service as string),
    "aws4_request",
  );
  const expected = hmac(key, stringToSign).toString("hex");
  if (expected !== signature) throw new Error("The request signature we calculated does not match");
  return region as string;
}

// --- A fake of the deployed API: routes, IAM auth, x-served-by-region ---

interface FakeApiOptions {
  /** Base path of the stage (`/prod`) or custom-domain mapping. */
  readonly basePath?: string;
  /** Region whose handlers answer. */
  readonly servedBy?: string;
  /** Refuse SigV4a with a 403, as a gateway that does not accept it would. */
  readonly refuseSigV4a?: boolean;
  /** Status and body to answer on one route instead of the real answer. */
  readonly override?: Partial<
    Record<"health" | "order" | "product", { status: number; body: string }>
  >;
}

/** Answers like API Gateway + the service would, and records every request it saw. */
class FakeApi {
  readonly seen: Received[] = [];
  constructor(private readonly opts: FakeApiOptions = {}) {}

  async handle(req: Received): Promise<CanaryResponse> {
    this.seen.push(req);
    const servedBy = this.opts.servedBy ?? "us-west-2";
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
      status,
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const ours = (status: number, body: unknown) =>
      json(status, body, { "x-served-by-region": servedBy });
    const base = this.opts.basePath ?? "/prod";
    if (!req.path.startsWith(`${base}/`)) return json(403, { message: "Forbidden" });
    const route = req.path.slice(base.length);
    const override = (name: "health" | "order" | "product") => {
      const o = this.opts.override?.[name];
      return o === undefined ? undefined : ours(o.status, o.body);
    };
    if (req.method === "GET" && route === "/health") {
      return override("health") ?? ours(200, { status: "ok", region: servedBy, checks: [] });
    }
    // Every other route is AWS_IAM: API Gateway refuses before the function runs.
    let region: string;
    if (req.headers.authorization?.startsWith("AWS4-ECDSA-P256-SHA256 ")) {
      // SigV4a, checked by the AWS stand-in's verifier (node:crypto ECDSA, not the SDK signer).
      if (this.opts.refuseSigV4a) {
        return ours(403, { error: "ClientError", message: "SigV4a is not accepted here" });
      }
      const verdict = await new SignatureVerifier({
        credentials: [CREDENTIALS],
        service: "execute-api",
        regions: [servedBy],
      }).verify({ method: req.method, url: req.path, headers: req.headers, body: Buffer.alloc(0) });
      if (!verdict.ok) return json(403, { message: verdict.message });
      region = servedBy;
    } else {
      try {
        region = verifySigV4(req, { [CREDENTIALS.accessKeyId]: CREDENTIALS.secretAccessKey });
      } catch (err) {
        return json(403, { message: (err as Error).message });
      }
    }
    if (region !== servedBy) {
      return json(403, { message: `Credential should be scoped to a valid region, not ${region}` });
    }
    const order = /^\/orders\/([^/]+)$/.exec(route);
    if (req.method === "GET" && order) {
      const id = decodeURIComponent(order[1] as string);
      if (id !== ORDER_ID) return ours(404, { error: "OrderNotFound", message: `order ${id}` });
      return (
        override("order") ??
        ours(200, {
          order: {
            OrderId: id,
            ProductId: "01JSOLD",
            CustomerId: "01JC",
            OrderStatus: "CONFIRMED",
          },
          product: { ProductId: "01JSOLD", ProductStatus: "SOLD" },
        })
      );
    }
    const product = /^\/products\/([^/]+)$/.exec(route);
    if (req.method === "GET" && product) {
      const id = decodeURIComponent(product[1] as string);
      if (id !== PRODUCT_ID)
        return ours(404, { error: "ProductNotFound", message: `product ${id}` });
      return override("product") ?? ours(200, { ProductId: id, ProductStatus: "IN_STOCK" });
    }
    return json(403, { message: "Missing Authentication Token" });
  }

  /** A `send` boundary that delivers requests to this fake, as the network would. */
  send = async (request: CanaryRequest): Promise<CanaryResponse> => {
    const url = new URL(request.url);
    const headers = { ...request.headers, host: request.headers.host ?? url.host };
    return this.handle({ method: request.method, path: url.pathname, headers });
  };
}

function config(overrides: Partial<CanaryConfig> = {}): CanaryConfig {
  return {
    endpoint: "https://abc123.execute-api.us-west-2.amazonaws.com/prod",
    signingRegion: "us-west-2",
    orderId: ORDER_ID,
    productId: PRODUCT_ID,
    timeoutMs: 2500,
    ...overrides,
  };
}

function deps(send: CanaryDeps["send"], logs: unknown[] = []): CanaryDeps {
  return {
    sign: sigV4Signer(CREDENTIALS),
    send,
    log: (message, fields) => logs.push({ message, ...fields }),
  };
}

async function failureOf(run: Promise<unknown>): Promise<CanaryFailure> {
  try {
    await run;
  } catch (err) {
    if (err instanceof CanaryFailure) return err;
    throw err;
  }
  throw new Error("expected the canary run to fail, but it passed");
}

describe("canary checks (real signer, HTTP replaced at send)", () => {
  it("passes against a healthy API: health, the order and the product, each 2xx", async () => {
    const api = new FakeApi();
    const logs: unknown[] = [];
    const results = await runCanary(config(), deps(api.send, logs));
    expect(results.map((r) => [r.step, r.status, r.servedBy, r.signedFor])).to.deep.equal([
      ["health", 200, "us-west-2", undefined],
      ["order", 200, "us-west-2", "us-west-2"],
      ["product", 200, "us-west-2", "us-west-2"],
    ]);
    expect(api.seen.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      "GET /prod/health",
      `GET /prod/orders/${ORDER_ID}`,
      `GET /prod/products/${PRODUCT_ID}`,
    ]);
    expect(logs).to.have.length(3);
  });

  it("signs the order and product reads with SigV4 for execute-api in the configured region", async () => {
    const api = new FakeApi();
    await runCanary(config(), deps(api.send));
    const signed = api.seen.slice(1);
    expect(signed).to.have.length(2);
    for (const req of signed) {
      const m = AUTH_PATTERN.exec(req.headers.authorization ?? "");
      expect(m, `Authorization on ${req.path}: ${req.headers.authorization}`).to.not.equal(null);
      const [, keyId, date, region, service, signedHeaders] = m as unknown as string[];
      expect([keyId, region, service]).to.deep.equal([
        CREDENTIALS.accessKeyId,
        "us-west-2",
        "execute-api",
      ]);
      expect(date).to.equal(req.headers["x-amz-date"]?.slice(0, 8));
      expect(signedHeaders?.split(";")).to.include.members([
        "host",
        "x-amz-date",
        "x-amz-security-token",
      ]);
      expect(req.headers.host).to.equal("abc123.execute-api.us-west-2.amazonaws.com");
      expect(req.headers["x-amz-security-token"]).to.equal(CREDENTIALS.sessionToken);
      // The independent verifier accepts the signature over what was actually sent.
      expect(verifySigV4(req, { [CREDENTIALS.accessKeyId]: CREDENTIALS.secretAccessKey })).to.equal(
        "us-west-2",
      );
    }
  });

  it("sends /health unsigned: the route needs no auth and must answer without credentials", async () => {
    const api = new FakeApi();
    await runCanary(config(), deps(api.send));
    const health = api.seen[0] as Received;
    expect(health.path).to.equal("/prod/health");
    expect(health.headers.authorization).to.equal(undefined);
    expect(health.headers["x-amz-security-token"]).to.equal(undefined);
  });

  it("keeps a custom domain's base path and signs for its host", async () => {
    const api = new FakeApi({ basePath: "/v1", servedBy: "eu-central-1" });
    await runCanary(
      config({ endpoint: "https://orders.example.com/v1", signingRegion: "eu-central-1" }),
      deps(api.send),
    );
    expect(api.seen.map((r) => r.path)).to.deep.equal([
      "/v1/health",
      `/v1/orders/${ORDER_ID}`,
      `/v1/products/${PRODUCT_ID}`,
    ]);
    expect(api.seen[1]?.headers.host).to.equal("orders.example.com");
  });

  it("with region *, signs the reads with SigV4a for every region, valid wherever they land", async () => {
    for (const servedBy of ["eu-west-1", "ap-southeast-2"]) {
      const api = new FakeApi({ servedBy });
      const logs: unknown[] = [];
      const results = await runCanary(
        config({ endpoint: "https://orders.example.com/prod", signingRegion: "*" }),
        deps(api.send, logs),
      );
      expect(results.map((r) => [r.signedFor, r.servedBy])).to.deep.equal([
        [undefined, servedBy],
        ["*", servedBy],
        ["*", servedBy],
      ]);
      for (const r of api.seen.slice(1)) {
        expect(r.headers.authorization).to.match(
          /^AWS4-ECDSA-P256-SHA256 Credential=AKIDCANARYTEST\/\d{8}\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-region-set/,
        );
        expect(r.headers["x-amz-region-set"]).to.equal("*");
      }
      expect(api.seen).to.have.length(3);
      expect(logs).to.have.length(3);
    }
  });

  it("with region *, signs again with SigV4 for the answering region when SigV4a gets a 403", async () => {
    const api = new FakeApi({ servedBy: "eu-west-1", refuseSigV4a: true });
    const logs: { message?: string }[] = [];
    const results = await runCanary(
      config({ endpoint: "https://orders.example.com/prod", signingRegion: "*" }),
      deps(api.send, logs),
    );
    expect(results.map((r) => r.signedFor)).to.deep.equal([undefined, "eu-west-1", "eu-west-1"]);
    // health, the refused SigV4a order read, its SigV4 retry, then the product read in SigV4.
    const algorithms = api.seen.map((r) => r.headers.authorization?.split(" ")[0]);
    expect(algorithms).to.deep.equal([
      undefined,
      "AWS4-ECDSA-P256-SHA256",
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA256",
    ]);
    expect(logs.filter((l) => l.message?.startsWith("SigV4a request refused"))).to.have.length(1);
  });

  it("with region *, fails when a signed read names no region that served it", async () => {
    const api = new FakeApi();
    const send: CanaryDeps["send"] = async (req) => {
      const res = await api.send(req);
      if (req.url.endsWith("/health")) return res;
      const { "x-served-by-region": _dropped, ...headers } = res.headers;
      return { ...res, headers };
    };
    const failure = await failureOf(runCanary(config({ signingRegion: "*" }), deps(send)));
    expect(failure.step).to.equal("order");
    expect(failure.message).to.contain("names no region that served it");
    expect(failure.message).to.contain("x-served-by-region: none");
  });

  it("with an explicit region, fails when another region serves the endpoint", async () => {
    const api = new FakeApi({ servedBy: "us-east-1" });
    const failure = await failureOf(
      runCanary(config({ signingRegion: "us-west-2" }), deps(api.send)),
    );
    expect(failure.step).to.equal("health");
    expect(failure.servedBy).to.equal("us-east-1");
    expect(failure.message).to.contain("expected us-west-2 (CANARY_SIGNING_REGION)");
    expect(failure.message).to.contain("x-served-by-region: us-east-1");
    expect(api.seen).to.have.length(1);
  });

  const non2xx = [
    { step: "health", status: 503, body: '{"error":"Unhealthy","message":"orders timed out"}' },
    { step: "order", status: 500, body: '{"error":"InternalError","message":"internal error"}' },
    { step: "product", status: 429, body: '{"message":"Too Many Requests"}' },
    { step: "order", status: 302, body: "" },
  ] as const;
  for (const { step, status, body } of non2xx) {
    it(`fails on a non-2xx answer: ${status} from the ${step} step, naming URL, status and region`, async () => {
      const api = new FakeApi({ override: { [step]: { status, body } } });
      const failure = await failureOf(runCanary(config(), deps(api.send)));
      const paths = {
        health: "/health",
        order: `/orders/${ORDER_ID}`,
        product: `/products/${PRODUCT_ID}`,
      };
      const url = `https://abc123.execute-api.us-west-2.amazonaws.com/prod${paths[step]}`;
      expect([failure.step, failure.url, failure.status, failure.servedBy]).to.deep.equal([
        step,
        url,
        status,
        "us-west-2",
      ]);
      expect(failure.message).to.contain(`GET ${url}`);
      expect(failure.message).to.contain(`status ${status}`);
      expect(failure.message).to.contain("x-served-by-region: us-west-2");
      expect(failure.message).to.contain(body === "" ? "empty body" : body);
    });
  }

  it("fails on 403 when the request is not accepted as signed (no stale success)", async () => {
    const api = new FakeApi();
    const unsigned: CanaryDeps = { ...deps(api.send), sign: async (request) => request };
    const failure = await failureOf(runCanary(config(), unsigned));
    expect([failure.step, failure.status]).to.deep.equal(["order", 403]);
    expect(failure.message).to.contain("Missing Authentication Token");
  });

  it("fails on a timeout, saying how long it waited and that nothing came back", async () => {
    const api = new FakeApi();
    const seenTimeouts: number[] = [];
    const send: CanaryDeps["send"] = async (request, timeoutMs) => {
      seenTimeouts.push(timeoutMs);
      if (request.url.includes("/products/")) throw new RequestTimeoutError(request.url, timeoutMs);
      return api.send(request);
    };
    const failure = await failureOf(runCanary(config({ timeoutMs: 1234 }), deps(send)));
    expect([failure.step, failure.status, failure.servedBy]).to.deep.equal([
      "product",
      undefined,
      undefined,
    ]);
    expect(failure.message).to.contain("timed out after 1234 ms");
    expect(failure.message).to.contain("no response");
    expect(failure.message).to.contain(`/prod/products/${PRODUCT_ID}`);
    expect(seenTimeouts).to.deep.equal([1234, 1234, 1234]);
  });

  it("fails on a network error, with its message", async () => {
    const send: CanaryDeps["send"] = async () => {
      throw new Error("getaddrinfo ENOTFOUND abc123.execute-api.us-west-2.amazonaws.com");
    };
    const failure = await failureOf(runCanary(config(), deps(send)));
    expect(failure.step).to.equal("health");
    expect(failure.message).to.contain("request failed: getaddrinfo ENOTFOUND");
  });

  const wrongBodies = [
    { step: "order", body: '{"order":{"OrderId":"someone-else"}}', expect: "expected order" },
    { step: "order", body: '{"items":[]}', expect: "got none" },
    { step: "product", body: '{"ProductId":"another"}', expect: "expected product" },
    { step: "product", body: "<html>gateway</html>", expect: "body is not JSON" },
    { step: "health", body: '{"status":"degraded"}', expect: "does not report status ok" },
  ] as const;
  for (const { step, body, expect: text } of wrongBodies) {
    it(`fails when the ${step} step answers 2xx with the wrong body: ${body}`, async () => {
      const api = new FakeApi({ override: { [step]: { status: 200, body } } });
      const failure = await failureOf(runCanary(config(), deps(api.send)));
      expect([failure.step, failure.status]).to.deep.equal([step, 200]);
      expect(failure.message).to.contain(text);
    });
  }

  it("fails when a signed read is served by another region than it was signed for", async () => {
    const api = new FakeApi();
    const send: CanaryDeps["send"] = async (req) => {
      const res = await api.send(req);
      return req.url.includes("/orders/")
        ? { ...res, headers: { ...res.headers, "x-served-by-region": "eu-west-1" } }
        : res;
    };
    const failure = await failureOf(runCanary(config(), deps(send)));
    expect(failure.step).to.equal("order");
    expect(failure.message).to.contain("signed for us-west-2 but served by eu-west-1");
  });
});

describe("canary settings (environment)", () => {
  const good = {
    CANARY_ENDPOINT: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/",
    CANARY_SIGNING_REGION: "us-east-1",
    CANARY_ORDER_ID: ORDER_ID,
    CANARY_PRODUCT_ID: PRODUCT_ID,
  };

  it("reads a complete environment, dropping the trailing slash and defaulting the timeout", () => {
    expect(parseCanaryConfig(good)).to.deep.equal({
      endpoint: "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
      signingRegion: "us-east-1",
      orderId: ORDER_ID,
      productId: PRODUCT_ID,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    });
    expect(parseCanaryConfig({ ...good, CANARY_TIMEOUT_MS: "2500" }).timeoutMs).to.equal(2500);
    expect(parseCanaryConfig({ ...good, CANARY_SIGNING_REGION: "*" }).signingRegion).to.equal("*");
    expect(
      parseCanaryConfig({ ...good, CANARY_ENDPOINT: "http://127.0.0.1:8080/local" }).endpoint,
    ).to.equal("http://127.0.0.1:8080/local");
  });

  // `problems`: how many problems the error lists: one per bad key, not one per failed rule.
  const bad: {
    name: string;
    env: Record<string, string | undefined>;
    says: string[];
    problems: number;
  }[] = [
    {
      name: "missing endpoint",
      problems: 1,
      env: { ...good, CANARY_ENDPOINT: undefined },
      says: ["CANARY_ENDPOINT is required"],
    },
    {
      name: "missing ids",
      problems: 2,
      env: { ...good, CANARY_ORDER_ID: undefined, CANARY_PRODUCT_ID: "" },
      says: ["CANARY_ORDER_ID is required", "CANARY_PRODUCT_ID must not be empty"],
    },
    {
      name: "everything missing",
      problems: 4,
      env: {},
      says: [
        "CANARY_ENDPOINT is required",
        "CANARY_SIGNING_REGION is required",
        "CANARY_ORDER_ID is required",
        "CANARY_PRODUCT_ID is required",
      ],
    },
    {
      name: "plain http to a remote host",
      problems: 1,
      env: { ...good, CANARY_ENDPOINT: "http://orders.example.com/v1" },
      says: ["CANARY_ENDPOINT must use https", "got 'http://orders.example.com/v1'"],
    },
    {
      name: "not a URL",
      problems: 1,
      env: { ...good, CANARY_ENDPOINT: "abc123.execute-api.us-east-1.amazonaws.com" },
      says: ["CANARY_ENDPOINT must be an absolute URL"],
    },
    {
      name: "a query string",
      problems: 1,
      env: { ...good, CANARY_ENDPOINT: "https://orders.example.com/v1?x=1" },
      says: ["CANARY_ENDPOINT must not have a query or fragment"],
    },
    {
      name: "a region that is not one",
      problems: 1,
      env: { ...good, CANARY_SIGNING_REGION: "US-EAST-1" },
      says: ["CANARY_SIGNING_REGION must be a region such as us-east-1, or '*'", "got 'US-EAST-1'"],
    },
    {
      name: "an id with a slash",
      problems: 1,
      env: { ...good, CANARY_ORDER_ID: "a/b" },
      says: ["CANARY_ORDER_ID may only contain", "got 'a/b'"],
    },
    {
      name: "a timeout that is not a number",
      problems: 1,
      env: { ...good, CANARY_TIMEOUT_MS: "10s" },
      says: ["CANARY_TIMEOUT_MS must be a whole number of milliseconds", "got '10s'"],
    },
    {
      name: "a timeout out of range",
      problems: 1,
      env: { ...good, CANARY_TIMEOUT_MS: "0" },
      says: ["CANARY_TIMEOUT_MS must be from 100 to 60000", "got '0'"],
    },
  ];
  for (const { name, env, says, problems } of bad) {
    it(`rejects ${name}, naming the key`, () => {
      let error: unknown;
      try {
        parseCanaryConfig(env);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(CanaryConfigError);
      for (const text of says) expect((error as Error).message).to.contain(text);
      expect((error as CanaryConfigError).problems).to.have.length(problems);
    });
  }
});

// --- The real HTTP client and the handler, against local servers ---

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves a FakeApi over HTTP, so the real client and signer meet it on a socket. */
function serveApi(api: FakeApi): Handler {
  return (req, res) => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    void api
      .handle({
        method: req.method ?? "GET",
        path: new URL(req.url ?? "/", "http://local").pathname,
        headers,
      })
      .then((answer) => {
        res.writeHead(answer.status, answer.headers as Record<string, string>);
        res.end(answer.body);
      });
  };
}

describe("canary HTTP client (node:http against a local server)", () => {
  it("returns status, lower-case headers and body of any status", async () => {
    const server = await listen((_req, res) => {
      res.writeHead(503, { "X-Served-By-Region": "us-east-1", "content-type": "application/json" });
      res.end('{"error":"Unhealthy"}');
    });
    try {
      const res = await httpSend(
        { method: "GET", url: `${server.url}/prod/health`, headers: {} },
        2000,
      );
      expect(res).to.deep.include({ status: 503, body: '{"error":"Unhealthy"}' });
      expect(res.headers["x-served-by-region"]).to.equal("us-east-1");
    } finally {
      await server.close();
    }
  });

  it("rejects with RequestTimeoutError when the server never answers", async () => {
    const server = await listen(() => undefined);
    try {
      const url = `${server.url}/prod/health`;
      let error: unknown;
      try {
        await httpSend({ method: "GET", url, headers: {} }, 200);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(RequestTimeoutError);
      expect((error as Error).message).to.equal(`no complete response from ${url} within 200 ms`);
    } finally {
      await server.close();
    }
  });

  it("rejects with RequestTimeoutError when the headers come but the body stalls", async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"status":');
    });
    try {
      let error: unknown;
      try {
        await httpSend({ method: "GET", url: `${server.url}/prod/health`, headers: {} }, 200);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(RequestTimeoutError);
    } finally {
      await server.close();
    }
  });

  it("sends the signed headers as signed, so the signature verifies on the server", async () => {
    const api = new FakeApi({ basePath: "/local", servedBy: "eu-west-1" });
    const server = await listen(serveApi(api));
    try {
      const results = await runCanary(
        config({ endpoint: `${server.url}/local`, signingRegion: "*" }),
        { sign: sigV4Signer(CREDENTIALS), send: httpSend, log: () => undefined },
      );
      expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200]);
      expect(api.seen[1]?.headers.host).to.equal(new URL(server.url).host);
    } finally {
      await server.close();
    }
  });
});

const CANARY_ENV_KEYS = [
  "CANARY_ENDPOINT",
  "CANARY_SIGNING_REGION",
  "CANARY_ORDER_ID",
  "CANARY_PRODUCT_ID",
  "CANARY_TIMEOUT_MS",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "POWERTOOLS_LOG_LEVEL",
] as const;

const withEnv = <T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> =>
  withEnvOf(CANARY_ENV_KEYS, env, fn);

function lambdaEnv(endpoint: string): Record<string, string> {
  // What a canary's Lambda sees: its role's credentials in the environment, and our settings.
  return {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken as string,
    POWERTOOLS_LOG_LEVEL: "SILENT",
    CANARY_ENDPOINT: endpoint,
    CANARY_SIGNING_REGION: "*",
    CANARY_ORDER_ID: ORDER_ID,
    CANARY_PRODUCT_ID: PRODUCT_ID,
    CANARY_TIMEOUT_MS: "2000",
  };
}

async function rejectionOf(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

/**
 * The handler module, loaded on first use: it builds its logger (and credential provider) at load
 * time, so it must first be loaded with the test environment (silent logs) in place.
 */
function loadHandler(): () => Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("../functions/canary/index") as typeof import("../functions/canary/index"))
    .handler;
}

describe("canary handler (functions/canary/index.ts)", () => {
  it("passes against a healthy API, signing with the credentials in the environment", async () => {
    const api = new FakeApi({ basePath: "/prod", servedBy: "us-east-2" });
    const server = await listen(serveApi(api));
    try {
      await withEnv(lambdaEnv(`${server.url}/prod`), async () => {
        await loadHandler()();
      });
      expect(api.seen.map((r) => r.path)).to.deep.equal([
        "/prod/health",
        `/prod/orders/${ORDER_ID}`,
        `/prod/products/${PRODUCT_ID}`,
      ]);
    } finally {
      await server.close();
    }
  });

  it("throws (failing the run) with the URL, status and region when a read fails", async () => {
    const api = new FakeApi({
      servedBy: "us-east-2",
      override: { product: { status: 500, body: '{"error":"InternalError"}' } },
    });
    const server = await listen(serveApi(api));
    try {
      const error = await withEnv(lambdaEnv(`${server.url}/prod`), async () => {
        return rejectionOf(loadHandler()());
      });
      expect(error).to.be.instanceOf(CanaryFailure);
      expect(error.message).to.contain(`GET ${server.url}/prod/products/${PRODUCT_ID}`);
      expect(error.message).to.contain("status 500");
      expect(error.message).to.contain("x-served-by-region: us-east-2");
    } finally {
      await server.close();
    }
  });

  it("throws naming the missing setting before sending anything", async () => {
    const api = new FakeApi();
    const server = await listen(serveApi(api));
    try {
      const env = lambdaEnv(`${server.url}/prod`);
      delete env.CANARY_ORDER_ID;
      const error = await withEnv(env, async () => {
        return rejectionOf(loadHandler()());
      });
      expect(error).to.be.instanceOf(CanaryConfigError);
      expect(error.message).to.contain("CANARY_ORDER_ID is required");
      expect(api.seen).to.have.length(0);
    } finally {
      await server.close();
    }
  });
});

describe("canary bundle", () => {
  it("bundles with esbuild into one CommonJS file that runs on its own", async () => {
    const bundle = bundleFunction("functions/canary/index.ts", SERVICE_CODE_ROOT);
    // Every require left in the bundle is a Node.js built-in: nothing from node_modules or from a
    // Synthetics layer has to exist where the runtime loads it.
    // The one exception is text: the SDK's error message for SigV4a ("register the package by
    // calling [require("@aws-sdk/signature-v4-crt")]"), which the canary never signs with.
    const required = [...bundle.code.matchAll(/(\[?)require\("([^"]+)"\)/g)]
      .filter((m) => !(m[1] === "[" && m[2] === "@aws-sdk/signature-v4-crt"))
      .map((m) => m[2] as string);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect(required.filter((name) => !builtins.has(name))).to.deep.equal([]);
    expect(bundle.code).to.not.match(/Synthetics/);

    // Load it from a directory with no node_modules, as nodejs/node_modules/canary.js, and run it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canary-bundle-"));
    const file = path.join(dir, "nodejs", "node_modules", "canary.js");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bundle.code);
    const api = new FakeApi({ basePath: "/prod", servedBy: "ca-central-1" });
    const server = await listen(serveApi(api));
    try {
      await withEnv(lambdaEnv(`${server.url}/prod`), async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(file) as { handler?: unknown };
        expect(mod.handler).to.be.a("function");
        await (mod.handler as () => Promise<void>)();
      });
      expect(api.seen).to.have.length(3);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
