/**
 * The global endpoint's proxy: forwards each API request to the region the routing state answers
 * for its client, passes the region's answer through, and logs every request (what the drill and
 * the status page read).
 *
 * A client is who sends `x-client-id` (else its IP address, like a stub resolver), located in the
 * region named by `x-client-region` if any. Proxied responses carry `x-resolved-region`, the
 * region the "DNS answer" pointed at; `x-served-by-region` comes from the handler itself.
 */
import { Agent, request, type IncomingMessage, type ServerResponse } from "node:http";
import { SERVED_BY_HEADER } from "../../functions/http";
import type { Answer } from "../routing";
import { Ring } from "../stats";
import { internalError, json } from "./http";

export const CLIENT_ID_HEADER = "x-client-id";
export const CLIENT_REGION_HEADER = "x-client-region";
export const RESOLVED_REGION_HEADER = "x-resolved-region";

/** Proxied requests give up after this long (API Gateway's own limit is 29 s). */
const PROXY_TIMEOUT_MS = 10_000;
/** Requests kept in the log. */
const MAX_LOGGED_REQUESTS = 20_000;
/** Hop-by-hop headers, not passed on. */
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding"];

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

/** Which logged requests to return. */
export interface RequestFilter {
  /** Arrived at or after this epoch ms. */
  readonly since?: number;
  /** Client ids starting with this. */
  readonly clientPrefix?: string;
  /** At most this many, the latest. */
  readonly limit?: number;
}

export interface RegionProxyOptions {
  /** Regions in order and the base URL of each region's API. */
  readonly regions: readonly { readonly name: string; readonly url: string }[];
  /** The DNS answer for a client (see RoutingState.resolve). */
  readonly resolve: (clientId: string, clientRegion: string | undefined) => Answer;
  /** Where unexpected failures are reported (the client gets a generic 500). */
  readonly onError: (message: string, err: unknown) => void;
}

type Finish = (status: number, servedBy: string | undefined, error?: string) => void;

export class RegionProxy {
  private readonly order: readonly string[];
  private readonly urls: ReadonlyMap<string, URL>;
  private readonly agents = new Map<string, Agent>();
  private readonly log = new Ring<ProxiedRequest>(MAX_LOGGED_REQUESTS);
  private nextId = 1;

  constructor(private readonly opts: RegionProxyOptions) {
    this.order = opts.regions.map((r) => r.name);
    this.urls = new Map(opts.regions.map((r) => [r.name, new URL(r.url)]));
    for (const r of this.order) this.agents.set(r, new Agent({ keepAlive: true, maxSockets: 64 }));
  }

  /** Closes the kept-alive connections to the regions. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
  }

  /** Every logged request, oldest first. */
  logged(): ProxiedRequest[] {
    return this.log.toArray();
  }

  requests(filter: RequestFilter = {}): ProxiedRequest[] {
    const { since, clientPrefix, limit } = filter;
    let list = this.log.toArray();
    if (since !== undefined) list = list.filter((r) => r.at >= since);
    if (clientPrefix !== undefined) list = list.filter((r) => r.clientId.startsWith(clientPrefix));
    if (limit !== undefined) list = list.slice(-limit);
    return list;
  }

  /** Sends `req` on to its client's region; `path` is the request's path as sent. */
  forward(req: IncomingMessage, res: ServerResponse, path: string): void {
    const at = Date.now();
    const started = performance.now();
    const clientId = header(req, CLIENT_ID_HEADER) ?? `ip:${req.socket.remoteAddress ?? "?"}`;
    const wantedRegion = header(req, CLIENT_REGION_HEADER);
    const clientRegion =
      wantedRegion !== undefined && this.order.includes(wantedRegion) ? wantedRegion : undefined;
    const region = this.opts.resolve(clientId, clientRegion).region;
    const target = this.urls.get(region) as URL;
    const headers = { ...req.headers };
    for (const h of ["host", "connection", "keep-alive"]) delete headers[h];
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "127.0.0.1";

    let done = false;
    const finish: Finish = (status, servedBy, error) => {
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
        relay(up, res, region, finish);
      } catch (err) {
        up.resume();
        finish(500, undefined, "relay failed");
        this.opts.onError(`global endpoint: ${req.method} ${req.url} failed`, err);
        internalError(res);
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
}

/** Passes a region's answer through to the client, naming the region it resolved to. */
function relay(up: IncomingMessage, res: ServerResponse, region: string, finish: Finish): void {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(up.headers)) {
    if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
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

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Requests per second over the last minute: served per region, and failed (5xx or no region). */
export interface TrafficBucket {
  /** Epoch ms the second starts. */
  readonly t: number;
  readonly byRegion: Record<string, number>;
  failed: number;
}

/** The last minute of `log` (requests since `now - 60 s`) counted per second. */
export function trafficBuckets(log: readonly ProxiedRequest[], now: number): TrafficBucket[] {
  const buckets: TrafficBucket[] = [];
  const first = Math.floor((now - 60_000) / 1000);
  for (let s = first; s <= Math.floor(now / 1000); s++)
    buckets.push({ t: s * 1000, byRegion: {}, failed: 0 });
  for (const r of log) {
    if (r.at < now - 60_000) continue;
    const b = buckets[Math.floor(r.at / 1000) - first];
    if (!b) continue;
    if (r.status >= 500 || r.servedBy === undefined) b.failed++;
    else b.byRegion[r.servedBy] = (b.byRegion[r.servedBy] ?? 0) + 1;
  }
  return buckets;
}
