/**
 * The sandbox's multi-Region strong consistency (`consistency: "strong"`, two replicas and a
 * witness) against real DynamoDB Locals, at the DynamoDB level (raw SDK clients on each region's
 * endpoint) and through routes that need no transaction: a write races the same item from two
 * regions, reads are consistent everywhere, transactions are refused, one lost member keeps the
 * others writable, a majority lost refuses writes with a 503 that says why.
 */
import { expect } from "chai";
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { LOCAL_CREDENTIALS } from "../local/dynamo-local";
import { eventually, http, useSandbox } from "./support/sandbox";

const EAST = "us-east-1";
const WEST = "us-west-2";
const WITNESS = "us-east-2";
/** Long enough that two writes sent together overlap. */
const LATENCY_MS = 60;
const START_TIMEOUT_MS = 150_000;

/** Tries `fn`; the error's name, or "ok". */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return "ok";
  } catch (err) {
    return (err as Error).name;
  }
}

describe("sandbox, strong consistency (MRSC: two replicas and a witness)", function () {
  this.timeout(240_000);
  const { sandbox } = useSandbox({
    consistency: "strong",
    regions: [EAST, WEST],
    mrscWriteLatencyMs: LATENCY_MS,
  });
  const clients = new Map<string, DynamoDBClient>();
  const db = (region: string): DynamoDBClient => {
    let c = clients.get(region);
    if (!c) {
      c = new DynamoDBClient({
        endpoint: sandbox().dynamoEndpoint(region),
        region,
        credentials: LOCAL_CREDENTIALS,
        maxAttempts: 1,
      });
      clients.set(region, c);
    }
    return c;
  };
  const products = (): string => sandbox().tables.products;
  const claim = (region: string, id: string, by: string) =>
    db(region).send(
      new PutItemCommand({
        TableName: products(),
        Item: { ProductId: { S: id }, SoldTo: { S: by } },
        ConditionExpression: "attribute_not_exists(ProductId)",
      }),
    );
  const read = async (region: string, id: string): Promise<string | undefined> => {
    const out = await db(region).send(
      new GetItemCommand({
        TableName: products(),
        Key: { ProductId: { S: id } },
        ConsistentRead: true,
      }),
    );
    return out.Item?.SoldTo?.S;
  };
  after(() => {
    for (const c of clients.values()) c.destroy();
  });

  it("plays two replicas and the default witness of the US Region set, kv kept eventual", () => {
    const view = sandbox().consistencyView();
    expect(view.mode).to.equal("strong");
    if (view.mode !== "strong") return;
    expect(view.members).to.deep.equal([
      { name: EAST, role: "replica", up: true },
      { name: WEST, role: "replica", up: true },
      { name: WITNESS, role: "witness", up: true },
    ]);
    expect(view.majority).to.equal(2);
    expect(view.writeLatencyMs).to.equal(LATENCY_MS);
    const tables = new Set(
      sandbox()
        .replicator.stats()
        .map((d) => d.table),
    );
    expect([...tables]).to.deep.equal(["kv"]);
  });

  it("a conditional write raced from two regions succeeds once; the other fails as DynamoDB fails it", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const id = `race-${i}`;
        const [a, b] = await Promise.all([
          outcome(() => claim(EAST, id, EAST)),
          outcome(() => claim(WEST, id, WEST)),
        ]);
        const winner = a === "ok" ? EAST : WEST;
        return { a, b, winner, east: await read(EAST, id), west: await read(WEST, id) };
      }),
    );
    for (const r of results) {
      expect(
        [r.a, r.b].filter((o) => o === "ok"),
        JSON.stringify(r),
      ).to.have.length(1);
      const loser = r.a === "ok" ? r.b : r.a;
      expect(["ReplicatedWriteConflictException", "ConditionalCheckFailedException"]).to.include(
        loser,
      );
      expect([r.east, r.west]).to.deep.equal([r.winner, r.winner]);
    }
    const conflicts = results.filter((r) =>
      [r.a, r.b].includes("ReplicatedWriteConflictException"),
    );
    expect(conflicts.length, "writes sent together conflict").to.be.greaterThan(0);
  });

  it("a write acknowledged in one region is read at once, consistently, in the other", async () => {
    for (let i = 0; i < 10; i++) {
      const [from, to] = i % 2 === 0 ? [EAST, WEST] : [WEST, EAST];
      await db(from).send(
        new UpdateItemCommand({
          TableName: products(),
          Key: { ProductId: { S: "counter" } },
          UpdateExpression: "SET SoldTo = :v",
          ExpressionAttributeValues: { ":v": { S: `v${i}` } },
        }),
      );
      expect(await read(to, "counter")).to.equal(`v${i}`);
    }
  });

  it("refuses transactions on a strong table with a ValidationException; kv still takes them", async () => {
    const err = await db(EAST)
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: products(), Item: { ProductId: { S: "tx" } } } },
            { Put: { TableName: sandbox().tables.kv, Item: { Key: { S: "tx" } } } },
          ],
        }),
      )
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.name).to.equal("ValidationException");
    expect(err?.message).to.match(/transactions are not supported .*strong consistency/);
    expect(await read(EAST, "tx")).to.equal(undefined);
    await db(EAST).send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: sandbox().tables.kv, Item: { Key: { S: "tx" } } } }],
      }),
    );
  });

  it("fill in one region is listed at once in the other (batch writes, no transaction)", async () => {
    const east = sandbox().urls.regions[EAST] as string;
    const west = sandbox().urls.regions[WEST] as string;
    const filled = await http("POST", `${east}/fill?cust=2&product=3&order=0`);
    expect(filled.status, JSON.stringify(filled.body)).to.equal(201);
    for (const id of filled.body.products as string[]) {
      const got = await http("GET", `${west}/products/${id}`);
      expect(got.status, JSON.stringify(got.body)).to.equal(200);
    }
  });

  it("losing one region keeps the other writable; the restarted region catches up before it serves", async () => {
    await sandbox().stopRegion(WEST);
    expect(sandbox().consistencyView()).to.deep.include({ writable: true });
    await claim(EAST, "while-west-down", EAST);
    await sandbox().startRegion(WEST);
    expect(await read(WEST, "while-west-down")).to.equal(EAST);
    const west = sandbox().urls.regions[WEST] as string;
    const got = await http("GET", `${west}/products/while-west-down`);
    expect(got.status, JSON.stringify(got.body)).to.equal(200);
  }).timeout(START_TIMEOUT_MS);

  it("losing the majority refuses writes with a 503 that says why; reads still answer", async () => {
    const east = sandbox().urls.regions[EAST] as string;
    await sandbox().stopRegion(WEST);
    sandbox().setWitness(false);
    try {
      const err = await claim(EAST, "no-majority", EAST).then(
        () => undefined,
        (e: Error) => e,
      );
      const why = `strong consistency: 1 of 3 members reachable (${EAST}); a write needs 2`;
      expect(err?.name).to.equal("ServiceUnavailable");
      expect(err?.message).to.equal(why);
      const filled = await http("POST", `${east}/fill?cust=1&product=1&order=0`);
      expect(filled.status).to.equal(503);
      expect(filled.body).to.deep.equal({ error: "ServiceUnavailable", message: why });
      expect(await read(EAST, "no-majority")).to.equal(undefined);
      expect(await read(EAST, "while-west-down")).to.equal(EAST);
      const state = await http("GET", `${sandbox().urls.control}/consistency`);
      expect(state.body).to.deep.include({ writable: false, refusal: why });
    } finally {
      sandbox().setWitness(true);
      await sandbox().startRegion(WEST);
    }
    await eventually("writable again", 10_000, () =>
      sandbox().consistencyView().mode === "strong" &&
      (sandbox().consistencyView() as { writable: boolean }).writable
        ? true
        : undefined,
    );
    await claim(EAST, "majority-back", EAST);
    expect(await read(WEST, "majority-back")).to.equal(EAST);
  }).timeout(START_TIMEOUT_MS);
});
