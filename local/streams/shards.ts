/**
 * The shards of one table's DynamoDB Stream and a cursor in each: finding shards (DynamoDB rolls
 * them over), skipping the records there at start, and reading one pass over every shard.
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";

interface ShardCursor {
  iterator?: string | undefined;
  lastSequence?: string | undefined;
  /** Still reading the records that were there when the poller started (not delivered). */
  skipping: boolean;
}

/** Errors after which a shard's position is re-established rather than retried as is. */
const REPOSITION = new Set(["TrimmedDataAccessException", "ExpiredIteratorException"]);

/** The shards of one stream, each with its cursor, read one pass at a time. */
export class StreamShards {
  private readonly cursors = new Map<string, ShardCursor>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly streams: DynamoDBStreamsClient,
    private readonly streamArn: string,
  ) {}

  /** No shard left to read: time to look for new ones. */
  get empty(): boolean {
    return this.cursors.size === 0;
  }

  /**
   * Adds the shards not seen yet, each at TRIM_HORIZON. `initial`: only the open shards, their
   * records to be skipped; a shard that appears later is all new.
   */
  async discover(initial: boolean): Promise<void> {
    let start: string | undefined;
    do {
      const out = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        const id = shard.ShardId;
        if (!id || this.seen.has(id)) continue;
        this.seen.add(id);
        const open = shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
        // At start only the open shards matter; a shard that appears later is all new.
        if (initial && !open) continue;
        const it = await this.streams.send(
          new GetShardIteratorCommand({
            StreamArn: this.streamArn,
            ShardId: id,
            ShardIteratorType: "TRIM_HORIZON",
          }),
        );
        this.cursors.set(id, { iterator: it.ShardIterator, skipping: initial });
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined);
  }

  /** Reads past what the shards hold now: from then on every record is a new change. */
  async skipExisting(): Promise<void> {
    for (const cursor of this.cursors.values()) {
      while (cursor.skipping && cursor.iterator !== undefined) {
        const out = await this.streams.send(
          new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: 1000 }),
        );
        const records = out.Records ?? [];
        cursor.iterator = out.NextShardIterator;
        if (records.length === 0) cursor.skipping = false;
        else cursor.lastSequence = records[records.length - 1]?.dynamodb?.SequenceNumber;
      }
    }
  }

  /**
   * One GetRecords on every shard, in turn, until `stopping()`; each non-empty batch goes to
   * `deliver` with when it was read. Returns the records read (a shard repositioned counts one,
   * so the caller asks again at once). A closed shard read to its end is dropped.
   */
  async pass(
    stopping: () => boolean,
    deliver: (records: StreamRecord[], observedAt: number) => void,
  ): Promise<number> {
    let got = 0;
    for (const [id, cursor] of this.cursors) {
      if (stopping()) break;
      if (cursor.iterator === undefined) {
        this.cursors.delete(id);
        continue;
      }
      let out;
      try {
        out = await this.streams.send(
          new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: 1000 }),
        );
      } catch (err) {
        if (!REPOSITION.has((err as { name?: string }).name ?? "")) throw err;
        await this.reposition(id, cursor);
        got++;
        continue;
      }
      const observedAt = Date.now();
      const records = out.Records ?? [];
      cursor.iterator = out.NextShardIterator;
      if (records.length > 0) {
        cursor.lastSequence = records[records.length - 1]?.dynamodb?.SequenceNumber;
        deliver(records, observedAt);
        got += records.length;
      }
      if (cursor.iterator === undefined) this.cursors.delete(id);
    }
    return got;
  }

  /** A fresh iterator after the last record read (the shard's start when none was). */
  private async reposition(id: string, cursor: ShardCursor): Promise<void> {
    const it = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: id,
        ...(cursor.lastSequence !== undefined
          ? {
              ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
              SequenceNumber: cursor.lastSequence,
            }
          : { ShardIteratorType: "TRIM_HORIZON" }),
      }),
    );
    cursor.iterator = it.ShardIterator;
  }
}
