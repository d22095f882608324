/**
 * The zod schemas of the control API's request bodies and query strings. Every bound comes from
 * the module that owns it (local/routing.ts, local/replication-model.ts), so the control API
 * refuses exactly what the routing state and the replicator would refuse, before anything
 * changes. The entries of a routing-control map are read from the parsed JSON's own keys, so a
 * key such as `__proto__` is a region name to refuse, not something to drop.
 */
import { z } from "zod";
import { checkLag, parseLag } from "../replication-model";
import {
  HEALTH_CHECK_LIMITS,
  MAX_TTL_SECONDS,
  ROUTING_POLICIES,
  parseControlState,
  type ControlState,
  type RoutingPolicy,
} from "../routing";
import { REGION_PARTS } from "./sandbox-hooks";

/** A transform step that runs a validator throwing a plain Error; its message is the issue. */
function checkedBy<I, O>(check: (value: I) => O) {
  return (value: I, ctx: z.RefinementCtx): O => {
    try {
      return check(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A body for routes that take none: nothing, or an empty object. */
export const NoBody = z.union([z.undefined(), z.strictObject({})]);

/** "On" or "Off" (any case, trimmed). */
const ControlStateValue = z.unknown().transform(checkedBy(parseControlState));

/** `{"state": "On"|"Off"}`, or the state alone as a JSON string. */
export const StateBody = z.preprocess(
  (body) => (typeof body === "string" ? { state: body } : body),
  z.strictObject({ state: ControlStateValue }),
);

/**
 * `{"states": {"<region>": "On"|"Off"}}`, or the map alone; parsed to its entries, in order. The
 * region names are not checked here: an unknown one is the handler's 404.
 */
export const StatesBody = z.unknown().transform((body, ctx): [string, ControlState][] => {
  const wrapped = isRecord(body) && Object.keys(body).length === 1 && Object.hasOwn(body, "states");
  const map = wrapped ? body.states : body;
  const at = wrapped ? ["states"] : [];
  if (!isRecord(map)) {
    ctx.addIssue({ code: "custom", path: at, message: "must be an object of region: state" });
    return z.NEVER;
  }
  const entries: [string, ControlState][] = [];
  for (const [region, value] of Object.entries(map)) {
    try {
      entries.push([region, parseControlState(value)]);
    } catch (err) {
      ctx.addIssue({ code: "custom", path: [...at, region], message: (err as Error).message });
    }
  }
  return entries;
});

const limit = (key: keyof typeof HEALTH_CHECK_LIMITS, n: z.ZodNumber) =>
  n.min(HEALTH_CHECK_LIMITS[key].min).max(HEALTH_CHECK_LIMITS[key].max).optional();

export const SettingsBody = z.strictObject({
  ttlSeconds: z.number().min(0).max(MAX_TTL_SECONDS).optional(),
  policy: z.enum(ROUTING_POLICIES as [RoutingPolicy, ...RoutingPolicy[]]).optional(),
  lag: z
    .union([
      z.string().transform(checkedBy(parseLag)),
      z.strictObject({ minMs: z.number(), maxMs: z.number() }).transform(checkedBy(checkLag)),
    ])
    .optional(),
  healthCheck: z
    .strictObject({
      intervalMs: limit("intervalMs", z.number()),
      failureThreshold: limit("failureThreshold", z.number().int()),
      timeoutMs: limit("timeoutMs", z.number()),
    })
    .optional(),
});
export type SettingsBody = z.infer<typeof SettingsBody>;

/** Both ends optional: every region. */
export const ReplicationBody = z
  .strictObject({ from: z.string().optional(), to: z.string().optional() })
  .default({});

export const RepairBody = z
  .strictObject({
    regions: z.array(z.string()).min(1).optional(),
    dryRun: z.boolean().optional(),
  })
  .default({});

/** A number in the query string; absent or empty is undefined. */
const QueryNumber = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: `must be a number: got ${raw}` });
      return z.NEVER;
    }
    return n;
  });

export const RegionPartQuery = z.object({ part: z.enum(REGION_PARTS).default("all") });
export const SinceQuery = z.object({ since: QueryNumber });
export const RequestsQuery = z.object({
  since: QueryNumber,
  limit: QueryNumber,
  client: z.string().optional(),
});
