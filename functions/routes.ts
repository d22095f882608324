/**
 * The service's HTTP surface and its functions, as data. stack/service-api.ts hands these lists to
 * RegionalApi, which builds API Gateway resources, methods, Lambda functions and their IAM policies
 * from them; the sandbox and the handler tests route requests with the same lists. A route or a
 * permission exists in exactly one place.
 */
import type { TableKey } from "./tables";

export type FunctionName = "createOrder" | "readOrder" | "fill" | "products" | "kv" | "health";

export type HttpMethod = "GET" | "POST" | "PUT";

/** DynamoDB actions a function may be granted. Never a wildcard. */
export type DynamoAction =
  | "dynamodb:GetItem"
  | "dynamodb:PutItem"
  | "dynamodb:UpdateItem"
  | "dynamodb:BatchWriteItem"
  | "dynamodb:Scan";

export interface FunctionSpec {
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Exactly the tables the function touches and the actions it calls on each. */
  readonly access: Readonly<Partial<Record<TableKey, readonly DynamoAction[]>>>;
  /** Memory in MB; the default suits a DynamoDB-bound handler on arm64. */
  readonly memoryMb?: number;
  /** Timeout in seconds; API Gateway gives up after 29 s, so stay well below. */
  readonly timeoutSeconds?: number;
}

export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = {
  createOrder: {
    entry: "functions/handlers/create-order.ts",
    access: {
      // Read the customer and the order id; claim (or release) the product; put the order.
      customers: ["dynamodb:GetItem"],
      products: ["dynamodb:UpdateItem"],
      orders: ["dynamodb:GetItem", "dynamodb:PutItem"],
    },
  },
  readOrder: {
    entry: "functions/handlers/read-order.ts",
    access: {
      products: ["dynamodb:GetItem"],
      // PutItem (if absent) turns a claim whose order was never written into that order.
      orders: ["dynamodb:GetItem", "dynamodb:PutItem"],
    },
  },
  fill: {
    entry: "functions/handlers/fill.ts",
    access: {
      customers: ["dynamodb:BatchWriteItem"],
      products: ["dynamodb:BatchWriteItem"],
      orders: ["dynamodb:BatchWriteItem"],
    },
    timeoutSeconds: 25,
  },
  products: {
    entry: "functions/handlers/products.ts",
    access: { products: ["dynamodb:GetItem", "dynamodb:Scan"] },
  },
  kv: {
    entry: "functions/handlers/kv.ts",
    access: { kv: ["dynamodb:GetItem", "dynamodb:PutItem"] },
  },
  health: {
    entry: "functions/handlers/health.ts",
    access: {
      customers: ["dynamodb:GetItem"],
      products: ["dynamodb:GetItem"],
      orders: ["dynamodb:GetItem"],
      kv: ["dynamodb:GetItem"],
    },
    timeoutSeconds: 5,
  },
};

export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway resource path; `{name}` segments are path parameters. */
  readonly path: string;
  readonly function: FunctionName;
  /** `iam` requires a SigV4-signed request; `none` only for health checks. */
  readonly auth: "iam" | "none";
}

export const ROUTES: readonly RouteSpec[] = [
  { method: "POST", path: "/fill", function: "fill", auth: "iam" },
  { method: "POST", path: "/orders", function: "createOrder", auth: "iam" },
  { method: "GET", path: "/orders", function: "readOrder", auth: "iam" },
  { method: "GET", path: "/orders/{orderId}", function: "readOrder", auth: "iam" },
  { method: "GET", path: "/products", function: "products", auth: "iam" },
  { method: "GET", path: "/products/{productId}", function: "products", auth: "iam" },
  { method: "PUT", path: "/kv/{key}", function: "kv", auth: "iam" },
  { method: "GET", path: "/kv/{key}", function: "kv", auth: "iam" },
  { method: "GET", path: "/health", function: "health", auth: "none" },
];

/**
 * Matches a concrete request path against a route path, returning its path parameters. Segments
 * are compared literally: `/kv//x` and `/kv/x/` do not match `/kv/{key}`, and an empty segment
 * never binds a parameter.
 */
export function matchPath(
  routePath: string,
  requestPath: string,
): Record<string, string> | undefined {
  const want = routePath.split("/").filter(Boolean);
  const got = requestPath.split("/").slice(1);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith("{") && w.endsWith("}")) {
      if (g === "") return undefined;
      params[w.slice(1, -1)] = decodeURIComponent(g);
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}
