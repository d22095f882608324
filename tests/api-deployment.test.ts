import { expect } from "chai";
import fc from "fast-check";
import { RegionalApi, type RegionalApiArgs } from "../components";
import { canonicalJson, revisionHash, type RevisionPart } from "../components/api-deployment";
import { TABLES, type TableKey } from "../functions/tables";
import { SERVICE_API } from "../stack/service-api";
import { underMocks, type MockEngine } from "./support/pulumi";

const REGION = "us-east-1";
const byTable = (f: (key: TableKey) => string) =>
  Object.fromEntries(TABLES.map((t) => [t.key, f(t.key)])) as Record<TableKey, string>;
const args: RegionalApiArgs = {
  ...SERVICE_API,
  region: REGION,
  namePrefix: "shop",
  tableNames: byTable((k) => `shop-${k}`),
  tableArns: byTable((k) => `arn:aws:dynamodb:${REGION}:000000000000:table/shop-${k}`),
  corsAllowOrigin: "https://app.example.com",
};

/** Every resource type whose inputs a deployment snapshot (or its invocation) depends on. */
const SNAPSHOT_TYPES = [
  "aws:apigateway/method:Method",
  "aws:apigateway/integration:Integration",
  "aws:apigateway/methodResponse:MethodResponse",
  "aws:apigateway/integrationResponse:IntegrationResponse",
  "aws:apigateway/response:Response",
  "aws:lambda/permission:Permission",
];

function snapshotParts(engine: MockEngine): RevisionPart[] {
  return engine.resources
    .filter((r) => SNAPSHOT_TYPES.includes(r.type))
    .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
}

/** Every path to a leaf (string, number, boolean) of a JSON value. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) =>
      leaves(v, [...path, Array.isArray(value) ? Number(k) : k]),
    );
  }
  return [path];
}

describe("API deployment trigger", function () {
  this.timeout(60_000);
  let engine: MockEngine;

  before(async () => {
    ({ engine } = await underMocks(REGION, () => new RegionalApi("api", args)));
  });

  it("the deployment's trigger is the hash of every method, integration, response and permission input", () => {
    const parts = snapshotParts(engine);
    // Every kind is there: a trigger over a subset would miss changes to the rest.
    expect(new Set(parts.map((p) => p.type))).to.deep.equal(new Set(SNAPSHOT_TYPES));
    const [deployment, ...more] = engine.ofType("aws:apigateway/deployment:Deployment");
    expect(more).to.have.length(0);
    expect(deployment!.inputs["triggers"]).to.deep.equal({ revision: revisionHash(parts) });
  });

  it("a change to any input of any of them changes the trigger (the stage redeploys)", () => {
    const parts = snapshotParts(engine);
    const base = revisionHash(parts);
    const targets = parts.flatMap((p, i) => leaves(p.inputs).map((path) => ({ i, path })));
    expect(targets.length).to.be.greaterThan(100);
    fc.assert(
      fc.property(fc.constantFrom(...targets), ({ i, path }) => {
        const changed = structuredClone(parts) as { inputs: Record<string, any> }[];
        let node: any = changed[i]!.inputs;
        for (const key of path.slice(0, -1)) node = node[key];
        const last = path.at(-1)!;
        node[last] = typeof node[last] === "string" ? `${node[last]}x` : !node[last];
        return revisionHash(changed as RevisionPart[]) !== base;
      }),
      { numRuns: 300 },
    );
  });

  it("a removed route (a method fewer) changes the trigger", () => {
    const parts = snapshotParts(engine);
    const fewer = parts.filter((p) => !(p.name === "api-put-kv-key"));
    expect(fewer.length).to.be.lessThan(parts.length);
    expect(revisionHash(fewer)).to.not.equal(revisionHash(parts));
  });

  it("does not depend on declaration order or key order", () => {
    const parts = snapshotParts(engine);
    const reversed = [...parts]
      .reverse()
      .map((p) => ({ ...p, inputs: JSON.parse(canonicalJson(p.inputs)) }));
    expect(revisionHash(reversed)).to.equal(revisionHash(parts));
  });

  it("the stage moves to the new deployment before the old one is deleted (no deleteBeforeReplace)", () => {
    const [deployment] = engine.ofType("aws:apigateway/deployment:Deployment");
    const [stage] = engine.ofType("aws:apigateway/stage:Stage");
    expect(deployment!.options.deleteBeforeReplace).to.equal(false);
    expect(stage!.inputs["deployment"]).to.equal(deployment!.id);
  });
});
