/**
 * `GET /products?limit=N&cursor=C` (a page of products, `{ items, cursor? }`) and
 * `GET /products/{productId}` (one product or 404).
 */
import { DynamoProductStore } from "../data/products";
import {
  LIST_PRODUCTS_PARAMS,
  PRODUCTS_PAGE_DEFAULT,
  PRODUCTS_PAGE_MAX,
  decodeCursor,
  getProduct,
  listProducts,
} from "../domain/products";
import { idSchema, parseIntParam, parseWith } from "../domain/validation";
import { httpHandler } from "../http";
import { allowedQuery, noBody, pathParam } from "../request";
import { lambdaHandler, requireTables, type ApiHandler, type Deps } from "../runtime";

const productIdSchema = idSchema();

/** Builds the products handler over `deps`. */
export function makeProductsHandler(deps: Deps): ApiHandler {
  const store = new DynamoProductStore(
    deps.doc,
    requireTables(deps, "products", ["products"]).products,
  );
  return httpHandler(deps, "products", async (req) => {
    noBody(req);
    if (req.route.path === "/products") {
      const query = allowedQuery(req, LIST_PRODUCTS_PARAMS);
      const limit =
        query.limit === undefined
          ? PRODUCTS_PAGE_DEFAULT
          : parseIntParam("limit", query.limit, 1, PRODUCTS_PAGE_MAX);
      // Decode before any call so a bad cursor is a 400 with no read.
      if (query.cursor !== undefined) decodeCursor(query.cursor);
      return { status: 200, body: await listProducts(store, limit, query.cursor) };
    }
    allowedQuery(req, []);
    const productId = parseWith(productIdSchema, pathParam(req, "productId"), "productId");
    return { status: 200, body: await getProduct(store, productId) };
  });
}

/** Lambda entry point. */
export const handler = lambdaHandler("products", makeProductsHandler);
