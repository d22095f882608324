import { expect } from "chai";
import {
  FailoverDns,
  validateFailoverDnsArgs,
  type DnsRegionArgs,
  type FailoverDnsArgs,
} from "../components";
import {
  parentTypes,
  promiseOf,
  refusedUnderMocks,
  registeredUrns,
  underMocks,
  type MockEngine,
} from "./support/pulumi";

const RECORD = "aws:route53/record:Record";
const HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck";
const ZONE = "aws:route53/zone:Zone";

function region(name: string, n: number): DnsRegionArgs {
  return {
    region: name,
    regionalDomainName: `d-${n}.execute-api.${name}.amazonaws.com`,
    regionalZoneId: `ZAPIGW${n}`,
    healthCheckId: `hc-arc-${name}`,
    healthCheckTarget: { fqdn: `api${n}.execute-api.${name}.amazonaws.com`, path: "/prod/health" },
    vpcId: `vpc-0${n}`,
  };
}
const EAST = region("us-east-1", 1);
const WEST = region("us-west-2", 2);
const EU = region("eu-west-1", 3);

const base: FailoverDnsArgs = {
  domainName: "orders.acme.io",
  regions: [EAST, WEST],
  health: "arc",
  zone: { type: "public", hostedZoneId: "ZPUBLIC123" },
};

async function run(patch: Partial<FailoverDnsArgs>) {
  const { engine, result } = await underMocks(
    "us-west-2",
    () => new FailoverDns("dns", { ...base, ...patch }),
  );
  return { engine, dns: result };
}

/** Record inputs by region (the set identifier). */
function records(engine: MockEngine): Record<string, Record<string, any>> {
  return Object.fromEntries(
    engine.ofType(RECORD).map((r) => [r.inputs["setIdentifier"], r.inputs]),
  );
}

describe("FailoverDns", () => {
  describe("latency routing with ARC health checks in a public zone", () => {
    let engine: MockEngine;
    let dns: FailoverDns;
    before(async () => ({ engine, dns } = await run({})));

    it("one alias A record per region, for the service name, aliasing that region's custom domain", () => {
      const byRegion = records(engine);
      expect(Object.keys(byRegion).sort()).to.deep.equal(["us-east-1", "us-west-2"]);
      for (const r of [EAST, WEST]) {
        expect(byRegion[r.region]).to.deep.include({
          zoneId: "ZPUBLIC123",
          name: "orders.acme.io",
          type: "A",
          aliases: [
            {
              name: r.regionalDomainName,
              zoneId: r.regionalZoneId,
              evaluateTargetHealth: true,
            },
          ],
        });
      }
    });

    it("every record carries the health check of its own region", () => {
      const byRegion = records(engine);
      for (const r of [EAST, WEST]) {
        expect(byRegion[r.region]!["healthCheckId"]).to.equal(r.healthCheckId);
      }
    });

    it("latency records carry their region and no failover policy", () => {
      for (const [region, inputs] of Object.entries(records(engine))) {
        expect(inputs["latencyRoutingPolicies"]).to.deep.equal([{ region }]);
        expect(inputs["failoverRoutingPolicies"]).to.equal(undefined);
      }
    });

    it("creates no zone and no health check of its own", () => {
      expect(engine.ofType(ZONE)).to.be.empty;
      expect(engine.ofType(HEALTH_CHECK)).to.be.empty;
    });

    it("outputs the zone, the health check per region and the service name", async () => {
      expect(await promiseOf(dns.zoneId)).to.equal("ZPUBLIC123");
      expect(await promiseOf(dns.healthCheckIds)).to.deep.equal({
        "us-east-1": "hc-arc-us-east-1",
        "us-west-2": "hc-arc-us-west-2",
      });
      expect(await promiseOf(dns.serviceDomain)).to.equal("orders.acme.io");
    });

    it("every child is parented to the component", async () => {
      const urns = await registeredUrns();
      for (const r of engine.ofType(RECORD)) {
        expect(parentTypes(urns, r.type, r.name)).to.deep.equal([
          "resilient-dynamo:index:FailoverDns",
        ]);
      }
    });
  });

  it("failover routing: exactly one PRIMARY (the chosen region) and one SECONDARY", async () => {
    const { engine } = await run({ routingPolicy: "failover", primaryRegion: "us-west-2" });
    const byRegion = records(engine);
    expect(byRegion["us-west-2"]!["failoverRoutingPolicies"]).to.deep.equal([{ type: "PRIMARY" }]);
    expect(byRegion["us-east-1"]!["failoverRoutingPolicies"]).to.deep.equal([
      { type: "SECONDARY" },
    ]);
    for (const inputs of Object.values(byRegion)) {
      expect(inputs["latencyRoutingPolicies"]).to.equal(undefined);
    }
  });

  describe("HTTPS health checks (no ARC)", () => {
    let engine: MockEngine;
    before(async () => ({ engine } = await run({ health: "https" })));

    it("checks HTTPS 443 at each region's own /health, every 10 s, unhealthy after 3 failures", () => {
      const checks = Object.fromEntries(engine.ofType(HEALTH_CHECK).map((c) => [c.name, c.inputs]));
      expect(Object.keys(checks).sort()).to.deep.equal(["dns-us-east-1", "dns-us-west-2"]);
      for (const r of [EAST, WEST]) {
        expect(checks[`dns-${r.region}`]).to.deep.include({
          type: "HTTPS",
          port: 443,
          fqdn: r.healthCheckTarget!.fqdn,
          resourcePath: "/prod/health",
          enableSni: true,
          requestInterval: 10,
          failureThreshold: 3,
        });
      }
    });

    it("every record carries the HTTPS check of its own region", () => {
      const ids = Object.fromEntries(engine.ofType(HEALTH_CHECK).map((c) => [c.name, c.id]));
      for (const [region, inputs] of Object.entries(records(engine))) {
        expect(inputs["healthCheckId"]).to.equal(ids[`dns-${region}`]);
      }
    });

    it("takes the interval and threshold from args", async () => {
      const { engine: e } = await run({
        health: "https",
        healthCheckIntervalSeconds: 30,
        healthCheckFailureThreshold: 5,
      });
      for (const c of e.ofType(HEALTH_CHECK)) {
        expect(c.inputs).to.deep.include({ requestInterval: 30, failureThreshold: 5 });
      }
    });
  });

  it("a private zone named for the service is associated with every region's VPC", async () => {
    const { engine, dns } = await run({ zone: { type: "private" }, regions: [EAST, WEST, EU] });
    const zones = engine.ofType(ZONE);
    expect(zones).to.have.length(1);
    expect(zones[0]!.inputs["name"]).to.equal("orders.acme.io");
    expect(zones[0]!.inputs["vpcs"]).to.deep.equal([
      { vpcId: "vpc-01", vpcRegion: "us-east-1" },
      { vpcId: "vpc-02", vpcRegion: "us-west-2" },
      { vpcId: "vpc-03", vpcRegion: "eu-west-1" },
    ]);
    const zoneId = zones[0]!.state["zoneId"];
    expect(await promiseOf(dns.zoneId)).to.equal(zoneId);
    const byRegion = records(engine);
    expect(Object.keys(byRegion)).to.have.length(3);
    for (const inputs of Object.values(byRegion)) expect(inputs["zoneId"]).to.equal(zoneId);
  });

  it("evaluateTargetHealth can be turned off", async () => {
    const { engine } = await run({ evaluateTargetHealth: false });
    for (const inputs of Object.values(records(engine))) {
      expect(inputs["aliases"][0].evaluateTargetHealth).to.equal(false);
    }
  });

  describe("bad arguments fail before any resource exists", () => {
    const cases: [string, Partial<FailoverDnsArgs>, RegExp][] = [
      [
        "failover with three regions",
        { routingPolicy: "failover", primaryRegion: "us-east-1", regions: [EAST, WEST, EU] },
        /routingPolicy "failover" takes exactly two regions \(one PRIMARY, one SECONDARY\): got 3 \(us-east-1, us-west-2, eu-west-1\)/,
      ],
      [
        "failover without a primary",
        { routingPolicy: "failover" },
        /needs primaryRegion, one of us-east-1, us-west-2: got undefined/,
      ],
      [
        "failover with a primary that is not one of the regions",
        { routingPolicy: "failover", primaryRegion: "eu-west-1" },
        /needs primaryRegion, one of us-east-1, us-west-2: got "eu-west-1"/,
      ],
      [
        "a primary with latency routing",
        { primaryRegion: "us-east-1" },
        /primaryRegion is only valid with routingPolicy "failover"/,
      ],
      [
        "ARC health without a region's check id",
        { regions: [EAST, { ...WEST, healthCheckId: undefined }] },
        /health is "arc" but region us-west-2 has no healthCheckId/,
      ],
      [
        "HTTPS health without a region's target",
        { health: "https", regions: [{ ...EAST, healthCheckTarget: undefined }, WEST] },
        /health is "https" but region us-east-1 has no healthCheckTarget/,
      ],
      [
        "a private zone without a region's VPC",
        { zone: { type: "private" }, regions: [EAST, { ...WEST, vpcId: undefined }] },
        /zone is private but region us-west-2 has no vpcId/,
      ],
      [
        "a public zone without its id",
        { zone: { type: "public" } },
        /zone\.hostedZoneId is required with zone\.type "public"/,
      ],
      [
        "a private zone given a zone id",
        { zone: { type: "private", hostedZoneId: "ZPUBLIC123" } },
        /zone\.hostedZoneId is only valid with zone\.type "public"/,
      ],
      [
        "a zone type that is neither",
        { zone: { type: "shared" as "public", hostedZoneId: "Z1" } },
        /zone\.type must be "public" or "private": got "shared"/,
      ],
      ["a repeated region", { regions: [EAST, EAST] }, /duplicate region us-east-1/],
      ["no regions", { regions: [] }, /at least one region/],
      [
        "an interval Route 53 does not offer",
        { healthCheckIntervalSeconds: 15 },
        /10 or 30: got 15/,
      ],
      [
        "a threshold above 10",
        { healthCheckFailureThreshold: 11 },
        /healthCheckFailureThreshold must be an integer from 1 to 10: got 11/,
      ],
      [
        "an uppercase domain",
        { domainName: "Orders.acme.io" },
        /lowercase DNS name.*"Orders.acme.io"/,
      ],
    ];
    for (const [what, patch, message] of cases) {
      it(what, async () => {
        expect(() => validateFailoverDnsArgs({ ...base, ...patch })).to.throw(message);
        const { error, engine } = await refusedUnderMocks(
          "us-east-1",
          () => new FailoverDns("dns", { ...base, ...patch }),
        );
        expect(error.message).to.match(message);
        expect(engine.resources.filter((r) => !r.type.startsWith("resilient-dynamo:"))).to.be.empty;
      });
    }
  });
});
