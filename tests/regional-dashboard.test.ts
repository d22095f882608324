import { expect } from "chai";
import {
  OPERATION_ACTIONS,
  RegionalDashboard,
  dashboardBody,
  layout,
  metricArray,
  metricWidget,
  regionalDashboardWidgets,
  textWidget,
  type RegionalDashboardData,
} from "../components";
import { FUNCTIONS, FUNCTION_NAMES } from "../functions/routes";
import { TABLES, TABLE_KEYS, type TableKey } from "../functions/tables";
import {
  FUNCTION_OPERATIONS,
  SERVICE_WATCHED_TABLES,
  serviceClientLatency,
} from "../stack/service-data";
import { promiseOf, underMocks } from "./support/pulumi";

const tableNames = Object.fromEntries(TABLES.map((t) => [t.key, `shop-${t.key}`])) as Record<
  TableKey,
  string
>;
const functionNames = Object.fromEntries(FUNCTION_NAMES.map((f) => [f, `shop-${f}-fn`]));

const data: RegionalDashboardData = {
  region: "us-east-1",
  tableNames,
  tables: SERVICE_WATCHED_TABLES,
  receivingRegions: ["us-east-1", "us-west-2", "eu-west-1"],
  apiName: "shop-api",
  stageName: "prod",
  functionNames,
  canaries: [
    { name: "shop-region1", region: "us-east-1", label: "region1" },
    { name: "shop-obs-region1", region: "us-east-2", label: "obs-region1" },
  ],
  replicationLatencyAlarmMs: 5000,
  clientLatency: serviceClientLatency("us-east-1"),
};

/** Each watched table's operations (or write operations), by table. */
const byTable = (pick: "operations" | "writeOperations") =>
  Object.fromEntries(SERVICE_WATCHED_TABLES.map((t) => [t.key, t[pick]]));

/** Every metric array of every widget of a parsed body. */
function metricsOf(body: any): unknown[][] {
  return body.widgets.flatMap((w: any) => (w.type === "metric" ? w.properties.metrics : []));
}

/** `[ns, name, k1, v1, ..., opts?]` -> { ns, name, dims, opts }. */
function parse(m: unknown[]) {
  const opts = typeof m.at(-1) === "object" ? (m.at(-1) as Record<string, unknown>) : {};
  const plain = (typeof m.at(-1) === "object" ? m.slice(0, -1) : m) as string[];
  const [ns, name, ...rest] = plain;
  const dims: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) dims[rest[i] as string] = rest[i + 1] as string;
  return { ns, name, dims, opts };
}

describe("dashboard widgets", () => {
  it("writes a metric line in CloudWatch's array form", () => {
    expect(
      metricArray({
        namespace: "AWS/DynamoDB",
        metricName: "ReplicationLatency",
        dimensions: { TableName: "t", ReceivingRegion: "us-west-2" },
        stat: "Maximum",
        label: "t -> us-west-2",
      }),
    ).to.deep.equal([
      "AWS/DynamoDB",
      "ReplicationLatency",
      "TableName",
      "t",
      "ReceivingRegion",
      "us-west-2",
      { stat: "Maximum", label: "t -> us-west-2" },
    ]);
    expect(metricArray({ namespace: "N", metricName: "M", dimensions: {} })).to.deep.equal([
      "N",
      "M",
    ]);
    expect(metricArray({ expression: "a / b", label: "ratio", id: "r" })).to.deep.equal([
      { expression: "a / b", label: "ratio", id: "r" },
    ]);
  });

  it("rejects an empty widget, a repeated id, a bad id and a width off the grid", () => {
    const line = { namespace: "N", metricName: "M", dimensions: {}, id: "a" };
    expect(() => metricWidget({ title: "x", region: "us-east-1", lines: [] })).to.throw(
      /no metric/,
    );
    expect(() => metricWidget({ title: "x", region: "us-east-1", lines: [line, line] })).to.throw(
      /repeats a metric id/,
    );
    expect(() => metricArray({ ...line, id: "Bad" })).to.throw(/metric id must start/);
    expect(() =>
      metricWidget({ title: "x", region: "us-east-1", lines: [line], width: 25 }),
    ).to.throw(/width must be 1-24/);
  });

  it("lays widgets out row by row on the 24-column grid", () => {
    const w = (width: number, height: number) => ({ ...textWidget("x", width, height) });
    expect(layout([w(12, 6), w(12, 3), w(8, 2), w(24, 1)]).map((p) => [p.x, p.y])).to.deep.equal([
      [0, 0],
      [12, 0],
      [0, 6],
      [0, 8],
    ]);
  });
});

describe("DynamoDB operations on the dashboard", () => {
  it("every operation a function is listed with is allowed by its IAM actions on that table", () => {
    for (const fn of FUNCTION_NAMES) {
      for (const [table, ops] of Object.entries(FUNCTION_OPERATIONS[fn])) {
        const actions: readonly string[] = FUNCTIONS[fn].access[table as TableKey] ?? [];
        expect(actions, `${fn} has no access to ${table}`).not.to.be.empty;
        for (const op of ops) {
          expect(
            OPERATION_ACTIONS[op].some((a) => actions.includes(a)),
            `${fn} calls ${op} on ${table} without a matching action`,
          ).to.equal(true);
        }
      }
    }
  });

  it("every table a function may touch has its operations listed", () => {
    for (const fn of FUNCTION_NAMES) {
      expect(Object.keys(FUNCTION_OPERATIONS[fn]).sort(), fn).to.deep.equal(
        Object.keys(FUNCTIONS[fn].access).sort(),
      );
    }
  });

  it("writes to a table are the operations that put items there", () => {
    expect(byTable("writeOperations")).to.deep.equal({
      customers: ["BatchWriteItem"],
      products: ["BatchWriteItem", "UpdateItem"],
      orders: ["BatchWriteItem", "PutItem"],
      kv: ["PutItem"],
    });
  });
});

describe("regional dashboard body", () => {
  const body = JSON.parse(dashboardBody(regionalDashboardWidgets(data)));
  const metrics = metricsOf(body).map(parse);

  it("is valid JSON with laid-out widgets", () => {
    expect(body.widgets.length).to.be.greaterThan(5);
    for (const w of body.widgets) {
      expect(w.x).to.be.a("number");
      expect(w.y).to.be.a("number");
      expect(w.x + w.width).to.be.at.most(24);
    }
  });

  it("graphs replication latency of every table toward every other region", () => {
    const pairs = metrics
      .filter((m) => m.name === "ReplicationLatency")
      .map((m) => `${m.dims["TableName"]}>${m.dims["ReceivingRegion"]}`)
      .sort();
    expect(pairs).to.deep.equal(
      TABLE_KEYS.flatMap((t) => [`shop-${t}>eu-west-1`, `shop-${t}>us-west-2`]).sort(),
    );
  });

  it("graphs latency and counts of every operation the functions call, table by table", () => {
    const ops = byTable("operations");
    const expected = TABLE_KEYS.flatMap((t) =>
      (ops[t] ?? []).map((op) => `shop-${t}:${op}`),
    ).sort();
    for (const stat of ["Average", "SampleCount"]) {
      const got = metrics
        .filter((m) => m.name === "SuccessfulRequestLatency" && m.opts["stat"] === stat)
        .map((m) => `${m.dims["TableName"]}:${m.dims["Operation"]}`)
        .sort();
      expect(got, stat).to.deep.equal(expected);
    }
    expect(expected).to.include.members([
      "shop-orders:PutItem",
      "shop-products:UpdateItem",
      "shop-customers:GetItem",
      "shop-products:BatchWriteItem",
      "shop-kv:PutItem",
    ]);
  });

  it("graphs the functions' ReadTime and WriteTime with the dimension they publish", () => {
    for (const name of ["ReadTime", "WriteTime"]) {
      const lines = metrics.filter((m) => m.name === name);
      expect(lines.map((l) => l.opts["stat"]).sort(), name).to.deep.equal([
        "Average",
        "SampleCount",
        "p99",
      ]);
      for (const l of lines) {
        expect(l.ns).to.equal("ResilientDynamo");
        expect(l.dims).to.deep.equal({ Region: "us-east-1-us-east-1" });
      }
    }
  });

  it("graphs the API's requests, 4XX, 5XX and latency on its name and stage", () => {
    const api = metrics.filter((m) => m.ns === "AWS/ApiGateway");
    expect([...new Set(api.map((m) => m.name))].sort()).to.deep.equal([
      "4XXError",
      "5XXError",
      "Count",
      "Latency",
    ]);
    for (const m of api) expect(m.dims).to.deep.equal({ ApiName: "shop-api", Stage: "prod" });
  });

  it("graphs errors, throttles and duration of every function", () => {
    for (const name of ["Errors", "Throttles", "Duration"]) {
      const fns = metrics
        .filter((m) => m.ns === "AWS/Lambda" && m.name === name)
        .map((m) => m.dims["FunctionName"])
        .sort();
      expect(fns, name).to.deep.equal(Object.values(functionNames).sort());
    }
  });

  it("graphs each canary's success and duration in the canary's own region", () => {
    for (const name of ["SuccessPercent", "Duration"]) {
      const lines = metrics.filter((m) => m.ns === "CloudWatchSynthetics" && m.name === name);
      expect(lines.map((l) => [l.dims["CanaryName"], l.opts["region"]])).to.deep.equal([
        ["shop-region1", "us-east-1"],
        ["shop-obs-region1", "us-east-2"],
      ]);
    }
  });

  it("leaves out the client latency graph and counts when the service publishes none", () => {
    const { clientLatency: _c, ...withoutClient } = data;
    void _c;
    const none = JSON.parse(dashboardBody(regionalDashboardWidgets(withoutClient)));
    expect(none.widgets.map((w: any) => w.properties.title)).not.to.include(
      "Client-observed latency: ReadTime / WriteTime (ms)",
    );
    expect(body.widgets.map((w: any) => w.properties.title)).to.include(
      "Client-observed latency: ReadTime / WriteTime (ms)",
    );
    const names = metricsOf(none)
      .map(parse)
      .map((m) => m.name);
    expect(names).to.include("Count");
    expect(names).not.to.include("ReadTime");
    expect(names).not.to.include("WriteTime");
  });

  it("graphs another service's tables and operations, and refuses a table it has no name for", () => {
    const sessions = {
      ...data,
      tableNames: { sessions: "acme-sessions" },
      tables: [{ key: "sessions", operations: ["GetItem" as const], writeOperations: [] }],
    };
    const got = metricsOf(JSON.parse(dashboardBody(regionalDashboardWidgets(sessions))))
      .map(parse)
      .filter((m) => m.ns === "AWS/DynamoDB")
      .map(
        (m) =>
          `${m.name} ${m.dims["TableName"]} ${m.dims["Operation"] ?? m.dims["ReceivingRegion"]}`,
      );
    expect([...new Set(got)].sort()).to.deep.equal([
      "ReplicationLatency acme-sessions eu-west-1",
      "ReplicationLatency acme-sessions us-west-2",
      "SuccessfulRequestLatency acme-sessions GetItem",
    ]);
    expect(() =>
      regionalDashboardWidgets({ ...sessions, tableNames: { carts: "acme-carts" } }),
    ).to.throw(/tableNames has no table sessions \(it names carts\)/);
  });

  it("leaves out the canary widgets when there is no canary", () => {
    const none = JSON.parse(dashboardBody(regionalDashboardWidgets({ ...data, canaries: [] })));
    expect(
      metricsOf(none)
        .map(parse)
        .filter((m) => m.ns === "CloudWatchSynthetics"),
    ).to.be.empty;
  });
});

describe("RegionalDashboard", function () {
  this.timeout(60_000);

  it("creates one dashboard named for its region, in that region, from the typed widgets", async () => {
    const { engine, result } = await underMocks("us-west-2", () => {
      return new RegionalDashboard("dash", {
        region: "us-west-2",
        namePrefix: "shop",
        tableNames,
        tables: SERVICE_WATCHED_TABLES,
        receivingRegions: ["us-east-1", "us-west-2"],
        apiName: "shop-api",
        stageName: "prod",
        functionNames,
      });
    });
    const dashboards = engine.ofType("aws:cloudwatch/dashboard:Dashboard");
    expect(dashboards).to.have.length(1);
    expect(dashboards[0]?.inputs["region"]).to.equal("us-west-2");
    expect(dashboards[0]?.inputs["dashboardName"]).to.equal("shop-us-west-2");
    expect(await promiseOf(result.dashboardName)).to.equal("shop-us-west-2");
    const body = JSON.parse(dashboards[0]?.inputs["dashboardBody"]);
    const receiving = metricsOf(body)
      .map(parse)
      .filter((m) => m.name === "ReplicationLatency")
      .map((m) => m.dims["ReceivingRegion"]);
    expect([...new Set(receiving)]).to.deep.equal(["us-east-1"]);
  });
});
