/**
 * Turns DynamoDB SDK failures into domain errors. A dependency that is down, slow or throttling
 * becomes a 503 ServiceUnavailable (clients and Route 53 retry or fail over); anything else is
 * left alone and ends as a logged 500, because it means a bug or a misconfiguration.
 */
import { isDomainError, unavailable, type DomainError } from "../domain/errors";

/** Service exceptions that mean "try again later", not "your request is wrong". */
const TRANSIENT_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionConflictException",
  "TransactionInProgressException",
  // MRSC: another Region is modifying the item; the write did not happen and is safe to retry.
  // The SDK already retries it (the model marks it retryable): this is what is left after that.
  "ReplicatedWriteConflictException",
  // Raised by the SDK's HTTP handler and by aborts (our own time bounds).
  "TimeoutError",
  "RequestTimeout",
  "AbortError",
]);

/** Node socket errors: the endpoint is unreachable. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

interface SdkErrorLike {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Whether an error means DynamoDB is unreachable, throttling or failing on its side. */
export function isTransient(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as SdkErrorLike;
  if (typeof e.name === "string" && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number" && status >= 500) return true;
  return e.$fault === "server";
}

/** Kinds of transient failure, coarse enough to show an unauthenticated caller. */
export type TransientKind = "timed out" | "throttled" | "conflict" | "unavailable";

/** Classifies a transient error (see `isTransient`). */
export function transientKind(err: unknown): TransientKind {
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkErrorLike;
  const name = typeof e.name === "string" ? e.name : "";
  if (name === "TimeoutError" || name === "RequestTimeout" || name === "AbortError")
    return "timed out";
  if (name.includes("Throughput") || name.includes("Throttl") || name === "RequestLimitExceeded") {
    return "throttled";
  }
  if (name.startsWith("Transaction") || name === "ReplicatedWriteConflictException") {
    return "conflict";
  }
  return "unavailable";
}

const TRANSIENT_MESSAGES: Record<TransientKind, string> = {
  "timed out": "DynamoDB did not answer in time; retry",
  throttled: "DynamoDB is throttling requests; retry",
  conflict: "a concurrent request, possibly in another region, wrote the same items; retry",
  unavailable: "DynamoDB is unavailable; retry",
};

/** A 503 for a transient failure of the given kind. */
export function unavailableBecause(kind: TransientKind, cause?: unknown): DomainError {
  return unavailable(TRANSIENT_MESSAGES[kind], cause);
}

/**
 * The sandbox's MRSC refusal when too few members are reachable ("strong consistency: 1 of 3
 * members reachable (us-east-1); a write needs 2"): the client is told why, not just "retry".
 */
function quorumLoss(err: unknown): string | undefined {
  const e = err as { name?: unknown; message?: unknown };
  if (e.name !== "ServiceUnavailable" || typeof e.message !== "string") return undefined;
  return e.message.startsWith("strong consistency: ") ? e.message : undefined;
}

/** Maps an SDK error to what the rest of the code expects; returns it to be thrown. */
export function translateSdkError(err: unknown): unknown {
  if (isDomainError(err)) return err;
  if (isTransient(err)) {
    const why = quorumLoss(err);
    return why !== undefined ? unavailable(why, err) : unavailableBecause(transientKind(err), err);
  }
  return err;
}

/** Runs one DynamoDB call, translating its failure. */
export async function dynamo<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw translateSdkError(err);
  }
}
