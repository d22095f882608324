/**
 * Whether replication has settled: the replicator's backlog, and the running regions' tables
 * compared item by item (by key, then by exact content) against the first running region's.
 * Waiting for it is `Replicator.waitIdle` (backlog) or polling `convergence()` with a bound.
 */
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { TABLE_KEYS, type TableKey } from "../../functions/tables";
import type { Convergence } from "../global-endpoint/sandbox-hooks";
import { fingerprint, type Image } from "../replication-model";
import { keyOf } from "../replicator/region-io";
import type { RegionRuntime } from "./region-runtime";

type Difference = Convergence["differences"][number];

/** Every item of a region's table, raw, strongly consistent; throws while its database is down. */
export function scanImages(r: RegionRuntime, table: TableKey): Promise<Image[]> {
  return r.io().table(table).scan();
}

/** Items of a region's table, unmarshalled, straight from its database. */
export async function scanItems(
  r: RegionRuntime,
  table: TableKey,
): Promise<Record<string, unknown>[]> {
  return (await scanImages(r, table)).map((i) => unmarshall(i));
}

/** A region's table as item key fingerprint -> item fingerprint. */
async function byKey(r: RegionRuntime, table: TableKey): Promise<Map<string, string>> {
  return new Map(
    (await scanImages(r, table)).map((i) => [fingerprint(keyOf(table, i)), fingerprint(i)]),
  );
}

/** How `other` differs from the reference copy `ref` of `table`; undefined when identical. */
function difference(
  table: TableKey,
  region: string,
  ref: Map<string, string>,
  got: Map<string, string>,
): Difference | undefined {
  let missing = 0;
  let differing = 0;
  for (const [k, fp] of ref) {
    const g = got.get(k);
    if (g === undefined) missing++;
    else if (g !== fp) differing++;
  }
  const extra = [...got.keys()].filter((k) => !ref.has(k)).length;
  return missing + extra + differing > 0 ? { table, region, missing, extra, differing } : undefined;
}

/**
 * Compares every table of the regions whose database runs with the first of them; `backlog` is
 * read once the comparison is done.
 */
export async function convergence(
  regions: readonly RegionRuntime[],
  backlog: () => number,
): Promise<Convergence> {
  const running = regions.filter((r) => r.db !== undefined);
  const differences: Difference[] = [];
  const [reference, ...others] = running;
  if (reference !== undefined) {
    for (const table of TABLE_KEYS) {
      const ref = await byKey(reference, table);
      for (const other of others) {
        const found = difference(table, other.name, ref, await byKey(other, table));
        if (found) differences.push(found);
      }
    }
  }
  return { backlog: backlog(), identical: differences.length === 0, differences };
}
