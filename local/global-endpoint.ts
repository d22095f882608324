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
import { TABLE_KEYS, type TableKey } from "../functions/tables";
import { SERVED_BY_HEADER } from "../functions/http";
import { HEALTH_CHECK_USER_AGENT } from "./regional-server";
import type { DirectionStats, RegionReplicationStats } from "./replicator";
import { checkLag, formatLag, parseLag, type LagRange } from "./replication-model";
import {
  AnswerCache,
  HealthTracker,
  ROUTING_POLICIES,
  SafetyRuleError,
  applyControlChange,
  checkTtl,
  eligibleRegions,
  parseControlState,
  pickRegion,
  type ControlState,
  type HealthCheckSettings,
  type HealthView,
  type RoutingPolicy,
} from "./routing";
import { Ring, type Summary } from "./stats";

/** Which part of a region to stop or start. */
export type RegionPart = "api" | "database" | "all";
export const REGION_PARTS: readonly RegionPart[] = ["api", "database", "all"];

export const CLIENT_ID_HEADER = "x-client-id";
export const CLIENT_REGION_HEADER = "x-client-region";
export const RESOLVED_REGION_HEADER = "x-resolved-region";

/** Proxied requests give up after this long (API Gateway's own limit is 29 s). */
const PROXY_TIMEOUT_MS = 10_000;
const MAX_CONTROL_BODY = 64 * 1024;

export interface RegionStatus {
  readonly api: boolean;
  readonly database: boolean;
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

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method === "GET" && (path === "/" || path === "/status")) {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(this.page);
      return;
    }
    if (path === "/control" || path.startsWith("/control/")) {
      try {
        await this.control(req, res, path);
      } catch (err) {
        if (res.headersSent) return;
        if (err instanceof HttpError)
          json(res, err.status, { error: err.code, message: err.message });
        else if (err instanceof SafetyRuleError)
          json(res, 409, { error: "SafetyRuleViolation", message: err.message });
        else
          json(res, 400, {
            error: "BadRequest",
            message: err instanceof Error ? err.message : String(err),
          });
      }
      return;
    }
    this.proxy(req, res, path);
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

  private async control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = path.split("/").filter(Boolean).slice(1).map(decodeURIComponent);
    const method = req.method ?? "GET";
    const route = `${method} /${parts.map((p, i) => (i > 0 && this.isParam(parts, i) ? "*" : p)).join("/")}`;

    switch (route) {
      case "GET /state":
        return json(res, 200, await this.state());
      case "GET /events":
        return this.openEvents(req, res);
      case "GET /routing-controls":
        return json(res, 200, { states: this.routingControls() });
      case "PUT /routing-controls": {
        const body = await readJson(req);
        const raw = (isObject(body) && isObject(body.states) ? body.states : body) as unknown;
        if (!isObject(raw))
          throw new HttpError(
            400,
            "BadRequest",
            'body must be {"states": {"<region>": "On"|"Off"}}',
          );
        const change: Record<string, ControlState> = {};
        for (const [r, v] of Object.entries(raw)) change[r] = parseControlState(v);
        this.checkRegions(Object.keys(change));
        return json(res, 200, { states: this.setRoutingControls(change) });
      }
      case "PUT /routing-controls/*": {
        const region = parts[1] as string;
        this.checkRegions([region]);
        const body = await readJson(req);
        const state = parseControlState(isObject(body) ? body.state : body);
        return json(res, 200, { states: this.setRoutingControls({ [region]: state }) });
      }
      case "POST /regions/*/stop":
      case "POST /regions/*/start": {
        const region = parts[1] as string;
        this.checkRegions([region]);
        const part = (url.searchParams.get("part") ?? "all") as RegionPart;
        if (!REGION_PARTS.includes(part)) {
          throw new HttpError(
            400,
            "BadRequest",
            `part must be one of ${REGION_PARTS.join(", ")}: got ${part}`,
          );
        }
        if (parts[2] === "stop") await this.hooks.stopRegion(region, part);
        else await this.hooks.startRegion(region, part);
        return json(res, 200, { region, ...this.hooks.regionStatus(region) });
      }
      case "POST /replication/pause":
      case "POST /replication/resume": {
        const body = await readJson(req);
        const from = isObject(body) && typeof body.from === "string" ? body.from : undefined;
        const to = isObject(body) && typeof body.to === "string" ? body.to : undefined;
        this.checkRegions([from, to].filter((r): r is string => r !== undefined));
        const what = `${from ?? "every region"} -> ${to ?? "every region"}`;
        if (parts[1] === "pause") {
          this.hooks.pauseReplication(from, to);
          this.event("replication", `replication paused ${what}`);
        } else {
          this.hooks.resumeReplication(from, to);
          this.event("replication", `replication resumed ${what}`);
        }
        return json(res, 200, this.hooks.replication(Date.now() - 60_000));
      }
      case "GET /replication": {
        const since = numberParam(url, "since") ?? Date.now() - 60_000;
        return json(res, 200, this.hooks.replication(since));
      }
      case "GET /replication/convergence":
        return json(res, 200, await this.hooks.convergence());
      case "GET /settings":
        return json(res, 200, this.settings());
      case "PUT /settings": {
        const body = await readJson(req);
        if (!isObject(body)) throw new HttpError(400, "BadRequest", "body must be a JSON object");
        if (body.ttlSeconds !== undefined) this.setTtl(Number(body.ttlSeconds));
        if (body.policy !== undefined) this.setPolicy(String(body.policy) as RoutingPolicy);
        if (body.lag !== undefined) {
          const lag =
            typeof body.lag === "string"
              ? parseLag(body.lag)
              : checkLag({
                  minMs: Number((body.lag as LagRange).minMs),
                  maxMs: Number((body.lag as LagRange).maxMs),
                });
          this.hooks.setLag(lag);
          this.event("settings", `replication lag ${formatLag(lag)}`);
        }
        if (body.healthCheck !== undefined) {
          if (!isObject(body.healthCheck))
            throw new HttpError(400, "BadRequest", "healthCheck must be an object");
          const hc = body.healthCheck;
          this.setHealthCheck({
            ...(hc.intervalMs !== undefined ? { intervalMs: Number(hc.intervalMs) } : {}),
            ...(hc.failureThreshold !== undefined
              ? { failureThreshold: Number(hc.failureThreshold) }
              : {}),
            ...(hc.timeoutMs !== undefined ? { timeoutMs: Number(hc.timeoutMs) } : {}),
          });
        }
        return json(res, 200, this.settings());
      }
      case "POST /dns/flush":
        this.flushAnswers();
        return json(res, 200, { flushed: true });
      case "GET /requests": {
        const since = numberParam(url, "since");
        const limit = numberParam(url, "limit");
        const clientPrefix = url.searchParams.get("client") ?? undefined;
        return json(res, 200, {
          requests: this.requests({
            ...(since !== undefined ? { since } : {}),
            ...(limit !== undefined ? { limit } : {}),
            ...(clientPrefix !== undefined ? { clientPrefix } : {}),
          }),
        });
      }
      case "GET /tables/*/*": {
        const region = parts[1] as string;
        const table = parts[2] as TableKey;
        this.checkRegions([region]);
        if (!TABLE_KEYS.includes(table)) {
          throw new HttpError(
            404,
            "NotFound",
            `unknown table ${table}; tables: ${TABLE_KEYS.join(", ")}`,
          );
        }
        return json(res, 200, { items: await this.hooks.scan(region, table) });
      }
      default:
        throw new HttpError(404, "NotFound", `no control route ${method} ${path}`);
    }
  }

  /** Which path segments are parameters: region names and table names. */
  private isParam(parts: readonly string[], i: number): boolean {
    const head = parts[0];
    if (head === "routing-controls" || head === "regions") return i === 1;
    if (head === "tables") return i === 1 || i === 2;
    return false;
  }

  private checkRegions(regions: readonly string[]): void {
    for (const r of regions) {
      if (!this.order.includes(r)) {
        throw new HttpError(
          404,
          "NotFound",
          `unknown region ${r}; regions: ${this.order.join(", ")}`,
        );
      }
    }
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
      recent: log.slice(-25).reverse(),
      traffic: buckets,
      events: this.events.toArray().slice(-30).reverse(),
    };
  }

  private openEvents(req: IncomingMessage, res: ServerResponse): void {
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function numberParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n))
    throw new HttpError(400, "BadRequest", `${name} must be a number: got ${raw}`);
  return n;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_CONTROL_BODY)
      throw new HttpError(413, "PayloadTooLarge", "control request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "BadRequest", "body is not valid JSON");
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
