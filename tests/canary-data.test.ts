/**
 * Canaries from the first `pulumi up`: the primary stack writes the canary's customer, product
 * and order as items of the global tables, and every canary reads them unless config names other
 * ids. (That the items read back through the API is tested against DynamoDB Local in
 * handlers.test.ts.)
 */
import { expect } from "chai";
import { canaryItemJson } from "../functions/data/canary-items";
import { CANARY_ORDER_ID, CANARY_PRODUCT_ID } from "../functions/domain/canary-data";
import { tableSpec } from "../functions/tables";
import type { StackEvaluation } from "../tools/evaluate-stack";
import { OTHER_IDS_AND_CORS, sharedEvaluation } from "./support/stacks";

const ITEM = "aws:dynamodb/tableItem:TableItem";
const CANARY = "aws:synthetics/canary:Canary";
const ids = (run: StackEvaluation) =>
  run.engine.ofType(CANARY).map((c) => {
    const env = c.inputs["runConfig"].environmentVariables as Record<string, string>;
    return [env["CANARY_ORDER_ID"], env["CANARY_PRODUCT_ID"]];
  });

describe("canary data from the first pulumi up", function () {
  this.timeout(240_000);
  let region1: StackEvaluation;
  let region2: StackEvaluation;

  before(async () => {
    region1 = await sharedEvaluation("region1");
    region2 = await sharedEvaluation("region2", {}, { region1: {} });
  });

  it("the primary writes the canary's customer, product and order into its tables, in its region", () => {
    const items = region1.engine.ofType(ITEM);
    const json = canaryItemJson("us-east-1");
    expect(
      items.map((i) => [i.inputs["tableName"], i.inputs["hashKey"], i.inputs["item"], i.region]),
    ).to.have.deep.members(
      (["customers", "products", "orders"] as const).map((t) => [
        `resilient-dynamo-${t}`,
        tableSpec(t).hashKey,
        json[t],
        "us-east-1",
      ]),
    );
    expect(JSON.parse(json.orders)).to.deep.include({
      OrderId: { S: CANARY_ORDER_ID },
      ProductId: { S: CANARY_PRODUCT_ID },
    });
  });

  it("a secondary writes no item: the global tables bring them", () => {
    expect(region2.engine.ofType(ITEM)).to.deep.equal([]);
  });

  it("every canary of both stacks exists without config and reads the canary items", () => {
    expect(region1.engine.ofType(CANARY)).to.have.length(1);
    expect(region2.engine.ofType(CANARY)).to.have.length(4);
    for (const pair of [...ids(region1), ...ids(region2)]) {
      expect(pair).to.deep.equal([CANARY_ORDER_ID, CANARY_PRODUCT_ID]);
    }
  });

  it("config can point the canaries at other ids; the canary items stay", async () => {
    const run = await sharedEvaluation("region1", OTHER_IDS_AND_CORS);
    expect(ids(run)).to.deep.equal([["o-1", "p-1"]]);
    expect(run.engine.ofType(ITEM)).to.have.length(3);
  });
});
