/**
 * The sandbox's stand-in for DynamoDB global tables replication.
 *
 * Every region's stream records come in through `ingest`, in stream order. A record is either a
 * client's write in that region (a *local* change) or the echo of a write this replicator made
 * there. Local changes get a version (change time, origin region) and are queued for every other
 * region; each queue (origin -> target, per table) delays a change by a lag drawn from the
 * configured range, keeps the origin's order of the changes to any one item (changes to
 * different items are independent, each with its own lag), and can be paused. Applying a change to a target
 * is a PutItem or DeleteItem, one item at a time, last writer wins by version.
 *
 * No echo, no bookkeeping attributes: before writing to a target the replicator remembers the
 * fingerprint (the exact content) it is about to write for that key; the target's stream record
 * with that content is recognised as the echo and not replicated again. Items returned by the API
 * therefore carry only the service's own attributes. A write that changes nothing produces no
 * stream record (on AWS and in DynamoDB Local), which `ReturnValues: ALL_OLD` reveals, so no
 * expectation is left waiting for it.
 *
 * Last writer wins without a version attribute: the replicator knows, per region and key, the
 * version of the content it last saw there (from the stream, or from its own writes). A change
 * older than that is skipped. A client write the replicator had not seen yet when it wrote over
 * it shows up in the target's stream *before* the echo; the replicator then puts the newer
 * content back (a "repair") and that newer write still reaches every other region, so all
 * regions converge on the newest version.
 *
 * I/O is behind `RegionIO` (DynamoDB Local in the sandbox, an in-memory fake in the tests).
 *
 * This class routes changes: ingest, queues per direction, delivery and the region lifecycle.
 * Its parts are in local/replicator/: the I/O contract (region-io.ts), what it keeps per region
 * and direction (state.ts, due-queue.ts), applying a change to a peer (apply.ts), filling a
 * region from a peer (refill.ts), pause controls (partitions.ts) and what it reports (metrics.ts).
 */
import type { TableKey } from "../functions/tables";
import { compareVersions, fingerprint, sampleLag, type LagRange } from "./replication-model";
import { applyOnce, runOnKey } from "./replicator/apply";
import type { QueuedChange } from "./replicator/due-queue";
import {
  directionStats,
  lagSamples,
  lagSeries,
  recordApplied,
  type DirectionStats,
  type RegionReplicationStats,
} from "./replicator/metrics";
import { Partitions } from "./replicator/partitions";
import { outstandingFrom, refillTable, reseedTable } from "./replicator/refill";
import type { ChangeRecord, RegionIO } from "./replicator/region-io";
import {
  dirId,
  highWaterOf,
  knownOf,
  newDirection,
  newRegionState,
  pendingOf,
  sleep,
  type Change,
  type Direction,
  type Expectation,
  type RegionState,
} from "./replicator/state";

export interface ReplicatorOptions {
  readonly regions: readonly string[];
  readonly tables: readonly TableKey[];
  readonly lag: LagRange;
  /** Changes applied at once per direction and table (still one at a time per item). @default 16 */
  readonly concurrency?: number;
  /** Lag samples kept per direction and table. @default 20000 */
  readonly keepSamples?: number;
  /** Called on failures worth logging (a target that refuses writes, ...). */
  readonly onError?: (message: string, err: unknown) => void;
  readonly random?: () => number;
}

const RETRY_MS = 250;

export class Replicator {
  readonly regions: readonly string[];
  readonly tables: readonly TableKey[];
  private lagRange: LagRange;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly onError: (message: string, err: unknown) => void;
  private readonly state = new Map<string, RegionState>();
  private readonly directions = new Map<string, Direction>();
  private readonly partitions: Partitions;
  private stopped = false;

  constructor(opts: ReplicatorOptions) {
    if (new Set(opts.regions).size !== opts.regions.length || opts.regions.length < 2) {
      throw new Error(
        `replication needs at least 2 distinct regions: got ${opts.regions.join(", ")}`,
      );
    }
    this.regions = [...opts.regions];
    this.tables = [...opts.tables];
    this.lagRange = opts.lag;
    this.concurrency = opts.concurrency ?? 16;
    const keepSamples = opts.keepSamples ?? 20_000;
    this.random = opts.random ?? Math.random;
    this.onError = opts.onError ?? (() => undefined);
    this.partitions = new Partitions(this.regions);
    for (const region of this.regions) {
      this.state.set(region, newRegionState(this.tables));
      for (const to of this.regions) {
        if (to === region) continue;
        for (const table of this.tables) {
          this.directions.set(
            dirId(region, to, table),
            newDirection(region, to, table, keepSamples),
          );
        }
      }
    }
  }

  get lag(): LagRange {
    return this.lagRange;
  }

  /** Changes the lag drawn for changes queued from now on. */
  setLag(lag: LagRange): void {
    this.lagRange = lag;
  }

  /** Connects a region's storage; the region stays down until `markUp`. */
  attach(region: string, io: RegionIO): void {
    this.region(region).io = io;
  }

  isUp(region: string): boolean {
    return this.region(region).up;
  }

  /**
   * Takes the stream records a region's poller read, in stream order, at `observedAt` (epoch ms;
   * also the change time of local changes, see local/streams.ts).
   */
  ingest(
    region: string,
    table: TableKey,
    records: readonly ChangeRecord[],
    observedAt: number,
  ): void {
    const r = this.region(region);
    if (!r.up || this.stopped) return;
    const known = knownOf(r, table);
    const pending = pendingOf(r, table);
    const highWater = highWaterOf(r, table);
    for (const rec of records) {
      const keyId = fingerprint(rec.keys);
      const fp = fingerprint(rec.newImage);
      const prev = known.get(keyId);
      const list = pending.get(keyId);
      const idx = list?.findIndex((e) => e.fp === fp) ?? -1;
      if (list && idx >= 0) {
        const [echo] = list.splice(idx, 1) as [Expectation];
        if (list.length === 0) pending.delete(keyId);
        r.echoes++;
        known.set(keyId, { version: echo.version, fp, image: rec.newImage });
        if (prev && prev.fp !== fp && compareVersions(prev.version, echo.version) > 0) {
          // Our write landed on top of a newer client write: put the newer content back.
          r.repairs++;
          this.deliverOnKey(region, {
            table,
            keyId,
            keys: rec.keys,
            image: prev.image,
            fp: prev.fp,
            version: prev.version,
          });
        }
        continue;
      }
      // A client's write in this region: newer than anything this item held here before, even
      // when several writes to it arrive in one batch.
      const version = {
        ts: Math.max(observedAt, (highWater.get(keyId) ?? -1) + 1),
        origin: region,
      };
      highWater.set(keyId, version.ts);
      known.set(keyId, { version, fp, image: rec.newImage });
      const change: Change = { table, keyId, keys: rec.keys, image: rec.newImage, fp, version };
      for (const to of this.regions) if (to !== region) this.enqueue(region, to, change);
    }
  }

  /** Pauses replication from `from` to `to` (either omitted: every region on that side). */
  pause(from?: string, to?: string): void {
    this.partitions.pause(from, to);
  }

  resume(from?: string, to?: string): void {
    this.partitions.resume(from, to);
    this.pumpAll();
  }

  isPaused(from: string, to: string): boolean {
    return this.partitions.isPaused(from, to);
  }

  /**
   * The region's storage is gone. Changes for it wait. With `keepOutgoing` (its database stopped
   * after its stream was read to the end) the changes it made keep flowing to the other regions;
   * without (the region is lost), those not applied elsewhere yet are dropped: they never left.
   */
  regionDown(region: string, opts: { keepOutgoing?: boolean } = {}): void {
    const r = this.region(region);
    r.up = false;
    for (const t of this.tables) {
      knownOf(r, t).clear();
      pendingOf(r, t).clear();
      highWaterOf(r, t).clear();
    }
    if (opts.keepOutgoing) return;
    for (const d of this.directions.values()) {
      if (d.from !== region) continue;
      d.dropped += d.queue.size;
      d.queue.clear();
      d.lastDue.clear();
      clearTimeout(d.timer);
      d.timer = undefined;
    }
  }

  /**
   * Refills `region` (down, its storage attached, empty or holding what it had at its stop) from
   * `source`, the way a replica is refilled: every item of `source` in batches from parallel scan
   * segments, except where a change `region` made itself is newer and still on its way out; that
   * change is written instead. Deletes nothing: a delete made elsewhere reaches `region` through
   * its queue, and an item only `region` holds may be its own write the peers have not seen yet.
   * Call before the region's stream is read; `markUp` afterwards.
   */
  async refill(
    region: string,
    source: string,
    opts: { segments?: number } = {},
  ): Promise<{ copied: number; own: number }> {
    const target = this.region(region);
    const src = this.region(source);
    if (target.up) throw new Error(`refill ${region}: the region must be down`);
    if (!src.up || !src.io) throw new Error(`refill ${region} from ${source}: ${source} is not up`);
    if (!target.io) throw new Error(`refill ${region}: no storage attached`);
    // Table after table: the segments of one already keep a freshly started engine busy.
    const counts: { copied: number; own: number }[] = [];
    for (const table of this.tables) {
      const own = outstandingFrom(this.directions.values(), region, table);
      counts.push(await refillTable(table, target, src, source, own, opts.segments ?? 4));
    }
    return {
      copied: counts.reduce((n, c) => n + c.copied, 0),
      own: counts.reduce((n, c) => n + c.own, 0),
    };
  }

  /**
   * Makes `region` identical to `source`, table by table (the way a new replica is filled), and
   * takes over what the replicator knows of `source`'s versions. Call while `region` is down and
   * before its stream is read; `markUp` afterwards. Writes `region` made and never replicated are
   * gone afterwards, as they are on AWS when a region's data is lost.
   */
  async reseed(region: string, source: string): Promise<{ copied: number; deleted: number }> {
    const target = this.region(region);
    const src = this.region(source);
    if (target.up) throw new Error(`reseed ${region}: the region must be down`);
    if (!src.up || !src.io) throw new Error(`reseed ${region} from ${source}: ${source} is not up`);
    if (!target.io) throw new Error(`reseed ${region}: no storage attached`);
    let copied = 0;
    let deleted = 0;
    for (const table of this.tables) {
      const done = await reseedTable(table, target, src, source);
      copied += done.copied;
      deleted += done.deleted;
    }
    return { copied, deleted };
  }

  /** The region's storage and stream are ready: apply what waits for it and read its changes. */
  markUp(region: string): void {
    const r = this.region(region);
    if (!r.io) throw new Error(`region ${region} has no storage attached`);
    r.up = true;
    const waiters = r.waiters;
    r.waiters = [];
    for (const w of waiters) w();
    this.pumpAll();
  }

  stats(sinceMs = 0): DirectionStats[] {
    const now = Date.now();
    return [...this.directions.values()].map((d) =>
      directionStats(d, this.isPaused(d.from, d.to), sinceMs, now),
    );
  }

  /** Lag samples (ms) of changes applied since `sinceMs`, per table, every direction together. */
  lagSamples(sinceMs = 0): Record<string, number[]> {
    return lagSamples(this.directions.values(), sinceMs);
  }

  /**
   * Lag samples (when applied, ms) per direction and table, of changes applied since `sinceMs`:
   * what a CloudWatch ReplicationLatency series is built from (the CloudWatch stand-in).
   */
  lagSeries(
    sinceMs = 0,
  ): { from: string; to: string; table: TableKey; samples: { at: number; ms: number }[] }[] {
    return lagSeries(this.directions.values(), sinceMs);
  }

  regionStats(): RegionReplicationStats[] {
    return this.regions.map((region) => {
      const r = this.region(region);
      return { region, up: r.up, echoesSkipped: r.echoes, repairs: r.repairs };
    });
  }

  /** Changes waiting for a region that is up, on a direction not paused. */
  backlog(): number {
    let n = 0;
    // A region whose database stopped still sends what it wrote before the stop.
    for (const d of this.directions.values()) {
      if (this.region(d.to).up && !this.isPaused(d.from, d.to)) n += d.queue.size + d.inflight;
    }
    for (const region of this.regions) {
      const r = this.region(region);
      if (r.up) n += r.chains.size;
    }
    return n;
  }

  /** Resolves once `backlog()` is 0, or rejects after `timeoutMs`. */
  async waitIdle(timeoutMs: number, pollMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.backlog() > 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `replication still has ${this.backlog()} changes in flight after ${timeoutMs} ms`,
        );
      }
      await sleep(pollMs);
    }
  }

  /** Stops applying; waits (briefly) for writes already sent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.directions.values()) clearTimeout(d.timer);
    for (const region of this.regions) {
      const r = this.region(region);
      for (const w of r.waiters) w();
      r.waiters = [];
    }
    const chains = this.regions.flatMap((region) => [...this.region(region).chains.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(chains),
      new Promise((resolve) => (timer = setTimeout(resolve, 2_000))),
    ]);
    clearTimeout(timer);
  }

  private region(region: string): RegionState {
    const r = this.state.get(region);
    if (!r) throw new Error(`unknown region ${region}; known: ${this.regions.join(", ")}`);
    return r;
  }

  private enqueue(from: string, to: string, change: Change): void {
    const d = this.directions.get(dirId(from, to, change.table));
    if (!d) return;
    // A later change to the same item never overtakes an earlier one.
    const due = Math.max(
      change.version.ts + sampleLag(this.lagRange, this.random),
      d.lastDue.get(change.keyId) ?? 0,
    );
    d.lastDue.set(change.keyId, due);
    d.queue.push(change, due);
    this.pump(d);
  }

  private pumpAll(): void {
    for (const d of this.directions.values()) this.pump(d);
  }

  private pump(d: Direction): void {
    if (this.stopped) return;
    clearTimeout(d.timer);
    d.timer = undefined;
    while (d.queue.size > 0 && d.inflight < this.concurrency) {
      if (this.isPaused(d.from, d.to) || !this.region(d.to).up) return;
      const head = d.queue.peek() as QueuedChange;
      const wait = head.due - Date.now();
      if (wait > 0) {
        d.timer = setTimeout(() => this.pump(d), wait);
        return;
      }
      d.queue.pop();
      if (d.lastDue.get(head.change.keyId) === head.due) d.lastDue.delete(head.change.keyId);
      d.inflight++;
      d.inflightChanges.add(head.change);
      void runOnKey(this.region(d.to), head.change, () => this.deliver(d.to, head.change)).then(
        (result) => {
          d.inflight--;
          d.inflightChanges.delete(head.change);
          if (result === "applied") {
            recordApplied(d, head.change.version.ts);
          } else if (result === "skipped") {
            d.skipped++;
          }
          this.pump(d);
        },
      );
    }
  }

  private deliverOnKey(region: string, change: Change): void {
    void runOnKey(this.region(region), change, () => this.deliver(region, change));
  }

  /** Applies `change` to `region`, waiting while the region is down and retrying failures. */
  private async deliver(
    region: string,
    change: Change,
  ): Promise<"applied" | "skipped" | "abandoned"> {
    for (;;) {
      if (this.stopped) return "abandoned";
      const r = this.region(region);
      if (!r.up) {
        await new Promise<void>((resolve) => r.waiters.push(resolve));
        continue;
      }
      try {
        return await applyOnce(r, change);
      } catch (err) {
        if (this.stopped) return "abandoned";
        this.onError(`replicating ${change.table} to ${region} failed; retrying`, err);
        await sleep(RETRY_MS);
      }
    }
  }
}
