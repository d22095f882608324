/**
 * The failover drill: the seed's test as one call. Creates customer/product pairs, runs a steady
 * order flow (create, then read back) through the global endpoint from clients in every region,
 * injects the scenario's fault, waits for replication to settle, and measures. Only the
 * `DrillTarget` interface is used, so a deployed target needs no change here.
 */
import { monotonicFactory } from "ulid";
import {
  computeRto,
  countRequests,
  productsSoldTwice,
  servedOverTime,
  attemptFailed,
  type Attempt,
  type DrillReport,
  type OpRecord,
  type Outcome,
  type Scenario,
} from "./report";
import type {
  ApiCall,
  ApiResult,
  ClientIdentity,
  ControlState,
  DrillTarget,
  OrderRow,
} from "./target";

export interface DrillOptions {
  readonly scenario: Scenario;
  /** Region the fault hits. @default the first region */
  readonly faultRegion?: string;
  /** @default 60000 */
  readonly durationMs?: number;
  /** @default 20000 */
  readonly faultAtMs?: number;
  /** Orders per second per region (each followed by a read). @default 1, as in the seed */
  readonly ratePerRegion?: number;
  /** @default 1 */
  readonly clientsPerRegion?: number;
  /** Retry a failed request once at another region's own endpoint. @default false */
  readonly clientFailover?: boolean;
  /** Set the target's TTL first (where it allows it). */
  readonly ttlSeconds?: number;
  /** Customer/product pairs to create. @default enough for the run, plus a margin */
  readonly pairs?: number;
  /** How long to wait for replication to settle after the run. @default 30000 */
  readonly settleTimeoutMs?: number;
  /** Undo the fault afterwards (controls back, region started, replication resumed). @default true */
  readonly heal?: boolean;
  /** Put every operation the clients made into the report (`ops`). @default false */
  readonly includeOps?: boolean;
  /** Called about once a second while the load runs. */
  readonly onProgress?: (p: Progress) => void;
  /** Setup and teardown steps, in words. */
  readonly onStep?: (line: string) => void;
}

export interface Progress {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly faultAtMs: number;
  readonly faultInjected: boolean;
  readonly ops: number;
  readonly ok: number;
  readonly failed: number;
  readonly staleReads: number;
  /** Responses per serving region in the last 5 s. */
  readonly recentByRegion: Readonly<Record<string, number>>;
  readonly recentFailed: number;
}

/**
 * Pairs per `POST /fill` during setup. The route takes up to FILL_MAX_PER_KIND of each kind, but
 * a thousand pairs is 80 batch writes in one request: on a busy 2-core machine that outlasts the
 * client's request timeout. Small requests keep each one short.
 */
const SETUP_PAIRS_PER_FILL = 50;

interface Pair {
  readonly customerId: string;
  readonly productId: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export function describeFault(scenario: Scenario, region: string): string {
  switch (scenario) {
    case "switch":
      return `routing control of ${region} turned Off`;
    case "region-loss":
      return `${region} stopped (API and database)`;
    case "replication-pause":
      return `replication to and from ${region} paused`;
  }
}

/** Checks options against the target before anything is changed. */
export function planDrill(target: DrillTarget, opts: DrillOptions) {
  const regions = target.endpoints.regions;
  const faultRegion = opts.faultRegion ?? (regions[0] as string);
  if (!regions.includes(faultRegion)) {
    throw new Error(
      `--region ${faultRegion} is not one of the target's regions: ${regions.join(", ")}`,
    );
  }
  const durationMs = opts.durationMs ?? 60_000;
  const faultAtMs = opts.faultAtMs ?? 20_000;
  if (!(faultAtMs > 0 && faultAtMs < durationMs)) {
    throw new Error(
      `the fault must come during the run: fault at ${faultAtMs} ms, duration ${durationMs} ms`,
    );
  }
  const rate = opts.ratePerRegion ?? 1;
  if (!(rate > 0 && rate <= 50))
    throw new Error(`rate must be within (0, 50] orders/s per region: got ${rate}`);
  const clientsPerRegion = opts.clientsPerRegion ?? 1;
  if (!Number.isInteger(clientsPerRegion) || clientsPerRegion < 1 || clientsPerRegion > 20) {
    throw new Error(`clients per region must be a whole number 1..20: got ${clientsPerRegion}`);
  }
  const f = target.faults;
  if (opts.scenario === "region-loss" && !(f.stopRegion && f.startRegion)) {
    throw new Error(
      `${target.name} cannot stop a region: the region-loss scenario needs a target that can`,
    );
  }
  if (opts.scenario === "replication-pause" && !(f.pauseReplication && f.resumeReplication)) {
    throw new Error(
      `${target.name} cannot pause replication: the replication-pause scenario needs a target that can`,
    );
  }
  const needed =
    Math.ceil(rate * (durationMs / 1000) * regions.length * 1.2) +
    5 * regions.length * clientsPerRegion;
  const pairs = opts.pairs ?? needed;
  return { regions, faultRegion, durationMs, faultAtMs, rate, clientsPerRegion, pairs };
}

export async function runDrill(target: DrillTarget, opts: DrillOptions): Promise<DrillReport> {
  const plan = planDrill(target, opts);
  const { regions, faultRegion, durationMs, faultAtMs, rate, clientsPerRegion } = plan;
  const step = opts.onStep ?? (() => undefined);
  const notes: string[] = [];
  const ep = target.endpoints;

  const initialControls = await target.controls.get();
  const off = regions.filter((r) => initialControls[r] !== "On");
  if (off.length > 0) {
    throw new Error(`every routing control must be On before a drill; Off: ${off.join(", ")}`);
  }
  if (opts.ttlSeconds !== undefined) {
    if (!target.setTtl) throw new Error(`${target.name} does not let the drill set the TTL`);
    await target.setTtl(opts.ttlSeconds);
  }
  const settings = await target.settings();

  // ---- setup: customer/product pairs, visible in every region before the clock starts ----
  step(`creating ${plan.pairs} customer/product pairs`);
  const setupRegion = regions[0] as string;
  const pairs: Pair[] = [];
  for (let left = plan.pairs; left > 0; left -= SETUP_PAIRS_PER_FILL) {
    const n = Math.min(SETUP_PAIRS_PER_FILL, left);
    // Setup is not measured: straight to one region (no global endpoint in the way), and a slow
    // fill on a busy machine gets a minute rather than ending the drill.
    const res = await ep.viaRegion(setupRegion, {
      method: "POST",
      path: `/fill?cust=${n}&product=${n}&order=0`,
      timeoutMs: 60_000,
    });
    const body = res.body as { customers?: string[]; products?: string[] } | undefined;
    if (res.status !== 201 && res.status !== 200) {
      throw new Error(
        `POST /fill failed: HTTP ${res.status} ${res.error ?? JSON.stringify(res.body)}`,
      );
    }
    const customers = body?.customers ?? [];
    const products = body?.products ?? [];
    for (let i = 0; i < Math.min(customers.length, products.length); i++) {
      pairs.push({ customerId: customers[i] as string, productId: products[i] as string });
    }
  }
  const probe = pairs[pairs.length - 1];
  if (!probe) throw new Error("POST /fill returned no pairs");
  const visibleBy = Date.now() + 30_000;
  for (const region of regions) {
    for (;;) {
      const r = await ep.viaRegion(region, { method: "GET", path: `/products/${probe.productId}` });
      if (r.status === 200) break;
      if (Date.now() > visibleBy)
        throw new Error(`sample data did not reach ${region} within 30 s`);
      await sleep(100);
    }
  }
  const settled = await target.replication.waitConverged(30_000);
  if (!settled.converged) notes.push(`setup data had not fully converged: ${settled.detail ?? ""}`);

  // ---- the run -------------------------------------------------------------------------
  const runId = Date.now().toString(36).slice(-5);
  const clients: ClientIdentity[] = regions.flatMap((region) =>
    Array.from({ length: clientsPerRegion }, (_, i) => ({
      id: `drill-${runId}-${region}-${i}`,
      region,
    })),
  );
  const slices = new Map<string, Pair[]>(clients.map((c) => [c.id, []]));
  pairs.forEach((p, i) => slices.get((clients[i % clients.length] as ClientIdentity).id)?.push(p));

  const ops: OpRecord[] = [];
  const acknowledged = new Map<string, { productId: string; servedBy?: string | undefined }>();
  const newId = monotonicFactory();
  const t0 = Date.now();
  const rel = (epoch: number): number => epoch - t0;
  let faultAt: number | undefined;
  let stopFlow = false;
  const intervalMs = (1000 * clientsPerRegion) / rate;

  async function attempt(
    client: ClientIdentity,
    call: ApiCall,
    lastRegion: string | undefined,
  ): Promise<Attempt[]> {
    const first = await ep.viaGlobal(call, client);
    const out: Attempt[] = [toAttempt("global", first)];
    if (opts.clientFailover && attemptFailed(first)) {
      const failedRegion = first.resolvedRegion ?? first.servedBy ?? lastRegion ?? client.region;
      const start = regions.indexOf(failedRegion);
      const other = regions[(start + 1) % regions.length] as string;
      out.push(toAttempt(other, await ep.viaRegion(other, call)));
    }
    return out;
  }

  function toAttempt(via: string, r: ApiResult): Attempt {
    return {
      via,
      status: r.status,
      servedBy: r.servedBy,
      resolvedRegion: r.resolvedRegion,
      error: r.error,
      startedAt: rel(r.startedAt),
      ms: r.ms,
    };
  }

  async function clientLoop(client: ClientIdentity, offsetMs: number): Promise<void> {
    const mine = slices.get(client.id) ?? [];
    let next = t0 + offsetMs;
    let lastRegion: string | undefined;
    for (const pair of mine) {
      await sleep(next - Date.now());
      if (stopFlow) return;
      next = Math.max(next + intervalMs, Date.now());
      const orderId = newId();
      const createStart = Date.now();
      const created = await attempt(
        client,
        {
          method: "POST",
          path: "/orders",
          body: { customerId: pair.customerId, productId: pair.productId, orderId },
        },
        lastRegion,
      );
      const final = created[created.length - 1] as Attempt;
      const createdOk = final.status === 201 || final.status === 200;
      if (createdOk)
        acknowledged.set(orderId, { productId: pair.productId, servedBy: final.servedBy });
      if (final.servedBy) lastRegion = final.servedBy;
      ops.push({
        client: client.id,
        clientRegion: client.region,
        kind: "create",
        orderId,
        productId: pair.productId,
        startedAt: rel(createStart),
        endedAt: rel(Date.now()),
        outcome: createdOk ? "ok" : "failed",
        status: final.status,
        servedBy: final.servedBy,
        attempts: created,
      });
      if (!createdOk || stopFlow) continue;
      const readStart = Date.now();
      const read = await attempt(client, { method: "GET", path: `/orders/${orderId}` }, lastRegion);
      const r = read[read.length - 1] as Attempt;
      if (r.servedBy) lastRegion = r.servedBy;
      const outcome: Outcome = r.status === 200 ? "ok" : r.status === 404 ? "stale" : "failed";
      ops.push({
        client: client.id,
        clientRegion: client.region,
        kind: "read",
        orderId,
        productId: pair.productId,
        startedAt: rel(readStart),
        endedAt: rel(Date.now()),
        outcome,
        status: r.status,
        servedBy: r.servedBy,
        attempts: read,
      });
    }
    if (!stopFlow) notes.push(`client ${client.id} ran out of customer/product pairs`);
  }

  step(
    `running ${durationMs / 1000} s of load; ${describeFault(opts.scenario, faultRegion)} at ${faultAtMs / 1000} s`,
  );
  // A client keeps its answer for the TTL from its first request on, so when it starts decides
  // how long after the fault its answer expires. One client per region starts at once (as in
  // the seed); several are spread over one TTL (or up to the fault), so their answers expire at
  // different times and the report shows the range a population of clients sees.
  const ttlMs = (settings.ttlSeconds ?? 0) * 1000;
  const spreadMs =
    clientsPerRegion > 1 ? Math.max(intervalMs, Math.min(ttlMs, faultAtMs * 0.9)) : intervalMs;
  const loops = clients.map((c, i) => {
    const nth = i % clientsPerRegion;
    const regionIndex = Math.floor(i / clientsPerRegion);
    const offset =
      (spreadMs * nth) / clientsPerRegion +
      (intervalMs * regionIndex) / (regions.length * clientsPerRegion);
    return clientLoop(c, offset);
  });

  const progressTimer = setInterval(() => {
    if (!opts.onProgress) return;
    const now = rel(Date.now());
    const recent = ops.flatMap((o) => o.attempts).filter((a) => a.startedAt >= now - 5_000);
    const byRegion: Record<string, number> = Object.fromEntries(regions.map((r) => [r, 0]));
    for (const a of recent)
      if (!attemptFailed(a) && a.servedBy) byRegion[a.servedBy] = (byRegion[a.servedBy] ?? 0) + 1;
    opts.onProgress({
      elapsedMs: now,
      durationMs,
      faultAtMs,
      faultInjected: faultAt !== undefined,
      ops: ops.length,
      ok: ops.filter((o) => o.outcome === "ok").length,
      failed: ops.filter((o) => o.outcome === "failed").length,
      staleReads: ops.filter((o) => o.outcome === "stale").length,
      recentByRegion: byRegion,
      recentFailed: recent.filter(attemptFailed).length,
    });
  }, 1_000);

  const heal: (() => Promise<void>)[] = [];
  let surviving = [...regions];
  try {
    await sleep(t0 + faultAtMs - Date.now());
    faultAt = rel(Date.now());
    switch (opts.scenario) {
      case "switch": {
        const change: Record<string, ControlState> = { [faultRegion]: "Off" };
        await target.controls.set(change);
        heal.push(() => target.controls.set(initialControls));
        break;
      }
      case "region-loss": {
        await target.faults.stopRegion?.(faultRegion);
        surviving = regions.filter((r) => r !== faultRegion);
        heal.push(async () => target.faults.startRegion?.(faultRegion));
        break;
      }
      case "replication-pause": {
        await target.faults.pauseReplication?.(faultRegion, undefined);
        await target.faults.pauseReplication?.(undefined, faultRegion);
        break;
      }
    }
    step(
      `fault injected at ${(faultAt / 1000).toFixed(1)} s: ${describeFault(opts.scenario, faultRegion)}`,
    );
    await sleep(t0 + durationMs - Date.now());
  } finally {
    stopFlow = true;
    await Promise.all(loops);
    clearInterval(progressTimer);
  }
  const endedAt = Date.now();
  const faultAtRel = faultAt ?? faultAtMs;

  // ---- after the run: settle, then check what survived --------------------------------
  if (opts.scenario === "replication-pause") {
    step("resuming replication");
    await target.faults.resumeReplication?.(undefined, undefined);
  }
  step("waiting for replication to converge");
  const convergence = await target.replication.waitConverged(opts.settleTimeoutMs ?? 30_000);
  if (!convergence.converged)
    notes.push(`replication did not converge: ${convergence.detail ?? ""}`);

  step("checking acknowledged orders in every surviving region");
  const lostOrderIds: Record<string, string[]> = {};
  let checkedAgainst: "region tables" | "acknowledged orders" = "acknowledged orders";
  const allOrders: OrderRow[] = [];
  for (const region of surviving) {
    let present: Set<string>;
    if (target.replication.listOrders) {
      const rows = await target.replication.listOrders(region);
      allOrders.push(...rows);
      present = new Set(rows.map((o) => o.OrderId));
      checkedAgainst = "region tables";
    } else {
      present = new Set<string>();
      for (const id of acknowledged.keys()) {
        const r = await ep.viaRegion(region, { method: "GET", path: `/orders/${id}` });
        if (r.status === 200) present.add(id);
      }
    }
    lostOrderIds[region] = [...acknowledged.keys()].filter((id) => !present.has(id)).sort();
  }
  const lost = new Set(Object.values(lostOrderIds).flat());
  const ackRows = [...acknowledged].map(([OrderId, a]) => ({ OrderId, ProductId: a.productId }));
  // Orders this drill placed only (the target may hold others, e.g. the seeded sample data).
  const drillProducts = new Set(pairs.map((p) => p.productId));
  const doubleSold = productsSoldTwice(
    checkedAgainst === "region tables"
      ? allOrders.filter((o) => drillProducts.has(o.ProductId))
      : ackRows,
  );
  const lag = await target.replication.lag(t0);

  if (opts.heal ?? true) {
    step("healing: undoing the fault");
    // The measurements are taken: a failed undo is reported with them, not instead of them.
    for (const h of heal) {
      try {
        await h();
      } catch (err) {
        notes.push(`healing failed, the fault may still be in place: ${(err as Error).message}`);
      }
    }
  }

  return {
    version: 1,
    scenario: opts.scenario,
    target: target.name,
    regions,
    faultRegion,
    settings: {
      durationS: durationMs / 1000,
      faultAtS: faultAtMs / 1000,
      ratePerRegion: rate,
      clientsPerRegion,
      clientFailover: opts.clientFailover ?? false,
      ttlSeconds: settings.ttlSeconds,
      policy: settings.policy,
      healthCheck: settings.healthCheck,
      replicationLag: settings.lag,
    },
    startedAt: new Date(t0).toISOString(),
    faultInjectedAt: new Date(t0 + faultAtRel).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    fault: describeFault(opts.scenario, faultRegion),
    rto: computeRto(ops, faultAtRel, faultRegion, opts.scenario),
    requests: countRequests(ops, faultAtRel, regions),
    replicationLagMs: lag,
    rpo: {
      acknowledgedOrders: acknowledged.size,
      survivingRegions: surviving,
      converged: convergence.converged,
      convergenceWaitMs: convergence.waitedMs,
      lostWrites: lost.size,
      lostOrderIds,
      productsSoldTwice: doubleSold.length,
      doubleSold,
      checkedAgainst,
    },
    servedPerRegion: servedOverTime(ops, durationMs, regions),
    notes,
    ...(opts.includeOps ? { ops: [...ops].sort((a, b) => a.startedAt - b.startedAt) } : {}),
  };
}
