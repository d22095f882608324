/**
 * Evaluates index.ts for one stack under the mock engine: the stack's real config files, the
 * StackReferences it makes answered from outputs the caller supplies (for example another stack's
 * evaluated outputs). Used by the stack tests and the `plan` tool.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockEngine, evaluate, settle } from "./mock-engine";

export { settle };
import { PROJECT_DIR, readProject, readStackConfig } from "./stack-config";

export const ORGANIZATION = "organization";

export interface StackEvaluation {
  readonly engine: MockEngine;
  /** The program's exports with every Output resolved. */
  readonly outputs: Record<string, unknown>;
}

export interface EvaluateStackOptions {
  /** Config to use instead of Pulumi.<stack>.yaml (full keys, string values). */
  readonly config?: Record<string, string>;
  /** Outputs of stacks this one references, by fully qualified name. */
  readonly stackOutputs?: Record<string, Record<string, unknown>>;
}

export async function evaluateStack(
  stack: string,
  options: EvaluateStackOptions = {},
): Promise<StackEvaluation> {
  const config = options.config ?? readStackConfig(stack);
  const { name: project } = readProject();
  const engine = new MockEngine({
    defaultRegion: config["aws:region"],
    stackOutputs: options.stackOutputs,
  });
  const entry = path.join(PROJECT_DIR, "index.ts");
  const exports = await evaluate(engine, { project, stack, config }, () => {
    delete require.cache[require.resolve(entry)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(entry) as Record<string, unknown>;
  });
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exports)) {
    if (key === "__esModule") continue;
    outputs[key] = await settle(value as pulumi.Input<unknown>);
  }
  return { engine, outputs };
}

/** Fully qualified name of a stack of this project, as a StackReference would name it. */
export function stackRefName(stack: string): string {
  return `${ORGANIZATION}/${readProject().name}/${stack}`;
}
