/**
 * The embedded multi-region sandbox, built and stopped programmatically. `npm start`, the drill
 * and the end-to-end tests all use `startSandbox`.
 *
 * One Node process runs every region's API (the same handlers as Lambda, each region with its own
 * `Deps` built from the environment a Lambda function of that region would get), the replicator
 * and the global endpoint; each region's DynamoDB Local is a JVM child process in its own process
 * group. One process keeps start-up fast on two cores and makes "stop everything" one call; the
 * handlers hold no module-level state, so regions cannot see each other except through the
 * replicator.
 */
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { REGION_PATTERN } from "resilient-dynamo/regions";
import { createApp } from "../functions/app";
import { depsFromEnv, type ApiHandler } from "../functions/runtime";
import { TABLES, TABLE_KEYS, type ConsistencyMode, type TableKey } from "../functions/tables";
import {
  checkJava,
  ensureTables,
  localClient,
  startRegionDb,
  watchJvm,
  type DynamoLocal,
} from "./dynamo";
import { GlobalEndpoint } from "./global-endpoint";
import type {
  Convergence,
  RegionPart,
  RegionStatus,
  SandboxHooks,
} from "./global-endpoint/sandbox-hooks";
import { RECONCILER } from "../functions/stream-functions";
import { SandboxReconciler } from "./reconciler";
import { repairPhrase, repairRegion } from "./sale-repair";
import type { RepairCounts } from "../functions/data/repair";
import type { MrscCoordinator } from "./mrsc/coordinator";
import { consistencyRuntime, type ConsistencyView } from "./mrsc/mode";
import { RegionalServer } from "./regional-server";
import { DEFAULT_LAG, checkLag, fingerprint, type Image, type LagRange } from "./replication-model";
import { Replicator, keyOf } from "./replicator";
import {
  DEFAULT_HEALTH_CHECK,
  DEFAULT_TTL_SECONDS,
  type HealthCheckSettings,
  type RoutingPolicy,
} from "./routing";
import { summarize } from "./stats";
import { DEFAULT_POLL_MS, dynamoRegionIO, startStreamPoller, type StreamPoller } from "./streams";

export const DEFAULT_REGIONS: readonly string[] = ["us-east-1", "us-west-2"];
export const DEFAULT_TABLE_PREFIX = "resilient-dynamo";

export interface SandboxOptions {
  /** Two or more region names. @default ["us-east-1", "us-west-2"] */
  readonly regions?: readonly string[];
  /** Keep each region's database in `<dataDir>/<region>`; in memory when absent. */
  readonly dataDir?: string;
  /** @default 600-1200 ms, the sample's measured replication latency */
  readonly lag?: LagRange;
  /** @default 60 */
  readonly ttlSeconds?: number;
  /** @default "latency" */
  readonly policy?: RoutingPolicy;
  readonly healthCheck?: Partial<HealthCheckSettings>;
  /** Global endpoint port. @default 0 (free port) */
  readonly port?: number;
  /** One API port per region, in order. @default free ports */
  readonly regionPorts?: readonly number[];
  /** @default "resilient-dynamo" */
  readonly tablePrefix?: string;
  /** Stream poll interval when idle. @default 100 */
  readonly pollMs?: number;
  /**
   * Run the conflict reconciler (functions/handlers/reconcile.ts) on every region's products
   * stream, as eventual mode deploys it. @default true
   */
  readonly reconcile?: boolean;
  /** Show the handlers' Powertools logs and metrics and replication errors. @default false */
  readonly verbose?: boolean;
  /** Progress lines while starting (and errors when verbose). */
  readonly log?: (line: string) => void;
  /** `strong`: MRSC for the tables whose spec says so (see local/mrsc/). @default "eventual" */
  readonly consistency?: ConsistencyMode;
  /** Strong mode with two regions: the witness. @default a region of the same MRSC Region set */
  readonly witnessRegion?: string;
  /** Strong mode: cross-region latency added to each strong write. @default 20 */
  readonly mrscWriteLatencyMs?: number;
  /**
   * Strong mode without per-item locks and majority: only for tests that show what those
   * prevent. @default true
   */
  readonly mrscQuorum?: boolean;
}

export interface SandboxUrls {
  /** The global endpoint: the service's "DNS name". */
  readonly global: string;
  readonly status: string;
  readonly control: string;
  readonly regions: Readonly<Record<string, string>>;
}

export interface Sandbox {
  readonly urls: SandboxUrls;
  readonly regions: readonly string[];
  readonly tables: Readonly<Record<TableKey, string>>;
  readonly endpoint: GlobalEndpoint;
  readonly replicator: Replicator;
  /** The conflict reconciler, unless started with `reconcile: false`. */
  readonly reconciler?: SandboxReconciler | undefined;
  readonly consistency: ConsistencyMode;
  /** Strong mode's coordinator (quorum, members, conflicts). */
  readonly mrsc?: MrscCoordinator | undefined;
  /** Mode, members up and down, write latency. */
  consistencyView(): ConsistencyView;
  /** Strong mode with a witness: take it away or bring it back. */
  setWitness(up: boolean): void;
  /** The DynamoDB endpoint a region's handlers use (its MRSC front in strong mode). */
  dynamoEndpoint(region: string): string;
  /** Milliseconds `startSandbox` took. */
  readonly startupMs: number;
  stopRegion(region: string, part?: RegionPart): Promise<void>;
  startRegion(region: string, part?: RegionPart): Promise<void>;
  regionStatus(region: string): RegionStatus;
  /** Items of a region's table, unmarshalled, straight from its database. */
  scan(region: string, table: TableKey): Promise<Record<string, unknown>[]>;
  /**
   * The repair step (functions/data/repair.ts) in `regions` (default: every region whose database
   * runs): counts per region. `dryRun` writes nothing.
   */
  repair(regions?: readonly string[], dryRun?: boolean): Promise<Record<string, RepairCounts>>;
  /** Replication backlog and whether every running region holds the same items. */
  convergence(): Promise<Convergence>;
  /** Every DynamoDB Local pid this sandbox started (running or not). */
  jvmPids(): number[];
  /** Stops everything it started, JVMs included. Idempotent. */
  stop(): Promise<void>;
}

interface RegionRuntime {
  readonly name: string;
  db?: DynamoLocal | undefined;
  dbPort?: number;
  client?: DynamoDBClient | undefined;
  watchdog?: { stop(): void } | undefined;
  pollers: StreamPoller[];
  readonly server: RegionalServer;
  /** The region's whole API (dispatcher and handlers), once its tables exist. */
  app?: ApiHandler | undefined;
  /** Its database stopped with the region (region loss): its unreplicated writes are gone. */
  lost?: boolean;
  /** Serialises stop/start of this region. */
  busy: Promise<unknown>;
}

/** Longest a database stop waits for requests already in a handler. */
const DRAIN_MS = 10_000;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Resolves when `p` does or after `ms`, whichever is first. */
async function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

let guardInstalled = false;
/**
 * Last resort for the process that runs a sandbox: a promise rejected on some request path that
 * nobody handled is logged instead of ending the process (Node's default), so one bad request
 * cannot take every region and the global endpoint down with it. Installed once per process, by
 * the entry points that run a sandbox (`npm start`, the drill), not by startSandbox: a library
 * does not decide how its host process treats rejections (a test runner's own handler, say).
 */
export function installLastResortGuard(log: (line: string) => void): void {
  if (guardInstalled) return;
  guardInstalled = true;
  process.on("unhandledRejection", (reason) => {
    log(`unhandled rejection (the sandbox keeps serving): ${describe(reason)}`);
  });
}

/** Validates region names: at least two, distinct, AWS-shaped. */
export function checkRegions(regions: readonly string[]): readonly string[] {
  if (regions.length < 2) {
    throw new Error(
      `the sandbox needs at least 2 regions: got ${regions.length} (${regions.join(", ")})`,
    );
  }
  const seen = new Set<string>();
  for (const r of regions) {
    if (!REGION_PATTERN.test(r))
      throw new Error(`not a region name: ${JSON.stringify(r)} (expected e.g. us-east-1)`);
    if (seen.has(r)) throw new Error(`duplicate region ${r}`);
    seen.add(r);
  }
  return regions;
}

/** The environment a Lambda function of `region` gets, pointed at the region's DynamoDB Local. */
export function regionEnv(
  region: string,
  endpoint: string,
  tables: Readonly<Record<TableKey, string>>,
  verbose: boolean,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: region,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    POWERTOOLS_SERVICE_NAME: "resilient-dynamo",
    POWERTOOLS_LOG_LEVEL: verbose ? "INFO" : "SILENT",
    POWERTOOLS_METRICS_DISABLED: verbose ? "false" : "true",
  };
  for (const spec of TABLES) env[spec.envVar] = tables[spec.key];
  return env;
}

/** Starts a whole sandbox; on failure stops whatever it had started and rethrows. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const started = Date.now();
  const regions = checkRegions(opts.regions ?? DEFAULT_REGIONS);
  const lag = checkLag(opts.lag ?? DEFAULT_LAG);
  const verbose = opts.verbose ?? false;
  const log = opts.log ?? (() => undefined);
  const prefix = opts.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  if (opts.regionPorts !== undefined && opts.regionPorts.length !== regions.length) {
    throw new Error(
      `give one API port per region: ${regions.length} regions, ${opts.regionPorts.length} ports`,
    );
  }
  const java = checkJava();
  if (!java.ok) throw new Error(java.message);

  const onError = (message: string, err: unknown): void => {
    if (verbose) log(`${message}: ${describe(err)}`);
  };
  // A request that failed in the sandbox itself is a bug worth seeing, verbose or not.
  const onRequestError = (message: string, err: unknown): void =>
    log(`${message}: ${describe(err)}`);
  const mode = consistencyRuntime({
    mode: opts.consistency ?? "eventual",
    regions,
    witnessRegion: opts.witnessRegion,
    writeLatencyMs: opts.mrscWriteLatencyMs,
    quorum: opts.mrscQuorum,
    prefix,
    onError: onRequestError,
  });
  const replicated = mode.replicatedTables;
  const replicator = new Replicator({ regions, tables: replicated, lag, onError });
  // Compensation is eventual mode's: in strong mode no two regions can sell one product.
  const reconciler =
    opts.reconcile === false || !RECONCILER.modes.includes(mode.mode)
      ? undefined
      : new SandboxReconciler({ onError });
  const runtimes = new Map<string, RegionRuntime>();
  const allPids: number[] = [];
  let endpoint: GlobalEndpoint | undefined;
  let tables: Record<TableKey, string> | undefined;

  const rt = (region: string): RegionRuntime => {
    const r = runtimes.get(region);
    if (!r) throw new Error(`unknown region ${region}; regions: ${regions.join(", ")}`);
    return r;
  };

  async function startDb(r: RegionRuntime): Promise<boolean> {
    const db = await startRegionDb({
      ...(r.dbPort !== undefined ? { port: r.dbPort } : {}),
      ...(opts.dataDir !== undefined ? { dataDir: `${opts.dataDir}/${r.name}` } : {}),
    });
    allPids.push(db.pid);
    r.db = db;
    r.dbPort = db.port;
    r.watchdog = watchJvm(db.pid);
    r.client = localClient(db.endpoint);
    const ensured = await ensureTables(r.client, prefix);
    tables = ensured.names;
    replicator.attach(r.name, dynamoRegionIO(r.client, ensured.names));
    mode.attach(r.name, db.endpoint, r.client, ensured.names);
    return ensured.created;
  }

  async function openStreams(r: RegionRuntime): Promise<void> {
    const db = r.db as DynamoLocal;
    const names = tables as Record<TableKey, string>;
    r.pollers = await Promise.all(
      replicated.map((table) =>
        startStreamPoller({
          endpoint: db.endpoint,
          tableName: names[table],
          pollMs,
          onRecords: (records, at) => replicator.ingest(r.name, table, records, at),
          onError,
        }),
      ),
    );
    await reconciler?.attach(
      r.name,
      db.endpoint,
      depsFromEnv(regionEnv(r.name, db.endpoint, names, verbose)),
    );
  }

  /**
   * Stops a region's database. `drain`: read its streams to the end first and keep sending what
   * it wrote (a database outage); otherwise what it wrote and nobody has yet is lost (region loss).
   */
  async function stopDb(r: RegionRuntime, drain = false): Promise<void> {
    await reconciler?.detach(r.name);
    const pollers = r.pollers;
    r.pollers = [];
    await Promise.allSettled(pollers.map((p) => p.stop({ drain })));
    replicator.regionDown(r.name, { keepOutgoing: drain });
    mode.detach(r.name);
    r.client?.destroy();
    r.client = undefined;
    await r.db?.stop();
    r.db = undefined;
    r.watchdog?.stop();
    r.watchdog = undefined;
  }

  let closing = false;
  const stopAll = async (): Promise<void> => {
    closing = true;
    // Let a region stop/start in progress finish first, so no JVM starts after we looked.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...runtimes.values()].map((r) => r.busy)),
      new Promise((resolve) => (timer = setTimeout(resolve, 60_000))),
    ]);
    clearTimeout(timer);
    await endpoint?.stop().catch(() => undefined);
    await Promise.allSettled([...runtimes.values()].map((r) => r.server.stop()));
    await mode.stop();
    await replicator.stop();
    await Promise.allSettled([...runtimes.values()].map((r) => stopDb(r)));
  };

  try {
    log(`starting DynamoDB Local for ${regions.join(", ")} (Java ${java.major})`);
    await mode.start();
    for (const [i, name] of regions.entries()) {
      const port = opts.regionPorts?.[i];
      const r: RegionRuntime = {
        name,
        pollers: [],
        busy: Promise.resolve(),
        server: new RegionalServer({
          region: name,
          handler: (event) =>
            r.app ? r.app(event) : Promise.reject(new Error("region not ready")),
          ...(port !== undefined ? { port } : {}),
          onError: onRequestError,
        }),
      };
      runtimes.set(name, r);
    }
    const created = await Promise.all(regions.map((name) => startDb(rt(name))));
    log(`databases up after ${Date.now() - started} ms`);

    // A fresh sandbox starts with empty tables everywhere. Tables kept in a data directory may
    // differ if the last run stopped with changes in flight: the first region's copy wins.
    const first = rt(regions[0] as string);
    await openStreams(first);
    replicator.markUp(first.name);
    await mode.catchUp(first.name);
    for (const name of regions.slice(1)) {
      const r = rt(name);
      if (!created.every(Boolean)) {
        const { copied, deleted } = await replicator.reseed(name, first.name);
        if (copied + deleted > 0)
          log(`${name}: reconciled with ${first.name} (${copied} copied, ${deleted} removed)`);
      }
      await openStreams(r);
      replicator.markUp(name);
      const caught = await mode.catchUp(name);
      if (caught !== undefined && !created.every(Boolean)) log(caught);
    }

    const names = tables as unknown as Record<TableKey, string>;
    for (const name of regions) {
      const r = rt(name);
      const endpoint = mode.dynamoEndpoint(name, (r.db as DynamoLocal).endpoint);
      r.app = createApp(depsFromEnv(regionEnv(name, endpoint, names, verbose)));
      await r.server.start();
    }

    const hooks: SandboxHooks = {
      regionStatus: (region) => regionStatus(region),
      stopRegion: (region, part) => stopRegion(region, part),
      startRegion: (region, part) => startRegion(region, part),
      pauseReplication: (from, to) => replicator.pause(from, to),
      resumeReplication: (from, to) => replicator.resume(from, to),
      replication: (since = 0) => ({
        directions: replicator.stats(since),
        regions: replicator.regionStats(),
        backlog: replicator.backlog(),
        byTable: Object.fromEntries(
          Object.entries(replicator.lagSamples(since)).map(([t, v]) => [t, summarize(v)]),
        ),
        sinceMs: since,
      }),
      lag: () => replicator.lag,
      setLag: (l) => replicator.setLag(l),
      convergence: () => convergence(),
      scan: (region, table) => scan(region, table),
      repair: (names, dryRun) => repairAll(names, dryRun),
      consistency: () => mode.view(),
      setWitness: (up) => setWitness(up),
    };
    endpoint = new GlobalEndpoint({
      regions: regions.map((name) => ({ name, url: rt(name).server.url })),
      hooks,
      policy: opts.policy ?? "latency",
      ttlSeconds: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS,
      healthCheck: { ...DEFAULT_HEALTH_CHECK, ...opts.healthCheck },
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      onError: onRequestError,
    });
    await endpoint.start();
  } catch (err) {
    await stopAll();
    throw err;
  }

  const ep = endpoint;

  function regionStatus(region: string): RegionStatus {
    const r = rt(region);
    const since = Date.now() - 10_000;
    return {
      api: r.server.running,
      database: r.db !== undefined,
      ...(r.server.unavailable !== undefined ? { unavailable: r.server.unavailable } : {}),
      served: r.server.served,
      servedLast10s: r.server.recent.toArray().filter((q) => q.at >= since).length,
    };
  }

  function serialize<T>(r: RegionRuntime, fn: () => Promise<T>): Promise<T> {
    if (closing) return Promise.reject(new Error("the sandbox is stopping"));
    const run = r.busy.then(fn, fn);
    r.busy = run.catch(() => undefined);
    return run;
  }

  function stopRegion(region: string, part: RegionPart = "all"): Promise<void> {
    const r = rt(region);
    return serialize(r, async () => {
      if ((part === "api" || part === "all") && r.server.running) {
        await r.server.stop();
        ep.event("region", `${region}: API stopped`);
      }
      if (part === "database" && r.db) {
        await stopDatabaseOnly(r);
      } else if (part === "all" && r.db) {
        await stopDb(r);
        r.lost = true;
        ep.event(
          "region",
          `${region}: database stopped${opts.dataDir ? "" : " (its in-memory data is gone)"}`,
        );
      }
      void ep.checkAll();
    });
  }

  /**
   * A database outage: the region answers 503 (its /health too) from now until its data is back;
   * requests already inside a handler finish, and everything its stream holds is read, so every
   * write it acknowledged still reaches the other regions.
   */
  async function stopDatabaseOnly(r: RegionRuntime): Promise<void> {
    r.server.setUnavailable(
      `${r.name} is unavailable: its database is stopped; it serves again once its data is back`,
    );
    await withinMs(r.server.idle(), DRAIN_MS);
    await stopDb(r, true);
    ep.event(
      "region",
      `${r.name}: database stopped; what it wrote still replicates` +
        (opts.dataDir ? "" : " (its in-memory data is gone until the refill)"),
    );
  }

  function startRegion(region: string, part: RegionPart = "all"): Promise<void> {
    const r = rt(region);
    return serialize(r, async () => {
      if ((part === "database" || part === "all") && !r.db) {
        // A fresh JVM on a loaded machine can time out its first calls: one more try.
        await startDatabase(r).catch(() => startDatabase(r));
      }
      if ((part === "api" || part === "all") && !r.server.running) {
        await r.server.start();
        ep.event("region", `${region}: API started`);
      }
      void ep.checkAll();
    });
  }

  /** Starts a region's database and refills it from a running peer; it serves once that is done. */
  async function startDatabase(r: RegionRuntime): Promise<void> {
    const region = r.name;
    const t0 = performance.now();
    const source = regions.find((n) => n !== region && replicator.isUp(n));
    r.server.setUnavailable(
      `${region} is unavailable: its database is starting` +
        (source !== undefined ? ` and being refilled from ${source}` : ""),
    );
    try {
      await startDb(r);
      const dbMs = performance.now() - t0;
      let message = `${region}: database started (no running peer to refill from)`;
      if (source !== undefined) {
        const t1 = performance.now();
        // After a region loss its own unreplicated writes are gone everywhere: mirror the peer.
        // After a database outage they are still on their way out: refill, deleting nothing.
        const { copied, own, deleted } = r.lost
          ? { ...(await replicator.reseed(region, source)), own: 0 }
          : { ...(await replicator.refill(region, source)), deleted: 0 };
        r.lost = false;
        const refillMs = performance.now() - t1;
        message =
          `${region}: database back in ${seconds(performance.now() - t0)}: JVM and tables ` +
          `${seconds(dbMs)}, refill of ${copied} items from ${source} in ${seconds(refillMs)}` +
          (own > 0 ? `, ${own} of its own newer writes kept` : "") +
          (deleted > 0 ? `, ${deleted} removed` : "");
      }
      await openStreams(r);
      replicator.markUp(region);
      // Moves that came with the refill were never in its stream: settle the orders it sold.
      const swept = source !== undefined ? ((await reconciler?.sweep(region)) ?? 0) : 0;
      if (swept > 0)
        message += `; ${swept} of its orders cancelled (their products went to other orders)`;
      const caught = await mode.catchUp(region);
      if (caught !== undefined) message += `; ${caught}`;
      // Sales that died between claim and order: the repair step turns them into orders. Its
      // failure is reported, not a reason to keep the region down (a read or a rerun repairs).
      message += await repair(region).then(repairPhrase, (err: unknown) => {
        return `; repair failed (${describe(err)}): run POST /control/repair`;
      });
      r.server.setUnavailable(undefined);
      ep.event("region", message);
      log(message);
    } catch (err) {
      // Not back: keep answering 503, with why, and leave the database stopped to start again.
      const why = `${region} is unavailable: starting its database failed (${describe(err)}); start it again`;
      r.server.setUnavailable(why);
      ep.event("region", why);
      await stopDb(r, true).catch(() => undefined);
      throw err;
    }
  }

  /** The repair step over a running region's tables, through what its handlers use. */
  async function repair(region: string, dryRun = false): Promise<RepairCounts> {
    const db = rt(region).db;
    if (!db || !tables) throw new Error(`${region}: the database is stopped`);
    return repairRegion(region, mode.dynamoEndpoint(region, db.endpoint), tables, { dryRun });
  }

  /** `repair` in each of `names` (default: every region whose database runs), one at a time. */
  async function repairAll(
    names?: readonly string[],
    dryRun = false,
  ): Promise<Record<string, RepairCounts>> {
    const out: Record<string, RepairCounts> = {};
    for (const name of names ?? regions.filter((n) => rt(n).db !== undefined))
      out[name] = await repair(name, dryRun);
    return out;
  }

  function setWitness(up: boolean): void {
    mode.setWitness(up);
    const witness = mode.coordinator?.topology.witness ?? "";
    endpoint?.event("region", `witness ${witness}: ${up ? "back" : "lost"}`);
  }

  async function scanImages(region: string, table: TableKey): Promise<Image[]> {
    const r = rt(region);
    if (!r.client || !tables) throw new Error(`${region}: the database is stopped`);
    return dynamoRegionIO(r.client, tables).table(table).scan();
  }

  async function scan(region: string, table: TableKey): Promise<Record<string, unknown>[]> {
    return (await scanImages(region, table)).map((i) => unmarshall(i));
  }

  async function convergence(): Promise<Convergence> {
    const running = regions.filter((n) => rt(n).db !== undefined);
    const differences: {
      table: string;
      region: string;
      missing: number;
      extra: number;
      differing: number;
    }[] = [];
    const [reference, ...others] = running;
    if (reference !== undefined) {
      for (const table of TABLE_KEYS) {
        const byKey = async (region: string): Promise<Map<string, string>> =>
          new Map(
            (await scanImages(region, table)).map((i) => [
              fingerprint(keyOf(table, i)),
              fingerprint(i),
            ]),
          );
        const ref = await byKey(reference);
        for (const other of others) {
          const got = await byKey(other);
          let missing = 0;
          let differing = 0;
          for (const [k, fp] of ref) {
            const g = got.get(k);
            if (g === undefined) missing++;
            else if (g !== fp) differing++;
          }
          const extra = [...got.keys()].filter((k) => !ref.has(k)).length;
          if (missing + extra + differing > 0)
            differences.push({ table, region: other, missing, extra, differing });
        }
      }
    }
    return { backlog: replicator.backlog(), identical: differences.length === 0, differences };
  }

  let stopping: Promise<void> | undefined;
  const urls: SandboxUrls = {
    global: ep.url,
    status: `${ep.url}/`,
    control: `${ep.url}/control`,
    regions: Object.fromEntries(regions.map((n) => [n, rt(n).server.url])),
  };
  return {
    urls,
    regions,
    tables: tables as unknown as Record<TableKey, string>,
    endpoint: ep,
    replicator,
    reconciler,
    consistency: mode.mode,
    mrsc: mode.coordinator,
    consistencyView: () => mode.view(),
    setWitness,
    dynamoEndpoint: (region) => {
      const db = rt(region).db;
      if (!db && mode.mode === "eventual") throw new Error(`${region}: the database is stopped`);
      return mode.dynamoEndpoint(region, db?.endpoint ?? "");
    },
    startupMs: Date.now() - started,
    stopRegion,
    startRegion,
    regionStatus,
    scan,
    repair: (names, dryRun) => repairAll(names, dryRun),
    convergence,
    jvmPids: () => [...allPids],
    stop: () => (stopping ??= stopAll()),
  };
}
