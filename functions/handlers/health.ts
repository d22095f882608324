/**
 * `GET /health` (unauthenticated, for Route 53 health checks and canaries): every table this
 * region uses answers a read within the time bound -> 200, otherwise 503 naming the failures.
 */
import { probeTables } from "../data/health";
import { DEFAULT_HEALTH_TIMEOUT_MS, summarize } from "../domain/health";
import { httpHandler } from "../http";
import { allowedQuery, noBody } from "../request";
import { FUNCTIONS } from "../routes";
import type { TableKey } from "../tables";
import { lambdaHandler, requireTables, type ApiHandler, type Deps } from "../runtime";

/** Builds the health handler over `deps`; it checks every table routes.ts grants it. */
export function makeHealthHandler(deps: Deps): ApiHandler {
  const names = requireTables(deps, "health", Object.keys(FUNCTIONS.health.access) as TableKey[]);
  const tables = Object.entries(names).map(([key, name]) => ({ key: key as TableKey, name }));
  const timeoutMs = deps.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  return httpHandler(deps, "health", async (req) => {
    noBody(req);
    allowedQuery(req, []);
    const results = await probeTables(deps.doc, tables, timeoutMs);
    for (const { check, error } of results.filter((r) => !r.check.ok)) {
      deps.logger.warn("health check failed", { ...check, error: String(error) });
    }
    const checks = results.map((r) => r.check);
    return { status: 200, body: summarize(deps.region, checks) };
  });
}

/** Lambda entry point. */
export const handler = lambdaHandler("health", makeHealthHandler);
