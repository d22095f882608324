/**
 * The outputs AWS computes for the resource types this project creates (ARNs, ids, domain names,
 * endpoints), made up by the mock engine (mock-engine.ts) from a new resource's inputs: one entry
 * per type token in `COMPUTED`, and a name and an ARN-shaped `arn` for any other type.
 * Deterministic: the same resource gets the same outputs in every run.
 */
import { createHash } from "node:crypto";

/** The account id the mocks put in ARNs; never a real account. */
export const MOCK_ACCOUNT_ID = "000000000000";

const account = MOCK_ACCOUNT_ID;

export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 7);
}

/** `arn:aws:...` split into fields; region is field 3. */
export function arnWithRegion(arn: string, region: string): string {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn") throw new Error(`not an ARN: ${arn}`);
  parts[3] = region;
  return parts.join(":");
}

/** What the mock engine knows of a resource it is creating. */
export interface NewResource {
  readonly type: string;
  readonly name: string;
  readonly id: string;
  readonly inputs: Record<string, any>;
  readonly region: string | undefined;
  /** Its physical name: the `name` input, or the logical name with a short hash. */
  readonly physical: string;
}

type Computed = (r: NewResource) => Record<string, any>;

function dynamoTable({ inputs, region, physical }: NewResource): Record<string, any> {
  const arn = `arn:aws:dynamodb:${region}:${account}:table/${physical}`;
  const label = "2026-01-01T00:00:00.000";
  const replicas = ((inputs["replicas"] as Record<string, any>[] | undefined) ?? []).map((r) => ({
    ...r,
    arn: arnWithRegion(arn, r["regionName"]),
    streamArn: `${arnWithRegion(arn, r["regionName"])}/stream/${label}`,
    streamLabel: label,
  }));
  return {
    name: physical,
    arn,
    streamArn: `${arn}/stream/${label}`,
    streamLabel: label,
    replicas,
  };
}

function lambdaFunction({ region, physical }: NewResource): Record<string, any> {
  const arn = `arn:aws:lambda:${region}:${account}:function:${physical}`;
  return {
    name: physical,
    arn,
    qualifiedArn: `${arn}:$LATEST`,
    invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
  };
}

function certificate({ inputs, region }: NewResource): Record<string, any> {
  const domain = String(inputs["domainName"]);
  return {
    arn: `arn:aws:acm:${region}:${account}:certificate/${shortHash(domain + region)}`,
    domainValidationOptions: [
      {
        domainName: domain,
        resourceRecordName: `_${shortHash(domain)}.${domain}.`,
        resourceRecordType: "CNAME",
        resourceRecordValue: `_${shortHash(domain + "v")}.acm-validations.aws.`,
      },
    ],
  };
}

function bucket({ inputs, region, physical }: NewResource): Record<string, any> {
  const name = (inputs["bucket"] as string | undefined) ?? physical;
  return {
    bucket: name,
    arn: `arn:aws:s3:::${name}`,
    bucketRegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
  };
}

function canary({ inputs, region, physical }: NewResource): Record<string, any> {
  const name = String(inputs["name"] ?? physical);
  return {
    name,
    arn: `arn:aws:synthetics:${region}:${account}:canary:${name}`,
    engineArn: `arn:aws:lambda:${region}:${account}:function:cwsyn-${name}-${shortHash(name)}`,
    sourceLocationArn: `arn:aws:lambda:${region}:${account}:layer:cwsyn-${name}-${shortHash(name)}`,
    status: "RUNNING",
  };
}

/** Every ARC cluster has five regional endpoints, one per cluster region. */
const ARC_CLUSTER_REGIONS = [
  "us-east-1",
  "us-west-2",
  "eu-west-1",
  "ap-northeast-1",
  "ap-southeast-2",
];

function arcCluster({ name, physical }: NewResource): Record<string, any> {
  return {
    name: physical,
    arn: `arn:aws:route53-recovery-control::${account}:cluster/${shortHash(name)}`,
    status: "DEPLOYED",
    networkType: "IPV4",
    clusterEndpoints: ARC_CLUSTER_REGIONS.map((r) => ({
      region: r,
      endpoint: `https://${shortHash(name + r)}.route53-recovery-cluster.${r}.amazonaws.com/v1`,
    })),
  };
}

/** A readiness resource's ARN: `kind` and the input that names it. */
function readiness(kind: string, nameInput: string): Computed {
  return ({ inputs }) => ({
    arn: `arn:aws:route53-recovery-readiness::${account}:${kind}/${inputs[nameInput]}`,
  });
}

/**
 * awsx's Vpc is a remote component: its children are created by the awsx plugin, so the mocks
 * answer with what the component outputs.
 */
function awsxVpc({ name, inputs, region }: NewResource): Record<string, any> {
  const azs = ["a", "b", "c"]
    .slice(0, (inputs["numberOfAvailabilityZones"] as number | undefined) ?? 3)
    .map((s) => `${region}${s}`);
  const specs = (
    (inputs["subnetSpecs"] as { type: string }[] | undefined) ?? [
      { type: "Public" },
      { type: "Private" },
    ]
  ).map((s) => s.type);
  const subnetIds = (type: string) =>
    specs.includes(type) ? azs.map((az) => `subnet-${shortHash(name + type + az)}`) : [];
  return {
    vpcId: `vpc-${shortHash(name + region)}${shortHash(name)}`,
    publicSubnetIds: subnetIds("Public"),
    privateSubnetIds: subnetIds("Private"),
    isolatedSubnetIds: subnetIds("Isolated"),
  };
}

/** Outputs AWS computes, by resource type token. */
const COMPUTED: Readonly<Record<string, Computed>> = {
  "aws:dynamodb/table:Table": dynamoTable,
  "aws:iam/role:Role": ({ physical }) => ({
    name: physical,
    arn: `arn:aws:iam::${account}:role/${physical}`,
    uniqueId: shortHash(physical),
  }),
  "aws:iam/policy:Policy": ({ physical }) => ({
    name: physical,
    arn: `arn:aws:iam::${account}:policy/${physical}`,
  }),
  "aws:cloudwatch/logGroup:LogGroup": ({ region, physical }) => ({
    name: physical,
    arn: `arn:aws:logs:${region}:${account}:log-group:${physical}`,
  }),
  "aws:lambda/function:Function": lambdaFunction,
  "aws:apigateway/restApi:RestApi": ({ id, region, physical }) => ({
    name: physical,
    rootResourceId: `${id}-root`,
    arn: `arn:aws:apigateway:${region}::/restapis/${id}`,
    executionArn: `arn:aws:execute-api:${region}:${account}:${id}`,
  }),
  "aws:apigateway/resource:Resource": ({ inputs }) => ({
    path: inputs["pathPart"] ? `/${inputs["pathPart"]}` : "/",
  }),
  "aws:apigateway/stage:Stage": ({ inputs, region }) => {
    const api = String(inputs["restApi"]);
    const stage = String(inputs["stageName"]);
    return {
      arn: `arn:aws:apigateway:${region}::/restapis/${api}/stages/${stage}`,
      executionArn: `arn:aws:execute-api:${region}:${account}:${api}/${stage}`,
      invokeUrl: `https://${api}.execute-api.${region}.amazonaws.com/${stage}`,
    };
  },
  "aws:apigateway/domainName:DomainName": ({ inputs, region }) => ({
    arn: `arn:aws:apigateway:${region}::/domainnames/${inputs["domainName"]}`,
    regionalDomainName: `d-${shortHash(String(region) + inputs["domainName"])}.execute-api.${region}.amazonaws.com`,
    regionalZoneId: `Z${shortHash(String(region)).toUpperCase()}APIGW`,
  }),
  "aws:acm/certificate:Certificate": certificate,
  "aws:acm/certificateValidation:CertificateValidation": () => ({}),
  "aws:kms/key:Key": ({ name, region }) => ({
    arn: `arn:aws:kms:${region}:${account}:key/${shortHash(name)}`,
    keyId: shortHash(name),
  }),
  "aws:s3/bucket:Bucket": bucket,
  "aws:s3/bucketV2:BucketV2": bucket,
  "aws:s3/bucketObjectv2:BucketObjectv2": ({ name, inputs }) => {
    const key = String(inputs["key"] ?? name);
    return {
      key,
      arn: `arn:aws:s3:::${inputs["bucket"]}/${key}`,
      versionId: shortHash(key),
      etag: shortHash(`${inputs["bucket"]}/${key}`),
    };
  },
  "aws:synthetics/canary:Canary": canary,
  "aws:sns/topic:Topic": ({ region, physical }) => ({
    name: physical,
    arn: `arn:aws:sns:${region}:${account}:${physical}`,
  }),
  "aws:sqs/queue:Queue": ({ region, physical }) => ({
    name: physical,
    arn: `arn:aws:sqs:${region}:${account}:${physical}`,
    url: `https://sqs.${region}.amazonaws.com/${account}/${physical}`,
  }),
  "aws:cloudwatch/metricAlarm:MetricAlarm": ({ region, physical }) => ({
    name: physical,
    arn: `arn:aws:cloudwatch:${region}:${account}:alarm:${physical}`,
  }),
  "aws:cloudwatch/dashboard:Dashboard": ({ inputs, physical }) => ({
    dashboardArn: `arn:aws:cloudwatch::${account}:dashboard/${inputs["dashboardName"] ?? physical}`,
  }),
  "aws:route53recoverycontrol/cluster:Cluster": arcCluster,
  "aws:route53recoverycontrol/controlPanel:ControlPanel": ({ name, physical }) => ({
    name: physical,
    arn: `arn:aws:route53-recovery-control::${account}:controlpanel/${shortHash(name)}`,
    status: "DEPLOYED",
    defaultControlPanel: false,
    routingControlCount: 0,
  }),
  "aws:route53recoverycontrol/routingControl:RoutingControl": ({ name, inputs, physical }) => ({
    name: physical,
    arn: `${inputs["controlPanelArn"]}/routingcontrol/${shortHash(name)}`,
    status: "DEPLOYED",
  }),
  "aws:route53recoverycontrol/safetyRule:SafetyRule": ({ name, inputs, physical }) => ({
    name: physical,
    arn: `${inputs["controlPanelArn"]}/safetyrule/${shortHash(name)}`,
    status: "DEPLOYED",
  }),
  "aws:route53/healthCheck:HealthCheck": ({ id }) => ({
    arn: `arn:aws:route53:::healthcheck/${id}`,
  }),
  "aws:route53recoveryreadiness/cell:Cell": ({ inputs }) => ({
    arn: `arn:aws:route53-recovery-readiness::${account}:cell/${inputs["cellName"]}`,
    parentReadinessScopes: [],
  }),
  "aws:route53recoveryreadiness/recoveryGroup:RecoveryGroup": readiness(
    "recovery-group",
    "recoveryGroupName",
  ),
  "aws:route53recoveryreadiness/resourceSet:ResourceSet": readiness(
    "resource-set",
    "resourceSetName",
  ),
  "aws:route53recoveryreadiness/readinessCheck:ReadinessCheck": readiness(
    "readiness-check",
    "readinessCheckName",
  ),
  "aws:route53/zone:Zone": ({ name, inputs }) => {
    const zoneId = `Z${shortHash(name).toUpperCase()}ZONE`;
    return {
      zoneId,
      arn: `arn:aws:route53:::hostedzone/${zoneId}`,
      nameServers: inputs["vpcs"]?.length ? [] : [1, 2, 3, 4].map((n) => `ns-${n}.awsdns-mock.net`),
    };
  },
  "aws:route53/record:Record": ({ inputs }) => ({
    fqdn: String(inputs["name"]).replace(/\.$/, ""),
  }),
  "awsx:ec2:Vpc": awsxVpc,
};

/** Outputs AWS computes for a new resource of `type`, from its inputs. */
export function computedOutputs(
  type: string,
  name: string,
  id: string,
  inputs: Record<string, any>,
  region: string | undefined,
): Record<string, any> {
  const physical = (inputs["name"] as string | undefined) ?? `${name}-${shortHash(type + name)}`;
  if (!Object.hasOwn(COMPUTED, type)) {
    return { name: physical, arn: `arn:aws:mock:${region ?? ""}:${account}:${type}/${physical}` };
  }
  return (COMPUTED[type] as Computed)({ type, name, id, inputs, region, physical });
}
