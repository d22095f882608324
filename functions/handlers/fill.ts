/**
 * `POST /fill?cust=N&product=N&order=N`: create sample customers, products (IN_STOCK) and orders
 * in batches of 25 and return their ids (see `domain/fill.ts` for what is created).
 */
import { DynamoBatchWriter } from "../data/batch";
import { FILL_MAX_PER_KIND, FILL_PARAMS, fill, type FillCounts } from "../domain/fill";
import { parseIntParam } from "../domain/validation";
import { httpHandler } from "../http";
import { allowedQuery, noBody, type ApiRequest } from "../request";
import { lambdaHandler, requireTables, systemClock, type ApiHandler, type Deps } from "../runtime";

/** Counts from the query string; a missing count is 0. */
export function parseFillCounts(req: ApiRequest): FillCounts {
  const query = allowedQuery(req, FILL_PARAMS);
  const count = (name: (typeof FILL_PARAMS)[number]): number => {
    const raw = query[name];
    return raw === undefined ? 0 : parseIntParam(name, raw, 0, FILL_MAX_PER_KIND);
  };
  return { cust: count("cust"), product: count("product"), order: count("order") };
}

/** Builds the fill handler over `deps`. */
export function makeFillHandler(deps: Deps): ApiHandler {
  const store = new DynamoBatchWriter(
    deps.doc,
    requireTables(deps, "fill", ["customers", "products", "orders"]),
  );
  const clock = systemClock(deps.region);
  return httpHandler(deps, "fill", async (req) => {
    noBody(req);
    const counts = parseFillCounts(req);
    return { status: 201, body: await fill(store, counts, clock) };
  });
}

/** Lambda entry point. */
export const handler = lambdaHandler("fill", makeFillHandler);
