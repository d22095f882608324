/**
 * Filling a region from a peer, table by table: a refill after a database outage (copies, keeps
 * the region's own newer changes still on their way out, deletes nothing) and a reseed after a
 * region loss (makes the region identical to the peer). Both also take over what the replicator
 * knows of the peer's versions, so last-writer-wins still holds afterwards.
 */
import type { TableKey } from "../../functions/tables";
import { compareVersions, fingerprint, type Image } from "../replication-model";
import { keyOf, type RegionIO } from "./region-io";
import { knownOf, raiseHighWater, type Change, type Direction, type RegionState } from "./state";

/** The newest change per item that `region` made and some region has not applied yet. */
export function outstandingFrom(
  directions: Iterable<Direction>,
  region: string,
  table: TableKey,
): Map<string, Change> {
  const out = new Map<string, Change>();
  for (const d of directions) {
    if (d.from !== region || d.table !== table) continue;
    for (const change of [...d.queue.changes(), ...d.inflightChanges]) {
      const had = out.get(change.keyId);
      if (!had || compareVersions(change.version, had.version) > 0) out.set(change.keyId, change);
    }
  }
  return out;
}

/**
 * Refills one table of `target` from `src` (named `source`): every item in batches from
 * `segments` parallel scan segments, except where `own` (the target's outstanding changes)
 * holds a newer change; those are written instead.
 */
export async function refillTable(
  table: TableKey,
  target: RegionState,
  src: RegionState,
  source: string,
  own: Map<string, Change>,
  segments: number,
): Promise<{ copied: number; own: number }> {
  const io = target.io as RegionIO;
  const srcKnown = knownOf(src, table);
  const known = knownOf(target, table);
  let copied = 0;
  await src.io?.table(table).scanPages(segments, async (items) => {
    const batch: Image[] = [];
    for (const item of items) {
      const keyId = fingerprint(keyOf(table, item));
      const version = srcKnown.get(keyId)?.version ?? { ts: 0, origin: source };
      const mine = own.get(keyId);
      if (mine && compareVersions(mine.version, version) > 0) continue;
      own.delete(keyId);
      batch.push(item);
      known.set(keyId, { version, fp: fingerprint(item), image: item });
      raiseHighWater(target, table, keyId, version.ts);
    }
    await io.table(table).putBatch(batch);
    copied += batch.length;
  });
  for (const change of own.values()) {
    if (change.image !== undefined) await io.table(table).put(change.image);
    else await io.table(table).delete(change.keys);
    known.set(change.keyId, {
      version: change.version,
      fp: change.fp,
      image: change.image,
    });
    raiseHighWater(target, table, change.keyId, change.version.ts);
  }
  return { copied, own: own.size };
}

/** Makes one table of `target` identical to `src`'s (named `source`). */
export async function reseedTable(
  table: TableKey,
  target: RegionState,
  src: RegionState,
  source: string,
): Promise<{ copied: number; deleted: number }> {
  const targetIo = target.io as RegionIO;
  const [fromItems, toItems] = await Promise.all([
    (src.io as RegionIO).table(table).scan(),
    targetIo.table(table).scan(),
  ]);
  const srcKnown = knownOf(src, table);
  const known = knownOf(target, table);
  const have = new Map(toItems.map((i) => [fingerprint(keyOf(table, i)), fingerprint(i)]));
  const wanted = new Set<string>();
  const toPut: Image[] = [];
  for (const item of fromItems) {
    const keyId = fingerprint(keyOf(table, item));
    const fp = fingerprint(item);
    wanted.add(keyId);
    if (have.get(keyId) !== fp) toPut.push(item);
    const version = srcKnown.get(keyId)?.version ?? { ts: 0, origin: source };
    known.set(keyId, { version, fp, image: item });
    raiseHighWater(target, table, keyId, version.ts);
  }
  await targetIo.table(table).putBatch(toPut);
  let deleted = 0;
  for (const item of toItems) {
    const keys = keyOf(table, item);
    if (wanted.has(fingerprint(keys))) continue;
    await targetIo.table(table).delete(keys);
    deleted++;
  }
  return { copied: toPut.length, deleted };
}
