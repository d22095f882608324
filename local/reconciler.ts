/**
 * The reconciler in the sandbox: the Lambda handler of functions/handlers/reconcile.ts on each
 * region's products stream, fed the way an event source mapping feeds it: batches in stream
 * order, a record reported in `batchItemFailures` delivered again with everything after it, a
 * bounded number of retries and then the records dropped (logged: on AWS they go to the
 * on-failure destination). Pausing it holds the records, as disabling the mapping does.
 *
 * Records are handed over `settleMs` after they were read. Lambda polls a stream a few times a
 * second, and the sandbox's replicator can, for a moment, leave an older replicated write on top
 * of a newer local one before it puts the newer one back (local/replicator.ts, "repair"): the
 * handler re-reads the product before cancelling, and the delay lets that repair land first.
 *
 * When a region's data comes back (reseeded or refilled from a peer), the changes that came with
 * it were never in its stream: `sweep` looks at every order the region sold that is still
 * CONFIRMED and gives the handler's rule the move it missed (its product now names another order).
 */
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { DynamoCompensationStore } from "../functions/data/compensation";
import { compensate } from "../functions/domain/compensation";
import type { OrderItem } from "../functions/domain/model";
import {
  makeReconcileHandler,
  reconcilerTables,
  type StreamHandler,
} from "../functions/handlers/reconcile";
import type { Deps } from "../functions/runtime";
import { startStreamPoller, type StreamPoller, type StreamRecord } from "./streams";

/** Delay between reading a record and handing it to the handler. */
export const DEFAULT_RECONCILE_SETTLE_MS = 300;
/** Records per handler call (an event source mapping's default batch size is 100). */
const BATCH_SIZE = 100;
/** Deliveries of a failing record before it is dropped. */
const MAX_ATTEMPTS = 8;
const RETRY_MS = 250;

export interface SandboxReconcilerOptions {
  readonly settleMs?: number;
  readonly pollMs?: number;
  readonly onError?: (message: string, err: unknown) => void;
}

interface Pending {
  readonly record: StreamRecord;
  readonly due: number;
  attempts: number;
}

interface RegionReconciler {
  readonly deps: Deps;
  readonly handler: StreamHandler;
  poller?: StreamPoller;
  readonly queue: Pending[];
  wake?: (() => void) | undefined;
  loop?: Promise<void>;
  stopped: boolean;
}

export interface ReconcilerStats {
  readonly region: string;
  /** Records read and not yet handled. */
  readonly backlog: number;
  readonly handled: number;
  readonly redelivered: number;
  readonly dropped: number;
  readonly swept: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SandboxReconciler {
  private readonly regions = new Map<string, RegionReconciler>();
  private readonly counters = new Map<
    string,
    { handled: number; redelivered: number; dropped: number; swept: number }
  >();
  private paused = false;
  private readonly settleMs: number;
  private readonly onError: (message: string, err: unknown) => void;

  constructor(private readonly opts: SandboxReconcilerOptions = {}) {
    this.settleMs = opts.settleMs ?? DEFAULT_RECONCILE_SETTLE_MS;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** Starts reading `region`'s products stream (from now on) into its handler. */
  async attach(region: string, endpoint: string, deps: Deps): Promise<void> {
    await this.detach(region);
    const r: RegionReconciler = {
      deps,
      handler: makeReconcileHandler(deps),
      queue: [],
      stopped: false,
    };
    this.regions.set(region, r);
    this.counter(region);
    r.poller = await startStreamPoller({
      endpoint,
      tableName: reconcilerTables(deps).products,
      ...(this.opts.pollMs !== undefined ? { pollMs: this.opts.pollMs } : {}),
      onStreamRecords: (records, at) => {
        for (const record of records)
          r.queue.push({ record, due: at + this.settleMs, attempts: 0 });
        r.wake?.();
      },
      onError: this.onError,
    });
    r.loop = this.run(region, r);
  }

  /** Stops `region`'s reconciler; what it had not handled is dropped with the region's stream. */
  async detach(region: string): Promise<void> {
    const r = this.regions.get(region);
    if (!r) return;
    this.regions.delete(region);
    r.stopped = true;
    r.wake?.();
    await r.poller?.stop().catch(() => undefined);
    await r.loop;
    r.deps.doc.destroy();
  }

  /** Holds every record until `resume`, as a disabled event source mapping does. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const r of this.regions.values()) r.wake?.();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  stats(): ReconcilerStats[] {
    return [...this.counters].map(([region, c]) => ({
      region,
      backlog: this.regions.get(region)?.queue.length ?? 0,
      ...c,
    }));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.regions.keys()].map((region) => this.detach(region)));
  }

  /**
   * Cancels the orders `region` sold that its product no longer names: the moves its stream did
   * not show because its data came back from a peer. Returns how many it cancelled.
   */
  async sweep(region: string): Promise<number> {
    const r = this.regions.get(region);
    if (!r) throw new Error(`sweep ${region}: its reconciler is not attached`);
    const tables = reconcilerTables(r.deps);
    const store = new DynamoCompensationStore(r.deps.doc, tables);
    const clock = { region, now: () => new Date() };
    let cancelled = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await r.deps.doc.send(
        new ScanCommand({
          TableName: tables.orders,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const order of (page.Items ?? []) as OrderItem[]) {
        if (order.OrderStatus !== "CONFIRMED" || order.CreatedInRegion !== region) continue;
        const product = await store.getProduct(order.ProductId);
        // The change the stream would have shown: from this order's sale to what is there now.
        const result = await compensate(
          store,
          {
            eventName: "MODIFY",
            oldImage: {
              ProductId: order.ProductId,
              ProductStatus: "SOLD",
              SoldToOrderId: order.OrderId,
              SoldInRegion: region,
              SoldAt: order.CreatedAt,
            },
            newImage: product as Record<string, unknown> | undefined,
          },
          clock,
        );
        if (result.outcome === "cancelled") cancelled++;
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    this.counter(region).swept += cancelled;
    return cancelled;
  }

  private counter(region: string) {
    let c = this.counters.get(region);
    if (!c) this.counters.set(region, (c = { handled: 0, redelivered: 0, dropped: 0, swept: 0 }));
    return c;
  }

  /** Hands due records to the handler in batches, one batch at a time, in stream order. */
  private async run(region: string, r: RegionReconciler): Promise<void> {
    const c = this.counter(region);
    while (!r.stopped) {
      const first = r.queue[0];
      if (this.paused || first === undefined || first.due > Date.now()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            resolve,
            first && !this.paused ? Math.max(1, first.due - Date.now()) : 1_000,
          );
          r.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        r.wake = undefined;
        continue;
      }
      const now = Date.now();
      let n = 0;
      while (n < r.queue.length && n < BATCH_SIZE && (r.queue[n] as Pending).due <= now) n++;
      const batch = r.queue.slice(0, n);
      const failedAt = await this.deliver(region, r, batch);
      if (failedAt < 0) {
        r.queue.splice(0, n);
        c.handled += n;
        continue;
      }
      // Lambda checkpoints before the failed record and delivers it and the rest again.
      r.queue.splice(0, failedAt);
      c.handled += failedAt;
      const failed = r.queue[0] as Pending;
      failed.attempts++;
      c.redelivered++;
      if (failed.attempts >= MAX_ATTEMPTS) {
        this.onError(
          `${region}: reconciler gave up on a record after ${failed.attempts} attempts`,
          failed.record.dynamodb?.SequenceNumber,
        );
        r.queue.shift();
        c.dropped++;
        continue;
      }
      await sleep(RETRY_MS * failed.attempts);
    }
  }

  /** One handler call; the index of the first record to deliver again, or -1. */
  private async deliver(region: string, r: RegionReconciler, batch: Pending[]): Promise<number> {
    const event = {
      Records: batch.map((p) => ({ ...p.record, awsRegion: region }) as unknown as DynamoDBRecord),
    };
    try {
      const { batchItemFailures } = await r.handler(event);
      if (batchItemFailures.length === 0) return -1;
      const ids = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      const i = batch.findIndex((p) => ids.has(p.record.dynamodb?.SequenceNumber ?? ""));
      // An identifier that names no record fails the whole batch (as Lambda treats it).
      return i < 0 ? 0 : i;
    } catch (err) {
      this.onError(`${region}: the reconciler failed a whole batch`, err);
      return 0;
    }
  }
}
