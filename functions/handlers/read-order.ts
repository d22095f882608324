/**
 * `GET /orders?orderId&productId` (the seed's form: both read at once; a claim whose order was
 * never written becomes that order) and `GET /orders/{orderId}` (the order, then its product).
 * 200 `{ order, product, sale }` or 404.
 */
import * as z from "zod/mini";
import { DynamoOrderStore } from "../data/orders";
import { readOrder } from "../domain/orders";
import { idSchema, parseWith } from "../domain/validation";
import { httpHandler } from "../http";
import { timed } from "../metrics";
import { allowedQuery, noBody, pathParam } from "../request";
import { lambdaHandler, requireTables, type ApiHandler, type Deps } from "../runtime";

const QUERY_FIELDS = ["orderId", "productId"] as const;
const querySchema = z.strictObject({ orderId: idSchema(), productId: idSchema() });
const orderIdSchema = idSchema();

/** Builds the readOrder handler over `deps`. */
export function makeReadOrderHandler(deps: Deps): ApiHandler {
  const store = new DynamoOrderStore(
    deps.doc,
    requireTables(deps, "readOrder", ["products", "orders"]),
  );
  return httpHandler(deps, "readOrder", async (req) => {
    noBody(req);
    if (req.route.path === "/orders") {
      const { orderId, productId } = parseWith(
        querySchema,
        allowedQuery(req, QUERY_FIELDS),
        "query",
      );
      const view = await timed(deps, "ReadTime", () => readOrder(store, orderId, productId));
      return { status: 200, body: view };
    }
    allowedQuery(req, []);
    const orderId = parseWith(orderIdSchema, pathParam(req, "orderId"), "orderId");
    const view = await timed(deps, "ReadTime", () => readOrder(store, orderId));
    return { status: 200, body: view };
  });
}

/** Lambda entry point. */
export const handler = lambdaHandler("readOrder", makeReadOrderHandler);
