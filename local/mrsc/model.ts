/**
 * What the sandbox's multi-Region strong consistency (MRSC) plays, as pure data and checks: the
 * topologies DynamoDB accepts, the quorum arithmetic, and the cross-Region write latency.
 *
 * Limits (see docs/ and issues' contracts):
 * - three replicas, or two replicas and one witness; the witness in another Region of the same
 *   Region set (US, EU, AP): DynamoDB API reference, CreateGlobalTableWitnessGroupMemberAction,
 *   https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateGlobalTableWitnessGroupMemberAction.html
 * - the witness is neither read nor written: AWS SDK code examples, "Create and manage DynamoDB
 *   global tables with Multi-Region Strong Consistency".
 */

/** The Region sets an MRSC global table may span (all members in one set). */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ["us-east-1", "us-east-2", "us-west-2"],
  EU: ["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
  AP: ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
};

/** Members of an MRSC global table: replicas plus the witness, if any. */
export const MRSC_MEMBERS = 3;

/**
 * Added to every write of a strong table before it is acknowledged: the round trip to the other
 * members. AWS publishes no MRSC write-latency figure we could find (the global tables tutorial
 * says only "slightly higher write latencies" than MREC); 20 ms is about one round trip between
 * the nearby Regions of one Region set (us-east-1 <-> us-east-2), which a majority write needs.
 */
export const DEFAULT_MRSC_WRITE_LATENCY_MS = 20;
export const MAX_MRSC_WRITE_LATENCY_MS = 10_000;

export interface MrscTopology {
  readonly replicas: readonly string[];
  /** Absent with three replicas. */
  readonly witness?: string | undefined;
}

/** The Region set holding `region`, or undefined. */
export function regionSetOf(region: string): string | undefined {
  return Object.keys(MRSC_REGION_SETS).find((set) =>
    (MRSC_REGION_SETS[set] as readonly string[]).includes(region),
  );
}

/**
 * Checks a topology the way DynamoDB does and fills in the default witness: with two replicas
 * and no witness given, the first Region of their set that is not a replica. Throws an Error
 * naming what is wrong.
 */
export function planMrscTopology(replicas: readonly string[], witness?: string): MrscTopology {
  const count = replicas.length + (witness !== undefined ? 1 : 0);
  if (replicas.length === 3 && witness !== undefined) {
    throw new Error(
      `strong consistency takes three replicas or two replicas and a witness: got 3 regions (${replicas.join(", ")}) and witness ${witness}`,
    );
  }
  if (replicas.length < 2 || replicas.length > 3 || (replicas.length === 2 && count > 3)) {
    throw new Error(
      `strong consistency takes three replicas or two replicas and a witness: got ${replicas.length} regions (${replicas.join(", ")})`,
    );
  }
  const set = regionSetOf(replicas[0] as string);
  const members = [...replicas, ...(witness !== undefined ? [witness] : [])];
  for (const r of members) {
    if (regionSetOf(r) === undefined || regionSetOf(r) !== set) {
      throw new Error(
        `strong consistency keeps every member in one Region set (${Object.entries(MRSC_REGION_SETS)
          .map(([k, v]) => `${k}: ${v.join(", ")}`)
          .join("; ")}): ${r} is not in the set of ${replicas[0]}`,
      );
    }
  }
  if (witness !== undefined && replicas.includes(witness)) {
    throw new Error(`the witness region must differ from the replicas: got ${witness}`);
  }
  if (replicas.length === 3) return { replicas };
  const chosen =
    witness ??
    (MRSC_REGION_SETS[set as string] as readonly string[]).find((r) => !replicas.includes(r));
  return { replicas, witness: chosen };
}

/** Writes a majority needs: 2 of 3. */
export function majority(members: number): number {
  return Math.floor(members / 2) + 1;
}

export interface MemberState {
  readonly name: string;
  readonly role: "replica" | "witness";
  readonly up: boolean;
}

/** Why a write cannot be acknowledged now, or undefined when a majority is reachable. */
export function quorumRefusal(members: readonly MemberState[]): string | undefined {
  const up = members.filter((m) => m.up);
  const need = majority(members.length);
  if (up.length >= need) return undefined;
  return (
    `strong consistency: ${up.length} of ${members.length} members reachable` +
    ` (${up.map((m) => m.name).join(", ") || "none"}); a write needs ${need}`
  );
}
