/**
 * The stack's `aws:` provider settings that an explicit provider does not inherit from the
 * default one: read from the same raw config as config.ts, for the providers this program creates
 * itself (the ARC control plane's us-west-2 provider). Region is not copied: a provider here
 * names its own.
 */
import type { ArcAssumeRoleArgs, ArcProviderSettingsArgs } from "resilient-dynamo";

/** `aws:` keys whose values are JSON lists of strings. */
const LIST_KEYS = [
  "allowedAccountIds",
  "forbiddenAccountIds",
  "sharedConfigFiles",
  "sharedCredentialsFiles",
] as const;

function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`aws:${key}: ${JSON.stringify(text)} is not valid JSON`);
  }
}

function stringList(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`aws:${key}: expected a list of strings, got ${JSON.stringify(value)}`);
  }
  return value;
}

function assumeRole(key: string, value: unknown): ArcAssumeRoleArgs {
  const role = value as Record<string, unknown> | null;
  if (!role || typeof role !== "object" || typeof role["roleArn"] !== "string") {
    throw new Error(`aws:${key}: each role needs a roleArn, got ${JSON.stringify(value)}`);
  }
  const out: ArcAssumeRoleArgs = { roleArn: role["roleArn"] };
  for (const k of ["sessionName", "externalId", "duration"] as const) {
    if (typeof role[k] === "string") out[k] = role[k];
  }
  return out;
}

/** The provider settings in a stack's raw config (full keys, string values); {} when none. */
export function awsProviderSettings(
  raw: Readonly<Record<string, string>>,
): ArcProviderSettingsArgs {
  const settings: ArcProviderSettingsArgs = {};
  const text = (key: string) => {
    const v = raw[`aws:${key}`];
    return v === undefined || v === "" ? undefined : v;
  };
  const profile = text("profile");
  if (profile !== undefined) settings.profile = profile;
  const roles = text("assumeRoles");
  const role = text("assumeRole");
  if (roles !== undefined) {
    const list = parseJson("assumeRoles", roles);
    if (!Array.isArray(list)) {
      throw new Error(`aws:assumeRoles: expected a list of roles, got ${JSON.stringify(list)}`);
    }
    settings.assumeRoles = list.map((r) => assumeRole("assumeRoles", r));
  } else if (role !== undefined) {
    settings.assumeRoles = [assumeRole("assumeRole", parseJson("assumeRole", role))];
  }
  const tags = text("defaultTags");
  if (tags !== undefined) {
    const value = parseJson("defaultTags", tags) as { tags?: unknown } | null;
    const map = value?.tags;
    if (
      !map ||
      typeof map !== "object" ||
      !Object.values(map).every((v) => typeof v === "string")
    ) {
      throw new Error(
        `aws:defaultTags: expected {"tags": {"key": "value", ...}}, got ${JSON.stringify(value)}`,
      );
    }
    settings.defaultTags = map as Record<string, string>;
  }
  for (const key of LIST_KEYS) {
    const v = text(key);
    if (v !== undefined) settings[key] = stringList(key, parseJson(key, v));
  }
  return settings;
}
