/**
 * Evaluates index.ts for one stack under the mock engine: the stack's real config files, the
 * StackReferences it makes answered from outputs the caller supplies (for example another stack's
 * evaluated outputs). Used by the stack tests and the `plan` tool.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockEngine, evaluate, settle, waitForRegistrations } from "./mock-engine";
import { PROJECT_DIR, readProject, readStackConfig } from "./stack-config";

export { settle };

export const ORGANIZATION = "organization";

export interface StackEvaluation {
  readonly engine: MockEngine;
  /** The program's exports with every Output resolved. */
  readonly outputs: Record<string, unknown>;
  /** Exports whose value was unknown (only with `allowUnknownOutputs`). */
  readonly unknownOutputs: string[];
}

export interface EvaluateStackOptions {
  /** Config to use instead of Pulumi.<stack>.yaml (full keys, string values). */
  readonly config?: Record<string, string>;
  /** Outputs of stacks this one references, by fully qualified name. */
  readonly stackOutputs?: Record<string, Record<string, unknown>>;
  /**
   * Evaluate as `pulumi preview` does (true) or as `pulumi up` does (false); the program refuses
   * some things only on a real deployment, such as an RFC 2606 example domain. @default true
   */
  readonly dryRun?: boolean;
  /**
   * Resolve outputs whose value is unknown (a preview that reads a stack with no outputs yet) to
   * undefined, listing them in `unknownOutputs`, instead of failing. @default false
   */
  readonly allowUnknownOutputs?: boolean;
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
  const dryRun = options.dryRun ?? true;
  const exports = await evaluate(engine, { project, stack, config, dryRun }, () => {
    delete require.cache[require.resolve(entry)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(entry) as Record<string, unknown>;
  });
  const outputs: Record<string, unknown> = {};
  const unknownOutputs: string[] = [];
  for (const [key, value] of Object.entries(exports)) {
    if (key === "__esModule") continue;
    // isKnown: a run-time member of every Output (mock-engine.ts `settle` reads it too).
    const output = pulumi.output(value as pulumi.Input<unknown>) as unknown as {
      isKnown: Promise<boolean>;
    };
    const known = await output.isKnown;
    if (!known && options.allowUnknownOutputs) {
      unknownOutputs.push(key);
      continue;
    }
    outputs[key] = await settle(value as pulumi.Input<unknown>);
  }
  // Parts of the program built after an await (routing waits for peer stacks' outputs) may still
  // be registering once the outputs have settled.
  await waitForRegistrations();
  return { engine, outputs, unknownOutputs };
}

/** Fully qualified name of a stack of this project, as a StackReference would name it. */
export function stackRefName(stack: string): string {
  return `${ORGANIZATION}/${readProject().name}/${stack}`;
}
