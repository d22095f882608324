/**
 * The sandbox's and the drill's pure parts, without a JVM: routing rules, lag and fingerprints,
 * proxy events, the drill's arithmetic and the command-line parsers.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { depsFromEnv } from "../functions/runtime";
import { TABLES } from "../functions/tables";
import { UsageError } from "../tools/cli-args";
import { parseStartArgs } from "../tools/start";
import {
  computeRto,
  countRequests,
  recoveredAt,
  servedOverTime,
  type DrillReport,
  type OpRecord,
} from "../local/drill/report";
import { formatReport } from "../local/drill/report-text";
import { findAnomalies } from "../local/drill/anomalies";
import { javaMajor } from "../local/dynamo";
import { toProxyEvent } from "../local/regional-server";
import {
  compareVersions,
  fingerprint,
  parseLag,
  sampleLag,
  type Image,
} from "../local/replication-model";
import {
  AnswerCache,
  HealthTracker,
  SafetyRuleError,
  applyControlChange,
  eligibleRegions,
  parseControlState,
  pickRegion,
} from "../local/routing";
import { checkRegions } from "../local/sandbox";
import { regionEnv } from "../local/sandbox/region-runtime";
import { percentile, summarize } from "../local/stats";
import { parseDrillArgs } from "../tools/drill-args";
import { PROJECT_DIR } from "../tools/stack-config";

const A = "us-east-1";
const B = "us-west-2";
const C = "eu-west-1";

describe("sandbox units", () => {
  describe("routing controls and the safety rule", () => {
    it("applies a change that leaves a region On", () => {
      expect(applyControlChange({ [A]: "On", [B]: "On" }, { [A]: "Off" })).to.deep.equal({
        [A]: "Off",
        [B]: "On",
      });
    });

    const refused: [string, Record<string, "On" | "Off">, Record<string, "On" | "Off">][] = [
      ["the last On region turned Off", { [A]: "Off", [B]: "On" }, { [B]: "Off" }],
      ["both at once", { [A]: "On", [B]: "On" }, { [A]: "Off", [B]: "Off" }],
      ["three regions all Off", { [A]: "On", [B]: "Off", [C]: "Off" }, { [A]: "Off" }],
    ];
    for (const [name, current, change] of refused) {
      it(`refuses ${name}, naming the rule`, () => {
        expect(() => applyControlChange(current, change))
          .to.throw(SafetyRuleError)
          .with.property("message")
          .that.contains("at least 1");
      });
    }

    it("rejects an unknown region", () => {
      expect(() =>
        applyControlChange({ [A]: "On", [B]: "On" }, { "xx-nowhere-1": "Off" }),
      ).to.throw(/unknown region xx-nowhere-1/);
    });

    it("parses On/Off in any case and rejects anything else", () => {
      expect(parseControlState("on")).to.equal("On");
      expect(parseControlState("OFF")).to.equal("Off");
      expect(() => parseControlState("maybe")).to.throw(/On or Off/);
      expect(() => parseControlState(1)).to.throw(/On or Off/);
    });
  });

  describe("health checks", () => {
    it("turns unhealthy after `threshold` consecutive failures and healthy after as many successes", () => {
      const h = new HealthTracker(2);
      expect(h.record(false, "503", 1)).to.equal(false);
      expect(h.view().healthy).to.equal(true);
      expect(h.record(false, "503", 1)).to.equal(true);
      expect(h.view().healthy).to.equal(false);
      expect(h.record(true, "200", 1)).to.equal(false);
      expect(h.record(false, "503", 1)).to.equal(false);
      expect(h.record(true, "200", 1)).to.equal(false);
      expect(h.record(true, "200", 1)).to.equal(true);
      expect(h.view().healthy).to.equal(true);
    });

    it("rejects a threshold outside 1..10", () => {
      expect(() => new HealthTracker(0)).to.throw(/1\.\.10/);
      expect(() => new HealthTracker(1.5)).to.throw(/1\.\.10/);
    });
  });

  describe("which region answers", () => {
    const healthyAll = (): boolean => true;

    it("routes only to regions that are On and healthy", () => {
      expect(eligibleRegions([A, B], { [A]: "Off", [B]: "On" }, healthyAll)).to.deep.equal([B]);
      expect(eligibleRegions([A, B], { [A]: "On", [B]: "On" }, (r) => r !== A)).to.deep.equal([B]);
    });

    it("fails open to the On regions when all of them are unhealthy, as Route 53 does", () => {
      expect(eligibleRegions([A, B], { [A]: "On", [B]: "Off" }, () => false)).to.deep.equal([A]);
    });

    it("latency policy: the client's own region, else the next eligible one", () => {
      expect(pickRegion("latency", [A, B, C], [A, B, C], { id: "x", region: B })).to.equal(B);
      expect(pickRegion("latency", [A, B, C], [A, C], { id: "x", region: B })).to.equal(C);
      expect(pickRegion("latency", [A, B, C], [A], { id: "x", region: B })).to.equal(A);
    });

    it("latency policy spreads clients of unknown location over eligible regions, stably", () => {
      const picks = new Set(
        Array.from({ length: 50 }, (_, i) =>
          pickRegion("latency", [A, B], [A, B], { id: `client-${i}` }),
        ),
      );
      expect([...picks].sort()).to.deep.equal([A, B]);
      expect(pickRegion("latency", [A, B], [A, B], { id: "same" })).to.equal(
        pickRegion("latency", [A, B], [A, B], { id: "same" }),
      );
    });

    it("failover policy: the primary while eligible, then the secondary", () => {
      expect(pickRegion("failover", [A, B], [A, B], { id: "x", region: B })).to.equal(A);
      expect(pickRegion("failover", [A, B], [B], { id: "x", region: A })).to.equal(B);
    });

    it("keeps a client's answer for the TTL, then resolves again", () => {
      const cache = new AnswerCache();
      let answer = A;
      const get = (now: number): string => cache.get("c", 60, () => answer, now).region;
      expect(get(0)).to.equal(A);
      answer = B;
      expect(get(59_999)).to.equal(A);
      expect(get(60_000)).to.equal(B);
      expect(cache.countByRegion(60_001)).to.deep.equal({ [B]: 1 });
    });

    it("a TTL of 0 resolves every request", () => {
      const cache = new AnswerCache();
      let n = 0;
      cache.get("c", 0, () => `r${++n}`, 0);
      cache.get("c", 0, () => `r${++n}`, 0);
      expect(n).to.equal(2);
    });
  });

  describe("replication model", () => {
    const good: [string, { minMs: number; maxMs: number }][] = [
      ["600-1200", { minMs: 600, maxMs: 1200 }],
      ["300", { minMs: 300, maxMs: 300 }],
      [" 0 - 5 ms", { minMs: 0, maxMs: 5 }],
    ];
    for (const [text, want] of good) {
      it(`parses lag "${text}"`, () => expect(parseLag(text)).to.deep.equal(want));
    }
    for (const text of ["", "fast", "1200-600", "-5", "1-700000"]) {
      it(`rejects lag "${text}"`, () => expect(() => parseLag(text)).to.throw(/lag/));
    }

    it("draws lags within the range", () => {
      fc.assert(
        fc.property(
          fc.nat(5000),
          fc.nat(5000),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          (a, b, u) => {
            const lag = { minMs: Math.min(a, b), maxMs: Math.max(a, b) };
            const v = sampleLag(lag, () => u);
            return v >= lag.minMs && v <= lag.maxMs;
          },
        ),
      );
    });

    it("fingerprints ignore attribute order and set element order, and nothing else", () => {
      const attr = fc.oneof(
        fc.string().map((S) => ({ S })),
        fc.integer().map((n) => ({ N: String(n) })),
        fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 4 }).map((SS) => ({ SS })),
      );
      fc.assert(
        fc.property(
          fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), attr, { maxKeys: 5 }),
          (image) => {
            const reversed: Image = {};
            for (const k of Object.keys(image).reverse()) {
              const v = image[k] as { SS?: string[] };
              reversed[k] = v.SS ? { SS: [...v.SS].reverse() } : (image[k] as Image[string]);
            }
            expect(fingerprint(reversed)).to.equal(fingerprint(image));
            expect(fingerprint({ ...image, extra_attr_x: { S: "x" } })).to.not.equal(
              fingerprint(image),
            );
          },
        ),
      );
      expect(fingerprint(undefined)).to.not.equal(fingerprint({}));
    });

    it("orders versions totally: by time, then by origin region", () => {
      const version = fc.record({ ts: fc.nat(10), origin: fc.constantFrom(A, B, C) });
      fc.assert(
        fc.property(version, version, (x, y) => {
          const a = compareVersions(x, y);
          const b = compareVersions(y, x);
          expect(a).to.equal(-b || 0);
          if (a === 0) expect(x).to.deep.equal(y);
        }),
      );
    });
  });

  describe("stats", () => {
    it("nearest-rank percentiles", () => {
      const v = Array.from({ length: 100 }, (_, i) => i + 1);
      expect(percentile(v, 50)).to.equal(50);
      expect(percentile(v, 99)).to.equal(99);
      expect(percentile(v, 100)).to.equal(100);
      expect(percentile([], 50)).to.equal(undefined);
      expect(summarize([3, 1, 2])).to.deep.equal({ count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
    });
  });

  describe("API Gateway proxy events from HTTP requests", () => {
    const ctx = { region: A, requestId: "req-1", now: 1_700_000_000_000 };

    it("keeps the last value of a repeated query parameter and all of them in the multi-value map", () => {
      const e = toProxyEvent(
        {
          method: "GET",
          url: "/orders?orderId=a&orderId=b&x=%20y",
          rawHeaders: ["Host", "h", "X-A", "1", "X-A", "2"],
          sourceIp: "127.0.0.1",
        },
        Buffer.alloc(0),
        ctx,
      );
      expect(e.httpMethod).to.equal("GET");
      expect(e.path).to.equal("/orders");
      expect(e.queryStringParameters).to.deep.equal({ orderId: "b", x: " y" });
      expect(e.multiValueQueryStringParameters).to.deep.equal({ orderId: ["a", "b"], x: [" y"] });
      expect(e.headers["X-A"]).to.equal("2");
      expect(e.multiValueHeaders["X-A"]).to.deep.equal(["1", "2"]);
      expect(e.body).to.equal(null);
      expect(e.requestContext.stage).to.equal("local");
      expect(e.requestContext.identity.sourceIp).to.equal("127.0.0.1");
    });

    it("keeps query parameters and headers named __proto__ or constructor as ordinary data", () => {
      const e = toProxyEvent(
        {
          method: "GET",
          url: "/products?__proto__=1&constructor=2&__proto__=3",
          rawHeaders: ["__proto__", "h", "constructor", "c", "constructor", "d"],
          sourceIp: "127.0.0.1",
        },
        Buffer.alloc(0),
        ctx,
      );
      // Own properties, as in the JSON event Lambda parses; nothing reached a prototype.
      expect(Object.getOwnPropertyDescriptor(e.queryStringParameters, "__proto__")?.value).to.equal(
        "3",
      );
      expect(e.queryStringParameters?.constructor).to.equal("2");
      expect(
        Object.getOwnPropertyDescriptor(e.multiValueQueryStringParameters, "__proto__")?.value,
      ).to.deep.equal(["1", "3"]);
      expect(Object.getOwnPropertyDescriptor(e.headers, "__proto__")?.value).to.equal("h");
      expect(e.multiValueHeaders.constructor).to.deep.equal(["c", "d"]);
      expect(({} as Record<string, unknown>).h).to.equal(undefined);
    });

    it("passes a UTF-8 body as text and anything else base64-encoded", () => {
      const text = toProxyEvent(
        { method: "POST", url: "/orders", rawHeaders: [], sourceIp: "::1" },
        Buffer.from('{"a":"é"}'),
        ctx,
      );
      expect(text).to.include({ body: '{"a":"é"}', isBase64Encoded: false });
      expect(text.queryStringParameters).to.equal(null);
      const bin = toProxyEvent(
        { method: "POST", url: "/orders", rawHeaders: [], sourceIp: "::1" },
        Buffer.from([0xff, 0xfe]),
        ctx,
      );
      expect(bin).to.include({ body: "//4=", isBase64Encoded: true });
    });
  });

  describe("sandbox configuration", () => {
    it("accepts two or more distinct region names", () => {
      expect(checkRegions([A, B, C])).to.deep.equal([A, B, C]);
    });
    const bad: [string[], RegExp][] = [
      [[A], /at least 2/],
      [[A, A], /duplicate region us-east-1/],
      [[A, "Mars"], /not a region name/],
    ];
    for (const [regions, err] of bad) {
      it(`refuses regions ${JSON.stringify(regions)}`, () =>
        expect(() => checkRegions(regions)).to.throw(err));
    }

    it("gives each region the environment a Lambda function there gets", () => {
      const names = Object.fromEntries(TABLES.map((t) => [t.key, `p-${t.key}`])) as Record<
        (typeof TABLES)[number]["key"],
        string
      >;
      const env = regionEnv(B, "http://127.0.0.1:9", names, false);
      const deps = depsFromEnv(env);
      expect(deps.region).to.equal(B);
      expect(deps.tables).to.deep.equal(names);
      expect(env.POWERTOOLS_LOG_LEVEL).to.equal("SILENT");
      expect(env.POWERTOOLS_METRICS_DISABLED).to.equal("true");
      expect(regionEnv(B, "http://127.0.0.1:9", names, true).POWERTOOLS_LOG_LEVEL).to.equal("INFO");
    });

    it("reads Java's major version from `java -version`", () => {
      expect(javaMajor('openjdk version "17.0.15" 2025-04-15')).to.equal(17);
      expect(javaMajor('java version "1.8.0_392"')).to.equal(8);
      expect(javaMajor('openjdk version "21" 2023-09-19')).to.equal(21);
      expect(javaMajor("nothing here")).to.equal(undefined);
    });
  });

  describe("drill arithmetic", () => {
    const op = (
      client: string,
      startedAt: number,
      outcome: OpRecord["outcome"],
      servedBy?: string,
      status = 201,
    ): OpRecord => ({
      client,
      clientRegion: client.includes("east") ? A : B,
      kind: "create",
      orderId: `o-${client}-${startedAt}`,
      productId: `p-${client}-${startedAt}`,
      startedAt,
      endedAt: startedAt + 10,
      outcome,
      status: outcome === "failed" ? 502 : status,
      servedBy,
      attempts: [
        { via: "global", status: outcome === "failed" ? 502 : status, servedBy, startedAt, ms: 10 },
      ],
    });

    it("RTO: traffic moved = when each client on the faulted region first succeeded elsewhere", () => {
      const ops = [
        op("east", 0, "ok", A),
        op("west", 0, "ok", B),
        op("east", 1000, "ok", A),
        op("east", 2000, "failed"),
        op("east", 3000, "failed"),
        op("east", 4000, "ok", B),
        op("west", 4000, "ok", B),
        op("east", 5000, "ok", B),
      ];
      const rto = computeRto(ops, 1500, A, "region-loss");
      expect(rto.affectedClients).to.deep.equal(["east"]);
      expect(rto.movedMsByClient).to.deep.equal({ east: 2510 });
      expect(rto.trafficMovedMs).to.equal(2510);
      expect(rto.recovered99Ms).to.equal(4000 - 1500);
      expect(rto.rtoMs).to.equal(2510);
    });

    it("RTO: null when an affected client never moved within the run", () => {
      const ops = [op("east", 0, "ok", A), op("east", 2000, "ok", A)];
      expect(computeRto(ops, 1000, A, "switch").trafficMovedMs).to.equal(null);
    });

    it("recovered to 99%: 0 when nothing failed, null when the last request failed", () => {
      expect(recoveredAt([op("a", 10, "ok", A), op("a", 20, "ok", A)], 0, 0.99)).to.equal(0);
      expect(recoveredAt([op("a", 10, "ok", A), op("a", 20, "failed")], 0, 0.99)).to.equal(null);
    });

    it("a stale read is not a failure", () => {
      expect(recoveredAt([op("a", 10, "stale", B, 404)], 0, 0.99)).to.equal(0);
    });

    it("counts failed operations and failed attempts, in all and after the fault", () => {
      const c = countRequests(
        [op("east", 0, "failed"), op("east", 1000, "ok", A), op("east", 2000, "failed")],
        1500,
        [A, B],
      );
      expect([c.ops, c.ok, c.failed, c.failedAttempts]).to.deep.equal([3, 1, 2, 2]);
      expect(c.afterFault).to.deep.equal({ ops: 1, failed: 1, failedAttempts: 1, staleReads: 0 });
      expect(c.servedBeforeFault).to.deep.equal({ [A]: 1, [B]: 0 });
    });

    it("buckets requests by serving region over time", () => {
      const b = servedOverTime(
        [op("a", 100, "ok", A), op("a", 1100, "failed"), op("b", 1200, "ok", B)],
        2000,
        [A, B],
      );
      expect(b).to.deep.equal([
        { t: 0, byRegion: { [A]: 1, [B]: 0 }, failed: 0 },
        { t: 1, byRegion: { [A]: 0, [B]: 1 }, failed: 1 },
      ]);
    });

    it("formats a report with every section", () => {
      const report = {
        version: 2,
        scenario: "switch",
        target: "sandbox http://x",
        regions: [A, B],
        faultRegion: A,
        settings: {
          durationS: 10,
          faultAtS: 5,
          ratePerRegion: 1,
          clientsPerRegion: 1,
          clientFailover: false,
          contention: 0.5,
          contentionSpreadMs: 250,
          retryElsewhere: false,
          retryAfterMs: 250,
          resellWindowMs: 0,
          ttlSeconds: 1,
        },
        startedAt: "2026-01-01T00:00:00.000Z",
        faultInjectedAt: "2026-01-01T00:00:05.000Z",
        endedAt: "2026-01-01T00:00:10.000Z",
        fault: "routing control of us-east-1 turned Off",
        rto: computeRto([op("east", 0, "ok", A), op("east", 6000, "ok", B)], 5000, A, "switch"),
        requests: {
          ops: 2,
          ok: 2,
          failed: 0,
          staleReads: 0,
          refused: 1,
          attempts: 2,
          failedAttempts: 0,
          savedByClientFailover: 0,
          afterFault: { ops: 1, failed: 0, failedAttempts: 0, staleReads: 0 },
          servedBeforeFault: { [A]: 1, [B]: 0 },
          servedAfterFault: { [A]: 0, [B]: 1 },
          latencyMs: { create: { count: 0 }, read: { count: 0 } },
        },
        replicationLagMs: { orders: { count: 2, p50: 700, p95: 900, p99: 900, max: 900 } },
        rpo: {
          acknowledgedOrders: 2,
          survivingRegions: [A, B],
          converged: true,
          convergenceWaitMs: 10,
          lostWrites: 0,
          lostOrderIds: {},
          checkedAgainst: "region tables",
        },
        load: { contendedProducts: 1, rivalOrders: 1, resaleOrders: 0, retriedElsewhere: 0 },
        anomalies: findAnomalies({
          ledger: [],
          tables: { [A]: { orders: [], products: [{ ProductId: "p", ProductStatus: "SOLD" }] } },
          products: new Set(["p"]),
        }),
        servedPerRegion: servedOverTime(
          [op("east", 0, "ok", A), op("east", 6000, "ok", B)],
          10_000,
          [A, B],
        ),
        notes: [],
      } as DrillReport;
      const text = formatReport(report);
      expect(text).to.contain("traffic moved off us-east-1");
      expect(text).to.contain("traffic moved off us-east-1     1.0 s (slowest client; east 1.0 s)");
      expect(text).to.contain("orders        700    900    900    900      2");
      expect(text).to.contain("lost writes (missing from us-east-1, us-west-2): 0");
      expect(text).to.contain("2 operations: 2 ok, 0 failed, 1 refused");
      expect(text).to.contain("contention 0.5 (spread 250 ms, 1 rival orders)");
      expect(text).to.contain(
        "double-sold 0, resold 0, overwritten acknowledged 0, sold without order 1, lost acknowledged 0",
      );
      expect(text).to.contain("products sold without order: p");
      expect(text).to.match(/5-10 +0 +1 +0 <- fault/);
    });
  });

  describe("command lines", () => {
    it("npm start: defaults, and region ports after the global one", () => {
      const parsed = parseStartArgs([]);
      if (parsed === "help") throw new Error("unexpected help");
      expect(parsed.seed).to.equal(true);
      expect(parsed.options).to.deep.include({
        regions: [A, B],
        port: 8080,
        regionPorts: [8081, 8082],
        verbose: false,
      });
      const zero = parseStartArgs([
        "--port",
        "0",
        "--regions",
        `${A},${B},${C}`,
        "--lag",
        "100-200",
        "--no-seed",
      ]);
      if (zero === "help") throw new Error("unexpected help");
      expect(zero.options.regionPorts).to.equal(undefined);
      expect(zero.options.lag).to.deep.equal({ minMs: 100, maxMs: 200 });
      expect(zero.seed).to.equal(false);
    });

    const badStart: [string[], RegExp][] = [
      [["--port", "x"], /--port must be a whole number/],
      [["--ttl", "-1"], /--ttl/],
      [["--lag", "slow"], /--lag/],
      [["--policy", "random"], /--policy must be one of latency, failover/],
    ];
    for (const [argv, err] of badStart) {
      it(`npm start ${argv.join(" ")} is a usage error`, () =>
        expect(() => parseStartArgs(argv)).to.throw(UsageError, err));
    }

    it("drill: defaults finish in about a minute with a short TTL of its own sandbox", () => {
      const d = parseDrillArgs([]);
      if (d === "help") throw new Error("unexpected help");
      expect(d).to.deep.include({
        scenario: "switch",
        durationMs: 60_000,
        faultAtMs: 20_000,
        rate: 1,
        ttlSeconds: 10,
        clientFailover: false,
      });
      const shaped = parseDrillArgs([
        "--contention",
        "0.5",
        "--contention-spread-ms",
        "100",
        "--retry-elsewhere",
        "--retry-after-ms",
        "50",
      ]);
      if (shaped === "help") throw new Error("unexpected help");
      expect(shaped).to.deep.include({
        contention: 0.5,
        contentionSpreadMs: 100,
        retryElsewhere: true,
        retryAfterMs: 50,
      });
      const e = parseDrillArgs(["--endpoint", "http://127.0.0.1:8080"]);
      if (e === "help") throw new Error("unexpected help");
      expect(e.ttlSeconds).to.equal(undefined);
    });

    const badDrill: [string[], RegExp][] = [
      [
        ["--scenario", "meteor"],
        /--scenario must be one of switch, region-loss, replication-pause/,
      ],
      [["--duration", "10", "--fault-at", "10"], /--fault-at \(10\) must come before/],
      [["--endpoint", "http://x", "--lag", "5"], /configure the drill's own sandbox/],
      [["--rate", "0"], /--rate must be within/],
      [["--contention", "1.5"], /--contention must be within 0\.\.1: got 1\.5/],
      [["--retry-after-ms", "50"], /--retry-after-ms needs --retry-elsewhere/],
      [
        ["--retry-elsewhere", "--retry-after-ms", "soon"],
        /--retry-after-ms must be a whole number/,
      ],
    ];
    for (const [argv, err] of badDrill) {
      it(`drill ${argv.join(" ")} is a usage error`, () =>
        expect(() => parseDrillArgs(argv)).to.throw(UsageError, err));
    }
  });
});

const SANDBOX_MODULE = path.join(PROJECT_DIR, "local", "sandbox.ts");

describe("last-resort guard of a process that runs a sandbox", function () {
  this.timeout(30_000);
  /** A fresh Node process that rejects a promise nobody handles, with or without the guard. */
  function rejectUnhandled(guard: boolean): { status: number | null; stdout: string } {
    const script = [
      `const { installLastResortGuard } = require(${JSON.stringify(SANDBOX_MODULE)});`,
      guard ? "installLastResortGuard((line) => console.log(line));" : "",
      'void Promise.reject(new Error("boom"));',
      'setTimeout(() => console.log("still serving"), 100);',
    ].join("\n");
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
    });
    return { status: run.status, stdout: run.stdout };
  }

  it("logs an unhandled rejection and the process goes on", () => {
    const run = rejectUnhandled(true);
    expect(run.stdout).to.equal(
      "unhandled rejection (the sandbox keeps serving): boom\nstill serving\n",
    );
    expect(run.status).to.equal(0);
  });

  it("is what keeps it alive: without it Node ends the process", () => {
    const run = rejectUnhandled(false);
    expect(run.stdout).to.equal("");
    expect(run.status).to.not.equal(0);
  });
});
