/**
 * The planner of `npm run plan`: evaluates a stack's program (index.ts with the stack's config)
 * under the shared mock engine, answering its StackReferences with the planned outputs of the
 * stacks it names (evaluated first, chains followed, cycles refused), and records which outputs
 * each stack reads.
 */
import { readdirSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { evaluateStack, settle, stackRefName, type StackEvaluation } from "./evaluate-stack";
import type { RecordedResource } from "./mock-engine";
import { PROJECT_DIR, readProject, readStackConfig } from "./stack-config";
import type { ConsistencyMode } from "../functions/tables";

const PROJECT_KEY = "resilient-dynamo:";

export const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/** A plan cannot be made: unknown stack, reference cycle, reference outside this project. */
export class PlanError extends Error {
  override readonly name = "PlanError";
}

/** Stacks of this project: the Pulumi.<stack>.yaml files next to Pulumi.yaml. */
export function listStacks(dir = PROJECT_DIR): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export interface StackRead {
  /** The stack whose program reads. */
  readonly stack: string;
  /** The referenced stack as the StackReference names it. */
  readonly reference: string;
  /** The local stack whose plan answered it. */
  readonly from: string;
  readonly outputs: readonly string[];
}

export interface StackPlan {
  readonly stack: string;
  readonly region: string;
  /** What `pulumi up` would create: every recorded resource but the stack references. */
  readonly resources: readonly RecordedResource[];
  readonly references: readonly StackRead[];
  /** Stacks evaluated, dependencies first. */
  readonly evaluated: readonly string[];
  readonly outputs: Record<string, unknown>;
}

/** Which stack a StackReference name points at, among this project's stack files. */
export function localStackFor(reference: string, stacks: readonly string[]): string | undefined {
  const exact = stacks.find((s) => stackRefName(s) === reference);
  if (exact) return exact;
  const parts = reference.split("/");
  const last = parts.at(-1) as string;
  const project = parts.length >= 2 ? parts.at(-2) : readProject().name;
  if (project === readProject().name && stacks.includes(last)) return last;
  return undefined;
}

/** The stack name in a mock engine's "StackReference to X, which the mocks do not know" error. */
export function unknownReference(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  return /StackReference to (\S+), which the mocks do not know/.exec(message)?.[1];
}

/**
 * Stack names in the stack's own config keys that name stacks (`primaryStack`, `peerStacks`,
 * any key ending in Stack or Stacks), as the program would qualify them. Planning those first
 * spares a failed evaluation; any reference they miss is still found from the mock engine's error.
 */
export function configuredReferences(config: Readonly<Record<string, string>>): string[] {
  const { name: project } = readProject();
  const names: string[] = [];
  for (const [key, raw] of Object.entries(config)) {
    if (!key.startsWith(`${project}:`) || !/Stacks?$/.test(key)) continue;
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === "string" && v !== "") names.push(v.includes("/") ? v : stackRefName(v));
    }
  }
  return [...new Set(names)];
}

interface Traced {
  readonly ref: pulumi.StackReference;
  readonly output: pulumi.Input<string>;
}

/** Records which outputs the program asks its StackReferences for, while `run` runs. */
async function tracingReads<T>(run: () => Promise<T>): Promise<{ result: T; reads: Traced[] }> {
  const reads: Traced[] = [];
  const proto = pulumi.StackReference.prototype;
  const { getOutput, requireOutput } = proto;
  proto.getOutput = function (this: pulumi.StackReference, name: pulumi.Input<string>) {
    reads.push({ ref: this, output: name });
    return getOutput.call(this, name);
  };
  proto.requireOutput = function (this: pulumi.StackReference, name: pulumi.Input<string>) {
    reads.push({ ref: this, output: name });
    return requireOutput.call(this, name);
  };
  try {
    return { result: await run(), reads };
  } finally {
    proto.getOutput = getOutput;
    proto.requireOutput = requireOutput;
  }
}

interface Evaluated {
  readonly run: StackEvaluation;
  /** The stack's `aws:region`, from the config it was evaluated with. */
  readonly region: string;
  readonly reads: StackRead[];
}

export interface PlanOptions {
  /** Config of a stack. @default readStackConfig (Pulumi.yaml defaults + Pulumi.<stack>.yaml) */
  readonly readConfig?: (stack: string) => Record<string, string>;
  /** The project's stacks. @default listStacks() */
  readonly stacks?: readonly string[];
  /**
   * Plan the stacks named in config keys ending in Stack/Stacks before the stack itself. When
   * false, references are found only from the mock engine's error on an unknown reference.
   * @default true
   */
  readonly fromConfig?: boolean;
}

class Planner {
  readonly done = new Map<string, Evaluated>();
  readonly order: string[] = [];
  private readonly stacks: readonly string[];
  private readonly readConfig: (stack: string) => Record<string, string>;

  constructor(private readonly options: PlanOptions) {
    this.stacks = options.stacks ?? listStacks();
    this.readConfig = options.readConfig ?? ((s) => readStackConfig(s));
  }

  private resolve(reference: string, by: string): string {
    const local = localStackFor(reference, this.stacks);
    if (!local) {
      throw new PlanError(
        `stack ${by} references ${reference}, which is not a stack of this project ` +
          `(stacks here: ${this.stacks.join(", ")})`,
      );
    }
    return local;
  }

  async plan(stack: string, chain: readonly string[] = []): Promise<Evaluated> {
    const done = this.done.get(stack);
    if (done) return done;
    if (chain.includes(stack)) {
      throw new PlanError(`stack reference cycle: ${[...chain, stack].join(" -> ")}`);
    }
    const known: Record<string, Record<string, unknown>> = {};
    const answers = new Map<string, string>();
    const depend = async (reference: string): Promise<void> => {
      const local = this.resolve(reference, stack);
      const dep = await this.plan(local, [...chain, stack]);
      known[reference] = dep.run.outputs;
      answers.set(reference, local);
    };
    const config = this.readConfig(stack);
    if (this.options.fromConfig ?? true) {
      for (const reference of configuredReferences(config)) {
        if (localStackFor(reference, this.stacks) !== stack) await depend(reference);
      }
    }
    for (;;) {
      try {
        const { result: run, reads } = await tracingReads(() =>
          evaluateStack(stack, { config, stackOutputs: known }),
        );
        const evaluated: Evaluated = {
          run,
          region: config["aws:region"] ?? "",
          reads: await summarizeReads(stack, reads, answers),
        };
        this.done.set(stack, evaluated);
        this.order.push(stack);
        return evaluated;
      } catch (err) {
        const reference = unknownReference(err);
        if (reference === undefined || known[reference] !== undefined) throw err;
        await depend(reference);
      }
    }
  }
}

async function summarizeReads(
  stack: string,
  traced: readonly Traced[],
  answers: ReadonlyMap<string, string>,
): Promise<StackRead[]> {
  const byRef = new Map<string, Set<string>>();
  for (const t of traced) {
    const [reference, output] = await Promise.all([settle(t.ref.name), settle(t.output)]);
    const set = byRef.get(reference) ?? new Set<string>();
    set.add(output);
    byRef.set(reference, set);
  }
  return [...byRef.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reference, outputs]) => ({
      stack,
      reference,
      from: answers.get(reference) ?? reference,
      outputs: [...outputs].sort(),
    }));
}

/** Plans a stack of this project (and, first, every stack it references). */
export async function planStack(stack: string, options: PlanOptions = {}): Promise<StackPlan> {
  const stacks = options.stacks ?? listStacks();
  if (!stacks.includes(stack)) {
    throw new PlanError(
      `unknown stack ${stack}: there is no Pulumi.${stack}.yaml; stacks: ${stacks.join(", ") || "none"}`,
    );
  }
  const planner = new Planner(options);
  const target = await planner.plan(stack);
  const urns = new Set<string>();
  for (const r of target.run.engine.resources) {
    if (r.urn && urns.has(r.urn)) {
      throw new PlanError(`resource ${r.urn} was recorded twice; plan again`);
    }
    urns.add(r.urn);
  }
  const references = planner.order.flatMap((s) => planner.done.get(s)?.reads ?? []);
  return {
    stack,
    region: target.region,
    resources: target.run.engine.resources.filter((r) => r.type !== STACK_REFERENCE),
    references,
    evaluated: [...planner.order],
    outputs: target.run.outputs,
  };
}

/**
 * Reads each stack's config with `consistency` set on every stack, and `witnessRegion` on the
 * primary (role primary): given, or unset (eventual mode has no witness).
 */
export function withConsistency(
  read: (stack: string) => Record<string, string>,
  consistency: ConsistencyMode,
  witnessRegion?: string,
): (stack: string) => Record<string, string> {
  return (stack) => {
    const config: Record<string, string> = {
      ...read(stack),
      [`${PROJECT_KEY}consistency`]: consistency,
    };
    if (config[`${PROJECT_KEY}role`] === "primary") {
      config[`${PROJECT_KEY}witnessRegion`] = witnessRegion ?? "";
    }
    return config;
  };
}
