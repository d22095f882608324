/**
 * What the replicator reports: per direction and table its backlog, counters and lag (the
 * control API's replication view, and the CloudWatch stand-in's ReplicationLatency series).
 */
import type { TableKey } from "../../functions/tables";
import { summarize, type Summary } from "../stats";
import type { Direction } from "./state";

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

/** One direction's stats, its lag over changes applied since `sinceMs`, ages as of `now`. */
export function directionStats(
  d: Direction,
  paused: boolean,
  sinceMs: number,
  now: number,
): DirectionStats {
  const samples = d.lags.toArray().filter((s) => s.at >= sinceMs);
  const oldest = d.queue.oldestChangeTs();
  return {
    from: d.from,
    to: d.to,
    table: d.table,
    paused,
    backlog: d.queue.size + d.inflight,
    oldestMs: oldest !== undefined ? now - oldest : undefined,
    applied: d.applied,
    skipped: d.skipped,
    dropped: d.dropped,
    lastMs: d.lastLagMs,
    lag: summarize(samples.map((s) => s.ms)),
  };
}

/** Lag samples (ms) of changes applied since `sinceMs`, per table, every direction together. */
export function lagSamples(
  directions: Iterable<Direction>,
  sinceMs: number,
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const d of directions) {
    const list = (out[d.table] ??= []);
    for (const s of d.lags.toArray()) if (s.at >= sinceMs) list.push(s.ms);
  }
  return out;
}

/**
 * Lag samples (when applied, ms) per direction and table, of changes applied since `sinceMs`:
 * what a CloudWatch ReplicationLatency series is built from (the CloudWatch stand-in).
 */
export function lagSeries(
  directions: Iterable<Direction>,
  sinceMs: number,
): { from: string; to: string; table: TableKey; samples: { at: number; ms: number }[] }[] {
  return [...directions].map((d) => ({
    from: d.from,
    to: d.to,
    table: d.table,
    samples: d.lags.toArray().filter((s) => s.at >= sinceMs),
  }));
}

/** Counts a change applied through `d` and its lag (from its change time `changeTs`). */
export function recordApplied(d: Direction, changeTs: number): void {
  const ms = Date.now() - changeTs;
  d.applied++;
  d.lastLagMs = ms;
  d.lags.push({ at: Date.now(), ms });
}
