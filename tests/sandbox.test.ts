/**
 * The two-region sandbox end to end, on free ports: replication between real DynamoDB Locals,
 * the regional APIs running the Lambda handlers, and the global endpoint's routing controls,
 * safety rule, health checks and TTL.
 */
import { expect } from "chai";
import { ulid } from "ulid";
import { TEST_SANDBOX, eventually, fill, http, useSandbox } from "./support/sandbox";

const LAG_MAX_MS = TEST_SANDBOX.lag?.maxMs ?? 0;
const LAG_MIN_MS = TEST_SANDBOX.lag?.minMs ?? 0;
const POLL_MS = TEST_SANDBOX.pollMs ?? 0;
const TTL_MS = (TEST_SANDBOX.ttlSeconds ?? 0) * 1000;
/** Bound on starting a region's database (a JVM) on a loaded machine. */
const START_TIMEOUT_MS = 120_000;
const EAST = "us-east-1";
const WEST = "us-west-2";

describe("sandbox (two regions, end to end)", function () {
  // Bounds, not expectations: a region's JVM start takes seconds on a loaded machine.
  this.timeout(180_000);
  const { sandbox } = useSandbox();
  const region = (r: string): string => sandbox().urls.regions[r] as string;
  const control = (path: string): string => `${sandbox().urls.control}${path}`;
  let pairs: { customers: string[]; products: string[] };
  let next = 0;
  const pair = (): { customerId: string; productId: string } => {
    const i = next++;
    return { customerId: pairs.customers[i] as string, productId: pairs.products[i] as string };
  };

  before(async function () {
    this.timeout(30_000);
    pairs = await fill(region(EAST), 20);
    await sandbox().replicator.waitIdle(10_000);
  });

  afterEach(async function () {
    // Leave every test's changes behind: controls On, replication flowing, both regions up.
    await http("PUT", control("/routing-controls"), { states: { [EAST]: "On", [WEST]: "On" } });
    await http("POST", control("/replication/resume"), {});
    for (const r of [EAST, WEST]) await sandbox().startRegion(r);
  });

  it("serves the same API in every region, naming the region in x-served-by-region", async () => {
    for (const r of [EAST, WEST]) {
      const res = await http("GET", `${region(r)}/health`);
      expect(res.status).to.equal(200);
      expect(res.headers.get("x-served-by-region")).to.equal(r);
      expect(res.body.region).to.equal(r);
    }
  });

  it("makes an order created in one region readable in the other within the lag bound", async () => {
    const { customerId, productId } = pair();
    const created = await http("POST", `${region(EAST)}/orders`, { customerId, productId });
    expect(created.status).to.equal(201);
    const written = Date.now();
    const id = created.body.OrderId as string;
    const read = await eventually("order visible in us-west-2", 5_000, async () => {
      const r = await http("GET", `${region(WEST)}/orders/${id}`);
      return r.status === 200 ? r : undefined;
    });
    // Not before the minimum lag. (How much later depends on the machine's load: tests do not
    // time things; the drill measures lag.)
    expect(Date.now() - written).to.be.at.least(LAG_MIN_MS - 50);
    expect(read.headers.get("x-served-by-region")).to.equal(WEST);
    // The replica is the same item, with no replication bookkeeping attributes.
    expect(read.body.order).to.deep.equal(created.body);
    // Tables replicate independently (as global tables do: a transaction is not replicated as
    // one), so the product's SOLD may arrive just after the order.
    await eventually("product SOLD in us-west-2", 2_000, async () => {
      const r = await http("GET", `${region(WEST)}/products/${productId}`);
      return r.body.ProductStatus === "SOLD" ? true : undefined;
    });
  });

  it("does not echo a replicated write back to its origin", async () => {
    const echoesIn = (r: string): number =>
      sandbox()
        .replicator.regionStats()
        .find((x) => x.region === r)?.echoesSkipped ?? 0;
    const sentBack = (): number =>
      sandbox()
        .replicator.stats()
        .find((d) => d.from === EAST && d.to === WEST && d.table === "kv")?.applied ?? 0;
    const echoesBefore = echoesIn(EAST);
    const sentBefore = sentBack();
    const key = `echo-${ulid()}`;
    const put = await http("PUT", `${region(WEST)}/kv/${key}`, { value: "v1" });
    expect(put.status, JSON.stringify(put.body)).to.be.oneOf([200, 201]);
    // us-east-1 reads the replicated write back on its stream and recognises it as an echo.
    await eventually("us-east-1 saw its replicated write come back", 5_000, async () =>
      echoesIn(EAST) > echoesBefore ? true : undefined,
    );
    await sandbox().replicator.waitIdle(5_000);
    expect(echoesIn(EAST) - echoesBefore).to.equal(1);
    expect(sentBack() - sentBefore, "writes sent back from us-east-1 to us-west-2").to.equal(0);
  });

  it("holds changes while replication is paused and converges to identical tables on resume", async () => {
    const paused = await http("POST", control("/replication/pause"), { from: EAST, to: WEST });
    expect(paused.status).to.equal(200);
    const { customerId, productId } = pair();
    const created = await http("POST", `${region(EAST)}/orders`, { customerId, productId });
    expect(created.status).to.equal(201);
    const id = created.body.OrderId as string;
    // Held: the product and the order wait in the paused direction past the time they were due.
    await eventually("changes held past their due time", 10_000, async () => {
      const held = (await http("GET", control("/replication"))).body.directions.filter(
        (d: any) => d.from === EAST && d.to === WEST && d.paused && d.backlog > 0,
      );
      const n = held.reduce((sum: number, d: any) => sum + d.backlog, 0);
      const overdue = held.every((d: any) => (d.oldestMs ?? 0) > LAG_MAX_MS + POLL_MS);
      return n >= 2 && overdue ? true : undefined;
    });
    expect((await http("GET", `${region(WEST)}/orders/${id}`)).status).to.equal(404);

    expect(
      (await http("POST", control("/replication/resume"), { from: EAST, to: WEST })).status,
    ).to.equal(200);
    await eventually("order visible after resume", 5_000, async () => {
      const r = await http("GET", `${region(WEST)}/orders/${id}`);
      return r.status === 200 ? r : undefined;
    });
    await sandbox().replicator.waitIdle(5_000);
    const convergence = (await http("GET", control("/replication/convergence"))).body;
    expect(convergence).to.deep.equal({ backlog: 0, identical: true, differences: [] });
  });

  it("moves a client's traffic to the other region once the TTL lapses after its control turns Off", async () => {
    const headers = { "x-client-id": `ttl-${ulid()}`, "x-client-region": EAST };
    const served = async (): Promise<string | null> =>
      (
        await http("GET", `${sandbox().urls.global}/products?limit=1`, undefined, headers)
      ).headers.get("x-served-by-region");
    expect(await served()).to.equal(EAST);
    const flipped = await http("PUT", control(`/routing-controls/${EAST}`), { state: "Off" });
    expect(flipped.status).to.equal(200);
    expect(flipped.body.states).to.deep.equal({ [EAST]: "Off", [WEST]: "On" });
    // Within the TTL the client keeps its cached answer, like a resolver honouring the record's TTL.
    expect(await served()).to.equal(EAST);
    await eventually("client moved to us-west-2 after the TTL", TTL_MS + 5_000, async () =>
      (await served()) === WEST ? true : undefined,
    );
    expect(await served()).to.equal(WEST);
  });

  it("refuses, with a 409 and a message, a change that would leave every region Off", async () => {
    expect(
      (await http("PUT", control(`/routing-controls/${EAST}`), { state: "Off" })).status,
    ).to.equal(200);
    const refused = await http("PUT", control(`/routing-controls/${WEST}`), { state: "Off" });
    expect(refused.status).to.equal(409);
    expect(refused.body.error).to.equal("SafetyRuleViolation");
    expect(refused.body.message).to.contain("safety rule").and.to.contain(WEST);
    const both = await http("PUT", control("/routing-controls"), {
      states: { [EAST]: "Off", [WEST]: "Off" },
    });
    expect(both.status).to.equal(409);
    const states = (await http("GET", control("/routing-controls"))).body.states;
    expect(states).to.deep.equal({ [EAST]: "Off", [WEST]: "On" });
  });

  it("validates control requests: unknown region 404, bad state 400", async () => {
    const unknown = await http("PUT", control("/routing-controls/eu-west-9"), { state: "Off" });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.message).to.contain("eu-west-9");
    const bad = await http("PUT", control(`/routing-controls/${EAST}`), { state: "maybe" });
    expect(bad.status).to.equal(400);
    expect(bad.body.message).to.contain("On or Off");
    expect((await http("GET", control("/nope"))).status).to.equal(404);
  });

  it("turns a region's health red when its database stops, and moves traffic away", async () => {
    const headers = { "x-client-id": `db-${ulid()}`, "x-client-region": EAST };
    const stopped = await http("POST", control(`/regions/${EAST}/stop?part=database`));
    expect(stopped.status).to.equal(200);
    expect(stopped.body).to.include({ api: true, database: false });
    const direct = await http("GET", `${region(EAST)}/health`);
    expect(direct.status).to.equal(503);
    await eventually("us-east-1 unhealthy at the global endpoint", 15_000, async () => {
      const s = (await http("GET", control("/state"))).body;
      return s.regions.find((r: any) => r.name === EAST).health.healthy === false
        ? true
        : undefined;
    });
    const moved = await http(
      "GET",
      `${sandbox().urls.global}/products?limit=1`,
      undefined,
      headers,
    );
    expect(moved.status).to.equal(200);
    expect(moved.headers.get("x-served-by-region")).to.equal(WEST);
    expect(moved.headers.get("x-resolved-region")).to.equal(WEST);

    // Back up: reseeded from us-west-2, healthy again, tables identical.
    const started = await http(
      "POST",
      control(`/regions/${EAST}/start?part=database`),
      undefined,
      {},
      START_TIMEOUT_MS,
    );
    expect(started.status).to.equal(200);
    await eventually("us-east-1 healthy again", 15_000, async () => {
      const s = (await http("GET", control("/state"))).body;
      return s.regions.find((r: any) => r.name === EAST).health.healthy === true ? true : undefined;
    });
    await sandbox().replicator.waitIdle(15_000);
    expect((await sandbox().convergence()).identical).to.equal(true);
  });

  it("answers 502 for a stopped region's API until clients move on", async () => {
    const headers = { "x-client-id": `api-${ulid()}`, "x-client-region": EAST };
    expect((await http("POST", control(`/regions/${EAST}/stop?part=api`))).status).to.equal(200);
    const res = await http("GET", `${sandbox().urls.global}/products?limit=1`, undefined, headers);
    // Health not yet red at the first request: the answer still points at us-east-1.
    if (res.headers.get("x-resolved-region") === EAST) {
      expect(res.status).to.equal(502);
      expect(res.body.error).to.equal("RegionUnreachable");
    }
    await eventually(
      "traffic served by us-west-2",
      5_000,
      async () => {
        const r = await http(
          "GET",
          `${sandbox().urls.global}/products?limit=1`,
          undefined,
          headers,
        );
        return r.headers.get("x-served-by-region") === WEST ? true : undefined;
      },
      100,
    );
  });
});
