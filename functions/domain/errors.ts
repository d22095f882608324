/**
 * The typed errors the domain and data layers throw. `functions/http.ts` is the one place that
 * turns them into HTTP statuses; everything else only picks a code.
 */

/** Every error code a client can see in `{ "error": CODE, "message": TEXT }`. */
export type ErrorCode =
  | "BadRequest"
  | "PayloadTooLarge"
  | "NotFound"
  | "MethodNotAllowed"
  | "CustomerNotFound"
  | "ProductNotFound"
  | "OrderNotFound"
  | "KeyNotFound"
  | "ProductSoldOut"
  | "OrderConflict"
  | "ServiceUnavailable"
  | "Unhealthy"
  | "InternalError";

/**
 * An expected failure with a client-facing code and message. The message must be safe to show a
 * client: it names fields and ids, never internals. Put internals in `cause` for the log.
 */
export class DomainError extends Error {
  override readonly name = "DomainError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Documented extra response fields (only `/health` uses one: `checks`). */
    readonly extra?: Readonly<Record<string, unknown>>,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** 400 for input that fails validation; `message` starts with the offending field's name. */
export function badRequest(field: string, problem: string): DomainError {
  return new DomainError("BadRequest", `${field} ${problem}`);
}

/** 503 for a dependency that is down, throttling or too slow; the cause goes to the log. */
export function unavailable(message: string, cause?: unknown): DomainError {
  return new DomainError("ServiceUnavailable", message, undefined, { cause });
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
