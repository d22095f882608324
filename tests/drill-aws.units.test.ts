/**
 * The AWS drill target's parts, each against a real counterpart where one exists: the stack
 * outputs loader, the TTL-honouring DNS client against a dns2 server on 127.0.0.1, the signers
 * against @smithy/signature-v4 and the stand-ins' SigV4a verifier, and the refusals and undo
 * paths of ARC and FIS through aws-sdk-client-mock.
 */
import {
  FisClient,
  GetExperimentCommand,
  ListExperimentsCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import {
  GetRoutingControlStateCommand,
  Route53RecoveryClusterClient,
  UpdateRoutingControlStatesCommand,
} from "@aws-sdk/client-route53-recovery-cluster";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import { expect } from "chai";
import DNS from "dns2";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArcCluster } from "../local/arc-cluster";
import { SignatureVerifier } from "../local/aws-standin";
import { arcControls } from "../local/drill/aws/controls";
import { FaultLedger, FisFaults } from "../local/drill/aws/faults";
import { fisTemplate, loadOutputs } from "../local/drill/aws/outputs";
import { probeLag, Prober } from "../local/drill/aws/replication";
import { TtlResolver } from "../local/drill/aws/resolver";
import { sigV4aSigner, sigV4Signer } from "../local/drill/aws/signing";
import { connectAws } from "../local/drill/aws/target";
import { parseDrillArgs } from "../tools/drill-args";

const EAST = "us-east-1";
const WEST = "us-west-2";
const ARN = (id: string) =>
  `arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/${id}`;
const CREDS = { accessKeyId: "AKIAUNITTEST", secretAccessKey: "unit-test-secret-key-0123456789" };

const REGION1 = {
  region: EAST,
  invokeUrl: "https://a1.execute-api.us-east-1.amazonaws.com/prod",
  url: "https://orders.example.com/v1",
  tableNames: { orders: "orders-e", products: "products-e" },
};
const REGION2 = {
  region: WEST,
  invokeUrl: "https://b2.execute-api.us-west-2.amazonaws.com/prod",
  url: "https://orders.example.com/v1",
  tableNames: { orders: "orders-w", products: "products-w" },
  routing: "arc",
  serviceDomain: "orders.example.com",
  arcClusterEndpoints: [
    { endpoint: "https://host-aaa.us-east-1.example.com/v1", region: EAST },
    { endpoint: "https://host-bbb.us-west-2.example.com/v1", region: WEST },
  ],
  routingControlArns: { [EAST]: ARN("east"), [WEST]: ARN("west") },
  fisExperimentTemplateIds: {
    "replication-pause": { [EAST]: "EXTpauseE", [WEST]: "EXTpauseW" },
    "lambda-errors": { [EAST]: "EXTerrE", [WEST]: "EXTerrW" },
  },
};

function writeOutputs(dir: string, stacks: Record<string, unknown>): string {
  for (const [name, out] of Object.entries(stacks))
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(out));
  return dir;
}

describe("drill --target aws: stack outputs", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "outputs-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a directory of stack outputs: regions in routing-control order, the service URL", () => {
    const o = loadOutputs([writeOutputs(dir, { region1: REGION1, region2: REGION2 })]);
    expect(o.regions.map((r) => r.region)).to.deep.equal([EAST, WEST]);
    expect(o.globalUrl).to.equal("https://orders.example.com/v1");
    expect(o.regions[1]?.invokeUrl).to.equal(REGION2.invokeUrl);
    expect(fisTemplate(o, "replication-pause", WEST)).to.equal("EXTpauseW");
    expect(fisTemplate(o, "region-loss", EAST)).to.equal("EXTerrE");
    expect(o.routingFile).to.equal(join(dir, "region2.json"));
  });

  it("names every output it needs and did not get", () => {
    writeOutputs(dir, { region1: REGION1 });
    expect(() => loadOutputs([dir])).to.throw(/missing stack outputs: routingControlArns/);
    writeOutputs(dir, { region2: { ...REGION2, arcClusterEndpoints: undefined } });
    expect(() => loadOutputs([dir])).to.throw(/arcClusterEndpoints \(.*region2\.json\)/);
    rmSync(join(dir, "region1.json"));
    writeOutputs(dir, { region2: REGION2 });
    expect(() => loadOutputs([dir])).to.throw(/the outputs of us-east-1's stack/);
  });

  it("refuses healthcheck routing, bad JSON and a malformed output, naming the file", () => {
    writeOutputs(dir, { region1: REGION1, region2: { ...REGION2, routing: "healthcheck" } });
    expect(() => loadOutputs([dir])).to.throw(/routing arc .*healthcheck/);
    writeFileSync(join(dir, "region2.json"), "{not json");
    expect(() => loadOutputs([dir])).to.throw(/region2\.json is not JSON/);
    writeOutputs(dir, { region2: { ...REGION2, invokeUrl: "ftp://x" } });
    expect(() => loadOutputs([dir])).to.throw(/region2\.json: .*invokeUrl/);
    expect(() => loadOutputs([join(dir, "nope")])).to.throw(/no such file or directory/);
  });

  it("names the FIS template a scenario needs when the chaos outputs lack it", () => {
    const o = loadOutputs([
      writeOutputs(dir, {
        region1: REGION1,
        region2: { ...REGION2, fisExperimentTemplateIds: undefined },
      }),
    ]);
    expect(() => fisTemplate(o, "replication-pause", EAST)).to.throw(
      /fisExperimentTemplateIds\.replication-pause\.us-east-1/,
    );
  });
});

describe("drill --target aws: DNS client honouring the TTL (dns2 server on 127.0.0.1)", () => {
  let server: ReturnType<typeof DNS.createServer>;
  let port: number;
  let address = "127.0.0.2";
  let queries = 0;

  before(async () => {
    server = DNS.createServer({
      udp: true,
      handle: (request, send) => {
        queries++;
        const response = DNS.Packet.createResponseFromRequest(request);
        const name = request.questions[0]?.name ?? "";
        if (name === "svc.example.test") {
          response.answers.push({
            name,
            type: DNS.Packet.TYPE.A,
            class: DNS.Packet.CLASS.IN,
            ttl: 30,
            address,
          } as never);
        }
        send(response);
      },
    });
    server.on("requestError", () => undefined);
    const listening = await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
    port = (listening.udp as AddressInfo).port;
  });
  after(async () => {
    await server.close();
  });

  it("keeps an answer for its TTL, then asks again and sees the new one", async () => {
    let now = 1_000_000;
    const r = new TtlResolver({ host: "127.0.0.1", port }, () => now);
    address = "127.0.0.2";
    const before = queries;
    expect(await r.resolve("svc.example.test")).to.deep.include({
      address: "127.0.0.2",
      ttlSeconds: 30,
      cached: false,
    });
    address = "127.0.0.3"; // DNS moved
    now += 29_000;
    expect(await r.resolve("svc.example.test")).to.deep.include({
      address: "127.0.0.2",
      cached: true,
    });
    expect(queries - before).to.equal(1);
    now += 1_000;
    expect(await r.resolve("svc.example.test")).to.deep.include({
      address: "127.0.0.3",
      cached: false,
    });
    expect(queries - before).to.equal(2);
  });

  it("each client keeps its own copy, and a name with no record is an error", async () => {
    const now = 5_000_000;
    address = "127.0.0.2";
    const a = new TtlResolver({ host: "127.0.0.1", port }, () => now);
    await a.resolve("svc.example.test");
    address = "127.0.0.3";
    const b = new TtlResolver({ host: "127.0.0.1", port }, () => now);
    expect((await b.resolve("svc.example.test")).address).to.equal("127.0.0.3");
    expect((await a.resolve("svc.example.test")).address).to.equal("127.0.0.2");
    let err: unknown;
    try {
      await a.resolve("other.example.test");
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.match(/no A record for other\.example\.test/);
  });
});

describe("drill --target aws: signing", () => {
  const url = new URL("http://127.0.0.2:8443/prod/orders?x=1");
  const body = JSON.stringify({ customerId: "c1", productId: "p1" });

  it("SigV4 for a region matches @smithy/signature-v4 on the same request and time", async () => {
    const headers = await sigV4Signer(
      CREDS,
      WEST,
    )({
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      body,
    });
    const amzDate = headers["x-amz-date"] as string;
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const reference = await new SignatureV4({
      service: "execute-api",
      region: WEST,
      credentials: CREDS,
      sha256: Sha256,
    }).sign(
      new HttpRequest({
        method: "POST",
        protocol: "http:",
        hostname: "127.0.0.2",
        port: 8443,
        path: "/prod/orders",
        query: { x: "1" },
        headers: { "content-type": "application/json", host: "127.0.0.2:8443" },
        body,
      }),
      { signingDate },
    );
    expect(headers["authorization"]).to.equal(reference.headers["authorization"]);
    expect(headers["authorization"]).to.contain(`/${WEST}/execute-api/aws4_request`);
  });

  it("SigV4a for * verifies in every region (the stand-ins' verifier), and not when altered", async () => {
    const headers = await sigV4aSigner(CREDS)({
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      body,
    });
    expect(headers["x-amz-region-set"]).to.equal("*");
    expect(headers["authorization"]).to.match(/^AWS4-ECDSA-P256-SHA256 /);
    for (const region of [EAST, WEST]) {
      const verifier = new SignatureVerifier({
        credentials: [CREDS],
        service: "execute-api",
        regions: [region],
      });
      const arrived = {
        method: "POST",
        url: "/prod/orders?x=1",
        headers,
        body: Buffer.from(body),
      };
      expect((await verifier.verify(arrived)).ok, region).to.equal(true);
      const altered = { ...arrived, body: Buffer.from(body.replace("p1", "p2")) };
      expect((await verifier.verify(altered)).ok, `${region} altered`).to.equal(false);
    }
  });
});

describe("drill --target aws: refusals before any change, and undo", () => {
  // Installed when this suite runs, not when mocha loads the file: a mock made at load time
  // would replace the ARC and FIS clients of the suites that run before this one.
  let arc: AwsStub<any, any, any>;
  let fis: AwsStub<any, any, any>;
  before(() => {
    arc = mockClient(Route53RecoveryClusterClient) as unknown as AwsStub<any, any, any>;
    // client-fis 3.523 is built on older @smithy types than aws-sdk-client-mock's: same runtime.
    fis = mockClient(FisClient as never) as unknown as AwsStub<any, any, any>;
  });
  let dir: string;
  beforeEach(() => {
    arc.reset();
    fis.reset();
    dir = writeOutputs(mkdtempSync(join(tmpdir(), "outputs-")), {
      region1: REGION1,
      region2: REGION2,
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  after(() => {
    arc.restore();
    fis.restore();
  });

  const states = (east: "On" | "Off", west: "On" | "Off") => {
    arc
      .on(GetRoutingControlStateCommand, { RoutingControlArn: ARN("east") })
      .resolves({ RoutingControlState: east });
    arc
      .on(GetRoutingControlStateCommand, { RoutingControlArn: ARN("west") })
      .resolves({ RoutingControlState: west });
  };
  const connect = (scenario: "switch" | "replication-pause", credentials: unknown = CREDS) =>
    connectAws({
      outputs: [dir],
      scenario,
      credentials: credentials as typeof CREDS,
      dnsServer: { host: "127.0.0.1", port: 9 },
      fisClient: () => new FisClient({ region: EAST, credentials: CREDS }),
    });
  async function refusal(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("expected a refusal");
  }

  it("refuses when a routing control is already Off, naming it, and changes nothing", async () => {
    states("On", "Off");
    const message = await refusal(connect("switch"));
    expect(message).to.match(/routing control already Off: us-west-2/);
    expect(message).to.contain(
      `npm run arc -- set REGION on --outputs ${join(dir, "region2.json")}`,
    );
    expect(arc.commandCalls(UpdateRoutingControlStatesCommand)).to.have.length(0);
  });

  it("refuses when credentials cannot be found, before calling AWS", async () => {
    const none = () => Promise.reject(new Error("Could not load credentials from any providers"));
    expect(await refusal(connect("switch", none))).to.match(/no AWS credentials found/);
    expect(arc.calls()).to.have.length(0);
  });

  it("refuses when an experiment of a template it would start is already running", async () => {
    states("On", "On");
    fis.on(ListExperimentsCommand as never).resolves({
      experiments: [
        { id: "EXPold", experimentTemplateId: "EXTpauseW", state: { status: "running" } },
        { id: "EXPdone", experimentTemplateId: "EXTpauseE", state: { status: "completed" } },
      ],
    });
    expect(await refusal(connect("replication-pause"))).to.match(
      /an experiment is already running: EXPold \(template EXTpauseW, running\)/,
    );
    expect(fis.commandCalls(StartExperimentCommand as never)).to.have.length(0);
  });

  it("stops a FIS experiment it started and waits until it has ended", async () => {
    const ledger = new FaultLedger();
    const faults = new FisFaults({
      client: () => new FisClient({ region: EAST, credentials: CREDS }),
      ledger,
      pollMs: 1,
    });
    fis.on(StartExperimentCommand as never).resolves({ experiment: { id: "EXP1" } });
    fis
      .on(GetExperimentCommand as never)
      .resolvesOnce({ experiment: { state: { status: "running" } } })
      .resolvesOnce({ experiment: { state: { status: "stopping" } } })
      .resolves({ experiment: { state: { status: "stopped" } } });
    fis.on(StopExperimentCommand as never).resolves({});
    await faults.start("EXTpauseE", EAST, "replication into it paused in us-east-1");
    expect(ledger.size).to.equal(1);
    expect(await ledger.undoAll()).to.deep.equal([]);
    expect(ledger.size).to.equal(0);
    expect(fis.commandCalls(StopExperimentCommand as never)[0]?.args[0].input).to.deep.equal({
      id: "EXP1",
    });
  });

  it("when stopping fails, says what is still faulted and the command that undoes it", async () => {
    const ledger = new FaultLedger();
    const faults = new FisFaults({
      client: () => new FisClient({ region: WEST, credentials: CREDS }),
      ledger,
      pollMs: 1,
    });
    fis.on(StartExperimentCommand as never).resolves({ experiment: { id: "EXP9" } });
    fis
      .on(GetExperimentCommand as never)
      .resolves({ experiment: { state: { status: "running" } } });
    fis.on(StopExperimentCommand as never).rejects(new Error("AccessDeniedException: not allowed"));
    await faults.start("EXTerrW", WEST, "every Lambda invocation fails in us-west-2");
    const lines = await ledger.undoAll();
    expect(lines).to.deep.equal([
      "STILL FAULTED: FIS experiment EXP9 (every Lambda invocation fails in us-west-2) " +
        "(AccessDeniedException: not allowed); undo it with: " +
        "aws fis stop-experiment --id EXP9 --region us-west-2",
    ]);
    expect(ledger.size).to.equal(1);
  });

  it("a routing control turned Off is undone, or named with the npm run arc command", async () => {
    states("On", "On");
    const ledger = new FaultLedger();
    const controls = arcControls({
      cluster: new ArcCluster(REGION2.arcClusterEndpoints, {
        connectTimeoutMs: 100,
        requestTimeoutMs: 100,
        credentials: CREDS,
      }),
      controls: REGION2.routingControlArns,
      ledger,
      outputsArg: "outputs/",
    });
    arc.on(UpdateRoutingControlStatesCommand).resolvesOnce({});
    await controls.set({ [EAST]: "Off" });
    expect(ledger.size).to.equal(1);
    // All-off is refused before any call.
    states("Off", "On");
    let refused = "";
    await controls.set({ [WEST]: "Off" }).catch((e: Error) => (refused = e.message));
    expect(refused).to.match(/refused: this would turn every region off/);
    expect(arc.commandCalls(UpdateRoutingControlStatesCommand)).to.have.length(1);
    // The undo fails (access denied is not an endpoint failure: no rotation).
    arc
      .on(UpdateRoutingControlStatesCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const lines = await ledger.undoAll();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^STILL FAULTED: routing control of us-east-1 is Off \(/);
    expect(lines[0]).to.match(/undo it with: npm run arc -- set us-east-1 on --outputs outputs\/$/);
  });
});

describe("drill --target aws: command line", () => {
  it("needs --outputs, takes the stand-in variables, and refuses the sandbox-only options", () => {
    expect(() => parseDrillArgs(["--target", "aws"], {})).to.throw(/needs --outputs/);
    const opts = parseDrillArgs(["--target", "aws", "--outputs", "a.json,b.json"], {
      DRILL_DNS_SERVER: "127.0.0.1:5353",
      AWS_ENDPOINT_URL_FIS: "http://127.0.0.1:1",
    });
    expect(opts).to.not.equal("help");
    if (opts === "help") return;
    expect(opts.aws).to.deep.equal({
      outputs: ["a.json", "b.json"],
      dnsServer: "127.0.0.1:5353",
      fisEndpoint: "http://127.0.0.1:1",
    });
    expect(opts.ttlSeconds).to.equal(undefined);
    for (const flag of [
      ["--ttl", "5"],
      ["--no-heal"],
      ["--endpoint", "http://x"],
      ["--consistency", "strong"],
    ]) {
      expect(() => parseDrillArgs(["--target", "aws", "--outputs", "o", ...flag], {})).to.throw(
        new RegExp(`${flag[0]} not with --target aws`),
      );
    }
    expect(() => parseDrillArgs(["--outputs", "o"], {})).to.throw(/belong to --target aws/);
  });
});

describe("drill --target aws: write-then-read probes", () => {
  /** Endpoints whose answers the test scripts: east takes the write, west answers as told. */
  function scripted(westAnswers: number[]) {
    const calls: string[] = [];
    const base = Date.now();
    let clock = base;
    const endpoints = {
      regions: [EAST, WEST],
      viaGlobal: () => Promise.reject(new Error("not used")),
      viaRegion: async (region: string, call: { method: string; path: string }) => {
        calls.push(`${call.method} ${region}`);
        clock += 100;
        const status = call.method === "PUT" ? 200 : (westAnswers.shift() ?? 200);
        return { status, startedAt: clock, ms: 10 };
      },
    };
    return { endpoints, calls, base };
  }

  it("measures from the write's acknowledgement to the first read that sees it", async () => {
    const { endpoints, calls, base } = scripted([404, 404, 200]);
    const prober = new Prober({ endpoints, runId: "t" });
    const [sample] = await prober.probe(EAST);
    // PUT acknowledged at +100 + 10; reads started at +200, +300, +400: seen by the third.
    expect(sample).to.deep.equal({ from: EAST, to: WEST, writtenAt: base + 110, lagMs: 290 });
    expect(calls).to.deep.equal([`PUT ${EAST}`, `GET ${WEST}`, `GET ${WEST}`, `GET ${WEST}`]);
    expect(probeLag(prober.samples, 0)).to.deep.equal({
      [`probe ${EAST}>${WEST}`]: { count: 1, p50: 290, p95: 290, p99: 290, max: 290 },
    });
    expect(probeLag(prober.samples, base + 111)).to.deep.equal({});
  });

  it("stops looking in a region that does not answer, and counts no lag for it", async () => {
    const { endpoints, calls, base } = scripted([503, 0, 503, 200]);
    const prober = new Prober({ endpoints, runId: "t" });
    const [sample] = await prober.probe(EAST);
    expect(sample).to.deep.equal({ from: EAST, to: WEST, writtenAt: base + 110 });
    expect(calls.filter((c) => c.startsWith("GET"))).to.have.length(3);
    expect(probeLag(prober.samples, 0)).to.deep.equal({});
  });
});
