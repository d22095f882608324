/**
 * The replicator's rules against in-memory regions: no echo, per-item last writer wins, pause and
 * resume, region loss, reseed, and convergence under random interleavings (fast-check).
 */
import { expect } from "chai";
import fc from "fast-check";
import type { TableKey } from "../functions/tables";
import { TABLE_KEYS } from "../functions/tables";
import { fingerprint, type Image } from "../local/replication-model";
import { Replicator } from "../local/replicator";
import { eventually } from "./support/eventually";
import { FakeRegion, settle } from "./support/sandbox-fakes";

const kv = (key: string, value: string): Image => ({ Key: { S: key }, Value: { S: value } });

/** The kv queue from one region to another, as the replicator reports it. */
function kvDirection(replicator: Replicator, from: string, to: string) {
  return replicator.stats().find((s) => s.from === from && s.to === to && s.table === "kv");
}

/** Waits until `n` kv changes were read from `from` for `to` (waiting, in flight or done). */
function queued(replicator: Replicator, from: string, to: string, n: number): Promise<true> {
  return eventually(`${n} changes read ${from} -> ${to}`, 5_000, () => {
    const d = kvDirection(replicator, from, to);
    return d && d.backlog + d.applied + d.skipped >= n ? true : undefined;
  });
}

function setup(regions: string[], lag = { minMs: 0, maxMs: 5 }, maxDelayMs = 3) {
  const replicator = new Replicator({ regions, tables: TABLE_KEYS, lag });
  const fakes = regions.map((r) => new FakeRegion(r, replicator, maxDelayMs));
  for (const f of fakes) {
    replicator.attach(f.name, f);
    replicator.markUp(f.name);
  }
  return { replicator, fakes };
}

function expectIdentical(fakes: readonly FakeRegion[], tables: readonly TableKey[] = ["kv"]): void {
  for (const t of tables) {
    const first = fakes[0]?.snapshot(t);
    for (const f of fakes.slice(1)) expect(f.snapshot(t), `${t} in ${f.name}`).to.deep.equal(first);
  }
}

describe("replicator (in-memory regions)", function () {
  this.timeout(60_000);

  it("applies a client write to every other region and never writes it back to its origin", async () => {
    const { replicator, fakes } = setup(["a", "b", "c"]);
    const [a, b, c] = fakes as [FakeRegion, FakeRegion, FakeRegion];
    await a.clientPut("kv", kv("k", "1"));
    await settle(replicator, fakes);
    expect(b.snapshot("kv")).to.deep.equal([fingerprint(kv("k", "1"))]);
    expect(c.snapshot("kv")).to.deep.equal([fingerprint(kv("k", "1"))]);
    expect(a.replicatorWrites).to.deep.equal([]);
    expect(b.replicatorWrites).to.have.length(1);
    expect(c.replicatorWrites).to.have.length(1);
    const echoes = replicator.regionStats().map((s) => s.echoesSkipped);
    expect(echoes).to.deep.equal([0, 1, 1]);
    await replicator.stop();
  });

  it("replicates deletes", async () => {
    const { replicator, fakes } = setup(["a", "b"]);
    const [a, b] = fakes as [FakeRegion, FakeRegion];
    await a.clientPut("kv", kv("k", "1"));
    await settle(replicator, fakes);
    await b.clientDelete("kv", { Key: { S: "k" } });
    await settle(replicator, fakes);
    expect(a.snapshot("kv")).to.deep.equal([]);
    expect(b.snapshot("kv")).to.deep.equal([]);
  });

  it("delays each change by a lag within the configured range", async () => {
    const { replicator, fakes } = setup(["a", "b"], { minMs: 80, maxMs: 120 }, 0);
    const [a, b] = fakes as [FakeRegion, FakeRegion];
    await a.clientPut("kv", kv("k", "1"));
    await settle(replicator, fakes);
    expect(b.snapshot("kv")).to.have.length(1);
    const stats = replicator
      .stats()
      .find((s) => s.from === "a" && s.to === "b" && s.table === "kv");
    expect(stats?.applied).to.equal(1);
    // Not before the lag drawn (at least 80 ms); how much later depends on the machine's load.
    expect(stats?.lastMs).to.be.at.least(80);
    await replicator.stop();
  });

  it("holds changes while a direction is paused and delivers them in order on resume", async () => {
    const { replicator, fakes } = setup(["a", "b"]);
    const [a, b] = fakes as [FakeRegion, FakeRegion];
    replicator.pause("a", "b");
    for (let i = 1; i <= 5; i++) await a.clientPut("kv", kv("k", String(i)));
    await a.clientPut("kv", kv("other", "x"));
    await queued(replicator, "a", "b", 6);
    expect(b.snapshot("kv")).to.deep.equal([]);
    const held = replicator.stats().find((s) => s.from === "a" && s.to === "b" && s.table === "kv");
    expect(held?.paused).to.equal(true);
    expect(held?.backlog).to.equal(6);
    replicator.resume();
    await settle(replicator, fakes);
    expectIdentical(fakes);
    expect(b.snapshot("kv")).to.include(fingerprint(kv("k", "5")));
    await replicator.stop();
  });

  it("keeps the order of changes to one item whatever lags they draw", async () => {
    const { replicator, fakes } = setup(["a", "b"], { minMs: 0, maxMs: 60 }, 0);
    const [a, b] = fakes as [FakeRegion, FakeRegion];
    for (let i = 1; i <= 10; i++) await a.clientPut("kv", kv("k", String(i).padStart(2, "0")));
    await settle(replicator, fakes);
    const applied = b.replicatorWrites.map((w) => w.image?.Value?.S);
    expect(applied).to.deep.equal([...applied].sort());
    expect(b.snapshot("kv")).to.deep.equal([fingerprint(kv("k", "10"))]);
    await replicator.stop();
  });

  it("does not hold a change to one item behind a slower change to another", async () => {
    const draws = [1, 0]; // the first change draws the longest lag, the second the shortest
    const replicator = new Replicator({
      regions: ["a", "b"],
      tables: TABLE_KEYS,
      lag: { minMs: 0, maxMs: 300 },
      random: () => draws.shift() ?? 0,
    });
    const fakes = ["a", "b"].map((r) => new FakeRegion(r, replicator, 0));
    for (const f of fakes) {
      replicator.attach(f.name, f);
      replicator.markUp(f.name);
    }
    const [a, b] = fakes as [FakeRegion, FakeRegion];
    await a.clientPut("kv", kv("slow", "1"));
    await a.clientPut("kv", kv("fast", "1"));
    await eventually("the fast change applied", 5_000, () =>
      b.snapshot("kv").length > 0 ? true : undefined,
    );
    expect(b.snapshot("kv")).to.deep.equal([fingerprint(kv("fast", "1"))]);
    await settle(replicator, fakes);
    expect(b.snapshot("kv")).to.have.length(2);
    await replicator.stop();
  });

  it("resolves a conflicting write by last writer, the same way in every region", async () => {
    const { replicator, fakes } = setup(["a", "b"], { minMs: 30, maxMs: 30 }, 0);
    const [a, b] = fakes as [FakeRegion, FakeRegion];
    await a.clientPut("kv", kv("k", "from-a"));
    // b writes after a's write was read from a's stream, on a later clock tick.
    await queued(replicator, "a", "b", 1);
    const read = Date.now();
    await eventually("a later clock tick", 1_000, () => (Date.now() > read ? true : undefined), 1);
    await b.clientPut("kv", kv("k", "from-b"));
    await settle(replicator, fakes);
    expect(a.snapshot("kv")).to.deep.equal([fingerprint(kv("k", "from-b"))]);
    expect(b.snapshot("kv")).to.deep.equal([fingerprint(kv("k", "from-b"))]);
    await replicator.stop();
  });

  it("drops changes that had not left a region when it goes down, and reseeds it from a peer", async () => {
    const { replicator, fakes } = setup(["a", "b"], { minMs: 200, maxMs: 200 }, 0);
    const [a, b] = fakes as [FakeRegion, FakeRegion];
    await a.clientPut("kv", kv("k1", "1"));
    await settle(replicator, fakes);
    await a.clientPut("kv", kv("k2", "2"));
    await eventually("k2 waiting for its lag", 5_000, () =>
      (kvDirection(replicator, "a", "b")?.backlog ?? 0) > 0 ? true : undefined,
    );
    replicator.regionDown("a");
    a.wipe();
    await settle(replicator, fakes);
    expect(b.snapshot("kv")).to.deep.equal([fingerprint(kv("k1", "1"))]);
    const dropped = replicator
      .stats()
      .find((s) => s.from === "a" && s.to === "b" && s.table === "kv");
    expect(dropped?.dropped).to.equal(1);

    await b.clientPut("kv", kv("k3", "3"));
    const result = await replicator.reseed("a", "b");
    replicator.markUp("a");
    await settle(replicator, fakes);
    expect(result.copied).to.be.at.least(1);
    expectIdentical(fakes);
    expect(a.snapshot("kv")).to.have.length(2);
    await replicator.stop();
  });

  it("refuses to reseed a region that is up", async () => {
    const { replicator } = setup(["a", "b"]);
    let err: unknown;
    try {
      await replicator.reseed("a", "b");
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain("must be down");
    await replicator.stop();
  });

  it("converges to identical tables under random concurrent writes, pauses and lags", async () => {
    const op = fc.record({
      region: fc.nat(2),
      key: fc.constantFrom("k1", "k2", "k3"),
      value: fc.option(fc.constantFrom("x", "y", "z"), { nil: undefined }),
      waitMs: fc.nat(6),
      pause: fc.option(fc.tuple(fc.nat(2), fc.nat(2)), { nil: undefined, freq: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.nat(15),
        async (ops, maxLag) => {
          const { replicator, fakes } = setup(["a", "b", "c"], { minMs: 0, maxMs: maxLag }, 4);
          const writes: Promise<void>[] = [];
          for (const o of ops) {
            const f = fakes[o.region] as FakeRegion;
            writes.push(
              o.value === undefined
                ? f.clientDelete("kv", { Key: { S: o.key } })
                : f.clientPut("kv", kv(o.key, o.value)),
            );
            if (o.pause) {
              const [x, y] = o.pause;
              if (x !== y) replicator.pause(fakes[x]?.name, fakes[y]?.name);
            }
            await new Promise((r) => setTimeout(r, o.waitMs));
          }
          await Promise.all(writes);
          replicator.resume();
          await settle(replicator, fakes);
          expectIdentical(fakes);
          await replicator.stop();
        },
      ),
      { numRuns: 40 },
    );
  });
});
