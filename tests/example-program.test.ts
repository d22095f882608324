/**
 * examples/single-region: a program of another team (one region, one table, one function) that
 * uses the component package by its name, as an outsider would. Evaluated under the mocks.
 */
import { join } from "node:path";
import { expect } from "chai";
import { MockEngine, evaluate, settle } from "../tools/mock-engine";
import { json } from "./support/pulumi";

const PROGRAM = join(__dirname, "..", "examples", "single-region", "index.ts");
const REGION = "eu-west-1";

describe("the example program (examples/single-region) builds on the package alone", function () {
  this.timeout(120_000);
  const engine = new MockEngine({ defaultRegion: REGION });
  let outputs: Record<string, unknown>;

  before(async () => {
    const exports = await evaluate(
      engine,
      { project: "page-visits", stack: "dev", config: { "aws:region": REGION } },
      () => {
        delete require.cache[require.resolve(PROGRAM)];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(PROGRAM) as Record<string, unknown>;
      },
    );
    outputs = {
      url: await settle(exports["url"] as string),
      tableName: await settle(exports["tableName"] as string),
    };
  });

  it("creates its one table with the package's closed defaults", () => {
    const tables = engine.ofType("aws:dynamodb/table:Table");
    expect(tables.map((t) => t.inputs["name"])).to.deep.equal(["page-visits-visits"]);
    const table = tables[0]!.inputs;
    expect(table["hashKey"]).to.equal("Page");
    expect(table["replicas"] ?? []).to.deep.equal([]);
    expect(table["deletionProtectionEnabled"]).to.equal(true);
    expect(table["pointInTimeRecovery"]).to.deep.include({ enabled: true });
    expect(table["serverSideEncryption"]).to.deep.include({ enabled: true });
    expect(outputs["tableName"]).to.equal("page-visits-visits");
  });

  it("creates its one function, allowed exactly UpdateItem on that table", () => {
    const fns = engine.ofType("aws:lambda/function:Function");
    expect(fns).to.have.length(1);
    const fn = fns[0]!;
    expect(fn.inputs["environment"].variables["VISITS_TABLE"]).to.equal("page-visits-visits");
    const role = engine
      .ofType("aws:iam/role:Role")
      .find((r) => r.state["arn"] === fn.inputs["role"]);
    const policy = engine
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .find((p) => p.inputs["role"] === role?.state["name"]);
    const dynamo = json(policy?.inputs["policy"]).Statement.filter((s: { Action: string[] }) =>
      s.Action.some((a) => a.startsWith("dynamodb:")),
    );
    expect(dynamo).to.have.length(1);
    expect(dynamo[0].Action).to.deep.equal(["dynamodb:UpdateItem"]);
    expect(dynamo[0].Resource).to.deep.equal([
      `arn:aws:dynamodb:${REGION}:000000000000:table/page-visits-visits`,
    ]);
  });

  it("serves its one route, signed (AWS_IAM)", () => {
    const methods = engine.ofType("aws:apigateway/method:Method");
    expect(methods.map((m) => [m.inputs["httpMethod"], m.inputs["authorization"]])).to.deep.equal([
      ["POST", "AWS_IAM"],
    ]);
    const paths = engine
      .ofType("aws:apigateway/resource:Resource")
      .map((r) => r.inputs["pathPart"]);
    expect(paths).to.have.members(["visits", "{page}"]);
    expect(outputs["url"]).to.match(/^https:\/\/.+\.execute-api\.eu-west-1\.amazonaws\.com\//);
  });
});
