/**
 * The one place where results and errors become HTTP responses. Every response is JSON and says
 * which region served it; errors are `{ error, message }` (plus documented extras), and anything
 * unexpected is a generic 500 whose details go to the log only.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { Logger } from "@aws-lambda-powertools/logger";
import { DomainError, type ErrorCode } from "./domain/errors";
import { MethodNotAllowedError, parseRequest, type ApiRequest } from "./request";
import type { FunctionName } from "./routes";
import type { ApiHandler, Deps } from "./runtime";

/** HTTP status of each error code. Exhaustive: a new code does not compile without one. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  BadRequest: 400,
  NotFound: 404,
  CustomerNotFound: 404,
  ProductNotFound: 404,
  OrderNotFound: 404,
  KeyNotFound: 404,
  MethodNotAllowed: 405,
  ProductSoldOut: 409,
  OrderConflict: 409,
  PayloadTooLarge: 413,
  InternalError: 500,
  ServiceUnavailable: 503,
  Unhealthy: 503,
};

/** Header naming the region whose handler produced the response. */
export const SERVED_BY_HEADER = "x-served-by-region";

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;

/** A successful result before it becomes a response. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What every response says about where it came from. */
export interface ResponseContext {
  readonly region: string;
  /** Browser origin allowed by CORS (RegionalApi's `corsAllowOrigin`); none when unset. */
  readonly corsAllowOrigin?: string | undefined;
}

/** Response headers browser code may read, when CORS is on. */
const EXPOSED_HEADERS = [SERVED_BY_HEADER, "location", "retry-after", "allow"].join(", ");

/** A JSON response carrying the serving region (and CORS headers when configured). */
export function respond(
  ctx: ResponseContext,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyResult {
  // API Gateway answers the CORS preflight; the actual response must carry the origin itself.
  const cors: Record<string, string> = ctx.corsAllowOrigin
    ? {
        "access-control-allow-origin": ctx.corsAllowOrigin,
        "access-control-expose-headers": EXPOSED_HEADERS,
      }
    : {};
  return {
    statusCode: status,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
      [SERVED_BY_HEADER]: ctx.region,
      ...cors,
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

/** Maps any thrown value to a response, logging what the client must not see. */
export function toHttp(
  err: unknown,
  ctx: ResponseContext & { readonly logger: Logger },
): APIGatewayProxyResult {
  if (!(err instanceof DomainError)) {
    ctx.logger.error("unexpected error", err instanceof Error ? err : String(err));
    return respond(ctx, 500, { error: "InternalError", message: "internal error" });
  }
  const status = ERROR_STATUS[err.code];
  const headers: Record<string, string> = {};
  if (err instanceof MethodNotAllowedError) headers.allow = err.allow.join(", ");
  if (status === 503) {
    headers["retry-after"] = String(RETRY_AFTER_SECONDS);
    ctx.logger.warn(err.message, { code: err.code, cause: describeCause(err.cause) });
  } else if (status >= 500) {
    ctx.logger.error(err.message, { code: err.code, cause: describeCause(err.cause) });
  }
  // Extras are set only by our own code and never use the keys `error` or `message`.
  return respond(ctx, status, { error: err.code, message: err.message, ...err.extra }, headers);
}

/** Enough of a cause to diagnose from the log (socket errors carry their `code`). */
function describeCause(cause: unknown): unknown {
  if (!(cause instanceof Error)) return cause;
  const code = (cause as { code?: unknown }).code;
  return { name: cause.name, message: cause.message, ...(code !== undefined ? { code } : {}) };
}

/**
 * Wraps a route implementation with the shared request hygiene (`parseRequest`) and error
 * mapping, so implementations only parse their own fields and call the domain.
 */
export function httpHandler(
  deps: Pick<Deps, "region" | "logger" | "corsAllowOrigin">,
  fn: FunctionName,
  impl: (req: ApiRequest) => Promise<Reply>,
): ApiHandler {
  return async (event: APIGatewayProxyEvent) => {
    try {
      const reply = await impl(parseRequest(event, fn));
      return respond(deps, reply.status, reply.body, reply.headers);
    } catch (err) {
      return toHttp(err, deps);
    }
  };
}
