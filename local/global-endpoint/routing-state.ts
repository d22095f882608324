/**
 * The global endpoint's routing state, what Route 53 and ARC hold: a routing control per region
 * (with the safety rule), each region's health from periodic checks of its `/health`, the routing
 * policy and TTL, and the answers each client's "resolver" has cached. `resolve` is the DNS
 * answer the proxy forwards by. The pure rules live in local/routing.ts.
 */
import { HEALTH_CHECK_USER_AGENT } from "../regional-server";
import {
  AnswerCache,
  HealthTracker,
  ROUTING_POLICIES,
  applyControlChange,
  checkHealthCheck,
  checkTtl,
  eligibleRegions,
  pickRegion,
  type Answer,
  type ControlState,
  type HealthCheckSettings,
  type HealthView,
  type RoutingPolicy,
} from "../routing";
import type { EventSink } from "./event-feed";

export interface RoutingStateOptions {
  /** Regions in order (the failover order) and the base URL of each region's API. */
  readonly regions: readonly { readonly name: string; readonly url: string }[];
  readonly policy: RoutingPolicy;
  readonly ttlSeconds: number;
  readonly healthCheck: HealthCheckSettings;
  /** Hears of every change (control flips, health flips, settings) for the event feed. */
  readonly events: EventSink;
}

/** The routing settings a person can change from the status page or the control API. */
export interface RoutingSettings {
  readonly ttlSeconds: number;
  readonly policy: RoutingPolicy;
  readonly healthCheck: HealthCheckSettings;
}

export class RoutingState {
  readonly order: readonly string[];
  private readonly urls: ReadonlyMap<string, URL>;
  private readonly events: EventSink;
  private controls: Record<string, ControlState>;
  private readonly health = new Map<string, HealthTracker>();
  private readonly checking = new Set<string>();
  private healthTimer?: NodeJS.Timeout | undefined;
  private checksRunning = false;
  private healthSettings: HealthCheckSettings;
  private policy: RoutingPolicy;
  private ttlSeconds: number;
  private readonly cache = new AnswerCache();

  constructor(opts: RoutingStateOptions) {
    this.order = opts.regions.map((r) => r.name);
    this.urls = new Map(opts.regions.map((r) => [r.name, new URL(r.url)]));
    for (const r of this.order)
      this.health.set(r, new HealthTracker(opts.healthCheck.failureThreshold));
    this.controls = Object.fromEntries(this.order.map((r) => [r, "On" as ControlState]));
    this.healthSettings = opts.healthCheck;
    this.policy = opts.policy;
    this.ttlSeconds = checkTtl(opts.ttlSeconds);
    this.events = opts.events;
  }

  /** The base URL of a region's API (as configured, without a trailing slash). */
  regionUrl(region: string): string | undefined {
    return this.urls.get(region)?.toString().replace(/\/$/, "");
  }

  // ---- routing controls ---------------------------------------------------------------------

  routingControls(): Record<string, ControlState> {
    return { ...this.controls };
  }

  /** Applies a batch of control changes, all or nothing; throws `SafetyRuleError` if refused. */
  setRoutingControls(change: Readonly<Record<string, ControlState>>): Record<string, ControlState> {
    const next = applyControlChange(this.controls, change);
    const flipped = Object.keys(change).filter((r) => this.controls[r] !== next[r]);
    this.controls = next;
    for (const r of flipped) this.events.record("control", `routing control ${r} -> ${next[r]}`);
    this.events.notify();
    return this.routingControls();
  }

  // ---- DNS answers --------------------------------------------------------------------------

  /**
   * The region a client is sent to: its cached answer while the TTL lasts, else a fresh pick
   * among the regions whose control is On and that are healthy. `clientRegion` is where the
   * client is, when it said so and the region exists.
   */
  resolve(clientId: string, clientRegion: string | undefined): Answer {
    return this.cache.get(clientId, this.ttlSeconds, () =>
      pickRegion(
        this.policy,
        this.order,
        eligibleRegions(this.order, this.controls, (r) => this.isHealthy(r)),
        { id: clientId, region: clientRegion },
      ),
    );
  }

  /** Fresh answers per region: how many clients each region currently "owns". */
  clientsByRegion(now: number = Date.now()): Record<string, number> {
    return this.cache.countByRegion(now);
  }

  /** Forgets every cached answer: the next request of each client resolves afresh. */
  flushAnswers(): void {
    this.cache.flush();
    this.events.record("settings", "resolver caches flushed");
  }

  // ---- settings -----------------------------------------------------------------------------

  settings(): RoutingSettings {
    return { ttlSeconds: this.ttlSeconds, policy: this.policy, healthCheck: this.healthSettings };
  }

  setTtl(ttlSeconds: number): void {
    this.ttlSeconds = checkTtl(ttlSeconds);
    this.events.record("settings", `TTL ${ttlSeconds} s`);
  }

  setPolicy(policy: RoutingPolicy): void {
    if (!ROUTING_POLICIES.includes(policy)) {
      throw new Error(`policy must be one of ${ROUTING_POLICIES.join(", ")}: got ${policy}`);
    }
    this.policy = policy;
    this.events.record("settings", `routing policy ${policy}`);
  }

  /** Changes some health check settings; throws (changing nothing) when one is out of bounds. */
  setHealthCheck(settings: Partial<HealthCheckSettings>): void {
    const next = checkHealthCheck({ ...this.healthSettings, ...settings });
    for (const t of this.health.values()) t.setThreshold(next.failureThreshold);
    this.healthSettings = next;
    this.scheduleHealthChecks();
    this.events.record(
      "settings",
      `health checks every ${next.intervalMs} ms, threshold ${next.failureThreshold}, timeout ${next.timeoutMs} ms`,
    );
  }

  // ---- health -------------------------------------------------------------------------------

  healthOf(region: string): HealthView {
    return this.tracker(region).view();
  }

  isHealthy(region: string): boolean {
    return this.tracker(region).view().healthy;
  }

  /** Starts checking every region now and then every interval, until `stopHealthChecks`. */
  startHealthChecks(): void {
    this.checksRunning = true;
    this.scheduleHealthChecks();
    void this.checkAll();
  }

  stopHealthChecks(): void {
    this.checksRunning = false;
    clearInterval(this.healthTimer);
  }

  /** Runs one round of health checks now (tests, and right after a region starts). */
  async checkAll(): Promise<void> {
    await Promise.all(this.order.map((r) => this.checkRegion(r)));
  }

  private tracker(region: string): HealthTracker {
    const t = this.health.get(region);
    if (!t) throw new Error(`unknown region ${region}; regions: ${this.order.join(", ")}`);
    return t;
  }

  private scheduleHealthChecks(): void {
    clearInterval(this.healthTimer);
    if (!this.checksRunning) return;
    this.healthTimer = setInterval(() => void this.checkAll(), this.healthSettings.intervalMs);
  }

  private async checkRegion(region: string): Promise<void> {
    if (this.checking.has(region)) return;
    this.checking.add(region);
    const started = performance.now();
    let ok = false;
    let detail: string;
    try {
      const res = await fetch(new URL("/health", this.urls.get(region)), {
        headers: { "user-agent": HEALTH_CHECK_USER_AGENT },
        signal: AbortSignal.timeout(this.healthSettings.timeoutMs),
      });
      await res.arrayBuffer();
      ok = res.status >= 200 && res.status < 400;
      detail = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      detail = e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.name ?? "error");
    } finally {
      this.checking.delete(region);
    }
    if (!this.checksRunning) return;
    const ms = Math.round(performance.now() - started);
    if (this.tracker(region).record(ok, detail, ms)) {
      this.events.record("health", `${region} is ${ok ? "healthy" : "unhealthy"} (${detail})`);
    }
  }
}
