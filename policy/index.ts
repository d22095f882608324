/**
 * The resilient-dynamo guardrails as a CrossGuard policy pack:
 * `pulumi preview --policy-pack policy` (and `pulumi up --policy-pack policy`). Every rule is a
 * pure function in rules.ts, iam.ts or api.ts; this file only adapts them to @pulumi/policy.
 */
import {
  PolicyPack,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { RULES } from "./guardrails";
import type { ResourceView } from "./rules";

function view(
  r: Pick<PolicyResource, "type" | "urn" | "name" | "props">,
  deps?: PolicyResource["propertyDependencies"],
): ResourceView {
  return {
    type: r.type,
    urn: r.urn,
    name: r.name,
    props: r.props,
    deps: deps
      ? Object.fromEntries(Object.entries(deps).map(([k, rs]) => [k, rs.map((d) => d.urn)]))
      : undefined,
  };
}

const policies = RULES.map((rule): ResourceValidationPolicy | StackValidationPolicy =>
  "checkStack" in rule
    ? {
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation) => {
          const resources = args.resources.map((r) => view(r, r.propertyDependencies));
          for (const v of rule.checkStack(resources)) reportViolation(v.message, v.urn);
        },
      }
    : {
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateResource: (args, reportViolation) => {
          if (!rule.types.includes(args.type)) return;
          for (const message of rule.check(view(args))) reportViolation(message);
        },
      },
);

new PolicyPack("resilient-dynamo-guardrails", { policies });
