/**
 * `npm run drill`'s command line: the usage text, and the options parsed and checked. Options
 * that do not go together are refused here, naming them, before anything starts.
 */
import {
  UsageError,
  choiceOption,
  parseOptions,
  intOption,
  listOption,
  numberOption,
} from "./cli-args";
import {
  CONTENTION_SPREAD_DEFAULT_MS,
  RESELL_WINDOW_DEFAULT_MS,
  RETRY_AFTER_DEFAULT_MS,
} from "../local/drill/plan";
import { SCENARIOS, type Scenario } from "../local/drill/report";
import { parseConsistencyOptions, type ConsistencyCliOptions } from "./consistency-options";
import { DEFAULT_MRSC_WRITE_LATENCY_MS } from "../local/mrsc/model";
import { parseLag, type LagRange } from "../local/replication-model";
import { ROUTING_POLICIES, type RoutingPolicy } from "../local/routing";
import { DEFAULT_REGIONS } from "../local/sandbox";

/** The drill's own sandbox uses a short TTL so a default run shows the move within a minute. */
export const DRILL_DEFAULT_TTL_SECONDS = 10;

export const USAGE = `Usage: npm run drill -- [options]

Runs the seed's failover test: a steady order flow through the global endpoint from every
region's clients, a fault after a delay, then client-observed RTO, failed requests,
replication lag, the data anomalies found in every surviving region's tables, and how the
reconcilers compensated double sales (losers cancelled; waits up to 20 s for that to settle).

Scenario:
  --scenario NAME       switch (routing control Off), region-loss (stop a region's API and
                        database) or replication-pause (default switch)
  --region REGION       region the fault hits (default: the first region)
  --duration S          length of the order flow in seconds (default 60)
  --fault-at S          when the fault happens, seconds into the flow (default 20)
  --rate N              orders per second per region, each followed by a read (default 1)
  --clients N           clients per region sharing that rate (default 1)
  --ttl S               how long a client keeps the global endpoint's answer (default ${DRILL_DEFAULT_TTL_SECONDS} for
                        the drill's own sandbox; a running sandbox keeps its own unless given)
  --client-failover     retry a failed request once at another region's own endpoint

Load shapes (anomalies):
  --contention F        share of products (0..1) also ordered from every other region
                        (default 0)
  --contention-spread-ms MS
                        rival orders come within MS of the first (default
                        ${CONTENTION_SPREAD_DEFAULT_MS}: inside the replication window)
  --retry-elsewhere     an order that fails or gets no answer in --retry-after-ms is sent
                        again, same order id, to another region's own endpoint
  --retry-after-ms MS   how long such a client waits (default ${RETRY_AFTER_DEFAULT_MS})
  --resell-window-ms MS region-loss: products the lost region sold in the MS before the loss
                        are offered again after it (default ${RESELL_WINDOW_DEFAULT_MS}; 0: none)
  --no-heal             leave the fault in place afterwards (with --endpoint)

Target:
  --target NAME         sandbox (default) or aws: the deployed stacks
  --endpoint URL        drill a running sandbox (npm start) instead of starting one
  --regions LIST        own sandbox: regions (default ${DEFAULT_REGIONS.join(",")})
  --lag MS|MIN-MAX      own sandbox: replication lag (default 600-1200)
  --health-interval MS  own sandbox: health check interval (default 2000)
  --health-threshold N  own sandbox: failed checks before unhealthy (default 2)
  --policy NAME         own sandbox: latency or failover routing (default latency)
  --consistency MODE    own sandbox: eventual (default) or strong (MRSC for customers,
                        products and orders; two regions and a witness, or three regions)
  --witness-region R    own sandbox, strong with two regions: the witness (default: the
                        Region set's first region that is not a replica)
  --mrsc-write-latency-ms MS
                        own sandbox, strong: cross-region latency of each strong write
                        (default ${DEFAULT_MRSC_WRITE_LATENCY_MS})
  --verbose             own sandbox: show the handlers' logs

Deployed stacks (--target aws):
  --outputs DIR|FILE    pulumi stack output --json of every region stack: a directory of
                        .json files, or the files (repeat, or comma-separated)
  --dns-server HOST[:PORT]
                        DNS server the clients ask for the service name (default: the
                        system's first; env DRILL_DNS_SERVER)
  --fis-endpoint URL    FIS endpoint (default AWS's; env AWS_ENDPOINT_URL_FIS)
  --cloudwatch-endpoint URL
                        CloudWatch endpoint (default AWS's; env AWS_ENDPOINT_URL_CLOUDWATCH)
  Credentials come from the AWS SDK's default chain. Every fault the drill causes is undone
  at the end, when it fails and on Ctrl-C; what could not be undone is printed with the
  command that undoes it.

Output:
  --out FILE            JSON report (default drill-report-<scenario>-<time>.json)
  --ops                 include every operation in the JSON report
  -h, --help`;

export interface DrillCliOptions {
  readonly scenario: Scenario;
  readonly faultRegion?: string;
  readonly durationMs: number;
  readonly faultAtMs: number;
  readonly rate: number;
  readonly clients: number;
  readonly ttlSeconds?: number;
  readonly clientFailover: boolean;
  readonly contention?: number;
  readonly contentionSpreadMs?: number;
  readonly retryElsewhere?: boolean;
  readonly retryAfterMs?: number;
  readonly resellWindowMs?: number;
  readonly heal: boolean;
  readonly endpoint?: string;
  readonly target?: DrillTargetKind;
  readonly aws?: AwsCliOptions;
  readonly regions?: string[];
  readonly lag?: LagRange;
  readonly healthIntervalMs?: number;
  readonly healthThreshold?: number;
  readonly policy?: RoutingPolicy;
  readonly consistency?: ConsistencyCliOptions;
  readonly verbose: boolean;
  readonly out?: string;
  readonly includeOps: boolean;
}

export const DRILL_TARGETS = ["sandbox", "aws"] as const;
export type DrillTargetKind = (typeof DRILL_TARGETS)[number];

export interface AwsCliOptions {
  readonly outputs: string[];
  readonly dnsServer?: string;
  readonly fisEndpoint?: string;
  readonly cloudWatchEndpoint?: string;
}

/** Options that configure the drill's own sandbox: not with --endpoint, nor with --target aws. */
const OWN_SANDBOX_OPTIONS = [
  "regions",
  "lag",
  "health-interval",
  "health-threshold",
  "policy",
  "consistency",
  "witness-region",
  "mrsc-write-latency-ms",
] as const;

/** `--target aws` options; refuses the sandbox-only ones. */
function awsOptions(values: Record<string, unknown>, env: NodeJS.ProcessEnv): AwsCliOptions {
  const sandboxOnly = ["endpoint", ...OWN_SANDBOX_OPTIONS, "verbose", "ttl", "no-heal"].filter(
    (k) => values[k] !== undefined,
  );
  if (sandboxOnly.length > 0) {
    throw new UsageError(
      `--${sandboxOnly.join(", --")} not with --target aws (a deployed record's TTL is fixed; a drill never leaves a fault in place)`,
    );
  }
  const outputs = ((values["outputs"] as string[] | undefined) ?? []).flatMap(
    (v) => listOption(v) ?? [],
  );
  if (outputs.length === 0)
    throw new UsageError("--target aws needs --outputs DIR|FILE (pulumi stack output --json)");
  const pick = (flag: string, envName: string): string | undefined =>
    (values[flag] as string | undefined) ?? env[envName];
  const dnsServer = pick("dns-server", "DRILL_DNS_SERVER");
  const fisEndpoint = pick("fis-endpoint", "AWS_ENDPOINT_URL_FIS");
  const cloudWatchEndpoint = pick("cloudwatch-endpoint", "AWS_ENDPOINT_URL_CLOUDWATCH");
  return {
    outputs,
    ...(dnsServer !== undefined ? { dnsServer } : {}),
    ...(fisEndpoint !== undefined ? { fisEndpoint } : {}),
    ...(cloudWatchEndpoint !== undefined ? { cloudWatchEndpoint } : {}),
  };
}

export function parseDrillArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): DrillCliOptions | "help" {
  const values = parseOptions(argv, {
    target: { type: "string" },
    outputs: { type: "string", multiple: true },
    "dns-server": { type: "string" },
    "fis-endpoint": { type: "string" },
    "cloudwatch-endpoint": { type: "string" },
    scenario: { type: "string" },
    region: { type: "string" },
    duration: { type: "string" },
    "fault-at": { type: "string" },
    rate: { type: "string" },
    clients: { type: "string" },
    ttl: { type: "string" },
    "client-failover": { type: "boolean" },
    contention: { type: "string" },
    "contention-spread-ms": { type: "string" },
    "retry-elsewhere": { type: "boolean" },
    "retry-after-ms": { type: "string" },
    "resell-window-ms": { type: "string" },
    "no-heal": { type: "boolean" },
    endpoint: { type: "string" },
    regions: { type: "string" },
    lag: { type: "string" },
    "health-interval": { type: "string" },
    "health-threshold": { type: "string" },
    policy: { type: "string" },
    consistency: { type: "string" },
    "witness-region": { type: "string" },
    "mrsc-write-latency-ms": { type: "string" },
    verbose: { type: "boolean" },
    out: { type: "string" },
    ops: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  const durationS = numberOption("duration", values.duration, 2, 3_600) ?? 60;
  const faultAtS =
    numberOption("fault-at", values["fault-at"], 0.5, 3_600) ?? Math.min(20, durationS / 3);
  if (faultAtS >= durationS) {
    throw new UsageError(
      `--fault-at (${faultAtS}) must come before the end of --duration (${durationS})`,
    );
  }
  const target = choiceOption("target", values.target, DRILL_TARGETS) ?? "sandbox";
  const aws = target === "aws" ? awsOptions(values, env) : undefined;
  const awsOnly = ["outputs", "dns-server", "fis-endpoint", "cloudwatch-endpoint"] as const;
  const strayAws = awsOnly.filter((k) => values[k] !== undefined);
  if (target !== "aws" && strayAws.length > 0)
    throw new UsageError(`--${strayAws.join(", --")} belong to --target aws`);
  const endpoint = values.endpoint;
  if (endpoint !== undefined) {
    const given = OWN_SANDBOX_OPTIONS.filter((k) => values[k] !== undefined);
    if (given.length > 0) {
      throw new UsageError(
        `--${given.join(", --")} configure the drill's own sandbox; not with --endpoint`,
      );
    }
  }
  let lag: LagRange | undefined;
  try {
    lag = values.lag === undefined ? undefined : parseLag(values.lag);
  } catch (err) {
    throw new UsageError(`--lag: ${(err as Error).message}`);
  }
  const ttl =
    numberOption("ttl", values.ttl, 0, 86_400) ??
    (endpoint === undefined && target === "sandbox" ? DRILL_DEFAULT_TTL_SECONDS : undefined);
  const healthIntervalMs = intOption("health-interval", values["health-interval"], 50, 600_000);
  const healthThreshold = intOption("health-threshold", values["health-threshold"], 1, 10);
  const policy = choiceOption("policy", values.policy, ROUTING_POLICIES);
  const regions = listOption(values.regions);
  const consistency = parseConsistencyOptions(values, regions ?? DEFAULT_REGIONS);
  const contention = numberOption("contention", values.contention, 0, 1);
  const spread = intOption("contention-spread-ms", values["contention-spread-ms"], 0, 60_000);
  const retryAfter = intOption("retry-after-ms", values["retry-after-ms"], 0, 60_000);
  const resell = intOption("resell-window-ms", values["resell-window-ms"], 0, 3_600_000);
  if (retryAfter !== undefined && !values["retry-elsewhere"])
    throw new UsageError("--retry-after-ms needs --retry-elsewhere");
  return {
    scenario: choiceOption("scenario", values.scenario, SCENARIOS) ?? "switch",
    ...(values.region !== undefined ? { faultRegion: values.region } : {}),
    durationMs: Math.round(durationS * 1000),
    faultAtMs: Math.round(faultAtS * 1000),
    rate: numberOption("rate", values.rate, 0.01, 50) ?? 1,
    clients: intOption("clients", values.clients, 1, 20) ?? 1,
    ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
    clientFailover: values["client-failover"] ?? false,
    ...(contention !== undefined ? { contention } : {}),
    ...(spread !== undefined ? { contentionSpreadMs: spread } : {}),
    retryElsewhere: values["retry-elsewhere"] ?? false,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    ...(resell !== undefined ? { resellWindowMs: resell } : {}),
    heal: !values["no-heal"],
    ...(endpoint !== undefined ? { endpoint } : {}),
    target,
    ...(aws !== undefined ? { aws } : {}),
    ...(regions !== undefined ? { regions } : {}),
    ...(lag !== undefined ? { lag } : {}),
    ...(healthIntervalMs !== undefined ? { healthIntervalMs } : {}),
    ...(healthThreshold !== undefined ? { healthThreshold } : {}),
    ...(policy !== undefined ? { policy } : {}),
    ...(consistency.consistency !== undefined ? { consistency } : {}),
    verbose: values.verbose ?? false,
    ...(values.out !== undefined ? { out: values.out } : {}),
    includeOps: values.ops ?? false,
  };
}
