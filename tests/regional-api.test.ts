import { expect } from "chai";
import {
  RegionalApi,
  executeApiPath,
  validateRegionalApiArgs,
  type RegionalApiArgs,
} from "../components";
import { FUNCTIONS, FUNCTION_NAMES, ROUTES } from "../functions/routes";
import { TABLES, type TableKey } from "../functions/tables";
import { SERVICE_API } from "../stack/service-api";
import {
  json,
  parentTypes,
  promiseOf,
  registeredUrns,
  underMocks,
  type MockEngine,
  type RecordedResource,
} from "./support/pulumi";

const REGION = "us-west-2";
const names = Object.fromEntries(TABLES.map((t) => [t.key, `shop-${t.key}`])) as Record<
  TableKey,
  string
>;
const arnsIn = (region: string) =>
  Object.fromEntries(
    TABLES.map((t) => [t.key, `arn:aws:dynamodb:${region}:000000000000:table/shop-${t.key}`]),
  ) as Record<TableKey, string>;

const baseArgs: RegionalApiArgs = {
  ...SERVICE_API,
  region: REGION,
  namePrefix: "shop",
  tableNames: names,
  tableArns: arnsIn(REGION),
  throttleRateLimit: 50,
  throttleBurstLimit: 80,
  corsAllowOrigin: "https://app.example.com",
};

function policyOf(engine: MockEngine, fnResource: RecordedResource): any {
  const role = engine
    .ofType("aws:iam/role:Role")
    .find((r) => r.state["arn"] === fnResource.inputs["role"]);
  const policy = engine
    .ofType("aws:iam/rolePolicy:RolePolicy")
    .find((p) => p.inputs["role"] === role?.state["name"]);
  if (!policy) throw new Error(`no policy for ${fnResource.name}`);
  return json(policy.inputs["policy"]);
}

describe("RegionalApi", function () {
  this.timeout(60_000);
  let engine: MockEngine;
  let api: RegionalApi;

  before(async () => {
    ({ engine, result: api } = await underMocks(REGION, () => new RegionalApi("api", baseArgs)));
  });

  it("creates one function per function spec, on Node.js 22 arm64, bundled as index.js", () => {
    const fns = engine.ofType("aws:lambda/function:Function");
    expect(fns.map((f) => f.name).sort()).to.deep.equal(
      FUNCTION_NAMES.map((f) => `api-${f.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`).sort(),
    );
    for (const f of fns) {
      expect(f.inputs["runtime"]).to.equal("nodejs22.x");
      expect(f.inputs["architectures"]).to.deep.equal(["arm64"]);
      expect(f.inputs["handler"]).to.equal("index.handler");
      expect(f.inputs["tracingConfig"]).to.deep.equal({ mode: "Active" });
    }
  });

  it("gives each function its own role", () => {
    const roles = engine.ofType("aws:lambda/function:Function").map((f) => f.inputs["role"]);
    expect(new Set(roles).size).to.equal(FUNCTION_NAMES.length);
  });

  it("every function's policy names no * action and no DynamoDB resource outside its region's tables", () => {
    const allowed = new Set(Object.values(arnsIn(REGION)));
    for (const f of engine.ofType("aws:lambda/function:Function")) {
      const doc = policyOf(engine, f);
      for (const st of doc.Statement) {
        for (const action of st.Action) expect(action, `${f.name} ${st.Sid}`).not.to.include("*");
        if (st.Action.some((a: string) => a.startsWith("dynamodb:"))) {
          for (const res of st.Resource)
            expect(allowed.has(res), `${f.name} may touch ${res}`).to.equal(true);
        }
      }
    }
  });

  it("every function's policy grants exactly the actions its spec lists, table by table", () => {
    for (const fn of FUNCTION_NAMES) {
      const f = engine
        .ofType("aws:lambda/function:Function")
        .find((r) => r.name === `api-${fn.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
      const dynamo = policyOf(engine, f as RecordedResource).Statement.filter((s: any) =>
        s.Action[0].startsWith("dynamodb:"),
      );
      const granted = Object.fromEntries(dynamo.map((s: any) => [s.Resource[0], s.Action]));
      const expected = Object.fromEntries(
        Object.entries(FUNCTIONS[fn].access).map(([table, actions]) => [
          arnsIn(REGION)[table as TableKey],
          [...actions].sort(),
        ]),
      );
      expect(granted, fn).to.deep.equal(expected);
    }
  });

  it("only X-Ray, which has no resource-level permissions, gets a * resource", () => {
    for (const f of engine.ofType("aws:lambda/function:Function")) {
      for (const st of policyOf(engine, f).Statement) {
        if (st.Resource.includes("*"))
          expect(st.Action).to.deep.equal(["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
      }
    }
  });

  it("functions get the table names they need and nothing else", () => {
    for (const fn of FUNCTION_NAMES) {
      const f = engine
        .ofType("aws:lambda/function:Function")
        .find((r) => r.name === `api-${fn.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
      const vars = f?.inputs["environment"].variables as Record<string, string>;
      const tableVars = Object.fromEntries(
        Object.entries(vars).filter(([k]) => k.startsWith("TABLE_")),
      );
      const expected = Object.fromEntries(
        TABLES.filter((t) => FUNCTIONS[fn].access[t.key]).map((t) => [t.envVar, `shop-${t.key}`]),
      );
      expect(tableVars, fn).to.deep.equal(expected);
    }
  });

  it("every method but GET /health and OPTIONS requires AWS_IAM", () => {
    const methods = engine.ofType("aws:apigateway/method:Method");
    expect(methods.length).to.equal(ROUTES.length + new Set(ROUTES.map((r) => r.path)).size);
    for (const m of methods) {
      const open = m.inputs["httpMethod"] === "OPTIONS" || m.name === "api-get-health";
      expect(m.inputs["authorization"], m.name).to.equal(open ? "NONE" : "AWS_IAM");
    }
  });

  it("builds one resource per path segment, parents first", () => {
    const parts = engine
      .ofType("aws:apigateway/resource:Resource")
      .map((r) => r.inputs["pathPart"])
      .sort();
    expect(parts).to.deep.equal(
      ["fill", "health", "kv", "orders", "products", "{key}", "{orderId}", "{productId}"].sort(),
    );
  });

  it("lets API Gateway invoke each function only for its own routes", () => {
    const perms = engine.ofType("aws:lambda/permission:Permission");
    expect(perms.length).to.equal(ROUTES.length);
    const sources = perms.map((p) => p.inputs["sourceArn"]).sort();
    expect(sources).to.deep.equal(
      ROUTES.map(
        (r) =>
          `arn:aws:execute-api:${REGION}:000000000000:${api_id(engine)}/*/${r.method}/${executeApiPath(r.path)}`,
      ).sort(),
    );
  });

  it("the stage has JSON access logs, tracing, metrics and the throttling limits from args", () => {
    const [stage] = engine.ofType("aws:apigateway/stage:Stage");
    expect(stage?.inputs["xrayTracingEnabled"]).to.equal(true);
    const logs = engine
      .ofType("aws:cloudwatch/logGroup:LogGroup")
      .find((l) => l.name === "api-access-logs");
    expect(stage?.inputs["accessLogSettings"].destinationArn).to.equal(logs?.state["arn"]);
    expect(JSON.parse(stage?.inputs["accessLogSettings"].format)).to.include({
      requestId: "$context.requestId",
      status: "$context.status",
    });
    const [settings] = engine.ofType("aws:apigateway/methodSettings:MethodSettings");
    expect(settings?.inputs["methodPath"]).to.equal("*/*");
    expect(settings?.inputs["settings"]).to.include({
      metricsEnabled: true,
      throttlingRateLimit: 50,
      throttlingBurstLimit: 80,
    });
  });

  it("log groups keep logs 30 days by default", () => {
    for (const l of engine.ofType("aws:cloudwatch/logGroup:LogGroup"))
      expect(l.inputs["retentionInDays"], l.name).to.equal(30);
  });

  it("places every regional child in its region", () => {
    const global = new Set([
      "aws:iam/role:Role",
      "aws:iam/rolePolicy:RolePolicy",
      "aws:route53/record:Record",
    ]);
    for (const r of engine.resources) {
      if (r.type.startsWith("resilient-dynamo:") || global.has(r.type)) continue;
      expect(r.inputs["region"], `${r.type} ${r.name}`).to.equal(REGION);
    }
  });

  it("parents every child to the component", async () => {
    const urns = await registeredUrns();
    for (const r of engine.resources.filter((x) => !x.type.startsWith("resilient-dynamo:"))) {
      expect(parentTypes(urns, r.type, r.name), `${r.type} ${r.name}`).to.deep.equal([
        "resilient-dynamo:index:RegionalApi",
      ]);
    }
  });

  it("outputs the API id, stage ARN, invoke URL and one ARN per function", async () => {
    expect(await promiseOf(api.apiId)).to.equal(api_id(engine));
    expect(await promiseOf(api.stageArn)).to.equal(
      `arn:aws:apigateway:${REGION}::/restapis/${api_id(engine)}/stages/prod`,
    );
    expect(await promiseOf(api.invokeUrl)).to.equal(
      `https://${api_id(engine)}.execute-api.${REGION}.amazonaws.com/prod`,
    );
    const arns = await promiseOf(api.functionArns);
    expect(Object.keys(arns).sort()).to.deep.equal([...FUNCTION_NAMES].sort());
    for (const arn of Object.values(arns))
      expect(arn).to.match(new RegExp(`^arn:aws:lambda:${REGION}:`));
  });

  describe("with a custom domain", () => {
    let e: MockEngine;
    let withDomain: RegionalApi;
    before(async () => {
      ({ engine: e, result: withDomain } = await underMocks(
        REGION,
        () =>
          new RegionalApi("dom", {
            ...baseArgs,
            customDomain: { domainName: "orders.example.com", hostedZoneId: "Z123EXAMPLE" },
          }),
      ));
    });

    it("validates a regional ACM certificate by DNS in the given zone and maps base path v1", () => {
      const [cert] = e.ofType("aws:acm/certificate:Certificate");
      expect(cert?.inputs).to.include({
        domainName: "orders.example.com",
        validationMethod: "DNS",
        region: REGION,
      });
      const [record] = e.ofType("aws:route53/record:Record");
      expect(record?.inputs).to.include({ zoneId: "Z123EXAMPLE", type: "CNAME" });
      const [domain] = e.ofType("aws:apigateway/domainName:DomainName");
      expect(domain?.inputs).to.deep.include({
        endpointConfiguration: { types: "REGIONAL" },
        securityPolicy: "TLS_1_2",
      });
      const [mapping] = e.ofType("aws:apigateway/basePathMapping:BasePathMapping");
      expect(mapping?.inputs["basePath"]).to.equal("v1");
    });

    it("outputs the regional domain name and zone id for DNS aliases", async () => {
      expect(await promiseOf(withDomain.regionalDomainName)).to.match(
        new RegExp(`\\.execute-api\\.${REGION}\\.amazonaws\\.com$`),
      );
      expect(await promiseOf(withDomain.regionalZoneId)).to.be.a("string");
      expect(await promiseOf(withDomain.url)).to.equal("https://orders.example.com/v1");
    });
  });

  describe("rejects bad args before creating anything", () => {
    const cases: [string, Partial<RegionalApiArgs>, RegExp][] = [
      ["bad region", { region: "uswest2" }, /region must be an AWS region name.*"uswest2"/],
      ["zero rate", { throttleRateLimit: 0 }, /throttleRateLimit must be in \(0, 10000\]: got 0/],
      [
        "fractional burst",
        { throttleBurstLimit: 2.5 },
        /throttleBurstLimit must be an integer from 1 to 5000: got 2.5/,
      ],
      ["bad stage name", { stageName: "my stage" }, /stageName must be 1-64 letters/],
      [
        "route to unknown function",
        { routes: [{ method: "GET", path: "/x", function: "nope" as never, auth: "iam" }] },
        /unknown function nope/,
      ],
      [
        "nested base path",
        { customDomain: { domainName: "a.example.com", hostedZoneId: "Z1", basePath: "a/b" } },
        /basePath must be a single path segment/,
      ],
    ];
    for (const [what, patch, message] of cases) {
      it(what, () =>
        expect(() => validateRegionalApiArgs({ ...baseArgs, ...patch })).to.throw(message),
      );
    }
  });
});

function api_id(engine: MockEngine): string {
  const [rest] = engine.ofType("aws:apigateway/restApi:RestApi");
  if (!rest) throw new Error("no RestApi");
  return rest.id;
}
