/**
 * Health of this region as `GET /health` reports it to Route 53 and canaries: every table the
 * service uses answers a read within a time bound. The endpoint is unauthenticated, so reasons
 * are coarse ("timed out", "unavailable", "table not found"); details go to the log only.
 */
import { DomainError } from "./errors";
import type { TableKey } from "../tables";

/** Time bound for all checks together when none is configured. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2000;

/** Why a check failed, as shown to the unauthenticated caller. */
export type CheckFailure = "timed out" | "unavailable" | "table not found" | "error";

export interface Check {
  readonly table: TableKey;
  readonly ok: boolean;
  /** How long the probe took, in milliseconds. */
  readonly ms: number;
  readonly reason?: CheckFailure;
}

export interface Healthy {
  readonly status: "ok";
  readonly region: string;
  readonly checks: readonly Check[];
}

/** Healthy when every check passed; otherwise a 503 `Unhealthy` naming each failing table. */
export function summarize(region: string, checks: readonly Check[]): Healthy {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return { status: "ok", region, checks };
  const why = failed.map((c) => `${c.table} ${c.reason ?? "error"}`).join("; ");
  throw new DomainError("Unhealthy", `unhealthy in ${region}: ${why}`, { checks });
}
