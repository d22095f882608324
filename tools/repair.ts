/**
 * The repair step against deployed stacks (functions/data/repair.ts `repairSales`), for an
 * operator: every SOLD product of each region's tables ends with its order, or back IN_STOCK
 * when its order id belongs to an order for another product. Run it after a region comes back,
 * or when the canary or an alarm shows a claim without its order (docs/orders-without-transactions.md).
 *
 *   npm run repair -- [--dry-run] <pulumi stack output --json file>...
 *
 * Each file is one region stack's outputs (`region`, `tableNames`). Credentials come from the
 * SDK's default chain (environment, profile, SSO, instance role). Regions are repaired one after
 * another, in the order given. Exit code 1 when an argument is wrong or a region's repair failed.
 */
import { readFileSync } from "node:fs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { repairCounts, repairSales, type RepairCounts } from "../functions/data/repair";
import { createDocumentClient } from "../functions/runtime";

const USAGE = "usage: npm run repair -- [--dry-run] <pulumi stack output --json file>...";

const StackOutputs = z.object({
  region: z.string().min(1),
  tableNames: z.object({ products: z.string().min(1), orders: z.string().min(1) }),
});

export interface RegionTarget {
  readonly file: string;
  readonly region: string;
  readonly products: string;
  readonly orders: string;
}

/** One stack's outputs, checked: an error names the file and what is missing. */
export function parseStackOutputs(file: string, text: string): RegionTarget {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${file}: not JSON (${(err as Error).message}); use pulumi stack output --json`,
      { cause: err },
    );
  }
  const out = StackOutputs.safeParse(json);
  if (!out.success) {
    const issue = out.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "the outputs";
    throw new Error(
      `${file}: stack output ${where}: ${issue?.message ?? "invalid"} ` +
        "(pass the outputs of a region stack: region and tableNames)",
    );
  }
  const { region, tableNames } = out.data;
  return { file, region, products: tableNames.products, orders: tableNames.orders };
}

export interface RepairArgs {
  readonly dryRun: boolean;
  readonly files: readonly string[];
}

export function parseArgs(argv: readonly string[]): RepairArgs {
  const files = argv.filter((a) => a !== "--dry-run");
  const unknown = files.filter((a) => a.startsWith("-"));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(", ")}\n${USAGE}`);
  if (files.length === 0) throw new Error(`no stack output file given\n${USAGE}`);
  return { dryRun: argv.includes("--dry-run"), files };
}

/** What `main` prints for one region. */
export function regionLine(target: RegionTarget, c: RepairCounts, dryRun: boolean): string {
  const verb = dryRun ? "would write" : "wrote";
  const release = dryRun ? "would release" : "released";
  const left = c.claimChanged + c.notRebuildable;
  return (
    `${target.region}: ${c.checked} SOLD products checked; ${verb} ${c.ordersWritten} orders, ` +
    `${release} ${c.claimsReleased} claims` +
    (c.claimChanged > 0 ? `; ${c.claimChanged} changed while checked (run again)` : "") +
    (c.notRebuildable > 0 ? `; ${c.notRebuildable} legacy sales without their order content` : "") +
    (left === 0 && c.ordersWritten + c.claimsReleased === 0 ? " (nothing to repair)" : "")
  );
}

export interface RepairDeps {
  /** A document client for the region (default: the SDK's default credential chain). */
  readonly client?: (region: string) => DynamoDBDocumentClient;
  readonly readFile?: (file: string) => string;
  readonly print?: (line: string) => void;
}

/** Repairs every region given; resolves to the exit code. Never throws. */
export async function runRepair(argv: readonly string[], deps: RepairDeps = {}): Promise<number> {
  const print = deps.print ?? ((line: string) => console.log(line));
  const client = deps.client ?? ((region: string) => createDocumentClient({ region }));
  const readFile = deps.readFile ?? ((file: string) => readFileSync(file, "utf8"));
  let args: RepairArgs;
  let targets: RegionTarget[];
  try {
    args = parseArgs(argv);
    targets = args.files.map((f) => {
      let text: string;
      try {
        text = readFile(f);
      } catch (err) {
        throw new Error(`${f}: cannot read (${(err as Error).message})`, { cause: err });
      }
      return parseStackOutputs(f, text);
    });
    const regions = targets.map((t) => t.region);
    const twice = regions.filter((r, i) => regions.indexOf(r) !== i);
    if (twice.length > 0) throw new Error(`region ${twice.join(", ")} given twice: one file each`);
  } catch (err) {
    print(`error: ${(err as Error).message}`);
    return 1;
  }
  let failed = 0;
  for (const t of targets) {
    let doc: DynamoDBDocumentClient | undefined;
    try {
      doc = client(t.region);
      const report = await repairSales(doc, t, undefined, { dryRun: args.dryRun });
      print(regionLine(t, repairCounts(report), args.dryRun));
    } catch (err) {
      failed++;
      print(`${t.region}: repair failed: ${(err as Error).message}`);
    } finally {
      doc?.destroy();
    }
  }
  if (failed > 0) print(`error: the repair failed in ${failed} of ${targets.length} regions`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && /tools[\\/]repair\.ts$/.test(process.argv[1])) {
  void runRepair(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
