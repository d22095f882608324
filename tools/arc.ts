/**
 * `npm run arc`: show and change the states of the Route 53 ARC routing controls of a deployed
 * routing stack. Talks to the cluster's own regional endpoints (the data plane), trying each in
 * turn when one cannot be reached, and refuses, before any call that changes state, a change that
 * would turn every region off. Where the routing controls are (outputs file or flags) is
 * arc-target.ts; the cluster's data plane is local/arc-cluster.ts.
 *
 *   pulumi stack output --json -s region2 > routing.json
 *   npm run arc -- status --outputs routing.json
 *   npm run arc -- failover --to us-west-2 --outputs routing.json
 *   npm run arc -- --help
 */
import { readFileSync } from "node:fs";
import type { RoutingControlState } from "@aws-sdk/client-route53-recovery-cluster";
import { ArcCluster, AwsFailure, RefusedError, refuseAllOff } from "../local/arc-cluster";
import { targetFromFlags, targetFromOutputs, type ArcTarget } from "./arc-target";
import { UsageError, intOption, parseCommandLine, runCli } from "./cli-args";

export {
  ArcCluster,
  AwsFailure,
  RefusedError,
  isEndpointFailure,
  refuseAllOff,
  type ClusterEndpoint,
  type ClusterOptions,
} from "../local/arc-cluster";

export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export const EXIT_OK = 0;
export const EXIT_AWS_FAILURE = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage: npm run arc -- <command> [options]

Shows and changes the Route 53 ARC routing controls of the routing stack, through the
cluster's regional endpoints (trying each in turn when one times out or cannot be reached).

Commands:
  status                  every region's routing control state
  set REGION on|off       turn one region's routing control on or off
  failover --to REGION    turn REGION on and every other region off, in one call
                          (UpdateRoutingControlStates)

A change that would leave every region off is refused before any call that changes state
(the control panel's safety rule would reject it too; this fails earlier and says why).

Where the routing controls are:
  --outputs FILE          JSON from \`pulumi stack output --json -s region2 > routing.json\`;
                          reads arcClusterEndpoints, routingControlArns and routing
  --endpoint URL@REGION   a cluster endpoint and its region (repeat for each; instead of --outputs)
  --control REGION=ARN    a region's routing control ARN (repeat for each; instead of --outputs)

Connection:
  --connect-timeout MS    give up connecting to an endpoint after MS (default ${DEFAULT_CONNECT_TIMEOUT_MS})
  --request-timeout MS    give up waiting for an endpoint's answer after MS (default ${DEFAULT_REQUEST_TIMEOUT_MS})
  Credentials and their region come from the AWS SDK's default chain (AWS_PROFILE, ...).

  -h, --help

Exit codes:
  0  done (status printed, or the change accepted)
  1  AWS failure: every endpoint failed, or ARC answered with an error (access denied,
     validation, safety rule, ...)
  2  usage or config error: bad arguments, unreadable outputs file, unknown region,
     routing not arc, or a change refused because it would leave every region off`;

export type ArcCommand =
  | { readonly kind: "status" }
  | { readonly kind: "set"; readonly region: string; readonly state: RoutingControlState }
  | { readonly kind: "failover"; readonly to: string };

export interface ArcCliOptions {
  readonly command: ArcCommand;
  readonly outputs?: string;
  readonly endpoints: readonly string[];
  readonly controls: readonly string[];
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** Parses the command line; returns "help" for -h/--help. Throws UsageError. */
export function parseArcArgs(argv: readonly string[]): ArcCliOptions | "help" {
  const { values, positionals } = parseCommandLine(argv, {
    outputs: { type: "string" },
    endpoint: { type: "string", multiple: true },
    control: { type: "string", multiple: true },
    to: { type: "string" },
    "connect-timeout": { type: "string" },
    "request-timeout": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  const [name, ...rest] = positionals;
  const extra = (n: number): void => {
    if (rest.length > n) {
      throw new UsageError(
        `unexpected argument ${rest[n]} after ${[name, ...rest.slice(0, n)].join(" ")}`,
      );
    }
  };
  let command: ArcCommand;
  switch (name) {
    case "status":
      extra(0);
      command = { kind: "status" };
      break;
    case "set": {
      extra(2);
      const [region, state] = rest;
      if (region === undefined || state === undefined) {
        throw new UsageError("set needs a region and a state: set REGION on|off");
      }
      const lower = state.toLowerCase();
      if (lower !== "on" && lower !== "off") {
        throw new UsageError(`set ${region}: the state must be on or off: got ${state}`);
      }
      command = { kind: "set", region, state: lower === "on" ? "On" : "Off" };
      break;
    }
    case "failover":
      extra(0);
      if (values.to === undefined) throw new UsageError("failover needs --to REGION");
      command = { kind: "failover", to: values.to };
      break;
    case undefined:
      throw new UsageError("no command: expected status, set or failover");
    default:
      throw new UsageError(`unknown command ${name}: expected status, set or failover`);
  }
  if (values.to !== undefined && command.kind !== "failover") {
    throw new UsageError(`--to belongs to failover, not ${command.kind}`);
  }
  const endpoints = values.endpoint ?? [];
  const controls = values.control ?? [];
  if (values.outputs !== undefined && (endpoints.length > 0 || controls.length > 0)) {
    throw new UsageError(
      "--outputs and --endpoint/--control are alternatives: give one or the other",
    );
  }
  if (values.outputs === undefined && endpoints.length === 0 && controls.length === 0) {
    throw new UsageError(
      "say where the routing controls are: --outputs FILE (from pulumi stack output --json), " +
        "or --endpoint URL@REGION and --control REGION=ARN",
    );
  }
  return {
    command,
    ...(values.outputs !== undefined ? { outputs: values.outputs } : {}),
    endpoints,
    controls,
    connectTimeoutMs:
      intOption("connect-timeout", values["connect-timeout"], 100, 60_000) ??
      DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs:
      intOption("request-timeout", values["request-timeout"], 100, 120_000) ??
      DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

function knownRegion(target: ArcTarget, region: string): void {
  if (target.controls[region] === undefined) {
    throw new UsageError(
      `unknown region ${region}: the routing controls are for ${Object.keys(target.controls).join(", ")}`,
    );
  }
}

/** Checks the command's regions against the target before anything is called. */
export function checkCommand(command: ArcCommand, target: ArcTarget): void {
  if (command.kind === "set") knownRegion(target, command.region);
  if (command.kind === "failover") knownRegion(target, command.to);
}

export interface StateChange {
  readonly region: string;
  readonly arn: string;
  readonly from: RoutingControlState;
  readonly to: RoutingControlState;
}

/**
 * The states a command asks for, given the current ones (region -> state). Throws RefusedError
 * when the result would have every region off.
 */
export function plannedStates(
  command: Exclude<ArcCommand, { kind: "status" }>,
  current: Readonly<Record<string, RoutingControlState>>,
): Record<string, RoutingControlState> {
  const result: Record<string, RoutingControlState> = { ...current };
  if (command.kind === "set") {
    result[command.region] = command.state;
  } else {
    for (const region of Object.keys(result)) result[region] = region === command.to ? "On" : "Off";
  }
  refuseAllOff(result, current);
  return result;
}

/** The status table: one line per region. */
export function formatStates(
  target: ArcTarget,
  states: Readonly<Record<string, RoutingControlState>>,
): string {
  const regions = Object.keys(target.controls);
  const width = Math.max(6, ...regions.map((r) => r.length));
  const lines = [`${"region".padEnd(width)}  state  routing control`];
  for (const region of regions) {
    lines.push(
      `${region.padEnd(width)}  ${(states[region] ?? "?").padEnd(5)}  ${target.controls[region]}`,
    );
  }
  return lines.join("\n");
}

export interface ArcIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly readFile: (file: string) => string;
}

const defaultIo: ArcIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  readFile: (file) => readFileSync(file, "utf8"),
};

function loadTarget(opts: ArcCliOptions, io: ArcIo): ArcTarget {
  if (opts.outputs === undefined) return targetFromFlags(opts.endpoints, opts.controls);
  let text: string;
  try {
    text = io.readFile(opts.outputs);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new UsageError(
      code === "ENOENT"
        ? `no file ${opts.outputs}; write it with pulumi stack output --json -s region2 > ${opts.outputs}`
        : `cannot read ${opts.outputs}: ${(err as Error).message}`,
    );
  }
  return targetFromOutputs(text, opts.outputs);
}

/** Runs one command; returns the exit code. */
export async function runArc(argv: readonly string[], io: ArcIo = defaultIo): Promise<number> {
  let opts: ArcCliOptions | "help";
  let target: ArcTarget;
  try {
    opts = parseArcArgs(argv);
    if (opts === "help") {
      io.out(USAGE);
      return EXIT_OK;
    }
    target = loadTarget(opts, io);
    checkCommand(opts.command, target);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n\nRun npm run arc -- --help for usage.`);
    return EXIT_USAGE;
  }
  const cluster = new ArcCluster(target.endpoints, {
    connectTimeoutMs: opts.connectTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs,
    warn: io.err,
  });
  try {
    const current = await cluster.states(target.controls);
    const command = opts.command;
    if (command.kind === "status") {
      io.out(formatStates(target, current));
      io.out(`(read through ${cluster.endpoint.endpoint}, ${cluster.endpoint.region})`);
      return EXIT_OK;
    }
    let wanted: Record<string, RoutingControlState>;
    try {
      wanted = plannedStates(command, current);
    } catch (err) {
      if (!(err instanceof RefusedError)) throw err;
      io.err(err.message);
      return EXIT_USAGE;
    }
    const changes: StateChange[] = Object.keys(target.controls)
      .filter((r) => wanted[r] !== current[r])
      .map((r) => ({
        region: r,
        arn: target.controls[r] as string,
        from: current[r] as RoutingControlState,
        to: wanted[r] as RoutingControlState,
      }));
    if (changes.length === 0) {
      io.out(`nothing to change:\n${formatStates(target, current)}`);
      return EXIT_OK;
    }
    for (const c of changes) io.out(`${c.region}: ${c.from} -> ${c.to}`);
    if (command.kind === "set") {
      const arn = target.controls[command.region] as string;
      await cluster.setOne(arn, command.state, `UpdateRoutingControlState ${command.region}`);
    } else {
      // Target first, then the others: one call, so ARC evaluates the safety rule on the result.
      const regions = [command.to, ...Object.keys(target.controls).filter((r) => r !== command.to)];
      await cluster.setMany(
        regions.map((r) => ({
          arn: target.controls[r] as string,
          state: wanted[r] as RoutingControlState,
        })),
        `UpdateRoutingControlStates failover to ${command.to}`,
      );
    }
    io.out(`accepted by ${cluster.endpoint.endpoint} (${cluster.endpoint.region}); states now:`);
    const after = await cluster.states(target.controls);
    io.out(formatStates(target, after));
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof AwsFailure)) throw err;
    io.err(err.message);
    return EXIT_AWS_FAILURE;
  }
}

if (require.main === module) runCli(runArc);
