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
 *
 * This module starts and stops the whole: DynamoDB Local and the tables of every region, their
 * ports, the replicator, the consistency mode and the global endpoint, wired together in order
 * and stopped in reverse order, pass or fail. One region's runtime (its server, functions and
 * stream consumers) is local/sandbox/region-runtime.ts; stopping and starting a region is
 * local/sandbox/regions.ts; comparing the regions' tables is local/sandbox/convergence.ts.
 */
import { REGION_PATTERN } from "resilient-dynamo/regions";
import type { RepairCounts } from "../functions/data/repair";
import { RECONCILER } from "../functions/stream-functions";
import type { ConsistencyMode, TableKey } from "../functions/tables";
import { checkJava } from "./dynamo";
import { GlobalEndpoint } from "./global-endpoint";
import type {
  Convergence,
  RegionPart,
  RegionStatus,
  SandboxHooks,
} from "./global-endpoint/sandbox-hooks";
import type { MrscCoordinator } from "./mrsc/coordinator";
import { consistencyRuntime, type ConsistencyView } from "./mrsc/mode";
import { SandboxReconciler } from "./reconciler";
import { DEFAULT_LAG, checkLag, type LagRange } from "./replication-model";
import { Replicator } from "./replicator";
import {
  DEFAULT_HEALTH_CHECK,
  DEFAULT_TTL_SECONDS,
  type HealthCheckSettings,
  type RoutingPolicy,
} from "./routing";
import { convergence, scanItems } from "./sandbox/convergence";
import { describe, type RegionWiring } from "./sandbox/region-runtime";
import { SandboxRegions } from "./sandbox/regions";
import { summarize } from "./stats";
import { DEFAULT_POLL_MS } from "./streams";

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

/**
 * The options checked (regions, lag, ports, Java, the consistency mode's own checks, in that
 * order) and the pieces that span regions built from them, nothing started yet.
 */
function wire(opts: SandboxOptions): RegionWiring & { readonly javaMajor: number | undefined } {
  const regions = checkRegions(opts.regions ?? DEFAULT_REGIONS);
  const lag = checkLag(opts.lag ?? DEFAULT_LAG);
  const verbose = opts.verbose ?? false;
  const log = opts.log ?? (() => undefined);
  const prefix = opts.tablePrefix ?? DEFAULT_TABLE_PREFIX;
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
  const replicator = new Replicator({ regions, tables: mode.replicatedTables, lag, onError });
  // Compensation is eventual mode's: in strong mode no two regions can sell one product.
  const reconciler =
    opts.reconcile === false || !RECONCILER.modes.includes(mode.mode)
      ? undefined
      : new SandboxReconciler({ onError });
  return {
    javaMajor: java.major,
    regions,
    prefix,
    pollMs: opts.pollMs ?? DEFAULT_POLL_MS,
    verbose,
    dataDir: opts.dataDir,
    replicator,
    mode,
    reconciler,
    onError,
    onRequestError,
    log,
    pids: [],
  };
}

/**
 * Starts every region's database, then reads their streams and serves their APIs. A fresh
 * sandbox starts with empty tables everywhere. Tables kept in a data directory may differ if the
 * last run stopped with changes in flight: the first region's copy wins.
 */
async function startRegions(
  regions: SandboxRegions,
  w: RegionWiring,
  started: number,
): Promise<void> {
  const created = await Promise.all(w.regions.map((name) => regions.get(name).startDb()));
  w.log(`databases up after ${Date.now() - started} ms`);
  const fresh = created.every(Boolean);
  const first = regions.get(w.regions[0] as string);
  await first.openStreams();
  w.replicator.markUp(first.name);
  await w.mode.catchUp(first.name);
  for (const name of w.regions.slice(1)) {
    if (!fresh) {
      const { copied, deleted } = await w.replicator.reseed(name, first.name);
      if (copied + deleted > 0)
        w.log(`${name}: reconciled with ${first.name} (${copied} copied, ${deleted} removed)`);
    }
    await regions.get(name).openStreams();
    w.replicator.markUp(name);
    const caught = await w.mode.catchUp(name);
    if (caught !== undefined && !fresh) w.log(caught);
  }
  for (const name of w.regions) await regions.get(name).serve();
}

/** What the global endpoint's control API may do to this sandbox. */
function endpointHooks(regions: SandboxRegions, w: RegionWiring): SandboxHooks {
  const { replicator, mode } = w;
  return {
    regionStatus: (region) => regions.get(region).status(),
    stopRegion: (region, part) => regions.stopRegion(region, part),
    startRegion: (region, part) => regions.startRegion(region, part),
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
    convergence: () => convergence(regions.all(), () => replicator.backlog()),
    scan: (region, table) => scanItems(regions.get(region), table),
    repair: (names, dryRun) => regions.repairAll(names, dryRun),
    consistency: () => mode.view(),
    setWitness: (up) => setWitness(regions, w, up),
  };
}

function setWitness(regions: SandboxRegions, w: RegionWiring, up: boolean): void {
  w.mode.setWitness(up);
  const witness = w.mode.coordinator?.topology.witness ?? "";
  regions.endpoint?.event("region", `witness ${witness}: ${up ? "back" : "lost"}`);
}

/** Starts a whole sandbox; on failure stops whatever it had started and rethrows. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const started = Date.now();
  const w = wire(opts);
  const { replicator, mode } = w;
  const regions = new SandboxRegions(w, opts.regionPorts);
  let endpoint: GlobalEndpoint | undefined;

  // Everything in reverse order of its start: the endpoint, the APIs, the strong mode's
  // coordinator, replication, and last the databases.
  const stopAll = async (): Promise<void> => {
    await regions.close();
    await endpoint?.stop().catch(() => undefined);
    await Promise.allSettled(regions.all().map((r) => r.server.stop()));
    await mode.stop();
    await replicator.stop();
    await Promise.allSettled(regions.all().map((r) => r.stopDb()));
  };

  try {
    w.log(`starting DynamoDB Local for ${w.regions.join(", ")} (Java ${w.javaMajor})`);
    await mode.start();
    await startRegions(regions, w, started);
    endpoint = new GlobalEndpoint({
      regions: regions.all().map((r) => ({ name: r.name, url: r.server.url })),
      hooks: endpointHooks(regions, w),
      policy: opts.policy ?? "latency",
      ttlSeconds: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS,
      healthCheck: { ...DEFAULT_HEALTH_CHECK, ...opts.healthCheck },
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      onError: w.onRequestError,
    });
    regions.endpoint = endpoint;
    await endpoint.start();
  } catch (err) {
    await stopAll();
    throw err;
  }

  const ep = endpoint;
  let stopping: Promise<void> | undefined;
  return {
    urls: {
      global: ep.url,
      status: `${ep.url}/`,
      control: `${ep.url}/control`,
      regions: Object.fromEntries(regions.all().map((r) => [r.name, r.server.url])),
    },
    regions: w.regions,
    tables: w.tables as Record<TableKey, string>,
    endpoint: ep,
    replicator,
    reconciler: w.reconciler,
    consistency: mode.mode,
    mrsc: mode.coordinator,
    consistencyView: () => mode.view(),
    setWitness: (up) => setWitness(regions, w, up),
    dynamoEndpoint: (region) => {
      const db = regions.get(region).db;
      if (!db && mode.mode === "eventual") throw new Error(`${region}: the database is stopped`);
      return mode.dynamoEndpoint(region, db?.endpoint ?? "");
    },
    startupMs: Date.now() - started,
    stopRegion: (region, part) => regions.stopRegion(region, part),
    startRegion: (region, part) => regions.startRegion(region, part),
    regionStatus: (region) => regions.get(region).status(),
    scan: (region, table) => scanItems(regions.get(region), table),
    repair: (names, dryRun) => regions.repairAll(names, dryRun),
    convergence: () => convergence(regions.all(), () => replicator.backlog()),
    jvmPids: () => [...w.pids],
    stop: () => (stopping ??= stopAll()),
  };
}
