/**
 * `npm run plan -- <stack>`: what `pulumi up -s <stack>` would create, worked out offline. Runs
 * index.ts with the stack's config under the shared mock engine (the one the tests use), answering
 * its StackReferences with the planned outputs of the stacks it names (evaluated first, chains
 * followed, cycles refused), and prints the resource tree by component, counts by type, the
 * cross-stack references and a fixed monthly cost estimate from tools/prices.ts.
 *
 *   npm run plan -- region2
 *   npm run plan -- region2 --json
 *   npm run plan -- region2 --consistency strong --witness-region us-east-2
 *   npm run plan -- region2 --save plans/region2.json     (after pulumi up)
 *   npm run plan -- region2 --compare plans/region2.json  (before the next one)
 */
import { readdirSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { UsageError, optionsOrExitCode, parseCommandLine, runCli } from "./cli-args";
import { evaluateStack, settle, stackRefName, type StackEvaluation } from "./evaluate-stack";
import type { RecordedResource } from "./mock-engine";
import {
  SavedPlanError,
  comparePlans,
  formatWarnings,
  readSavedPlan,
  toSavedPlan,
  writeSavedPlan,
  type SavedPlan,
} from "./plan-compare";
import {
  HOURS_PER_MONTH,
  PRICES,
  PRICES_CHECKED,
  isBillableType,
  priceOf,
  type PriceKey,
} from "./prices";
import { PROJECT_DIR, readProject, readStackConfig } from "./stack-config";
import { CONSISTENCY_MODES, type ConsistencyMode } from "../functions/tables";

const PROJECT_KEY = "resilient-dynamo:";

export const STACK_REFERENCE = "pulumi:pulumi:StackReference";

export const USAGE = `Usage: npm run plan -- <stack> [--json] [--save FILE] [--compare FILE]
                     [--consistency eventual|strong] [--witness-region REGION]

Evaluates index.ts for the stack (its Pulumi.<stack>.yaml) with Pulumi mocks, offline, and prints
what pulumi up would create: the resource tree by component, counts by type, the stack
references it reads (the referenced stacks are planned first), and a fixed monthly cost
estimate of what AWS bills by the hour, month or run (prices in tools/prices.ts).

  --json          machine-readable output
  --consistency M plan every stack evaluated with resilient-dynamo:consistency M instead of
                  its stack file's (eventual or strong), to compare the two modes
  --witness-region REGION
                  with --consistency strong: the primary stack's witnessRegion
  --save FILE     also write the planned resources to FILE (do it for what you deployed)
  --compare FILE  warn about changes since FILE's plan that AWS refuses (a protected table or
                  replica removed) or that replace data (a table, a replica's KMS key) or ARC
                  resources (a cluster, control panel or routing control), and routes the stage
                  would keep serving
  -h, --help

Exit codes: 0 planned (and nothing to warn about), 3 planned with warnings from --compare,
2 usage error, unknown stack or unreadable saved plan, 1 the program failed under the mocks.`;

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

export interface TreeNode {
  readonly resource: RecordedResource;
  readonly children: TreeNode[];
}

const byTypeThenName = (a: TreeNode, b: TreeNode): number =>
  a.resource.type.localeCompare(b.resource.type) || a.resource.name.localeCompare(b.resource.name);

/** Resources under their parents (by URN), children sorted by type then name. */
export function buildTree(resources: readonly RecordedResource[]): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  for (const r of resources) nodes.set(r.urn, { resource: r, children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.resource.parent ? nodes.get(node.resource.parent) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const sort = (list: TreeNode[]): void => {
    list.sort(byTypeThenName);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

export function formatTree(roots: readonly TreeNode[], stackRegion: string): string[] {
  const lines: string[] = [];
  const walk = (nodes: readonly TreeNode[], prefix: string): void => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      const r = node.resource;
      const where =
        r.type.startsWith("aws:") && r.region && r.region !== stackRegion ? `  (${r.region})` : "";
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${where}`);
      walk(node.children, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  walk(roots, "");
  return lines;
}

/** Resource counts by type token, sorted by type. */
export function countByType(resources: readonly { type: string }[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export interface CostLine {
  readonly type: string;
  readonly basis: string;
  readonly count: number;
  /** USD per month for one resource on this line. */
  readonly unitMonthlyUsd: number;
  readonly monthlyUsd: number;
  readonly prices: readonly PriceKey[];
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly totalMonthlyUsd: number;
  readonly usageBased: readonly { type: string; count: number; drivers: string }[];
  readonly noCharge: readonly { type: string; count: number }[];
  readonly unpriced: readonly { type: string; count: number; why: string }[];
  /** Price table entries the lines used that were not confirmed on the AWS page. */
  readonly unconfirmed: readonly PriceKey[];
}

/** Cents, so that sums of many small prices do not drift. */
const cents = (usd: number): number => Math.round(usd * 100);

/** The fixed monthly cost of recorded resources, from the price table. */
export function estimateCost(
  resources: readonly { type: string; inputs: Readonly<Record<string, any>> }[],
): CostEstimate {
  const lines = new Map<string, CostLine>();
  const usage = new Map<string, { type: string; count: number; drivers: string }>();
  const free = new Map<string, number>();
  const unpriced = new Map<string, { type: string; count: number; why: string }>();
  for (const r of resources) {
    if (!isBillableType(r.type)) continue;
    const p = priceOf(r);
    if (p.kind === "fixed") {
      const key = `${r.type}\0${p.basis}`;
      const line = lines.get(key);
      lines.set(key, {
        type: r.type,
        basis: p.basis,
        count: (line?.count ?? 0) + 1,
        unitMonthlyUsd: p.monthlyUsd,
        monthlyUsd: (line?.monthlyUsd ?? 0) + p.monthlyUsd,
        prices: p.prices,
      });
    } else if (p.kind === "usage") {
      // One line per type and drivers: MRSC and MREC tables are billed differently, FIS
      // templates of other durations cost differently.
      const key = `${r.type}\0${p.drivers}`;
      const u = usage.get(key);
      usage.set(key, { type: r.type, count: (u?.count ?? 0) + 1, drivers: p.drivers });
    } else if (p.kind === "free") {
      free.set(r.type, (free.get(r.type) ?? 0) + 1);
    } else {
      const key = `${r.type}\0${p.why}`;
      const u = unpriced.get(key);
      unpriced.set(key, { type: r.type, count: (u?.count ?? 0) + 1, why: p.why });
    }
  }
  const sorted = [...lines.values()].sort(
    (a, b) => a.type.localeCompare(b.type) || a.basis.localeCompare(b.basis),
  );
  const used = new Set(sorted.flatMap((l) => l.prices));
  return {
    lines: sorted,
    totalMonthlyUsd: sorted.reduce((sum, l) => sum + cents(l.monthlyUsd), 0) / 100,
    usageBased: [...usage.values()].sort(
      (a, b) => a.type.localeCompare(b.type) || a.drivers.localeCompare(b.drivers),
    ),
    noCharge: [...free.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => ({ type, count })),
    unpriced: [...unpriced.values()].sort(
      (a, b) => a.type.localeCompare(b.type) || a.why.localeCompare(b.why),
    ),
    unconfirmed: (Object.keys(PRICES) as PriceKey[]).filter(
      (k) => used.has(k) && PRICES[k].verification !== "official",
    ),
  };
}

export function money(usd: number): string {
  const [whole, frac] = usd.toFixed(2).split(".");
  return `$${(whole as string).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${frac}`;
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) =>
        rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join("  ")
      .trimEnd(),
  );
}

/** The plan as people read it. Deterministic: everything sorted, no times. */
export function formatPlan(plan: StackPlan): string {
  const out: string[] = [];
  const count = plan.resources.length;
  out.push(`Plan for stack ${plan.stack} (${plan.region}): ${count} resources to create`);
  out.push(
    "Evaluated offline with Pulumi mocks (tools/mock-engine.ts); ids and ARNs in outputs are mock values.",
  );
  const witness = plan.outputs["witnessRegion"];
  out.push(
    `Consistency: ${String(plan.outputs["consistency"] ?? "eventual")}` +
      (typeof witness === "string" ? `, witness ${witness}` : ""),
  );

  out.push("", "Stack references");
  if (plan.references.length === 0) out.push("  none");
  for (const ref of plan.references) {
    out.push(
      `  ${ref.stack} reads ${ref.reference} (planned from Pulumi.${ref.from}.yaml): ${ref.outputs.join(", ")}`,
    );
  }

  out.push("", "Resource tree");
  for (const line of formatTree(buildTree(plan.resources), plan.region)) out.push(`  ${line}`);

  out.push("", "Resources by type");
  const counts = countByType(plan.resources);
  for (const line of table(
    [...counts.map(([type, n]) => [String(n), type]), [String(count), "total"]],
    new Set([0]),
  )) {
    out.push(`  ${line}`);
  }

  const cost = estimateCost(plan.resources);
  out.push(
    "",
    `Fixed monthly cost estimate (USD list prices, us-east-1, checked ${PRICES_CHECKED}; ` +
      `${HOURS_PER_MONTH} hours a month; tools/prices.ts)`,
  );
  if (cost.lines.length === 0) {
    out.push("  nothing billed by the hour, month or run");
  } else {
    const rows = cost.lines.map((l) => [String(l.count), l.type, l.basis, money(l.monthlyUsd)]);
    rows.push(["", "total", "", money(cost.totalMonthlyUsd)]);
    for (const line of table(rows, new Set([0, 3]))) out.push(`  ${line}`);
  }
  if (cost.unconfirmed.length > 0) {
    out.push(
      `  Not confirmed on the AWS pricing page: ${cost.unconfirmed.join(", ")} (see tools/prices.ts).`,
    );
  }
  out.push("", "Not estimated: usage-based");
  if (cost.usageBased.length === 0) out.push("  none");
  for (const line of table(
    cost.usageBased.map((u) => [String(u.count), u.type, u.drivers]),
    new Set([0]),
  )) {
    out.push(`  ${line}`);
  }
  if (cost.unpriced.length > 0) {
    out.push("", "Not priced (add them to tools/prices.ts)");
    for (const line of table(
      cost.unpriced.map((u) => [String(u.count), u.type, u.why]),
      new Set([0]),
    )) {
      out.push(`  ${line}`);
    }
  }
  out.push("", "No charge of their own");
  if (cost.noCharge.length === 0) out.push("  none");
  for (const line of table(
    cost.noCharge.map((f) => [String(f.count), f.type]),
    new Set([0]),
  )) {
    out.push(`  ${line}`);
  }
  return out.join("\n");
}

/** The plan for machines (`--json`). */
export function planJson(plan: StackPlan): Record<string, unknown> {
  const cost = estimateCost(plan.resources);
  return {
    stack: plan.stack,
    region: plan.region,
    evaluated: plan.evaluated,
    resourceCount: plan.resources.length,
    resources: [...plan.resources]
      .sort((a, b) => a.urn.localeCompare(b.urn))
      .map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        parent: r.parent ?? null,
        region: r.region ?? null,
      })),
    counts: Object.fromEntries(countByType(plan.resources)),
    references: plan.references,
    cost: {
      pricesChecked: PRICES_CHECKED,
      hoursPerMonth: HOURS_PER_MONTH,
      ...cost,
      unconfirmed: cost.unconfirmed.map((k) => ({ key: k, ...PRICES[k] })),
    },
  };
}

export interface PlanArgs {
  readonly stack: string;
  readonly json: boolean;
  readonly save?: string;
  readonly compare?: string;
  readonly consistency?: ConsistencyMode;
  readonly witnessRegion?: string;
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

export function parsePlanArgs(argv: readonly string[]): PlanArgs | "help" {
  const { values, positionals: positional } = parseCommandLine(argv, {
    json: { type: "boolean" },
    save: { type: "string" },
    compare: { type: "string" },
    consistency: { type: "string" },
    "witness-region": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  const consistency = values.consistency;
  if (consistency !== undefined && !CONSISTENCY_MODES.includes(consistency as ConsistencyMode)) {
    throw new UsageError(
      `--consistency: got ${JSON.stringify(consistency)}; expected ${CONSISTENCY_MODES.join(" or ")}`,
    );
  }
  if (values["witness-region"] !== undefined && consistency !== "strong") {
    throw new UsageError("--witness-region goes with --consistency strong");
  }
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length === 0
        ? `name a stack: npm run plan -- <stack> (stacks: ${listStacks().join(", ")})`
        : `one stack at a time: got ${positional.join(", ")}`,
    );
  }
  return {
    stack: positional[0] as string,
    json: values.json ?? false,
    ...(values.save !== undefined ? { save: values.save } : {}),
    ...(values.compare !== undefined ? { compare: values.compare } : {}),
    ...(consistency !== undefined ? { consistency: consistency as ConsistencyMode } : {}),
    ...(values["witness-region"] !== undefined ? { witnessRegion: values["witness-region"] } : {}),
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const opts = optionsOrExitCode(parsePlanArgs, argv, USAGE);
  if (typeof opts === "number") return opts;
  let saved: SavedPlan | undefined;
  try {
    saved = opts.compare === undefined ? undefined : readSavedPlan(opts.compare, opts.stack);
  } catch (err) {
    if (!(err instanceof SavedPlanError)) throw err;
    console.error(err.message);
    return 2;
  }
  let plan: StackPlan;
  try {
    plan = await planStack(
      opts.stack,
      opts.consistency === undefined
        ? {}
        : {
            readConfig: withConsistency(
              (s) => readStackConfig(s),
              opts.consistency,
              opts.witnessRegion,
            ),
          },
    );
  } catch (err) {
    if (err instanceof PlanError) {
      console.error(err.message);
      return 2;
    }
    console.error(`plan ${opts.stack} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const current = toSavedPlan(plan.stack, plan.resources);
  const warnings = saved ? comparePlans(saved, current) : undefined;
  if (opts.json) {
    console.log(JSON.stringify({ ...planJson(plan), ...(warnings ? { warnings } : {}) }, null, 2));
  } else {
    console.log(formatPlan(plan));
    if (warnings) console.log(`\n${formatWarnings(opts.compare as string, warnings)}`);
  }
  if (opts.save !== undefined) writeSavedPlan(opts.save, current);
  return warnings && warnings.length > 0 ? 3 : 0;
}

if (require.main === module) runCli(main);
