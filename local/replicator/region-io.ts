/**
 * What the replicator reads and writes in a region: stream records reduced to what replication
 * needs, and one region's tables behind `RegionIO` (DynamoDB Local in the sandbox, see
 * local/streams.ts; an in-memory fake in the tests).
 */
import { tableSpec, type TableKey } from "../../functions/tables";
import type { Image } from "../replication-model";

/** A stream record, reduced to what replication needs. */
export interface ChangeRecord {
  /** The item's key attributes. */
  readonly keys: Image;
  /** The item after the change; absent for a delete. */
  readonly newImage?: Image | undefined;
}

/** Writes to one region's table. Each call returns the item it replaced, if any. */
export interface TableIO {
  put(image: Image): Promise<Image | undefined>;
  /**
   * Puts `image` only if the item is one of `candidates` (absent for undefined), as a global table
   * replica applies a replicated write only over what it knew: "conflict" when another write (a
   * client's, not read from the stream yet) is there. Optional: without it, `put` and a repair.
   */
  putIf?(
    image: Image,
    candidates: readonly (Image | undefined)[],
  ): Promise<{ old?: Image } | "conflict">;
  delete(keys: Image): Promise<Image | undefined>;
  /** Every item, strongly consistent. */
  scan(): Promise<Image[]>;
  /** Every item, strongly consistent, page by page from `segments` parallel scan segments. */
  scanPages(segments: number, onPage: (items: Image[]) => Promise<void>): Promise<void>;
  /** Puts many items, in batches (BatchWriteItem on DynamoDB). */
  putBatch(images: Image[]): Promise<void>;
}

export interface RegionIO {
  table(key: TableKey): TableIO;
}

/** Key attributes of an item of `table`, from the one table list. */
export function keyOf(table: TableKey, item: Image): Image {
  const name = tableSpec(table).hashKey;
  const value = item[name];
  if (value === undefined) throw new Error(`item of ${table} has no ${name}`);
  return { [name]: value };
}
