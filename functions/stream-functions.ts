/**
 * Functions driven by a table's stream rather than by HTTP. The stack deploys each one on its own
 * region's stream of `stream`, with exactly the table access listed; the sandbox runs the same
 * handler on its own streams.
 */
import type { DynamoAction } from "./routes";
import type { ConsistencyMode, TableKey } from "./tables";

export interface StreamFunctionSpec {
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** The table whose stream (in the function's own region) invokes the function. */
  readonly stream: TableKey;
  /** Exactly the tables the function touches and the actions it calls on each. */
  readonly access: Readonly<Partial<Record<TableKey, readonly DynamoAction[]>>>;
  /** The consistency modes in which the function is deployed. */
  readonly modes: readonly ConsistencyMode[];
  /** Timeout in seconds. */
  readonly timeoutSeconds?: number;
}

/**
 * Eventual mode's conflict compensation: when last-writer-wins gives a product to another order,
 * the region that sold the losing order marks it CANCELLED (see functions/handlers/reconcile.ts).
 */
export const RECONCILER: StreamFunctionSpec = {
  entry: "functions/handlers/reconcile.ts",
  stream: "products",
  access: {
    products: ["dynamodb:GetItem"],
    orders: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
  },
  modes: ["eventual"],
  timeoutSeconds: 30,
};
