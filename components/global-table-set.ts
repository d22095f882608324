import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { eventualWitnessProblem, mrscProblems } from "./mrsc";
import { assertPeerRegions, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";

/** How the set's global tables replicate. */
export const TableConsistency = {
  /** Multi-Region eventual consistency (MREC): any region writes, last writer wins. */
  Eventual: "eventual",
  /** Multi-Region strong consistency (MRSC) for the tables whose spec says `strong`. */
  Strong: "strong",
} as const;
export type TableConsistency = (typeof TableConsistency)[keyof typeof TableConsistency];

/** What GlobalTableSet uses for each optional argument left unset. */
export const GLOBAL_TABLE_SET_DEFAULTS = {
  deletionProtection: true,
  pointInTimeRecovery: true,
  consistency: TableConsistency.Eventual,
} as const;

/** Table ARNs (or stream ARNs) by region, then by logical table. */
export type RegionalTableMap = Record<string, Record<string, string>>;

/** One table of the set: its logical name, its key and how it replicates. */
export interface TableSpec {
  /** Logical name; the physical name is `${namePrefix}-${key}` in every region. */
  key: string;
  /** Partition key attribute (a string); the tables have no sort key. */
  hashKey: string;
  /** Attribute DynamoDB uses for time-to-live expiry. @default none (no expiry) */
  ttlAttribute?: string;
  /**
   * Whether the table needs multi-Region strong consistency: with consistency `strong` it becomes
   * an MRSC global table; otherwise (and always when false) it stays eventual. @default false
   */
  strong?: boolean;
}

/** A table's physical name under a name prefix: the same in every region. */
export function physicalTableName(namePrefix: string, key: string): string {
  return `${namePrefix}-${key}`;
}

/** Arguments of GlobalTableSet. */
export interface GlobalTableSetArgs {
  /** Region of the tables themselves (the stack's region). Plain value. */
  region: string;
  /** Regions that get a replica of every table. Plain values; must not contain `region`. */
  replicaRegions: string[];
  /** Physical names are `${namePrefix}-${table.key}`; identical in every region. */
  namePrefix: string;
  /** The tables to create: at least one, keys distinct. Plain value. */
  tables: TableSpec[];
  /** Deletion protection on every table and replica. @default true */
  deletionProtection?: boolean;
  /** Point-in-time recovery on every table and replica. @default true */
  pointInTimeRecovery?: boolean;
  /**
   * Customer-managed KMS key per region (the home region and every replica region). When unset,
   * tables are encrypted with the AWS-managed key `aws/dynamodb` of each region.
   * @default undefined
   */
  kmsKeyArns?: Record<string, pulumi.Input<string>>;
  /** Tags on every table, propagated to replicas. */
  tags?: Record<string, string>;
  /**
   * `strong`: the tables whose spec says `strong` become MRSC global tables (the others stay
   * eventual). MRSC takes exactly three regions in one MRSC Region set: `region` and two
   * replicaRegions, or one replica region and `witnessRegion`. A table's mode is fixed at creation
   * and MRSC needs empty tables: switching a deployed set replaces its tables (see
   * docs/consistency-migration.md). Plain value. @default "eventual"
   */
  consistency?: TableConsistency;
  /**
   * The MRSC witness region: only with consistency `strong` and exactly one replica region; a
   * third region of the same MRSC Region set. Plain value. @default undefined
   */
  witnessRegion?: string;
}

/** Throws unless `tables` lists at least one table, each with a key and hash key, keys distinct. */
function validateTableSpecs(tables: unknown): asserts tables is TableSpec[] {
  if (!Array.isArray(tables) || tables.length === 0) {
    throw new Error(
      `tables must list at least one table spec ({ key, hashKey, ttlAttribute?, strong? }): got ${JSON.stringify(tables)}`,
    );
  }
  const keys = new Set<string>();
  for (const t of tables as TableSpec[]) {
    for (const field of ["key", "hashKey"] as const) {
      if (typeof t?.[field] !== "string" || t[field] === "") {
        throw new Error(`tables: every table needs a non-empty ${field}: got ${JSON.stringify(t)}`);
      }
    }
    if (keys.has(t.key)) throw new Error(`duplicate table ${t.key} in tables`);
    keys.add(t.key);
  }
}

/** Checks GlobalTableSetArgs before any resource exists. */
export function validateGlobalTableSetArgs(args: GlobalTableSetArgs): void {
  assertPlain("region", args.region);
  assertPlain("replicaRegions", args.replicaRegions);
  assertRegion("region", args.region);
  // No replica region is a single-region set: the same tables become global later by listing
  // replica regions (AWS adds a replica to a table in place).
  if (!Array.isArray(args.replicaRegions)) {
    throw new Error(
      `replicaRegions must be a list of regions: got ${JSON.stringify(args.replicaRegions)}`,
    );
  }
  assertPeerRegions("replicaRegions", args.region, args.replicaRegions);
  assertPlain("tables", args.tables);
  validateTableSpecs(args.tables);
  const tables = args.tables;
  assertPlain("consistency", args.consistency);
  assertPlain("witnessRegion", args.witnessRegion);
  const consistency = args.consistency ?? GLOBAL_TABLE_SET_DEFAULTS.consistency;
  if (consistency !== TableConsistency.Eventual && consistency !== TableConsistency.Strong) {
    throw new Error(
      `consistency must be eventual or strong: got ${JSON.stringify(args.consistency)}`,
    );
  }
  if (args.witnessRegion !== undefined) assertRegion("witnessRegion", args.witnessRegion);
  const problems =
    consistency === TableConsistency.Strong
      ? mrscProblems({
          region: args.region,
          replicaRegions: args.replicaRegions,
          witnessRegion: args.witnessRegion,
          strongTablesWithTtl: tables.filter((t) => t.strong && t.ttlAttribute).map((t) => t.key),
        })
      : eventualWitnessProblem(args.witnessRegion);
  if (problems.length) {
    throw new Error(
      `GlobalTableSet cannot build this layout: ${problems.map((p) => `${p.key}: ${p.message}`).join("; ")}`,
    );
  }
  if (args.kmsKeyArns) {
    for (const r of [args.region, ...args.replicaRegions]) {
      if (!(r in args.kmsKeyArns)) {
        throw new Error(`kmsKeyArns must name a key for every region: missing ${r}`);
      }
    }
  }
}

/**
 * A set of DynamoDB global tables (version 2019.11.21): one table per spec in the home region with
 * a replica in each peer region, on-demand billing, streams with new and old images, server-side
 * encryption with KMS, point-in-time recovery and deletion protection on the table and on every
 * replica.
 */
export class GlobalTableSet extends pulumi.ComponentResource {
  /** Physical table names by logical table; the same in every region. */
  readonly tableNames: pulumi.Output<Record<string, string>>;
  /** Table ARNs by region (home and replicas), then by logical table. */
  readonly tableArns: pulumi.Output<RegionalTableMap>;
  /** Stream ARNs by region, then by logical table. */
  readonly streamArns: pulumi.Output<RegionalTableMap>;
  /** Every region that holds the tables, home first. */
  readonly regions: string[];
  /** `eventual` or `strong`, as built. */
  readonly consistency: TableConsistency;
  /** The logical tables built as MRSC global tables (none in eventual mode). */
  readonly strongTables: string[];
  /** The table resources, by logical table. */
  readonly tables: Record<string, aws.dynamodb.Table>;

  constructor(name: string, args: GlobalTableSetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("GlobalTableSet"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:data:GlobalTableSet"),
    );
    validateGlobalTableSetArgs(args);

    const specs = args.tables;
    const deletionProtection =
      args.deletionProtection ?? GLOBAL_TABLE_SET_DEFAULTS.deletionProtection;
    const pitr = args.pointInTimeRecovery ?? GLOBAL_TABLE_SET_DEFAULTS.pointInTimeRecovery;
    const consistency = args.consistency ?? GLOBAL_TABLE_SET_DEFAULTS.consistency;
    this.regions = [args.region, ...args.replicaRegions];
    this.consistency = consistency;
    const strongKeys: string[] = [];

    const tables: Record<string, aws.dynamodb.Table> = {};
    for (const spec of specs) {
      const strong = consistency === TableConsistency.Strong && spec.strong === true;
      if (strong) strongKeys.push(spec.key);
      tables[spec.key] = new aws.dynamodb.Table(
        `${name}-${spec.key}`,
        {
          region: args.region,
          name: physicalTableName(args.namePrefix, spec.key),
          billingMode: "PAY_PER_REQUEST",
          hashKey: spec.hashKey,
          attributes: [{ name: spec.hashKey, type: "S" }],
          streamEnabled: true,
          streamViewType: "NEW_AND_OLD_IMAGES",
          pointInTimeRecovery: { enabled: pitr },
          deletionProtectionEnabled: deletionProtection,
          serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArns?.[args.region] },
          ttl: spec.ttlAttribute ? { attributeName: spec.ttlAttribute, enabled: true } : undefined,
          replicas: args.replicaRegions.map((regionName) => ({
            regionName,
            pointInTimeRecovery: pitr,
            deletionProtectionEnabled: deletionProtection,
            kmsKeyArn: args.kmsKeyArns?.[regionName],
            propagateTags: true,
            ...(strong ? { consistencyMode: "STRONG" } : {}),
          })),
          ...(strong && args.witnessRegion !== undefined
            ? { globalTableWitness: { regionName: args.witnessRegion } }
            : {}),
          tags: args.tags,
        },
        { parent: this },
      );
    }
    this.tables = tables;
    this.strongTables = strongKeys;

    const entries = specs.map((s) => [s.key, tables[s.key] as aws.dynamodb.Table] as const);
    this.tableNames = pulumi.all(
      Object.fromEntries(entries.map(([key, t]) => [key, t.name])),
    ) as pulumi.Output<Record<string, string>>;

    const byRegion = (pick: (t: aws.dynamodb.Table) => pulumi.Output<Record<string, string>>) =>
      pulumi
        .all(entries.map(([key, t]) => pick(t).apply((m) => [key, m] as const)))
        .apply((pairs) => {
          const out: RegionalTableMap = {};
          for (const region of this.regions) {
            out[region] = {};
            for (const [key, m] of pairs) {
              const value = m[region];
              if (!value) throw new Error(`table ${key} reports no ARN for region ${region}`);
              out[region][key] = value;
            }
          }
          return out;
        });

    this.tableArns = byRegion((t) =>
      pulumi.all([t.arn, t.replicas]).apply(([arn, replicas]) => ({
        [args.region]: arn,
        ...Object.fromEntries((replicas ?? []).map((r) => [r.regionName, r.arn])),
      })),
    );
    this.streamArns = byRegion((t) =>
      pulumi.all([t.streamArn, t.replicas]).apply(([arn, replicas]) => ({
        [args.region]: arn,
        ...Object.fromEntries((replicas ?? []).map((r) => [r.regionName, r.streamArn])),
      })),
    );

    this.registerOutputs({
      tableNames: this.tableNames,
      tableArns: this.tableArns,
      streamArns: this.streamArns,
    });
  }
}
