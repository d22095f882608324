/**
 * The policy pack as the Pulumi CLI runs it: `policy/index.ts` started in its own directory, the
 * gRPC analyzer it serves asked for its policies, then to analyze a resource and a stack, one of
 * them with values unknown as in a preview. This checks the adapter in index.ts, which the rule
 * tests (policy-pack.test.ts) do not reach.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import * as path from "node:path";
import { expect } from "chai";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { RULES } from "../policy/guardrails";
import { PROJECT_DIR } from "../tools/stack-config";

// The gRPC and protobuf modules @pulumi/policy itself uses, wherever npm put them.
const fromPolicy = createRequire(require.resolve("@pulumi/policy"));
const grpc = fromPolicy("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const { Struct } = fromPolicy("google-protobuf/google/protobuf/struct_pb");
const { Empty } = fromPolicy("google-protobuf/google/protobuf/empty_pb");
const rpc = fromPolicy("@pulumi/pulumi/proto/analyzer_grpc_pb");

/** The value Pulumi sends for a property not known yet (preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const urn = (type: string, name: string) => `urn:pulumi:test::p::${type}::${name}`;

function resource(
  type: string,
  name: string,
  props: Record<string, unknown>,
  deps: Record<string, string[]> = {},
): analyzer.AnalyzerResource {
  const r = new analyzer.AnalyzerResource()
    .setType(type)
    .setName(name)
    .setUrn(urn(type, name))
    .setProperties(Struct.fromJavaScript(props))
    .setOptions(new analyzer.AnalyzerResourceOptions());
  for (const [prop, urns] of Object.entries(deps)) {
    r.getPropertydependenciesMap().set(
      prop,
      new analyzer.AnalyzerPropertyDependencies().setUrnsList(urns),
    );
  }
  return r;
}

type Diagnostic = { policy: string; message: string; urn: string };
/** Diagnostics as the rules wrote them (the SDK puts the rule's description first). */
const diagnostics = (res: analyzer.AnalyzeResponse): Diagnostic[] =>
  res.getDiagnosticsList().map((d) => {
    const rule = RULES.find((r) => r.name === d.getPolicyname());
    const prefix = `${rule?.description}\n`;
    expect(d.getMessage().startsWith(prefix), d.getMessage()).to.equal(true);
    return {
      policy: d.getPolicyname(),
      message: d.getMessage().slice(prefix.length),
      urn: d.getUrn(),
    };
  });

describe("policy pack served as Pulumi runs it", function () {
  this.timeout(120_000);
  let child: ChildProcess;
  let client: any;
  const call = <T>(method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      client[method](request, { deadline: Date.now() + 20_000 }, (err: Error | null, res: T) =>
        err ? reject(err) : resolve(res),
      );
    });

  before(async () => {
    child = spawn(process.execPath, ["--require", "tsx/cjs", "index.ts"], {
      cwd: path.join(PROJECT_DIR, "policy"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += String(d)));
    // The pack prints the port it serves on, then waits for the engine.
    const port = await Promise.race([
      new Promise<string>((resolve) => {
        let out = "";
        child.stdout?.on("data", (d) => {
          out += String(d);
          const m = /^(\d+)\s*$/m.exec(out);
          if (m) resolve(m[1] as string);
        });
      }),
      once(child, "exit").then(() => {
        throw new Error(`the pack exited before serving: ${stderr}`);
      }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no port within 60 s: ${stderr}`)), 60_000).unref(),
      ),
    ]);
    client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    if (child && child.exitCode === null) {
      const exited = once(child, "exit");
      child.kill();
      await exited;
    }
  });

  it("offers every rule of the pack, mandatory", async () => {
    const info = await call<analyzer.AnalyzerInfo>("getAnalyzerInfo", new Empty());
    expect(info.getName()).to.equal("resilient-dynamo-guardrails");
    expect(info.getPoliciesList().map((p) => p.getName())).to.deep.equal(RULES.map((r) => r.name));
    for (const p of info.getPoliciesList()) {
      expect(p.getEnforcementlevel(), p.getName()).to.equal(analyzer.EnforcementLevel.MANDATORY);
    }
  });

  it("reports a resource that breaks a rule, and nothing for one that keeps them", async () => {
    const type = "aws:cloudwatch/logGroup:LogGroup";
    const analyze = (props: Record<string, unknown>) =>
      call<analyzer.AnalyzeResponse>(
        "analyze",
        new analyzer.AnalyzeRequest()
          .setType(type)
          .setName("logs")
          .setUrn(urn(type, "logs"))
          .setProperties(Struct.fromJavaScript(props))
          .setOptions(new analyzer.AnalyzerResourceOptions()),
      );
    expect(diagnostics(await analyze({ name: "/x" }))).to.deep.equal([
      {
        policy: "log-group-retention",
        message: "log group logs: no retentionInDays (its logs would be kept forever)",
        urn: "",
      },
    ]);
    expect(diagnostics(await analyze({ name: "/x", retentionInDays: 30 }))).to.deep.equal([]);
  });

  it("checks a stack in preview, following dependencies where values are unknown", async () => {
    const api = resource("aws:apigateway/restApi:RestApi", "api", { rootResourceId: UNKNOWN });
    const orders = resource(
      "aws:apigateway/resource:Resource",
      "orders",
      { pathPart: "orders", parentId: UNKNOWN, restApi: UNKNOWN },
      { parentId: [api.getUrn()] },
    );
    const method = resource(
      "aws:apigateway/method:Method",
      "get-orders",
      { httpMethod: "GET", authorization: "NONE", resourceId: UNKNOWN, restApi: UNKNOWN },
      { resourceId: [orders.getUrn()] },
    );
    const bucket = resource("aws:s3/bucket:Bucket", "artifacts", { bucket: UNKNOWN });
    const res = await call<analyzer.AnalyzeResponse>(
      "analyzeStack",
      new analyzer.AnalyzeStackRequest().setResourcesList([api, orders, method, bucket]),
    );
    const found = diagnostics(res).sort((a, b) => a.policy.localeCompare(b.policy));
    expect(found).to.deep.equal([
      {
        policy: "apigateway-methods-authenticated",
        message: "method GET /orders (get-orders): authorization NONE, expected AWS_IAM",
        urn: method.getUrn(),
      },
      {
        policy: "s3-encryption",
        message: "bucket artifacts: no default encryption configuration",
        urn: bucket.getUrn(),
      },
      {
        policy: "s3-public-access-block",
        message: "bucket artifacts: no public access block with all four settings on",
        urn: bucket.getUrn(),
      },
      {
        policy: "s3-tls-only",
        message: "bucket artifacts: no bucket policy denying aws:SecureTransport false",
        urn: bucket.getUrn(),
      },
    ]);
  });
});
