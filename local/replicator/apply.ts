/**
 * Applying a change to a peer region: a PutItem or DeleteItem, one item at a time in the order of
 * the writes to it, last writer wins by version. Before writing, the content is remembered as an
 * expectation so that its stream record is recognised as the echo and not replicated again.
 */
import { compareVersions, fingerprint, newest, type Image } from "../replication-model";
import type { RegionIO } from "./region-io";
import {
  knownOf,
  pendingOf,
  raiseHighWater,
  type Change,
  type Expectation,
  type RegionState,
} from "./state";

const MAX_EXPECTATIONS_PER_KEY = 32;
/** Contents a conditional replicated write accepts at most (DynamoDB caps expression sizes). */
const MAX_CONDITION_CANDIDATES = 4;

/** Runs `fn` after every earlier write to the same item of the same region: per-item order. */
export function runOnKey<T>(r: RegionState, change: Change, fn: () => Promise<T>): Promise<T> {
  const id = `${change.table}\u0000${change.keyId}`;
  const before = r.chains.get(id) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  r.chains.set(id, tail);
  void tail.then(() => {
    if (r.chains.get(id) === tail) r.chains.delete(id);
  });
  return run;
}

/** Drops `expectation` from the item's list: no stream record will come for it. */
function settle(
  pending: Map<string, Expectation[]>,
  keyId: string,
  list: Expectation[],
  expectation: Expectation,
): void {
  const i = list.indexOf(expectation);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0 && pending.get(keyId) === list) pending.delete(keyId);
}

/**
 * Writes `change` to the region `r` (which is up) once: "skipped" when the region already holds a
 * newer version or a client's write not read from its stream yet.
 */
export async function applyOnce(r: RegionState, change: Change): Promise<"applied" | "skipped"> {
  const known = knownOf(r, change.table);
  const pending = pendingOf(r, change.table);
  const list = pending.get(change.keyId) ?? [];
  let current = known.get(change.keyId)?.version;
  for (const e of list) current = newest(current, e.version);
  if (current && compareVersions(current, change.version) > 0) return "skipped";

  // What the item can hold if no client wrote it since: what we saw, or one of our own writes
  // whose record is not read yet (or that failed). Too many of those: write unconditionally.
  const knownHere = known.get(change.keyId);
  const candidates =
    knownHere === undefined || list.length > MAX_CONDITION_CANDIDATES
      ? undefined
      : [knownHere.image, ...list.map((e) => e.image)];
  // Remember the content before writing: the stream record can arrive before the call returns.
  const expectation: Expectation = {
    fp: change.fp,
    version: change.version,
    image: change.image,
  };
  raiseHighWater(r, change.table, change.keyId, change.version.ts);
  list.push(expectation);
  if (list.length > MAX_EXPECTATIONS_PER_KEY)
    list.splice(0, list.length - MAX_EXPECTATIONS_PER_KEY);
  pending.set(change.keyId, list);
  const io = (r.io as RegionIO).table(change.table);
  // On an error the expectation stays: the write may have happened, and if its echo then came
  // back as a "client write" it would be replicated with a fresh, wrongly newer, version.
  let old: Image | undefined;
  if (change.image !== undefined && candidates !== undefined && io.putIf) {
    const out = await io.putIf(change.image, candidates);
    if (out === "conflict") {
      // A client wrote the item and its record is not read yet: it gets a version newer than
      // this change when it is, so last-writer-wins keeps it. No write, no echo to wait for.
      settle(pending, change.keyId, list, expectation);
      return "skipped";
    }
    old = out.old;
  } else {
    old = change.image !== undefined ? await io.put(change.image) : await io.delete(change.keys);
  }
  if (fingerprint(old) === change.fp) {
    // Nothing changed, so no stream record will come: settle the expectation now.
    settle(pending, change.keyId, list, expectation);
    const k = known.get(change.keyId);
    if (!k || compareVersions(change.version, k.version) > 0) {
      known.set(change.keyId, { version: change.version, fp: change.fp, image: change.image });
    }
  }
  return "applied";
}
