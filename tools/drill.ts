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
import { optionsOrExitCode, runCli, seconds } from "./cli-args";
import { anomalyCounts } from "../local/drill/anomalies";
import { connectAws, type AwsDrillTarget } from "../local/drill/aws/target";
import { parseDnsServer } from "../local/drill/aws/resolver";
import { compensationLine } from "../local/drill/compensation";
import type { Progress } from "../local/drill/plan";
import type { DrillReport } from "../local/drill/report";
import { formatReport } from "../local/drill/report-text";
import { runDrill } from "../local/drill/run";
import { connectSandbox } from "../local/drill/sandbox-target";
import type { DrillTarget } from "../local/drill/target";
import { checkJava } from "../local/dynamo";
import { installLastResortGuard, startSandbox, type Sandbox } from "../local/sandbox";
import { parseDrillArgs, USAGE, type AwsCliOptions, type DrillCliOptions } from "./drill-args";
import { consoleOutput } from "./drill-output";

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
  const { out, progress } = consoleOutput();
  undoOnSignals(out);
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

/**
 * On SIGINT or SIGTERM: undoes what the drill has in place (`onInterrupt`), prints what could
 * not be undone, and exits 130; a second signal exits at once.
 */
function undoOnSignals(out: (line: string) => void): void {
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
}

if (require.main === module) runCli(main);
