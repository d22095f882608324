/**
 * `npm run drill`: the failover drill as one command. Starts its own sandbox unless given one
 * (`--endpoint`), runs a steady order flow through the global endpoint from every region's
 * clients, injects a fault, and reports client-observed RTO, failed requests, replication lag,
 * and every data anomaly (double-sold, resold, overwritten, sold without order, lost), as text
 * and as a JSON file.
 *
 *   npm run drill -- --help
 */
import { writeFileSync } from "node:fs";
import {
  UsageError,
  choiceOption,
  parseOptions,
  intOption,
  listOption,
  numberOption,
  optionsOrExitCode,
  runCli,
  seconds,
} from "./cli-args";
import { formatReport, SCENARIOS, type DrillReport, type Scenario } from "../local/drill/report";
import { anomalyCounts } from "../local/drill/anomalies";
import { compensationLine } from "../local/drill/compensation";
import {
  CONTENTION_SPREAD_DEFAULT_MS,
  RESELL_WINDOW_DEFAULT_MS,
  RETRY_AFTER_DEFAULT_MS,
  runDrill,
  type Progress,
} from "../local/drill/run";
import { connectSandbox } from "../local/drill/sandbox-target";
import { connectAws, type AwsDrillTarget } from "../local/drill/aws/target";
import { parseDnsServer } from "../local/drill/aws/resolver";
import type { DrillTarget } from "../local/drill/target";
import { checkJava } from "../local/dynamo";
import { parseConsistencyOptions, type ConsistencyCliOptions } from "./consistency-options";
import { DEFAULT_MRSC_WRITE_LATENCY_MS } from "../local/mrsc/model";
import { parseLag, type LagRange } from "../local/replication-model";
import { ROUTING_POLICIES, type RoutingPolicy } from "../local/routing";
import {
  DEFAULT_REGIONS,
  installLastResortGuard,
  startSandbox,
  type Sandbox,
} from "../local/sandbox";

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

function progressLine(p: Progress): string {
  const t = `${Math.round(p.elapsedMs / 1000)}`.padStart(3);
  const fault = p.faultInjected
    ? "fault injected"
    : `fault in ${Math.max(0, Math.ceil((p.faultAtMs - p.elapsedMs) / 1000))} s`;
  const served = Object.entries(p.recentByRegion)
    .map(([r, n]) => `${r} ${n}`)
    .join(", ");
  return `[${t}/${p.durationMs / 1000} s] ${fault} | ops ${p.ops}: ${p.ok} ok, ${p.failed} failed, ${p.refused} refused, ${p.staleReads} stale | acked twice ${p.ackedTwice} | last 5 s: ${served}, failed ${p.recentFailed}`;
}

/** What to undo when the process is interrupted (Ctrl-C) during a drill. */
let onInterrupt: (() => Promise<string[]>) | undefined;

interface OpenTarget {
  readonly target: DrillTarget;
  /** Undoes what is left and stops what was started; returns what could not be undone. */
  readonly close: () => Promise<string[]>;
}

async function openSandbox(
  opts: DrillCliOptions,
  out: (line: string) => void,
): Promise<OpenTarget> {
  let sandbox: Sandbox | undefined;
  let endpoint = opts.endpoint;
  if (endpoint === undefined) {
    const java = checkJava();
    if (!java.ok) throw new Error(java.message);
    out("starting a sandbox for the drill");
    sandbox = await startSandbox({
      ...(opts.regions ? { regions: opts.regions } : {}),
      ...(opts.lag ? { lag: opts.lag } : {}),
      ...(opts.ttlSeconds !== undefined ? { ttlSeconds: opts.ttlSeconds } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...opts.consistency,
      healthCheck: {
        ...(opts.healthIntervalMs !== undefined ? { intervalMs: opts.healthIntervalMs } : {}),
        ...(opts.healthThreshold !== undefined ? { failureThreshold: opts.healthThreshold } : {}),
      },
      verbose: opts.verbose,
    });
    out(`sandbox ready in ${seconds(sandbox.startupMs)}: ${sandbox.urls.status}`);
    endpoint = sandbox.urls.global;
  }
  const close = async (): Promise<string[]> => {
    await sandbox?.stop();
    return [];
  };
  try {
    return { target: await connectSandbox({ endpoint }), close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function openAws(
  opts: DrillCliOptions,
  aws: AwsCliOptions,
  out: (line: string) => void,
): Promise<OpenTarget> {
  out(`checking the deployment (${aws.outputs.join(", ")})`);
  const target: AwsDrillTarget = await connectAws({
    outputs: aws.outputs,
    scenario: opts.scenario,
    faultRegion: opts.faultRegion,
    ...(aws.dnsServer !== undefined ? { dnsServer: parseDnsServer(aws.dnsServer) } : {}),
    fisEndpoint: aws.fisEndpoint,
    cloudWatchEndpoint: aws.cloudWatchEndpoint,
    onNote: (line) => out(line),
  });
  out(`drilling ${target.name}: regions ${target.endpoints.regions.join(", ")}`);
  let closed: Promise<string[]> | undefined;
  const close = (): Promise<string[]> =>
    (closed ??= (async () => {
      const failures = await target.undoAll();
      await target.close();
      return failures;
    })());
  return { target, close };
}

/** Runs a drill as the CLI does; returns the report and where it was written. */
export async function drill(
  opts: DrillCliOptions,
  io: { out: (line: string) => void; progress: (p: Progress) => void },
): Promise<{ report: DrillReport; file: string }> {
  const open =
    opts.target === "aws" && opts.aws
      ? await openAws(opts, opts.aws, io.out)
      : await openSandbox(opts, io.out);
  onInterrupt = open.close;
  let closed = false;
  try {
    const drilled = await runDrill(open.target, {
      scenario: opts.scenario,
      ...(opts.faultRegion !== undefined ? { faultRegion: opts.faultRegion } : {}),
      durationMs: opts.durationMs,
      faultAtMs: opts.faultAtMs,
      ratePerRegion: opts.rate,
      clientsPerRegion: opts.clients,
      clientFailover: opts.clientFailover,
      ...(opts.contention !== undefined ? { contention: opts.contention } : {}),
      ...(opts.contentionSpreadMs !== undefined
        ? { contentionSpreadMs: opts.contentionSpreadMs }
        : {}),
      retryElsewhere: opts.retryElsewhere ?? false,
      ...(opts.retryAfterMs !== undefined ? { retryAfterMs: opts.retryAfterMs } : {}),
      ...(opts.resellWindowMs !== undefined ? { resellWindowMs: opts.resellWindowMs } : {}),
      ...(opts.ttlSeconds !== undefined ? { ttlSeconds: opts.ttlSeconds } : {}),
      heal: opts.heal,
      includeOps: opts.includeOps,
      onProgress: io.progress,
      onStep: (line) => io.out(line),
    });
    const stillFaulted = await open.close();
    closed = true;
    for (const line of stillFaulted) io.out(line);
    const report = { ...drilled, notes: [...drilled.notes, ...stillFaulted] };
    const stamp = report.startedAt.replace(/[:.]/g, "-");
    const file = opts.out ?? `drill-report-${opts.scenario}-${stamp}.json`;
    writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
    io.out(`anomalies: ${anomalyCounts(report.anomalies)}`);
    if (report.compensation) io.out(`compensation: ${compensationLine(report.compensation)}`);
    return { report, file };
  } finally {
    if (!closed) for (const line of await open.close()) io.out(line);
    onInterrupt = undefined;
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const opts = optionsOrExitCode(parseDrillArgs, argv, USAGE);
  if (typeof opts === "number") return opts;
  installLastResortGuard((line) => console.error(line));
  const tty = process.stdout.isTTY === true;
  let lastPrinted = 0;
  const progress = (p: Progress): void => {
    const line = progressLine(p);
    if (tty)
      process.stdout.write(
        `\r${line.slice(0, (process.stdout.columns ?? 120) - 1).padEnd(Math.min(line.length, (process.stdout.columns ?? 120) - 1))}`,
      );
    else if (p.elapsedMs - lastPrinted >= 5_000) {
      lastPrinted = p.elapsedMs;
      console.log(line);
    }
  };
  const out = (line: string): void => {
    if (tty) process.stdout.write("\r\x1b[K");
    console.log(line);
  };
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      out(`${signal}: stopping (the drill's sandbox, if any, is stopped too; faults are undone)`);
      const undo = onInterrupt;
      if (undo === undefined) {
        // The sandbox's JVMs are killed by the DynamoDB Local helper's own signal handler.
        setTimeout(() => process.exit(130), 3_000).unref();
        return;
      }
      // Undoing a fault waits for FIS to stop its experiment: give it time (Ctrl-C again to quit).
      setTimeout(() => {
        out("still undoing after 120 s: giving up; check the faults above by hand");
        process.exit(130);
      }, 120_000).unref();
      void undo().then(
        (failures) => {
          for (const line of failures) out(line);
          process.exit(130);
        },
        (err: unknown) => {
          out(`undoing failed: ${(err as Error).message}`);
          process.exit(130);
        },
      );
    });
  }
  try {
    const { report, file } = await drill(opts, { out, progress });
    out("");
    console.log(formatReport(report));
    console.log(`\nJSON report: ${file}`);
    return 0;
  } catch (err) {
    out(`drill failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) runCli(main);
