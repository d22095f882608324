/**
 * The key-value service of the Route 53 failover lab: put a JSON value under a key, optionally
 * expiring, and read it back.
 *
 * Values are stored as JSON text rather than as native DynamoDB maps and lists: any JSON a
 * client sends round-trips exactly, with no surprises from DynamoDB's number precision or
 * nesting limits.
 */
import * as z from "zod/mini";
import { DomainError, badRequest } from "./errors";
import { idSchema } from "./validation";

/** Longest key accepted. */
export const KV_KEY_MAX_LENGTH = 256;
/** Largest value accepted, measured as its JSON text in UTF-8 bytes. */
export const KV_VALUE_MAX_BYTES = 8 * 1024;
/** Longest time-to-live accepted: one year. */
export const KV_TTL_MAX_SECONDS = 366 * 24 * 60 * 60;

/** Schema of a key (from the path). */
export const kvKeySchema = idSchema(KV_KEY_MAX_LENGTH);

/** Schema of the `PUT /kv/{key}` body. */
export const putKvSchema = z.strictObject({
  value: z.unknown().check(z.refine((v) => v !== undefined, "is required")),
  ttlSeconds: z.optional(
    z
      .int({
        error: (issue) =>
          typeof issue.input === "number"
            ? "must be a whole number of seconds"
            : "must be a number",
      })
      .check(
        z.minimum(1, "must be at least 1"),
        z.maximum(KV_TTL_MAX_SECONDS, `must be at most ${KV_TTL_MAX_SECONDS}`),
      ),
  ),
});

/** A stored entry. `ExpiresAt` is epoch seconds, the unit DynamoDB TTL wants. */
export interface KvItem {
  readonly Key: string;
  /** The value as JSON text. */
  readonly Value: string;
  readonly UpdatedAt: string;
  readonly ExpiresAt?: number;
}

/** What the API returns for an entry. */
export interface KvEntry {
  readonly key: string;
  readonly value: unknown;
  readonly updatedAt: string;
  /** ISO-8601 time after which the entry reads as absent. */
  readonly expiresAt?: string;
}

export interface KvStore {
  put(item: KvItem): Promise<void>;
  get(key: string): Promise<KvItem | undefined>;
}

/** Builds the item to store, rejecting values over the size bound. */
export function toKvItem(
  key: string,
  value: unknown,
  ttlSeconds: number | undefined,
  now: Date,
): KvItem {
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > KV_VALUE_MAX_BYTES) {
    throw badRequest("value", `is ${bytes} bytes as JSON; at most ${KV_VALUE_MAX_BYTES} allowed`);
  }
  const item: KvItem = { Key: key, Value: text, UpdatedAt: now.toISOString() };
  return ttlSeconds === undefined
    ? item
    : { ...item, ExpiresAt: Math.floor(now.getTime() / 1000) + ttlSeconds };
}

/**
 * The entry an item stands for, or undefined when it has expired: DynamoDB deletes expired items
 * lazily (often hours later), so reads must not trust presence alone.
 */
export function toKvEntry(item: KvItem, now: Date): KvEntry | undefined {
  if (item.ExpiresAt !== undefined && item.ExpiresAt * 1000 <= now.getTime()) return undefined;
  const entry: KvEntry = {
    key: item.Key,
    value: JSON.parse(item.Value),
    updatedAt: item.UpdatedAt,
  };
  return item.ExpiresAt === undefined
    ? entry
    : { ...entry, expiresAt: new Date(item.ExpiresAt * 1000).toISOString() };
}

export async function putKv(
  store: KvStore,
  key: string,
  value: unknown,
  ttlSeconds: number | undefined,
  now: Date,
): Promise<KvEntry> {
  const item = toKvItem(key, value, ttlSeconds, now);
  await store.put(item);
  return toKvEntry(item, now) as KvEntry;
}

export async function getKv(store: KvStore, key: string, now: Date): Promise<KvEntry> {
  const item = await store.get(key);
  const entry = item && toKvEntry(item, now);
  if (!entry) throw new DomainError("KeyNotFound", `key ${key} not found`);
  return entry;
}
