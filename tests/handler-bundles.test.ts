/**
 * The handler bundles RegionalApi deploys, loaded the way Lambda loads them: one file in a
 * directory with no node_modules. bundleFunction leaves SDK code out of them (trimForLambda);
 * these tests show what is left still signs and sends DynamoDB requests with the execution
 * role's credentials from the environment, and reads credentials from nowhere else.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import { builtinModules } from "node:module";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { bundleFunction } from "../components/bundle";
import { FUNCTIONS, FUNCTION_NAMES, type FunctionName } from "../functions/routes";
import { TABLES } from "../functions/tables";
import { SERVICE_CODE_ROOT } from "../stack/service-api";
import { apiEvent, parse } from "./support/events";
import { withEnv as withEnvOf } from "./support/env";

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** What the fake DynamoDB saw of one request. */
interface Seen {
  readonly target: string;
  readonly table: string;
  readonly authorization: string;
  readonly token: string | undefined;
}

/** A DynamoDB JSON endpoint on 127.0.0.1 that answers every call with `{}` and records it. */
async function fakeDynamo(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
        TableName?: string;
      };
      const token = req.headers["x-amz-security-token"];
      seen.push({
        target: String(req.headers["x-amz-target"]),
        table: body.TableName ?? "",
        authorization: String(req.headers.authorization),
        token: typeof token === "string" ? token : undefined,
      });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every variable a bundle or the SDK in it reads, cleared around each load. */
const ENV_KEYS = [
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "AWS_ENDPOINT_URL_DYNAMODB",
  "AWS_LAMBDA_FUNCTION_NAME",
  "DYNAMODB_ENDPOINT",
  "POWERTOOLS_LOG_LEVEL",
  "POWERTOOLS_METRICS_DISABLED",
  ...TABLES.map((t) => t.envVar),
];

const withEnv = <T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> =>
  withEnvOf(ENV_KEYS, env, fn);

const ROLE = {
  AWS_ACCESS_KEY_ID: "ASIAROLEFROMLAMBDA01",
  AWS_SECRET_ACCESS_KEY: "role-secret",
  AWS_SESSION_TOKEN: "role-session-token",
};

/** What Lambda sets for a function of ours, with DynamoDB's endpoint pointed at `endpoint`. */
function lambdaEnv(fn: FunctionName, endpoint: string): Record<string, string> {
  return {
    AWS_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: `orders-${fn}`,
    // The SDK's own per-service endpoint variable, so requests go through its credential chain
    // (DYNAMODB_ENDPOINT would make the handler pass fixed local credentials instead).
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
    ...Object.fromEntries(TABLES.map((t) => [t.envVar, `orders-${t.key}`])),
  };
}

describe("handler bundles (as deployed)", function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "handler-bundles-"));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes fn's bundle as <dir>/<name>/index.js and loads it (a fresh copy every call). */
  function load(fn: FunctionName, name: string = fn): Handler {
    const file = path.join(dir, name, "index.js");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bundleFunction(FUNCTIONS[fn].entry, SERVICE_CODE_ROOT).code);
    delete require.cache[file];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as { handler?: unknown };
    expect(mod.handler, `${fn} exports handler`).to.be.a("function");
    return mod.handler as Handler;
  }

  it("every bundle needs nothing but Node.js built-ins and loads on its own", async () => {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    for (const fn of FUNCTION_NAMES) {
      const { code } = bundleFunction(FUNCTIONS[fn].entry, SERVICE_CODE_ROOT);
      // Text inside the SDK's SigV4a error message, not a call: see the canary bundle test.
      const required = [...code.matchAll(/(\[?)require\("([^"]+)"\)/g)]
        .filter((m) => !(m[1] === "[" && m[2] === "@aws-sdk/signature-v4-crt"))
        .map((m) => m[2] as string);
      expect(
        required.filter((r) => !builtins.has(r)),
        fn,
      ).to.deep.equal([]);
    }
    const server = await fakeDynamo();
    try {
      for (const fn of FUNCTION_NAMES) {
        await withEnv({ ...lambdaEnv(fn, server.url), ...ROLE }, async () => load(fn));
      }
    } finally {
      await server.close();
    }
  });

  it("signs DynamoDB calls with the role's credentials from the environment", async () => {
    const server = await fakeDynamo();
    try {
      const result = await withEnv({ ...lambdaEnv("health", server.url), ...ROLE }, async () => {
        return parse(await load("health")(apiEvent({ method: "GET", path: "/health" })));
      });
      expect(result.status, result.raw).to.equal(200);
      expect(server.seen.map((s) => s.table).sort()).to.deep.equal(
        TABLES.map((t) => `orders-${t.key}`).sort(),
      );
      for (const s of server.seen) {
        expect(s.target).to.equal("DynamoDB_20120810.GetItem");
        expect(s.authorization).to.match(
          new RegExp(
            `^AWS4-HMAC-SHA256 Credential=${ROLE.AWS_ACCESS_KEY_ID}/\\d{8}/us-east-1/dynamodb/aws4_request,`,
          ),
        );
        expect(s.token).to.equal(ROLE.AWS_SESSION_TOKEN);
      }
    } finally {
      await server.close();
    }
  });

  it("writes through the bundle too (kv PUT then GET)", async () => {
    const server = await fakeDynamo();
    try {
      const [put, get] = await withEnv({ ...lambdaEnv("kv", server.url), ...ROLE }, async () => {
        const handler = load("kv");
        const event = (method: string, body?: unknown) => ({
          ...apiEvent({ method, path: "/kv/color", ...(body !== undefined ? { body } : {}) }),
          resource: "/kv/{key}",
          pathParameters: { key: "color" },
        });
        return [
          parse(await handler(event("PUT", { value: "blue" }))),
          parse(await handler(event("GET"))),
        ];
      });
      expect(put.status, put.raw).to.be.oneOf([200, 201]);
      expect(get.status, get.raw).to.equal(404); // the fake answers GetItem with no item
      expect(server.seen.map((s) => s.target)).to.deep.equal([
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.GetItem",
      ]);
    } finally {
      await server.close();
    }
  });

  it("reads no other credential source: a shared credentials file is ignored", async () => {
    // The SDK's full default chain would find these and send the request signed with them.
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "handler-bundles-profile-"));
    const credentialsFile = path.join(profileDir, "credentials");
    fs.writeFileSync(
      credentialsFile,
      "[default]\naws_access_key_id = AKIAFROMAFILE0000001\naws_secret_access_key = file-secret\n",
    );
    const server = await fakeDynamo();
    try {
      const env = {
        ...lambdaEnv("health", server.url),
        AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
        AWS_CONFIG_FILE: path.join(profileDir, "config"),
        AWS_PROFILE: "default",
      };
      const result = await withEnv(env, async () => {
        return parse(
          await load("health", "health-no-role")(apiEvent({ method: "GET", path: "/health" })),
        );
      });
      expect(server.seen, "requests sent without the role's credentials").to.deep.equal([]);
      expect(result.status).to.equal(503);
    } finally {
      await server.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
    }
  });
});
