/**
 * The MRSC rules the sandbox plays, without a database: which topologies DynamoDB accepts, the
 * quorum arithmetic and its message, how a request is classified, and the CLI's refusals.
 */
import { expect } from "chai";
import { parseStartArgs } from "../tools/start";
import { UsageError } from "../tools/cli-args";
import { parseConsistencyOptions } from "../tools/consistency-options";
import { majority, planMrscTopology, quorumRefusal } from "../local/mrsc/model";
import { classify, dynamoError } from "../local/mrsc/protocol";
import { parseDrillArgs } from "../tools/drill-args";

const strong = new Map([
  ["p-products", "products" as const],
  ["p-orders", "orders" as const],
]);

describe("MRSC model (sandbox)", () => {
  it("two replicas get the first region of their set that is not a replica as witness", () => {
    expect(planMrscTopology(["us-east-1", "us-west-2"])).to.deep.equal({
      replicas: ["us-east-1", "us-west-2"],
      witness: "us-east-2",
    });
    expect(planMrscTopology(["eu-west-2", "eu-west-1"]).witness).to.equal("eu-west-3");
    expect(planMrscTopology(["us-east-1", "us-east-2", "us-west-2"])).to.deep.equal({
      replicas: ["us-east-1", "us-east-2", "us-west-2"],
    });
  });

  const refused: [string, string[], string | undefined, RegExp][] = [
    ["one region", ["us-east-1"], undefined, /three replicas or two replicas and a witness: got 1/],
    ["four regions", ["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"], undefined, /got 4/],
    [
      "three replicas and a witness",
      ["us-east-1", "us-east-2", "us-west-2"],
      "us-east-2",
      /and witness us-east-2/,
    ],
    [
      "regions of two sets",
      ["us-east-1", "eu-west-1"],
      undefined,
      /eu-west-1 is not in the set of us-east-1/,
    ],
    [
      "a witness of another set",
      ["us-east-1", "us-west-2"],
      "eu-west-1",
      /eu-west-1 is not in the set/,
    ],
    [
      "a region outside every set",
      ["us-east-1", "us-west-1"],
      undefined,
      /us-west-1 is not in the set/,
    ],
    [
      "the witness among the replicas",
      ["us-east-1", "us-west-2"],
      "us-west-2",
      /must differ from the replicas: got us-west-2/,
    ],
  ];
  for (const [name, replicas, witness, message] of refused) {
    it(`refuses ${name}`, () => {
      expect(() => planMrscTopology(replicas, witness)).to.throw(message);
    });
  }

  it("a write needs a majority of members, and the refusal names who is reachable", () => {
    expect([1, 2, 3, 4, 5].map(majority)).to.deep.equal([1, 2, 2, 3, 3]);
    const members = [
      { name: "us-east-1", role: "replica" as const, up: true },
      { name: "us-west-2", role: "replica" as const, up: false },
      { name: "us-east-2", role: "witness" as const, up: true },
    ];
    expect(quorumRefusal(members)).to.equal(undefined);
    expect(quorumRefusal([members[0]!, members[1]!, { ...members[2]!, up: false }])).to.equal(
      "strong consistency: 1 of 3 members reachable (us-east-1); a write needs 2",
    );
    expect(quorumRefusal(members.map((m) => ({ ...m, up: false })))).to.equal(
      "strong consistency: 0 of 3 members reachable (none); a write needs 2",
    );
  });
});

describe("MRSC front: classifying DynamoDB requests", () => {
  const target = (op: string): string => `DynamoDB_20120810.${op}`;
  it("a put, update or delete on a strong table writes that item; on kv it passes", () => {
    const put = classify(
      target("PutItem"),
      { TableName: "p-products", Item: { ProductId: { S: "a" }, X: { S: "1" } } },
      strong,
    );
    expect(put).to.deep.equal({
      kind: "write",
      items: [
        {
          table: "products",
          keys: { ProductId: { S: "a" } },
          id: 'products\u0000{"S":"a"}',
          after: { put: { ProductId: { S: "a" }, X: { S: "1" } } },
        },
      ],
    });
    const upd = classify(
      target("UpdateItem"),
      { TableName: "p-orders", Key: { OrderId: { S: "o" } } },
      strong,
    );
    expect(upd.kind === "write" && upd.items[0]?.after).to.equal("read back");
    const del = classify(
      target("DeleteItem"),
      { TableName: "p-orders", Key: { OrderId: { S: "o" } } },
      strong,
    );
    expect(del.kind === "write" && del.items[0]?.after).to.equal("deleted");
    expect(
      classify(target("PutItem"), { TableName: "p-kv", Item: { Key: { S: "k" } } }, strong),
    ).to.deep.equal({ kind: "pass" });
    expect(
      classify(
        target("GetItem"),
        { TableName: "p-products", Key: { ProductId: { S: "a" } } },
        strong,
      ),
    ).to.deep.equal({ kind: "pass" });
  });

  it("a batch writes only its strong items", () => {
    const op = classify(
      target("BatchWriteItem"),
      {
        RequestItems: {
          "p-products": [
            { PutRequest: { Item: { ProductId: { S: "a" } } } },
            { DeleteRequest: { Key: { ProductId: { S: "b" } } } },
          ],
          "p-kv": [{ PutRequest: { Item: { Key: { S: "k" } } } }],
        },
      },
      strong,
    );
    expect(op.kind === "write" && op.items.map((i) => i.id)).to.deep.equal([
      'products\u0000{"S":"a"}',
      'products\u0000{"S":"b"}',
    ]);
  });

  it("transactions and PartiQL naming a strong table are refused; on kv alone they pass", () => {
    const tx = {
      TransactItems: [{ Put: { TableName: "p-kv" } }, { Update: { TableName: "p-orders" } }],
    };
    expect(classify(target("TransactWriteItems"), tx, strong)).to.deep.equal({
      kind: "refuse",
      table: "p-orders",
      what: "TransactWriteItems",
    });
    expect(
      classify(
        target("TransactGetItems"),
        { TransactItems: [{ Get: { TableName: "p-products" } }] },
        strong,
      ),
    ).to.deep.include({ kind: "refuse" });
    expect(
      classify(
        target("TransactWriteItems"),
        { TransactItems: [{ Put: { TableName: "p-kv" } }] },
        strong,
      ),
    ).to.deep.equal({ kind: "pass" });
    expect(
      classify(target("ExecuteStatement"), { Statement: 'UPDATE "p-products" SET a=1' }, strong),
    ).to.deep.include({ kind: "refuse" });
  });

  it("a body that is not a JSON object is refused", () => {
    for (const body of [null, 3, "x"])
      expect(() => classify(target("PutItem"), body, strong)).to.throw(/not a JSON object/);
  });

  it("errors carry DynamoDB's __type so the SDK names the exception", () => {
    expect(
      JSON.parse(dynamoError(400, "ReplicatedWriteConflictException", "m").body),
    ).to.deep.equal({
      __type: "com.amazonaws.dynamodb.v20120810#ReplicatedWriteConflictException",
      message: "m",
    });
  });
});

describe("--consistency on npm start and npm run drill", () => {
  it("strong with the default regions plays a witness; latency and witness are taken", () => {
    const parsed = parseStartArgs(["--consistency", "strong", "--mrsc-write-latency-ms", "35"]);
    expect(parsed !== "help" && parsed.options).to.deep.include({
      consistency: "strong",
      mrscWriteLatencyMs: 35,
    });
    const three = parseStartArgs([
      "--consistency",
      "strong",
      "--regions",
      "us-east-1,us-east-2,us-west-2",
    ]);
    expect(three !== "help" && three.options.regions).to.have.length(3);
    const drill = parseDrillArgs(["--consistency", "strong", "--witness-region", "us-east-2"]);
    expect(drill !== "help" && drill.consistency).to.deep.equal({
      consistency: "strong",
      witnessRegion: "us-east-2",
    });
  });

  const bad: [string[], RegExp][] = [
    [["--consistency", "linear"], /--consistency must be one of eventual, strong: got linear/],
    [["--witness-region", "us-east-2"], /--witness-region needs --consistency strong/],
    [["--mrsc-write-latency-ms", "10"], /--mrsc-write-latency-ms needs --consistency strong/],
    [["--consistency", "strong", "--mrsc-write-latency-ms", "1.5"], /must be a whole number/],
    [
      ["--consistency", "strong", "--regions", "us-east-1,eu-west-1"],
      /--consistency strong: .*eu-west-1 is not in the set/,
    ],
    [
      [
        "--consistency",
        "strong",
        "--regions",
        "us-east-1,us-east-2,us-west-2",
        "--witness-region",
        "us-east-2",
      ],
      /three replicas or two replicas and a witness/,
    ],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(" ")}`, () => {
      expect(() => parseStartArgs(argv)).to.throw(UsageError, message);
      expect(() => parseDrillArgs(argv)).to.throw(UsageError, message);
    });
  }

  it("the drill takes consistency options only for its own sandbox", () => {
    expect(() =>
      parseDrillArgs(["--endpoint", "http://127.0.0.1:1", "--consistency", "strong"]),
    ).to.throw(/--consistency configure the drill's own sandbox/);
    expect(parseConsistencyOptions({}, ["us-east-1", "us-west-2"])).to.deep.equal({});
  });
});
