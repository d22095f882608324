/**
 * The global endpoint's control API without a JVM: a GlobalEndpoint in front of two tiny regional
 * servers, with the sandbox behind it played by recording hooks. Every route with a body refuses
 * a malformed one with a 400 naming the field and changes nothing; routes without a body refuse
 * one; hostile bodies (prototype names, deep nesting, 1 MB) get a 4xx, never a crash; and a
 * handler that fails unexpectedly answers a bare 500 and the endpoint serves on.
 */
import { once } from "node:events";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { GlobalEndpoint } from "../local/global-endpoint";
import type { SandboxHooks } from "../local/global-endpoint/sandbox-hooks";
import type { LagRange } from "../local/replication-model";
import { DEFAULT_HEALTH_CHECK, MAX_TTL_SECONDS } from "../local/routing";
import { eventually } from "./support/eventually";

const EAST = "us-east-1";
const WEST = "us-west-2";

/** A region's API that answers everything 200 naming itself. */
async function regionServer(name: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json", "x-served-by-region": name });
    res.end(JSON.stringify({ region: name }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

interface Answer {
  readonly status: number;
  readonly body: any;
}

/**
 * A request over node:http, so a GET may carry a body too; an object body is sent as JSON, a
 * string as it is.
 */
function http(method: string, url: string, body?: unknown): Promise<Answer> {
  const u = new URL(url);
  const text =
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: `${u.pathname}${u.search}`,
        headers: {
          "content-type": "application/json",
          ...(text !== undefined ? { "content-length": Buffer.byteLength(text) } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body: raw === "" ? undefined : JSON.parse(raw) });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer`)));
    req.on("error", reject);
    req.end(text);
  });
}

/** The sandbox behind the endpoint: records every change the control API asks for. */
function recordingHooks(): { hooks: SandboxHooks; calls: string[] } {
  const calls: string[] = [];
  let lag: LagRange = { minMs: 100, maxMs: 200 };
  const hooks: SandboxHooks = {
    regionStatus: () => ({ api: true, database: true, served: 0, servedLast10s: 0 }),
    stopRegion: (region, part) => {
      calls.push(`stop ${region} ${part}`);
      return Promise.resolve();
    },
    startRegion: (region, part) => {
      calls.push(`start ${region} ${part}`);
      return Promise.resolve();
    },
    pauseReplication: (from, to) => void calls.push(`pause ${from} ${to}`),
    resumeReplication: (from, to) => void calls.push(`resume ${from} ${to}`),
    replication: (sinceMs = 0) => ({
      directions: [],
      regions: [],
      backlog: 0,
      byTable: {},
      sinceMs,
    }),
    lag: () => lag,
    setLag: (l) => {
      calls.push(`lag ${l.minMs}-${l.maxMs}`);
      lag = l;
    },
    convergence: () => Promise.resolve({ backlog: 0, identical: true, differences: [] }),
    scan: (region, table) => {
      calls.push(`scan ${region} ${table}`);
      return Promise.resolve([]);
    },
    repair: (regions) => {
      calls.push(`repair ${regions?.join(",") ?? "all"}`);
      return Promise.resolve({});
    },
    setWitness: (up) => void calls.push(`witness ${up}`),
  };
  return { hooks, calls };
}

/** One malformed request: what the 400's message must name. */
interface BadCase {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly names: string;
}

/** Every route with a body, each given bodies that are wrong in one field. */
const MALFORMED: readonly BadCase[] = [
  { method: "PUT", path: "/routing-controls", body: "[1,2]", names: "body:" },
  { method: "PUT", path: "/routing-controls", body: { [EAST]: "maybe" }, names: `body.${EAST}` },
  {
    method: "PUT",
    path: "/routing-controls",
    body: { states: { [EAST]: "Off", [WEST]: 3 } },
    names: `body.states.${WEST}`,
  },
  { method: "PUT", path: "/routing-controls", body: { states: "Off" }, names: "body.states" },
  {
    method: "PUT",
    path: `/routing-controls/${EAST}`,
    body: { state: "maybe" },
    names: "body.state",
  },
  { method: "PUT", path: `/routing-controls/${EAST}`, body: {}, names: "body.state" },
  {
    method: "PUT",
    path: `/routing-controls/${EAST}`,
    body: { state: "Off", extra: 1 },
    names: "body: Unrecognized key",
  },
  { method: "PUT", path: "/settings", body: undefined, names: "body:" },
  { method: "PUT", path: "/settings", body: { ttlSeconds: "5" }, names: "body.ttlSeconds" },
  { method: "PUT", path: "/settings", body: { ttlSeconds: -1 }, names: "body.ttlSeconds" },
  {
    method: "PUT",
    path: "/settings",
    body: { ttlSeconds: 5, ttl: MAX_TTL_SECONDS + 1 },
    names: '"ttl"',
  },
  { method: "PUT", path: "/settings", body: { policy: "random" }, names: "body.policy" },
  { method: "PUT", path: "/settings", body: { lag: "soon" }, names: "body.lag" },
  { method: "PUT", path: "/settings", body: { lag: { minMs: 9, maxMs: 1 } }, names: "body.lag" },
  {
    method: "PUT",
    path: "/settings",
    body: { lag: { minMs: "a", maxMs: 2 } },
    names: "body.lag.minMs",
  },
  {
    method: "PUT",
    path: "/settings",
    body: { ttlSeconds: 5, healthCheck: { intervalMs: 1 } },
    names: "body.healthCheck.intervalMs",
  },
  {
    method: "PUT",
    path: "/settings",
    body: { healthCheck: { failureThreshold: 1.5 } },
    names: "body.healthCheck.failureThreshold",
  },
  {
    method: "PUT",
    path: "/settings",
    body: { healthCheck: { timeoutMs: 60_001 } },
    names: "body.healthCheck.timeoutMs",
  },
  { method: "POST", path: "/replication/pause", body: { from: 1 }, names: "body.from" },
  { method: "POST", path: "/replication/resume", body: { to: [WEST] }, names: "body.to" },
  { method: "POST", path: "/replication/pause", body: { from: EAST, too: WEST }, names: '"too"' },
  { method: "POST", path: "/repair", body: { regions: [] }, names: "body.regions" },
  { method: "POST", path: "/repair", body: { regions: [EAST, 2] }, names: "body.regions.1" },
  { method: "POST", path: "/repair", body: { dryRun: "yes" }, names: "body.dryRun" },
];

/** Routes that take no body, each given one. */
const BODYLESS: readonly [string, string][] = [
  ["POST", `/regions/${EAST}/stop`],
  ["POST", `/regions/${EAST}/start`],
  ["POST", "/witness/stop"],
  ["POST", "/witness/start"],
  ["POST", "/dns/flush"],
  ["GET", "/routing-controls"],
  ["GET", "/settings"],
  ["GET", "/state"],
];

/** Bodies built to break a process that treats JSON keys as object keys or recurses on depth. */
const DEEP = "[".repeat(20_000) + "]".repeat(20_000);
const HOSTILE: readonly [string, string, string][] = [
  ["PUT", "/routing-controls", '{"__proto__":"Off"}'],
  ["PUT", "/routing-controls", '{"constructor":"Off"}'],
  ["PUT", "/routing-controls", '{"states":{"__proto__":"Off","constructor":"On"}}'],
  ["PUT", "/routing-controls", '{"states":{"__proto__":{"Off":1}}}'],
  ["PUT", `/routing-controls/${EAST}`, '{"__proto__":{"state":"Off"}}'],
  ["PUT", `/routing-controls/${EAST}`, '{"constructor":{"prototype":"Off"}}'],
  ["PUT", "/settings", '{"__proto__":{"ttlSeconds":1}}'],
  ["PUT", "/settings", '{"constructor":{"prototype":{"ttlSeconds":1}}}'],
  ["PUT", "/settings", '{"healthCheck":{"__proto__":{"intervalMs":1}}}'],
  ["POST", "/replication/pause", '{"__proto__":{"from":"us-east-1"}}'],
  ["POST", "/repair", '{"constructor":{"regions":["us-east-1"]}}'],
  ["POST", `/regions/${EAST}/stop`, '{"__proto__":1}'],
  ["PUT", "/routing-controls", DEEP],
  ["PUT", "/settings", `{"lag":${DEEP}}`],
  ["POST", "/repair", `{"regions":${"[".repeat(40)}${"]".repeat(40)}}`],
  ["PUT", "/settings", `{"ttlSeconds":5,"pad":"${"a".repeat(1024 * 1024)}"}`],
  ["PUT", "/routing-controls", "x".repeat(1024 * 1024)],
];

describe("global endpoint control API", function () {
  this.timeout(30_000);
  let regions: Server[] = [];
  let ep: GlobalEndpoint;
  let calls: string[];
  let errors: string[];
  const control = (path: string): string => `${ep.url}/control${path}`;

  beforeEach(async () => {
    regions = [await regionServer(EAST), await regionServer(WEST)];
    const recorded = recordingHooks();
    calls = recorded.calls;
    errors = [];
    ep = new GlobalEndpoint({
      regions: [EAST, WEST].map((name, i) => ({
        name,
        url: `http://127.0.0.1:${(regions[i]?.address() as AddressInfo).port}`,
      })),
      hooks: recorded.hooks,
      policy: "latency",
      ttlSeconds: 60,
      healthCheck: DEFAULT_HEALTH_CHECK,
      onError: (message) => errors.push(message),
    });
    await ep.start();
  });

  afterEach(async () => {
    await ep.stop();
    for (const s of regions) {
      s.closeAllConnections();
      s.close();
    }
  });

  /** What every refusal must leave as it was. */
  async function unchanged(): Promise<void> {
    expect((await http("GET", control("/routing-controls"))).body).to.deep.equal({
      states: { [EAST]: "On", [WEST]: "On" },
    });
    const settings = (await http("GET", control("/settings"))).body;
    expect(settings).to.deep.equal({
      ttlSeconds: 60,
      policy: "latency",
      healthCheck: DEFAULT_HEALTH_CHECK,
      lag: { minMs: 100, maxMs: 200 },
      lagText: "100-200 ms",
    });
    expect(calls, "changes the sandbox was asked for").to.deep.equal([]);
    expect(errors, "unexpected failures logged").to.deep.equal([]);
  }

  for (const c of MALFORMED) {
    it(`refuses ${c.method} ${c.path} ${JSON.stringify(c.body)} with a 400 naming ${c.names}`, async () => {
      const res = await http(c.method, control(c.path), c.body);
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error).to.equal("BadRequest");
      expect(res.body.message).to.include(c.names);
      await unchanged();
    });
  }

  for (const [method, path] of BODYLESS) {
    it(`refuses a body on ${method} ${path} with a 400 naming it`, async () => {
      const res = await http(method, control(path), { part: "database" });
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body).to.deep.equal({
        error: "BadRequest",
        message: 'body: Unrecognized key: "part" (expected no body, or {})',
      });
      await unchanged();
    });
  }

  it("takes no body or {} on a route without one", async () => {
    expect((await http("POST", control(`/regions/${EAST}/stop?part=api`))).status).to.equal(200);
    expect((await http("POST", control(`/regions/${EAST}/start`), {})).status).to.equal(200);
    expect(calls).to.deep.equal([`stop ${EAST} api`, `start ${EAST} all`]);
  });

  it("refuses a bad query parameter with a 400 naming it", async () => {
    const part = await http("POST", control(`/regions/${EAST}/stop?part=__proto__`));
    expect(part.status).to.equal(400);
    expect(part.body.message).to.match(/^query\.part: /);
    const since = await http("GET", control("/replication?since=soon"));
    expect(since.status).to.equal(400);
    expect(since.body.message).to.equal(
      "query.since: must be a number: got soon (expected ?since=<epoch ms>)",
    );
    const limit = await http("GET", control("/requests?limit=x"));
    expect(limit.body.message).to.match(/^query\.limit: /);
    await unchanged();
  });

  it("answers an unknown region or table 404 and an unknown route 404", async () => {
    const cases: [string, string, unknown][] = [
      ["PUT", "/routing-controls/eu-west-9", { state: "Off" }],
      ["PUT", "/routing-controls", { states: { "eu-west-9": "Off", [EAST]: "Off" } }],
      ["POST", "/replication/pause", { from: "eu-west-9" }],
      ["POST", "/repair", { regions: ["eu-west-9"] }],
      ["GET", `/tables/${EAST}/nope`, undefined],
      ["GET", "/tables/eu-west-9/kv", undefined],
      ["GET", "/nope", undefined],
      ["DELETE", "/routing-controls", undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await http(method, control(path), body);
      expect(res.status, `${method} ${path}`).to.equal(404);
      expect(res.body.error).to.equal("NotFound");
    }
    await unchanged();
  });

  it("answers hostile bodies (prototype names, deep nesting, 1 MB) with a 4xx and serves on", async () => {
    for (const [method, path, body] of HOSTILE) {
      const res = await http(method, control(path), body);
      const what = `${method} ${path} ${body.slice(0, 60)}: ${JSON.stringify(res.body)}`;
      expect(res.status, what).to.be.oneOf([400, 404, 413]);
      expect(res.body, what).to.have.keys("error", "message");
      if (body.length > 1024 * 1024) expect(res.status, what).to.equal(413);
    }
    await unchanged();
    expect(Object.prototype).to.not.have.property("ttlSeconds");
    expect(Object.prototype).to.not.have.property("Off");
  });

  it("still applies good bodies in every form the callers send", async () => {
    const states = await http("PUT", control("/routing-controls"), { states: { [EAST]: "off" } });
    expect(states.body).to.deep.equal({ states: { [EAST]: "Off", [WEST]: "On" } });
    const bare = await http("PUT", control("/routing-controls"), { [EAST]: "On" });
    expect(bare.body).to.deep.equal({ states: { [EAST]: "On", [WEST]: "On" } });
    const one = await http("PUT", control(`/routing-controls/${WEST}`), '"Off"');
    expect(one.body).to.deep.equal({ states: { [EAST]: "On", [WEST]: "Off" } });
    const refused = await http("PUT", control(`/routing-controls/${EAST}`), { state: "Off" });
    expect(refused.status).to.equal(409);
    expect(refused.body.error).to.equal("SafetyRuleViolation");
    const settings = await http("PUT", control("/settings"), {
      ttlSeconds: 5,
      policy: "failover",
      lag: "10-20",
      healthCheck: { intervalMs: 500 },
    });
    expect(settings.status, JSON.stringify(settings.body)).to.equal(200);
    expect(settings.body).to.deep.include({
      ttlSeconds: 5,
      policy: "failover",
      lag: { minMs: 10, maxMs: 20 },
      lagText: "10-20 ms",
    });
    expect(settings.body.healthCheck.intervalMs).to.equal(500);
    const repair = await http("POST", control("/repair"), { regions: [EAST], dryRun: true });
    expect(repair.body).to.deep.equal({ dryRun: true, regions: {} });
    expect((await http("POST", control("/replication/pause"), {})).status).to.equal(200);
    expect(calls).to.deep.equal(["lag 10-20", `repair ${EAST}`, "pause undefined undefined"]);
    expect(errors).to.deep.equal([]);
  });

  it("pushes the state to a live feed subscriber when a routing control flips", async () => {
    const u = new URL(control("/events"));
    const feed = await new Promise<IncomingMessage>((resolve, reject) =>
      request({ host: u.hostname, port: u.port, path: u.pathname }, resolve)
        .on("error", reject)
        .end(),
    );
    try {
      expect(feed.headers["content-type"]).to.equal("text/event-stream");
      let text = "";
      feed.setEncoding("utf8");
      feed.on("data", (chunk: string) => (text += chunk));
      const firstState = `"name":"${EAST}","url":`;
      await eventually("the first state", 10_000, () =>
        text.includes(firstState) ? true : undefined,
      );
      text = "";
      await http("PUT", control(`/routing-controls/${EAST}`), { state: "Off" });
      await eventually("a state with the control Off", 10_000, () =>
        /event: state\ndata: .*"control":"Off"/.test(text) ? true : undefined,
      );
    } finally {
      feed.destroy();
    }
  });

  it("answers a routing-state method that throws with a bare 500, logs it, and serves on", async () => {
    const setTtl = ep.routing.setTtl.bind(ep.routing);
    ep.routing.setTtl = () => {
      throw new Error("disk on fire at /secret/path.ts:12");
    };
    const failed = await http("PUT", control("/settings"), { ttlSeconds: 5 });
    expect(failed.status).to.equal(500);
    expect(failed.body).to.deep.equal({
      error: "InternalError",
      message: "internal error (see the sandbox log)",
    });
    expect(errors).to.deep.equal(["control request PUT /control/settings failed"]);
    ep.routing.setTtl = setTtl;
    errors.length = 0;
    const next = await http("PUT", control("/settings"), { ttlSeconds: 7 });
    expect(next.status).to.equal(200);
    expect(next.body.ttlSeconds).to.equal(7);
    const proxied = await http("GET", `${ep.url}/products`);
    expect(proxied.status).to.equal(200);
  });

  it("answers a sandbox hook that rejects with a bare 500 and serves on", async () => {
    const { hooks } = recordingHooks();
    hooks.scan = () => Promise.reject(new TypeError("Cannot read properties of undefined"));
    await ep.stop();
    ep = new GlobalEndpoint({
      regions: [EAST, WEST].map((name, i) => ({
        name,
        url: `http://127.0.0.1:${(regions[i]?.address() as AddressInfo).port}`,
      })),
      hooks,
      policy: "latency",
      ttlSeconds: 60,
      healthCheck: DEFAULT_HEALTH_CHECK,
      onError: (message) => errors.push(message),
    });
    await ep.start();
    const failed = await http("GET", control(`/tables/${EAST}/kv`));
    expect(failed.status).to.equal(500);
    expect(JSON.stringify(failed.body)).to.not.include("Cannot read");
    expect(errors).to.deep.equal([`control request GET /control/tables/${EAST}/kv failed`]);
    expect((await http("GET", control("/state"))).status).to.equal(200);
  });
});
