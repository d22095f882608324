/**
 * The AWS stand-ins (local/aws-standin) against the real clients: SigV4 and SigV4a signatures
 * from the AWS SDK's own signers checked by the API fronts, the service name resolved by node's
 * own DNS resolver from the dns2 server (answer and TTL following the routing controls), and the
 * ARC cluster, FIS and CloudWatch SDK clients talking to the fakes. One sandbox for the suite.
 */
import { Resolver } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  FisClient,
  GetExperimentCommand,
  ListExperimentsCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import {
  GetRoutingControlStateCommand,
  ListRoutingControlsCommand,
  Route53RecoveryClusterClient,
  UpdateRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
} from "@aws-sdk/client-route53-recovery-cluster";
import { SignatureV4a } from "@aws-sdk/signature-v4a";
import { SignatureV4 } from "@smithy/signature-v4";
import { expect } from "chai";
import { startAwsStandIn, type AwsStandIn } from "../local/aws-standin";
import { SignatureVerifier, type StandInCredentials } from "../local/aws-standin/sigv4-verify";
import { regionSetCovers } from "../local/aws-standin/sigv4a";
import { eventually, fill, http, useSandbox } from "./support/sandbox";
import { withEnv } from "./support/env";
import { rejection } from "./support/errors";

const EAST = "us-east-1";
const WEST = "us-west-2";
const TTL_SECONDS = 2;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One HTTP exchange to `connectTo` (address:port) with exactly these headers. */
function send(
  connectTo: { host: string; port: number },
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: connectTo.host, port: connectTo.port, method, path, headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text === "" ? undefined : JSON.parse(text);
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end(body);
  });
}

interface SignOptions {
  readonly v4a?: boolean;
  /** SigV4: the region; SigV4a: the region set. */
  readonly region: string;
  readonly date?: Date;
  readonly credentials: StandInCredentials;
}

/** Signs a request for `host` (the Host header as sent) with the SDK's own signer. */
async function sign(
  method: string,
  host: string,
  pathAndQuery: string,
  body: string,
  opts: SignOptions,
): Promise<Record<string, string>> {
  const url = new URL(pathAndQuery, `http://${host}`);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const init = {
    service: "execute-api",
    region: opts.region,
    credentials: opts.credentials,
    sha256: Sha256,
  };
  const signer = opts.v4a ? new SignatureV4a(init) : new SignatureV4(init);
  const signed = await signer.sign(
    {
      method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: { host, ...(body ? { "content-type": "application/json" } : {}) },
      body,
    },
    opts.date ? { signingDate: opts.date } : {},
  );
  return signed.headers as Record<string, string>;
}

describe("AWS stand-ins: signature verification (units)", () => {
  const credentials = { accessKeyId: "AKIDUNIT", secretAccessKey: "unit-secret" };
  const verifier = new SignatureVerifier({
    credentials: [credentials],
    service: "execute-api",
    regions: [EAST],
  });
  const arrive = (headers: Record<string, string>, body = "", url = "/prod/orders?a=1") => ({
    method: "POST",
    url,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from(body),
  });

  it("accepts the SDK's SigV4 and SigV4a signatures and refuses each altered part", async () => {
    const body = '{"customerId":"c1"}';
    for (const v4a of [false, true]) {
      const region = v4a ? "*" : EAST;
      const h = await sign("POST", "h.test", "/prod/orders?a=1", body, {
        v4a,
        region,
        credentials,
      });
      const ok = await verifier.verify(arrive(h, body));
      expect(ok, JSON.stringify(ok)).to.include({ ok: true, algorithm: v4a ? "SigV4a" : "SigV4" });
      for (const [what, req] of [
        ["body", arrive(h, body.replace("c1", "c2"))],
        ["query", arrive(h, body, "/prod/orders?a=2")],
        ["path", arrive(h, body, "/prod/orderz?a=1")],
        ["host", arrive({ ...h, host: "other.test" }, body)],
      ] as const) {
        const v = await verifier.verify(req);
        expect(v.ok, `${what} altered`).to.equal(false);
        if (!v.ok) expect(v.message).to.match(/signature we calculated does not match/);
      }
    }
  });

  it("refuses a signature from another secret, a region set not covering the region, a future date", async () => {
    const other = { ...credentials, secretAccessKey: "not-the-secret" };
    for (const v4a of [false, true]) {
      const h = await sign("GET", "h.test", "/prod/orders?a=1", "", {
        v4a,
        region: v4a ? "*" : EAST,
        credentials: other,
      });
      expect((await verifier.verify({ ...arrive(h), method: "GET" })).ok).to.equal(false);
    }
    const eu = await sign("GET", "h.test", "/x", "", {
      v4a: true,
      region: "eu-west-1",
      credentials,
    });
    const v = await verifier.verify({ ...arrive(eu, "", "/x"), method: "GET" });
    expect(v.ok).to.equal(false);
    if (!v.ok) expect(v.message).to.match(/region set 'eu-west-1' does not include/);
    const future = new Date(Date.now() + 10 * 60_000);
    const f = await sign("GET", "h.test", "/x", "", { region: EAST, credentials, date: future });
    const fv = await verifier.verify({ ...arrive(f, "", "/x"), method: "GET" });
    expect(fv.ok).to.equal(false);
    if (!fv.ok) expect(fv.message).to.match(/Signature not yet current/);
  });

  it("reads region sets as AWS writes them", () => {
    expect(regionSetCovers("*", EAST)).to.equal(true);
    expect(regionSetCovers("us-west-2,us-east-1", EAST)).to.equal(true);
    expect(regionSetCovers("us-*", EAST)).to.equal(true);
    expect(regionSetCovers("eu-*", EAST)).to.equal(false);
    expect(regionSetCovers("us-east-12", EAST)).to.equal(false);
  });
});

describe("AWS stand-ins against the sandbox", function () {
  this.timeout(120_000);
  const { sandbox } = useSandbox();
  let standIn: AwsStandIn;
  let resolver: Resolver;
  /** Customers and products from `fill`; every order takes the next unsold pair. */
  let pairs: { customers: string[]; products: string[] };
  let next = 0;
  const pair = () => {
    const i = next++;
    return { customerId: pairs.customers[i], productId: pairs.products[i] };
  };
  const front = (region: string) => ({
    host: standIn.fronts.addresses[region] as string,
    port: standIn.fronts.port,
  });
  const regionalHost = (region: string) =>
    `${standIn.fronts.addresses[region]}:${standIn.fronts.port}`;
  const serviceHost = () => `${standIn.serviceDomain}:${standIn.fronts.port}`;
  const sdk = (region: string) => ({ region, credentials: standIn.credentials });

  before(async function () {
    standIn = await startAwsStandIn({
      sandbox: sandbox(),
      ttlSeconds: TTL_SECONDS,
      lambdaDelayMs: 300,
    });
    resolver = new Resolver({ timeout: 2_000, tries: 2 });
    resolver.setServers([standIn.dns.address]);
    pairs = await fill(sandbox().urls.regions[EAST] as string, 10);
    await sandbox().replicator.waitIdle(10_000);
  });

  after(async () => {
    await standIn?.stop();
  });

  afterEach(async function () {
    for (const e of standIn.fis.running()) {
      await new FisClient({ ...sdk(e.region), endpoint: standIn.endpoints.fis }).send(
        new StopExperimentCommand({ id: e.id }),
      );
    }
    await http("PUT", `${sandbox().urls.control}/routing-controls`, {
      states: { [EAST]: "On", [WEST]: "On" },
    });
  });

  describe("API fronts", () => {
    it("pass a SigV4 request signed for the front's region and a SigV4a one for *", async () => {
      for (const region of [EAST, WEST]) {
        const host = regionalHost(region);
        for (const v4a of [false, true]) {
          const h = await sign("GET", host, "/prod/products?limit=2", "", {
            v4a,
            region: v4a ? "*" : region,
            credentials: standIn.credentials,
          });
          const res = await send(front(region), "GET", "/prod/products?limit=2", h);
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          expect(res.headers["x-served-by-region"]).to.equal(region);
          expect(res.body.items).to.be.an("array").that.is.not.empty;
        }
      }
      const stats = standIn.fronts.stats();
      expect(stats[EAST]).to.include({ SigV4: 1, SigV4a: 1 });
      expect(stats[WEST]).to.include({ SigV4: 1, SigV4a: 1 });
    });

    it("serve the service name under its base path, and a POST with its signed body", async () => {
      for (const region of [EAST, WEST]) {
        const body = JSON.stringify(pair());
        const h = await sign("POST", serviceHost(), "/v1/orders", body, {
          v4a: true,
          region: "*",
          credentials: standIn.credentials,
        });
        const res = await send(front(region), "POST", "/v1/orders", h, body);
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        expect(res.headers["x-served-by-region"]).to.equal(region);
      }
    });

    it("refuse tampered, expired, wrong-region, unsigned and unknown-key requests with 403", async () => {
      const host = regionalHost(EAST);
      const path = "/prod/products?limit=2";
      const good = { region: EAST, credentials: standIn.credentials };
      const cases: [string, Record<string, string>, string, RegExp, string][] = [
        [
          "tampered query",
          await sign("GET", host, path, "", good),
          "/prod/products?limit=3",
          /signature we calculated does not match/,
          "InvalidSignatureException",
        ],
        [
          "expired",
          await sign("GET", host, path, "", { ...good, date: new Date(Date.now() - 6 * 60_000) }),
          path,
          /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
          "InvalidSignatureException",
        ],
        [
          "wrong region",
          await sign("GET", host, path, "", { ...good, region: WEST }),
          path,
          /Credential should be scoped to a valid region, not 'us-west-2'/,
          "InvalidSignatureException",
        ],
        [
          "SigV4a for another region",
          await sign("GET", host, path, "", { ...good, v4a: true, region: WEST }),
          path,
          /region set 'us-west-2' does not include/,
          "InvalidSignatureException",
        ],
        [
          "unsigned",
          { host },
          path,
          /^Missing Authentication Token$/,
          "MissingAuthenticationTokenException",
        ],
        [
          "unknown key",
          await sign("GET", host, path, "", {
            region: EAST,
            credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" },
          }),
          path,
          /security token included in the request is invalid/,
          "UnrecognizedClientException",
        ],
      ];
      const refusedBefore = standIn.fronts.stats()[EAST]?.refused ?? 0;
      for (const [what, headers, sentPath, message, type] of cases) {
        const res = await send(front(EAST), "GET", sentPath, headers);
        expect(res.status, what).to.equal(403);
        expect(res.body.message, what).to.match(message);
        expect(res.headers["x-amzn-errortype"], what).to.equal(type);
        // The project's gateway responses: its JSON error shape, and the region that refused.
        expect(res.body.error, what).to.equal("ClientError");
        expect(res.headers["x-served-by-region"], what).to.equal(EAST);
      }
      expect(standIn.fronts.stats()[EAST]?.refused).to.equal(refusedBefore + cases.length);
    });

    it("let /health through unsigned, and answer unknown paths and hosts as API Gateway does", async () => {
      const health = await send(front(WEST), "GET", "/prod/health", { host: regionalHost(WEST) });
      expect(health.status).to.equal(200);
      expect(health.headers["x-served-by-region"]).to.equal(WEST);
      const unknown = await send(front(WEST), "GET", "/prod/nowhere", { host: regionalHost(WEST) });
      expect([unknown.status, unknown.body.message]).to.deep.equal([
        403,
        "Missing Authentication Token",
      ]);
      const noStage = await send(front(WEST), "GET", "/health", { host: regionalHost(WEST) });
      expect(noStage.status).to.equal(403);
      const otherHost = await send(front(WEST), "GET", "/prod/health", { host: "elsewhere.test" });
      expect([otherHost.status, otherHost.body.message]).to.deep.equal([403, "Forbidden"]);
    });
  });

  describe("DNS", () => {
    it("answers the service name with the resolver region's front and the TTL", async () => {
      const answer = await resolver.resolve4(standIn.serviceDomain, { ttl: true });
      expect(answer).to.deep.equal([{ address: standIn.fronts.addresses[EAST], ttl: TTL_SECONDS }]);
      const code = (await rejection(() =>
        resolver.resolve4("other.resilient-dynamo.test"),
      )) as NodeJS.ErrnoException;
      expect(code.code).to.equal("ENOTFOUND");
    });

    it("switches its answer when a routing control flips through the ARC cluster", async () => {
      const [ep] = standIn.arc.endpoints;
      const arc = new Route53RecoveryClusterClient({ ...sdk(ep!.region), endpoint: ep!.endpoint });
      await arc.send(
        new UpdateRoutingControlStateCommand({
          RoutingControlArn: standIn.arc.routingControlArns[EAST],
          RoutingControlState: "Off",
        }),
      );
      const moved = await resolver.resolve4(standIn.serviceDomain, { ttl: true });
      expect(moved).to.deep.equal([{ address: standIn.fronts.addresses[WEST], ttl: TTL_SECONDS }]);
      const changes = standIn.dns.answers().map((a) => a.addresses[0]);
      expect(changes.slice(-2)).to.deep.equal([
        standIn.fronts.addresses[EAST],
        standIn.fronts.addresses[WEST],
      ]);
      // A request to the name, resolved by this resolver, now lands in us-west-2.
      const h = await sign("GET", serviceHost(), "/v1/products?limit=1", "", {
        v4a: true,
        region: "*",
        credentials: standIn.credentials,
      });
      const res = await send(
        { host: moved[0]!.address, port: standIn.fronts.port },
        "GET",
        "/v1/products?limit=1",
        h,
      );
      expect(res.status).to.equal(200);
      expect(res.headers["x-served-by-region"]).to.equal(WEST);
    });
  });

  describe("ARC cluster data plane", () => {
    it("reads, flips, lists and refuses all-off with the real client", async () => {
      const [ep] = standIn.arc.endpoints;
      const arc = new Route53RecoveryClusterClient({ ...sdk(ep!.region), endpoint: ep!.endpoint });
      const arns = standIn.arc.routingControlArns;
      const got = await arc.send(
        new GetRoutingControlStateCommand({ RoutingControlArn: arns[WEST] }),
      );
      expect(got.RoutingControlState).to.equal("On");
      await arc.send(
        new UpdateRoutingControlStatesCommand({
          UpdateRoutingControlStateEntries: [
            { RoutingControlArn: arns[EAST], RoutingControlState: "Off" },
            { RoutingControlArn: arns[WEST], RoutingControlState: "On" },
          ],
        }),
      );
      expect(sandbox().endpoint.routingControls()).to.deep.equal({ [EAST]: "Off", [WEST]: "On" });
      const listed = await arc.send(new ListRoutingControlsCommand({}));
      expect(listed.RoutingControls?.map((c) => c.RoutingControlState)).to.deep.equal([
        "Off",
        "On",
      ]);
      const refused = await rejection(() =>
        arc.send(
          new UpdateRoutingControlStateCommand({
            RoutingControlArn: arns[WEST],
            RoutingControlState: "Off",
          }),
        ),
      );
      expect(refused.name).to.equal("ConflictException");
      expect(refused.message).to.match(/safety rule/);
      expect(sandbox().endpoint.routingControls()[WEST]).to.equal("On");
      const missing = await rejection(() =>
        arc.send(new GetRoutingControlStateCommand({ RoutingControlArn: `${arns[WEST]}x` })),
      );
      expect(missing.name).to.equal("ResourceNotFoundException");
    });

    it("answers only requests signed for the endpoint's region, and can be marked down", async () => {
      const [first, second] = standIn.arc.endpoints;
      const wrong = new Route53RecoveryClusterClient({
        ...sdk(second!.region),
        endpoint: first!.endpoint,
      });
      const err = await rejection(() =>
        wrong.send(
          new GetRoutingControlStateCommand({
            RoutingControlArn: standIn.arc.routingControlArns[EAST],
          }),
        ),
      );
      expect(err.message).to.match(/Credential should be scoped to a valid region/);
      standIn.arc.setEndpointDown(0, true);
      try {
        const down = new Route53RecoveryClusterClient({
          ...sdk(first!.region),
          endpoint: first!.endpoint,
          maxAttempts: 1,
        });
        const e = await rejection(() =>
          down.send(
            new GetRoutingControlStateCommand({
              RoutingControlArn: standIn.arc.routingControlArns[EAST],
            }),
          ),
        );
        expect(e.name).to.equal("EndpointTemporarilyUnavailableException");
      } finally {
        standIn.arc.setEndpointDown(0, false);
      }
    });
  });

  describe("FIS", () => {
    const fis = (region: string) =>
      new FisClient({ ...sdk(region), endpoint: standIn.endpoints.fis });

    it("pauses replication into a region while an experiment runs, and resumes on stop", async () => {
      const template = standIn.templateIds["replication-pause"]?.[WEST];
      const started = await fis(WEST).send(
        new StartExperimentCommand({ experimentTemplateId: template }),
      );
      const id = started.experiment?.id as string;
      expect(started.experiment?.state?.status).to.equal("running");
      expect(sandbox().replicator.isPaused(EAST, WEST)).to.equal(true);
      expect(sandbox().replicator.isPaused(WEST, EAST)).to.equal(false);
      const listed = await fis(WEST).send(new ListExperimentsCommand({}));
      expect(listed.experiments?.map((e) => [e.id, e.state?.status])).to.deep.include([
        id,
        "running",
      ]);
      const stopped = await fis(WEST).send(new StopExperimentCommand({ id }));
      expect(stopped.experiment?.state?.status).to.equal("stopped");
      expect(sandbox().replicator.isPaused(EAST, WEST)).to.equal(false);
      const got = await fis(WEST).send(new GetExperimentCommand({ id }));
      expect(got.experiment?.state?.status).to.equal("stopped");
      expect(got.experiment?.startTime).to.be.instanceOf(Date);
      expect(got.experiment?.endTime).to.be.instanceOf(Date);
    });

    it("makes a region's API fail (lambda-errors) until the experiment stops", async () => {
      const template = standIn.templateIds["lambda-errors"]?.[EAST];
      const started = await fis(EAST).send(
        new StartExperimentCommand({ experimentTemplateId: template }),
      );
      const health = () => send(front(EAST), "GET", "/prod/health", { host: regionalHost(EAST) });
      expect((await health()).status).to.equal(502);
      expect(standIn.fis.running().map((e) => e.fault)).to.deep.equal(["lambda-errors"]);
      // Its health check fails, so the service name's answer moves away from it, and back.
      const answers = async (address: string | undefined) => {
        const got = await resolver.resolve4(standIn.serviceDomain);
        return got[0] === address ? got : undefined;
      };
      await eventually(
        "answer moves to us-west-2",
        10_000,
        () => answers(standIn.fronts.addresses[WEST]),
        100,
      );
      await fis(EAST).send(new StopExperimentCommand({ id: started.experiment?.id }));
      expect((await health()).status).to.equal(200);
      expect(standIn.fis.running()).to.deep.equal([]);
      await eventually(
        "answer back to us-east-1",
        10_000,
        () => answers(standIn.fronts.addresses[EAST]),
        100,
      );
    });

    it("is found by SDK clients through AWS_ENDPOINT_URL_FIS / _CLOUDWATCH (standIn.env)", async () => {
      const keys = Object.keys(standIn.env);
      await withEnv(keys, { ...standIn.env, AWS_REGION: WEST }, async () => {
        const listed = await new FisClient({}).send(new ListExperimentsCommand({}));
        expect(listed.experiments).to.be.an("array");
        const cw = await new CloudWatchClient({}).send(
          new GetMetricDataCommand({
            StartTime: new Date(Date.now() - 60_000),
            EndTime: new Date(),
            MetricDataQueries: [
              {
                Id: "q",
                MetricStat: {
                  Metric: { Namespace: "AWS/Lambda", MetricName: "Errors" },
                  Period: 60,
                  Stat: "Sum",
                },
              },
            ],
          }),
        );
        expect(cw.MetricDataResults?.[0]).to.include({ Id: "q", StatusCode: "Complete" });
      });
    });

    it("answers 503 in a region (api-unavailable) and moves the DNS answer, until stopped", async () => {
      const template = standIn.templateIds["api-unavailable"]?.[EAST];
      const started = await fis(EAST).send(
        new StartExperimentCommand({ experimentTemplateId: template }),
      );
      const read = async () => {
        const h = await sign("GET", regionalHost(EAST), "/prod/products?limit=1", "", {
          region: EAST,
          credentials: standIn.credentials,
        });
        return send(front(EAST), "GET", "/prod/products?limit=1", h);
      };
      const during = await read();
      expect([during.status, during.body.error]).to.deep.equal([503, "ServiceUnavailable"]);
      const [moved] = await resolver.resolve4(standIn.serviceDomain);
      expect(moved).to.equal(standIn.fronts.addresses[WEST]);
      await fis(EAST).send(new StopExperimentCommand({ id: started.experiment?.id }));
      expect((await read()).status).to.equal(200);
      const [back] = await resolver.resolve4(standIn.serviceDomain);
      expect(back).to.equal(standIn.fronts.addresses[EAST]);
    });

    it("delays a region's requests (lambda-latency) while the experiment runs", async () => {
      const template = standIn.templateIds["lambda-latency"]?.[WEST];
      const health = () => send(front(WEST), "GET", "/prod/health", { host: regionalHost(WEST) });
      const before = standIn.fronts.stats()[WEST]?.faulted ?? 0;
      const started = await fis(WEST).send(
        new StartExperimentCommand({ experimentTemplateId: template }),
      );
      expect(standIn.fronts.fault(WEST)).to.deep.equal({ kind: "latency", ms: 300 });
      expect((await health()).status).to.equal(200);
      expect(standIn.fronts.stats()[WEST]?.faulted).to.equal(before + 1);
      await fis(WEST).send(new StopExperimentCommand({ id: started.experiment?.id }));
      expect((await health()).status).to.equal(200);
      expect(standIn.fronts.stats()[WEST]?.faulted).to.equal(before + 1);
      expect(standIn.fronts.fault(WEST)).to.equal(undefined);
    });

    it("finds a template only in its own region", async () => {
      const template = standIn.templateIds["replication-pause"]?.[WEST];
      const err = await rejection(() =>
        fis(EAST).send(new StartExperimentCommand({ experimentTemplateId: template })),
      );
      expect(err.name).to.equal("ResourceNotFoundException");
      expect(standIn.fis.running()).to.deep.equal([]);
    });
  });

  describe("CloudWatch", () => {
    it("returns ReplicationLatency from the replicator's samples, by sending region and receiver", async () => {
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) {
        const res = await http("POST", `${sandbox().urls.regions[EAST]}/orders`, pair());
        expect(res.status).to.equal(201);
      }
      await sandbox().replicator.waitIdle(10_000);
      const cw = new CloudWatchClient({ ...sdk(EAST), endpoint: standIn.endpoints.cloudwatch });
      const query = (id: string, receiving: string, stat: string) => ({
        Id: id,
        MetricStat: {
          Metric: {
            Namespace: "AWS/DynamoDB",
            MetricName: "ReplicationLatency",
            Dimensions: [
              { Name: "TableName", Value: sandbox().tables.orders },
              { Name: "ReceivingRegion", Value: receiving },
            ],
          },
          Period: 3600,
          Stat: stat,
        },
      });
      const out = await eventually("replication latency samples", 10_000, async () => {
        const r = await cw.send(
          new GetMetricDataCommand({
            StartTime: new Date(t0 - 1000),
            EndTime: new Date(Date.now() + 1000),
            MetricDataQueries: [
              query("count", WEST, "SampleCount"),
              query("max", WEST, "Maximum"),
              query("self", EAST, "Maximum"),
            ],
          }),
        );
        return (r.MetricDataResults?.[0]?.Values?.[0] ?? 0) >= 3 ? r : undefined;
      });
      const [count, max, self] = out.MetricDataResults ?? [];
      expect(count?.StatusCode).to.equal("Complete");
      expect(count?.Timestamps?.[0]).to.be.instanceOf(Date);
      expect(max?.Values?.[0]).to.be.within(150, 5_000);
      expect(self?.Values).to.deep.equal([]);
      expect(standIn.cloudwatch.calls()).to.be.greaterThan(0);
    });
  });

  it("writes region stack outputs in the shape of `pulumi stack output --json`", () => {
    const r1 = JSON.parse(readFileSync(join(standIn.outputsDir, "region1.json"), "utf8"));
    const r2 = JSON.parse(readFileSync(join(standIn.outputsDir, "region2.json"), "utf8"));
    expect(r1).to.include({
      region: EAST,
      role: "primary",
      invokeUrl: standIn.fronts.invokeUrls[EAST],
    });
    expect(r1).to.not.have.property("routing");
    expect(r2).to.include({ region: WEST, routing: "arc", serviceDomain: standIn.serviceDomain });
    expect(r2.arcClusterEndpoints).to.deep.equal(standIn.arc.endpoints);
    expect(r2.routingControlArns).to.deep.equal(standIn.arc.routingControlArns);
    expect(r2.fisExperimentTemplateIds).to.deep.equal(standIn.templateIds);
    expect(r2.tableNames).to.deep.equal(sandbox().tables);
  });
});
