/**
 * What the drill needs from the system it tests, as small interfaces. The measuring code
 * (run.ts and its phases, report.ts) only talks to a `DrillTarget`; `SandboxTarget` implements it over the
 * sandbox's global endpoint and control API. A deployed pair of stacks plugs in as another
 * implementation: SigV4-signed requests to the service name and the regional invoke URLs for
 * `ServiceEndpoints`, the ARC cluster client (trying each cluster endpoint) for
 * `RoutingControlClient`, CloudWatch ReplicationLatency for `ReplicationObserver.lag`; the faults
 * it cannot cause are left out and the scenarios needing them are refused up front.
 */
import type { RepairCounts } from "../../functions/data/repair";
import type { Summary } from "../stats";
import type { RegionTables } from "./anomalies";
import type { Scenario } from "./report";

export type ControlState = "On" | "Off";

/** A client of the service: its resolver identity and where it runs. */
export interface ClientIdentity {
  readonly id: string;
  readonly region: string;
}

export interface ApiCall {
  readonly method: "GET" | "POST" | "PUT";
  /** Path and query string. */
  readonly path: string;
  readonly body?: unknown;
  /** Give up after this long instead of the target's usual request timeout (setup writes). */
  readonly timeoutMs?: number;
}

export interface ApiResult {
  /** HTTP status; 0 when no response came (connection refused, timeout). */
  readonly status: number;
  /** `x-served-by-region`: the region whose handler answered. */
  readonly servedBy?: string | undefined;
  /** The region the global name resolved to, when the target can tell. */
  readonly resolvedRegion?: string | undefined;
  readonly body?: unknown;
  /** Why no response came, or the error code of an error response. */
  readonly error?: string | undefined;
  /** Epoch ms the request was sent, and how long it took. */
  readonly startedAt: number;
  readonly ms: number;
}

export interface ServiceEndpoints {
  /** Regions in order; the first is the failover primary. */
  readonly regions: readonly string[];
  /** A request to the service's global name, made as `client`. */
  viaGlobal(call: ApiCall, client: ClientIdentity): Promise<ApiResult>;
  /** A request straight to one region's endpoint (client-side failover, checks after a run). */
  viaRegion(region: string, call: ApiCall): Promise<ApiResult>;
}

export interface RoutingControlClient {
  get(): Promise<Record<string, ControlState>>;
  /** Changes several controls at once; rejects if the safety rules refuse the result. */
  set(states: Readonly<Record<string, ControlState>>): Promise<void>;
}

/** Faults the drill can cause. A target leaves out what it cannot do. */
export interface FaultInjector {
  /** How this target causes a scenario's fault, for progress lines and the report. */
  describe?(scenario: Scenario, region: string): string;
  stopRegion?(region: string): Promise<void>;
  startRegion?(region: string): Promise<void>;
  pauseReplication?(from?: string, to?: string): Promise<void>;
  resumeReplication?(from?: string, to?: string): Promise<void>;
}

export interface ConvergenceResult {
  readonly converged: boolean;
  readonly waitedMs: number;
  readonly detail?: string | undefined;
}

export interface ReplicationObserver {
  /** Replication lag per table over changes applied since `sinceMs` (epoch ms), every direction. */
  lag(sinceMs: number): Promise<Record<string, Summary>>;
  /** Waits until replication between running regions has nothing in flight. */
  waitConverged(timeoutMs: number): Promise<ConvergenceResult>;
  /**
   * Every item of a region's orders and products tables, if the target can read them in full
   * (else the drill reads back the orders it placed, one by one, through the API).
   */
  scanTables?(region: string): Promise<RegionTables>;
}

/** How the target's tables replicate (the sandbox's `--consistency`). */
export interface ConsistencySetting {
  readonly mode: "eventual" | "strong";
  /** Strong: latency added to each write of a strong table. */
  readonly writeLatencyMs?: number | undefined;
  /** Strong: replicas and witness. */
  readonly members?: readonly { readonly name: string; readonly role: string }[] | undefined;
}

export interface TargetSettings {
  readonly consistency?: ConsistencySetting | undefined;
  readonly ttlSeconds?: number | undefined;
  readonly policy?: string | undefined;
  readonly healthCheck?:
    { readonly intervalMs: number; readonly failureThreshold: number } | undefined;
  readonly lag?: string | undefined;
}

export interface DrillTarget {
  /** Shown in reports: "sandbox http://127.0.0.1:8080". */
  readonly name: string;
  readonly endpoints: ServiceEndpoints;
  readonly controls: RoutingControlClient;
  readonly faults: FaultInjector;
  readonly replication: ReplicationObserver;
  /**
   * Runs the repair step (functions/data/repair.ts `repairSales`) over one region's tables: a
   * SOLD product whose order is missing gets its order, one whose order is for another product
   * goes back IN_STOCK. A target that cannot leaves it out; the drill then counts what it finds.
   */
  repair?(region: string): Promise<RepairCounts>;
  /** Sets how long clients keep an answer, where the target allows it (a record's TTL is fixed). */
  setTtl?(seconds: number): Promise<void>;
  settings(): Promise<TargetSettings>;
}
