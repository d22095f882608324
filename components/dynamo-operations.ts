/**
 * Which DynamoDB API operations each function calls on each table: the values of the `Operation`
 * dimension of DynamoDB's CloudWatch metrics. functions/routes.ts lists IAM actions, which do not
 * say whether a call is transactional (TransactWriteItems needs PutItem/UpdateItem/
 * ConditionCheckItem permissions), so the operations are written here and a test checks each
 * against the function's IAM actions.
 */
import type { DynamoAction, FunctionName } from "../functions/routes";
import { FUNCTIONS } from "../functions/routes";
import { TABLE_KEYS, type TableKey } from "../functions/tables";

export type DynamoOperation =
  | "GetItem"
  | "PutItem"
  | "UpdateItem"
  | "Scan"
  | "BatchWriteItem"
  | "TransactGetItems"
  | "TransactWriteItems";

export const FUNCTION_OPERATIONS: Readonly<
  Record<FunctionName, Readonly<Partial<Record<TableKey, readonly DynamoOperation[]>>>>
> = {
  // One transaction: condition on the customer, product IN_STOCK -> SOLD, put the order; a
  // retry reads the existing order.
  createOrder: {
    customers: ["TransactWriteItems"],
    products: ["TransactWriteItems"],
    orders: ["TransactWriteItems", "GetItem"],
  },
  readOrder: {
    products: ["TransactGetItems", "GetItem"],
    orders: ["TransactGetItems", "GetItem"],
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
  TransactGetItems: ["dynamodb:GetItem"],
  TransactWriteItems: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
};

const WRITE_OPERATIONS: readonly DynamoOperation[] = [
  "PutItem",
  "UpdateItem",
  "BatchWriteItem",
  "TransactWriteItems",
];

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
 * A transaction that only checks a condition on a table (createOrder on customers) is not one.
 */
export function writeOperationsByTable(): Record<TableKey, DynamoOperation[]> {
  return collect(
    (fn, table, op) =>
      WRITE_OPERATIONS.includes(op) &&
      (FUNCTIONS[fn].access[table] ?? []).some((a) => WRITING_ACTIONS.includes(a)),
  );
}
