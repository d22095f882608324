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
 */
import { tableSpec, type TableKey } from "../functions/tables";
import {
  compareVersions,
  fingerprint,
  newest,
  sampleLag,
  type Image,
  type LagRange,
  type Version,
} from "./replication-model";
import { Ring, summarize, type Summary } from "./stats";

/** A stream record, reduced to what replication needs. */
export interface ChangeRecord {
  /** The item's key attributes. */
  readonly keys: Image;
  /** The item after the change; absent for a delete. */
  readonly newImage?: Image | undefined;
}

/** Writes to one region's table. Each call returns the item it replaced, if any. */
export interface TableIO {
  put(image: Image): Promise<Image | undefined>;
  delete(keys: Image): Promise<Image | undefined>;
  /** Every item, strongly consistent. */
  scan(): Promise<Image[]>;
  /** Every item, strongly consistent, page by page from `segments` parallel scan segments. */
  scanPages(segments: number, onPage: (items: Image[]) => Promise<void>): Promise<void>;
  /** Puts many items, in batches (BatchWriteItem on DynamoDB). */
  putBatch(images: Image[]): Promise<void>;
}

export interface RegionIO {
  table(key: TableKey): TableIO;
}

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

interface Change {
  readonly table: TableKey;
  readonly keyId: string;
  readonly keys: Image;
  readonly image?: Image | undefined;
  readonly fp: string;
  readonly version: Version;
}

interface Known {
  readonly version: Version;
  readonly fp: string;
  readonly image?: Image | undefined;
}

interface Expectation {
  readonly fp: string;
  readonly version: Version;
}

interface LagSample {
  readonly at: number;
  readonly ms: number;
}

interface Direction {
  readonly from: string;
  readonly to: string;
  readonly table: TableKey;
  /** Changes waiting, by due time (then arrival). */
  readonly queue: DueQueue;
  inflight: number;
  /** The changes counted in `inflight`. */
  readonly inflightChanges: Set<Change>;
  /** Due time of the last change queued per item, so a later change never overtakes. */
  readonly lastDue: Map<string, number>;
  timer?: NodeJS.Timeout | undefined;
  readonly lags: Ring<LagSample>;
  applied: number;
  skipped: number;
  dropped: number;
  lastLagMs?: number;
}

interface RegionState {
  io?: RegionIO;
  up: boolean;
  readonly known: Map<TableKey, Map<string, Known>>;
  readonly pending: Map<TableKey, Map<string, Expectation[]>>;
  /** Newest version ever associated with each item here: a client write here is newer still. */
  readonly highWater: Map<TableKey, Map<string, number>>;
  readonly chains: Map<string, Promise<unknown>>;
  waiters: (() => void)[];
  echoes: number;
  repairs: number;
}

/** Per direction and table: queue, counters and lag over a window. */
export interface DirectionStats {
  readonly from: string;
  readonly to: string;
  readonly table: TableKey;
  readonly paused: boolean;
  /** Changes read from the origin and not yet applied to the target. */
  readonly backlog: number;
  /** Age of the oldest change in the backlog, ms. */
  readonly oldestMs?: number | undefined;
  readonly applied: number;
  /** Changes not applied because the target already held a newer version. */
  readonly skipped: number;
  /** Changes lost because their origin region stopped before they were applied. */
  readonly dropped: number;
  /** Lag of the last change applied, ms. */
  readonly lastMs?: number | undefined;
  /** Lag over the window asked for. */
  readonly lag: Summary;
}

export interface RegionReplicationStats {
  readonly region: string;
  readonly up: boolean;
  /** Stream records recognised as this replicator's own writes (not replicated again). */
  readonly echoesSkipped: number;
  /** Writes put back after a replicated write had overwritten a newer one. */
  readonly repairs: number;
}

const MAX_EXPECTATIONS_PER_KEY = 32;
const RETRY_MS = 250;

export class Replicator {
  readonly regions: readonly string[];
  readonly tables: readonly TableKey[];
  private lagRange: LagRange;
  private readonly concurrency: number;
  private readonly keepSamples: number;
  private readonly random: () => number;
  private readonly onError: (message: string, err: unknown) => void;
  private readonly state = new Map<string, RegionState>();
  private readonly directions = new Map<string, Direction>();
  private readonly paused = new Set<string>();
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
    this.keepSamples = opts.keepSamples ?? 20_000;
    this.random = opts.random ?? Math.random;
    this.onError = opts.onError ?? (() => undefined);
    for (const region of this.regions) {
      this.state.set(region, {
        up: false,
        known: new Map(this.tables.map((t) => [t, new Map()])),
        pending: new Map(this.tables.map((t) => [t, new Map()])),
        highWater: new Map(this.tables.map((t) => [t, new Map()])),
        chains: new Map(),
        waiters: [],
        echoes: 0,
        repairs: 0,
      });
      for (const to of this.regions) {
        if (to === region) continue;
        for (const table of this.tables) {
          this.directions.set(dirId(region, to, table), {
            from: region,
            to,
            table,
            queue: new DueQueue(),
            inflight: 0,
            inflightChanges: new Set(),
            lastDue: new Map(),
            lags: new Ring(this.keepSamples),
            applied: 0,
            skipped: 0,
            dropped: 0,
          });
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
    const known = this.knownOf(r, table);
    const pending = this.pendingOf(r, table);
    const highWater = this.highWaterOf(r, table);
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
    for (const [a, b] of this.pairs(from, to)) this.paused.add(`${a}>${b}`);
  }

  resume(from?: string, to?: string): void {
    for (const [a, b] of this.pairs(from, to)) this.paused.delete(`${a}>${b}`);
    this.pumpAll();
  }

  isPaused(from: string, to: string): boolean {
    return this.paused.has(`${from}>${to}`);
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
      this.knownOf(r, t).clear();
      this.pendingOf(r, t).clear();
      this.highWaterOf(r, t).clear();
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
    const io = target.io;
    // Table after table: the segments of one already keep a freshly started engine busy.
    const counts: { copied: number; own: number }[] = [];
    for (const table of this.tables) {
      counts.push(
        await (async () => {
          const srcKnown = this.knownOf(src, table);
          const known = this.knownOf(target, table);
          const own = this.outstandingFrom(region, table);
          let copied = 0;
          await src.io?.table(table).scanPages(opts.segments ?? 4, async (items) => {
            const batch: Image[] = [];
            for (const item of items) {
              const keyId = fingerprint(keyOf(table, item));
              const version = srcKnown.get(keyId)?.version ?? { ts: 0, origin: source };
              const mine = own.get(keyId);
              if (mine && compareVersions(mine.version, version) > 0) continue;
              own.delete(keyId);
              batch.push(item);
              known.set(keyId, { version, fp: fingerprint(item), image: item });
              this.raiseHighWater(target, table, keyId, version.ts);
            }
            await io.table(table).putBatch(batch);
            copied += batch.length;
          });
          for (const change of own.values()) {
            if (change.image !== undefined) await io.table(table).put(change.image);
            else await io.table(table).delete(change.keys);
            known.set(change.keyId, {
              version: change.version,
              fp: change.fp,
              image: change.image,
            });
            this.raiseHighWater(target, table, change.keyId, change.version.ts);
          }
          return { copied, own: own.size };
        })(),
      );
    }
    return {
      copied: counts.reduce((n, c) => n + c.copied, 0),
      own: counts.reduce((n, c) => n + c.own, 0),
    };
  }

  /** The newest change per item that `region` made and some region has not applied yet. */
  private outstandingFrom(region: string, table: TableKey): Map<string, Change> {
    const out = new Map<string, Change>();
    for (const d of this.directions.values()) {
      if (d.from !== region || d.table !== table) continue;
      for (const change of [...d.queue.changes(), ...d.inflightChanges]) {
        const had = out.get(change.keyId);
        if (!had || compareVersions(change.version, had.version) > 0) out.set(change.keyId, change);
      }
    }
    return out;
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
      const [fromItems, toItems] = await Promise.all([
        src.io.table(table).scan(),
        target.io.table(table).scan(),
      ]);
      const srcKnown = this.knownOf(src, table);
      const known = this.knownOf(target, table);
      const have = new Map(toItems.map((i) => [fingerprint(keyOf(table, i)), fingerprint(i)]));
      const wanted = new Set<string>();
      const toPut: Image[] = [];
      for (const item of fromItems) {
        const keyId = fingerprint(keyOf(table, item));
        const fp = fingerprint(item);
        wanted.add(keyId);
        if (have.get(keyId) !== fp) toPut.push(item);
        const version = srcKnown.get(keyId)?.version ?? { ts: 0, origin: source };
        known.set(keyId, { version, fp, image: item });
        this.raiseHighWater(target, table, keyId, version.ts);
      }
      await target.io.table(table).putBatch(toPut);
      copied += toPut.length;
      for (const item of toItems) {
        const keys = keyOf(table, item);
        if (wanted.has(fingerprint(keys))) continue;
        await target.io.table(table).delete(keys);
        deleted++;
      }
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
    return [...this.directions.values()].map((d) => {
      const samples = d.lags.toArray().filter((s) => s.at >= sinceMs);
      const oldest = d.queue.oldestChangeTs();
      return {
        from: d.from,
        to: d.to,
        table: d.table,
        paused: this.isPaused(d.from, d.to),
        backlog: d.queue.size + d.inflight,
        oldestMs: oldest !== undefined ? now - oldest : undefined,
        applied: d.applied,
        skipped: d.skipped,
        dropped: d.dropped,
        lastMs: d.lastLagMs,
        lag: summarize(samples.map((s) => s.ms)),
      };
    });
  }

  /** Lag samples (ms) of changes applied since `sinceMs`, per table, every direction together. */
  lagSamples(sinceMs = 0): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const d of this.directions.values()) {
      const list = (out[d.table] ??= []);
      for (const s of d.lags.toArray()) if (s.at >= sinceMs) list.push(s.ms);
    }
    return out;
  }

  /**
   * Lag samples (when applied, ms) per direction and table, of changes applied since `sinceMs`:
   * what a CloudWatch ReplicationLatency series is built from (the CloudWatch stand-in).
   */
  lagSeries(
    sinceMs = 0,
  ): { from: string; to: string; table: TableKey; samples: { at: number; ms: number }[] }[] {
    return [...this.directions.values()].map((d) => ({
      from: d.from,
      to: d.to,
      table: d.table,
      samples: d.lags.toArray().filter((s) => s.at >= sinceMs),
    }));
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

  private knownOf(r: RegionState, table: TableKey): Map<string, Known> {
    const m = r.known.get(table);
    if (!m) throw new Error(`unknown table ${table}`);
    return m;
  }

  private highWaterOf(r: RegionState, table: TableKey): Map<string, number> {
    const m = r.highWater.get(table);
    if (!m) throw new Error(`unknown table ${table}`);
    return m;
  }

  private raiseHighWater(r: RegionState, table: TableKey, keyId: string, ts: number): void {
    const m = this.highWaterOf(r, table);
    if ((m.get(keyId) ?? -1) < ts) m.set(keyId, ts);
  }

  private pendingOf(r: RegionState, table: TableKey): Map<string, Expectation[]> {
    const m = r.pending.get(table);
    if (!m) throw new Error(`unknown table ${table}`);
    return m;
  }

  private pairs(from?: string, to?: string): [string, string][] {
    if (from !== undefined) this.region(from);
    if (to !== undefined) this.region(to);
    const out: [string, string][] = [];
    for (const a of this.regions) {
      for (const b of this.regions) {
        if (a !== b && (from === undefined || a === from) && (to === undefined || b === to)) {
          out.push([a, b]);
        }
      }
    }
    return out;
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
      void this.runOnKey(d.to, head.change, () => this.deliver(d.to, head.change)).then(
        (result) => {
          d.inflight--;
          d.inflightChanges.delete(head.change);
          if (result === "applied") {
            const ms = Date.now() - head.change.version.ts;
            d.applied++;
            d.lastLagMs = ms;
            d.lags.push({ at: Date.now(), ms });
          } else if (result === "skipped") {
            d.skipped++;
          }
          this.pump(d);
        },
      );
    }
  }

  private deliverOnKey(region: string, change: Change): void {
    void this.runOnKey(region, change, () => this.deliver(region, change));
  }

  /** Runs `fn` after every earlier write to the same item of the same region: per-item order. */
  private runOnKey<T>(region: string, change: Change, fn: () => Promise<T>): Promise<T> {
    const r = this.region(region);
    const id = `${change.table}\u0000${change.keyId}`;
    const before = r.chains.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    r.chains.set(id, tail);
    void tail.then(() => {
      if (r.chains.get(id) === tail) r.chains.delete(id);
    });
    return run;
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
        return await this.applyOnce(r, change);
      } catch (err) {
        if (this.stopped) return "abandoned";
        this.onError(`replicating ${change.table} to ${region} failed; retrying`, err);
        await sleep(RETRY_MS);
      }
    }
  }

  private async applyOnce(r: RegionState, change: Change): Promise<"applied" | "skipped"> {
    const known = this.knownOf(r, change.table);
    const pending = this.pendingOf(r, change.table);
    const list = pending.get(change.keyId) ?? [];
    let current = known.get(change.keyId)?.version;
    for (const e of list) current = newest(current, e.version);
    if (current && compareVersions(current, change.version) > 0) return "skipped";

    // Remember the content before writing: the stream record can arrive before the call returns.
    const expectation: Expectation = { fp: change.fp, version: change.version };
    this.raiseHighWater(r, change.table, change.keyId, change.version.ts);
    list.push(expectation);
    if (list.length > MAX_EXPECTATIONS_PER_KEY)
      list.splice(0, list.length - MAX_EXPECTATIONS_PER_KEY);
    pending.set(change.keyId, list);
    const io = (r.io as RegionIO).table(change.table);
    // On an error the expectation stays: the write may have happened, and if its echo then came
    // back as a "client write" it would be replicated with a fresh, wrongly newer, version.
    const old =
      change.image !== undefined ? await io.put(change.image) : await io.delete(change.keys);
    if (fingerprint(old) === change.fp) {
      // Nothing changed, so no stream record will come: settle the expectation now.
      const i = list.indexOf(expectation);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && pending.get(change.keyId) === list) pending.delete(change.keyId);
      const k = known.get(change.keyId);
      if (!k || compareVersions(change.version, k.version) > 0) {
        known.set(change.keyId, { version: change.version, fp: change.fp, image: change.image });
      }
    }
    return "applied";
  }
}

interface QueuedChange {
  readonly change: Change;
  readonly due: number;
  readonly seq: number;
}

/** A binary min-heap of changes by (due time, arrival order). */
class DueQueue {
  private readonly heap: QueuedChange[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  clear(): void {
    this.heap.length = 0;
  }

  changes(): Change[] {
    return this.heap.map((q) => q.change);
  }

  peek(): QueuedChange | undefined {
    return this.heap[0];
  }

  oldestChangeTs(): number | undefined {
    let min: number | undefined;
    for (const q of this.heap)
      if (min === undefined || q.change.version.ts < min) min = q.change.version.ts;
    return min;
  }

  push(change: Change, due: number): void {
    const h = this.heap;
    h.push({ change, due, seq: this.seq++ });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as QueuedChange, h[parent] as QueuedChange)) break;
      [h[i], h[parent]] = [h[parent] as QueuedChange, h[i] as QueuedChange];
      i = parent;
    }
  }

  pop(): QueuedChange | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as QueuedChange, h[m] as QueuedChange)) m = l;
        if (r < h.length && before(h[r] as QueuedChange, h[m] as QueuedChange)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as QueuedChange, h[i] as QueuedChange];
        i = m;
      }
    }
    return top;
  }
}

function before(a: QueuedChange, b: QueuedChange): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function dirId(from: string, to: string, table: string): string {
  return `${from}>${to}>${table}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Key attributes of an item of `table`, from the one table list. */
export function keyOf(table: TableKey, item: Image): Image {
  const name = tableSpec(table).hashKey;
  const value = item[name];
  if (value === undefined) throw new Error(`item of ${table} has no ${name}`);
  return { [name]: value };
}
