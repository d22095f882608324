/**
 * Health probes over DynamoDB: one GetItem of a key that never exists, per table, all in
 * parallel and all bounded by one deadline. A missing item is a pass: the table answered.
 */
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Check, CheckFailure } from "../domain/health";
import { tableSpec, type TableKey } from "../tables";
import { isTransient, transientKind } from "./errors";

/** Partition key value the probes read. Nothing writes it, so probes cost one small read. */
export const HEALTH_PROBE_KEY = "__health_probe__";

class DeadlineExceeded extends Error {
  override readonly name = "DeadlineExceeded";
}

/** Why a probe failed, coarse enough for an unauthenticated endpoint. */
export function probeFailure(err: unknown): CheckFailure {
  if (err instanceof DeadlineExceeded) return "timed out";
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "ResourceNotFoundException") return "table not found";
  if (isTransient(err)) return transientKind(err) === "timed out" ? "timed out" : "unavailable";
  return "error";
}

export interface ProbeResult {
  readonly check: Check;
  /** The raw failure, for the log only. */
  readonly error?: unknown;
}

/**
 * Probes each table once, in parallel. Each probe is aborted at `timeoutMs` and also raced
 * against it, so a retry back-off inside the SDK cannot stretch the bound.
 */
export async function probeTables(
  doc: DynamoDBDocumentClient,
  tables: ReadonlyArray<{ key: TableKey; name: string }>,
  timeoutMs: number,
): Promise<ProbeResult[]> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new DeadlineExceeded(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.all(
      tables.map(async ({ key, name }): Promise<ProbeResult> => {
        const started = performance.now();
        const elapsed = (): number => Math.round(performance.now() - started);
        try {
          const get = new GetCommand({
            TableName: name,
            Key: { [tableSpec(key).hashKey]: HEALTH_PROBE_KEY },
          });
          await Promise.race([doc.send(get, { abortSignal: controller.signal }), deadline]);
          return { check: { table: key, ok: true, ms: elapsed() } };
        } catch (error) {
          return {
            check: { table: key, ok: false, ms: elapsed(), reason: probeFailure(error) },
            error,
          };
        }
      }),
    );
  } finally {
    clearTimeout(timer);
  }
}
