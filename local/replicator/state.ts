/**
 * What the replicator keeps per region and per direction: the version and content it last saw
 * of each item, the writes of its own whose stream records (echoes) it still expects, each
 * item's high-water version, and each direction's queue and counters.
 */
import type { TableKey } from "../../functions/tables";
import type { Image, Version } from "../replication-model";
import { Ring } from "../stats";
import { DueQueue } from "./due-queue";
import type { RegionIO } from "./region-io";

/** A local change on its way to the other regions. */
export interface Change {
  readonly table: TableKey;
  readonly keyId: string;
  readonly keys: Image;
  readonly image?: Image | undefined;
  readonly fp: string;
  readonly version: Version;
}

/** The version and content of an item last seen in a region. */
export interface Known {
  readonly version: Version;
  readonly fp: string;
  readonly image?: Image | undefined;
}

/** A write the replicator made whose stream record it has not read yet. */
export interface Expectation {
  readonly fp: string;
  readonly version: Version;
  /** The content written (undefined: a delete). */
  readonly image?: Image | undefined;
}

export interface LagSample {
  readonly at: number;
  readonly ms: number;
}

/** Replication from one region to another, for one table. */
export interface Direction {
  readonly from: string;
  readonly to: string;
  readonly table: TableKey;
  /** Changes waiting, by due time (then arrival). */
  readonly queue: DueQueue;
  inflight: number;
  /** The changes counted in `inflight`. */
  readonly inflightChanges: Set<Change>;
  /** Due time of the last change queued per item, so a later change never overtakes. */
  readonly lastDue: Map<string, number>;
  timer?: NodeJS.Timeout | undefined;
  readonly lags: Ring<LagSample>;
  applied: number;
  skipped: number;
  dropped: number;
  lastLagMs?: number;
}

export interface RegionState {
  io?: RegionIO;
  up: boolean;
  readonly known: Map<TableKey, Map<string, Known>>;
  readonly pending: Map<TableKey, Map<string, Expectation[]>>;
  /** Newest version ever associated with each item here: a client write here is newer still. */
  readonly highWater: Map<TableKey, Map<string, number>>;
  /** Per item, the tail of the writes to it in this region (see `runOnKey`). */
  readonly chains: Map<string, Promise<unknown>>;
  waiters: (() => void)[];
  echoes: number;
  repairs: number;
}

export function newRegionState(tables: readonly TableKey[]): RegionState {
  return {
    up: false,
    known: new Map(tables.map((t) => [t, new Map()])),
    pending: new Map(tables.map((t) => [t, new Map()])),
    highWater: new Map(tables.map((t) => [t, new Map()])),
    chains: new Map(),
    waiters: [],
    echoes: 0,
    repairs: 0,
  };
}

export function newDirection(
  from: string,
  to: string,
  table: TableKey,
  keepSamples: number,
): Direction {
  return {
    from,
    to,
    table,
    queue: new DueQueue(),
    inflight: 0,
    inflightChanges: new Set(),
    lastDue: new Map(),
    lags: new Ring(keepSamples),
    applied: 0,
    skipped: 0,
    dropped: 0,
  };
}

export function dirId(from: string, to: string, table: string): string {
  return `${from}>${to}>${table}`;
}

export function knownOf(r: RegionState, table: TableKey): Map<string, Known> {
  const m = r.known.get(table);
  if (!m) throw new Error(`unknown table ${table}`);
  return m;
}

export function highWaterOf(r: RegionState, table: TableKey): Map<string, number> {
  const m = r.highWater.get(table);
  if (!m) throw new Error(`unknown table ${table}`);
  return m;
}

export function raiseHighWater(r: RegionState, table: TableKey, keyId: string, ts: number): void {
  const m = highWaterOf(r, table);
  if ((m.get(keyId) ?? -1) < ts) m.set(keyId, ts);
}

export function pendingOf(r: RegionState, table: TableKey): Map<string, Expectation[]> {
  const m = r.pending.get(table);
  if (!m) throw new Error(`unknown table ${table}`);
  return m;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
