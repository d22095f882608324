import { createServer, type Server, type Socket } from "node:net";
import { expect } from "chai";
import fc from "fast-check";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import {
  AccessDeniedException,
  GetRoutingControlStateCommand,
  Route53RecoveryClusterClient,
  UpdateRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
  ValidationException,
  type RoutingControlState,
} from "@aws-sdk/client-route53-recovery-cluster";
import {
  EXIT_AWS_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  RefusedError,
  USAGE,
  isEndpointFailure,
  parseArcArgs,
  plannedStates,
  runArc,
} from "../tools/arc";
import { targetFromOutputs } from "../tools/arc-target";

const ARN = {
  "us-east-1":
    "arn:aws:route53-recovery-control::111122223333:controlpanel/0a1b2c/routingcontrol/east01",
  "us-west-2":
    "arn:aws:route53-recovery-control::111122223333:controlpanel/0a1b2c/routingcontrol/west02",
  "eu-west-1":
    "arn:aws:route53-recovery-control::111122223333:controlpanel/0a1b2c/routingcontrol/euwe03",
} as const;
type Region = keyof typeof ARN;

/** A cluster's five endpoints, each in its own region, as the stack exports them. */
const ENDPOINTS = [
  ["us-east-1", "https://host-aaaaaa.us-east-1.example.com/v1"],
  ["ap-southeast-2", "https://host-bbbbbb.ap-southeast-2.example.com/v1"],
  ["eu-west-1", "https://host-cccccc.eu-west-1.example.com/v1"],
  ["us-west-2", "https://host-dddddd.us-west-2.example.com/v1"],
  ["ap-northeast-1", "https://host-eeeeee.ap-northeast-1.example.com/v1"],
].map(([region, endpoint]) => ({ endpoint: endpoint as string, region: region as string }));

function outputsFile(regions: Region[] = ["us-east-1", "us-west-2"], extra = {}): string {
  return JSON.stringify({
    region: "us-west-2",
    routing: "arc",
    arcClusterEndpoints: ENDPOINTS,
    arcControlPanelArn: "arn:aws:route53-recovery-control::111122223333:controlpanel/0a1b2c",
    routingControlArns: Object.fromEntries(regions.map((r) => [r, ARN[r]])),
    ...extra,
  });
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function arc(argv: string[], files: Record<string, string> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runArc(argv, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    readFile: (f) => {
      const text = files[f];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${f}`), { code: "ENOENT" });
      return text;
    },
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const timeout = (): Error =>
  Object.assign(new Error("a request has exceeded the configured 5000 ms requestTimeout."), {
    name: "TimeoutError",
  });
const refused = (): Error =>
  Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" });

describe("arc CLI", () => {
  // Installed when this suite runs, not when mocha loads the file: a mock made at load time
  // would replace every ARC client of the suites that run before this one.
  let cluster: AwsStub<any, any, any>;
  before(() => {
    cluster = mockClient(Route53RecoveryClusterClient) as unknown as AwsStub<any, any, any>;
  });
  /** Region of the client each call went through, in call order. */
  let via: string[];
  let states: Record<string, RoutingControlState>;
  /** Endpoint regions that fail, and how. */
  let down: Record<string, () => Error>;

  function answer(reply: (input: any) => unknown) {
    return async (input: any, getClient: () => Route53RecoveryClusterClient) => {
      const region = await getClient().config.region();
      via.push(region);
      const fail = down[region];
      if (fail) throw fail();
      return reply(input);
    };
  }

  beforeEach(() => {
    cluster.reset();
    via = [];
    down = {};
    states = { [ARN["us-east-1"]]: "On", [ARN["us-west-2"]]: "On", [ARN["eu-west-1"]]: "On" };
    cluster.on(GetRoutingControlStateCommand).callsFake(
      answer((input) => ({
        RoutingControlArn: input.RoutingControlArn,
        RoutingControlState: states[input.RoutingControlArn],
      })),
    );
    cluster.on(UpdateRoutingControlStateCommand).callsFake(
      answer((input) => {
        states[input.RoutingControlArn] = input.RoutingControlState;
        return {};
      }),
    );
    cluster.on(UpdateRoutingControlStatesCommand).callsFake(
      answer((input) => {
        for (const e of input.UpdateRoutingControlStateEntries) {
          states[e.RoutingControlArn] = e.RoutingControlState;
        }
        return {};
      }),
    );
  });

  after(() => cluster.restore());

  const files = { "routing.json": outputsFile() };
  const updates = () => [
    ...cluster.commandCalls(UpdateRoutingControlStateCommand),
    ...cluster.commandCalls(UpdateRoutingControlStatesCommand),
  ];

  it("status prints every region's state", async () => {
    states[ARN["us-west-2"]] = "Off";
    const run = await arc(["status", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_OK);
    expect(run.out).to.match(/^us-east-1\s+On\s+arn:\S+routingcontrol\/east01$/m);
    expect(run.out).to.match(/^us-west-2\s+Off\s+arn:\S+routingcontrol\/west02$/m);
    expect(
      cluster.commandCalls(GetRoutingControlStateCommand).map((c) => c.args[0].input),
    ).to.deep.equal([
      { RoutingControlArn: ARN["us-east-1"] },
      { RoutingControlArn: ARN["us-west-2"] },
    ]);
    expect(updates()).to.be.empty;
  });

  it("talks to each endpoint with a client signed for that endpoint's region", async () => {
    down = { "us-east-1": timeout };
    await arc(["status", "--outputs", "routing.json"], files);
    const endpoints = await Promise.all(
      cluster.calls().map(async (c) => {
        const client = c.thisValue as Route53RecoveryClusterClient;
        const e = await client.config.endpoint?.();
        return [await client.config.region(), `https://${e?.hostname}${e?.path}`];
      }),
    );
    expect(endpoints[0]).to.deep.equal(["us-east-1", ENDPOINTS[0]?.endpoint]);
    expect(endpoints[1]).to.deep.equal(["ap-southeast-2", ENDPOINTS[1]?.endpoint]);
  });

  it("tries the next endpoint after a timeout or a connection error, then keeps the one that answered", async () => {
    down = { "us-east-1": timeout, "ap-southeast-2": refused };
    const run = await arc(["status", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_OK);
    expect(via).to.deep.equal(["us-east-1", "ap-southeast-2", "eu-west-1", "eu-west-1"]);
    expect(run.err).to.match(/us-east-1\) failed \(TimeoutError.*trying the next endpoint/);
    expect(run.err).to.match(/ap-southeast-2\) failed \(.*ECONNREFUSED.*trying the next endpoint/);
    expect(run.out).to.match(/read through https:\/\/host-cccccc\.eu-west-1/);
  });

  it("does not try other endpoints after AccessDenied, and exits 1 naming the error", async () => {
    cluster
      .on(GetRoutingControlStateCommand)
      .rejects(new AccessDeniedException({ message: "not authorized", $metadata: {} }));
    const run = await arc(["status", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_AWS_FAILURE);
    expect(cluster.calls()).to.have.length(1);
    expect(run.err).to.match(
      /GetRoutingControlState us-east-1 failed at https:\/\/host-aaaaaa\.us-east-1\.example\.com\/v1 \(us-east-1\): AccessDeniedException: not authorized/,
    );
  });

  it("does not try other endpoints after a validation error (e.g. the safety rule)", async () => {
    states[ARN["us-west-2"]] = "Off";
    cluster
      .on(UpdateRoutingControlStateCommand)
      .rejects(new ValidationException({ message: "safety rule", reason: "other", $metadata: {} }));
    const run = await arc(["set", "us-west-2", "on", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_AWS_FAILURE);
    expect(cluster.commandCalls(UpdateRoutingControlStateCommand)).to.have.length(1);
    expect(run.err).to.match(/ValidationException: safety rule/);
  });

  it("exits 1 listing every endpoint when none answers", async () => {
    down = Object.fromEntries(ENDPOINTS.map((e) => [e.region, timeout]));
    const run = await arc(["status", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_AWS_FAILURE);
    expect(via).to.deep.equal(ENDPOINTS.map((e) => e.region));
    for (const e of ENDPOINTS) {
      expect(run.err).to.include(`${e.endpoint} (${e.region}): TimeoutError`);
    }
  });

  it("refuses, before any update call, a change that leaves every region off", async () => {
    states[ARN["us-west-2"]] = "Off";
    const run = await arc(["set", "us-east-1", "off", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_USAGE);
    expect(run.err).to.match(
      /refused: this would turn every region off \(now: us-east-1 On, us-west-2 Off\)/,
    );
    expect(updates()).to.be.empty;
    expect(states[ARN["us-east-1"]]).to.equal("On");
  });

  it("set sends one UpdateRoutingControlState for that region", async () => {
    const run = await arc(["set", "us-east-1", "off", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_OK);
    expect(cluster.commandCalls(UpdateRoutingControlStatesCommand)).to.be.empty;
    expect(
      cluster.commandCalls(UpdateRoutingControlStateCommand).map((c) => c.args[0].input),
    ).to.deep.equal([{ RoutingControlArn: ARN["us-east-1"], RoutingControlState: "Off" }]);
    expect(run.out).to.match(/^us-east-1: On -> Off$/m);
    expect(run.out).to.match(/^us-east-1\s+Off\s/m);
  });

  it("set to the state a control already has changes nothing", async () => {
    const run = await arc(["set", "us-west-2", "on", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_OK);
    expect(run.out).to.match(/^nothing to change/);
    expect(updates()).to.be.empty;
  });

  it("failover is one UpdateRoutingControlStates call: the target on, every other region off", async () => {
    const three = { "routing.json": outputsFile(["us-east-1", "us-west-2", "eu-west-1"]) };
    states[ARN["us-west-2"]] = "Off";
    const run = await arc(["failover", "--to", "us-west-2", "--outputs", "routing.json"], three);
    expect(run.code).to.equal(EXIT_OK);
    expect(cluster.commandCalls(UpdateRoutingControlStateCommand)).to.be.empty;
    const calls = cluster.commandCalls(UpdateRoutingControlStatesCommand);
    expect(calls.map((c) => c.args[0].input)).to.deep.equal([
      {
        UpdateRoutingControlStateEntries: [
          { RoutingControlArn: ARN["us-west-2"], RoutingControlState: "On" },
          { RoutingControlArn: ARN["us-east-1"], RoutingControlState: "Off" },
          { RoutingControlArn: ARN["eu-west-1"], RoutingControlState: "Off" },
        ],
      },
    ]);
    expect(run.out).to.match(/^us-west-2\s+On\s/m);
    expect(run.out).to.match(/^us-east-1\s+Off\s/m);
    expect(run.out).to.match(/^eu-west-1\s+Off\s/m);
  });

  it("failover also rotates endpoints when the update times out", async () => {
    states[ARN["us-west-2"]] = "Off";
    let first = true;
    cluster.on(UpdateRoutingControlStatesCommand).callsFake(
      answer((input) => {
        if (first) {
          first = false;
          throw timeout();
        }
        for (const e of input.UpdateRoutingControlStateEntries) {
          states[e.RoutingControlArn] = e.RoutingControlState;
        }
        return {};
      }),
    );
    const run = await arc(["failover", "--to", "us-west-2", "--outputs", "routing.json"], files);
    expect(run.code).to.equal(EXIT_OK);
    expect(cluster.commandCalls(UpdateRoutingControlStatesCommand)).to.have.length(2);
    expect(run.out).to.match(
      /^accepted by https:\/\/host-bbbbbb\.ap-southeast-2\.example\.com\/v1 \(ap-southeast-2\)/m,
    );
    // Reads after the rotation stay on the endpoint that answered.
    expect(via.slice(-2)).to.deep.equal(["ap-southeast-2", "ap-southeast-2"]);
    expect(states).to.include({ [ARN["us-west-2"]]: "On", [ARN["us-east-1"]]: "Off" });
  });

  it("takes endpoints and controls from flags", async () => {
    const run = await arc([
      "status",
      "--endpoint",
      `${ENDPOINTS[2]?.endpoint}@eu-west-1`,
      "--control",
      `us-east-1=${ARN["us-east-1"]}`,
      "--control",
      `eu-west-1=${ARN["eu-west-1"]}`,
    ]);
    expect(run.code).to.equal(EXIT_OK);
    expect(via).to.deep.equal(["eu-west-1", "eu-west-1"]);
    expect(run.out).to.match(/^eu-west-1\s+On\s/m);
  });

  describe("input errors exit 2 before any call, naming what is wrong", () => {
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      [
        "no command",
        ["--outputs", "routing.json"],
        files,
        /no command: expected status, set or failover/,
      ],
      ["unknown command", ["flip"], files, /unknown command flip/],
      [
        "missing file",
        ["status", "--outputs", "nope.json"],
        {},
        /no file nope\.json; write it with pulumi stack output --json/,
      ],
      ["not JSON", ["status", "--outputs", "r.json"], { "r.json": "{" }, /r\.json is not JSON/],
      [
        "missing key",
        ["status", "--outputs", "r.json"],
        {
          "r.json": JSON.stringify({
            routing: "arc",
            routingControlArns: { "us-east-1": ARN["us-east-1"] },
          }),
        },
        /r\.json: no arcClusterEndpoints; is it the output of the stack that owns routing/,
      ],
      [
        "routing is not arc",
        ["status", "--outputs", "r.json"],
        { "r.json": outputsFile(undefined, { routing: "healthcheck" }) },
        /r\.json: routing is "healthcheck", not "arc"/,
      ],
      [
        "bad ARN",
        ["status", "--outputs", "r.json"],
        {
          "r.json": outputsFile(undefined, {
            routingControlArns: { "us-east-1": "arn:aws:s3:::x" },
          }),
        },
        /routingControlArns: us-east-1 has "arn:aws:s3:::x", not a routing control ARN/,
      ],
      [
        "endpoint not https",
        ["status", "--outputs", "r.json"],
        {
          "r.json": outputsFile(undefined, {
            arcClusterEndpoints: [{ endpoint: "http://x", region: "us-east-1" }],
          }),
        },
        /arcClusterEndpoints\[0\]: endpoint http:\/\/x must be an https URL/,
      ],
      [
        "unknown region",
        ["set", "eu-central-1", "on", "--outputs", "routing.json"],
        files,
        /unknown region eu-central-1: the routing controls are for us-east-1, us-west-2/,
      ],
      [
        "failover to unknown region",
        ["failover", "--to", "eu-central-1", "--outputs", "routing.json"],
        files,
        /unknown region eu-central-1/,
      ],
      [
        "bad state",
        ["set", "us-east-1", "maybe", "--outputs", "routing.json"],
        files,
        /the state must be on or off: got maybe/,
      ],
      [
        "failover without --to",
        ["failover", "--outputs", "routing.json"],
        files,
        /failover needs --to REGION/,
      ],
      ["no source", ["status"], files, /say where the routing controls are/],
      [
        "both sources",
        ["status", "--outputs", "routing.json", "--control", `us-east-1=${ARN["us-east-1"]}`],
        files,
        /--outputs and --endpoint\/--control are alternatives/,
      ],
      [
        "endpoint without region",
        [
          "status",
          "--endpoint",
          "https://x.example.com",
          "--control",
          `us-east-1=${ARN["us-east-1"]}`,
        ],
        {},
        /--endpoint must be URL@REGION/,
      ],
      [
        "bad timeout",
        ["status", "--outputs", "routing.json", "--request-timeout", "soon"],
        files,
        /--request-timeout must be a whole number: got soon/,
      ],
      ["unknown flag", ["status", "--region", "x"], files, /Unknown option '--region'/],
    ];
    for (const [what, argv, given, message] of cases) {
      it(what, async () => {
        const run = await arc(argv, given);
        expect(run.code).to.equal(EXIT_USAGE);
        expect(run.err).to.match(message);
        expect(cluster.calls()).to.be.empty;
      });
    }
  });

  it("--help prints the commands and exit codes", async () => {
    const run = await arc(["--help"]);
    expect(run.code).to.equal(EXIT_OK);
    expect(run.out).to.equal(USAGE);
    expect(USAGE).to.match(/status[\s\S]*set REGION on\|off[\s\S]*failover --to REGION/);
    expect(USAGE).to.match(/Exit codes:\n\s+0 [\s\S]*\n\s+1 [\s\S]*\n\s+2 /);
  });
});

describe("arc CLI against unreachable endpoints (real sockets, no mock)", () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];
  const saved = { ...process.env };

  before(async () => {
    // Accepts connections and never answers: the TLS handshake, and so the request, hangs.
    server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    process.env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
    process.env["AWS_SECRET_ACCESS_KEY"] = "example";
    delete process.env["AWS_PROFILE"];
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    process.env = saved;
  });

  it("gives up on a silent endpoint after the request timeout and moves to the next", async () => {
    // A closed port next to the silent one: refused at once.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const run = await arc([
      "status",
      "--request-timeout",
      "300",
      "--endpoint",
      `https://127.0.0.1:${port}/v1@us-east-1`,
      "--endpoint",
      `https://127.0.0.1:${closedPort}/v1@us-west-2`,
      "--control",
      `us-east-1=${ARN["us-east-1"]}`,
    ]);
    expect(run.code).to.equal(EXIT_AWS_FAILURE);
    expect(run.err).to.match(
      new RegExp(
        `127\\.0\\.0\\.1:${port}/v1 \\(us-east-1\\): TimeoutError: .*300 ms requestTimeout`,
      ),
    );
    expect(run.err).to.match(
      new RegExp(`127\\.0\\.0\\.1:${closedPort}/v1 \\(us-west-2\\): .*ECONNREFUSED`),
    );
  });
});

describe("arc CLI pure parts", () => {
  const regions = ["us-east-1", "us-west-2", "eu-west-1"];
  const stateArb = fc.constantFrom<RoutingControlState>("On", "Off");

  it("a planned change is refused exactly when it leaves no region on", () => {
    fc.assert(
      fc.property(
        fc.tuple(stateArb, stateArb, stateArb),
        fc.constantFrom(...regions),
        fc.oneof(fc.constant("failover" as const), stateArb),
        (s, region, what) => {
          const current = Object.fromEntries(
            regions.map((r, i) => [r, s[i] as RoutingControlState]),
          );
          const command =
            what === "failover"
              ? ({ kind: "failover", to: region } as const)
              : ({ kind: "set", region, state: what } as const);
          const expected = { ...current };
          if (command.kind === "set") expected[region] = command.state;
          else for (const r of regions) expected[r] = r === region ? "On" : "Off";
          const allOff = !Object.values(expected).includes("On");
          let result: Record<string, RoutingControlState> | undefined;
          try {
            result = plannedStates(command, current);
          } catch (err) {
            expect(err).to.be.instanceOf(RefusedError);
          }
          if (allOff) expect(result).to.equal(undefined);
          else expect(result).to.deep.equal(expected);
        },
      ),
    );
  });

  it("rotates on timeouts, connection errors and endpoint unavailability only", () => {
    const rotate = [
      timeout(),
      refused(),
      Object.assign(new Error("x"), { code: "ENOTFOUND" }),
      Object.assign(new Error("x"), { name: "EndpointTemporarilyUnavailableException" }),
      Object.assign(new Error("x"), { name: "InternalServerException" }),
    ];
    const stay = [
      new AccessDeniedException({ message: "x", $metadata: {} }),
      new ValidationException({ message: "x", reason: "other", $metadata: {} }),
      Object.assign(new Error("x"), { name: "ResourceNotFoundException" }),
      Object.assign(new Error("x"), { name: "ConflictException" }),
      new Error("plain"),
    ];
    expect(rotate.map(isEndpointFailure)).to.deep.equal(rotate.map(() => true));
    expect(stay.map(isEndpointFailure)).to.deep.equal(stay.map(() => false));
  });

  it("keeps the outputs file's region order and panel ARN", () => {
    const target = targetFromOutputs(outputsFile(["us-west-2", "us-east-1"]), "r.json");
    expect(Object.keys(target.controls)).to.deep.equal(["us-west-2", "us-east-1"]);
    expect(target.endpoints).to.deep.equal(ENDPOINTS);
    expect(target.controlPanelArn).to.match(/controlpanel\/0a1b2c$/);
  });

  it("parses set with the state in any case", () => {
    expect(parseArcArgs(["set", "us-east-1", "ON", "--outputs", "f"])).to.deep.include({
      command: { kind: "set", region: "us-east-1", state: "On" },
    });
  });
});
