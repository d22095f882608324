/**
 * DynamoDB Local I/O for the replicator: a poller that reads a table's DynamoDB Stream with
 * @aws-sdk/client-dynamodb-streams, and item writes with `ReturnValues: ALL_OLD`.
 *
 * Change time: DynamoDB Local truncates `ApproximateCreationDateTime` to the minute, too coarse
 * for lag or last-writer-wins, so a change is stamped with the time its poller read it. The
 * poller asks again at once while records keep coming and every `pollMs` when idle, so the stamp
 * is late by at most `pollMs` plus one GetRecords call.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  PutItemCommand,
  ScanCommand,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";

export type { StreamRecord };
import { tableSpec, type TableKey } from "../functions/tables";
import { localClient, localClientConfig } from "./dynamo";
import type { Image } from "./replication-model";
import type { ChangeRecord, RegionIO, TableIO } from "./replicator/region-io";
import { StreamShards } from "./streams/shards";

/** How often an idle poller asks for new records. */
export const DEFAULT_POLL_MS = 100;
/** How often a poller looks for new shards (DynamoDB rolls shards over). */
const SHARD_REFRESH_MS = 5_000;
const ERROR_BACKOFF_MS = 500;

export interface StreamPollerOptions {
  readonly endpoint: string;
  readonly tableName: string;
  readonly pollMs?: number;
  /** Records of one GetRecords call, in order, and when they were read (epoch ms). */
  readonly onRecords?: (records: ChangeRecord[], observedAt: number) => void;
  /** The same records as the stream gives them, old images included (the reconciler's view). */
  readonly onStreamRecords?: (records: StreamRecord[], observedAt: number) => void;
  readonly onError?: (message: string, err: unknown) => void;
}

export interface StreamPoller {
  /**
   * Stops reading. With `drain`, first hands over every record the stream holds now (reads until
   * a full pass over the shards returns nothing), so no write made before the call is missed;
   * gives up draining after `drainTimeoutMs`.
   */
  stop(opts?: { drain?: boolean; drainTimeoutMs?: number }): Promise<void>;
}

function toChange(rec: StreamRecord): ChangeRecord | undefined {
  const keys = rec.dynamodb?.Keys as Image | undefined;
  if (!keys) return undefined;
  const newImage = rec.dynamodb?.NewImage as Image | undefined;
  return rec.eventName === "REMOVE" ? { keys } : { keys, newImage };
}

/**
 * Starts reading the table's stream after its newest record: what was written before is already
 * in every region (fresh tables, or a region just reseeded). Nothing may write the table while
 * this runs.
 *
 * DynamoDB Local quirk: an iterator taken on a shard with no records (a fresh table), whether
 * LATEST or TRIM_HORIZON, fails with TrimmedDataAccessException once the first record is
 * written. So the poller starts at TRIM_HORIZON, skips the records already there, and when it
 * has seen none and gets that error, starts over at TRIM_HORIZON: every record there is new.
 */
export async function startStreamPoller(opts: StreamPollerOptions): Promise<StreamPoller> {
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const onError = opts.onError ?? (() => undefined);
  const streams = new DynamoDBStreamsClient(localClientConfig(opts.endpoint));
  const ddb = localClient(opts.endpoint);
  const described = await ddb.send(new DescribeTableCommand({ TableName: opts.tableName }));
  ddb.destroy();
  const streamArn = described.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${opts.tableName} has no stream`);

  const shards = new StreamShards(streams, streamArn);
  await shards.discover(true);
  // Skip what is there now, before returning: from then on every record is a new change.
  await shards.skipExisting();

  let stopping = false;
  let draining = false;
  let drained: (() => void) | undefined;
  let wake: (() => void) | undefined;
  const nap = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const deliver = (records: StreamRecord[], observedAt: number): void => {
    if (!stopping && opts.onRecords) {
      const changes = records.map(toChange).filter((c): c is ChangeRecord => c !== undefined);
      opts.onRecords(changes, observedAt);
    }
    if (!stopping) opts.onStreamRecords?.(records, observedAt);
  };

  const loop = (async () => {
    let lastRefresh = Date.now();
    while (!stopping) {
      let got: number;
      try {
        got = await shards.pass(() => stopping, deliver);
        if (shards.empty || Date.now() - lastRefresh > SHARD_REFRESH_MS) {
          lastRefresh = Date.now();
          await shards.discover(false);
        }
      } catch (err) {
        if (stopping) break;
        onError(`reading the stream of ${opts.tableName} failed; retrying`, err);
        await nap(ERROR_BACKOFF_MS);
        continue;
      }
      if (got === 0 && draining) drained?.();
      if (got === 0 && !stopping) await nap(pollMs);
    }
  })();

  return {
    async stop(stopOpts = {}): Promise<void> {
      if (stopOpts.drain && !stopping) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          // A pass that starts after this point sees every record written before it.
          let passes = 0;
          drained = () => {
            if (++passes >= 2) resolve();
          };
          draining = true;
          timer = setTimeout(() => {
            onError(`draining the stream of ${opts.tableName} timed out`, undefined);
            resolve();
          }, stopOpts.drainTimeoutMs ?? 10_000);
          wake?.();
        });
        clearTimeout(timer);
      }
      stopping = true;
      wake?.();
      await loop;
      streams.destroy();
    },
  };
}

/** BatchWriteItem takes at most 25 requests (DynamoDB API reference, BatchWriteItem). */
export const BATCH_WRITE_MAX = 25;
/** Batches one `putBatch` call keeps in flight. */
const BATCH_WRITES_IN_FLIGHT = 2;
const UNPROCESSED_RETRIES = 10;

const CALL_ATTEMPTS = 4;

/**
 * Runs an idempotent call (a scan page, a batch of puts) again after a failure such as a timeout
 * of a JVM busy starting, up to `CALL_ATTEMPTS` times in all.
 */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= CALL_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** One BatchWriteItem of puts, retrying unprocessed items with a growing pause. */
async function batchPut(client: DynamoDBClient, table: string, images: Image[]): Promise<void> {
  let requests: WriteRequest[] = images.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > UNPROCESSED_RETRIES) {
      throw new Error(
        `${table}: ${requests.length} items still unprocessed after ${attempt} tries`,
      );
    }
    if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 6)));
    const batch = requests;
    const out = await retrying(() =>
      client.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } })),
    );
    requests = out.UnprocessedItems?.[table] ?? [];
  }
}

const SCALAR_TYPES = ["S", "N", "B", "BOOL", "NULL"] as const;

/**
 * A condition that holds when the item is one of `candidates`: each scalar attribute equal (set,
 * list and map attributes are left out), or the item absent for an undefined candidate.
 */
export function sameItemCondition(hashKey: string, candidates: readonly (Image | undefined)[]) {
  // Attribute name -> its `#aN` alias in the expression.
  const aliases = new Map<string, string>();
  const alias = (name: string): string => {
    let a = aliases.get(name);
    if (a === undefined) {
      a = `#a${aliases.size}`;
      aliases.set(name, a);
    }
    return a;
  };
  const values: Image = {};
  const alternatives = candidates.map((expected, c) => {
    if (expected === undefined) return "attribute_not_exists(#k)";
    const terms = ["attribute_exists(#k)"];
    Object.entries(expected).forEach(([name, value], i) => {
      const v = value as unknown as Record<string, unknown>;
      if (!SCALAR_TYPES.some((t) => v[t] !== undefined)) return;
      values[`:v${c}_${i}`] = value;
      terms.push(`${alias(name)} = :v${c}_${i}`);
    });
    return terms.join(" AND ");
  });
  return {
    ConditionExpression: alternatives.map((a) => `(${a})`).join(" OR "),
    ExpressionAttributeNames: {
      "#k": hashKey,
      ...Object.fromEntries([...aliases].map(([name, a]) => [a, name])),
    },
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** The replicator's writes to one region's DynamoDB Local. */
export function dynamoRegionIO(client: DynamoDBClient, names: Record<TableKey, string>): RegionIO {
  return {
    table(key: TableKey): TableIO {
      const TableName = names[key];
      return {
        async put(image) {
          const out = await client.send(
            new PutItemCommand({ TableName, Item: image, ReturnValues: "ALL_OLD" }),
          );
          return out.Attributes as Image | undefined;
        },
        async putIf(image, candidates) {
          try {
            const out = await client.send(
              new PutItemCommand({
                TableName,
                Item: image,
                ReturnValues: "ALL_OLD",
                ...sameItemCondition(tableSpec(key).hashKey, candidates),
              }),
            );
            return out.Attributes !== undefined ? { old: out.Attributes as Image } : {};
          } catch (err) {
            if ((err as { name?: string }).name === "ConditionalCheckFailedException") {
              return "conflict";
            }
            throw err;
          }
        },
        async delete(keys) {
          const out = await client.send(
            new DeleteItemCommand({ TableName, Key: keys, ReturnValues: "ALL_OLD" }),
          );
          return out.Attributes as Image | undefined;
        },
        async scanPages(segments, onPage) {
          await Promise.all(
            Array.from({ length: segments }, async (_, Segment) => {
              let start: Image | undefined;
              do {
                const from = start;
                const out = await retrying(() =>
                  client.send(
                    new ScanCommand({
                      TableName,
                      ConsistentRead: true,
                      Segment,
                      TotalSegments: segments,
                      ExclusiveStartKey: from,
                    }),
                  ),
                );
                await onPage((out.Items ?? []) as Image[]);
                start = out.LastEvaluatedKey as Image | undefined;
              } while (start !== undefined);
            }),
          );
        },
        async putBatch(images) {
          const chunks: Image[][] = [];
          for (let i = 0; i < images.length; i += BATCH_WRITE_MAX)
            chunks.push(images.slice(i, i + BATCH_WRITE_MAX));
          let next = 0;
          const worker = async (): Promise<void> => {
            while (next < chunks.length)
              await batchPut(client, TableName, chunks[next++] as Image[]);
          };
          await Promise.all(Array.from({ length: BATCH_WRITES_IN_FLIGHT }, worker));
        },
        async scan() {
          const items: Image[] = [];
          let start: Image | undefined;
          do {
            const out = await client.send(
              new ScanCommand({ TableName, ConsistentRead: true, ExclusiveStartKey: start }),
            );
            items.push(...((out.Items ?? []) as Image[]));
            start = out.LastEvaluatedKey as Image | undefined;
          } while (start !== undefined);
          return items;
        },
      };
    },
  };
}
