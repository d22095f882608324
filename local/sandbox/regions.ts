/**
 * The sandbox's regions by name, and what the control API does to them: stop a region (its API,
 * its database, or both, a region loss) and start it again, refilled from a running peer and
 * repaired before it serves. Stops and starts of one region run one at a time.
 */
import type { RepairCounts } from "../../functions/data/repair";
import type { GlobalEndpoint } from "../global-endpoint";
import type { RegionPart } from "../global-endpoint/sandbox-hooks";
import { repairPhrase, repairRegion } from "../sale-repair";
import { RegionRuntime, describe, type RegionWiring } from "./region-runtime";

/** Longest a database stop waits for requests already in a handler. */
const DRAIN_MS = 10_000;
/** Longest `close` waits for a region stop or start in progress. */
const CLOSE_WAIT_MS = 60_000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Resolves when `p` does or after `ms`, whichever is first. */
export async function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Every region of one sandbox by name, with the control API's stop and start of each. */
export class SandboxRegions {
  private readonly runtimes = new Map<string, RegionRuntime>();
  private closing = false;
  /** Where region events go once the global endpoint runs. */
  endpoint?: GlobalEndpoint | undefined;

  /** One runtime per region, not started; `ports`: one API port per region, in order. */
  constructor(
    private readonly wiring: RegionWiring,
    ports?: readonly number[],
  ) {
    for (const [i, name] of wiring.regions.entries()) {
      this.runtimes.set(name, new RegionRuntime(name, wiring, ports?.[i]));
    }
  }

  get(region: string): RegionRuntime {
    const r = this.runtimes.get(region);
    if (!r) throw new Error(`unknown region ${region}; regions: ${this.wiring.regions.join(", ")}`);
    return r;
  }

  all(): RegionRuntime[] {
    return [...this.runtimes.values()];
  }

  /** Refuses stops and starts from now on, and waits (bounded) for one in progress to finish. */
  async close(): Promise<void> {
    this.closing = true;
    // Let a region stop/start in progress finish first, so no JVM starts after we looked.
    await withinMs(Promise.allSettled(this.all().map((r) => r.busy)), CLOSE_WAIT_MS);
  }

  private serialize<T>(r: RegionRuntime, fn: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error("the sandbox is stopping"));
    const run = r.busy.then(fn, fn);
    r.busy = run.catch(() => undefined);
    return run;
  }

  stopRegion(region: string, part: RegionPart = "all"): Promise<void> {
    const r = this.get(region);
    return this.serialize(r, async () => {
      if ((part === "api" || part === "all") && r.server.running) {
        await r.server.stop();
        this.endpoint?.event("region", `${region}: API stopped`);
      }
      if (part === "database" && r.db) {
        await this.stopDatabaseOnly(r);
      } else if (part === "all" && r.db) {
        await r.stopDb();
        r.lost = true;
        this.endpoint?.event(
          "region",
          `${region}: database stopped${this.wiring.dataDir ? "" : " (its in-memory data is gone)"}`,
        );
      }
      void this.endpoint?.checkAll();
    });
  }

  /**
   * A database outage: the region answers 503 (its /health too) from now until its data is back;
   * requests already inside a handler finish, and everything its stream holds is read, so every
   * write it acknowledged still reaches the other regions.
   */
  private async stopDatabaseOnly(r: RegionRuntime): Promise<void> {
    r.server.setUnavailable(
      `${r.name} is unavailable: its database is stopped; it serves again once its data is back`,
    );
    await withinMs(r.server.idle(), DRAIN_MS);
    await r.stopDb(true);
    this.endpoint?.event(
      "region",
      `${r.name}: database stopped; what it wrote still replicates` +
        (this.wiring.dataDir ? "" : " (its in-memory data is gone until the refill)"),
    );
  }

  startRegion(region: string, part: RegionPart = "all"): Promise<void> {
    const r = this.get(region);
    return this.serialize(r, async () => {
      if ((part === "database" || part === "all") && !r.db) {
        // A fresh JVM on a loaded machine can time out its first calls: one more try.
        await this.startDatabase(r).catch(() => this.startDatabase(r));
      }
      if ((part === "api" || part === "all") && !r.server.running) {
        await r.server.start();
        this.endpoint?.event("region", `${region}: API started`);
      }
      void this.endpoint?.checkAll();
    });
  }

  /** Starts a region's database and refills it from a running peer; it serves once that is done. */
  private async startDatabase(r: RegionRuntime): Promise<void> {
    const { replicator, reconciler, mode } = this.wiring;
    const region = r.name;
    const t0 = performance.now();
    const source = this.wiring.regions.find((n) => n !== region && replicator.isUp(n));
    r.server.setUnavailable(
      `${region} is unavailable: its database is starting` +
        (source !== undefined ? ` and being refilled from ${source}` : ""),
    );
    try {
      await r.startDb();
      const dbMs = performance.now() - t0;
      let message = `${region}: database started (no running peer to refill from)`;
      if (source !== undefined) message = await this.refillFrom(r, source, t0, dbMs);
      await r.openStreams();
      replicator.markUp(region);
      // Moves that came with the refill were never in its stream: settle the orders it sold.
      const swept = source !== undefined ? ((await reconciler?.sweep(region)) ?? 0) : 0;
      if (swept > 0)
        message += `; ${swept} of its orders cancelled (their products went to other orders)`;
      const caught = await mode.catchUp(region);
      if (caught !== undefined) message += `; ${caught}`;
      // Sales that died between claim and order: the repair step turns them into orders. Its
      // failure is reported, not a reason to keep the region down (a read or a rerun repairs).
      message += await this.repair(region).then(repairPhrase, (err: unknown) => {
        return `; repair failed (${describe(err)}): run POST /control/repair`;
      });
      r.server.setUnavailable(undefined);
      this.endpoint?.event("region", message);
      this.wiring.log(message);
    } catch (err) {
      // Not back: keep answering 503, with why, and leave the database stopped to start again.
      const why = `${region} is unavailable: starting its database failed (${describe(err)}); start it again`;
      r.server.setUnavailable(why);
      this.endpoint?.event("region", why);
      await r.stopDb(true).catch(() => undefined);
      throw err;
    }
  }

  /** Refills a region whose database just started from `source`; the line that says how it went. */
  private async refillFrom(
    r: RegionRuntime,
    source: string,
    t0: number,
    dbMs: number,
  ): Promise<string> {
    const { replicator } = this.wiring;
    const region = r.name;
    const t1 = performance.now();
    // After a region loss its own unreplicated writes are gone everywhere: mirror the peer.
    // After a database outage they are still on their way out: refill, deleting nothing.
    const { copied, own, deleted } = r.lost
      ? { ...(await replicator.reseed(region, source)), own: 0 }
      : { ...(await replicator.refill(region, source)), deleted: 0 };
    r.lost = false;
    const refillMs = performance.now() - t1;
    return (
      `${region}: database back in ${seconds(performance.now() - t0)}: JVM and tables ` +
      `${seconds(dbMs)}, refill of ${copied} items from ${source} in ${seconds(refillMs)}` +
      (own > 0 ? `, ${own} of its own newer writes kept` : "") +
      (deleted > 0 ? `, ${deleted} removed` : "")
    );
  }

  /** The repair step over a running region's tables, through what its handlers use. */
  async repair(region: string, dryRun = false): Promise<RepairCounts> {
    const db = this.get(region).db;
    const tables = this.wiring.tables;
    if (!db || !tables) throw new Error(`${region}: the database is stopped`);
    return repairRegion(region, this.wiring.mode.dynamoEndpoint(region, db.endpoint), tables, {
      dryRun,
    });
  }

  /** `repair` in each of `names` (default: every region whose database runs), one at a time. */
  async repairAll(
    names?: readonly string[],
    dryRun = false,
  ): Promise<Record<string, RepairCounts>> {
    const out: Record<string, RepairCounts> = {};
    for (const name of names ?? this.wiring.regions.filter((n) => this.get(n).db !== undefined))
      out[name] = await this.repair(name, dryRun);
    return out;
  }
}
