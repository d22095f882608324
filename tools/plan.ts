/**
 * `npm run plan -- <stack>`: what `pulumi up -s <stack>` would create, worked out offline. Runs
 * index.ts with the stack's config under the shared mock engine (the one the tests use), answering
 * its StackReferences with the planned outputs of the stacks it names (evaluated first, chains
 * followed, cycles refused), and prints the resource tree by component, counts by type, the
 * cross-stack references and a fixed monthly cost estimate from tools/prices.ts. This file is the
 * command line; the evaluation is planner.ts, the output plan-format.ts, the estimate
 * cost-estimate.ts.
 *
 *   npm run plan -- region2
 *   npm run plan -- region2 --json
 *   npm run plan -- region2 --consistency strong --witness-region us-east-2
 *   npm run plan -- region2 --save plans/region2.json     (after pulumi up)
 *   npm run plan -- region2 --compare plans/region2.json  (before the next one)
 */
import { UsageError, optionsOrExitCode, parseCommandLine, runCli } from "./cli-args";
import {
  SavedPlanError,
  comparePlans,
  formatWarnings,
  readSavedPlan,
  toSavedPlan,
  writeSavedPlan,
  type SavedPlan,
} from "./plan-compare";
import { formatPlan, planJson } from "./plan-format";
import { PlanError, listStacks, planStack, withConsistency, type StackPlan } from "./planner";
import { readStackConfig } from "./stack-config";
import { CONSISTENCY_MODES, type ConsistencyMode } from "../functions/tables";

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

export interface PlanArgs {
  readonly stack: string;
  readonly json: boolean;
  readonly save?: string;
  readonly compare?: string;
  readonly consistency?: ConsistencyMode;
  readonly witnessRegion?: string;
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
