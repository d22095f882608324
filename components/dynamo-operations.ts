/**
 * Which DynamoDB API operations each function calls on each table: the values of the `Operation`
 * dimension of DynamoDB's CloudWatch metrics. functions/routes.ts lists IAM actions, which do not
 * always name the API operation (BatchWriteItem needs PutItem-like permissions of its own), so the
 * operations are written here and a test checks each against the function's IAM actions.
 */
import type { DynamoAction, FunctionName } from "../functions/routes";
import { FUNCTIONS } from "../functions/routes";
import { TABLE_KEYS, type TableKey } from "../functions/tables";

export type DynamoOperation = "GetItem" | "PutItem" | "UpdateItem" | "Scan" | "BatchWriteItem";

export const FUNCTION_OPERATIONS: Readonly<
  Record<FunctionName, Readonly<Partial<Record<TableKey, readonly DynamoOperation[]>>>>
> = {
  // No transactions (MRSC refuses them): read the customer and the order id, claim the product
  // (or release it), put the order.
  createOrder: {
    customers: ["GetItem"],
    products: ["UpdateItem"],
    orders: ["GetItem", "PutItem"],
  },
  // A read may write the order a claim describes when its own put never happened.
  readOrder: {
    products: ["GetItem"],
    orders: ["GetItem", "PutItem"],
  },
  fill: {
    customers: ["BatchWriteItem"],
    products: ["BatchWriteItem"],
    orders: ["BatchWriteItem"],
  },
  products: { products: ["GetItem", "Scan"] },
  kv: { kv: ["GetItem", "PutItem"] },
  health: {
    customers: ["GetItem"],
    products: ["GetItem"],
    orders: ["GetItem"],
    kv: ["GetItem"],
  },
};

/** IAM actions that write an item (as opposed to reading or only checking a condition). */
const WRITING_ACTIONS: readonly DynamoAction[] = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:BatchWriteItem",
];

/** IAM actions an operation may need; an operation is allowed when the function has one. */
export const OPERATION_ACTIONS: Readonly<Record<DynamoOperation, readonly DynamoAction[]>> = {
  GetItem: ["dynamodb:GetItem"],
  PutItem: ["dynamodb:PutItem"],
  UpdateItem: ["dynamodb:UpdateItem"],
  Scan: ["dynamodb:Scan"],
  BatchWriteItem: ["dynamodb:BatchWriteItem"],
};

const WRITE_OPERATIONS: readonly DynamoOperation[] = ["PutItem", "UpdateItem", "BatchWriteItem"];

/** The operations, per table and sorted, of every function's calls that `keep` accepts. */
function collect(
  keep: (fn: FunctionName, table: TableKey, op: DynamoOperation) => boolean,
): Record<TableKey, DynamoOperation[]> {
  const out = Object.fromEntries(TABLE_KEYS.map((t) => [t, new Set<DynamoOperation>()])) as Record<
    TableKey,
    Set<DynamoOperation>
  >;
  for (const [fn, byTable] of Object.entries(FUNCTION_OPERATIONS) as [
    FunctionName,
    Partial<Record<TableKey, readonly DynamoOperation[]>>,
  ][]) {
    for (const [table, ops] of Object.entries(byTable) as [TableKey, DynamoOperation[]][]) {
      for (const op of ops) if (keep(fn, table, op)) out[table].add(op);
    }
  }
  return Object.fromEntries(TABLE_KEYS.map((t) => [t, [...out[t]].sort()])) as Record<
    TableKey,
    DynamoOperation[]
  >;
}

/** Every operation called on each table by any function, sorted. */
export function operationsByTable(): Record<TableKey, DynamoOperation[]> {
  return collect(() => true);
}

/**
 * Operations that write items to each table from this region (so replication has something to
 * carry): a write operation by a function whose IAM actions on that table include a writing one.
 * A read by a function that also writes elsewhere (createOrder's GetItem on customers) is not one.
 */
export function writeOperationsByTable(): Record<TableKey, DynamoOperation[]> {
  return collect(
    (fn, table, op) =>
      WRITE_OPERATIONS.includes(op) &&
      (FUNCTIONS[fn].access[table] ?? []).some((a) => WRITING_ACTIONS.includes(a)),
  );
}
