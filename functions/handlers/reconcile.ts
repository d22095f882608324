/**
 * The reconciler: invoked by the products table's stream in its own region (eventual mode only;
 * see RECONCILER in functions/stream-functions.ts), it cancels the orders this region sold whose
 * product last-writer-wins gave to another order (the rule: functions/domain/compensation.ts).
 *
 * Records are handled one after another, in stream order. A record that cannot be handled now (a
 * throttled or failed DynamoDB call) ends the batch: its sequence number is reported in
 * `batchItemFailures`, and Lambda checkpoints before it and delivers it and every later record
 * again ("Configuring partial batch response with DynamoDB and Lambda",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html); the
 * cancellation is conditional, so a record handled twice changes nothing the second time. A
 * record that can never be handled (no images, not a product, unreadable values) is logged and
 * skipped: retrying it would only hold the shard back.
 */
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { DynamoCompensationStore, type CompensationTables } from "../data/compensation";
import { compensate, type ProductChange } from "../domain/compensation";
import type { Clock } from "../domain/model";
import { depsFromEnv, systemClock, type Deps } from "../runtime";
import { RECONCILER } from "../stream-functions";
import { tableSpec, type TableKey } from "../tables";

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

/** The physical names of the tables RECONCILER's access list grants; throws naming a missing one. */
export function reconcilerTables(deps: Pick<Deps, "tables">): CompensationTables {
  const out: Partial<Record<TableKey, string>> = {};
  for (const key of ["products", "orders"] as const) {
    if (RECONCILER.access[key] === undefined) {
      throw new Error(`the reconciler uses the ${key} table but RECONCILER grants it no access`);
    }
    const name = deps.tables[key];
    if (name === undefined) {
      throw new Error(`the reconciler needs the ${key} table: set ${tableSpec(key).envVar}`);
    }
    out[key] = name;
  }
  return out as CompensationTables;
}

type Image = Record<string, unknown>;

/** A record as a ProductChange, or why it is not one. */
export function toChange(record: DynamoDBRecord): ProductChange | string {
  if (typeof record !== "object" || record === null) return "not a record";
  const data = record.dynamodb;
  if (typeof data !== "object" || data === null) return "no dynamodb section";
  const image = (raw: unknown): Image | undefined => {
    if (raw === undefined) return undefined;
    if (typeof raw !== "object" || raw === null) throw new Error("an image is not a map");
    return unmarshall(raw as Record<string, AttributeValue>) as Image;
  };
  try {
    return {
      eventName: record.eventName,
      oldImage: image(data.OldImage),
      newImage: image(data.NewImage),
    };
  } catch (err) {
    return `unreadable image: ${(err as Error).message}`;
  }
}

/** Builds the handler over `deps`; `clock` is injectable for tests. */
export function makeReconcileHandler(
  deps: Deps,
  clock?: Pick<Clock, "region" | "now">,
): StreamHandler {
  const store = new DynamoCompensationStore(deps.doc, reconcilerTables(deps));
  const time = clock ?? systemClock(deps.region);
  const log = deps.logger;
  return async (event) => {
    const records: unknown = (event as { Records?: unknown } | null)?.Records;
    if (!Array.isArray(records)) {
      log.error("reconciler invoked without a Records list; nothing to do");
      return { batchItemFailures: [] };
    }
    let cancelled = 0;
    for (const record of records as DynamoDBRecord[]) {
      const sequence = (record as DynamoDBRecord | null)?.dynamodb?.SequenceNumber;
      const change = toChange(record);
      if (typeof change === "string" || typeof sequence !== "string" || sequence === "") {
        log.warn("skipping a stream record the reconciler cannot read", {
          why: typeof change === "string" ? change : "no sequence number",
          eventID: (record as DynamoDBRecord | null)?.eventID,
        });
        continue;
      }
      try {
        const result = await compensate(store, change, time);
        if (result.outcome === "cancelled") {
          cancelled++;
          log.info("order cancelled", { ...result.cancellation });
        } else if (result.outcome === "other-product") {
          log.warn("not cancelled: the order is for another product", {
            ...result.cancellation,
          });
        }
      } catch (err) {
        log.error("reconciling a record failed; it will be delivered again", {
          sequence,
          error: err as Error,
        });
        deps.metrics.addMetric("OrdersCancelled", "Count", cancelled);
        deps.metrics.publishStoredMetrics();
        return { batchItemFailures: [{ itemIdentifier: sequence }] };
      }
    }
    deps.metrics.addMetric("OrdersCancelled", "Count", cancelled);
    deps.metrics.publishStoredMetrics();
    return { batchItemFailures: [] };
  };
}

let built: StreamHandler | undefined;
const get = (): StreamHandler => (built ??= makeReconcileHandler(depsFromEnv(process.env)));
// On Lambda, build during init so a misconfigured function fails its cold start with a message.
if (process.env.AWS_LAMBDA_FUNCTION_NAME) get();

/** Lambda entry point. */
export const handler: StreamHandler = (event) => get()(event);
