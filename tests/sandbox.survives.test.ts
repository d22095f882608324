/**
 * The sandbox survives what it simulates and any request: prototype names in queries, headers
 * and paths, oversized bodies, handlers that fail, and a region's database stopped and started
 * under write load without losing an acknowledged write.
 */
import { request } from "node:http";
import { expect } from "chai";
import { ulid } from "ulid";
import { missingWrites, startKvWriters, type KvLoad } from "../local/kv-load";
import { MAX_PAYLOAD_BYTES, RegionalServer } from "../local/regional-server";
import { TABLE_KEYS } from "../functions/tables";
import { eventually, http, useSandbox } from "./support/sandbox";

const EAST = "us-east-1";
const WEST = "us-west-2";

interface RawResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** A request with exactly these header names (fetch refuses some), over node:http. */
function raw(
  method: string,
  url: string,
  headers: readonly [string, string][] = [],
  body?: Buffer | string,
): Promise<RawResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: `${u.pathname}${u.search}`,
        headers: [["Host", u.host], ...headers].flat(),
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Paths and headers built to break a process that treats request names as object keys. */
const PROTOTYPE_REQUESTS: readonly {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: readonly [string, string][];
  readonly body?: string;
}[] = [
  { name: "query __proto__", method: "GET", path: "/products?__proto__=1" },
  { name: "query constructor", method: "GET", path: "/products?constructor=1" },
  { name: "repeated query __proto__", method: "GET", path: "/products?__proto__=1&__proto__=2" },
  { name: "query toString", method: "GET", path: "/orders?toString=1&hasOwnProperty=2" },
  { name: "header __proto__", method: "GET", path: "/products", headers: [["__proto__", "1"]] },
  {
    name: "header constructor",
    method: "GET",
    path: "/health",
    headers: [["constructor", "x"]],
  },
  { name: "path __proto__", method: "GET", path: "/products/__proto__" },
  { name: "path constructor", method: "GET", path: "/orders/constructor" },
  { name: "kv key __proto__", method: "GET", path: "/kv/__proto__" },
];

describe("sandbox survives any request", function () {
  this.timeout(60_000);
  const { sandbox } = useSandbox();
  const region = (r: string): string => sandbox().urls.regions[r] as string;

  async function stillServes(): Promise<void> {
    for (const url of [region(EAST), region(WEST), sandbox().urls.global]) {
      const res = await http("GET", `${url}/health`);
      expect(res.status, `${url}/health`).to.equal(200);
    }
  }

  for (const c of PROTOTYPE_REQUESTS) {
    it(`answers ${c.name} without a 5xx, regionally and through the global endpoint`, async () => {
      for (const base of [region(EAST), sandbox().urls.global]) {
        const res = await raw(c.method, `${base}${c.path}`, c.headers ?? [], c.body);
        expect(res.status, `${base}${c.path}: ${res.text}`).to.be.oneOf([200, 400, 404]);
        const body = JSON.parse(res.text) as Record<string, unknown>;
        if (res.status >= 400) expect(body).to.have.keys("error", "message");
        expect(res.headers["x-served-by-region"]).to.be.a("string");
      }
      await stillServes();
    });
  }

  it("answers control requests with prototype names as 4xx, never 5xx", async () => {
    const control = sandbox().urls.control;
    const cases: [string, string, unknown][] = [
      ["PUT", "/routing-controls", '{"__proto__":"Off"}'],
      ["PUT", "/routing-controls", '{"states":{"__proto__":"Off","constructor":"On"}}'],
      ["PUT", "/routing-controls/__proto__", { state: "Off" }],
      ["POST", "/regions/constructor/stop?part=database", undefined],
      ["POST", "/regions/us-east-1/stop?part=__proto__", undefined],
      ["GET", "/tables/us-east-1/__proto__", undefined],
      ["GET", "/tables/__proto__/kv", undefined],
      ["PUT", "/settings", '{"__proto__":{"ttlSeconds":1}}'],
      ["PUT", "/settings", '{"healthCheck":{"constructor":1}}'],
      ["PUT", "/settings", '{"lag":{"minMs":"a","maxMs":2}}'],
      ["POST", "/replication/pause", '{"from":"__proto__"}'],
      ["POST", "/replication/pause", "[1,2"],
      ["GET", "/%E0%A4%A", undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await http(method, `${control}${path}`, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.be.within(400, 499);
      expect(res.body).to.have.keys("error", "message");
    }
    // Nothing changed.
    expect((await http("GET", `${control}/routing-controls`)).body.states).to.deep.equal({
      [EAST]: "On",
      [WEST]: "On",
    });
    await stillServes();
  });

  it("answers a body over 10 MB as the deployed gateway does: 413 ClientError naming the region", async () => {
    const big = Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x61);
    for (const [base, served] of [
      [region(WEST), WEST],
      [sandbox().urls.global, undefined],
    ] as const) {
      // A client of its own: the global endpoint's per-client DNS cache must not answer it.
      const client: [string, string][] = [
        ["x-client-region", EAST],
        ["x-client-id", `big-${ulid()}`],
      ];
      const res = await raw("PUT", `${base}/kv/big-${ulid()}`, client, big);
      expect(res.status).to.equal(413);
      expect(JSON.parse(res.text)).to.deep.equal({
        error: "ClientError",
        message: "Request Too Long",
      });
      // Through the global endpoint, the region routing picked (us-east-1 unless it is unhealthy).
      if (served) expect(res.headers["x-served-by-region"]).to.equal(served);
      else expect([EAST, WEST]).to.include(res.headers["x-served-by-region"]);
      expect(res.headers["content-type"]).to.equal("application/json");
    }
    await stillServes();
  });
});

describe("regional server failures", () => {
  async function withServer(
    handler: ConstructorParameters<typeof RegionalServer>[0]["handler"],
    fn: (url: string, errors: string[]) => Promise<void>,
  ): Promise<void> {
    const errors: string[] = [];
    const server = new RegionalServer({
      region: EAST,
      handler,
      onError: (message) => errors.push(message),
    });
    await server.start();
    try {
      await fn(server.url, errors);
    } finally {
      await server.stop();
    }
  }

  it("a handler that throws is the gateway's 502, logged, and the server serves on", async () => {
    let calls = 0;
    await withServer(
      async () => {
        if (calls++ === 0) throw new Error("boom at /secret/path.ts:1");
        return { statusCode: 200, body: "{}" };
      },
      async (url, errors) => {
        const failed = await raw("GET", `${url}/x`);
        expect(failed.status).to.equal(502);
        expect(JSON.parse(failed.text)).to.deep.equal({
          error: "GatewayError",
          message: "Internal server error",
        });
        expect(failed.headers["x-served-by-region"]).to.equal(EAST);
        expect(errors).to.have.length(1);
        expect((await raw("GET", `${url}/x`)).status).to.equal(200);
      },
    );
  });

  it("a result no response can carry is a 500 {error, message}, logged, and the server serves on", async () => {
    let calls = 0;
    await withServer(
      async () =>
        calls++ === 0
          ? { statusCode: 200, headers: { "x-bad": "line\nbreak" }, body: "{}" }
          : { statusCode: 200, body: "{}" },
      async (url, errors) => {
        const failed = await raw("GET", `${url}/x`);
        expect(failed.status).to.equal(500);
        expect(JSON.parse(failed.text)).to.deep.equal({
          error: "InternalError",
          message: "internal error",
        });
        expect(errors).to.have.length(1);
        expect((await raw("GET", `${url}/x`)).status).to.equal(200);
      },
    );
  });

  it("while unavailable answers every route, /health included, 503 with the reason", async () => {
    const server = new RegionalServer({
      region: WEST,
      handler: async () => ({ statusCode: 200, body: "{}" }),
    });
    await server.start();
    try {
      server.setUnavailable("us-west-2 is unavailable: its database is stopped");
      for (const path of ["/health", "/kv/a", "/products"]) {
        const res = await raw("GET", `${server.url}${path}`);
        expect(res.status).to.equal(503);
        expect(JSON.parse(res.text)).to.deep.equal({
          error: "ServiceUnavailable",
          message: "us-west-2 is unavailable: its database is stopped",
        });
        expect(res.headers["x-served-by-region"]).to.equal(WEST);
        expect(res.headers["retry-after"]).to.equal("1");
      }
      server.setUnavailable(undefined);
      expect((await raw("GET", `${server.url}/health`)).status).to.equal(200);
    } finally {
      await server.stop();
    }
  });
});

describe("sandbox database stop/start under write load", function () {
  this.timeout(240_000);
  const { sandbox } = useSandbox();
  const control = (path: string): string => `${sandbox().urls.control}${path}`;
  let load: KvLoad | undefined;

  afterEach(async () => {
    await load?.stop();
    load = undefined;
    await http("POST", control("/replication/resume"), {});
    for (const r of [EAST, WEST]) await sandbox().startRegion(r);
  });

  const acked = (): number => load?.acked.size ?? 0;
  const refused = (): number => load?.statuses["503"] ?? 0;

  /** Waits (bounded) until the writers have `n` more acknowledged writes than now. */
  async function moreAcked(n: number, what: string): Promise<void> {
    const target = acked() + n;
    await eventually(what, 30_000, async () => (acked() >= target ? true : undefined));
  }

  async function converged(): Promise<void> {
    await eventually(
      "regions identical",
      60_000,
      async () => {
        const c = await sandbox().convergence();
        return c.backlog === 0 && c.identical ? true : undefined;
      },
      200,
    );
  }

  /** Every table of every region, item by item, and acknowledged writes each region lacks. */
  async function compareRegions(): Promise<Record<string, string[]>> {
    for (const table of TABLE_KEYS) {
      const [east, west] = await Promise.all([EAST, WEST].map((r) => sandbox().scan(r, table)));
      const byKey = (items: Record<string, unknown>[]) =>
        [...items].map((i) => JSON.stringify(i, Object.keys(i).sort())).sort();
      expect(byKey(east as Record<string, unknown>[]), table).to.deep.equal(
        byKey(west as Record<string, unknown>[]),
      );
    }
    const lost: Record<string, string[]> = {};
    for (const r of [EAST, WEST]) {
      lost[r] = missingWrites(load?.acked ?? new Map(), await sandbox().scan(r, "kv"));
    }
    return lost;
  }

  it("loses no acknowledged write, refuses requests with 503 while down, and converges", async () => {
    const global = sandbox().urls.global;
    load = startKvWriters(
      [
        { name: "east", url: sandbox().urls.regions[EAST] as string },
        { name: "west", url: sandbox().urls.regions[WEST] as string },
        { name: "global", url: global, headers: { "x-client-region": EAST } },
      ],
      2,
      `dbstop-${ulid()}`,
    );
    await moreAcked(100, "writes before the stop");
    // The sandbox's own calls, not the control API: a JVM start may outlast an HTTP timeout
    // on a loaded machine.
    await sandbox().stopRegion(EAST, "database");
    const stopped = sandbox().regionStatus(EAST);
    expect(stopped).to.include({ api: true, database: false });
    expect(stopped.unavailable).to.contain("database is stopped");
    const health = await http("GET", `${sandbox().urls.regions[EAST]}/health`);
    expect(health.status).to.equal(503);
    expect(health.body.message).to.contain("database is stopped");
    await eventually("writers refused by the stopped region", 10_000, async () =>
      refused() >= 5 ? true : undefined,
    );
    await eventually("us-east-1 unhealthy at the global endpoint", 15_000, async () =>
      sandbox().endpoint.isHealthy(EAST) ? undefined : true,
    );
    await moreAcked(100, "writes while us-east-1's database is down");
    await sandbox().startRegion(EAST, "database");
    expect(sandbox().regionStatus(EAST)).to.include({ database: true });
    expect(sandbox().regionStatus(EAST).unavailable).to.equal(undefined);
    await moreAcked(100, "writes after the start");
    await load.stop();
    await converged();
    const lost = await compareRegions();
    expect(acked()).to.be.at.least(300);
    expect(lost).to.deep.equal({ [EAST]: [], [WEST]: [] });
  });

  it("keeps the stopped region's own writes that had not reached its peer when the refill ran", async () => {
    const east = sandbox().urls.regions[EAST] as string;
    // Replication east -> west is paused, so these writes exist only in us-east-1 (and in the
    // replicator's queue) when its database stops and is refilled from us-west-2.
    expect(
      (await http("POST", control("/replication/pause"), { from: EAST, to: WEST })).status,
    ).to.equal(200);
    load = startKvWriters([{ name: "east", url: east }], 2, `own-${ulid()}`);
    await moreAcked(40, "writes held by the pause");
    await load.stop();
    expect(missingWrites(load.acked, await sandbox().scan(WEST, "kv"))).to.have.length(
      load.acked.size,
    );
    await sandbox().stopRegion(EAST, "database");
    await sandbox().startRegion(EAST, "database");
    expect(missingWrites(load.acked, await sandbox().scan(EAST, "kv"))).to.deep.equal([]);
    expect((await http("POST", control("/replication/resume"), {})).status).to.equal(200);
    await converged();
    expect(await compareRegions()).to.deep.equal({ [EAST]: [], [WEST]: [] });
  });

  it("counts as lost the writes a lost region had not replicated (the check can fail)", async () => {
    const east = sandbox().urls.regions[EAST] as string;
    expect(
      (await http("POST", control("/replication/pause"), { from: EAST, to: WEST })).status,
    ).to.equal(200);
    load = startKvWriters([{ name: "east", url: east }], 1, `lost-${ulid()}`);
    await moreAcked(10, "writes held by the pause");
    await load.stop();
    // Region loss (API and database): what it had not sent is gone.
    await sandbox().stopRegion(EAST, "all");
    await sandbox().startRegion(EAST, "all");
    await http("POST", control("/replication/resume"), {});
    await converged();
    const lost = await compareRegions();
    expect(lost[WEST]).to.have.length(load.acked.size);
    expect(lost[EAST]).to.have.length(load.acked.size);
  });
});
