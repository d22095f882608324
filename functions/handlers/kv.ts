/**
 * `PUT /kv/{key}` with `{ "value": <any JSON>, "ttlSeconds"?: N }` and `GET /kv/{key}`: the
 * key-value service of the Route 53 failover lab.
 */
import { DynamoKvStore } from "../data/kv";
import { getKv, kvKeySchema, putKv, putKvSchema } from "../domain/kv";
import { badRequest } from "../domain/errors";
import { parseWith } from "../domain/validation";
import { httpHandler } from "../http";
import { allowedQuery, jsonBody, noBody, pathParam } from "../request";
import { lambdaHandler, requireTables, type ApiHandler, type Deps } from "../runtime";

/** Builds the kv handler over `deps`. */
export function makeKvHandler(deps: Deps): ApiHandler {
  const store = new DynamoKvStore(deps.doc, requireTables(deps, "kv", ["kv"]).kv);
  return httpHandler(deps, "kv", async (req) => {
    allowedQuery(req, []);
    const key = parseWith(kvKeySchema, pathParam(req, "key"), "key");
    if (req.method === "PUT") {
      const raw = jsonBody(req);
      if (raw === undefined) throw badRequest("body", 'is required: { "value": <any JSON> }');
      const { value, ttlSeconds } = parseWith(putKvSchema, raw, "body");
      return { status: 200, body: await putKv(store, key, value, ttlSeconds, new Date()) };
    }
    noBody(req);
    return { status: 200, body: await getKv(store, key, new Date()) };
  });
}

/** Lambda entry point. */
export const handler = lambdaHandler("kv", makeKvHandler);
