/**
 * DynamoDB API operations (the values of the `Operation` dimension of DynamoDB's CloudWatch
 * metrics, such as SuccessfulRequestLatency) and the tables ServiceAlarms and RegionalDashboard
 * watch, each with the operations a service calls on it. Which function calls what is the
 * service's own knowledge: the program passes it in as `WatchedTable`s.
 */

/** A DynamoDB API operation, as the `Operation` dimension of DynamoDB's CloudWatch metrics names it. */
export const DynamoOperation = {
  /** Reads one item. */
  GetItem: "GetItem",
  /** Reads up to 100 items of one or more tables. */
  BatchGetItem: "BatchGetItem",
  /** Reads the items of one partition key. */
  Query: "Query",
  /** Reads the whole table. */
  Scan: "Scan",
  /** Writes (creates or replaces) one item. */
  PutItem: "PutItem",
  /** Changes attributes of one item, creating it when absent. */
  UpdateItem: "UpdateItem",
  /** Deletes one item. */
  DeleteItem: "DeleteItem",
  /** Puts or deletes up to 25 items of one or more tables. */
  BatchWriteItem: "BatchWriteItem",
} as const;
export type DynamoOperation = (typeof DynamoOperation)[keyof typeof DynamoOperation];

/** The operations that change items, so replication has something to carry. */
export const WRITE_OPERATIONS: readonly DynamoOperation[] = [
  DynamoOperation.PutItem,
  DynamoOperation.UpdateItem,
  DynamoOperation.DeleteItem,
  DynamoOperation.BatchWriteItem,
];

/**
 * IAM actions an operation may need; a caller may run the operation when it holds one of them.
 * Each operation's IAM action has the operation's name (DynamoDB API permissions reference).
 */
export const OPERATION_ACTIONS: Readonly<Record<DynamoOperation, readonly string[]>> =
  Object.fromEntries(
    Object.values(DynamoOperation).map((op) => [op, [`dynamodb:${op}`]]),
  ) as unknown as Record<DynamoOperation, readonly string[]>;

/** A table ServiceAlarms and RegionalDashboard watch, with the DynamoDB operations called on it. */
export interface WatchedTable {
  /** Logical table name: a key of the component's `tableNames`; names the alarms and graph lines. */
  key: string;
  /** Every operation the service calls on the table, in graph order (the dashboard graphs each). */
  operations: DynamoOperation[];
  /**
   * The operations among `operations` that write items from this region. ServiceAlarms' stalled-
   * replication alarm counts them; a table with none gets no stalled alarm.
   */
  writeOperations: DynamoOperation[];
}

/**
 * Throws unless `tables` is a non-empty list of distinct tables whose operations are DynamoDB
 * operations and whose write operations are writing operations among them. `what` names the
 * argument in the message.
 */
export function validateWatchedTables(what: string, tables: unknown): void {
  if (!Array.isArray(tables) || tables.length === 0) {
    throw new Error(
      `${what} must list at least one table (key, operations, writeOperations): got ${JSON.stringify(tables)}`,
    );
  }
  const known = Object.values(DynamoOperation) as string[];
  const seen = new Set<string>();
  for (const t of tables as WatchedTable[]) {
    if (typeof t?.key !== "string" || t.key === "") {
      throw new Error(`${what}: every table needs a non-empty key: got ${JSON.stringify(t)}`);
    }
    if (seen.has(t.key)) throw new Error(`${what}: duplicate table ${t.key}`);
    seen.add(t.key);
    for (const list of ["operations", "writeOperations"] as const) {
      const ops: unknown = t[list];
      if (!Array.isArray(ops)) {
        throw new Error(`${what}: table ${t.key} needs a ${list} list: got ${JSON.stringify(ops)}`);
      }
      const unknownOp = ops.find((op) => !known.includes(op as string));
      if (unknownOp !== undefined) {
        throw new Error(
          `${what}: table ${t.key} ${list} has ${JSON.stringify(unknownOp)}, not one of ${known.join(", ")}`,
        );
      }
    }
    const notWrite = t.writeOperations.find(
      (op) => !WRITE_OPERATIONS.includes(op) || !t.operations.includes(op),
    );
    if (notWrite !== undefined) {
      throw new Error(
        `${what}: table ${t.key} writeOperations has ${notWrite}, which is not a writing operation among its operations (${t.operations.join(", ")})`,
      );
    }
  }
}

/** The physical name of a watched table; throws when `tableNames` has none for it. */
export function watchedTableName(tableNames: Record<string, string>, key: string): string {
  const name = tableNames[key];
  if (name === undefined) {
    throw new Error(
      `tableNames has no table ${key} (it names ${Object.keys(tableNames).join(", ") || "none"})`,
    );
  }
  return name;
}
