/**
 * The global endpoint's JSON control API under `/control/`: what the status page and the drill
 * call to flip routing controls, stop and start regions, pause replication and change settings.
 * Routes are a table (control-routes.ts): method, path, body and query schemas, handler. Every
 * body and query is checked with zod before the handler runs, so a bad one is a 400 naming the
 * field and changes nothing; an oversized body is a 413; an unknown region or table a 404; a
 * change the safety rule refuses a 409; and anything unexpected a 500 whose details go to the
 * log only, after which the endpoint serves on. Not part of the service's API.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import type { RepairCounts } from "../../functions/data/repair";
import { TABLE_KEYS, type TableKey } from "../../functions/tables";
import type { LagRange } from "../replication-model";
import {
  SafetyRuleError,
  type ControlState,
  type HealthCheckSettings,
  type RoutingPolicy,
} from "../routing";
import { NoBody } from "./control-bodies";
import type { SandboxEventKind } from "./event-feed";
import { HttpError, internalError, json, readJsonBody } from "./http";
import type { RequestFilter } from "./proxy";
import type { RegionPart, RegionStatus } from "./sandbox-hooks";

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
  requests(filter: RequestFilter): unknown[];
  state(): Promise<unknown>;
  openEvents(res: ServerResponse): void;
  event(kind: SandboxEventKind, message: string): void;
  stopRegion(region: string, part: RegionPart): Promise<void>;
  startRegion(region: string, part: RegionPart): Promise<void>;
  regionStatus(region: string): RegionStatus;
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

/** One control request, checked: what a handler gets. */
export interface ControlCall<B, Q> {
  readonly ep: ControlSurface;
  /** Path parameters by name (`region`, `table`), each known to exist. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Q;
  readonly body: B;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

export interface ControlRoute<B = unknown, Q = unknown> {
  readonly method: "GET" | "PUT" | "POST";
  /** The path under `/control`; a `:region` or `:table` segment is a parameter. */
  readonly path: string;
  /** The body's schema and the shape a 400 quotes. @default no body: nothing, or `{}` */
  readonly body?: { readonly schema: z.ZodType<B>; readonly shape: string };
  /** The query string's schema and the form a 400 quotes; unknown parameters are ignored. */
  readonly query?: { readonly schema: z.ZodType<Q>; readonly shape: string };
  /**
   * Answers the call: what it returns is the 200's JSON body, unless the handler wrote the
   * response itself (the event stream).
   */
  handle(call: ControlCall<B, Q>): unknown;
}

/** Checks a path parameter's value; throws a 404 when nothing of that name exists. */
const PARAMS: Readonly<Record<string, (ep: ControlSurface, value: string) => void>> = {
  region: (ep, value) => checkRegion(ep, value),
  table: (_ep, value) => {
    if (!(TABLE_KEYS as readonly string[]).includes(value)) {
      throw new HttpError(
        404,
        "NotFound",
        `unknown table ${value}; tables: ${TABLE_KEYS.join(", ")}`,
      );
    }
  },
};

/** A 404 unless `region` is one of the endpoint's regions. */
export function checkRegion(ep: ControlSurface, region: string): string {
  if (!ep.order.includes(region)) {
    throw new HttpError(
      404,
      "NotFound",
      `unknown region ${region}; regions: ${ep.order.join(", ")}`,
    );
  }
  return region;
}

/**
 * Answers one control request by the first route of `routes` that matches it. Never rejects:
 * every failure becomes a JSON error response; `onError` hears about the unexpected ones.
 */
export async function handleControl(
  ep: ControlSurface,
  routes: readonly ControlRoute[],
  req: IncomingMessage,
  res: ServerResponse,
  onError: (message: string, err: unknown) => void,
): Promise<void> {
  try {
    const call = await checkedCall(ep, routes, req, res);
    const answer = await call.route.handle(call);
    if (!res.headersSent) json(res, 200, answer ?? {});
  } catch (err) {
    if (err instanceof HttpError && !res.headersSent)
      json(res, err.status, { error: err.code, message: err.message });
    else if (err instanceof SafetyRuleError && !res.headersSent)
      json(res, 409, { error: "SafetyRuleViolation", message: err.message });
    else {
      onError(`control request ${req.method} ${req.url} failed`, err);
      internalError(res);
    }
  }
}

/** The matching route and its call, every part checked: path parameters, query, then body. */
async function checkedCall(
  ep: ControlSurface,
  routes: readonly ControlRoute[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<ControlCall<unknown, unknown> & { route: ControlRoute }> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const parts = url.pathname.split("/").filter(Boolean).slice(1).map(decodeSegment);
  const method = req.method ?? "GET";
  const found = findRoute(routes, method, parts);
  if (!found) throw new HttpError(404, "NotFound", `no control route ${method} ${url.pathname}`);
  const { route, params } = found;
  for (const [name, value] of Object.entries(params)) PARAMS[name]?.(ep, value);
  const query = route.query
    ? checked(route.query.schema, Object.fromEntries(url.searchParams), "query", route.query.shape)
    : undefined;
  const bodySpec = route.body ?? { schema: NoBody, shape: "no body, or {}" };
  const body = checked(bodySpec.schema, await readJsonBody(req), "body", bodySpec.shape);
  return { route, ep, params, query, body, req, res };
}

function findRoute(
  routes: readonly ControlRoute[],
  method: string,
  parts: readonly string[],
): { route: ControlRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((p, i) => {
      const part = parts[i] as string;
      if (!p.startsWith(":")) return p === part;
      params[p.slice(1)] = part;
      return true;
    });
    if (matches) return { route, params };
  }
  return undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "BadRequest", `path segment ${segment} is not valid percent-encoding`);
  }
}

/** `value` parsed by `schema`, or a 400 naming the first field that is wrong and what is. */
function checked<T>(schema: z.ZodType<T>, value: unknown, where: string, shape: string): T {
  const out = schema.safeParse(value);
  if (out.success) return out.data;
  const { path, message } = firstIssue(out.error.issues, []);
  const field = [where, ...path.map(String)].join(".");
  throw new HttpError(400, "BadRequest", `${field}: ${message} (expected ${shape})`);
}

/**
 * The first issue, with its full path. In a union, the branch that got furthest: one whose first
 * issue is below the root or is not a type mismatch (the type matched, a value did not).
 */
function firstIssue(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
): { path: PropertyKey[]; message: string } {
  const issue = issues[0];
  if (!issue) return { path: [...prefix], message: "invalid" };
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union") {
    const branch = issue.errors.find(
      (b) => b[0] !== undefined && (b[0].path.length > 0 || b[0].code !== "invalid_type"),
    );
    if (branch) return firstIssue(branch, path);
  }
  return { path, message: issue.message };
}
