/**
 * `POST /orders`: place an order from query parameters (the seed's form) or a JSON body, or both
 * as long as they agree. 201 with a new order, 200 with the existing one on an idempotent retry.
 */
import * as z from "zod/mini";
import { DynamoSaleStore } from "../data/orders";
import { badRequest } from "../domain/errors";
import {
  PLACE_ORDER_FIELDS,
  placeOrder,
  placeOrderSchema,
  type PlaceOrderInput,
} from "../domain/orders";
import { parseWith } from "../domain/validation";
import { httpHandler } from "../http";
import { timed } from "../metrics";
import { allowedQuery, jsonBody, type ApiRequest } from "../request";
import { lambdaHandler, requireTables, systemClock, type ApiHandler, type Deps } from "../runtime";

// The body may carry any subset of the fields; the merged input must be complete.
const bodySchema = z.partial(placeOrderSchema);

/** Merges the query and body forms of `POST /orders`, rejecting disagreement and bad fields. */
export function parsePlaceOrder(req: ApiRequest): PlaceOrderInput {
  const query = allowedQuery(req, PLACE_ORDER_FIELDS);
  const raw = jsonBody(req);
  const body = raw === undefined ? {} : parseWith(bodySchema, raw, "body");
  for (const field of PLACE_ORDER_FIELDS) {
    const inQuery = query[field];
    const inBody = body[field];
    if (inQuery !== undefined && inBody !== undefined && inQuery !== inBody) {
      throw badRequest(field, "differs between the query string and the body");
    }
  }
  return parseWith(placeOrderSchema, { ...query, ...body }, "request");
}

/** Builds the createOrder handler over `deps`. */
export function makeCreateOrderHandler(deps: Deps): ApiHandler {
  const store = new DynamoSaleStore(
    deps.doc,
    requireTables(deps, "createOrder", ["customers", "products", "orders"]),
  );
  const clock = systemClock(deps.region);
  return httpHandler(deps, "createOrder", async (req) => {
    const input = parsePlaceOrder(req);
    const { created, order } = await timed(deps, "WriteTime", () =>
      placeOrder(store, input, clock),
    );
    return {
      status: created ? 201 : 200,
      body: order,
      headers: { location: `/orders/${encodeURIComponent(order.OrderId)}` },
    };
  });
}

/** Lambda entry point. */
export const handler = lambdaHandler("createOrder", makeCreateOrderHandler);
