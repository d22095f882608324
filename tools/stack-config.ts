/**
 * Reads a stack's config the way the Pulumi CLI hands it to the program: the project's declared
 * defaults from Pulumi.yaml, overlaid with Pulumi.<stack>.yaml, every value as a string (lists,
 * numbers and booleans as JSON). The `plan` tool and the stack tests evaluate the program with it.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const PROJECT_DIR = path.resolve(__dirname, "..");

function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The project's name and declared config defaults, from Pulumi.yaml. */
export function readProject(dir = PROJECT_DIR): { name: string; defaults: Record<string, string> } {
  const project = parse(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config?: Record<string, { default?: unknown }>;
  };
  const defaults: Record<string, string> = {};
  for (const [key, decl] of Object.entries(project.config ?? {})) {
    if (decl.default === undefined) continue;
    defaults[key.includes(":") ? key : `${project.name}:${key}`] = asConfigString(decl.default);
  }
  return { name: project.name, defaults };
}

/** Full config (`aws:region`, `resilient-dynamo:role`, ...) of a stack file, defaults applied. */
export function readStackConfig(
  stack: string,
  dir = PROJECT_DIR,
  file?: string,
): Record<string, string> {
  const stackFile = file ?? path.join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(stackFile)) {
    throw new Error(
      `no stack file ${path.relative(process.cwd(), stackFile) || stackFile} for stack ${stack}`,
    );
  }
  const { name, defaults } = readProject(dir);
  const doc = (parse(readFileSync(stackFile, "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
  };
  const config = { ...defaults };
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    config[key.includes(":") ? key : `${name}:${key}`] = asConfigString(value);
  }
  return config;
}
