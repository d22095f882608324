/**
 * Upgrading to the component package (1.0.0) must not replace anything a deployed stack has: every
 * component's type token changed (`resilient-dynamo:data:GlobalTableSet` became
 * `resilient-dynamo:index:GlobalTableSet`), so each component carries an alias to its old type.
 * The engine combines a parent's aliases with each child's name and type when it looks up the
 * child's old state (pulumi.com/docs/iac/concepts/resources/options/aliases/), so one alias on the
 * component keeps every table, API, canary and ARC resource under it.
 *
 * tests/fixtures/urns-0.1.0.json holds the URNs region1 and region2 planned under the mocks before
 * the package (eventual and strong): each must still be there, as is or through the aliases.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { RecordedResource } from "../tools/mock-engine";
import { planStack, withConsistency } from "../tools/planner";
import { readStackConfig } from "../tools/stack-config";

const PROJECT_PREFIX = (stack: string): string => `urn:pulumi:${stack}::resilient-dynamo::`;

type Planned = Pick<RecordedResource, "urn" | "type" | "parent" | "aliasTypes">;

/**
 * The URNs the resource answers to in a stack deployed before: its URN with each parent in its
 * type chain under the type that parent aliases, and its own type as is or as it aliases.
 */
export function previousUrns(resource: Planned, parentType: ReadonlyMap<string, string>): string[] {
  const head = resource.urn.slice(
    0,
    resource.urn.indexOf("::", resource.urn.indexOf("::") + 2) + 2,
  );
  const rest = resource.urn.slice(head.length);
  const cut = rest.lastIndexOf("::");
  const chain = rest.slice(0, cut).split("$");
  const parents = chain.slice(0, -1).map((type) => parentType.get(type) ?? type);
  return [resource.type, ...resource.aliasTypes].map(
    (own) => `${head}${[...parents, own].join("$")}${rest.slice(cut)}`,
  );
}

/** The old URNs that no planned resource answers to, directly or through an alias. */
export function unmatched(before: readonly string[], planned: readonly Planned[]): string[] {
  const parents = new Set(planned.map((r) => r.parent));
  const parentType = new Map<string, string>();
  for (const r of planned) {
    if (parents.has(r.urn)) for (const old of r.aliasTypes) parentType.set(r.type, old);
  }
  const found = new Set(planned.flatMap((r) => [r.urn, ...previousUrns(r, parentType)]));
  return before.filter((urn) => !found.has(urn));
}

const fixture = JSON.parse(
  readFileSync(join(__dirname, "fixtures", "urns-0.1.0.json"), "utf8"),
) as Record<string, string[]>;

const eventualPlans = new Map<string, ReturnType<typeof planStack>>();
function eventualPlan(stack: string): ReturnType<typeof planStack> {
  if (!eventualPlans.has(stack)) eventualPlans.set(stack, planStack(stack));
  return eventualPlans.get(stack) as ReturnType<typeof planStack>;
}

async function planned(stack: string): Promise<RecordedResource[]> {
  const eventual = await eventualPlan(stack);
  const strong = await planStack(stack, {
    readConfig: withConsistency((s) => readStackConfig(s), "strong", "us-east-2"),
  });
  return [...eventual.resources, ...strong.resources];
}

describe("upgrading to the component package keeps every deployed resource", function () {
  this.timeout(240_000);

  for (const stack of ["region1", "region2"]) {
    it(`${stack}: every resource of 0.1.0 keeps its URN or is reached through an alias`, async () => {
      const resources = await planned(stack);
      const before = (fixture[stack] ?? []).map((urn) => PROJECT_PREFIX(stack) + urn);
      expect(before.length).to.be.greaterThan(100);
      expect(unmatched(before, resources)).to.deep.equal([]);
      // Tables, APIs and ARC resources sit under components whose type changed: they are kept
      // only through the alias, not by an unchanged URN.
      const kept = resources.filter((r) => r.type === "aws:dynamodb/table:Table");
      if (stack === "region1") expect(kept.length).to.be.greaterThan(0);
      for (const table of kept) expect(before).to.not.include(table.urn);
    });
  }

  it("every component has a <package>:index:<Class> type and aliases the type it had", async () => {
    const resources = await eventualPlan("region2");
    const components = resources.resources.filter((r) => r.type.startsWith("resilient-dynamo:"));
    expect(components.length).to.be.greaterThan(5);
    for (const c of components) {
      expect(c.type, c.urn).to.match(/^resilient-dynamo:index:[A-Z][A-Za-z]+$/);
      if (c.type !== "resilient-dynamo:index:ApiAccountLogging") {
        expect(c.aliasTypes, c.urn).to.have.length(1);
        expect(c.aliasTypes[0], c.urn).to.match(/^resilient-dynamo:[a-z]+:[A-Z][A-Za-z]+$/);
      }
    }
  });

  it("counts the old resources a component without its alias would lose", () => {
    const stack = "urn:pulumi:s::resilient-dynamo::";
    const before = [
      `${stack}resilient-dynamo:data:GlobalTableSet::orders-data`,
      `${stack}resilient-dynamo:data:GlobalTableSet$aws:dynamodb/table:Table::orders-data-orders`,
      `${stack}aws:s3/bucket:Bucket::loose`,
    ];
    const table = `${stack}resilient-dynamo:index:GlobalTableSet$aws:dynamodb/table:Table::orders-data-orders`;
    const component = `${stack}resilient-dynamo:index:GlobalTableSet::orders-data`;
    const bucket: Planned = {
      urn: `${stack}aws:s3/bucket:Bucket::loose`,
      type: "aws:s3/bucket:Bucket",
      parent: undefined,
      aliasTypes: ["aws:s3/bucketV2:BucketV2"],
    };
    const withAlias: Planned[] = [
      {
        urn: component,
        type: "resilient-dynamo:index:GlobalTableSet",
        parent: undefined,
        aliasTypes: ["resilient-dynamo:data:GlobalTableSet"],
      },
      { urn: table, type: "aws:dynamodb/table:Table", parent: component, aliasTypes: [] },
      bucket,
    ];
    expect(unmatched(before, withAlias)).to.deep.equal([]);
    const withoutAlias = withAlias.map((r) => (r === bucket ? r : { ...r, aliasTypes: [] }));
    expect(unmatched(before, withoutAlias)).to.deep.equal(before.slice(0, 2));
  });
});
