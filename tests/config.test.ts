import { readFileSync } from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import {
  ARC_CONTROL_PLANE_DEFAULTS,
  isRegion,
  CANARY_FLEET_DEFAULTS,
  DEFAULT_NAME_PREFIX,
  FAILOVER_DNS_DEFAULTS,
  GLOBAL_TABLE_SET_DEFAULTS,
  REGION_PATTERN,
  REGIONAL_API_DEFAULTS,
  SERVICE_ALARMS_DEFAULTS,
} from "resilient-dynamo";
import { parse } from "yaml";
import { PROJECT_DIR, readProject } from "../tools/stack-config";
import {
  ConfigError,
  assertDeployableDomain,
  isReservedExampleDomain,
  parseStackConfig,
  qualifyStackName,
} from "../stack/config";

const primary = {
  "aws:region": "us-east-1",
  "resilient-dynamo:role": "primary",
  "resilient-dynamo:replicaRegions": '["us-west-2"]',
};
const secondary = {
  "aws:region": "us-west-2",
  "resilient-dynamo:role": "secondary",
  "resilient-dynamo:primaryStack": "region1",
};

describe("stack config", () => {
  it("applies safe defaults", () => {
    const cfg = parseStackConfig(primary, "region1");
    expect(cfg).to.deep.include({
      role: "primary",
      region: "us-east-1",
      replicaRegions: ["us-west-2"],
      namePrefix: "resilient-dynamo",
      deletionProtection: true,
      stageName: "prod",
      throttleRateLimit: 100,
      throttleBurstLimit: 200,
      logRetentionDays: 30,
    });
  });

  it("treats the empty defaults Pulumi.yaml declares as unset", () => {
    const cfg = parseStackConfig(
      {
        ...secondary,
        "resilient-dynamo:replicaRegions": "[]",
        "resilient-dynamo:domainName": "",
        "resilient-dynamo:namePrefix": "",
      },
      "region2",
    );
    expect(cfg.role).to.equal("secondary");
    expect(cfg.domainName).to.equal(undefined);
    expect(cfg.namePrefix).to.equal("resilient-dynamo");
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    [
      "secondary without primaryStack",
      { ...secondary, "resilient-dynamo:primaryStack": "" },
      /resilient-dynamo:primaryStack: is required/,
    ],
    [
      "secondary with replicaRegions",
      { ...secondary, "resilient-dynamo:replicaRegions": '["us-east-1"]' },
      /resilient-dynamo:replicaRegions: is not a key for role secondary/,
    ],
    [
      "own region as replica",
      { ...primary, "resilient-dynamo:replicaRegions": '["us-east-1"]' },
      /contains the stack's own region us-east-1/,
    ],
    [
      "duplicate replica",
      { ...primary, "resilient-dynamo:replicaRegions": '["us-west-2","us-west-2"]' },
      /duplicate replica region us-west-2/,
    ],
    [
      "replicaRegions not JSON",
      { ...primary, "resilient-dynamo:replicaRegions": "us-west-2" },
      /resilient-dynamo:replicaRegions: "us-west-2" is not valid JSON/,
    ],
    [
      "replicaRegions not a list",
      { ...primary, "resilient-dynamo:replicaRegions": '"us-west-2"' },
      /resilient-dynamo:replicaRegions: got "us-west-2"; expected a list of AWS region names/,
    ],
    [
      "retention CloudWatch does not offer",
      { ...primary, "resilient-dynamo:logRetentionDays": "31" },
      /logRetentionDays: got 31; expected one of 1, 3, 5/,
    ],
    [
      "negative rate",
      { ...primary, "resilient-dynamo:throttleRateLimit": "-1" },
      /throttleRateLimit: got -1/,
    ],
    [
      "domain without zone",
      { ...primary, "resilient-dynamo:domainName": "orders.example.com" },
      /domainName and resilient-dynamo:hostedZoneId go together/,
    ],
    [
      "uppercase domain",
      {
        ...primary,
        "resilient-dynamo:domainName": "Orders.Example.com",
        "resilient-dynamo:hostedZoneId": "Z0123456789",
      },
      /domainName: got "Orders.Example.com"/,
    ],
    [
      "http CORS origin",
      { ...primary, "resilient-dynamo:corsAllowOrigin": "http://x.example.com" },
      /corsAllowOrigin: got "http:\/\/x.example.com"; expected an https origin/,
    ],
    ["bad aws:region", { ...primary, "aws:region": "useast1" }, /aws:region: got "useast1"/],
  ];
  for (const [what, raw, message] of bad) {
    it(`rejects ${what}, naming the key`, () => {
      expect(() => parseStackConfig(raw, "s")).to.throw(ConfigError, message);
    });
  }

  it("lists every problem at once", () => {
    expect(() =>
      parseStackConfig(
        {
          ...primary,
          "resilient-dynamo:stageName": "a b",
          "resilient-dynamo:throttleBurstLimit": "0",
        },
        "s",
      ),
    ).to.throw(/stageName[\s\S]*throttleBurstLimit|throttleBurstLimit[\s\S]*stageName/);
  });

  it("qualifies a bare primaryStack with the organization and project", () => {
    expect(qualifyStackName("region1", "acme", "resilient-dynamo")).to.equal(
      "acme/resilient-dynamo/region1",
    );
    expect(qualifyStackName("other/proj/region1", "acme", "resilient-dynamo")).to.equal(
      "other/proj/region1",
    );
  });

  it("routing defaults: none, HTTPS checks every 10 s with threshold 3, ARC wait 5000 ms, readiness off", () => {
    const cfg = parseStackConfig(primary, "region1");
    expect(cfg).to.deep.include({
      routing: "none",
      healthCheckIntervalSeconds: 10,
      healthCheckFailureThreshold: 3,
      safetyRuleWaitPeriodMs: 5000,
      arcReadiness: false,
    });
    expect(cfg.routingPolicy).to.equal(undefined);
    expect(cfg.zoneType).to.equal(undefined);
  });

  it("reads the JSON-typed routing keys as numbers and booleans", () => {
    const cfg = parseStackConfig(
      {
        ...secondary,
        "resilient-dynamo:routing": "healthcheck",
        "resilient-dynamo:peerStacks": '["region1"]',
        "resilient-dynamo:domainName": "orders.acme.io",
        "resilient-dynamo:hostedZoneId": "Z0123456789",
        "resilient-dynamo:healthCheckIntervalSeconds": "30",
        "resilient-dynamo:healthCheckFailureThreshold": "5",
        "resilient-dynamo:safetyRuleWaitPeriodMs": "0",
        "resilient-dynamo:arcReadiness": "true",
      },
      "region2",
    );
    expect(cfg).to.deep.include({
      routing: "healthcheck",
      healthCheckIntervalSeconds: 30,
      healthCheckFailureThreshold: 5,
      safetyRuleWaitPeriodMs: 0,
      arcReadiness: true,
    });
  });

  const domains: [string, boolean][] = [
    ["orders.example.com", true],
    ["example.org", true],
    ["api.example.net", true],
    ["orders.example", true],
    ["shop.test", true],
    ["x.invalid", true],
    ["orders.acme.io", false],
    ["myexample.com", false],
    ["example.com.au", false],
  ];
  for (const [domain, reserved] of domains) {
    it(`${domain} is ${reserved ? "" : "not "}a reserved example domain`, () => {
      expect(isReservedExampleDomain(domain)).to.equal(reserved);
    });
  }

  it("refuses an example domain on pulumi up only, naming the key", () => {
    const cfg = parseStackConfig(
      {
        ...primary,
        "resilient-dynamo:domainName": "orders.example.com",
        "resilient-dynamo:hostedZoneId": "Z0123456789",
      },
      "region1",
    );
    expect(() => assertDeployableDomain(cfg, true)).to.not.throw();
    expect(() => assertDeployableDomain(cfg, false)).to.throw(
      ConfigError,
      /resilient-dynamo:domainName: orders\.example\.com is a reserved example name/,
    );
  });

  it("Pulumi.yaml declares every routing key, with the defaults stack/config.ts applies", () => {
    const { defaults } = readProject();
    for (const key of [
      "routing",
      "routingPolicy",
      "failoverPrimaryRegion",
      "zoneType",
      "vpcId",
      "healthCheckIntervalSeconds",
      "healthCheckFailureThreshold",
      "safetyRuleWaitPeriodMs",
      "arcReadiness",
    ]) {
      expect(defaults, key).to.have.property(`resilient-dynamo:${key}`);
    }
    expect(parseStackConfig({ ...defaults, ...primary }, "region1")).to.deep.equal(
      parseStackConfig(primary, "region1"),
    );
  });
});

describe("consistency config (MRSC limits, docs/mrsc-limits.md)", () => {
  const strong = { ...primary, "resilient-dynamo:consistency": "strong" };
  const witness = (r: string) => ({ "resilient-dynamo:witnessRegion": r });

  it("defaults to eventual with no witness, on both roles", () => {
    expect(parseStackConfig(primary, "region1")).to.deep.include({ consistency: "eventual" });
    expect(parseStackConfig(primary, "region1")).to.not.have.property("witnessRegion");
    expect(parseStackConfig(secondary, "region2")).to.deep.include({ consistency: "eventual" });
  });

  it("takes strong with two replicas and a witness, or three replicas", () => {
    expect(parseStackConfig({ ...strong, ...witness("us-east-2") }, "region1")).to.deep.include({
      consistency: "strong",
      witnessRegion: "us-east-2",
    });
    const three = { ...strong, "resilient-dynamo:replicaRegions": '["us-west-2","us-east-2"]' };
    expect(parseStackConfig(three, "region1")).to.deep.include({ consistency: "strong" });
    const eu = {
      ...strong,
      "aws:region": "eu-west-1",
      "resilient-dynamo:replicaRegions": '["eu-central-1"]',
      ...witness("eu-west-3"),
    };
    expect(parseStackConfig(eu, "region1")).to.deep.include({ witnessRegion: "eu-west-3" });
    expect(
      parseStackConfig({ ...secondary, "resilient-dynamo:consistency": "strong" }, "region2"),
    ).to.deep.include({ consistency: "strong" });
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    [
      "a mode that does not exist",
      { ...primary, "resilient-dynamo:consistency": "Strong" },
      /resilient-dynamo:consistency: got "Strong"; expected one of eventual, strong/,
    ],
    [
      "strong with two regions and no witness",
      strong,
      /resilient-dynamo:witnessRegion: is required when consistency is strong with two replica regions \(us-east-1, us-west-2\)/,
    ],
    [
      "a witness that is a replica",
      { ...strong, ...witness("us-west-2") },
      /resilient-dynamo:witnessRegion: us-west-2 is also a replica region \(us-east-1, us-west-2\)/,
    ],
    [
      "a witness that is the stack's own region",
      { ...strong, ...witness("us-east-1") },
      /resilient-dynamo:witnessRegion: us-east-1 is also a replica region/,
    ],
    [
      "a witness outside the replicas' Region set",
      { ...strong, ...witness("eu-west-1") },
      /resilient-dynamo:witnessRegion: the regions of an MRSC table must be in one MRSC Region set: got us-east-1, us-west-2, eu-west-1/,
    ],
    [
      "replicas in two Region sets",
      { ...strong, "resilient-dynamo:replicaRegions": '["us-west-2","eu-west-1"]' },
      /resilient-dynamo:replicaRegions: the regions of an MRSC table must be in one MRSC Region set: got us-east-1, us-west-2, eu-west-1/,
    ],
    [
      "a region in no Region set",
      { ...strong, "aws:region": "us-west-1", ...witness("us-east-2") },
      /resilient-dynamo:replicaRegions: the regions of an MRSC table must be in one MRSC Region set: got us-west-1, us-west-2, us-east-2 \(us-west-1 in none\)/,
    ],
    [
      "four regions",
      { ...strong, "resilient-dynamo:replicaRegions": '["us-west-2","us-east-2","us-west-1"]' },
      /resilient-dynamo:replicaRegions: consistency strong takes exactly 3 regions \(three replicas, or two and witnessRegion\): got 4/,
    ],
    [
      "a witness with three replicas",
      {
        ...strong,
        "resilient-dynamo:replicaRegions": '["us-west-2","us-east-2"]',
        ...witness("us-east-2"),
      },
      /resilient-dynamo:witnessRegion: us-east-2 is also a replica region/,
    ],
    [
      "a witness in eventual mode",
      { ...primary, ...witness("us-east-2") },
      /resilient-dynamo:witnessRegion: us-east-2 given, but consistency is eventual/,
    ],
    [
      "a witness on a secondary",
      { ...secondary, ...witness("us-east-2") },
      /resilient-dynamo:witnessRegion: is not a key for role secondary/,
    ],
    [
      "a witness that is not a region",
      { ...strong, ...witness("useast2") },
      /resilient-dynamo:witnessRegion: got "useast2"; expected an AWS region name/,
    ],
  ];
  for (const [what, raw, message] of refused) {
    it(`refuses ${what}, naming the key`, () => {
      expect(() => parseStackConfig(raw, "s")).to.throw(ConfigError, message);
    });
  }

  it("refuses a witness with three replicas even when it is a fourth region", () => {
    const raw = {
      ...strong,
      "resilient-dynamo:replicaRegions": '["us-west-2","us-east-2"]',
      ...witness("us-west-1"),
    };
    expect(() => parseStackConfig(raw, "s")).to.throw(
      /resilient-dynamo:witnessRegion: only with two replica regions; 3 replicas \(us-east-1, us-west-2, us-east-2\) take no witness/,
    );
  });

  it("Pulumi.yaml declares consistency and witnessRegion as unset by default", () => {
    const { defaults } = readProject();
    expect(defaults["resilient-dynamo:consistency"]).to.equal("");
    expect(defaults["resilient-dynamo:witnessRegion"]).to.equal("");
    expect(parseStackConfig({ ...defaults, ...primary }, "region1")).to.deep.include({
      consistency: "eventual",
    });
  });
});

/** Config keys that set a component argument, and the default that component applies. */
const COMPONENT_DEFAULTS: Readonly<Record<string, string | number | boolean>> = {
  consistency: GLOBAL_TABLE_SET_DEFAULTS.consistency,
  deletionProtection: GLOBAL_TABLE_SET_DEFAULTS.deletionProtection,
  namePrefix: DEFAULT_NAME_PREFIX,
  stageName: REGIONAL_API_DEFAULTS.stageName,
  throttleRateLimit: REGIONAL_API_DEFAULTS.throttleRateLimit,
  throttleBurstLimit: REGIONAL_API_DEFAULTS.throttleBurstLimit,
  logRetentionDays: REGIONAL_API_DEFAULTS.logRetentionDays,
  canarySchedule: CANARY_FLEET_DEFAULTS.schedule,
  canaryRuntimeVersion: CANARY_FLEET_DEFAULTS.runtimeVersion,
  canarySuccessPercentThreshold: CANARY_FLEET_DEFAULTS.successPercentThreshold,
  canaryAlarmPeriods: CANARY_FLEET_DEFAULTS.alarmPeriods,
  replicationLatencyAlarmMs: SERVICE_ALARMS_DEFAULTS.thresholds.replicationLatencyMs,
  replicationStalledMinutes: SERVICE_ALARMS_DEFAULTS.thresholds.replicationStalledMinutes,
  api5xxRatePercent: SERVICE_ALARMS_DEFAULTS.thresholds.api5xxRatePercent,
  lambdaErrorsThreshold: SERVICE_ALARMS_DEFAULTS.thresholds.lambdaErrors,
  lambdaThrottlesThreshold: SERVICE_ALARMS_DEFAULTS.thresholds.lambdaThrottles,
  alarmPeriods: SERVICE_ALARMS_DEFAULTS.thresholds.alarmPeriods,
  routingPolicy: FAILOVER_DNS_DEFAULTS.routingPolicy,
  healthCheckIntervalSeconds: FAILOVER_DNS_DEFAULTS.healthCheckIntervalSeconds,
  healthCheckFailureThreshold: FAILOVER_DNS_DEFAULTS.healthCheckFailureThreshold,
  safetyRuleWaitPeriodMs: ARC_CONTROL_PLANE_DEFAULTS.safetyRuleWaitPeriodMs,
  arcReadiness: ARC_CONTROL_PLANE_DEFAULTS.readiness,
};

/** A key as Pulumi.yaml declares it. */
interface Declaration {
  readonly default?: unknown;
  readonly description?: string;
}

/** Pulumi.yaml's key declarations, by short key. */
function declaredKeys(): Record<string, Declaration> {
  const project = parse(readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, Declaration>;
  };
  return project.config;
}

/**
 * Every key whose declaration does not document `defaults[key]`: not declared, a `default:` that
 * is not empty and differs (Pulumi would hand the program that value), or a description that does
 * not state it as "Default <value>" (or "<value> (default", for a list of choices).
 */
function undocumentedDefaults(
  declared: Readonly<Record<string, Declaration>>,
  defaults: Readonly<Record<string, string | number | boolean>>,
): string[] {
  return Object.entries(defaults).flatMap(([key, value]): string[] => {
    const decl = declared[key];
    if (decl === undefined) return [`${key}: not declared`];
    const problems: string[] = [];
    const given = decl.default;
    if (given !== undefined && given !== "" && given !== value) {
      problems.push(`${key}: default ${JSON.stringify(given)}, the component's is ${value}`);
    }
    const v = String(value).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const states = new RegExp(`(\\bdefault:? ${v}|${v} \\(default)(?![\\w-])`, "i");
    if (!states.test(decl.description ?? "")) {
      problems.push(`${key}: the description does not state the default ${value}`);
    }
    return problems;
  });
}

describe("component defaults in config and Pulumi.yaml", () => {
  it("config applies the component's default for every key that sets a component argument", () => {
    const cfg: Record<string, unknown> = parseStackConfig(primary, "region1");
    for (const [key, value] of Object.entries(COMPONENT_DEFAULTS)) {
      // routingPolicy stays unset (it is refused without routing); the routing stack passes it on.
      if (key === "routingPolicy") expect(cfg[key], key).to.equal(undefined);
      else expect(cfg[key], key).to.equal(value);
    }
  });

  it("Pulumi.yaml states, for every such key, the default the component applies", () => {
    expect(undocumentedDefaults(declaredKeys(), COMPONENT_DEFAULTS)).to.deep.equal([]);
  });

  it("the documentation check reports a changed default until Pulumi.yaml says it", () => {
    const declared = {
      throttleRateLimit: { default: 100, description: "Steady requests per second. Default 100." },
      canarySchedule: { default: "", description: "How often. Default rate(1 minute)." },
      healthCheckIntervalSeconds: { default: 10, description: "Seconds. Default 10." },
      consistency: { default: "", description: "eventual (default: MREC) or strong." },
    };
    expect(
      undocumentedDefaults(declared, {
        throttleRateLimit: 150,
        canarySchedule: "rate(5 minutes)",
        healthCheckIntervalSeconds: 1,
        consistency: "eventual",
        stageName: "prod",
      }),
    ).to.deep.equal([
      "throttleRateLimit: default 100, the component's is 150",
      "throttleRateLimit: the description does not state the default 150",
      "canarySchedule: the description does not state the default rate(5 minutes)",
      "healthCheckIntervalSeconds: default 10, the component's is 1",
      "healthCheckIntervalSeconds: the description does not state the default 1",
      "stageName: not declared",
    ]);
    expect(
      undocumentedDefaults(declared, {
        throttleRateLimit: 100,
        canarySchedule: "rate(1 minute)",
        healthCheckIntervalSeconds: 10,
        consistency: "eventual",
      }),
    ).to.deep.equal([]);
  });
});

describe("config checks region names with the package's one region pattern", () => {
  const names = [
    "eu-west-1",
    "ap-southeast-7",
    "us-gov-west-1",
    "us-east1",
    "useast-1",
    "xx-east-1",
  ];
  const kmsArn = (r: string) =>
    `arn:aws:kms:${r}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const accepts = (raw: Record<string, string>) => {
    try {
      parseStackConfig(raw, "s");
      return true;
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      return false;
    }
  };

  it("the pattern tells the names apart (the cases below are not all accepted or all refused)", () => {
    expect(names.map((r) => REGION_PATTERN.test(r))).to.deep.equal([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  for (const r of names) {
    it(`${r}: aws:region, observerRegion, a KMS key's and an SNS topic's region agree with isRegion`, () => {
      expect(accepts({ ...primary, "aws:region": r }), "aws:region").to.equal(isRegion(r));
      expect(
        accepts({ ...primary, "resilient-dynamo:observerRegion": r }),
        "observerRegion",
      ).to.equal(isRegion(r));
      const keys = JSON.stringify([kmsArn("us-east-1"), kmsArn("us-west-2"), kmsArn(r)]);
      const withKeys = { ...primary, "resilient-dynamo:kmsKeyArns": keys };
      expect(accepts(withKeys), "kmsKeyArns").to.equal(isRegion(r));
      const topic = `arn:aws:sns:${r}:123456789012:oncall`;
      expect(
        accepts({ ...primary, "resilient-dynamo:alarmTopicArn": topic }),
        "alarmTopicArn",
      ).to.equal(isRegion(r));
    });
  }

  it("names the key of a KMS key ARN whose region is a typo", () => {
    const raw = { ...primary, "resilient-dynamo:kmsKeyArns": JSON.stringify([kmsArn("useast-1")]) };
    expect(() => parseStackConfig(raw, "s")).to.throw(
      ConfigError,
      /resilient-dynamo:kmsKeyArns\.0: got "arn:aws:kms:useast-1:[^"]*"; expected a KMS key ARN/,
    );
  });
});
