import * as path from "node:path";
import { expect } from "chai";
import { evaluateStack, stackRefName, type StackEvaluation } from "../tools/evaluate-stack";
import { PROJECT_DIR, readStackConfig } from "../tools/stack-config";
import { rejection } from "./support/errors";
import { configOf, sharedEvaluation } from "./support/stacks";

const CLUSTER = "aws:route53recoverycontrol/cluster:Cluster";
const PANEL = "aws:route53recoverycontrol/controlPanel:ControlPanel";
const CONTROL = "aws:route53recoverycontrol/routingControl:RoutingControl";
const RULE = "aws:route53recoverycontrol/safetyRule:SafetyRule";
const HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck";
const CELL = "aws:route53recoveryreadiness/cell:Cell";
const RESOURCE_SET = "aws:route53recoveryreadiness/resourceSet:ResourceSet";
const RECORD = "aws:route53/record:Record";
const ZONE = "aws:route53/zone:Zone";
const DOMAIN = "aws:apigateway/domainName:DomainName";
const VPC = "awsx:ec2:Vpc";
const SERVICE = "orders.example.com";

/** The service name's records (not the certificate validation records), by set identifier. */
function serviceRecords(run: StackEvaluation): Record<string, Record<string, any>> {
  return Object.fromEntries(
    run.engine
      .ofType(RECORD)
      .filter((r) => r.inputs["name"] === SERVICE)
      .map((r) => [r.inputs["setIdentifier"], r.inputs]),
  );
}

describe("global routing across region stacks", function () {
  this.timeout(300_000);
  let region1: StackEvaluation;
  let region2: StackEvaluation;
  /** region2 with ARC readiness checks on (off by default: AWS closed them to new customers). */
  let region2Readiness: StackEvaluation;
  const peers = () => ({ [stackRefName("region1")]: region1.outputs });

  before(async () => {
    region1 = await sharedEvaluation("region1");
    region2 = await sharedEvaluation("region2", {}, { region1: {} });
    region2Readiness = await sharedEvaluation("region2", { arcReadiness: "true" }, { region1: {} });
  });

  describe("shipped stacks: region1, then region2 which owns routing (arc)", () => {
    it("region1 owns no routing but serves the service name on its own custom domain", () => {
      expect(region1.outputs["routing"]).to.equal("none");
      for (const key of [
        "serviceDomain",
        "arcClusterArn",
        "routingControlArns",
        "httpsHealthCheckIds",
      ]) {
        expect(region1.outputs[key], key).to.equal(undefined);
      }
      for (const type of [CLUSTER, CONTROL, HEALTH_CHECK, CELL]) {
        expect(region1.engine.ofType(type), type).to.be.empty;
      }
      expect(region1.engine.ofType(DOMAIN).map((d) => d.inputs["domainName"])).to.deep.equal([
        SERVICE,
      ]);
      expect(region1.outputs["regionalDomainName"]).to.match(/\.execute-api\.us-east-1\./);
    });

    it("region2 has exactly one cluster and control panel, and one routing control per region", () => {
      expect(region2.engine.ofType(CLUSTER)).to.have.length(1);
      expect(region2.engine.ofType(PANEL)).to.have.length(1);
      expect(region2.engine.ofType(CONTROL).map((c) => c.inputs["name"])).to.deep.equal([
        "resilient-dynamo-us-west-2",
        "resilient-dynamo-us-east-1",
      ]);
      const rule = region2.engine.ofType(RULE)[0]!;
      expect(rule.inputs["assertedControls"]).to.have.members(
        region2.engine.ofType(CONTROL).map((c) => c.state["arn"]),
      );
      expect(rule.inputs["waitPeriodMs"]).to.equal(5000);
    });

    it("exports what the arc CLI reads, under the agreed names", () => {
      const out = region2.outputs;
      const controls = Object.fromEntries(
        region2.engine.ofType(CONTROL).map((c) => [c.inputs["name"].slice(17), c.state["arn"]]),
      );
      const checks = Object.fromEntries(
        region2.engine.ofType(HEALTH_CHECK).map((h) => [h.name.replace("routing-arc-", ""), h.id]),
      );
      expect(out["routing"]).to.equal("arc");
      expect(out["serviceDomain"]).to.equal(SERVICE);
      expect(out["arcClusterArn"]).to.equal(region2.engine.ofType(CLUSTER)[0]!.state["arn"]);
      expect(out["arcControlPanelArn"]).to.equal(region2.engine.ofType(PANEL)[0]!.state["arn"]);
      expect(out["arcClusterEndpoints"]).to.deep.equal(
        region2.engine.ofType(CLUSTER)[0]!.state["clusterEndpoints"],
      );
      expect(out["arcClusterEndpoints"]).to.have.length(5);
      expect(out["routingControlArns"]).to.deep.equal(controls);
      expect(out["routingHealthCheckIds"]).to.deep.equal(checks);
      expect(out["httpsHealthCheckIds"]).to.equal(undefined);
      expect(Object.keys(checks).sort()).to.deep.equal(["us-east-1", "us-west-2"]);
    });

    it("every region's record aliases that region's custom domain and carries its ARC check", () => {
      const records = serviceRecords(region2);
      expect(Object.keys(records).sort()).to.deep.equal(["us-east-1", "us-west-2"]);
      const ownDomain = region2.engine.ofType(DOMAIN)[0]!.state;
      const target: Record<string, [string, string]> = {
        "us-east-1": [
          region1.outputs["regionalDomainName"] as string,
          region1.outputs["regionalZoneId"] as string,
        ],
        "us-west-2": [ownDomain["regionalDomainName"], ownDomain["regionalZoneId"]],
      };
      const checks = region2.outputs["routingHealthCheckIds"] as Record<string, string>;
      for (const [region, inputs] of Object.entries(records)) {
        expect(inputs["zoneId"]).to.equal("Z0EXAMPLE0000000000");
        expect(inputs["latencyRoutingPolicies"]).to.deep.equal([{ region }]);
        expect(inputs["healthCheckId"], region).to.equal(checks[region]);
        expect(inputs["aliases"]).to.deep.equal([
          { name: target[region]![0], zoneId: target[region]![1], evaluateTargetHealth: true },
        ]);
      }
    });

    it("creates no readiness resources by default (closed to new ARC customers)", () => {
      for (const type of [CELL, RESOURCE_SET])
        expect(region2.engine.ofType(type), type).to.be.empty;
    });

    it("with arcReadiness true, readiness covers both regions' stages, functions and tables, each in its region's cell", () => {
      const cells = Object.fromEntries(
        region2Readiness.engine
          .ofType(CELL)
          .map((c) => [c.inputs["cellName"].slice(17), c.state["arn"]]),
      );
      expect(Object.keys(cells).sort()).to.deep.equal(["us-east-1", "us-west-2"]);
      const sets: Record<string, Record<string, any>> = Object.fromEntries(
        region2Readiness.engine
          .ofType(RESOURCE_SET)
          .map((s) => [s.inputs["resourceSetType"], s.inputs]),
      );
      const arns = (type: string) =>
        (sets[type]!["resources"] as { resourceArn: string }[]).map((m) => m.resourceArn);
      const r1Functions = Object.values(region1.outputs["functionArns"] as object);
      const r2Functions = Object.values(region2.outputs["functionArns"] as object);
      const tableArns = region1.outputs["tableArns"] as Record<string, Record<string, string>>;
      expect(arns("AWS::ApiGateway::Stage")).to.have.members([
        region1.outputs["stageArn"],
        region2.outputs["stageArn"],
      ]);
      expect(arns("AWS::Lambda::Function")).to.have.members([...r1Functions, ...r2Functions]);
      expect(arns("AWS::DynamoDB::Table")).to.have.members([
        ...Object.values(tableArns["us-east-1"]!),
        ...Object.values(tableArns["us-west-2"]!),
      ]);
      for (const set of Object.values(sets)) {
        for (const m of set["resources"]) {
          const region = String(m.resourceArn).split(":")[3]!;
          expect(m.readinessScopes, m.resourceArn).to.deep.equal([cells[region]]);
        }
      }
    });

    it("every ARC configuration resource is in us-west-2", () => {
      for (const type of [CLUSTER, PANEL, CONTROL, RULE, CELL, RESOURCE_SET]) {
        for (const r of region2Readiness.engine.ofType(type))
          expect(r.region, r.name).to.equal("us-west-2");
      }
    });
  });

  it("routing healthcheck: HTTPS 443 checks of /prod/health on each region's own stage host", async () => {
    const run = await evaluateStack("region2", {
      config: configOf("region2", {
        routing: "healthcheck",
        healthCheckIntervalSeconds: "30",
        healthCheckFailureThreshold: "2",
      }),
      stackOutputs: peers(),
    });
    expect(run.engine.ofType(CLUSTER)).to.be.empty;
    expect(run.outputs["arcClusterArn"]).to.equal(undefined);
    expect(run.outputs["serviceDomain"]).to.equal(SERVICE);
    const checks = run.engine.ofType(HEALTH_CHECK);
    const host = (url: unknown) => new URL(String(url)).host;
    expect(checks.map((c) => c.inputs["fqdn"]).sort()).to.deep.equal(
      [host(region1.outputs["invokeUrl"]), host(run.outputs["invokeUrl"])].sort(),
    );
    for (const c of checks) {
      expect(c.inputs).to.deep.include({
        type: "HTTPS",
        port: 443,
        resourcePath: "/prod/health",
        requestInterval: 30,
        failureThreshold: 2,
      });
    }
    const records = serviceRecords(run);
    const ids: Record<string, string> = {};
    for (const c of checks) {
      const region = String(c.inputs["fqdn"]).split(".")[2]!;
      expect(records[region]!["healthCheckId"], region).to.equal(c.id);
      ids[region] = c.id;
    }
    expect(run.outputs["httpsHealthCheckIds"]).to.deep.equal(ids);
  });

  it("routingPolicy failover: region1 PRIMARY, region2 SECONDARY", async () => {
    const run = await evaluateStack("region2", {
      config: configOf("region2", {
        routingPolicy: "failover",
        failoverPrimaryRegion: "us-east-1",
      }),
      stackOutputs: peers(),
    });
    const records = serviceRecords(run);
    expect(records["us-east-1"]!["failoverRoutingPolicies"]).to.deep.equal([{ type: "PRIMARY" }]);
    expect(records["us-west-2"]!["failoverRoutingPolicies"]).to.deep.equal([{ type: "SECONDARY" }]);
  });

  it("zoneType private: each region stack brings a VPC, the zone is associated with both", async () => {
    const r1 = await evaluateStack("region1", {
      config: configOf("region1", { zoneType: "private" }),
    });
    const vpcs = r1.engine.ofType(VPC);
    expect(vpcs).to.have.length(1);
    expect(vpcs[0]!.inputs).to.deep.include({
      region: "us-east-1",
      numberOfAvailabilityZones: 2,
      natGateways: { strategy: "None" },
      enableDnsSupport: true,
      enableDnsHostnames: true,
    });
    expect(r1.outputs["vpcId"]).to.equal(vpcs[0]!.state["vpcId"]);
    const r2 = await evaluateStack("region2", {
      config: configOf("region2", { zoneType: "private", vpcId: "vpc-0123456789abcdef0" }),
      stackOutputs: { [stackRefName("region1")]: r1.outputs },
    });
    expect(r2.engine.ofType(VPC)).to.be.empty;
    const zones = r2.engine.ofType(ZONE);
    expect(zones).to.have.length(1);
    expect(zones[0]!.inputs["name"]).to.equal(SERVICE);
    expect(zones[0]!.inputs["vpcs"]).to.have.deep.members([
      { vpcId: "vpc-0123456789abcdef0", vpcRegion: "us-west-2" },
      { vpcId: r1.outputs["vpcId"], vpcRegion: "us-east-1" },
    ]);
    for (const inputs of Object.values(serviceRecords(r2))) {
      expect(inputs["zoneId"]).to.equal(zones[0]!.state["zoneId"]);
    }
  });

  it("three regions from the region3 example: three controls, three cells, three records", async () => {
    const r1 = await evaluateStack("region1", {
      config: configOf("region1", { replicaRegions: '["us-west-2","eu-west-1"]' }),
    });
    const r3 = await evaluateStack("region3", {
      config: readStackConfig(
        "region3",
        PROJECT_DIR,
        path.join(PROJECT_DIR, "Pulumi.region3.yaml.example"),
      ),
      stackOutputs: {
        [stackRefName("region1")]: r1.outputs,
        [stackRefName("region2")]: region2.outputs,
      },
    });
    expect(r3.outputs["region"]).to.equal("eu-west-1");
    const r2 = await evaluateStack("region2", {
      config: configOf("region2", { peerStacks: '["region1","region3"]', arcReadiness: "true" }),
      stackOutputs: {
        [stackRefName("region1")]: r1.outputs,
        [stackRefName("region3")]: r3.outputs,
      },
    });
    expect(r2.engine.ofType(CONTROL)).to.have.length(3);
    expect(r2.engine.ofType(CELL)).to.have.length(3);
    expect(Object.keys(serviceRecords(r2)).sort()).to.deep.equal([
      "eu-west-1",
      "us-east-1",
      "us-west-2",
    ]);
    expect(Object.keys(r2.outputs["routingControlArns"] as object).sort()).to.deep.equal([
      "eu-west-1",
      "us-east-1",
      "us-west-2",
    ]);
    expect(r2.engine.ofType(RULE)[0]!.inputs["assertedControls"]).to.have.length(3);
  });

  describe("a wrong setup stops with a message naming the key or the stack", () => {
    const configCases: [string, Record<string, string | undefined>, RegExp][] = [
      [
        "routing without a domain",
        { domainName: undefined },
        /resilient-dynamo:domainName: is required when routing is arc/,
      ],
      [
        "routing without a hosted zone",
        { hostedZoneId: undefined },
        /resilient-dynamo:hostedZoneId: is required when routing is arc/,
      ],
      [
        "routing without peer stacks",
        { peerStacks: "[]" },
        /resilient-dynamo:peerStacks: routing spans regions/,
      ],
      [
        "an unknown routing mode",
        { routing: "dns" },
        /resilient-dynamo:routing: got "dns"; expected one of arc, healthcheck, none/,
      ],
      [
        "failover without a primary region",
        { routingPolicy: "failover" },
        /resilient-dynamo:failoverPrimaryRegion: is required when routingPolicy is failover/,
      ],
      [
        "failover with three regions",
        {
          routingPolicy: "failover",
          failoverPrimaryRegion: "us-east-1",
          peerStacks: '["region1","region3"]',
        },
        /resilient-dynamo:routingPolicy: failover takes exactly two regions.*got 2 peer stacks/,
      ],
      [
        "a primary region with latency routing",
        { failoverPrimaryRegion: "us-east-1" },
        /resilient-dynamo:failoverPrimaryRegion: only valid when routingPolicy is failover/,
      ],
      [
        "an interval Route 53 does not offer",
        { healthCheckIntervalSeconds: "15" },
        /resilient-dynamo:healthCheckIntervalSeconds: got 15; expected 10 or 30/,
      ],
      [
        "a failure threshold of 0",
        { healthCheckFailureThreshold: "0" },
        /resilient-dynamo:healthCheckFailureThreshold: got 0; expected a whole number from 1 to 10/,
      ],
      [
        "a VPC with a public zone",
        { vpcId: "vpc-0123456789abcdef0" },
        /resilient-dynamo:vpcId: only used with zoneType private/,
      ],
      [
        "a malformed VPC id",
        { zoneType: "private", vpcId: "vpc-xyz" },
        /resilient-dynamo:vpcId: got "vpc-xyz"; expected a VPC id/,
      ],
      [
        "an unknown zone type",
        { zoneType: "internal" },
        /resilient-dynamo:zoneType: got "internal"; expected public or private/,
      ],
    ];
    for (const [what, patch, message] of configCases) {
      it(what, async () => {
        const error = await rejection(() =>
          evaluateStack("region2", { config: configOf("region2", patch), stackOutputs: peers() }),
        );
        expect(error.message).to.match(message);
      });
    }

    it("routing keys on a stack that does not own routing", async () => {
      const error = await rejection(() =>
        evaluateStack("region1", { config: configOf("region1", { routingPolicy: "failover" }) }),
      );
      expect(error.message).to.match(
        /resilient-dynamo:routingPolicy: only valid on the stack that owns routing/,
      );
    });

    it("a peer stack without a custom domain", async () => {
      const bare = await evaluateStack("region1", {
        config: configOf("region1", { domainName: undefined, hostedZoneId: undefined }),
      });
      const error = await rejection(() =>
        evaluateStack("region2", { stackOutputs: { [stackRefName("region1")]: bare.outputs } }),
      );
      expect(error.message).to.match(
        /stack organization\/resilient-dynamo\/region1 exports no regionalDomainName.*Set resilient-dynamo:domainName orders\.example\.com/,
      );
    });

    it("a peer stack serving another name", async () => {
      const other = await evaluateStack("region1", {
        config: configOf("region1", { domainName: "api.example.com" }),
      });
      const error = await rejection(() =>
        evaluateStack("region2", { stackOutputs: { [stackRefName("region1")]: other.outputs } }),
      );
      expect(error.message).to.match(
        /region1 serves https:\/\/api\.example\.com\/v1, not https:\/\/orders\.example\.com\//,
      );
    });

    it("a private zone whose peer has no VPC", async () => {
      const error = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", { zoneType: "private" }),
          stackOutputs: peers(),
        }),
      );
      expect(error.message).to.match(
        /region1 exports no vpcId for the private zone: set resilient-dynamo:zoneType private in its config/,
      );
    });

    it("a peer stack that owns routing too", async () => {
      const error = await rejection(() =>
        evaluateStack("region2", {
          stackOutputs: { [stackRefName("region1")]: { ...region1.outputs, routing: "arc" } },
        }),
      );
      expect(error.message).to.match(
        /stack organization\/resilient-dynamo\/region1 owns routing too \(routing arc\)/,
      );
    });

    it("two peer stacks in one region", async () => {
      const error = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", { peerStacks: '["region1","region1b"]' }),
          stackOutputs: { ...peers(), [stackRefName("region1b")]: region1.outputs },
        }),
      );
      expect(error.message).to.match(/stacks region1 and region1b are both in us-east-1/);
    });

    it("a failover primary that is not a routed region", async () => {
      const error = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", {
            routingPolicy: "failover",
            failoverPrimaryRegion: "eu-west-1",
          }),
          stackOutputs: peers(),
        }),
      );
      expect(error.message).to.match(
        /resilient-dynamo:failoverPrimaryRegion: got eu-west-1; expected one of the routed regions us-west-2, us-east-1/,
      );
    });

    it("pulumi up (not preview) refuses the shipped example domain", async () => {
      const error = await rejection(() => evaluateStack("region1", { dryRun: false }));
      expect(error.message).to.match(
        /resilient-dynamo:domainName: orders\.example\.com is a reserved example name \(RFC 2606\)/,
      );
    });

    it("pulumi up runs with a real domain", async () => {
      const run = await evaluateStack("region1", {
        dryRun: false,
        config: configOf("region1", { domainName: "orders.acme-corp.io" }),
      });
      expect(run.outputs["url"]).to.equal("https://orders.acme-corp.io/v1");
    });
  });
});
