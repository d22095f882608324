/**
 * The one place that reads stack config. Everything the program needs is parsed and validated
 * here, before any resource is declared; a wrong or missing value stops the program with a
 * message naming the key, the value and what is allowed. index.ts and the components never read
 * config anywhere else. What each key accepts is config-schema.ts; the rules between keys are
 * config-rules.ts; the stack's `aws:` provider settings are config-aws.ts.
 */
import type { z } from "zod";
import { REGION_DESCRIPTION, REGION_PATTERN, type ArcProviderSettingsArgs } from "resilient-dynamo";
import { awsProviderSettings } from "./config-aws";
import { crossKeyProblems } from "./config-rules";
import {
  describeValue,
  JSON_KEYS,
  kmsKeyRegion,
  PROJECT,
  schema,
  type ConfigKeys,
} from "./config-schema";

export type StackConfig = ConfigKeys & {
  /** The key's value, or its default for the stack's role. */
  readonly manageAccountLogging: boolean;
  /** The stack's `aws:` provider settings (profile, assumed roles, default tags, ...). */
  readonly awsProvider: ArcProviderSettingsArgs;
  /** The stack's AWS region, from `aws:region`. */
  readonly region: string;
  readonly stack: string;
};
export type PrimaryConfig = Extract<StackConfig, { role: "primary" }>;
export type SecondaryConfig = Extract<StackConfig, { role: "secondary" }>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Validates a stack's raw config (full keys such as `aws:region` and `resilient-dynamo:role` to
 * the string values Pulumi stores) and returns it typed. Throws a ConfigError listing every bad
 * key with its value and what is allowed.
 */
export function parseStackConfig(
  raw: Readonly<Record<string, string>>,
  stack: string,
): StackConfig {
  const { values, problems } = projectValues(raw);
  const awsRegion = raw["aws:region"];
  problems.push(...awsRegionProblems(awsRegion, stack));
  const parsed = schema.safeParse(values);
  if (!parsed.success) problems.push(...schemaProblems(parsed.error.issues, values));
  if (parsed.success && awsRegion !== undefined) {
    problems.push(...crossKeyProblems(parsed.data, awsRegion, stack));
  }
  let awsProvider: ArcProviderSettingsArgs = {};
  try {
    awsProvider = awsProviderSettings(raw);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length || !parsed.success) {
    throw new ConfigError(`invalid config for stack ${stack}:\n  - ${problems.join("\n  - ")}`);
  }
  const data = parsed.data;
  return {
    ...data,
    manageAccountLogging: data.manageAccountLogging ?? data.role === "primary",
    awsProvider,
    region: awsRegion as string,
    stack,
  };
}

/**
 * The `resilient-dynamo:` keys of a raw config, by short key, JSON keys parsed; a key that is
 * empty (Pulumi.yaml declares optional keys with an empty default, "" or []) is unset. A JSON key
 * that does not parse is a problem.
 */
function projectValues(raw: Readonly<Record<string, string>>): {
  values: Record<string, unknown>;
  problems: string[];
} {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(raw)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    if (text === "") continue;
    if (JSON_KEYS.has(key)) {
      try {
        const value: unknown = JSON.parse(text);
        if (!(Array.isArray(value) && value.length === 0)) values[key] = value;
      } catch {
        problems.push(`${fullKey}: ${JSON.stringify(text)} is not valid JSON`);
      }
    } else {
      values[key] = text;
    }
  }
  return { values, problems };
}

/** `aws:region`: set, and a region name. */
function awsRegionProblems(awsRegion: string | undefined, stack: string): string[] {
  if (awsRegion === undefined) {
    return [
      `aws:region: is not set; set it with \`pulumi config set aws:region us-east-1 -s ${stack}\``,
    ];
  }
  if (!REGION_PATTERN.test(awsRegion)) {
    return [`aws:region: got ${JSON.stringify(awsRegion)}; expected ${REGION_DESCRIPTION}`];
  }
  return [];
}

/** The schema's issues as messages naming the key, its value and what it accepts. */
function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  values: Readonly<Record<string, unknown>>,
): string[] {
  return issues.flatMap((issue): string[] => {
    const key = issue.path.length ? String(issue.path[0]) : "";
    if (issue.code === "unrecognized_keys") {
      const role = String(values["role"]);
      return issue.keys.map(
        (extra) =>
          `${PROJECT}:${extra}: is not a key for role ${role}; remove it or check its spelling`,
      );
    }
    if (key === "role" || issue.code === "invalid_union") {
      return [
        `${PROJECT}:role: got ${describeValue(values["role"])}; expected "primary" or "secondary"`,
      ];
    }
    const value = issue.path.reduce<unknown>(
      (v, p) => (v as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey],
      values,
    );
    const where =
      issue.path.length > 1 ? `${PROJECT}:${issue.path.join(".")}` : `${PROJECT}:${key}`;
    const expected =
      value === undefined
        ? "is required"
        : `got ${describeValue(value)}; expected ${issue.message}`;
    return [`${where}: ${expected}`];
  });
}

/** KMS keys by region, from the `kmsKeyArns` list; undefined when the list is unset. */
export function kmsKeysByRegion(
  cfg: Pick<StackConfig, "kmsKeyArns">,
): Record<string, string> | undefined {
  if (cfg.kmsKeyArns === undefined) return undefined;
  return Object.fromEntries(cfg.kmsKeyArns.map((arn) => [kmsKeyRegion(arn), arn]));
}

/** RFC 2606 and RFC 6761 names: documentation examples that nobody can deploy a certificate for. */
export function isReservedExampleDomain(domain: string): boolean {
  return (
    /(^|\.)example\.(com|net|org)$/.test(domain) ||
    /\.(example|test|invalid|localhost)$/.test(domain)
  );
}

/**
 * Refuses, on a real deployment only, a domain name the shipped stack files carry as an example:
 * a preview (and the offline plan) still runs, `pulumi up` stops before any resource.
 */
export function assertDeployableDomain(cfg: StackConfig, dryRun: boolean): void {
  if (dryRun || cfg.domainName === undefined || !isReservedExampleDomain(cfg.domainName)) return;
  throw new ConfigError(
    `invalid config for stack ${cfg.stack}:\n  - ${PROJECT}:domainName: ${cfg.domainName} is a reserved example name (RFC 2606); ` +
      `set your service name and its public hosted zone: pulumi config set ${PROJECT}:domainName orders.yourcompany.com -s ${cfg.stack} ` +
      `and pulumi config set ${PROJECT}:hostedZoneId <zone id> -s ${cfg.stack}, in every region stack`,
  );
}

/** A stack reference name: a bare stack name means that stack in this organization and project. */
export function qualifyStackName(name: string, organization: string, project: string): string {
  return name.includes("/") ? name : `${organization}/${project}/${name}`;
}

/** Reads and validates the running stack's config; call once, from index.ts. */
export function loadStackConfig(): StackConfig {
  // Imported here so the pure parser above stays usable without a Pulumi runtime.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const cfg = parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
  assertDeployableDomain(cfg, pulumi.runtime.isDryRun());
  return cfg;
}
