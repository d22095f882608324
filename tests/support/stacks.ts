import { PROJECT_DIR, readStackConfig } from "../../tools/stack-config";

/**
 * The config of a stack file (Pulumi.yaml defaults applied) with some keys changed: a key
 * without `:` is a project key; undefined deletes the key.
 */
export function configOf(
  stack: string,
  patch: Readonly<Record<string, string | undefined>>,
  file?: string,
): Record<string, string> {
  const config = { ...readStackConfig(stack, PROJECT_DIR, file) };
  for (const [k, v] of Object.entries(patch)) {
    const key = k.includes(":") ? k : `resilient-dynamo:${k}`;
    if (v === undefined) delete config[key];
    else config[key] = v;
  }
  return config;
}
