/** Every rule of the pack, in the order `pulumi preview` reports them. */
import { apiDomainTls, apiMethodsAuthenticated, implicitLogGroups } from "./api";
import { fisExperimentGuarded } from "./fis";
import { iamLeastPrivilege, iamServiceTrust } from "./iam";
import { sqsEncryption, streamMappingFailures } from "./streams";
import {
  dynamodbDeletionProtection,
  dynamodbEncryption,
  dynamodbPitr,
  logGroupKms,
  logGroupRetention,
  s3Encryption,
  s3PublicAccessBlock,
  s3TlsOnly,
  snsEncryption,
  type ResourceView,
  type Rule,
  type Violation,
} from "./rules";

export const RULES: readonly Rule[] = [
  dynamodbPitr,
  dynamodbDeletionProtection,
  dynamodbEncryption,
  s3Encryption,
  s3PublicAccessBlock,
  s3TlsOnly,
  logGroupRetention,
  logGroupKms,
  implicitLogGroups,
  snsEncryption,
  sqsEncryption,
  streamMappingFailures,
  iamLeastPrivilege,
  iamServiceTrust,
  apiMethodsAuthenticated,
  apiDomainTls,
  fisExperimentGuarded,
];

/** Runs one rule over a stack's resources, resource rules on each resource of their types. */
export function runRule(rule: Rule, resources: readonly ResourceView[]): Violation[] {
  if ("checkStack" in rule) return rule.checkStack(resources);
  return resources
    .filter((r) => rule.types.includes(r.type))
    .flatMap((r) => rule.check(r).map((message) => ({ urn: r.urn, message })));
}
