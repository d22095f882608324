import { expect } from "chai";
import {
  ARC_CONTROL_PLANE_DEFAULTS,
  ArcControlPlane,
  validateArcControlPlaneArgs,
  type ArcControlPlaneArgs,
  type ArcRegionArgs,
} from "../components";
import {
  parentTypes,
  promiseOf,
  refusedUnderMocks,
  registeredUrns,
  underMocks,
  type MockEngine,
  type RecordedResource,
} from "./support/pulumi";

const CLUSTER = "aws:route53recoverycontrol/cluster:Cluster";
const PANEL = "aws:route53recoverycontrol/controlPanel:ControlPanel";
const CONTROL = "aws:route53recoverycontrol/routingControl:RoutingControl";
const RULE = "aws:route53recoverycontrol/safetyRule:SafetyRule";
const HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck";
const CELL = "aws:route53recoveryreadiness/cell:Cell";
const GROUP = "aws:route53recoveryreadiness/recoveryGroup:RecoveryGroup";
const RESOURCE_SET = "aws:route53recoveryreadiness/resourceSet:ResourceSet";
const CHECK = "aws:route53recoveryreadiness/readinessCheck:ReadinessCheck";
const ARC_TYPES = [CLUSTER, PANEL, CONTROL, RULE, CELL, GROUP, RESOURCE_SET, CHECK];

function region(name: string, api: string): ArcRegionArgs {
  return {
    region: name,
    stageArn: `arn:aws:apigateway:${name}::/restapis/${api}/stages/prod`,
    functionArns: {
      createOrder: `arn:aws:lambda:${name}:000000000000:function:create-order`,
      health: `arn:aws:lambda:${name}:000000000000:function:health`,
    },
    tableArns: {
      orders: `arn:aws:dynamodb:${name}:000000000000:table/shop-orders`,
      kv: `arn:aws:dynamodb:${name}:000000000000:table/shop-kv`,
    },
  };
}

const REGIONS = [region("us-east-1", "api1"), region("us-west-2", "api2")];

function build(args: Partial<ArcControlPlaneArgs> = {}) {
  return new ArcControlPlane("arc", { regions: REGIONS, namePrefix: "shop", ...args });
}

describe("ArcControlPlane", () => {
  let engine: MockEngine;
  let arc: ArcControlPlane;
  const byName = (type: string) =>
    Object.fromEntries(engine.ofType(type).map((r) => [r.name, r])) as Record<
      string,
      RecordedResource
    >;

  before(async () => {
    // The stack's region is not us-west-2: ARC resources must still land there.
    ({ engine, result: arc } = await underMocks("eu-central-1", () => build({ readiness: true })));
  });

  it("creates exactly one cluster, one control panel on it, and one routing control per region", () => {
    const [cluster, ...moreClusters] = engine.ofType(CLUSTER);
    expect(moreClusters).to.be.empty;
    const panels = engine.ofType(PANEL);
    expect(panels).to.have.length(1);
    expect(panels[0]!.inputs["clusterArn"]).to.equal(cluster!.state["arn"]);
    const controls = engine.ofType(CONTROL);
    expect(controls.map((c) => c.inputs["name"])).to.deep.equal([
      "shop-us-east-1",
      "shop-us-west-2",
    ]);
    for (const c of controls) {
      expect(c.inputs["controlPanelArn"]).to.equal(panels[0]!.state["arn"]);
      expect(c.inputs["clusterArn"]).to.equal(cluster!.state["arn"]);
    }
  });

  it("places every ARC configuration resource in us-west-2 through its own provider", () => {
    const providers = engine.ofType("pulumi:providers:aws");
    expect(providers.map((p) => p.inputs["region"])).to.deep.equal(["us-west-2"]);
    for (const type of ARC_TYPES) {
      const resources = engine.ofType(type);
      expect(resources, type).to.not.be.empty;
      for (const r of resources) expect(r.region, `${type} ${r.name}`).to.equal("us-west-2");
    }
  });

  it("the safety rule asserts every routing control: ATLEAST 1, not inverted, wait from args", () => {
    const rules = engine.ofType(RULE);
    expect(rules).to.have.length(1);
    const rule = rules[0]!;
    expect(rule.inputs["assertedControls"]).to.deep.equal(
      engine.ofType(CONTROL).map((c) => c.state["arn"]),
    );
    expect(rule.inputs["ruleConfig"]).to.deep.equal({
      type: "ATLEAST",
      threshold: 1,
      inverted: false,
    });
    expect(rule.inputs["waitPeriodMs"]).to.equal(5000);
    expect(rule.inputs["gatingControls"]).to.equal(undefined);
  });

  it("one RECOVERY_CONTROL health check per routing control, output by region", async () => {
    const checks = byName(HEALTH_CHECK);
    const controls = byName(CONTROL);
    expect(Object.keys(checks).sort()).to.deep.equal(["arc-us-east-1", "arc-us-west-2"]);
    for (const r of ["us-east-1", "us-west-2"]) {
      expect(checks[`arc-${r}`]!.inputs["type"]).to.equal("RECOVERY_CONTROL");
      expect(checks[`arc-${r}`]!.inputs["routingControlArn"]).to.equal(
        controls[`arc-${r}`]!.state["arn"],
      );
    }
    expect(await promiseOf(arc.healthCheckIds)).to.deep.equal({
      "us-east-1": checks["arc-us-east-1"]!.id,
      "us-west-2": checks["arc-us-west-2"]!.id,
    });
    expect(await promiseOf(arc.routingControlArns)).to.deep.equal({
      "us-east-1": controls["arc-us-east-1"]!.state["arn"],
      "us-west-2": controls["arc-us-west-2"]!.state["arn"],
    });
  });

  it("outputs the cluster ARN, its five endpoints with their regions, and the panel ARN", async () => {
    const cluster = engine.ofType(CLUSTER)[0]!;
    expect(await promiseOf(arc.clusterArn)).to.equal(cluster.state["arn"]);
    const endpoints = await promiseOf(arc.clusterEndpoints);
    expect(endpoints).to.deep.equal(cluster.state["clusterEndpoints"]);
    expect(endpoints).to.have.length(5);
    for (const e of endpoints) expect(Object.keys(e).sort()).to.deep.equal(["endpoint", "region"]);
    expect(await promiseOf(arc.controlPanelArn)).to.equal(engine.ofType(PANEL)[0]!.state["arn"]);
  });

  it("readiness: one cell per region, all in one recovery group", () => {
    const cells = engine.ofType(CELL);
    expect(cells.map((c) => c.inputs["cellName"])).to.deep.equal([
      "shop-us-east-1",
      "shop-us-west-2",
    ]);
    const groups = engine.ofType(GROUP);
    expect(groups).to.have.length(1);
    expect(groups[0]!.inputs["recoveryGroupName"]).to.equal("shop");
    expect(groups[0]!.inputs["cells"]).to.deep.equal(cells.map((c) => c.state["arn"]));
  });

  it("readiness resource sets cover every stage, function and table, each in its own region's cell", () => {
    const cellOf = Object.fromEntries(
      engine.ofType(CELL).map((c) => [c.inputs["cellName"].replace("shop-", ""), c.state["arn"]]),
    );
    const sets = byName(RESOURCE_SET);
    const expected = (pick: (r: ArcRegionArgs) => string[]) =>
      REGIONS.flatMap((r) =>
        pick(r).map((resourceArn) => ({ resourceArn, readinessScopes: [cellOf[r.region]] })),
      );
    expect(Object.keys(sets).sort()).to.deep.equal(["arc-functions", "arc-stages", "arc-tables"]);
    expect(sets["arc-stages"]!.inputs["resourceSetType"]).to.equal("AWS::ApiGateway::Stage");
    expect(sets["arc-stages"]!.inputs["resources"]).to.deep.equal(
      expected((r) => [r.stageArn as string]),
    );
    expect(sets["arc-functions"]!.inputs["resourceSetType"]).to.equal("AWS::Lambda::Function");
    expect(sets["arc-functions"]!.inputs["resources"]).to.deep.equal(
      expected((r) => Object.values(r.functionArns as Record<string, string>)),
    );
    expect(sets["arc-tables"]!.inputs["resourceSetType"]).to.equal("AWS::DynamoDB::Table");
    expect(sets["arc-tables"]!.inputs["resources"]).to.deep.equal(
      expected((r) => Object.values(r.tableArns as Record<string, string>)),
    );
    // Every resource's ARN names the region of the cell it is scoped to.
    for (const set of Object.values(sets)) {
      for (const m of set.inputs["resources"]) {
        const region = String(m.resourceArn).split(":")[3];
        expect(m.readinessScopes, m.resourceArn).to.deep.equal([cellOf[region!]]);
      }
    }
  });

  it("one readiness check per resource set", () => {
    const checks = engine.ofType(CHECK);
    expect(
      checks.map((c) => [c.inputs["readinessCheckName"], c.inputs["resourceSetName"]]).sort(),
    ).to.deep.equal([
      ["shop-functions-check", "shop-functions"],
      ["shop-stages-check", "shop-stages"],
      ["shop-tables-check", "shop-tables"],
    ]);
  });

  it("every child is parented to the component", async () => {
    const urns = await registeredUrns();
    for (const r of engine.resources.filter((r) => r.type !== "pulumi:providers:aws")) {
      if (r.type.startsWith("resilient-dynamo:")) continue;
      expect(parentTypes(urns, r.type, r.name), `${r.type} ${r.name}`).to.deep.equal([
        "resilient-dynamo:index:ArcControlPlane",
      ]);
    }
  });

  describe("options", () => {
    it("a gating rule adds a gate control (no health check) that gates every region's control", async () => {
      const { engine: e } = await underMocks("us-east-1", () =>
        build({ gatingRule: { waitPeriodMs: 1000 }, safetyRuleWaitPeriodMs: 7000 }),
      );
      const controls = e.ofType(CONTROL);
      const gate = controls.find((c) => c.name === "arc-gate")!;
      expect(gate.inputs["name"]).to.equal("shop-gate");
      const regional = controls.filter((c) => c !== gate).map((c) => c.state["arn"]);
      const rules = Object.fromEntries(e.ofType(RULE).map((r) => [r.name, r.inputs]));
      expect(rules["arc-gating"]).to.deep.include({
        gatingControls: [gate.state["arn"]],
        targetControls: regional,
        waitPeriodMs: 1000,
      });
      expect(rules["arc-at-least-one"]!["assertedControls"]).to.deep.equal(regional);
      expect(rules["arc-at-least-one"]!["waitPeriodMs"]).to.equal(7000);
      expect(e.ofType(HEALTH_CHECK).map((h) => h.inputs["routingControlArn"])).to.not.include(
        gate.state["arn"],
      );
    });

    it("readiness off creates no readiness resource, only routing control", async () => {
      const { engine: e } = await underMocks("us-east-1", () => build({ readiness: false }));
      for (const type of [CELL, GROUP, RESOURCE_SET, CHECK])
        expect(e.ofType(type), type).to.be.empty;
      expect(e.ofType(CONTROL)).to.have.length(2);
    });

    it("readiness is off unless asked for (AWS closed it to new customers)", async () => {
      expect(ARC_CONTROL_PLANE_DEFAULTS.readiness).to.equal(false);
      const { engine: e } = await underMocks("us-east-1", () => build());
      for (const type of [CELL, GROUP, RESOURCE_SET, CHECK])
        expect(e.ofType(type), type).to.be.empty;
      expect(e.ofType(CONTROL)).to.have.length(2);
      expect(e.ofType(HEALTH_CHECK)).to.have.length(2);
    });

    it("three regions: three controls, three checks, three cells, one rule over all three", async () => {
      const { engine: e } = await underMocks("us-east-1", () =>
        build({ regions: [...REGIONS, region("eu-west-1", "api3")], readiness: true }),
      );
      expect(e.ofType(CONTROL)).to.have.length(3);
      expect(e.ofType(HEALTH_CHECK)).to.have.length(3);
      expect(e.ofType(CELL)).to.have.length(3);
      expect(e.ofType(RULE)[0]!.inputs["assertedControls"]).to.have.length(3);
    });
  });

  describe("bad arguments fail before any resource exists", () => {
    const cases: [string, Partial<ArcControlPlaneArgs>, RegExp][] = [
      ["one region", { regions: [REGIONS[0]!] }, /at least two regions to route between: got 1/],
      ["no regions", { regions: [] }, /at least two regions.*got 0/],
      [
        "a repeated region",
        { regions: [REGIONS[0]!, REGIONS[0]!] },
        /duplicate region us-east-1 in regions/,
      ],
      [
        "a bad region name",
        { regions: [REGIONS[0]!, { ...REGIONS[1]!, region: "uswest2" }] },
        /regions\[1\]\.region must be an AWS region name such as us-east-1: got "uswest2"/,
      ],
      [
        "a negative wait period",
        { safetyRuleWaitPeriodMs: -1 },
        /safetyRuleWaitPeriodMs must be a whole number of milliseconds, 0 or more: got -1/,
      ],
      [
        "a fractional gating wait",
        { gatingRule: { waitPeriodMs: 1.5 } },
        /gatingRule\.waitPeriodMs must be a whole number.*got 1\.5/,
      ],
      [
        "a name prefix with a space",
        { namePrefix: "my shop" },
        /namePrefix must be 1-40.*"my shop"/,
      ],
      ["a name prefix too long", { namePrefix: "x".repeat(41) }, /namePrefix must be 1-40/],
    ];
    for (const [what, patch, message] of cases) {
      it(what, async () => {
        expect(() => validateArcControlPlaneArgs({ regions: REGIONS, ...patch })).to.throw(message);
        const { error, engine: e } = await refusedUnderMocks("us-east-1", () => build(patch));
        expect(error.message).to.match(message);
        expect(e.resources.filter((r) => !r.type.startsWith("resilient-dynamo:"))).to.be.empty;
      });
    }
  });
});
