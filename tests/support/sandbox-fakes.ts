/**
 * An in-memory stand-in for a region's DynamoDB tables and streams, to drive the replicator's
 * logic fast and with chosen interleavings. Like DynamoDB, a write that changes nothing adds no
 * stream record; writes take effect after a random delay, and the "poller" hands records to the
 * replicator in order after another random delay, so client and replicated writes race.
 */
import type { TableKey } from "../../functions/tables";
import { fingerprint, type Image } from "../../local/replication-model";
import type { Replicator } from "../../local/replicator";
import {
  keyOf,
  type ChangeRecord,
  type RegionIO,
  type TableIO,
} from "../../local/replicator/region-io";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FakeRegion implements RegionIO {
  readonly items = new Map<TableKey, Map<string, Image>>();
  /** Writes made through `table()` (by the replicator), per table. */
  readonly replicatorWrites: { table: TableKey; image?: Image | undefined }[] = [];
  private readonly backlog = new Map<TableKey, ChangeRecord[]>();
  private draining = new Set<TableKey>();
  streaming = true;

  constructor(
    readonly name: string,
    private readonly replicator: Replicator,
    private readonly maxDelayMs = 3,
  ) {}

  private tableMap(table: TableKey): Map<string, Image> {
    let m = this.items.get(table);
    if (!m) this.items.set(table, (m = new Map()));
    return m;
  }

  private delay(): Promise<void> {
    return sleep(Math.floor(Math.random() * (this.maxDelayMs + 1)));
  }

  /** Applies a write now, as the engine would, and records it in the stream if it changed. */
  private write(table: TableKey, keys: Image, image: Image | undefined): Image | undefined {
    const m = this.tableMap(table);
    const keyId = fingerprint(keys);
    const old = m.get(keyId);
    if (image === undefined) m.delete(keyId);
    else m.set(keyId, image);
    if (fingerprint(old) !== fingerprint(image)) {
      const list = this.backlog.get(table) ?? [];
      list.push({ keys, newImage: image });
      this.backlog.set(table, list);
      void this.drain(table);
    }
    return old;
  }

  private async drain(table: TableKey): Promise<void> {
    if (this.draining.has(table)) return;
    this.draining.add(table);
    try {
      for (;;) {
        await this.delay();
        const list = this.backlog.get(table) ?? [];
        if (list.length === 0) return;
        this.backlog.set(table, []);
        if (this.streaming) this.replicator.ingest(this.name, table, list, Date.now());
      }
    } finally {
      this.draining.delete(table);
    }
  }

  /** Records not yet handed to the replicator. */
  unread(): number {
    let n = 0;
    for (const list of this.backlog.values()) n += list.length;
    return n + this.draining.size;
  }

  /** A client's write in this region. */
  async clientPut(table: TableKey, image: Image): Promise<void> {
    await this.delay();
    this.write(table, keyOf(table, image), image);
  }

  async clientDelete(table: TableKey, keys: Image): Promise<void> {
    await this.delay();
    this.write(table, keys, undefined);
  }

  table(table: TableKey): TableIO {
    return {
      put: async (image) => {
        await this.delay();
        this.replicatorWrites.push({ table, image });
        return this.write(table, keyOf(table, image), image);
      },
      delete: async (keys) => {
        await this.delay();
        this.replicatorWrites.push({ table });
        return this.write(table, keys, undefined);
      },
      scan: async () => [...this.tableMap(table).values()],
      scanPages: async (segments, onPage) => {
        const items = [...this.tableMap(table).values()];
        await Promise.all(
          Array.from({ length: segments }, (_, s) =>
            onPage(items.filter((_, i) => i % segments === s)),
          ),
        );
      },
      putBatch: async (images) => {
        await this.delay();
        for (const image of images) {
          this.replicatorWrites.push({ table, image });
          this.write(table, keyOf(table, image), image);
        }
      },
    };
  }

  /** Contents as sorted fingerprints, to compare regions exactly. */
  snapshot(table: TableKey): string[] {
    return [...this.tableMap(table).values()].map((i) => fingerprint(i)).sort();
  }

  /** Forgets everything, as a DynamoDB Local in memory does when it stops. */
  wipe(): void {
    this.items.clear();
    this.backlog.clear();
  }
}

/** Waits until no fake has unread records and the replicator has nothing in flight. */
export async function settle(
  replicator: Replicator,
  fakes: readonly FakeRegion[],
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 3) {
    if (Date.now() > deadline) throw new Error(`replication did not settle in ${timeoutMs} ms`);
    const busy = replicator.backlog() + fakes.reduce((n, f) => n + f.unread(), 0);
    quiet = busy === 0 ? quiet + 1 : 0;
    await sleep(10);
  }
}
