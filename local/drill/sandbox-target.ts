/**
 * `DrillTarget` for a running sandbox, reached only over HTTP (its global endpoint and control
 * API), so the same code drives a sandbox the drill started itself and one started by
 * `npm start` in another terminal.
 */
import type { RepairCounts } from "../../functions/data/repair";
import type { Summary } from "../stats";
import type {
  ApiCall,
  ApiResult,
  ClientIdentity,
  ControlState,
  ConsistencySetting,
  ConvergenceResult,
  DrillTarget,
  FaultInjector,
  ReplicationObserver,
  RoutingControlClient,
  ServiceEndpoints,
  TargetSettings,
} from "./target";
import type { OrderRecord, ProductRecord } from "./anomalies";

const CONTROL_TIMEOUT_MS = 30_000;
/** Starting a region starts a JVM and copies the tables back from its peers: give it longer. */
const REGION_START_TIMEOUT_MS = 180_000;

export interface SandboxTargetOptions {
  /** Global endpoint base URL, e.g. http://127.0.0.1:8080 */
  readonly endpoint: string;
  /** Give up on a service request after this long. @default 5000 */
  readonly requestTimeoutMs?: number;
}

interface StateRegion {
  readonly name: string;
  readonly url: string;
}

async function send(
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<{ status: number; headers: Headers; body: unknown; error?: string }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON; keep the text
    }
    const code =
      typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    return {
      status: res.status,
      headers: res.headers,
      body,
      ...(res.ok || typeof code !== "string" ? {} : { error: code }),
    };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    const error = e.name === "TimeoutError" ? "timeout" : (e.cause?.code ?? e.name ?? String(err));
    return { status: 0, headers: new Headers(), body: undefined, error };
  }
}

/**
 * A request to the sandbox's control API (`<base>/control<path>`): its JSON answer, or an error
 * naming the route and what the sandbox said, unless it answered 2xx.
 */
type ControlCall = <T>(
  method: string,
  path: string,
  body?: unknown,
  timeout?: number,
) => Promise<T>;

function controlApi(base: string): ControlCall {
  return async <T>(
    method: string,
    path: string,
    body?: unknown,
    timeout = CONTROL_TIMEOUT_MS,
  ): Promise<T> => {
    const res = await send(
      `${base}/control${path}`,
      {
        method,
        headers: { "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
      timeout,
    );
    if (res.status < 200 || res.status >= 300) {
      const message =
        (res.body as { message?: string } | undefined)?.message ??
        res.error ??
        `HTTP ${res.status}`;
      throw new Error(`${method} /control${path}: ${message}`);
    }
    return res.body as T;
  };
}

/** Connects to a sandbox: reads its regions and their URLs from the control API. */
export async function connectSandbox(opts: SandboxTargetOptions): Promise<DrillTarget> {
  const base = opts.endpoint.replace(/\/+$/, "");
  const control = controlApi(base);
  let state: { regions: StateRegion[] };
  try {
    state = await control<{ regions: StateRegion[] }>("GET", "/state");
  } catch (err) {
    throw new Error(`no sandbox answers at ${base}: ${(err as Error).message}`, { cause: err });
  }
  return {
    name: `sandbox ${base}`,
    endpoints: sandboxEndpoints(base, state.regions, opts.requestTimeoutMs ?? 5_000),
    controls: sandboxControls(control),
    faults: sandboxFaults(control),
    replication: sandboxReplication(control),
    repair: (region) => sandboxRepair(control, region),
    setTtl: async (seconds) => {
      await control("PUT", "/settings", { ttlSeconds: seconds });
    },
    settings: () => sandboxSettings(control),
  };
}

/**
 * The service, as the drill's clients reach it: the global endpoint (with the client's identity
 * in headers, for the endpoint's per-client DNS cache) and each region's own URL.
 */
function sandboxEndpoints(
  base: string,
  stateRegions: readonly StateRegion[],
  timeoutMs: number,
): ServiceEndpoints {
  const regionUrl = new Map(stateRegions.map((r) => [r.name, r.url.replace(/\/+$/, "")]));

  async function call(
    url: string,
    c: ApiCall,
    headers: Record<string, string>,
  ): Promise<ApiResult> {
    const startedAt = Date.now();
    const t0 = performance.now();
    const res = await send(
      url + c.path,
      {
        method: c.method,
        headers: { "content-type": "application/json", ...headers },
        ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
      },
      c.timeoutMs ?? timeoutMs,
    );
    return {
      status: res.status,
      servedBy: res.headers.get("x-served-by-region") ?? undefined,
      resolvedRegion: res.headers.get("x-resolved-region") ?? undefined,
      body: res.body,
      error: res.error,
      startedAt,
      ms: Math.round(performance.now() - t0),
    };
  }

  return {
    regions: stateRegions.map((r) => r.name),
    viaGlobal: (c: ApiCall, client: ClientIdentity) =>
      call(base, c, { "x-client-id": client.id, "x-client-region": client.region }),
    viaRegion: (region: string, c: ApiCall) => {
      const url = regionUrl.get(region);
      if (url === undefined) throw new Error(`unknown region ${region}`);
      return call(url, c, {});
    },
  };
}

/** The sandbox's routing controls. */
function sandboxControls(control: ControlCall): RoutingControlClient {
  return {
    get: async () =>
      (await control<{ states: Record<string, ControlState> }>("GET", "/routing-controls")).states,
    set: async (states) => {
      await control("PUT", "/routing-controls", { states });
    },
  };
}

/** Faults through the control API: a region stopped (API and database), replication paused. */
function sandboxFaults(control: ControlCall): FaultInjector {
  return {
    stopRegion: async (region) => {
      await control("POST", `/regions/${encodeURIComponent(region)}/stop?part=all`);
    },
    startRegion: async (region) => {
      await control(
        "POST",
        `/regions/${encodeURIComponent(region)}/start?part=all`,
        undefined,
        REGION_START_TIMEOUT_MS,
      );
    },
    pauseReplication: async (from, to) => {
      await control("POST", "/replication/pause", { from, to });
    },
    resumeReplication: async (from, to) => {
      await control("POST", "/replication/resume", { from, to });
    },
  };
}

/** Replication as the sandbox measures it, and every region's tables read in full. */
function sandboxReplication(control: ControlCall): ReplicationObserver {
  return {
    lag: async (sinceMs) =>
      (await control<{ byTable: Record<string, Summary> }>("GET", `/replication?since=${sinceMs}`))
        .byTable,
    waitConverged: async (limitMs): Promise<ConvergenceResult> => {
      const started = Date.now();
      let last = "";
      while (Date.now() - started < limitMs) {
        const c = await control<{ backlog: number; identical: boolean; differences: unknown[] }>(
          "GET",
          "/replication/convergence",
        );
        if (c.backlog === 0 && c.identical)
          return { converged: true, waitedMs: Date.now() - started };
        last = `backlog ${c.backlog}, differences ${JSON.stringify(c.differences)}`;
        await new Promise((r) => setTimeout(r, 250));
      }
      return { converged: false, waitedMs: Date.now() - started, detail: last };
    },
    scanTables: async (region) => {
      const scan = async <T>(table: string): Promise<T[]> =>
        (await control<{ items: T[] }>("GET", `/tables/${encodeURIComponent(region)}/${table}`))
          .items;
      const [orders, products] = await Promise.all([
        scan<OrderRecord>("orders"),
        scan<ProductRecord>("products"),
      ]);
      return { orders, products };
    },
  };
}

/** The repair step over one region's tables (`POST /control/repair`). */
async function sandboxRepair(control: ControlCall, region: string): Promise<RepairCounts> {
  const out = await control<{ regions: Record<string, RepairCounts> }>("POST", "/repair", {
    regions: [region],
  });
  const counts = out.regions[region];
  if (counts === undefined) throw new Error(`POST /control/repair: no counts for ${region}`);
  return counts;
}

/** TTL, routing policy, health check, lag and consistency mode, as the sandbox reports them. */
async function sandboxSettings(control: ControlCall): Promise<TargetSettings> {
  const s = await control<{
    ttlSeconds: number;
    policy: string;
    healthCheck: { intervalMs: number; failureThreshold: number };
    lagText: string;
  }>("GET", "/settings");
  // A sandbox from before the consistency modes has no such route: it is eventual.
  const consistency = await control<ConsistencySetting>("GET", "/consistency").catch(
    (): ConsistencySetting => ({ mode: "eventual" }),
  );
  return {
    consistency: {
      mode: consistency.mode,
      ...(consistency.writeLatencyMs !== undefined
        ? { writeLatencyMs: consistency.writeLatencyMs }
        : {}),
      ...(consistency.members !== undefined
        ? { members: consistency.members.map((m) => ({ name: m.name, role: m.role })) }
        : {}),
    },
    ttlSeconds: s.ttlSeconds,
    policy: s.policy,
    healthCheck: {
      intervalMs: s.healthCheck.intervalMs,
      failureThreshold: s.healthCheck.failureThreshold,
    },
    lag: s.lagText,
  };
}
