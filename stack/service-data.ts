/**
 * Binds this service's data to the component package: its tables (functions/tables.ts) as
 * GlobalTableSet's table specs, the DynamoDB operations each function calls on each table as the
 * tables ServiceAlarms and RegionalDashboard watch, and the functions' client-observed latency
 * metrics (functions/metrics.ts) for the dashboard.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  METRICS_NAMESPACE,
  type GlobalTableSet,
  WRITE_OPERATIONS,
  type ClientLatencyMetrics,
  type DynamoOperation,
  type TableSpec,
  type WatchedTable,
} from "resilient-dynamo";
import { regionDimension, type LatencyMetric } from "../functions/metrics";
import { FUNCTIONS, type DynamoAction, type FunctionName } from "../functions/routes";
import { TABLES, TABLE_KEYS, type ConsistencyMode, type TableKey } from "../functions/tables";
import type { TableOutputs } from "./references";

/** The service's tables, as GlobalTableSet builds them. */
export const SERVICE_TABLES: TableSpec[] = TABLES.map((t) => ({
  key: t.key,
  hashKey: t.hashKey,
  ...(t.ttlAttribute !== undefined ? { ttlAttribute: t.ttlAttribute } : {}),
  strong: t.strong,
}));

/**
 * The outputs of a GlobalTableSet built from SERVICE_TABLES, keyed by this service's tables (the
 * set keys its outputs by whatever tables it is given).
 */
export function serviceTableOutputs(set: GlobalTableSet): TableOutputs {
  return {
    tableNames: set.tableNames as pulumi.Output<Record<TableKey, string>>,
    tableArns: set.tableArns,
    streamArns: set.streamArns,
  };
}

/** The logical tables built as MRSC global tables under a consistency mode (none when eventual). */
export function strongTableKeys(consistency: ConsistencyMode): TableKey[] {
  return consistency === "strong" ? TABLES.filter((t) => t.strong).map((t) => t.key) : [];
}

/**
 * Which DynamoDB API operations each function calls on each table: the values of the `Operation`
 * dimension of DynamoDB's CloudWatch metrics. functions/routes.ts lists IAM actions, which do not
 * always name the API operation (BatchWriteItem needs PutItem-like permissions of its own), so the
 * operations are written here and a test checks each against the function's IAM actions.
 */
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

/** The operations, sorted, of every function's calls on `table` that `keep` accepts. */
function operationsOn(
  table: TableKey,
  keep: (fn: FunctionName, op: DynamoOperation) => boolean,
): DynamoOperation[] {
  const ops = new Set<DynamoOperation>();
  for (const [fn, byTable] of Object.entries(FUNCTION_OPERATIONS) as [
    FunctionName,
    Partial<Record<TableKey, readonly DynamoOperation[]>>,
  ][]) {
    for (const op of byTable[table] ?? []) if (keep(fn, op)) ops.add(op);
  }
  return [...ops].sort();
}

/**
 * Every table, with every operation any function calls on it and the operations that write items
 * to it from this region (so replication has something to carry): a write operation by a function
 * whose IAM actions on that table include a writing one. A read by a function that also writes
 * elsewhere (createOrder's GetItem on customers) is not one.
 */
export const SERVICE_WATCHED_TABLES: WatchedTable[] = TABLE_KEYS.map((table) => ({
  key: table,
  operations: operationsOn(table, () => true),
  writeOperations: operationsOn(
    table,
    (fn, op) =>
      WRITE_OPERATIONS.includes(op) &&
      (FUNCTIONS[fn].access[table] ?? []).some((a) => WRITING_ACTIONS.includes(a)),
  ),
}));

/** The functions' client-observed latency metrics (functions/metrics.ts). */
export const LATENCY_METRICS: readonly LatencyMetric[] = ["ReadTime", "WriteTime"];

/** The functions' latency metrics as the functions in `region` publish them. */
export function serviceClientLatency(region: string): ClientLatencyMetrics {
  return {
    namespace: METRICS_NAMESPACE,
    metricNames: [...LATENCY_METRICS],
    dimensions: { Region: regionDimension(region) },
  };
}
