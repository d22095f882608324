/**
 * What the global endpoint asks of the sandbox behind it: each region's status, stopping and
 * starting a region's parts, replication (pause, lag, convergence), table scans, the repair step
 * and the consistency mode. local/sandbox.ts implements these; the control API and the status
 * page read and drive the sandbox only through them.
 */
import type { RepairCounts } from "../../functions/data/repair";
import type { TableKey } from "../../functions/tables";
import type { LagRange } from "../replication-model";
import type { DirectionStats, RegionReplicationStats } from "../replicator/metrics";
import type { Summary } from "../stats";

/** Which part of a region to stop or start. */
export type RegionPart = "api" | "database" | "all";
export const REGION_PARTS = ["api", "database", "all"] as const satisfies readonly RegionPart[];

export interface RegionStatus {
  readonly api: boolean;
  readonly database: boolean;
  /** Why the region answers 503 to every request (its database is down or being refilled). */
  readonly unavailable?: string;
  /** Requests the region's API served (health checks excluded). */
  readonly served: number;
  /** Of those, in the last 10 s. */
  readonly servedLast10s: number;
}

export interface Convergence {
  /** Changes still in flight between running regions. */
  readonly backlog: number;
  /** Every running region holds the same items in every table. */
  readonly identical: boolean;
  readonly differences: readonly {
    table: string;
    region: string;
    missing: number;
    extra: number;
    differing: number;
  }[];
}

/** Replication as the control API reports it; lag is over changes applied since a time. */
export interface ReplicationView {
  readonly directions: DirectionStats[];
  readonly regions: RegionReplicationStats[];
  readonly backlog: number;
  /** Lag per table, every direction together. */
  readonly byTable: Record<string, Summary>;
  readonly sinceMs: number;
}

/** What the control API may do to the rest of the sandbox. */
export interface SandboxHooks {
  regionStatus(region: string): RegionStatus;
  stopRegion(region: string, part: RegionPart): Promise<void>;
  startRegion(region: string, part: RegionPart): Promise<void>;
  pauseReplication(from?: string, to?: string): void;
  resumeReplication(from?: string, to?: string): void;
  replication(sinceMs?: number): ReplicationView;
  lag(): LagRange;
  setLag(lag: LagRange): void;
  convergence(): Promise<Convergence>;
  scan(region: string, table: TableKey): Promise<Record<string, unknown>[]>;
  /** The repair step in `regions` (default: every running region); counts per region. */
  repair?(regions?: readonly string[], dryRun?: boolean): Promise<Record<string, RepairCounts>>;
  /** The consistency mode's state (mode, members, write latency); see local/mrsc/mode.ts. */
  consistency?(): unknown;
  setWitness?(up: boolean): void;
}
