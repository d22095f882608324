/**
 * What the global endpoint decides, as pure functions and small state holders: routing control
 * states and the safety rule (Route 53 ARC), health from consecutive check results with a
 * failure threshold (Route 53 health checks), which region a client is sent to (latency-like or
 * failover routing), and how long a client keeps that answer (the record's TTL).
 */

export type ControlState = "On" | "Off";
export const CONTROL_STATES: readonly ControlState[] = ["On", "Off"];

export type RoutingPolicy = "latency" | "failover";
export const ROUTING_POLICIES: readonly RoutingPolicy[] = ["latency", "failover"];

/** The Route 53 default TTL of an alias-like record, in seconds. */
export const DEFAULT_TTL_SECONDS = 60;
/** Route 53 accepts TTLs up to two days; more here is surely a typo. */
export const MAX_TTL_SECONDS = 172_800;

/** At least this many regions must stay On: ARC's assertion rule "ATLEAST 1". */
export const MIN_REGIONS_ON = 1;

/** A routing control change refused by the safety rule (the control API answers 409). */
export class SafetyRuleError extends Error {
  override readonly name = "SafetyRuleError";
}

export function parseControlState(value: unknown): ControlState {
  if (value === "On" || value === "Off") return value;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (v === "on") return "On";
    if (v === "off") return "Off";
  }
  throw new Error(`routing control state must be On or Off: got ${JSON.stringify(value)}`);
}

/**
 * The routing control states after applying `change` to `current`, checked against the safety
 * rule as ARC checks a batch update: on the result, all at once. Throws `SafetyRuleError` (with
 * the regions involved) when fewer than `minOn` regions would be On, and a plain Error for an
 * unknown region.
 */
export function applyControlChange(
  current: Readonly<Record<string, ControlState>>,
  change: Readonly<Record<string, ControlState>>,
  minOn: number = MIN_REGIONS_ON,
): Record<string, ControlState> {
  const regions = Object.keys(current);
  for (const region of Object.keys(change)) {
    if (!regions.includes(region)) {
      throw new Error(`unknown region ${region}; routing controls exist for ${regions.join(", ")}`);
    }
  }
  const next = { ...current, ...change };
  const on = regions.filter((r) => next[r] === "On");
  if (on.length < minOn) {
    const turningOff = Object.keys(change).filter((r) => change[r] === "Off");
    throw new SafetyRuleError(
      `refused by the safety rule: at least ${minOn} of ${regions.join(", ")} must stay On, ` +
        `and turning off ${turningOff.join(", ")} would leave ${on.length === 0 ? "none" : on.join(", ")} On`,
    );
  }
  return next;
}

export interface HealthCheckSettings {
  /** Time between checks of each region. */
  readonly intervalMs: number;
  /** Consecutive failures that turn a healthy region unhealthy (and successes that recover it). */
  readonly failureThreshold: number;
  /** A check that takes longer fails. */
  readonly timeoutMs: number;
}

/** What the sandbox accepts for each health check setting (inclusive bounds). */
export const HEALTH_CHECK_LIMITS = {
  intervalMs: { min: 50, max: 600_000 },
  failureThreshold: { min: 1, max: 10 },
  timeoutMs: { min: 10, max: 60_000 },
} as const;

/**
 * Checks health check settings against HEALTH_CHECK_LIMITS; throws an Error naming the first
 * setting out of bounds.
 */
export function checkHealthCheck(settings: HealthCheckSettings): HealthCheckSettings {
  for (const key of ["intervalMs", "timeoutMs"] as const) {
    const { min, max } = HEALTH_CHECK_LIMITS[key];
    const v = settings[key];
    if (!(v >= min && v <= max))
      throw new Error(`healthCheck.${key} must be ${min}..${max}: got ${v}`);
  }
  checkThreshold(settings.failureThreshold);
  return settings;
}

/** Route 53's "fast" interval (10 s) is slow for a sandbox; 2 s x 2 keeps detection near 4 s. */
export const DEFAULT_HEALTH_CHECK: HealthCheckSettings = {
  intervalMs: 2_000,
  failureThreshold: 2,
  timeoutMs: 1_500,
};

export interface HealthView {
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly lastCheck?: {
    readonly at: number;
    readonly ok: boolean;
    readonly detail: string;
    readonly ms: number;
  };
}

/** Health of one region from its check results; starts healthy, as a new record serves at once. */
export class HealthTracker {
  private state: HealthView = { healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 0 };

  constructor(private threshold: number) {
    checkThreshold(threshold);
  }

  setThreshold(threshold: number): void {
    this.threshold = checkThreshold(threshold);
  }

  /** Records a check; returns true when the region's health flipped. */
  record(ok: boolean, detail: string, ms: number, at: number = Date.now()): boolean {
    const s = this.state;
    const consecutiveFailures = ok ? 0 : s.consecutiveFailures + 1;
    const consecutiveSuccesses = ok ? s.consecutiveSuccesses + 1 : 0;
    let healthy = s.healthy;
    if (healthy && consecutiveFailures >= this.threshold) healthy = false;
    if (!healthy && consecutiveSuccesses >= this.threshold) healthy = true;
    this.state = {
      healthy,
      consecutiveFailures,
      consecutiveSuccesses,
      lastCheck: { at, ok, detail, ms },
    };
    return healthy !== s.healthy;
  }

  view(): HealthView {
    return this.state;
  }
}

function checkThreshold(threshold: number): number {
  const { min, max } = HEALTH_CHECK_LIMITS.failureThreshold;
  if (!Number.isInteger(threshold) || threshold < min || threshold > max) {
    throw new Error(
      `health check failure threshold must be a whole number ${min}..${max}: got ${threshold}`,
    );
  }
  return threshold;
}

/**
 * Regions a resolver may answer with: routing control On and healthy. Like Route 53, when every
 * On region is unhealthy it answers with the On regions anyway ("fail open") rather than with
 * nothing; the safety rule keeps at least one On.
 */
export function eligibleRegions(
  regions: readonly string[],
  controls: Readonly<Record<string, ControlState>>,
  healthy: (region: string) => boolean,
): string[] {
  const on = regions.filter((r) => controls[r] === "On");
  const both = on.filter(healthy);
  if (both.length > 0) return both;
  return on.length > 0 ? on : [...regions];
}

/** A stable small hash of a string (FNV-1a), to spread clients without a location. */
export function spread(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The region a resolver answers with.
 * - `latency`: the client's own region when eligible (it is the nearest), else the next eligible
 *   region after it in the configured order; a client of unknown location is spread over the
 *   eligible regions by a hash of its id.
 * - `failover`: the first eligible region in the configured order (primary, then secondaries).
 */
export function pickRegion(
  policy: RoutingPolicy,
  order: readonly string[],
  eligible: readonly string[],
  client: { readonly id: string; readonly region?: string | undefined },
): string {
  if (eligible.length === 0) throw new Error("no region to route to");
  if (policy === "failover")
    return order.find((r) => eligible.includes(r)) ?? (eligible[0] as string);
  if (client.region !== undefined && order.includes(client.region)) {
    const start = order.indexOf(client.region);
    for (let i = 0; i < order.length; i++) {
      const r = order[(start + i) % order.length] as string;
      if (eligible.includes(r)) return r;
    }
  }
  return eligible[spread(client.id) % eligible.length] as string;
}

export interface Answer {
  readonly region: string;
  readonly resolvedAt: number;
  readonly expiresAt: number;
}

/** Per-client cache of answers, as a stub resolver honours a record's TTL. */
export class AnswerCache {
  private readonly answers = new Map<string, Answer>();

  /** The cached answer while it is fresh, else a new one from `resolve`, cached for `ttlSeconds`. */
  get(
    clientId: string,
    ttlSeconds: number,
    resolve: () => string,
    now: number = Date.now(),
  ): Answer {
    const cached = this.answers.get(clientId);
    if (cached && now < cached.expiresAt) return cached;
    const answer = { region: resolve(), resolvedAt: now, expiresAt: now + ttlSeconds * 1000 };
    this.answers.set(clientId, answer);
    // Keep the cache from growing without bound under many one-off clients.
    if (this.answers.size > 10_000) {
      for (const [id, a] of this.answers) if (a.expiresAt <= now) this.answers.delete(id);
    }
    return answer;
  }

  flush(): void {
    this.answers.clear();
  }

  /** Fresh answers per region: how many clients each region currently "owns". */
  countByRegion(now: number = Date.now()): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of this.answers.values())
      if (now < a.expiresAt) out[a.region] = (out[a.region] ?? 0) + 1;
    return out;
  }
}

export function checkTtl(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new Error(`ttl must be 0..${MAX_TTL_SECONDS} seconds: got ${ttlSeconds}`);
  }
  return ttlSeconds;
}
