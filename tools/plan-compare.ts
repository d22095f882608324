/**
 * `npm run plan -- <stack> --save FILE` and `--compare FILE`: the planned resources saved as
 * JSON, and a comparison of a new plan with a saved one that warns, before `pulumi up`, about the
 * changes AWS refuses or that replace data or ARC resources:
 *
 * - a table or a replica removed while deletion protection is on (AWS refuses the delete);
 * - a table or replica deleted without protection, or a table replaced (its data goes);
 * - a table's consistency mode or MRSC witness changed (AWS fixes both when the table is created);
 * - a replica's KMS key changed (the replica is re-created and copied again from the table), or
 *   the table's key changed (re-encrypted in place);
 * - an ARC cluster, control panel or routing control deleted or replaced (new ARNs and cluster
 *   endpoints: the arc CLI, runbooks and every health check that names them change), including
 *   one moved to another provider;
 * - an API method removed: the stage keeps serving it until a second update (api-deployment.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { RecordedResource } from "./mock-engine";

export const SAVED_PLAN_VERSION = 1;

const TABLE = "aws:dynamodb/table:Table";
const METHOD = "aws:apigateway/method:Method";
const DEPLOYMENT = "aws:apigateway/deployment:Deployment";
/** ARC types whose replacement gives new ARNs or endpoints, and the inputs that force it. */
const ARC_REPLACED_BY: Readonly<Record<string, readonly string[]>> = {
  "aws:route53recoverycontrol/cluster:Cluster": ["name", "networkType"],
  "aws:route53recoverycontrol/controlPanel:ControlPanel": ["clusterArn"],
  "aws:route53recoverycontrol/routingControl:RoutingControl": ["clusterArn", "controlPanelArn"],
};

/** One planned resource as saved: inputs only for the types the comparison reads. */
export interface SavedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly region: string | null;
  readonly provider: string | null;
  readonly inputs?: Record<string, unknown>;
  /** ARC resources: their ARN, so a replaced cluster or panel marks what names it as replaced. */
  readonly arn?: string;
}

export interface SavedPlan {
  readonly version: number;
  readonly stack: string;
  readonly resources: readonly SavedResource[];
}

export type ChangeKind = "refused" | "replaces-data" | "replaces-arc" | "stale-route";

export interface PlanWarning {
  readonly kind: ChangeKind;
  readonly urn: string;
  readonly message: string;
}

/** Bad or mismatched saved plan: the message names the file and what is wrong. */
export class SavedPlanError extends Error {
  override readonly name = "SavedPlanError";
}

const KEEP_INPUTS = new Set([TABLE, ...Object.keys(ARC_REPLACED_BY)]);

/** The planned resources of a stack, as `--save` writes them. */
export function toSavedPlan(stack: string, resources: readonly RecordedResource[]): SavedPlan {
  return {
    version: SAVED_PLAN_VERSION,
    stack,
    resources: [...resources]
      .sort((a, b) => a.urn.localeCompare(b.urn))
      .map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        region: r.region ?? null,
        provider: r.provider ?? null,
        ...(KEEP_INPUTS.has(r.type) ? { inputs: r.inputs } : {}),
        ...(r.type in ARC_REPLACED_BY ? { arn: String(r.state["arn"]) } : {}),
      })),
  };
}

export function writeSavedPlan(file: string, plan: SavedPlan): void {
  writeFileSync(file, `${JSON.stringify(plan, null, 2)}\n`);
}

/** Reads a saved plan; refuses a missing file, bad JSON, another version or another stack. */
export function readSavedPlan(file: string, stack: string): SavedPlan {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new SavedPlanError(`--compare ${file}: cannot read it (${(err as Error).message})`);
  }
  let plan: SavedPlan;
  try {
    plan = JSON.parse(text) as SavedPlan;
  } catch {
    throw new SavedPlanError(`--compare ${file}: not JSON; write one with --save ${file}`);
  }
  if (plan?.version !== SAVED_PLAN_VERSION || !Array.isArray(plan.resources)) {
    throw new SavedPlanError(
      `--compare ${file}: not a saved plan of version ${SAVED_PLAN_VERSION}; write one with --save`,
    );
  }
  if (plan.stack !== stack) {
    throw new SavedPlanError(
      `--compare ${file}: it is a plan of stack ${plan.stack}, not ${stack}`,
    );
  }
  return plan;
}

interface Replica {
  regionName: string;
  deletionProtectionEnabled?: boolean;
  kmsKeyArn?: string;
  consistencyMode?: string;
}

/** A table's multi-Region consistency as planned: STRONG (MRSC) or EVENTUAL (MREC, the default). */
const modeOf = (r: SavedResource): string =>
  replicasOf(r).some((x) => x.consistencyMode === "STRONG") ? "STRONG" : "EVENTUAL";
const witnessOf = (r: SavedResource): string | undefined =>
  (r.inputs?.["globalTableWitness"] as { regionName?: string } | undefined)?.regionName;

const replicasOf = (r: SavedResource): Replica[] =>
  ((r.inputs?.["replicas"] as Replica[] | undefined) ?? []).filter((x) => x?.regionName);
const tableKey = (r: SavedResource): string | undefined =>
  (r.inputs?.["serverSideEncryption"] as { kmsKeyArn?: string } | undefined)?.kmsKeyArn;
const describeKey = (k: string | undefined) => k ?? "the AWS-managed key aws/dynamodb";

function tableWarnings(before: SavedResource, after: SavedResource | undefined): PlanWarning[] {
  const out: PlanWarning[] = [];
  const name = String(before.inputs?.["name"] ?? before.name);
  const warn = (kind: ChangeKind, message: string) => out.push({ kind, urn: before.urn, message });
  if (!after) {
    if (before.inputs?.["deletionProtectionEnabled"] === true) {
      warn(
        "refused",
        `table ${name} is removed from the program but has deletion protection: AWS refuses the ` +
          "delete. To delete it on purpose: set deletionProtection false, pulumi up, then remove it " +
          "(README, Teardown)",
      );
    } else {
      warn("replaces-data", `table ${name} and its replicas are deleted, with their data`);
    }
    return out;
  }
  for (const field of ["name", "hashKey"] as const) {
    if (before.inputs?.[field] !== after.inputs?.[field]) {
      warn(
        "replaces-data",
        `table ${name} is replaced (${field} ${String(before.inputs?.[field])} -> ${String(after.inputs?.[field])}): ` +
          "a new, empty table; restore its data from a backup (README, Point-in-time restore)",
      );
    }
  }
  if (modeOf(before) !== modeOf(after)) {
    warn(
      "refused",
      `table ${name} changes its consistency mode (${modeOf(before)} -> ${modeOf(after)}): AWS fixes a global ` +
        "table's mode at creation and enables MRSC only on an empty table, so this needs new tables. " +
        "Migrate to a new stack set instead (docs/consistency-migration.md)",
    );
  } else if (witnessOf(before) !== witnessOf(after)) {
    warn(
      "refused",
      `table ${name} changes its MRSC witness (${witnessOf(before) ?? "none"} -> ${witnessOf(after) ?? "none"}): ` +
        "a witness is added only when the MRSC table is created, and removed only with a replica " +
        "(docs/mrsc-limits.md)",
    );
  }
  if (tableKey(before) !== tableKey(after)) {
    warn(
      "replaces-data",
      `table ${name} changes its KMS key (${describeKey(tableKey(before))} -> ${describeKey(tableKey(after))}): ` +
        "re-encrypted in place; keep the old key enabled until the update finishes",
    );
  }
  const next = new Map(replicasOf(after).map((r) => [r.regionName, r]));
  for (const old of replicasOf(before)) {
    const now = next.get(old.regionName);
    if (!now) {
      if (old.deletionProtectionEnabled) {
        warn(
          "refused",
          `replica ${old.regionName} of table ${name} is removed but has deletion protection: AWS refuses. ` +
            `First pulumi up with deletionProtection false, then remove ${old.regionName} from replicaRegions ` +
            "(and its stack first: its API reads that replica)",
        );
      } else {
        warn(
          "replaces-data",
          `replica ${old.regionName} of table ${name} is deleted, with its data in ${old.regionName}`,
        );
      }
    } else if (old.kmsKeyArn !== now.kmsKeyArn) {
      warn(
        "replaces-data",
        `replica ${old.regionName} of table ${name} changes its KMS key (${describeKey(old.kmsKeyArn)} -> ` +
          `${describeKey(now.kmsKeyArn)}): the replica is deleted and re-created, then copied again from ` +
          `the table; ${old.regionName} has no replica meanwhile (route traffic away first)`,
      );
    }
  }
  return out;
}

function arcWarnings(
  before: SavedResource,
  after: SavedResource | undefined,
  replacedArns: Set<string>,
): PlanWarning[] {
  const what = `${before.type.split(":").at(-1)} ${before.name}`;
  const consequence =
    "new ARNs and cluster endpoints: the routing control health checks, DNS records and the arc CLI " +
    "follow on pulumi up, but routing control states start Off and runbooks that name ARNs go stale";
  if (!after) {
    return [
      {
        kind: "replaces-arc",
        urn: before.urn,
        message: `${what} is deleted (or renamed, which replaces it): ${consequence}`,
      },
    ];
  }
  const reasons = (ARC_REPLACED_BY[before.type] ?? []).flatMap((f) => {
    const [was, is] = [before.inputs?.[f], after.inputs?.[f]];
    if (JSON.stringify(was) !== JSON.stringify(is)) return [`${f} changes`];
    // A replaced cluster or panel gets a new ARN, which the plan (with mock ARNs) cannot show.
    return typeof was === "string" && replacedArns.has(was) ? [`its ${f} is replaced`] : [];
  });
  if (before.provider !== after.provider) {
    reasons.push(`provider ${before.provider ?? "default"} -> ${after.provider ?? "default"}`);
  }
  if (reasons.length === 0) return [];
  return [
    {
      kind: "replaces-arc",
      urn: before.urn,
      message: `${what} is replaced (${reasons.join(", ")}): ${consequence}`,
    },
  ];
}

/** What in the change from `before` to `after` AWS refuses, or replaces data or ARC resources. */
export function comparePlans(before: SavedPlan, after: SavedPlan): PlanWarning[] {
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const warnings: PlanWarning[] = [];
  const deployment = after.resources.find((r) => r.type === DEPLOYMENT);
  // Clusters, then panels, then routing controls: each learns whether what it names is replaced.
  const replacedArns = new Set<string>();
  for (const type of Object.keys(ARC_REPLACED_BY)) {
    for (const old of before.resources.filter((r) => r.type === type)) {
      const found = arcWarnings(old, now.get(old.urn), replacedArns);
      if (found.length > 0 && old.arn) replacedArns.add(old.arn);
      warnings.push(...found);
    }
  }
  for (const old of before.resources) {
    const current = now.get(old.urn);
    if (old.type === TABLE) warnings.push(...tableWarnings(old, current));
    else if (old.type === METHOD && !current) {
      warnings.push({
        kind: "stale-route",
        urn: old.urn,
        message:
          `API method ${old.name} is removed: pulumi up deletes it only after the new deployment, ` +
          "so the stage keeps serving it (with no Lambda permission: 500s). After pulumi up, run " +
          `pulumi up --target-replace '${deployment?.urn ?? "<the Deployment's URN>"}' --target-dependents`,
      });
    }
  }
  const order: ChangeKind[] = ["refused", "replaces-data", "replaces-arc", "stale-route"];
  return warnings.sort(
    (a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.urn.localeCompare(b.urn),
  );
}

/** The comparison as people read it. */
export function formatWarnings(file: string, warnings: readonly PlanWarning[]): string {
  const out = [`Changes since ${file} that need care before pulumi up`];
  if (warnings.length === 0) out.push("  none");
  const label: Record<ChangeKind, string> = {
    refused: "AWS REFUSES",
    "replaces-data": "DATA",
    "replaces-arc": "ARC",
    "stale-route": "STALE ROUTE",
  };
  for (const w of warnings) out.push(`  ${label[w.kind]}: ${w.message}`);
  return out.join("\n");
}
