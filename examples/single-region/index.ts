/**
 * A page-visit counter in one region: one DynamoDB table and one function behind a SigV4-signed
 * route, from the resilient-dynamo component package. It imports nothing from the order service.
 *
 *   cd examples/single-region && npm install && pulumi stack init dev
 *   pulumi config set aws:region us-east-1 && pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { GlobalTableSet, HttpMethod, RegionalApi, RouteAuth } from "resilient-dynamo";

const region = new pulumi.Config("aws").require("region");
const tags = { project: "page-visits", stack: pulumi.getStack() };

// A table with no replica regions: the same component grows into a global table later by listing
// replicaRegions, without replacing the table.
const data = new GlobalTableSet("visits-data", {
  region,
  replicaRegions: [],
  namePrefix: "page-visits",
  tables: [{ key: "visits", hashKey: "Page" }],
  tags,
});

const api = new RegionalApi("visits-api", {
  region,
  namePrefix: "page-visits",
  codeRoot: __dirname,
  functions: {
    count: { entry: "count.ts", access: { visits: ["dynamodb:UpdateItem"] } },
  },
  routes: [
    { method: HttpMethod.Post, path: "/visits/{page}", function: "count", auth: RouteAuth.Iam },
  ],
  tableEnvVars: { visits: "VISITS_TABLE" },
  tableNames: data.tableNames,
  tableArns: data.tableArns.apply((byRegion) => byRegion[region] as Record<string, string>),
  tags,
});

export const url = api.url;
export const tableName = data.tableNames.apply((names) => names["visits"]);
