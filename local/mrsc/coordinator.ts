/**
 * The sandbox's multi-Region strong consistency (MRSC) for the tables whose spec says `strong`.
 * Every region's DynamoDB traffic goes through a front (./front.ts) that hands it here. A write
 * to a strong table:
 *   1. is refused with a 503 `ServiceUnavailable` when fewer than a majority of members (replicas
 *      and witness) are reachable, saying how many are;
 *   2. takes the item's lock; an item another region is writing now fails the write with
 *      `ReplicatedWriteConflictException`, as DynamoDB does (a write from the same region waits);
 *   3. waits the cross-region write latency, runs on the region's own replica (conditions decide
 *      there: every live replica holds the same items), and copies the item's result to every
 *      other live replica before it is acknowledged.
 * Reads go to the region's own replica, which holds every acknowledged write. A replica that
 * comes back copies the strong tables from a live one (`catchUp`) while writes wait.
 */
import { GetItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { TableKey } from "../../functions/tables";
import type { Image } from "../replication-model";
import type { RegionIO } from "../replicator/region-io";
import {
  DEFAULT_MRSC_WRITE_LATENCY_MS,
  majority,
  quorumRefusal,
  type MemberState,
  type MrscTopology,
} from "./model";
import {
  REPLICATED_WRITE_CONFLICT_MESSAGE,
  classify,
  dynamoError,
  forward,
  itemWrite as itemWriteOf,
  refusal,
  unprocessedIds,
  type DynamoAnswer,
  type ItemWrite,
} from "./protocol";

/** One region's replica: its DynamoDB Local endpoint, a client and the replicator's writes. */
export interface ReplicaStore {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly io: RegionIO;
  readonly names: Readonly<Record<TableKey, string>>;
}

export interface CoordinatorOptions {
  readonly topology: MrscTopology;
  /** Strong tables by physical name. */
  readonly strong: ReadonlyMap<string, TableKey>;
  /** @default DEFAULT_MRSC_WRITE_LATENCY_MS */
  readonly writeLatencyMs?: number;
  /**
   * Off only to show what the guarantees rest on: a write is acknowledged after its own region
   * has it and reaches the others after the write latency, with no lock and no majority.
   * @default true
   */
  readonly quorum?: boolean;
  readonly onError?: (message: string, err: unknown) => void;
}

export interface ConsistencyStatus {
  readonly mode: "strong";
  readonly writeLatencyMs: number;
  readonly quorum: boolean;
  readonly majority: number;
  readonly members: readonly MemberState[];
  readonly writable: boolean;
  /** Why writes are refused, when they are. */
  readonly refusal?: string | undefined;
  readonly conflicts: number;
  readonly refused: number;
}

interface Lock {
  readonly origin: string;
  tail: Promise<void>;
  holders: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class MrscCoordinator {
  readonly topology: MrscTopology;
  readonly writeLatencyMs: number;
  private readonly quorum: boolean;
  private readonly strong: ReadonlyMap<string, TableKey>;
  private readonly stores = new Map<string, ReplicaStore>();
  private readonly live = new Set<string>();
  private witnessUp = true;
  private readonly locks = new Map<string, Lock>();
  private barrier: Promise<void> | undefined;
  private inflight = 0;
  private idle: (() => void)[] = [];
  private conflicts = 0;
  private refused = 0;
  private readonly onError: (message: string, err: unknown) => void;

  constructor(opts: CoordinatorOptions) {
    this.topology = opts.topology;
    this.strong = opts.strong;
    this.writeLatencyMs = opts.writeLatencyMs ?? DEFAULT_MRSC_WRITE_LATENCY_MS;
    this.quorum = opts.quorum ?? true;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** A region's replica is running (not yet serving: `markLive` or `catchUp` next). */
  attach(region: string, store: ReplicaStore): void {
    this.replicaName(region);
    this.stores.set(region, store);
  }

  markLive(region: string): void {
    if (!this.stores.has(region)) throw new Error(`${region} has no replica attached`);
    this.live.add(region);
  }

  /** The region's replica is gone (stopped or failed): it holds nothing until it catches up. */
  markDown(region: string): void {
    this.live.delete(region);
    this.stores.delete(region);
  }

  isLive(region: string): boolean {
    return this.live.has(region);
  }

  setWitness(up: boolean): void {
    if (this.topology.witness === undefined) throw new Error("this topology has no witness");
    this.witnessUp = up;
  }

  members(): MemberState[] {
    const replicas = this.topology.replicas.map((name) => ({
      name,
      role: "replica" as const,
      up: this.live.has(name),
    }));
    const w = this.topology.witness;
    return w === undefined
      ? replicas
      : [...replicas, { name: w, role: "witness", up: this.witnessUp }];
  }

  status(): ConsistencyStatus {
    const members = this.members();
    const why = quorumRefusal(members);
    return {
      mode: "strong",
      writeLatencyMs: this.writeLatencyMs,
      quorum: this.quorum,
      majority: majority(members.length),
      members,
      writable: why === undefined,
      ...(why !== undefined ? { refusal: why } : {}),
      conflicts: this.conflicts,
      refused: this.refused,
    };
  }

  /** Answers one DynamoDB request sent to `region`'s front. */
  async handle(
    region: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: string,
  ): Promise<DynamoAnswer> {
    const store = this.stores.get(region);
    if (!store || !this.live.has(region)) {
      return dynamoError(503, "ServiceUnavailable", `${region}: its replica is not serving`);
    }
    const target = typeof headers["x-amz-target"] === "string" ? headers["x-amz-target"] : "";
    let op;
    try {
      op = classify(target, JSON.parse(body) as unknown, this.strong);
    } catch (err) {
      return dynamoError(400, "SerializationException", (err as Error).message);
    }
    if (op.kind === "refuse") return refusal(op);
    if (op.kind === "pass") return forward(store.endpoint, headers, body);
    if (!this.quorum) return this.writeWithoutQuorum(region, store, op.items, headers, body);
    return this.write(region, op.items, headers, body);
  }

  private async write(
    region: string,
    items: readonly ItemWrite[],
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: string,
  ): Promise<DynamoAnswer> {
    while (this.barrier) await this.barrier;
    const refused = quorumRefusal(this.members());
    if (refused !== undefined) {
      this.refused++;
      return dynamoError(503, "ServiceUnavailable", refused);
    }
    const release = this.acquire(region, items);
    if (release === undefined) {
      this.conflicts++;
      return dynamoError(
        400,
        "ReplicatedWriteConflictException",
        REPLICATED_WRITE_CONFLICT_MESSAGE,
      );
    }
    this.inflight++;
    try {
      await release.ready;
      await sleep(this.writeLatencyMs);
      // A member may have gone while this write waited.
      const late = quorumRefusal(this.members());
      const store = this.stores.get(region);
      if (late !== undefined || !store || !this.live.has(region)) {
        this.refused++;
        return dynamoError(503, "ServiceUnavailable", late ?? `${region}: its replica stopped`);
      }
      const answer = await forward(store.endpoint, headers, body);
      if (answer.status !== 200) return answer;
      const skip = unprocessedIds(answer, this.strong);
      const acks = await this.copyToPeers(
        region,
        store,
        items.filter((i) => !skip.has(i.id)),
      );
      const need = majority(this.members().length);
      if (acks < need) {
        this.refused++;
        return dynamoError(
          503,
          "ServiceUnavailable",
          `strong consistency: the write reached ${acks} of ${this.members().length} members; a write needs ${need}`,
        );
      }
      return answer;
    } finally {
      release.done();
      if (--this.inflight === 0) for (const w of this.idle.splice(0)) w();
    }
  }

  /** Copies each item as `region` now holds it to every other live replica; returns the acks. */
  private async copyToPeers(
    region: string,
    store: ReplicaStore,
    items: readonly ItemWrite[],
  ): Promise<number> {
    const images = await Promise.all(
      items.map((i) =>
        i.after === "read back"
          ? readItem(store, i)
          : Promise.resolve(i.after === "deleted" ? undefined : i.after.put),
      ),
    );
    const peers = [...this.live].filter((r) => r !== region);
    const results = await Promise.all(
      peers.map(async (peer) => {
        const target = this.stores.get(peer);
        if (!target) return false;
        try {
          await applyItems(target, items, images);
          return true;
        } catch (err) {
          // It missed an acknowledged write: out until it catches up.
          this.onError(`MRSC: ${peer} missed a write; it serves again after catching up`, err);
          this.live.delete(peer);
          void this.catchUp(peer).catch((e: unknown) => this.onError(`MRSC: ${peer} catch-up`, e));
          return false;
        }
      }),
    );
    const witness = this.topology.witness !== undefined && this.witnessUp ? 1 : 0;
    return 1 + results.filter(Boolean).length + witness;
  }

  private async writeWithoutQuorum(
    region: string,
    store: ReplicaStore,
    items: readonly ItemWrite[],
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: string,
  ): Promise<DynamoAnswer> {
    const answer = await forward(store.endpoint, headers, body);
    if (answer.status === 200) {
      void sleep(this.writeLatencyMs)
        .then(() => this.copyToPeers(region, store, items))
        .catch((err: unknown) => this.onError("MRSC (quorum off): copy failed", err));
    }
    return answer;
  }

  /**
   * Locks every item for `region`: undefined when another region holds one of them (a conflict),
   * otherwise `ready` resolves once earlier writes of this region to those items are done.
   */
  private acquire(
    region: string,
    items: readonly ItemWrite[],
  ): { ready: Promise<unknown>; done(): void } | undefined {
    const ids = [...new Set(items.map((i) => i.id))];
    if (ids.some((id) => (this.locks.get(id)?.origin ?? region) !== region)) return undefined;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const waits = ids.map((id) => {
      const lock = this.locks.get(id) ?? { origin: region, tail: Promise.resolve(), holders: 0 };
      const before = lock.tail;
      lock.tail = before.then(() => mine);
      lock.holders++;
      this.locks.set(id, lock);
      return before;
    });
    return {
      ready: Promise.all(waits),
      done: () => {
        done();
        for (const id of ids) {
          const lock = this.locks.get(id);
          if (lock && --lock.holders === 0) this.locks.delete(id);
        }
      },
    };
  }

  /**
   * Brings `region`'s replica up to date from a live one while strong writes wait, then lets it
   * serve. With no live replica it serves what it holds (the sandbox's first start).
   */
  async catchUp(region: string): Promise<{ copied: number; deleted: number; source?: string }> {
    const target = this.stores.get(region);
    if (!target) throw new Error(`${region} has no replica attached`);
    while (this.barrier) await this.barrier;
    let open!: () => void;
    this.barrier = new Promise<void>((resolve) => (open = resolve));
    try {
      if (this.inflight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      const source = [...this.live].find((r) => r !== region);
      const from = source !== undefined ? this.stores.get(source) : undefined;
      let counts = { copied: 0, deleted: 0 };
      if (from) counts = await mirror(from, target, [...this.strong.values()]);
      this.live.add(region);
      return { ...counts, ...(source !== undefined ? { source } : {}) };
    } finally {
      this.barrier = undefined;
      open();
    }
  }

  private replicaName(region: string): string {
    if (!this.topology.replicas.includes(region))
      throw new Error(`${region} is not a replica; replicas: ${this.topology.replicas.join(", ")}`);
    return region;
  }
}

async function readItem(store: ReplicaStore, item: ItemWrite): Promise<Image | undefined> {
  const out = await store.client.send(
    new GetItemCommand({
      TableName: store.names[item.table],
      Key: item.keys,
      ConsistentRead: true,
    }),
  );
  return out.Item as Image | undefined;
}

/** Writes each item's result to a peer: puts in batches per table, deletes one by one. */
async function applyItems(
  store: ReplicaStore,
  items: readonly ItemWrite[],
  images: readonly (Image | undefined)[],
): Promise<void> {
  const puts = new Map<TableKey, Image[]>();
  const deletes: ItemWrite[] = [];
  items.forEach((item, n) => {
    const image = images[n];
    if (image === undefined) deletes.push(item);
    else puts.set(item.table, [...(puts.get(item.table) ?? []), image]);
  });
  await Promise.all([
    ...[...puts].map(([table, list]) =>
      list.length === 1
        ? store.io.table(table).put(list[0] as Image)
        : store.io.table(table).putBatch(list),
    ),
    ...deletes.map((d) => store.io.table(d.table).delete(d.keys)),
  ]);
}

/** Makes `target`'s tables equal to `from`'s: copies every item, deletes the ones `from` lacks. */
async function mirror(
  from: ReplicaStore,
  target: ReplicaStore,
  tables: readonly TableKey[],
): Promise<{ copied: number; deleted: number }> {
  let copied = 0;
  let deleted = 0;
  for (const table of tables) {
    const [source, have] = await Promise.all([
      from.io.table(table).scan(),
      target.io.table(table).scan(),
    ]);
    await target.io.table(table).putBatch(source);
    copied += source.length;
    const keep = new Set(source.map((i) => itemIdOf(table, i)));
    for (const item of have) {
      const w = itemIdOf(table, item);
      if (keep.has(w)) continue;
      await target.io.table(table).delete(itemWriteOf(table, item).keys);
      deleted++;
    }
  }
  return { copied, deleted };
}

const itemIdOf = (table: TableKey, image: Image): string => itemWriteOf(table, image).id;
