/**
 * `FillStore` over DynamoDB BatchWriteItem: 25 puts per call (tables mixed), retrying
 * UnprocessedItems with capped, jittered exponential backoff as AWS recommends, and giving up
 * with a 503 after a bounded number of attempts.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { planBatches, type FillStore, type PutRequest } from "../domain/fill";
import type { TableKey } from "../tables";
import { dynamo, unavailableBecause } from "./errors";

/** Calls per batch, the first included, before a batch with unprocessed items fails the fill. */
export const BATCH_MAX_ATTEMPTS = 6;
/** First backoff; it doubles per attempt, capped at `BATCH_MAX_BACKOFF_MS`. */
export const BATCH_BASE_BACKOFF_MS = 50;
export const BATCH_MAX_BACKOFF_MS = 2000;

type WriteRequests = Record<string, { PutRequest: { Item: Record<string, unknown> } }[]>;

export interface BatchOptions {
  readonly maxAttempts?: number;
  /** Waits between attempts; tests inject one that does not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). */
  readonly random?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter backoff before attempt `attempt` (2, 3, ...). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BATCH_MAX_BACKOFF_MS, BATCH_BASE_BACKOFF_MS * 2 ** (attempt - 2));
  return Math.floor(random() * ceiling);
}

export class DynamoBatchWriter implements FillStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: Readonly<Partial<Record<TableKey, string>>>,
    private readonly options: BatchOptions = {},
  ) {}

  async putAll(requests: readonly PutRequest[]): Promise<void> {
    // Sequential on purpose: a fill is at most a few hundred calls, and one batch at a time keeps
    // on-demand tables from throttling a burst a live order path shares.
    for (const batch of planBatches(requests)) await this.writeBatch(this.toRequestItems(batch));
  }

  private toRequestItems(batch: readonly PutRequest[]): WriteRequests {
    const items: WriteRequests = {};
    for (const { table, item } of batch) {
      const name = this.tables[table];
      if (name === undefined) throw new Error(`fill has no table name for ${table}`);
      (items[name] ??= []).push({ PutRequest: { Item: { ...item } } });
    }
    return items;
  }

  private async writeBatch(requestItems: WriteRequests): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? BATCH_MAX_ATTEMPTS;
    const sleep = this.options.sleep ?? realSleep;
    let pending: WriteRequests = requestItems;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt, this.options.random));
      const out = await dynamo(() =>
        this.doc.send(new BatchWriteCommand({ RequestItems: pending })),
      );
      const unprocessed = out.UnprocessedItems ?? {};
      const left = Object.values(unprocessed).reduce((n, list) => n + (list?.length ?? 0), 0);
      if (left === 0) return;
      if (attempt >= maxAttempts) {
        throw unavailableBecause(
          "throttled",
          new Error(`${left} fill items still unprocessed after ${attempt} BatchWriteItem calls`),
        );
      }
      pending = unprocessed as WriteRequests;
    }
  }
}
