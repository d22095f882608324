/**
 * The one list of tables the service uses. GlobalTableSet creates them on AWS, the sandbox creates
 * them in DynamoDB Local, and the functions read their names from environment variables derived
 * from the same `envVar` here. Nothing else names a table or a key.
 */

/** Logical names of the service's tables. */
export type TableKey = "customers" | "products" | "orders" | "kv";

export interface TableSpec {
  /** Logical name; the physical name is `${prefix}-${key}`. */
  readonly key: TableKey;
  /** Partition key attribute (a string). No table here uses a sort key. */
  readonly hashKey: string;
  /** Environment variable that carries the physical table name to a function. */
  readonly envVar: string;
  /** Attribute DynamoDB uses for time-to-live expiry, if any. */
  readonly ttlAttribute?: string;
  /**
   * Whether the table's invariants need multi-Region strong consistency: with `consistency:
   * strong` it becomes an MRSC global table; otherwise (and always when false) it stays eventual.
   */
  readonly strong: boolean;
}

/**
 * How a stack set's global tables replicate: `eventual` (MREC, last writer wins, conditions
 * checked in one region) or `strong` (MRSC for the tables whose spec says `strong`).
 */
export type ConsistencyMode = "eventual" | "strong";

export const CONSISTENCY_MODES: readonly ConsistencyMode[] = ["eventual", "strong"];

export const TABLES: readonly TableSpec[] = [
  { key: "customers", hashKey: "CustomerId", envVar: "TABLE_CUSTOMERS", strong: true },
  { key: "products", hashKey: "ProductId", envVar: "TABLE_PRODUCTS", strong: true },
  { key: "orders", hashKey: "OrderId", envVar: "TABLE_ORDERS", strong: true },
  // MRSC tables do not support time to live: kv keeps its expiry and stays eventual.
  { key: "kv", hashKey: "Key", envVar: "TABLE_KV", ttlAttribute: "ExpiresAt", strong: false },
];

export const TABLE_KEYS: readonly TableKey[] = TABLES.map((t) => t.key);

export function tableSpec(key: TableKey): TableSpec {
  const spec = TABLES.find((t) => t.key === key);
  if (!spec) throw new Error(`unknown table ${key}; known: ${TABLE_KEYS.join(", ")}`);
  return spec;
}

/** Physical table name for a logical table under a name prefix. */
export function physicalTableName(prefix: string, key: TableKey): string {
  return `${prefix}-${key}`;
}
