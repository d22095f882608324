/**
 * The control API's routes, one entry each: method and path, the body and query schemas
 * (control-bodies.ts), and the handler. control-api.ts matches a request to its entry and checks
 * everything before the handler runs. The response shapes are what tools/, local/drill/ and the
 * status page read.
 */
import type { TableKey } from "../../functions/tables";
import { formatLag } from "../replication-model";
import type { ControlState } from "../routing";
import { checkRegion, type ControlRoute, type ControlSurface } from "./control-api";
import {
  RegionPartQuery,
  RepairBody,
  ReplicationBody,
  RequestsQuery,
  SettingsBody,
  SinceQuery,
  StateBody,
  StatesBody,
} from "./control-bodies";
import { HttpError } from "./http";

/** Replication and lag are reported over this last stretch unless a `since` is given. */
const RECENT_MS = 60_000;

/** A table entry, its handler typed by its schemas. */
function route<B = undefined, Q = undefined>(r: ControlRoute<B, Q>): ControlRoute {
  return r as ControlRoute;
}

const STATES_SHAPE = '{"states": {"<region>": "On"|"Off"}}';

/** Every control route. */
export const CONTROL_ROUTES: readonly ControlRoute[] = [
  route({ method: "GET", path: "/state", handle: ({ ep }) => ep.state() }),
  route({ method: "GET", path: "/events", handle: ({ ep, res }) => ep.openEvents(res) }),
  route({
    method: "GET",
    path: "/routing-controls",
    handle: ({ ep }) => ({ states: ep.routingControls() }),
  }),
  route({
    method: "PUT",
    path: "/routing-controls",
    body: { schema: StatesBody, shape: STATES_SHAPE },
    handle: ({ ep, body }) => {
      for (const [region] of body) checkRegion(ep, region);
      const change: Record<string, ControlState> = Object.fromEntries(body);
      return { states: ep.setRoutingControls(change) };
    },
  }),
  route({
    method: "PUT",
    path: "/routing-controls/:region",
    body: { schema: StateBody, shape: '{"state": "On"|"Off"}' },
    handle: ({ ep, params, body }) => ({
      states: ep.setRoutingControls({ [params.region as string]: body.state }),
    }),
  }),
  ...(["stop", "start"] as const).map((action) =>
    route({
      method: "POST",
      path: `/regions/:region/${action}`,
      query: { schema: RegionPartQuery, shape: "?part=api|database|all" },
      handle: async ({ ep, params, query }) => {
        const region = params.region as string;
        if (action === "stop") await ep.stopRegion(region, query.part);
        else await ep.startRegion(region, query.part);
        return { region, ...ep.regionStatus(region) };
      },
    }),
  ),
  route({ method: "GET", path: "/consistency", handle: ({ ep }) => ep.consistency() }),
  ...(["stop", "start"] as const).map((action) =>
    route({
      method: "POST",
      path: `/witness/${action}`,
      handle: ({ ep }) => {
        try {
          ep.setWitness(action === "start");
        } catch (err) {
          throw new HttpError(409, "Conflict", (err as Error).message);
        }
        return ep.consistency();
      },
    }),
  ),
  ...(["pause", "resume"] as const).map((action) =>
    route({
      method: "POST",
      path: `/replication/${action}`,
      body: { schema: ReplicationBody, shape: '{"from"?: "<region>", "to"?: "<region>"}' },
      handle: ({ ep, body }) => replicationFlow(ep, action, body),
    }),
  ),
  route({
    method: "GET",
    path: "/replication",
    query: { schema: SinceQuery, shape: "?since=<epoch ms>" },
    handle: ({ ep, query }) => ep.replication(query.since ?? Date.now() - RECENT_MS),
  }),
  route({
    method: "POST",
    path: "/repair",
    body: { schema: RepairBody, shape: '{"regions"?: ["<region>", ...], "dryRun"?: boolean}' },
    handle: ({ ep, body }) => repair(ep, body),
  }),
  route({
    method: "GET",
    path: "/replication/convergence",
    handle: ({ ep }) => ep.convergence(),
  }),
  route({ method: "GET", path: "/settings", handle: ({ ep }) => ep.settings() }),
  route({
    method: "PUT",
    path: "/settings",
    body: { schema: SettingsBody, shape: "a JSON object of settings" },
    handle: ({ ep, body }) => {
      applySettings(ep, body);
      return ep.settings();
    },
  }),
  route({
    method: "POST",
    path: "/dns/flush",
    handle: ({ ep }) => {
      ep.flushAnswers();
      return { flushed: true };
    },
  }),
  route({
    method: "GET",
    path: "/requests",
    query: { schema: RequestsQuery, shape: "?since=<epoch ms>&limit=<n>&client=<prefix>" },
    handle: ({ ep, query: { since, limit, client } }) => ({
      requests: ep.requests({
        ...(since !== undefined ? { since } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(client !== undefined ? { clientPrefix: client } : {}),
      }),
    }),
  }),
  route({
    method: "GET",
    path: "/tables/:region/:table",
    handle: async ({ ep, params }) => ({
      items: await ep.scan(params.region as string, params.table as TableKey),
    }),
  }),
];

function replicationFlow(
  ep: ControlSurface,
  action: "pause" | "resume",
  body: { from?: string | undefined; to?: string | undefined },
): unknown {
  for (const r of [body.from, body.to]) if (r !== undefined) checkRegion(ep, r);
  const what = `${body.from ?? "every region"} -> ${body.to ?? "every region"}`;
  if (action === "pause") {
    ep.pauseReplication(body.from, body.to);
    ep.event("replication", `replication paused ${what}`);
  } else {
    ep.resumeReplication(body.from, body.to);
    ep.event("replication", `replication resumed ${what}`);
  }
  return ep.replication(Date.now() - RECENT_MS);
}

async function repair(
  ep: ControlSurface,
  body: { regions?: string[] | undefined; dryRun?: boolean | undefined },
): Promise<unknown> {
  const dryRun = body.dryRun ?? false;
  for (const r of body.regions ?? []) checkRegion(ep, r);
  const stopped = (body.regions ?? []).filter((r) => !ep.regionStatus(r).database);
  if (stopped.length > 0) {
    throw new HttpError(409, "Conflict", `the database is stopped in ${stopped.join(", ")}`);
  }
  const byRegion = await ep.repair(body.regions, dryRun);
  if (!dryRun) {
    const wrote = Object.entries(byRegion).map(
      ([r, c]) => `${r} ${c.ordersWritten} orders written, ${c.claimsReleased} claims released`,
    );
    ep.event("control", `repair: ${wrote.join("; ") || "no region running"}`);
  }
  return { dryRun, regions: byRegion };
}

/** Applies checked settings; the schema has refused anything out of bounds, so nothing throws. */
function applySettings(ep: ControlSurface, body: SettingsBody): void {
  if (body.ttlSeconds !== undefined) ep.setTtl(body.ttlSeconds);
  if (body.policy !== undefined) ep.setPolicy(body.policy);
  if (body.lag !== undefined) {
    ep.setLag(body.lag);
    ep.event("settings", `replication lag ${formatLag(body.lag)}`);
  }
  const hc = body.healthCheck;
  if (hc !== undefined) {
    ep.setHealthCheck({
      ...(hc.intervalMs !== undefined ? { intervalMs: hc.intervalMs } : {}),
      ...(hc.failureThreshold !== undefined ? { failureThreshold: hc.failureThreshold } : {}),
      ...(hc.timeoutMs !== undefined ? { timeoutMs: hc.timeoutMs } : {}),
    });
  }
}
