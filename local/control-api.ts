/**
 * The global endpoint's JSON control API under `/control/`: what the status page and the drill
 * call to flip routing controls, stop and start regions, pause replication and change settings.
 * Bodies are validated with zod; a bad one is a 400 naming the field, an unknown region or table
 * a 404, a change the safety rule refuses a 409, and anything unexpected a 500 whose details go to
 * the log only. Not part of the service's API.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { RepairCounts } from "../functions/data/repair";
import { TABLE_KEYS, type TableKey } from "../functions/tables";
import { checkLag, formatLag, parseLag, type LagRange } from "./replication-model";
import {
  ROUTING_POLICIES,
  SafetyRuleError,
  parseControlState,
  type ControlState,
  type HealthCheckSettings,
  type RoutingPolicy,
} from "./routing";

/** Which part of a region to stop or start. */
export type RegionPart = "api" | "database" | "all";
export const REGION_PARTS: readonly RegionPart[] = ["api", "database", "all"];

const MAX_CONTROL_BODY = 64 * 1024;

/** An error with the HTTP status and code the control API answers it with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the control API may read and change: the endpoint's routing state and the sandbox. */
export interface ControlSurface {
  readonly order: readonly string[];
  routingControls(): Record<string, ControlState>;
  setRoutingControls(change: Readonly<Record<string, ControlState>>): Record<string, ControlState>;
  settings(): unknown;
  setTtl(ttlSeconds: number): void;
  setPolicy(policy: RoutingPolicy): void;
  setHealthCheck(settings: Partial<HealthCheckSettings>): void;
  setLag(lag: LagRange): void;
  flushAnswers(): void;
  requests(opts: { since?: number; clientPrefix?: string; limit?: number }): unknown[];
  state(): Promise<unknown>;
  openEvents(req: IncomingMessage, res: ServerResponse): void;
  event(kind: "control" | "replication" | "settings", message: string): void;
  stopRegion(region: string, part: RegionPart): Promise<void>;
  startRegion(region: string, part: RegionPart): Promise<void>;
  regionStatus(region: string): object;
  pauseReplication(from?: string, to?: string): void;
  resumeReplication(from?: string, to?: string): void;
  replication(sinceMs: number): unknown;
  convergence(): Promise<unknown>;
  scan(region: string, table: TableKey): Promise<Record<string, unknown>[]>;
  /**
   * The repair step (functions/data/repair.ts) in `regions`, default every region whose database
   * runs; counts per region. Rejects when a named region's database is stopped.
   */
  repair(regions?: readonly string[], dryRun?: boolean): Promise<Record<string, RepairCounts>>;
  /** Strong mode: the consistency view; eventual mode: `{ mode: "eventual" }`. */
  consistency(): unknown;
  /** Strong mode with a witness: lose it or bring it back; throws otherwise. */
  setWitness(up: boolean): void;
}

const number = z.number().finite();
const SettingsBody = z.strictObject({
  ttlSeconds: number.optional(),
  policy: z.enum(ROUTING_POLICIES as [RoutingPolicy, ...RoutingPolicy[]]).optional(),
  lag: z.union([z.string(), z.strictObject({ minMs: number, maxMs: number })]).optional(),
  healthCheck: z
    .strictObject({
      intervalMs: number.optional(),
      failureThreshold: number.optional(),
      timeoutMs: number.optional(),
    })
    .optional(),
});
const ReplicationBody = z.strictObject({
  from: z.string().optional(),
  to: z.string().optional(),
});
const StatesBody = z.union([
  z.strictObject({ states: z.record(z.string(), z.unknown()) }),
  z.record(z.string(), z.unknown()),
]);
const RepairBody = z.strictObject({
  regions: z.array(z.string()).min(1).optional(),
  dryRun: z.boolean().optional(),
});
const StateBody = z.union([z.strictObject({ state: z.unknown() }), z.string()]);

/**
 * Answers one control request. Never rejects: every failure becomes a JSON error response.
 * `onError` hears about the unexpected ones.
 */
export async function handleControl(
  ep: ControlSurface,
  req: IncomingMessage,
  res: ServerResponse,
  onError: (message: string, err: unknown) => void,
): Promise<void> {
  try {
    await route(ep, req, res);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) json(res, err.status, { error: err.code, message: err.message });
    else if (err instanceof SafetyRuleError)
      json(res, 409, { error: "SafetyRuleViolation", message: err.message });
    else {
      onError(`control request ${req.method} ${req.url} failed`, err);
      json(res, 500, { error: "InternalError", message: "internal error (see the sandbox log)" });
    }
  }
}

async function route(ep: ControlSurface, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  const parts = path
    .split("/")
    .filter(Boolean)
    .slice(1)
    .map((p) => invalidAs400(() => decodeURIComponent(p)));
  const method = req.method ?? "GET";
  const route = `${method} /${parts.map((p, i) => (i > 0 && isParam(parts, i) ? "*" : p)).join("/")}`;
  const region = (i: number): string => checkRegion(ep, parts[i] as string);

  switch (route) {
    case "GET /state":
      return json(res, 200, await ep.state());
    case "GET /events":
      return ep.openEvents(req, res);
    case "GET /routing-controls":
      return json(res, 200, { states: ep.routingControls() });
    case "PUT /routing-controls": {
      const input = await readJson(req);
      parse(StatesBody, input, '{"states": {"<region>": "On"|"Off"}}');
      // Entries of the parsed JSON itself: a key such as "__proto__" is a region name to refuse,
      // not something to drop.
      const body = input as Record<string, unknown>;
      const raw = Object.hasOwn(body, "states") && isRecord(body.states) ? body.states : body;
      const change: Record<string, ControlState> = {};
      for (const [r, v] of Object.entries(raw)) {
        checkRegion(ep, r);
        change[r] = invalidAs400(() => parseControlState(v));
      }
      return json(res, 200, { states: ep.setRoutingControls(change) });
    }
    case "PUT /routing-controls/*": {
      const r = region(1);
      const body = parse(StateBody, await readJson(req), '{"state": "On"|"Off"}');
      const state = invalidAs400(() =>
        parseControlState(typeof body === "string" ? body : body.state),
      );
      return json(res, 200, { states: ep.setRoutingControls({ [r]: state }) });
    }
    case "POST /regions/*/stop":
    case "POST /regions/*/start": {
      const r = region(1);
      const part = (url.searchParams.get("part") ?? "all") as RegionPart;
      if (!REGION_PARTS.includes(part)) {
        throw new HttpError(
          400,
          "BadRequest",
          `part must be one of ${REGION_PARTS.join(", ")}: got ${part}`,
        );
      }
      if (parts[2] === "stop") await ep.stopRegion(r, part);
      else await ep.startRegion(r, part);
      return json(res, 200, { region: r, ...ep.regionStatus(r) });
    }
    case "GET /consistency":
      return json(res, 200, ep.consistency());
    case "POST /witness/stop":
    case "POST /witness/start": {
      try {
        ep.setWitness(parts[1] === "start");
      } catch (err) {
        throw new HttpError(409, "Conflict", (err as Error).message);
      }
      return json(res, 200, ep.consistency());
    }
    case "POST /replication/pause":
    case "POST /replication/resume": {
      const body = parse(ReplicationBody, (await readJson(req)) ?? {}, '{"from"?, "to"?}');
      for (const r of [body.from, body.to]) if (r !== undefined) checkRegion(ep, r);
      const what = `${body.from ?? "every region"} -> ${body.to ?? "every region"}`;
      if (parts[1] === "pause") {
        ep.pauseReplication(body.from, body.to);
        ep.event("replication", `replication paused ${what}`);
      } else {
        ep.resumeReplication(body.from, body.to);
        ep.event("replication", `replication resumed ${what}`);
      }
      return json(res, 200, ep.replication(Date.now() - 60_000));
    }
    case "GET /replication":
      return json(res, 200, ep.replication(numberParam(url, "since") ?? Date.now() - 60_000));
    case "POST /repair": {
      const body = parse(
        RepairBody,
        (await readJson(req)) ?? {},
        '{"regions"?: ["<region>", ...], "dryRun"?: boolean}',
      );
      for (const r of body.regions ?? []) checkRegion(ep, r);
      const stopped = (body.regions ?? []).filter(
        (r) => (ep.regionStatus(r) as { database?: unknown }).database === false,
      );
      if (stopped.length > 0) {
        throw new HttpError(409, "Conflict", `the database is stopped in ${stopped.join(", ")}`);
      }
      const byRegion = await ep.repair(body.regions, body.dryRun ?? false);
      if (body.dryRun !== true) {
        const wrote = Object.entries(byRegion).map(
          ([r, c]) => `${r} ${c.ordersWritten} orders written, ${c.claimsReleased} claims released`,
        );
        ep.event("control", `repair: ${wrote.join("; ") || "no region running"}`);
      }
      return json(res, 200, { dryRun: body.dryRun ?? false, regions: byRegion });
    }
    case "GET /replication/convergence":
      return json(res, 200, await ep.convergence());
    case "GET /settings":
      return json(res, 200, ep.settings());
    case "PUT /settings":
      applySettings(ep, parse(SettingsBody, await readJson(req), "a JSON object of settings"));
      return json(res, 200, ep.settings());
    case "POST /dns/flush":
      ep.flushAnswers();
      return json(res, 200, { flushed: true });
    case "GET /requests": {
      const since = numberParam(url, "since");
      const limit = numberParam(url, "limit");
      const clientPrefix = url.searchParams.get("client") ?? undefined;
      return json(res, 200, {
        requests: ep.requests({
          ...(since !== undefined ? { since } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(clientPrefix !== undefined ? { clientPrefix } : {}),
        }),
      });
    }
    case "GET /tables/*/*": {
      const r = region(1);
      const table = parts[2] as TableKey;
      if (!TABLE_KEYS.includes(table)) {
        throw new HttpError(
          404,
          "NotFound",
          `unknown table ${table}; tables: ${TABLE_KEYS.join(", ")}`,
        );
      }
      return json(res, 200, { items: await ep.scan(r, table) });
    }
    default:
      throw new HttpError(404, "NotFound", `no control route ${method} ${path}`);
  }
}

function applySettings(ep: ControlSurface, body: z.infer<typeof SettingsBody>): void {
  const settings = (fn: () => void): void => invalidAs400(fn);
  if (body.ttlSeconds !== undefined) settings(() => ep.setTtl(body.ttlSeconds as number));
  if (body.policy !== undefined) ep.setPolicy(body.policy);
  if (body.lag !== undefined) {
    const given = body.lag;
    const lag = invalidAs400(() => (typeof given === "string" ? parseLag(given) : checkLag(given)));
    ep.setLag(lag);
    ep.event("settings", `replication lag ${formatLag(lag)}`);
  }
  if (body.healthCheck !== undefined) {
    const hc = body.healthCheck;
    settings(() =>
      ep.setHealthCheck({
        ...(hc.intervalMs !== undefined ? { intervalMs: hc.intervalMs } : {}),
        ...(hc.failureThreshold !== undefined ? { failureThreshold: hc.failureThreshold } : {}),
        ...(hc.timeoutMs !== undefined ? { timeoutMs: hc.timeoutMs } : {}),
      }),
    );
  }
}

/** Which path segments are parameters: region names and table names. */
function isParam(parts: readonly string[], i: number): boolean {
  const head = parts[0];
  if (head === "routing-controls" || head === "regions") return i === 1;
  if (head === "tables") return i === 1 || i === 2;
  return false;
}

function checkRegion(ep: ControlSurface, region: string): string {
  if (!ep.order.includes(region)) {
    throw new HttpError(
      404,
      "NotFound",
      `unknown region ${region}; regions: ${ep.order.join(", ")}`,
    );
  }
  return region;
}

/** Runs a validator that throws a plain Error on bad input; that error is the client's 400. */
function invalidAs400<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HttpError || err instanceof SafetyRuleError) throw err;
    throw new HttpError(400, "BadRequest", err instanceof Error ? err.message : String(err));
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown, expected: string): T {
  const out = schema.safeParse(body);
  if (out.success) return out.data;
  const issue = out.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  throw new HttpError(
    400,
    "BadRequest",
    `body must be ${expected}: ${issue?.message ?? "invalid"}${where}`,
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
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

/** A JSON response the sandbox writes itself (control API, proxy errors). */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
