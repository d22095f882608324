/**
 * The sandbox's consistency mode as one object the sandbox calls at fixed points (a database
 * started or stopped, a region back), so `sandbox.ts` stays the same for both modes:
 * - eventual: the replicator copies every table; handlers talk to their DynamoDB Local directly;
 * - strong: the tables whose spec says `strong` go through an MRSC front per region and the
 *   coordinator; the replicator copies only the others (kv keeps its TTL and stays eventual).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  TABLES,
  physicalTableName,
  type ConsistencyMode,
  type TableKey,
} from "../../functions/tables";
import { dynamoRegionIO } from "../streams";
import { MrscCoordinator, type ConsistencyStatus } from "./coordinator";
import { MrscFront } from "./front";
import { planMrscTopology } from "./model";

export type ConsistencyView = { readonly mode: "eventual" } | ConsistencyStatus;

export interface ConsistencyOptions {
  readonly mode: ConsistencyMode;
  readonly regions: readonly string[];
  readonly witnessRegion?: string | undefined;
  readonly writeLatencyMs?: number | undefined;
  /** Strong mode without locks and majority, for tests that show what those prevent. */
  readonly quorum?: boolean | undefined;
  readonly prefix: string;
  readonly onError: (message: string, err: unknown) => void;
}

export interface ConsistencyRuntime {
  readonly mode: ConsistencyMode;
  /** Tables the asynchronous replicator copies. */
  readonly replicatedTables: readonly TableKey[];
  readonly coordinator?: MrscCoordinator | undefined;
  start(): Promise<void>;
  /** The endpoint a region's handlers use. */
  dynamoEndpoint(region: string, dbEndpoint: string): string;
  /** A region's database is up with its tables (it serves strong tables after `catchUp`). */
  attach(
    region: string,
    endpoint: string,
    client: DynamoDBClient,
    names: Record<TableKey, string>,
  ): void;
  detach(region: string): void;
  /** Brings a region's strong tables up to date; a line for the log, if there is news. */
  catchUp(region: string): Promise<string | undefined>;
  view(): ConsistencyView;
  setWitness(up: boolean): void;
  stop(): Promise<void>;
}

const EVENTUAL: ConsistencyRuntime = {
  mode: "eventual",
  replicatedTables: TABLES.map((t) => t.key),
  start: () => Promise.resolve(),
  dynamoEndpoint: (_region, dbEndpoint) => dbEndpoint,
  attach: () => undefined,
  detach: () => undefined,
  catchUp: () => Promise.resolve(undefined),
  view: () => ({ mode: "eventual" }),
  setWitness: () => {
    throw new Error("the sandbox runs with --consistency eventual: there is no witness");
  },
  stop: () => Promise.resolve(),
};

/** Checks the options (throws naming what MRSC refuses) and builds the mode's runtime. */
export function consistencyRuntime(opts: ConsistencyOptions): ConsistencyRuntime {
  if (opts.mode === "eventual") {
    if (opts.witnessRegion !== undefined)
      throw new Error("a witness region needs strong consistency (--consistency strong)");
    return EVENTUAL;
  }
  const topology = planMrscTopology(opts.regions, opts.witnessRegion);
  const strongSpecs = TABLES.filter((t) => t.strong);
  const coordinator = new MrscCoordinator({
    topology,
    strong: new Map(strongSpecs.map((t) => [physicalTableName(opts.prefix, t.key), t.key])),
    ...(opts.writeLatencyMs !== undefined ? { writeLatencyMs: opts.writeLatencyMs } : {}),
    ...(opts.quorum !== undefined ? { quorum: opts.quorum } : {}),
    onError: opts.onError,
  });
  const fronts = new Map(opts.regions.map((r) => [r, new MrscFront(r, coordinator, opts.onError)]));
  const front = (region: string): MrscFront => {
    const f = fronts.get(region);
    if (!f) throw new Error(`unknown region ${region}`);
    return f;
  };
  return {
    mode: "strong",
    replicatedTables: TABLES.filter((t) => !t.strong).map((t) => t.key),
    coordinator,
    start: async () => {
      await Promise.all([...fronts.values()].map((f) => f.start()));
    },
    dynamoEndpoint: (region) => front(region).url,
    attach: (region, endpoint, client, names) =>
      coordinator.attach(region, { endpoint, client, names, io: dynamoRegionIO(client, names) }),
    detach: (region) => coordinator.markDown(region),
    catchUp: async (region) => {
      const { copied, deleted, source } = await coordinator.catchUp(region);
      if (source === undefined) return undefined;
      return `${region}: strong tables caught up from ${source} (${copied} items${deleted > 0 ? `, ${deleted} removed` : ""})`;
    },
    view: () => coordinator.status(),
    setWitness: (up) => coordinator.setWitness(up),
    stop: async () => {
      await Promise.allSettled([...fronts.values()].map((f) => f.stop()));
    },
  };
}
