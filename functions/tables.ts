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
}

export const TABLES: readonly TableSpec[] = [
  { key: "customers", hashKey: "CustomerId", envVar: "TABLE_CUSTOMERS" },
  { key: "products", hashKey: "ProductId", envVar: "TABLE_PRODUCTS" },
  { key: "orders", hashKey: "OrderId", envVar: "TABLE_ORDERS" },
  { key: "kv", hashKey: "Key", envVar: "TABLE_KV", ttlAttribute: "ExpiresAt" },
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
