/**
 * The drill's load: clients in every region placing orders (each read back) through the global
 * endpoint, in one of the shapes that expose anomalies:
 *
 * - contention: a share of the products is also ordered by a client in every other region, a
 *   random delay within a spread after the first order (inside the replication window, both
 *   regions see the product IN_STOCK);
 * - retry elsewhere: a client that gets no answer within `retryAfterMs`, or a failure, sends the
 *   same order id to another region's own endpoint, as client-side failover does. The first
 *   request is not cancelled (the service cannot know the client gave up): an answer that still
 *   comes is something the client was told too;
 * - resale after a region loss: products whose orders the lost region acknowledged just before
 *   the loss are offered again to clients of the surviving regions.
 *
 * Every 2xx answer to `POST /orders` goes into the ledger: what the clients were told.
 */
import { monotonicFactory } from "ulid";
import type { AckedOrder, OrderRecord } from "./anomalies";
import { attemptFailed, type Attempt, type OpRecord, type Outcome } from "./report";
import { sleep, type Pair } from "./setup";
import type { ApiCall, ApiResult, ClientIdentity, DrillTarget } from "./target";

export interface LoadShape {
  /** Share of products also ordered from every other region. @default 0 */
  readonly contention: number;
  /** Rival orders come up to this long after the first. */
  readonly contentionSpreadMs: number;
  /** Retry a failed request once at another region's own endpoint. */
  readonly clientFailover: boolean;
  /** Retry an order that failed or got no answer in `retryAfterMs` at another region. */
  readonly retryElsewhere: boolean;
  readonly retryAfterMs: number;
}

export interface LoadContext {
  readonly target: DrillTarget;
  readonly clients: readonly ClientIdentity[];
  readonly clientsPerRegion: number;
  readonly pairs: readonly Pair[];
  /** Ms between one client's orders. */
  readonly intervalMs: number;
  readonly shape: LoadShape;
  /** Epoch ms the run started: op times are relative to it. */
  readonly t0: number;
  readonly notes: string[];
}

/** Whether product `i` is contended: of the first n products, floor(share * n) are, spread evenly. */
export function isContended(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

interface Sent {
  readonly via: string;
  readonly result: ApiResult;
}

type OrderKind = OpRecord["load"];

const isAck = (r: ApiResult): boolean => r.status === 201 || r.status === 200;

export class Load {
  readonly ops: OpRecord[] = [];
  readonly ledger: AckedOrder[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly newId = monotonicFactory();
  private readonly regions: readonly string[];

  constructor(private readonly ctx: LoadContext) {
    this.regions = ctx.target.endpoints.regions;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  rel(epoch: number): number {
    return epoch - this.ctx.t0;
  }

  /** Starts every client; client `i` starts `offsets[i]` ms after t0. */
  start(offsets: readonly number[]): void {
    const slices = new Map<string, number[]>(this.ctx.clients.map((c) => [c.id, []]));
    this.ctx.pairs.forEach((_, i) =>
      slices.get((this.ctx.clients[i % this.ctx.clients.length] as ClientIdentity).id)?.push(i),
    );
    this.loops = this.ctx.clients.map((c, i) =>
      this.clientLoop(c, slices.get(c.id) ?? [], offsets[i] ?? 0),
    );
  }

  /** Stops the flow and waits for every request in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Runs `fn` in the background; `stop` waits for it. */
  private spawn(fn: () => Promise<void>): void {
    const p = fn().finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /**
   * Offers the products of `sold` again, one every `intervalMs` spread over `sellers`, each to a
   * customer other than the first buyer: selling goes on after a region loss.
   */
  resell(sold: readonly AckedOrder[], sellers: readonly ClientIdentity[]): void {
    if (sellers.length === 0) return;
    const customers = this.ctx.pairs.map((p) => p.customerId);
    this.spawn(async () => {
      let next = Date.now();
      for (const [k, ack] of sold.entries()) {
        await sleep(next - Date.now());
        if (this.stopped) return;
        next += this.ctx.intervalMs / sellers.length;
        // Another customer than the first buyer: the pair after the one the product came with.
        const firstBuyer = customers.indexOf(String(ack.order.CustomerId));
        const customerId = customers[(firstBuyer + 1) % customers.length] as string;
        const seller = sellers[k % sellers.length] as ClientIdentity;
        await this.order(seller, ack.productId, customerId, undefined, "resale");
      }
    });
  }

  private async clientLoop(client: ClientIdentity, mine: number[], offsetMs: number) {
    let next = this.ctx.t0 + offsetMs;
    let lastRegion: string | undefined;
    for (const i of mine) {
      await sleep(next - Date.now());
      if (this.stopped) return;
      next = Math.max(next + this.ctx.intervalMs, Date.now());
      const pair = this.ctx.pairs[i] as Pair;
      if (isContended(i, this.ctx.shape.contention)) this.rivals(client, i);
      const placed = await this.order(client, pair.productId, pair.customerId, lastRegion);
      lastRegion = placed.servedBy ?? lastRegion;
      if (placed.ok && !this.stopped)
        lastRegion = (await this.readBack(client, placed, lastRegion)) ?? lastRegion;
    }
    if (!this.stopped) this.ctx.notes.push(`client ${client.id} ran out of customer/product pairs`);
  }

  /** The same product ordered by a client of every other region, each within the spread. */
  private rivals(owner: ClientIdentity, i: number): void {
    const { clients, clientsPerRegion, pairs, shape } = this.ctx;
    const nth = clients.indexOf(owner) % clientsPerRegion;
    const product = (pairs[i] as Pair).productId;
    this.regions.forEach((region, r) => {
      if (region === owner.region) return;
      const rival = clients[r * clientsPerRegion + nth] as ClientIdentity;
      const customer = (pairs[(i + 1 + r) % pairs.length] as Pair).customerId;
      const delay = Math.random() * shape.contentionSpreadMs;
      this.spawn(async () => {
        await sleep(delay);
        if (!this.stopped) await this.order(rival, product, customer, undefined, "rival");
      });
    });
  }

  /** Places one order as `client`, with the configured retries; records the op and the ledger. */
  private async order(
    client: ClientIdentity,
    productId: string,
    customerId: string,
    lastRegion: string | undefined,
    load?: OrderKind,
  ): Promise<{ ok: boolean; orderId: string; productId: string; servedBy?: string | undefined }> {
    const orderId = this.newId();
    const started = Date.now();
    const call: ApiCall = {
      method: "POST",
      path: "/orders",
      body: { customerId, productId, orderId },
    };
    const sent = await this.create(client, call, lastRegion);
    for (const s of sent) {
      if (!isAck(s.result)) continue;
      this.ledger.push({
        orderId,
        productId,
        order: s.result.body as OrderRecord,
        at: this.rel(s.result.startedAt + s.result.ms),
        servedBy: s.result.servedBy,
      });
    }
    // The answer the client acts on: the first acknowledgement to arrive, else the last attempt.
    const byArrival = [...sent].sort(
      (a, b) => a.result.startedAt + a.result.ms - (b.result.startedAt + b.result.ms),
    );
    const used = byArrival.find((s) => isAck(s.result)) ?? (sent[sent.length - 1] as Sent);
    const outcome: Outcome = isAck(used.result)
      ? "ok"
      : attemptFailed(used.result)
        ? "failed"
        : "refused";
    this.ops.push({
      client: client.id,
      clientRegion: client.region,
      kind: "create",
      ...(load !== undefined ? { load } : {}),
      orderId,
      productId,
      startedAt: this.rel(started),
      endedAt: this.rel(used.result.startedAt + used.result.ms),
      outcome,
      status: used.result.status,
      servedBy: used.result.servedBy,
      attempts: sent.map((s) => this.toAttempt(s)),
    });
    return { ok: outcome === "ok", orderId, productId, servedBy: used.result.servedBy };
  }

  /** One POST /orders with the client's retry policy; every request sent, in order. */
  private async create(
    client: ClientIdentity,
    call: ApiCall,
    lastRegion: string | undefined,
  ): Promise<Sent[]> {
    const ep = this.ctx.target.endpoints;
    const { retryElsewhere, retryAfterMs, clientFailover } = this.ctx.shape;
    const first = ep.viaGlobal(call, client);
    const early = retryElsewhere
      ? await Promise.race([first, sleep(retryAfterMs).then(() => undefined)])
      : await first;
    if (early !== undefined && (!attemptFailed(early) || !(clientFailover || retryElsewhere)))
      return [{ via: "global", result: early }];
    const other = this.otherRegion(
      early?.resolvedRegion ?? early?.servedBy ?? lastRegion ?? client.region,
    );
    const second = await ep.viaRegion(other, call);
    return [
      { via: "global", result: await first },
      { via: other, result: second },
    ];
  }

  private otherRegion(region: string): string {
    const i = this.regions.indexOf(region);
    return this.regions[(i + 1) % this.regions.length] as string;
  }

  /** Reads the order back (a 404 is a stale read); returns the region that answered. */
  private async readBack(
    client: ClientIdentity,
    placed: { orderId: string; productId: string },
    lastRegion: string | undefined,
  ): Promise<string | undefined> {
    const ep = this.ctx.target.endpoints;
    const call: ApiCall = { method: "GET", path: `/orders/${placed.orderId}` };
    const started = Date.now();
    const first = await ep.viaGlobal(call, client);
    const sent: Sent[] = [{ via: "global", result: first }];
    if (attemptFailed(first) && (this.ctx.shape.clientFailover || this.ctx.shape.retryElsewhere)) {
      const other = this.otherRegion(
        first.resolvedRegion ?? first.servedBy ?? lastRegion ?? client.region,
      );
      sent.push({ via: other, result: await ep.viaRegion(other, call) });
    }
    const r = (sent[sent.length - 1] as Sent).result;
    this.ops.push({
      client: client.id,
      clientRegion: client.region,
      kind: "read",
      orderId: placed.orderId,
      productId: placed.productId,
      startedAt: this.rel(started),
      endedAt: this.rel(Date.now()),
      outcome: r.status === 200 ? "ok" : r.status === 404 ? "stale" : "failed",
      status: r.status,
      servedBy: r.servedBy,
      attempts: sent.map((s) => this.toAttempt(s)),
    });
    return r.servedBy;
  }

  private toAttempt(s: Sent): Attempt {
    const r = s.result;
    return {
      via: s.via,
      status: r.status,
      servedBy: r.servedBy,
      resolvedRegion: r.resolvedRegion,
      error: r.error,
      startedAt: this.rel(r.startedAt),
      ms: r.ms,
    };
  }
}
