/**
 * API Gateway guardrails: every method authenticated with SigV4 but the health check and CORS
 * preflight, TLS 1.2 or newer on custom domains; and the log groups AWS would otherwise create
 * itself without retention (Lambda functions, canaries, API Gateway execution logs) exist in the
 * stack, where `log-group-retention` checks them.
 */
import {
  T,
  get,
  refersTo,
  type ResourceRule,
  type ResourceView,
  type StackRule,
  type Violation,
} from "./rules";

/** Methods that may skip authentication: the health check and CORS preflight. */
export const PUBLIC_METHODS: readonly { method: string; path?: string }[] = [
  { method: "GET", path: "/health" },
  { method: "OPTIONS" },
];

/** The full path of an API Gateway resource (`/orders/{orderId}`), or undefined if unresolved. */
export function apiResourcePath(
  target: ResourceView,
  resources: readonly ResourceView[],
  depth = 0,
): string | undefined {
  if (depth > 20) return undefined;
  const part = get(target.props, "pathPart");
  if (typeof part !== "string") return undefined;
  const parent = resources.find((r) => r.type === T.apiResource && refersTo(target, "parentId", r));
  if (parent) {
    const above = apiResourcePath(parent, resources, depth + 1);
    return above === undefined ? undefined : `${above === "/" ? "" : above}/${part}`;
  }
  return isRoot(target, "parentId", resources) ? `/${part}` : undefined;
}

/** True when `r`'s property names the root resource of a REST API of the stack. */
function isRoot(r: ResourceView, prop: string, resources: readonly ResourceView[]): boolean {
  const value = get(r.props, prop);
  return resources.some(
    (api) =>
      api.type === T.restApi &&
      ((value !== undefined && value === get(api.props, "rootResourceId")) ||
        (r.deps?.[prop]?.includes(api.urn) ?? false)),
  );
}

/** The path a method is on; undefined when it cannot be told. */
export function methodPath(
  method: ResourceView,
  resources: readonly ResourceView[],
): string | undefined {
  const target = resources.find(
    (r) => r.type === T.apiResource && refersTo(method, "resourceId", r),
  );
  if (target) return apiResourcePath(target, resources);
  return isRoot(method, "resourceId", resources) ? "/" : undefined;
}

export const apiMethodsAuthenticated: StackRule = {
  name: "apigateway-methods-authenticated",
  description:
    "Every API Gateway method requires AWS_IAM (SigV4) authorization, except GET /health and OPTIONS (CORS preflight).",
  checkStack: (resources) =>
    resources
      .filter((r) => r.type === T.method && get(r.props, "authorization") !== "AWS_IAM")
      .flatMap((m): Violation[] => {
        const verb = String(get(m.props, "httpMethod"));
        const path = methodPath(m, resources);
        const exempt = PUBLIC_METHODS.some(
          (p) => p.method === verb && (p.path === undefined || p.path === path),
        );
        if (exempt) return [];
        return [
          {
            urn: m.urn,
            message: `method ${verb} ${path ?? "(path unknown)"} (${m.name}): authorization ${get(m.props, "authorization")}, expected AWS_IAM`,
          },
        ];
      }),
};

export const apiDomainTls: ResourceRule = {
  name: "apigateway-domain-tls12",
  description: "Every API Gateway custom domain negotiates TLS 1.2 or newer only.",
  types: [T.domainName],
  check: (r) => {
    const policy = get(r.props, "securityPolicy");
    const ok =
      policy === "TLS_1_2" ||
      (typeof policy === "string" && /^SecurityPolicy_TLS1[23]_/.test(policy));
    return ok
      ? []
      : [`domain ${r.name}: securityPolicy ${policy ?? "unset"}, expected TLS_1_2 or newer`];
  },
};

const nameOf = (r: ResourceView): unknown => get(r.props, "name");

/** A log group of the stack named `name`, or whose name comes from one of `from`. */
function hasLogGroup(
  resources: readonly ResourceView[],
  matches: (name: string) => boolean,
  from: readonly string[],
): boolean {
  return resources.some((g) => {
    if (g.type !== T.logGroup) return false;
    const name = nameOf(g);
    if (typeof name === "string") return matches(name);
    return (g.deps?.["name"] ?? []).some((urn) => from.includes(urn));
  });
}

export const implicitLogGroups: StackRule = {
  name: "implicit-log-groups",
  description:
    "The log groups AWS creates on first use, without retention, are created by the stack instead: each Lambda function's, each canary's (/aws/lambda/cwsyn-<name>-<id>) and each API stage's execution logs (API-Gateway-Execution-Logs_<api>/<stage>).",
  checkStack: (resources) => {
    const out: Violation[] = [];
    for (const fn of resources.filter((r) => r.type === T.lambda)) {
      const configured = get(fn.props, "loggingConfig", "logGroup");
      const name = nameOf(fn);
      const ok = hasLogGroup(
        resources,
        (g) => g === configured || (configured === undefined && g === `/aws/lambda/${name}`),
        fn.deps?.["loggingConfig"] ?? [],
      );
      if (!ok)
        out.push({
          urn: fn.urn,
          message: `function ${fn.name}: no log group of its own in the stack`,
        });
    }
    for (const canary of resources.filter((r) => r.type === T.canary)) {
      const name = nameOf(canary);
      if (
        !hasLogGroup(resources, (g) => g.startsWith(`/aws/lambda/cwsyn-${name}-`), [canary.urn])
      ) {
        out.push({
          urn: canary.urn,
          message: `canary ${canary.name}: no log group /aws/lambda/cwsyn-${name}-<id> in the stack`,
        });
      }
    }
    for (const ms of resources.filter((r) => r.type === T.methodSettings)) {
      const level = get(ms.props, "settings", "loggingLevel");
      if (level !== "INFO" && level !== "ERROR") continue;
      const api = get(ms.props, "restApi");
      const stage = get(ms.props, "stageName");
      const expected = `API-Gateway-Execution-Logs_${api}/${stage}`;
      if (!hasLogGroup(resources, (g) => g === expected, ms.deps?.["restApi"] ?? [])) {
        out.push({
          urn: ms.urn,
          message: `stage logging (${ms.name}): no log group ${expected} in the stack`,
        });
      }
    }
    return out;
  },
};
