/** The drill's report as text, for the terminal: the JSON report (report.ts) laid out in sections. */
import { anomalyCounts, type Anomalies } from "./anomalies";
import { compensationLine } from "./compensation";
import type { Bucket, DrillReport } from "./report";
import { repairLine } from "./verify";

const pad = (s: string, n: number): string => s.padStart(n);
const secs = (ms: number | null | undefined): string =>
  ms === null || ms === undefined
    ? "n/a"
    : ms < 1000
      ? `${Math.round(ms)} ms`
      : `${(ms / 1000).toFixed(1)} s`;
const n = (v: number | undefined): string => (v === undefined ? "-" : String(v));

/** Up to three ids of each anomaly that happened, for the text report. */
function anomalyExamples(a: Anomalies): string[] {
  const few = (ids: string[]): string =>
    ids.slice(0, 3).join(", ") + (ids.length > 3 ? `, ... (${ids.length})` : "");
  const out: string[] = [];
  const add = (name: string, ids: string[]): void => {
    if (ids.length > 0) out.push(`${name}: ${few(ids)}`);
  };
  add(
    "double-sold products",
    a.doubleSold.products.map((p) => p.productId),
  );
  add(
    "resold products",
    a.resold.products.map((p) => p.productId),
  );
  add(
    "overwritten orders",
    a.overwrittenAcknowledged.orders.map((o) => o.orderId),
  );
  add("products sold without order", [
    ...new Set(a.soldWithoutOrder.products.map((p) => p.productId)),
  ]);
  add("lost orders", a.lostAcknowledged.orderIds);
  return out;
}

/** Mode, its members and what a write costs: acknowledged orders' latency, p50 and p99. */
export function consistencyLine(r: DrillReport): string {
  const c = r.settings.consistency;
  const create = r.requests.latencyMs.create;
  const cost = `write latency (acknowledged orders) p50 ${n(create.p50)} ms, p99 ${n(create.p99)} ms`;
  if (c === undefined || c.mode === "eventual")
    return `consistency eventual (MREC, last writer wins); ${cost}`;
  const members = (c.members ?? []).map((m) =>
    m.role === "witness" ? `witness ${m.name}` : m.name,
  );
  return (
    `consistency strong (MRSC: ${members.join(", ")}; +${c.writeLatencyMs ?? "?"} ms cross-region ` +
    `per write); ${cost}`
  );
}

/** The report as text, for the terminal. */
export function formatReport(r: DrillReport, bucketS = 5): string {
  return [
    ...settingsLines(r),
    "",
    ...rtoLines(r),
    "",
    ...requestLines(r),
    "",
    ...lagLines(r),
    "",
    ...dataLines(r),
    "",
    ...servedLines(r, bucketS),
    ...r.notes.map((note) => `note: ${note}`),
  ].join("\n");
}

/** The headline: scenario and fault, the target's settings, the load and its shapes. */
function settingsLines(r: DrillReport): string[] {
  const s = r.settings;
  return [
    `Failover drill: ${r.scenario} (${r.fault} at ${s.faultAtS} s)`,
    `target ${r.target}; regions ${r.regions.join(", ")}; TTL ${s.ttlSeconds ?? "?"} s; ` +
      `policy ${s.policy ?? "?"}; health check ${s.healthCheck ? `${s.healthCheck.intervalMs} ms x ${s.healthCheck.failureThreshold}` : "?"}; ` +
      `replication lag ${s.replicationLag ?? "?"}`,
    `load ${s.ratePerRegion} order/s per region (create, then read back) from ${s.clientsPerRegion} client(s) per region; ` +
      `${s.durationS} s; client failover ${s.clientFailover ? "on" : "off"}`,
    `shapes: contention ${s.contention} (spread ${s.contentionSpreadMs} ms, ${r.load.rivalOrders} rival orders); ` +
      `retry elsewhere ${s.retryElsewhere ? `after ${s.retryAfterMs} ms (${r.load.retriedElsewhere} retried)` : "off"}; ` +
      `resale after loss ${r.scenario === "region-loss" ? `${r.load.resaleOrders} offers` : "n/a"}`,
    consistencyLine(r),
  ];
}

/** RTO: when traffic moved off the faulted region, and when 99% of requests succeeded again. */
function rtoLines(r: DrillReport): string[] {
  const lines = ["RTO (client-observed, from the fault)"];
  if (r.scenario === "replication-pause") {
    lines.push("  traffic moved                   n/a (replication-pause moves no traffic)");
  } else {
    const moved = Object.entries(r.rto.movedMsByClient);
    const detail =
      moved.length === 0
        ? "no client was on it"
        : moved.length <= 3
          ? moved.map(([c, v]) => `${c} ${secs(v)}`).join(", ")
          : `${moved.length} clients: first ${secs(r.rto.firstMovedMs)}, median ${secs(r.rto.medianMovedMs)}`;
    lines.push(
      `  traffic moved off ${r.faultRegion.padEnd(13)} ${secs(r.rto.trafficMovedMs)} (slowest client; ${detail})`,
    );
  }
  lines.push(`  99% of requests succeeding     ${secs(r.rto.recovered99Ms)}`);
  return lines;
}

/** Operations and HTTP requests, in all and after the fault, and their latency. */
function requestLines(r: DrillReport): string[] {
  const q = r.requests;
  return [
    "Requests",
    `  ${q.ops} operations: ${q.ok} ok, ${q.failed} failed, ${q.refused} refused, ${q.staleReads} stale reads; ${q.attempts} HTTP requests, ${q.failedAttempts} failed`,
    `  after the fault: ${q.afterFault.ops} operations, ${q.afterFault.failed} failed, ${q.afterFault.failedAttempts} failed requests, ${q.afterFault.staleReads} stale reads` +
      (r.settings.clientFailover ? `; ${q.savedByClientFailover} saved by client failover` : ""),
    `  latency ms: create p50 ${n(q.latencyMs.create.p50)} p99 ${n(q.latencyMs.create.p99)}; read p50 ${n(q.latencyMs.read.p50)} p99 ${n(q.latencyMs.read.p99)}`,
  ];
}

/** Replication lag per table, as a table. */
function lagLines(r: DrillReport): string[] {
  return [
    "Replication lag (ms), changes applied during the run",
    `  ${"table".padEnd(10)}${pad("p50", 7)}${pad("p95", 7)}${pad("p99", 7)}${pad("max", 7)}${pad("count", 7)}`,
    ...Object.entries(r.replicationLagMs).map(
      ([table, l]) =>
        `  ${table.padEnd(10)}${pad(n(l.p50), 7)}${pad(n(l.p95), 7)}${pad(n(l.p99), 7)}${pad(n(l.max), 7)}${pad(String(l.count), 7)}`,
    ),
  ];
}

/** What the surviving regions' data showed: RPO, the repair step, anomalies, compensation. */
function dataLines(r: DrillReport): string[] {
  const p = r.rpo;
  const lines = [
    `RPO (after ${p.converged ? "replication converged" : "replication did NOT converge"}, ${secs(p.convergenceWaitMs)})`,
    `  acknowledged orders ${p.acknowledgedOrders}; lost writes (missing from ${p.survivingRegions.join(", ")}): ${p.lostWrites}`,
    "",
    `Anomalies (checked against ${p.checkedAgainst})`,
  ];
  if (r.repair !== undefined) lines.push(`  ${repairLine(r.repair)}`);
  lines.push(`  ${anomalyCounts(r.anomalies)}${r.repair?.ran === true ? " (after repair)" : ""}`);
  for (const line of anomalyExamples(r.anomalies)) lines.push(`  ${line}`);
  const c = r.compensation;
  if (c !== undefined) {
    lines.push("");
    lines.push(`Compensation (after ${secs(c.settleWaitMs)} more)`);
    lines.push(`  ${compensationLine(c)}`);
    const few = [...new Set(c.outstandingProducts.map((p) => p.productId))];
    if (few.length > 0) lines.push(`  outstanding: ${few.slice(0, 3).join(", ")}`);
  }
  return lines;
}

/** Requests served per region and failed, in `bucketS`-second rows; the fault's row marked. */
function servedLines(r: DrillReport, bucketS: number): string[] {
  const faultAtS = r.settings.faultAtS;
  const lines = [
    `Requests served per region (${bucketS} s buckets; t = seconds since start, fault at ${faultAtS} s)`,
    `  ${"t".padStart(7)}${r.regions.map((x) => pad(x, 12)).join("")}${pad("failed", 8)}`,
  ];
  const per = Math.max(1, Math.round(bucketS));
  for (let i = 0; i < r.servedPerRegion.length; i += per) {
    const group = r.servedPerRegion.slice(i, i + per);
    const from = group[0]?.t ?? 0;
    const sum = (f: (b: Bucket) => number): number => group.reduce((a, b) => a + f(b), 0);
    const mark = faultAtS >= from && faultAtS < from + per ? " <- fault" : "";
    lines.push(
      `  ${`${from}-${from + per}`.padStart(7)}${r.regions.map((x) => pad(String(sum((b) => b.byRegion[x] ?? 0)), 12)).join("")}${pad(String(sum((b) => b.failed)), 8)}${mark}`,
    );
  }
  return lines;
}
