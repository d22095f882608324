/**
 * The sandbox's global endpoint: plays Route 53 (health checks, latency or failover routing, a
 * TTL that keeps a client on its answer) and ARC (routing controls with the safety rule) in one
 * HTTP server that forwards each API request to the region chosen for its client.
 *
 * A client is who sends `x-client-id` (else its IP address, like a stub resolver), located in the
 * region named by `x-client-region` if any. Proxied responses carry `x-resolved-region`, the
 * region the "DNS answer" pointed at; `x-served-by-region` comes from the handler itself.
 *
 * The same server answers a small JSON control API under `/control/` and the status page at `/`.
 * Those paths are not part of the service's API.
 */
import { readFileSync } from "node:fs";
import { once } from "node:events";
import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { RepairCounts } from "../functions/data/repair";
import type { TableKey } from "../functions/tables";
import { SERVED_BY_HEADER } from "../functions/http";
import { HEALTH_CHECK_USER_AGENT, pathAsSent, targetUrl } from "./regional-server";
import type { DirectionStats, RegionReplicationStats } from "./replicator/metrics";
import { formatLag, type LagRange } from "./replication-model";
import {
  AnswerCache,
  HealthTracker,
  ROUTING_POLICIES,
  applyControlChange,
  checkTtl,
  eligibleRegions,
  pickRegion,
  type ControlState,
  type HealthCheckSettings,
  type HealthView,
  type RoutingPolicy,
} from "./routing";
import { Ring, type Summary } from "./stats";

import {
  HttpError,
  handleControl,
  json,
  type ControlSurface,
  type RegionPart,
} from "./control-api";
export { HttpError, REGION_PARTS, type RegionPart } from "./control-api";

export const CLIENT_ID_HEADER = "x-client-id";
export const CLIENT_REGION_HEADER = "x-client-region";
export const RESOLVED_REGION_HEADER = "x-resolved-region";

/** Proxied requests give up after this long (API Gateway's own limit is 29 s). */
const PROXY_TIMEOUT_MS = 10_000;

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

export interface GlobalEndpointOptions {
  /** Regions in order (the failover order); base URL of each region's API. */
  readonly regions: readonly { readonly name: string; readonly url: string }[];
  readonly hooks: SandboxHooks;
  readonly policy: RoutingPolicy;
  readonly ttlSeconds: number;
  readonly healthCheck: HealthCheckSettings;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** Where unexpected failures of a request are reported (the client gets a generic 500). */
  readonly onError?: (message: string, err: unknown) => void;
}

export interface ProxiedRequest {
  readonly id: number;
  /** Epoch ms the request arrived. */
  readonly at: number;
  readonly clientId: string;
  readonly clientRegion?: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly resolvedRegion: string;
  readonly servedBy?: string | undefined;
  /** HTTP status; 502 when the region did not answer. */
  readonly status: number;
  readonly ms: number;
  readonly error?: string | undefined;
}

export interface SandboxEvent {
  readonly at: number;
  readonly kind: "control" | "health" | "region" | "replication" | "settings";
  readonly message: string;
}

function loadStatusPage(): string {
  try {
    return readFileSync(join(__dirname, "status-page.html"), "utf8");
  } catch {
    return "<!doctype html><title>status page missing</title><p>local/status-page.html not found</p>";
  }
}

export class GlobalEndpoint {
  readonly order: readonly string[];
  private readonly urls: Map<string, URL>;
  private readonly agents = new Map<string, Agent>();
  private readonly hooks: SandboxHooks;
  private readonly host: string;
  private port: number;
  private server?: Server | undefined;
  private controls: Record<string, ControlState>;
  private readonly health = new Map<string, HealthTracker>();
  private readonly checking = new Set<string>();
  private healthTimer?: NodeJS.Timeout | undefined;
  private healthSettings: HealthCheckSettings;
  private policy: RoutingPolicy;
  private ttlSeconds: number;
  private readonly cache = new AnswerCache();
  private readonly log = new Ring<ProxiedRequest>(20_000);
  private readonly events = new Ring<SandboxEvent>(500);
  private readonly sse = new Set<ServerResponse>();
  private sseTimer?: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly startedAt = Date.now();
  private readonly page = loadStatusPage();
  private readonly onError: (message: string, err: unknown) => void;
  /** What the control API sees of this endpoint and of the sandbox behind it. */
  private readonly surface: ControlSurface;

  constructor(opts: GlobalEndpointOptions) {
    this.order = opts.regions.map((r) => r.name);
    this.urls = new Map(opts.regions.map((r) => [r.name, new URL(r.url)]));
    for (const r of this.order) {
      this.agents.set(r, new Agent({ keepAlive: true, maxSockets: 64 }));
      this.health.set(r, new HealthTracker(opts.healthCheck.failureThreshold));
    }
    this.hooks = opts.hooks;
    this.host = opts.host ?? "127.0.0.1";
    this.port = opts.port ?? 0;
    this.controls = Object.fromEntries(this.order.map((r) => [r, "On" as ControlState]));
    this.healthSettings = opts.healthCheck;
    this.policy = opts.policy;
    this.ttlSeconds = checkTtl(opts.ttlSeconds);
    this.onError = opts.onError ?? (() => undefined);
    const hooks = this.hooks;
    this.surface = {
      order: this.order,
      routingControls: () => this.routingControls(),
      setRoutingControls: (change) => this.setRoutingControls(change),
      settings: () => this.settings(),
      setTtl: (ttl) => this.setTtl(ttl),
      setPolicy: (policy) => this.setPolicy(policy),
      setHealthCheck: (settings) => this.setHealthCheck(settings),
      setLag: (lag) => hooks.setLag(lag),
      flushAnswers: () => this.flushAnswers(),
      requests: (o) => this.requests(o),
      state: () => this.state(),
      openEvents: (req, res) => this.openEvents(req, res),
      event: (kind, message) => this.event(kind, message),
      stopRegion: (region, part) => hooks.stopRegion(region, part),
      startRegion: (region, part) => hooks.startRegion(region, part),
      regionStatus: (region) => hooks.regionStatus(region),
      pauseReplication: (from, to) => hooks.pauseReplication(from, to),
      resumeReplication: (from, to) => hooks.resumeReplication(from, to),
      replication: (since) => hooks.replication(since),
      convergence: () => hooks.convergence(),
      scan: (region, table) => hooks.scan(region, table),
      repair: (regions, dryRun) => {
        if (!hooks.repair) throw new Error("this sandbox cannot run the repair step");
        return hooks.repair(regions, dryRun);
      },
      consistency: () => hooks.consistency?.() ?? { mode: "eventual" },
      setWitness: (up) => {
        if (!hooks.setWitness) throw new Error("this sandbox has no witness");
        hooks.setWitness(up);
      },
    };
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.route(req, res));
    server.listen(this.port, this.host);
    try {
      await Promise.race([
        once(server, "listening"),
        once(server, "error").then(([err]) => {
          throw err;
        }),
      ]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        code === "EADDRINUSE"
          ? `port ${this.port} for the global endpoint is taken; pass --port N (0 picks a free one)`
          : `cannot listen for the global endpoint: ${String(err)}`,
        { cause: err },
      );
    }
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.scheduleHealthChecks();
    void this.checkAll();
    this.sseTimer = setInterval(() => this.broadcast(), 1_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.healthTimer);
    clearInterval(this.sseTimer);
    for (const res of this.sse) res.end();
    this.sse.clear();
    for (const agent of this.agents.values()) agent.destroy();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = once(server, "close");
    server.close();
    server.closeAllConnections();
    await closed;
  }

  // ---- routing controls, health, settings ------------------------------------------------

  routingControls(): Record<string, ControlState> {
    return { ...this.controls };
  }

  /** Applies a batch of control changes, all or nothing; throws `SafetyRuleError` if refused. */
  setRoutingControls(change: Readonly<Record<string, ControlState>>): Record<string, ControlState> {
    const next = applyControlChange(this.controls, change);
    const flipped = Object.keys(change).filter((r) => this.controls[r] !== next[r]);
    this.controls = next;
    for (const r of flipped) this.event("control", `routing control ${r} -> ${next[r]}`);
    this.notify();
    return this.routingControls();
  }

  healthOf(region: string): HealthView {
    return this.tracker(region).view();
  }

  isHealthy(region: string): boolean {
    return this.tracker(region).view().healthy;
  }

  settings(): {
    ttlSeconds: number;
    policy: RoutingPolicy;
    healthCheck: HealthCheckSettings;
    lag: LagRange;
    lagText: string;
  } {
    const lag = this.hooks.lag();
    return {
      ttlSeconds: this.ttlSeconds,
      policy: this.policy,
      healthCheck: this.healthSettings,
      lag,
      lagText: formatLag(lag),
    };
  }

  setTtl(ttlSeconds: number): void {
    this.ttlSeconds = checkTtl(ttlSeconds);
    this.event("settings", `TTL ${ttlSeconds} s`);
  }

  setPolicy(policy: RoutingPolicy): void {
    if (!ROUTING_POLICIES.includes(policy)) {
      throw new HttpError(
        400,
        "BadRequest",
        `policy must be one of ${ROUTING_POLICIES.join(", ")}: got ${policy}`,
      );
    }
    this.policy = policy;
    this.event("settings", `routing policy ${policy}`);
  }

  setHealthCheck(settings: Partial<HealthCheckSettings>): void {
    const next = { ...this.healthSettings, ...settings };
    if (!(next.intervalMs >= 50 && next.intervalMs <= 600_000)) {
      throw new HttpError(
        400,
        "BadRequest",
        `healthCheck.intervalMs must be 50..600000: got ${next.intervalMs}`,
      );
    }
    if (!(next.timeoutMs >= 10 && next.timeoutMs <= 60_000)) {
      throw new HttpError(
        400,
        "BadRequest",
        `healthCheck.timeoutMs must be 10..60000: got ${next.timeoutMs}`,
      );
    }
    for (const t of this.health.values()) t.setThreshold(next.failureThreshold);
    this.healthSettings = next;
    this.scheduleHealthChecks();
    this.event(
      "settings",
      `health checks every ${next.intervalMs} ms, threshold ${next.failureThreshold}, timeout ${next.timeoutMs} ms`,
    );
  }

  /** Forgets every cached answer: the next request of each client resolves afresh. */
  flushAnswers(): void {
    this.cache.flush();
    this.event("settings", "resolver caches flushed");
  }

  /** Records an event (the sandbox's own actions too), shown on the status page. */
  event(kind: SandboxEvent["kind"], message: string): void {
    this.events.push({ at: Date.now(), kind, message });
    this.notify();
  }

  requests(opts: { since?: number; clientPrefix?: string; limit?: number } = {}): ProxiedRequest[] {
    let list = this.log.toArray();
    if (opts.since !== undefined) list = list.filter((r) => r.at >= (opts.since as number));
    if (opts.clientPrefix !== undefined)
      list = list.filter((r) => r.clientId.startsWith(opts.clientPrefix as string));
    if (opts.limit !== undefined) list = list.slice(-opts.limit);
    return list;
  }

  /** Runs one round of health checks now (tests, and right after a region starts). */
  async checkAll(): Promise<void> {
    await Promise.all(this.order.map((r) => this.checkRegion(r)));
  }

  private tracker(region: string): HealthTracker {
    const t = this.health.get(region);
    if (!t)
      throw new HttpError(
        404,
        "NotFound",
        `unknown region ${region}; regions: ${this.order.join(", ")}`,
      );
    return t;
  }

  private scheduleHealthChecks(): void {
    clearInterval(this.healthTimer);
    if (!this.server) return;
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
    if (!this.server) return;
    const ms = Math.round(performance.now() - started);
    if (this.tracker(region).record(ok, detail, ms)) {
      this.event("health", `${region} is ${ok ? "healthy" : "unhealthy"} (${detail})`);
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  /** Never rejects: an unexpected failure is this request's 500, logged, and serving goes on. */
  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Taken as sent, as the regions take it: `/.` is not the status page.
      const raw = req.url ?? "/";
      const url = targetUrl(raw);
      if (url === undefined) {
        json(res, 400, { error: "ClientError", message: "the request target is not a valid path" });
        return;
      }
      const path = pathAsSent(raw, url);
      if (req.method === "GET" && (path === "/" || path === "/status")) {
        res.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
        });
        res.end(this.page);
        return;
      }
      if (path === "/control" || path.startsWith("/control/")) {
        await handleControl(this.surface, req, res, this.onError);
        return;
      }
      this.proxy(req, res, path);
    } catch (err) {
      this.failed(req, res, err);
    }
  }

  private failed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    this.onError(`global endpoint: ${req.method} ${req.url} failed`, err);
    try {
      if (res.headersSent) res.destroy();
      else
        json(res, 500, { error: "InternalError", message: "internal error (see the sandbox log)" });
    } catch {
      res.destroy();
    }
  }

  private proxy(req: IncomingMessage, res: ServerResponse, path: string): void {
    const at = Date.now();
    const started = performance.now();
    const clientId = header(req, CLIENT_ID_HEADER) ?? `ip:${req.socket.remoteAddress ?? "?"}`;
    const wantedRegion = header(req, CLIENT_REGION_HEADER);
    const clientRegion =
      wantedRegion !== undefined && this.order.includes(wantedRegion) ? wantedRegion : undefined;
    const answer = this.cache.get(clientId, this.ttlSeconds, () =>
      pickRegion(
        this.policy,
        this.order,
        eligibleRegions(this.order, this.controls, (r) => this.isHealthy(r)),
        {
          id: clientId,
          region: clientRegion,
        },
      ),
    );
    const region = answer.region;
    const target = this.urls.get(region) as URL;
    const headers = { ...req.headers };
    for (const h of ["host", "connection", "keep-alive"]) delete headers[h];
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "127.0.0.1";

    let done = false;
    const finish = (status: number, servedBy: string | undefined, error?: string): void => {
      if (done) return;
      done = true;
      this.log.push({
        id: this.nextId++,
        at,
        clientId,
        clientRegion,
        method: req.method ?? "GET",
        path,
        resolvedRegion: region,
        servedBy,
        status,
        ms: Math.round(performance.now() - started),
        error,
      });
    };

    const upstream = request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent: this.agents.get(region),
      timeout: PROXY_TIMEOUT_MS,
    });
    upstream.on("response", (up) => {
      try {
        this.relay(up, res, region, finish);
      } catch (err) {
        up.resume();
        finish(500, undefined, "relay failed");
        this.failed(req, res, err);
      }
    });
    upstream.on("timeout", () =>
      upstream.destroy(new Error(`no answer within ${PROXY_TIMEOUT_MS} ms`)),
    );
    upstream.on("error", (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      finish(502, undefined, code);
      if (!res.headersSent) {
        res.setHeader(RESOLVED_REGION_HEADER, region);
        json(res, 502, {
          error: "RegionUnreachable",
          message: `${region} did not answer: ${code}`,
        });
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  }

  /** Passes a region's answer through to the client, naming the region it resolved to. */
  private relay(
    up: IncomingMessage,
    res: ServerResponse,
    region: string,
    finish: (status: number, servedBy: string | undefined, error?: string) => void,
  ): void {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) {
      if (v !== undefined && !["connection", "keep-alive", "transfer-encoding"].includes(k))
        out[k] = v;
    }
    out[RESOLVED_REGION_HEADER] = region;
    res.writeHead(up.statusCode ?? 502, out);
    up.pipe(res);
    const servedBy = up.headers[SERVED_BY_HEADER];
    up.on("end", () =>
      finish(up.statusCode ?? 502, typeof servedBy === "string" ? servedBy : undefined),
    );
    up.on("error", (err) => finish(502, undefined, err.message));
  }

  /** Everything the status page shows. */
  async state(): Promise<Record<string, unknown>> {
    const now = Date.now();
    const log = this.log.toArray();
    const recentWindow = log.filter((r) => r.at >= now - 60_000);
    const clients = this.cache.countByRegion(now);
    const regions = this.order.map((name) => {
      const viaGlobal = recentWindow.filter((r) => r.servedBy === name);
      return {
        name,
        url: this.urls.get(name)?.toString().replace(/\/$/, ""),
        control: this.controls[name],
        health: this.healthOf(name),
        ...this.hooks.regionStatus(name),
        viaGlobalLast10s: viaGlobal.filter((r) => r.at >= now - 10_000).length,
        clients: clients[name] ?? 0,
      };
    });
    const buckets: { t: number; byRegion: Record<string, number>; failed: number }[] = [];
    const first = Math.floor((now - 60_000) / 1000);
    for (let s = first; s <= Math.floor(now / 1000); s++)
      buckets.push({ t: s * 1000, byRegion: {}, failed: 0 });
    for (const r of recentWindow) {
      const b = buckets[Math.floor(r.at / 1000) - first];
      if (!b) continue;
      if (r.status >= 500 || r.servedBy === undefined) b.failed++;
      else b.byRegion[r.servedBy] = (b.byRegion[r.servedBy] ?? 0) + 1;
    }
    return {
      now,
      startedAt: this.startedAt,
      url: this.url,
      settings: this.settings(),
      regions,
      replication: this.hooks.replication(now - 60_000),
      consistency: this.hooks.consistency?.() ?? { mode: "eventual" },
      recent: log.slice(-25).reverse(),
      traffic: buckets,
      events: this.events.toArray().slice(-30).reverse(),
    };
  }

  openEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    res.write(": connected\n\n");
    this.sse.add(res);
    req.on("close", () => this.sse.delete(res));
    void this.sendState(res);
  }

  private notifyTimer?: NodeJS.Timeout | undefined;
  /** Pushes the state soon (coalescing bursts of changes). */
  private notify(): void {
    if (this.notifyTimer || this.sse.size === 0) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.broadcast();
    }, 50);
  }

  private broadcast(): void {
    for (const res of this.sse) void this.sendState(res);
  }

  private async sendState(res: ServerResponse): Promise<void> {
    try {
      const state = await this.state();
      if (!res.writableEnded) res.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
    } catch {
      // A region stopping mid-way; the next tick sends a fresh state.
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}
