/**
 * RegionalApi as another service uses it: its own handler code (in a temporary directory, not this
 * repository), one function, one route and one table. Nothing of this service's functions/ is
 * involved: the component builds exactly what it is given, and refuses what does not fit.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import {
  HttpMethod,
  METRICS_NAMESPACE,
  RegionalApi,
  RouteAuth,
  bundleFunction,
  validateRegionalApiArgs,
  type RegionalApiArgs,
} from "../components";
import { json, promiseOf, refusedUnderMocks, underMocks, type MockEngine } from "./support/pulumi";

const REGION = "eu-west-1";
const TABLE_ARN = "arn:aws:dynamodb:eu-west-1:111122223333:table/tk-tickets";

/** A tickets service: its handler imports a module of its own, relative to its code root. */
function writeTicketsService(dir: string): void {
  fs.mkdirSync(path.join(dir, "src"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "src", "greeting.ts"),
    "export const greeting = (id: string): string => `ticket ${id}`;\n",
  );
  fs.writeFileSync(
    path.join(dir, "src", "get-ticket.ts"),
    [
      'import { greeting } from "./greeting";',
      "export const handler = async (event: { pathParameters: { ticketId: string } }) => ({",
      "  statusCode: 200,",
      "  body: JSON.stringify({ text: greeting(event.pathParameters.ticketId) }),",
      "});",
      "",
    ].join("\n"),
  );
}

describe("RegionalApi for another service", function () {
  this.timeout(60_000);
  let codeRoot: string;
  let args: RegionalApiArgs;
  let engine: MockEngine;
  let api: RegionalApi;

  before(async () => {
    codeRoot = fs.mkdtempSync(path.join(os.tmpdir(), "tickets-service-"));
    writeTicketsService(codeRoot);
    args = {
      region: REGION,
      namePrefix: "tk",
      codeRoot,
      functions: {
        getTicket: {
          entry: "src/get-ticket.ts",
          access: { tickets: ["dynamodb:Query", "dynamodb:GetItem"] },
          memoryMb: 512,
        },
      },
      routes: [
        {
          method: HttpMethod.Get,
          path: "/tickets/{ticketId}",
          function: "getTicket",
          auth: RouteAuth.Iam,
        },
      ],
      tableEnvVars: { tickets: "TICKETS_TABLE" },
      tableNames: { tickets: "tk-tickets" },
      tableArns: { tickets: TABLE_ARN },
      manageAccountLogging: false,
    };
    ({ engine, result: api } = await underMocks(REGION, () => new RegionalApi("tk", args)));
  });
  after(() => fs.rmSync(codeRoot, { recursive: true, force: true }));

  const theFunction = () => {
    const fns = engine.ofType("aws:lambda/function:Function");
    expect(fns.map((f) => f.name)).to.deep.equal(["tk-get-ticket"]);
    return fns[0]!;
  };

  it("deploys the one function it is given, with its memory and the default timeout", async () => {
    const fn = theFunction();
    expect(fn.inputs).to.deep.include({ memorySize: 512, timeout: 10, region: REGION });
    expect(Object.keys(await promiseOf(api.functionArns))).to.deep.equal(["getTicket"]);
  });

  it("bundles the handler from the caller's code root", async () => {
    const file = path.join(codeRoot, "out", "index.js");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bundleFunction("src/get-ticket.ts", codeRoot).code);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(file) as {
      handler: (e: unknown) => Promise<{ statusCode: number; body: string }>;
    };
    const answer = await handler({ pathParameters: { ticketId: "t-1" } });
    expect(JSON.parse(answer.body)).to.deep.equal({ text: "ticket t-1" });
  });

  it("exposes exactly its route, signed, on a Lambda proxy to its function", () => {
    const fn = theFunction();
    expect(
      engine
        .ofType("aws:apigateway/resource:Resource")
        .map((r) => r.inputs["pathPart"])
        .sort(),
    ).to.deep.equal(["tickets", "{ticketId}"]);
    const methods = engine.ofType("aws:apigateway/method:Method");
    expect(
      methods.map((m) => [m.name, m.inputs["httpMethod"], m.inputs["authorization"]]),
    ).to.deep.equal([["tk-get-tickets-ticketId", "GET", "AWS_IAM"]]);
    expect(fn.state["invokeArn"]).to.match(/^arn:aws:apigateway:eu-west-1:lambda:path\//);
    const integrations = engine.ofType("aws:apigateway/integration:Integration");
    expect(integrations.map((i) => [i.inputs["type"], i.inputs["uri"]])).to.deep.equal([
      ["AWS_PROXY", fn.state["invokeArn"]],
    ]);
    const [restApi] = engine.ofType("aws:apigateway/restApi:RestApi");
    expect(restApi!.state["executionArn"]).to.match(/^arn:aws:execute-api:eu-west-1:\d{12}:/);
    const perms = engine.ofType("aws:lambda/permission:Permission");
    expect(perms.map((p) => p.inputs["sourceArn"])).to.deep.equal([
      `${restApi!.state["executionArn"]}/*/GET/tickets/*`,
    ]);
  });

  it("grants exactly the listed actions on exactly its table's ARN", () => {
    const fn = theFunction();
    const role = engine
      .ofType("aws:iam/role:Role")
      .find((r) => r.state["arn"] === fn.inputs["role"]);
    const policies = engine
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .filter((p) => p.inputs["role"] === role?.state["name"]);
    expect(policies).to.have.length(1);
    const statements = json(policies[0]!.inputs["policy"]).Statement as {
      Action: string[];
      Resource: string[];
    }[];
    expect(statements.filter((s) => s.Action.some((a) => a.startsWith("dynamodb:")))).to.deep.equal(
      [
        {
          Sid: "Dynamotickets",
          Effect: "Allow",
          Action: ["dynamodb:GetItem", "dynamodb:Query"],
          Resource: [TABLE_ARN],
        },
      ],
    );
  });

  it("gives the function its table's name under the bound variable, and nothing else", () => {
    expect(theFunction().inputs["environment"].variables).to.deep.equal({
      TICKETS_TABLE: "tk-tickets",
      POWERTOOLS_SERVICE_NAME: "tk",
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: "--enable-source-maps",
    });
  });

  describe("refuses what does not fit, creating nothing", () => {
    const cases: [string, (a: RegionalApiArgs) => Partial<RegionalApiArgs>, RegExp][] = [
      [
        "a route naming an unknown function",
        (a) => ({ routes: [{ ...a.routes[0]!, function: "getTickets" }] }),
        /route GET \/tickets\/\{ticketId\} names unknown function getTickets/,
      ],
      [
        "a function naming a table it has no binding for",
        (a) => ({
          functions: {
            getTicket: {
              ...a.functions["getTicket"]!,
              access: { tickets: ["dynamodb:GetItem"], audit: ["dynamodb:PutItem"] },
            },
          },
        }),
        /function getTicket: access names unknown table audit, which tableEnvVars does not bind/,
      ],
      [
        "a wildcard action",
        (a) => ({
          functions: {
            getTicket: { ...a.functions["getTicket"]!, access: { tickets: ["dynamodb:*"] } },
          },
        }),
        /function getTicket: access.tickets: "dynamodb:\*" is not one DynamoDB action/,
      ],
      [
        "a function no route answers to",
        (a) => ({
          functions: {
            ...a.functions,
            audit: { entry: "src/audit.ts", access: { tickets: ["dynamodb:PutItem"] } },
          },
        }),
        /function audit answers no route/,
      ],
      [
        "a relative code root",
        () => ({ codeRoot: "tickets" }),
        /codeRoot must be an absolute directory: got "tickets"/,
      ],
      [
        "an OPTIONS route (preflight is the API's own)",
        (a) => ({ routes: [{ ...a.routes[0]!, method: "OPTIONS" as HttpMethod }] }),
        /route OPTIONS \/tickets\/\{ticketId\}: method must be one of GET, POST, PUT, PATCH, DELETE, HEAD/,
      ],
      [
        "an unknown auth",
        (a) => ({ routes: [{ ...a.routes[0]!, auth: "cognito" as RouteAuth }] }),
        /auth must be one of iam, none/,
      ],
      ["no routes", () => ({ routes: [] }), /routes must list at least one route/],
    ];
    for (const [what, patch, message] of cases) {
      it(what, async () => {
        const bad = { ...args, ...patch(args) };
        expect(() => validateRegionalApiArgs(bad)).to.throw(message);
        const { error, engine: e } = await refusedUnderMocks(
          REGION,
          () => new RegionalApi("bad", bad),
        );
        expect(error.message).to.match(message);
        expect(e.resources.filter((r) => r.type.startsWith("aws:"))).to.be.empty;
      });
    }
  });
});
