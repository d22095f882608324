/**
 * What DynamoDB multi-Region strong consistency (MRSC) allows, as pure checks shared by
 * GlobalTableSet and the program's config validation. Each limit is cited in docs/mrsc-limits.md.
 */

/**
 * The Region sets of MRSC: every replica and the witness of one MRSC global table belong to one
 * set (CloudFormation AWS::DynamoDB::GlobalTable GlobalTableWitness; DynamoDB API
 * CreateGlobalTableWitnessGroupMemberAction).
 */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ["us-east-1", "us-east-2", "us-west-2"],
  EU: ["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
  AP: ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
};

/** An MRSC global table has exactly three members: three replicas, or two and a witness. */
export const MRSC_MEMBERS = 3;

/** The MRSC Region set a region belongs to, or undefined. */
export function mrscRegionSet(region: string): string | undefined {
  return Object.entries(MRSC_REGION_SETS).find(([, regions]) => regions.includes(region))?.[0];
}

function describeSets(): string {
  return Object.entries(MRSC_REGION_SETS)
    .map(([set, regions]) => `${set}: ${regions.join(", ")}`)
    .join("; ");
}

/** One problem with an MRSC layout, and the argument (or config key) it is about. */
export interface MrscProblem {
  /** `replicaRegions`, `witnessRegion`, `tables` or `consistency`. */
  readonly key: "replicaRegions" | "witnessRegion" | "tables" | "consistency";
  readonly message: string;
}

export interface MrscLayout {
  /** The tables' home region. */
  readonly region: string;
  readonly replicaRegions: readonly string[];
  readonly witnessRegion?: string;
  /** Strong tables that declare a time-to-live attribute (MRSC has no TTL). */
  readonly strongTablesWithTtl?: readonly string[];
}

/**
 * What MRSC refuses in a layout: a member count other than 3 (home region, replicas and witness),
 * a witness that is also a replica or that comes with three replicas, members outside one Region
 * set, and strong tables with time to live. Empty when the layout is valid.
 */
export function mrscProblems(layout: MrscLayout): MrscProblem[] {
  const problems: MrscProblem[] = [];
  const replicas = [layout.region, ...layout.replicaRegions];
  const witness = layout.witnessRegion;
  if (witness !== undefined && replicas.includes(witness)) {
    problems.push({
      key: "witnessRegion",
      message: `${witness} is also a replica region (${replicas.join(", ")}); the witness must be a third region`,
    });
  }
  const members = [...replicas, ...(witness !== undefined ? [witness] : [])];
  if (replicas.length === 2 && witness === undefined) {
    problems.push({
      key: "witnessRegion",
      message: `is required when consistency is strong with two replica regions (${replicas.join(", ")}): MRSC takes three replicas, or two replicas and a witness in a third region of their Region set`,
    });
  } else if (replicas.length >= MRSC_MEMBERS && witness !== undefined) {
    problems.push({
      key: "witnessRegion",
      message: `only with two replica regions; ${replicas.length} replicas (${replicas.join(", ")}) take no witness`,
    });
  } else if (members.length !== MRSC_MEMBERS) {
    problems.push({
      key: "replicaRegions",
      message: `consistency strong takes exactly ${MRSC_MEMBERS} regions (three replicas, or two and witnessRegion): got ${members.length} (${members.join(", ")})`,
    });
  }
  const sets = new Set(members.map((r) => mrscRegionSet(r) ?? `none (${r})`));
  if (sets.size > 1 || [...sets].some((s) => s.startsWith("none"))) {
    const outside = members.filter((r) => mrscRegionSet(r) === undefined);
    const replicaSets = new Set(replicas.map((r) => mrscRegionSet(r) ?? r));
    problems.push({
      // Blame the witness only when the replicas alone would fit one set.
      key:
        witness !== undefined && replicaSets.size === 1 && mrscRegionSet(replicas[0] ?? "")
          ? "witnessRegion"
          : "replicaRegions",
      message:
        `the regions of an MRSC table must be in one MRSC Region set: got ${members.join(", ")}` +
        (outside.length ? ` (${outside.join(", ")} in none)` : "") +
        `; the sets are ${describeSets()}`,
    });
  }
  for (const table of layout.strongTablesWithTtl ?? []) {
    problems.push({
      key: "tables",
      message: `table ${table} has a time-to-live attribute and strong set: MRSC tables do not support time to live; keep it eventual (strong: false)`,
    });
  }
  return problems;
}

/** A witness in eventual mode is a mistake: MREC tables have no witness. */
export function eventualWitnessProblem(witnessRegion: string | undefined): MrscProblem[] {
  return witnessRegion === undefined
    ? []
    : [
        {
          key: "witnessRegion",
          message: `${witnessRegion} given, but consistency is eventual: only MRSC (consistency strong) tables have a witness`,
        },
      ];
}
