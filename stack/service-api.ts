/**
 * This service's functions, routes and tables, in the form the component package takes them:
 * RegionalApi is given the functions and routes of functions/routes.ts, StreamFunction the stream
 * functions of functions/stream-functions.ts, both the table bindings of functions/tables.ts and
 * the repository root their handler entries are relative to.
 */
import * as path from "node:path";
import type {
  ApiFunctionArgs,
  ApiRouteArgs,
  RegionalApiArgs,
  StreamFunctionArgs,
} from "resilient-dynamo";
import { FUNCTIONS, ROUTES } from "../functions/routes";
import type { StreamFunctionSpec } from "../functions/stream-functions";
import { TABLES } from "../functions/tables";

/** The repository root: every handler entry in functions/ is relative to it. */
export const SERVICE_CODE_ROOT = path.resolve(__dirname, "..");

/** Each table's environment variable, by table key (functions/tables.ts). */
export const SERVICE_TABLE_ENV_VARS: Record<string, string> = Object.fromEntries(
  TABLES.map((t) => [t.key, t.envVar]),
);

/** A spec's table access as the package takes it: table key -> actions. */
function accessOf(access: Readonly<Record<string, readonly string[] | undefined>>) {
  return Object.fromEntries(
    Object.entries(access).flatMap(([table, actions]) => (actions ? [[table, [...actions]]] : [])),
  ) as Record<string, string[]>;
}

/** The service's API functions (functions/routes.ts FUNCTIONS). */
export const SERVICE_FUNCTIONS: Record<string, ApiFunctionArgs> = Object.fromEntries(
  Object.entries(FUNCTIONS).map(([name, spec]) => [
    name,
    {
      entry: spec.entry,
      access: accessOf(spec.access),
      ...(spec.memoryMb !== undefined ? { memoryMb: spec.memoryMb } : {}),
      ...(spec.timeoutSeconds !== undefined ? { timeoutSeconds: spec.timeoutSeconds } : {}),
    },
  ]),
);

/** The service's routes (functions/routes.ts ROUTES). */
export const SERVICE_ROUTES: ApiRouteArgs[] = ROUTES.map((r) => ({ ...r }));

/** What of RegionalApiArgs this service decides: its code, functions, routes and tables. */
export type ServiceApiBinding = Pick<
  RegionalApiArgs,
  "codeRoot" | "functions" | "routes" | "tableEnvVars"
>;

/** The service's binding of RegionalApi: spread it into the args. */
export const SERVICE_API: ServiceApiBinding = {
  codeRoot: SERVICE_CODE_ROOT,
  functions: SERVICE_FUNCTIONS,
  routes: SERVICE_ROUTES,
  tableEnvVars: SERVICE_TABLE_ENV_VARS,
};

/** What of StreamFunctionArgs a stream function spec decides. */
export type StreamFunctionBinding = Pick<
  StreamFunctionArgs,
  "codeRoot" | "entry" | "tableEnvVars" | "access" | "timeoutSeconds"
>;

/** A stream function of the service (functions/stream-functions.ts) as StreamFunction's args. */
export function streamFunctionBinding(spec: StreamFunctionSpec): StreamFunctionBinding {
  return {
    codeRoot: SERVICE_CODE_ROOT,
    entry: spec.entry,
    tableEnvVars: SERVICE_TABLE_ENV_VARS,
    access: accessOf(spec.access),
    timeoutSeconds: spec.timeoutSeconds,
  };
}
