import { expect } from "chai";
import { GlobalTableSet, validateGlobalTableSetArgs, type GlobalTableSetArgs } from "../components";
import { TABLES } from "../functions/tables";
import { SERVICE_TABLES } from "../stack/service-data";
import {
  parentTypes,
  promiseOf,
  refusedUnderMocks,
  registeredUrns,
  underMocks,
  type MockEngine,
} from "./support/pulumi";

const TABLE = "aws:dynamodb/table:Table";

describe("GlobalTableSet", () => {
  let engine: MockEngine;
  let set: GlobalTableSet;

  before(async () => {
    ({ engine, result: set } = await underMocks(
      "us-east-1",
      () =>
        new GlobalTableSet("gts", {
          region: "us-east-1",
          replicaRegions: ["us-west-2", "eu-west-1"],
          namePrefix: "shop",
          tables: SERVICE_TABLES,
        }),
    ));
  });

  it("creates one table per table spec, named from the prefix, in the home region", () => {
    const tables = engine.ofType(TABLE);
    expect(tables.map((t) => t.inputs["name"]).sort()).to.deep.equal(
      TABLES.map((t) => `shop-${t.key}`).sort(),
    );
    for (const t of tables) expect(t.inputs["region"], t.name).to.equal("us-east-1");
  });

  it("replicates every table to exactly the peer regions", () => {
    for (const t of engine.ofType(TABLE)) {
      expect(
        t.inputs["replicas"].map((r: any) => r.regionName),
        t.name,
      ).to.deep.equal(["us-west-2", "eu-west-1"]);
    }
  });

  it("every table and every replica has point-in-time recovery", () => {
    for (const t of engine.ofType(TABLE)) {
      expect(t.inputs["pointInTimeRecovery"], t.name).to.deep.equal({ enabled: true });
      for (const r of t.inputs["replicas"])
        expect(r.pointInTimeRecovery, `${t.name} ${r.regionName}`).to.equal(true);
    }
  });

  it("every table and replica has deletion protection, KMS encryption and on-demand billing", () => {
    for (const t of engine.ofType(TABLE)) {
      expect(t.inputs["deletionProtectionEnabled"], t.name).to.equal(true);
      expect(t.inputs["serverSideEncryption"], t.name).to.deep.equal({ enabled: true });
      expect(t.inputs["billingMode"], t.name).to.equal("PAY_PER_REQUEST");
      for (const r of t.inputs["replicas"]) expect(r.deletionProtectionEnabled).to.equal(true);
    }
  });

  it("every table streams new and old images, keyed as its spec says", () => {
    for (const spec of TABLES) {
      const t = engine.ofType(TABLE).find((r) => r.inputs["name"] === `shop-${spec.key}`);
      expect(t?.inputs["streamEnabled"]).to.equal(true);
      expect(t?.inputs["streamViewType"]).to.equal("NEW_AND_OLD_IMAGES");
      expect(t?.inputs["hashKey"]).to.equal(spec.hashKey);
      expect(t?.inputs["attributes"]).to.deep.equal([{ name: spec.hashKey, type: "S" }]);
      expect(t?.inputs["ttl"]).to.deep.equal(
        spec.ttlAttribute ? { attributeName: spec.ttlAttribute, enabled: true } : undefined,
      );
    }
  });

  it("outputs an ARN per table in every region, each in its own region", async () => {
    const arns = await promiseOf(set.tableArns);
    expect(Object.keys(arns)).to.deep.equal(["us-east-1", "us-west-2", "eu-west-1"]);
    for (const [region, byTable] of Object.entries(arns)) {
      expect(Object.keys(byTable).sort()).to.deep.equal(TABLES.map((t) => t.key).sort());
      for (const [key, arn] of Object.entries(byTable)) {
        expect(arn).to.equal(`arn:aws:dynamodb:${region}:000000000000:table/shop-${key}`);
      }
    }
    const streams = await promiseOf(set.streamArns);
    expect(streams["us-west-2"]?.orders).to.match(
      /^arn:aws:dynamodb:us-west-2:.*:table\/shop-orders\/stream\//,
    );
    expect(await promiseOf(set.tableNames)).to.deep.equal({
      customers: "shop-customers",
      products: "shop-products",
      orders: "shop-orders",
      kv: "shop-kv",
    });
  });

  it("parents every table to the component", async () => {
    const urns = await registeredUrns();
    for (const t of engine.ofType(TABLE)) {
      expect(parentTypes(urns, TABLE, t.name)).to.deep.equal([
        "resilient-dynamo:index:GlobalTableSet",
      ]);
    }
  });

  it("turns deletion protection and PITR off only when asked", async () => {
    const { engine: e } = await underMocks(
      "us-east-1",
      () =>
        new GlobalTableSet("off", {
          region: "us-east-1",
          replicaRegions: ["us-west-2"],
          namePrefix: "x",
          tables: SERVICE_TABLES,
          deletionProtection: false,
          pointInTimeRecovery: false,
        }),
    );
    for (const t of e.ofType(TABLE)) {
      expect(t.inputs["deletionProtectionEnabled"]).to.equal(false);
      expect(t.inputs["pointInTimeRecovery"]).to.deep.equal({ enabled: false });
    }
  });

  it("uses a customer-managed key per region when given", async () => {
    const keys = {
      "us-east-1": "arn:aws:kms:us-east-1:000000000000:key/a",
      "us-west-2": "arn:aws:kms:us-west-2:000000000000:key/b",
    };
    const { engine: e } = await underMocks(
      "us-east-1",
      () =>
        new GlobalTableSet("kms", {
          region: "us-east-1",
          replicaRegions: ["us-west-2"],
          namePrefix: "k",
          tables: SERVICE_TABLES,
          kmsKeyArns: keys,
        }),
    );
    for (const t of e.ofType(TABLE)) {
      expect(t.inputs["serverSideEncryption"]).to.deep.equal({
        enabled: true,
        kmsKeyArn: keys["us-east-1"],
      });
      expect(t.inputs["replicas"][0].kmsKeyArn).to.equal(keys["us-west-2"]);
    }
  });

  it("builds a set from another service's tables: one sessions table, keyed and named as given", async () => {
    const { engine: e, result } = await underMocks(
      "eu-west-1",
      () =>
        new GlobalTableSet("sessions", {
          region: "eu-west-1",
          replicaRegions: ["eu-central-1"],
          namePrefix: "acme",
          tables: [{ key: "sessions", hashKey: "SessionId", ttlAttribute: "ExpiresAt" }],
        }),
    );
    const tables = e.ofType(TABLE);
    expect(tables.map((t) => t.inputs["name"])).to.deep.equal(["acme-sessions"]);
    expect(tables[0]?.inputs).to.deep.include({
      region: "eu-west-1",
      hashKey: "SessionId",
      attributes: [{ name: "SessionId", type: "S" }],
      ttl: { attributeName: "ExpiresAt", enabled: true },
      deletionProtectionEnabled: true,
    });
    expect(tables[0]?.inputs["replicas"].map((r: any) => r.regionName)).to.deep.equal([
      "eu-central-1",
    ]);
    expect(await promiseOf(result.tableNames)).to.deep.equal({ sessions: "acme-sessions" });
    const arns = await promiseOf(result.tableArns);
    expect(Object.keys(arns)).to.deep.equal(["eu-west-1", "eu-central-1"]);
    expect(arns["eu-central-1"]).to.deep.equal({
      sessions: "arn:aws:dynamodb:eu-central-1:000000000000:table/acme-sessions",
    });
    expect(Object.keys(result.tables)).to.deep.equal(["sessions"]);
    expect(result.strongTables).to.deep.equal([]);
  });

  describe("refuses a missing or empty tables list, naming the argument and creating nothing", () => {
    const base = { region: "us-east-1", replicaRegions: ["us-west-2"], namePrefix: "p" };
    const refused: [string, unknown, RegExp][] = [
      ["no tables", undefined, /^tables must list at least one table spec .*: got undefined$/],
      ["an empty list", [], /^tables must list at least one table spec .*: got \[\]$/],
      ["a table without a key", [{ hashKey: "Id" }], /^tables: every table needs a non-empty key/],
      [
        "a table without a hash key",
        [{ key: "sessions", hashKey: "" }],
        /^tables: every table needs a non-empty hashKey/,
      ],
      [
        "a repeated table",
        [
          { key: "sessions", hashKey: "Id" },
          { key: "sessions", hashKey: "Id" },
        ],
        /duplicate table sessions in tables/,
      ],
    ];
    for (const [what, tables, message] of refused) {
      it(what, async () => {
        const { error, engine: e } = await refusedUnderMocks(
          "us-east-1",
          () =>
            new GlobalTableSet("bad", { ...base, tables: tables as GlobalTableSetArgs["tables"] }),
        );
        expect(error.message).to.match(message);
        expect(e.ofType(TABLE)).to.be.empty;
      });
    }
  });

  describe("rejects bad args before creating anything", () => {
    const base: GlobalTableSetArgs = {
      region: "us-east-1",
      replicaRegions: ["us-west-2"],
      namePrefix: "p",
      tables: SERVICE_TABLES,
    };
    const cases: [string, Partial<GlobalTableSetArgs>, RegExp][] = [
      [
        "replica regions not a list",
        { replicaRegions: "us-west-2" as unknown as string[] },
        /replicaRegions must be a list of regions: got "us-west-2"/,
      ],
      [
        "duplicate replica",
        { replicaRegions: ["us-west-2", "us-west-2"] },
        /duplicate replica region us-west-2/,
      ],
      [
        "home region as replica",
        { replicaRegions: ["us-east-1"] },
        /must not contain the home region us-east-1/,
      ],
      ["bad region name", { replicaRegions: ["mars-1"] }, /AWS region name.*"mars-1"/],
      ["bad home region", { region: "US_EAST" }, /region must be an AWS region name.*"US_EAST"/],
      ["key missing for a region", { kmsKeyArns: { "us-east-1": "arn:k" } }, /missing us-west-2/],
    ];
    for (const [what, patch, message] of cases) {
      it(what, () =>
        expect(() => validateGlobalTableSetArgs({ ...base, ...patch })).to.throw(message),
      );
    }
  });

  describe("consistency strong (MRSC)", () => {
    const strongKeys = TABLES.filter((t) => t.strong).map((t) => t.key);

    it("makes exactly the strong tables MRSC, with the witness; kv stays eventual with its TTL", async () => {
      const { engine: e, result } = await underMocks(
        "us-east-1",
        () =>
          new GlobalTableSet("mrsc", {
            region: "us-east-1",
            replicaRegions: ["us-west-2"],
            namePrefix: "m",
            tables: SERVICE_TABLES,
            consistency: "strong",
            witnessRegion: "us-east-2",
          }),
      );
      expect(strongKeys).to.deep.equal(["customers", "products", "orders"]);
      expect(result.strongTables).to.deep.equal(strongKeys);
      expect(result.consistency).to.equal("strong");
      for (const spec of TABLES) {
        const t = e.ofType(TABLE).find((r) => r.inputs["name"] === `m-${spec.key}`);
        const modes = t?.inputs["replicas"].map((r: any) => r.consistencyMode);
        if (spec.strong) {
          expect(modes, spec.key).to.deep.equal(["STRONG"]);
          expect(t?.inputs["globalTableWitness"], spec.key).to.deep.equal({
            regionName: "us-east-2",
          });
          expect(t?.inputs["ttl"], spec.key).to.equal(undefined);
        } else {
          expect(modes, spec.key).to.deep.equal([undefined]);
          expect(t?.inputs, spec.key).to.not.have.property("globalTableWitness");
          expect(t?.inputs["ttl"], spec.key).to.deep.equal({
            attributeName: "ExpiresAt",
            enabled: true,
          });
        }
        // MRSC keeps every other safe default.
        expect(t?.inputs["deletionProtectionEnabled"], spec.key).to.equal(true);
        expect(t?.inputs["pointInTimeRecovery"], spec.key).to.deep.equal({ enabled: true });
      }
    });

    it("three replicas take no witness", async () => {
      const { engine: e } = await underMocks(
        "us-east-1",
        () =>
          new GlobalTableSet("three", {
            region: "us-east-1",
            replicaRegions: ["us-west-2", "us-east-2"],
            namePrefix: "t",
            tables: SERVICE_TABLES,
            consistency: "strong",
          }),
      );
      const orders = e.ofType(TABLE).find((r) => r.inputs["name"] === "t-orders");
      expect(
        orders?.inputs["replicas"].map((r: any) => [r.regionName, r.consistencyMode]),
      ).to.deep.equal([
        ["us-west-2", "STRONG"],
        ["us-east-2", "STRONG"],
      ]);
      expect(orders?.inputs).to.not.have.property("globalTableWitness");
    });

    it("eventual (the default) sets no consistency mode and no witness on any table", () => {
      expect(set.consistency).to.equal("eventual");
      expect(set.strongTables).to.deep.equal([]);
      for (const t of engine.ofType(TABLE)) {
        expect(t.inputs, t.name).to.not.have.property("globalTableWitness");
        for (const r of t.inputs["replicas"])
          expect(r, t.name).to.not.have.property("consistencyMode");
      }
    });

    const base: GlobalTableSetArgs = {
      region: "us-east-1",
      replicaRegions: ["us-west-2"],
      namePrefix: "p",
      tables: SERVICE_TABLES,
      consistency: "strong",
      witnessRegion: "us-east-2",
    };
    const refused: [string, Partial<GlobalTableSetArgs>, RegExp][] = [
      [
        "two replicas without a witness",
        { witnessRegion: undefined },
        /witnessRegion: is required when consistency is strong with two replica regions/,
      ],
      [
        "a witness that is a replica",
        { witnessRegion: "us-west-2" },
        /witnessRegion: us-west-2 is also a replica region/,
      ],
      [
        "a witness in another Region set",
        { witnessRegion: "eu-west-1" },
        /witnessRegion: the regions of an MRSC table must be in one MRSC Region set/,
      ],
      [
        "four regions",
        { replicaRegions: ["us-west-2", "us-east-2", "eu-west-1"], witnessRegion: undefined },
        /replicaRegions: consistency strong takes exactly 3 regions/,
      ],
      [
        "a witness with three replicas",
        { replicaRegions: ["us-west-2", "us-east-2"], witnessRegion: "us-west-1" },
        /witnessRegion: only with two replica regions/,
      ],
      [
        "a witness in eventual mode",
        { consistency: "eventual" },
        /witnessRegion: us-east-2 given, but consistency is eventual/,
      ],
      [
        "a strong table with time to live",
        {
          tables: [
            {
              key: "kv",
              hashKey: "Key",
              ttlAttribute: "ExpiresAt",
              strong: true,
            },
          ],
        },
        /tables: table kv has a time-to-live attribute and strong set: MRSC tables do not support time to live/,
      ],
      [
        "a mode that does not exist",
        { consistency: "STRONG" as never },
        /consistency must be eventual or strong: got "STRONG"/,
      ],
      [
        "a witness that is not a region",
        { witnessRegion: "useast2" },
        /witnessRegion must be an AWS region name/,
      ],
    ];
    for (const [what, patch, message] of refused) {
      it(`refuses ${what}, creating nothing`, async () => {
        const { error, engine: e } = await refusedUnderMocks(
          "us-east-1",
          () => new GlobalTableSet("bad", { ...base, ...patch }),
        );
        expect(error.message).to.match(message);
        expect(e.ofType(TABLE)).to.be.empty;
      });
    }
  });
});
