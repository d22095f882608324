/**
 * All handlers of one region, and a dispatcher that routes API Gateway proxy events to them the
 * way API Gateway does, from the route table in routes.ts. The local sandbox serves each region
 * with `createApp(deps)`; the handler tests drive the same dispatcher.
 */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { makeCreateOrderHandler } from "./handlers/create-order";
import { makeFillHandler } from "./handlers/fill";
import { makeHealthHandler } from "./handlers/health";
import { makeKvHandler } from "./handlers/kv";
import { makeProductsHandler } from "./handlers/products";
import { makeReadOrderHandler } from "./handlers/read-order";
import { toHttp, type ResponseContext } from "./http";
import { findRoute } from "./request";
import { ROUTES, type FunctionName, type RouteSpec } from "./routes";
import type { ApiHandler, Deps } from "./runtime";

/** One factory per function of routes.ts; the Record type makes a missing one a compile error. */
export const HANDLER_FACTORIES: Readonly<Record<FunctionName, (deps: Deps) => ApiHandler>> = {
  createOrder: makeCreateOrderHandler,
  readOrder: makeReadOrderHandler,
  fill: makeFillHandler,
  products: makeProductsHandler,
  kv: makeKvHandler,
  health: makeHealthHandler,
};

/** Builds every handler over one region's `deps`. Throws if a needed table is not configured. */
export function makeHandlers(deps: Deps): Record<FunctionName, ApiHandler> {
  const out = {} as Record<FunctionName, ApiHandler>;
  for (const [fn, make] of Object.entries(HANDLER_FACTORIES) as [
    FunctionName,
    (d: Deps) => ApiHandler,
  ][]) {
    out[fn] = make(deps);
  }
  return out;
}

/** Region (and CORS origin) of the dispatcher's own 404/405 responses, and where it logs. */
export interface DispatcherOptions extends ResponseContext {
  /** Logger for the dispatcher's own failures. */
  readonly logger: Deps["logger"];
  /** @default ROUTES */
  readonly routes?: readonly RouteSpec[];
}

/**
 * Routes an event by `httpMethod` and `path`: fills `resource` and `pathParameters` as API
 * Gateway would and calls the route's handler. Unknown path -> 404 NotFound; known path with
 * another method -> 405 MethodNotAllowed with an `allow` header.
 */
export function createDispatcher(
  handlers: Readonly<Record<FunctionName, ApiHandler>>,
  opts: DispatcherOptions,
): ApiHandler {
  const routes = opts.routes ?? ROUTES;
  return async (event: APIGatewayProxyEvent) => {
    try {
      const { route, params } = findRoute(event.httpMethod, event.path, routes);
      return await handlers[route.function]({
        ...event,
        resource: route.path,
        pathParameters: Object.keys(params).length > 0 ? params : null,
      });
    } catch (err) {
      return toHttp(err, opts);
    }
  };
}

/** A whole region's API as one handler: `makeHandlers` behind `createDispatcher`. */
export function createApp(deps: Deps): ApiHandler {
  return createDispatcher(makeHandlers(deps), deps);
}
