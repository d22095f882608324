/**
 * This service's canary script, bound to the package's CanaryFleet: the script in
 * functions/canary (bundled from this program's sources), the two signed reads it makes, and the
 * canary item ids it reads, checked with the service's own id rules before anything is created.
 */
import { HttpMethod, type CanaryRequestArgs, type CanaryScriptArgs } from "resilient-dynamo";
import { CANARY_ORDER_ID, CANARY_PRODUCT_ID } from "../functions/domain/canary-data";
import { ID_MAX_LENGTH, ID_PATTERN } from "../functions/domain/validation";
import { ROUTES } from "../functions/routes";
import { SERVICE_CODE_ROOT } from "./service-api";

/** The canary script, bundled like the Lambda handlers. */
export const CANARY_ENTRY = "functions/canary/index.ts";
/** The signed calls the script makes (`/health` is unauthenticated and needs no grant). */
export const CANARY_REQUESTS: readonly CanaryRequestArgs[] = [
  { method: HttpMethod.Get, path: "/orders/{orderId}" },
  { method: HttpMethod.Get, path: "/products/{productId}" },
];
/** What the script's ids must be (functions/domain/validation.ts: idSchema). */
const ID_RULE = "an id created by POST /fill (letters, digits and . _ : -)";

/** The canary items the script reads; unset ones are the items the primary stack writes. */
export interface CanaryItemIds {
  readonly orderId?: string;
  readonly productId?: string;
}

/** Throws unless every request is an IAM route of this service's API (functions/routes.ts). */
export function assertCanaryRequestsAreIamRoutes(requests: readonly CanaryRequestArgs[]): void {
  for (const request of requests) {
    const route = ROUTES.find((r) => r.method === request.method && r.path === request.path);
    if (route?.auth !== "iam") {
      throw new Error(
        `canary request ${request.method} ${request.path} is not an IAM route of the API`,
      );
    }
  }
}

/** This service's canary script for CanaryFleet's `script`, reading the given canary items. */
export function serviceCanaryScript(ids: CanaryItemIds = {}): CanaryScriptArgs {
  assertCanaryRequestsAreIamRoutes(CANARY_REQUESTS);
  const id = (name: string, value: string) => ({
    name,
    value,
    pattern: ID_PATTERN.source,
    maxLength: ID_MAX_LENGTH,
    description: ID_RULE,
  });
  return {
    codeRoot: SERVICE_CODE_ROOT,
    entry: CANARY_ENTRY,
    requests: [...CANARY_REQUESTS],
    settings: [
      id("CANARY_ORDER_ID", ids.orderId ?? CANARY_ORDER_ID),
      id("CANARY_PRODUCT_ID", ids.productId ?? CANARY_PRODUCT_ID),
    ],
  };
}
