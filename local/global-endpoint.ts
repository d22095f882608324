/**
 * The sandbox's global endpoint: plays Route 53 (health checks, latency or failover routing, a
 * TTL that keeps a client on its answer) and ARC (routing controls with the safety rule) in one
 * HTTP server that forwards each API request to the region chosen for its client.
 *
 * The same server answers a small JSON control API under `/control/` and the status page at `/`.
 * Those paths are not part of the service's API. Its parts, each in local/global-endpoint/:
 * - routing-state.ts: routing controls, health, policy and TTL, the DNS answers;
 * - proxy.ts: forwarding a request to its client's region, and the request log;
 * - control-api.ts, control-routes.ts, control-bodies.ts: the control API;
 * - event-feed.ts: the live feed the status page subscribes to, and the event list;
 * - sandbox-hooks.ts: what the endpoint asks of the sandbox behind it.
 */
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathAsSent, targetUrl } from "./regional-server";
import { formatLag, type LagRange } from "./replication-model";
import type { ControlState, HealthCheckSettings, HealthView, RoutingPolicy } from "./routing";
import { handleControl, type ControlSurface } from "./global-endpoint/control-api";
import { CONTROL_ROUTES } from "./global-endpoint/control-routes";
import { EventFeed, type SandboxEventKind } from "./global-endpoint/event-feed";
import { internalError, json } from "./global-endpoint/http";
import {
  RegionProxy,
  trafficBuckets,
  type ProxiedRequest,
  type RequestFilter,
} from "./global-endpoint/proxy";
import { RoutingState, type RoutingSettings } from "./global-endpoint/routing-state";
import type { SandboxHooks } from "./global-endpoint/sandbox-hooks";

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

/** The endpoint's settings as the control API reports them: routing, and replication lag. */
export interface EndpointSettings extends RoutingSettings {
  readonly lag: LagRange;
  readonly lagText: string;
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
  /** Routing controls, health, settings and DNS answers; the control API changes them. */
  readonly routing: RoutingState;
  private readonly proxy: RegionProxy;
  private readonly feed: EventFeed;
  private readonly hooks: SandboxHooks;
  private readonly host: string;
  private port: number;
  private server?: Server | undefined;
  private readonly startedAt = Date.now();
  private readonly page = loadStatusPage();
  private readonly onError: (message: string, err: unknown) => void;
  /** What the control API sees of this endpoint and of the sandbox behind it. */
  private readonly surface: ControlSurface;

  constructor(opts: GlobalEndpointOptions) {
    this.order = opts.regions.map((r) => r.name);
    this.hooks = opts.hooks;
    this.host = opts.host ?? "127.0.0.1";
    this.port = opts.port ?? 0;
    this.onError = opts.onError ?? (() => undefined);
    this.feed = new EventFeed(() => this.state());
    this.routing = new RoutingState({ ...opts, events: this.feed });
    this.proxy = new RegionProxy({
      regions: opts.regions,
      resolve: (clientId, clientRegion) => this.routing.resolve(clientId, clientRegion),
      onError: this.onError,
    });
    this.surface = controlSurface(this, this.hooks);
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
    this.routing.startHealthChecks();
    this.feed.start();
  }

  async stop(): Promise<void> {
    this.routing.stopHealthChecks();
    this.feed.stop();
    this.proxy.close();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = once(server, "close");
    server.close();
    server.closeAllConnections();
    await closed;
  }

  // ---- what the sandbox, its tools and tests read and change -------------------------------

  routingControls(): Record<string, ControlState> {
    return this.routing.routingControls();
  }

  /** Applies a batch of control changes, all or nothing; throws `SafetyRuleError` if refused. */
  setRoutingControls(change: Readonly<Record<string, ControlState>>): Record<string, ControlState> {
    return this.routing.setRoutingControls(change);
  }

  healthOf(region: string): HealthView {
    return this.routing.healthOf(region);
  }

  isHealthy(region: string): boolean {
    return this.routing.isHealthy(region);
  }

  settings(): EndpointSettings {
    const lag = this.hooks.lag();
    return { ...this.routing.settings(), lag, lagText: formatLag(lag) };
  }

  /** Records an event (the sandbox's own actions too), shown on the status page. */
  event(kind: SandboxEventKind, message: string): void {
    this.feed.record(kind, message);
  }

  requests(filter: RequestFilter = {}): ProxiedRequest[] {
    return this.proxy.requests(filter);
  }

  /** Runs one round of health checks now (tests, and right after a region starts). */
  checkAll(): Promise<void> {
    return this.routing.checkAll();
  }

  /** Everything the status page shows. */
  async state(): Promise<Record<string, unknown>> {
    const now = Date.now();
    const log = this.proxy.logged();
    const recent = log.filter((r) => r.at >= now - 10_000);
    const clients = this.routing.clientsByRegion(now);
    const controls = this.routing.routingControls();
    const regions = this.order.map((name) => ({
      name,
      url: this.routing.regionUrl(name),
      control: controls[name],
      health: this.routing.healthOf(name),
      ...this.hooks.regionStatus(name),
      viaGlobalLast10s: recent.filter((r) => r.servedBy === name).length,
      clients: clients[name] ?? 0,
    }));
    return {
      now,
      startedAt: this.startedAt,
      url: this.url,
      settings: this.settings(),
      regions,
      replication: this.hooks.replication(now - 60_000),
      consistency: this.hooks.consistency?.() ?? { mode: "eventual" },
      recent: log.slice(-25).reverse(),
      traffic: trafficBuckets(log, now),
      events: this.feed.recent(30),
    };
  }

  /** Subscribes a client to the live feed of states (server-sent events). */
  openEvents(res: ServerResponse): void {
    this.feed.open(res);
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
        await handleControl(this.surface, CONTROL_ROUTES, req, res, this.onError);
        return;
      }
      this.proxy.forward(req, res, path);
    } catch (err) {
      this.onError(`global endpoint: ${req.method} ${req.url} failed`, err);
      internalError(res);
    }
  }
}

/** The control API's view of an endpoint and of the sandbox behind it. */
function controlSurface(ep: GlobalEndpoint, hooks: SandboxHooks): ControlSurface {
  const routing = ep.routing;
  return {
    order: ep.order,
    routingControls: () => routing.routingControls(),
    setRoutingControls: (change) => routing.setRoutingControls(change),
    settings: () => ep.settings(),
    setTtl: (ttl) => routing.setTtl(ttl),
    setPolicy: (policy) => routing.setPolicy(policy),
    setHealthCheck: (settings) => routing.setHealthCheck(settings),
    setLag: (lag) => hooks.setLag(lag),
    flushAnswers: () => routing.flushAnswers(),
    requests: (filter) => ep.requests(filter),
    state: () => ep.state(),
    openEvents: (res) => ep.openEvents(res),
    event: (kind, message) => ep.event(kind, message),
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
