import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { canaryArtifacts, canaryRole, canaryWithAlarm } from "./canary-resources";
import { CANARY_SCRIPT_PATH, validateCanaryScript, type CanaryScriptArgs } from "./canary-script";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";
import { DEFAULT_LOG_RETENTION_DAYS } from "./defaults";

/** Newest Node.js Synthetics runtime AWS documents for a scripted canary (Puppeteer family). */
export const DEFAULT_CANARY_RUNTIME = "syn-nodejs-puppeteer-15.0";
/** Synthetics canary names: at most 21 characters of lowercase letters, digits, `_` and `-`. */
export const CANARY_NAME_MAX_LENGTH = 21;
export const CANARY_NAME_PATTERN = /^[0-9a-z_-]{1,21}$/;
/** What CanaryFleet uses for each optional argument left unset. */
export const CANARY_FLEET_DEFAULTS = {
  runtimeVersion: DEFAULT_CANARY_RUNTIME,
  schedule: "rate(1 minute)",
  /** Seconds; never more than the schedule's interval (a run must end before the next starts). */
  timeoutSeconds: 60,
  requestTimeoutMs: 10000,
  /** Run artifacts are the runs' logs: kept as long as the canaries' log groups keep theirs. */
  artifactRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  forceDestroyArtifacts: false,
  successPercentThreshold: 90,
  alarmPeriods: 3,
} as const;

const HASH_LENGTH = 6;

/**
 * A valid, deterministic canary name for `label` under `namePrefix`: `<prefix>-<label>` when that
 * fits the 21-character limit, otherwise as much of the label as fits followed by a hash of the
 * full name, so two different labels never end up with the same name.
 */
export function canaryName(namePrefix: string, label: string): string {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^0-9a-z_-]+/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/^-+|-+$/g, "");
  const full = [clean(namePrefix), clean(label)].filter(Boolean).join("-");
  if (!full)
    throw new Error(
      `canary name: nothing usable in prefix ${JSON.stringify(namePrefix)} and label ${JSON.stringify(label)}`,
    );
  if (full.length <= CANARY_NAME_MAX_LENGTH) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, HASH_LENGTH);
  const room = CANARY_NAME_MAX_LENGTH - HASH_LENGTH - 1;
  const readable = (clean(label) || full).slice(0, room).replace(/-+$/, "");
  return readable ? `${readable}-${hash}` : hash;
}

/** Seconds between runs of a `rate(...)` schedule; throws on anything else. */
export function scheduleSeconds(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expression);
  if (!m) {
    throw new Error(
      `canary schedule must be a rate expression such as rate(1 minute) or rate(5 minutes): got ${JSON.stringify(expression)} ` +
        "(cron is not supported: the success alarm's period follows the schedule)",
    );
  }
  const n = Number(m[1]);
  const unit = m[2] as string;
  if (unit.startsWith("minute") ? n < 1 || n > 60 : n !== 1) {
    throw new Error(
      `canary schedule must run every 1 to 60 minutes: got ${JSON.stringify(expression)}`,
    );
  }
  if ((n === 1) !== (unit === "minute" || unit === "hour")) {
    throw new Error(
      `canary schedule: write rate(1 minute) / rate(N minutes) (singular only for 1): got ${JSON.stringify(expression)}`,
    );
  }
  return unit.startsWith("minute") ? n * 60 : 3600;
}

/** One endpoint a canary checks: the script gets it as CANARY_ENDPOINT. */
export interface CanaryTarget {
  /**
   * Plain label that names the canary and its alarm (a stack name, `global`); unique within the
   * fleet. Plain because names decide resources.
   */
  label: string;
  /** Base URL the canary calls, stage or base path included (no trailing slash needed). */
  endpoint: pulumi.Input<string>;
  /**
   * Region the requests are signed for (SigV4), or `*` for a script that signs with SigV4a for
   * every region (a global name, served by whichever region routing picks). Passed to the script
   * as CANARY_SIGNING_REGION.
   */
  signingRegion: pulumi.Input<string>;
}

/** An API stage the fleet's canaries may call (their role may invoke only these). */
export interface CanaryApi {
  /** `arn:aws:execute-api:region:account:api-id`. */
  executionArn: pulumi.Input<string>;
  /** The stage the targets' endpoints reach, e.g. `prod`. */
  stageName: pulumi.Input<string>;
}

/** The arguments of a CanaryFleet. */
export interface CanaryFleetArgs {
  /** Region the canaries, their bucket and their alarms live in. Plain value. */
  region: string;
  /** Prefix of the canary names. */
  namePrefix: string;
  /** One canary per target. */
  targets: CanaryTarget[];
  /** The API stages the targets reach; the role may invoke the script's requests on these only. */
  apis: CanaryApi[];
  /**
   * The script every canary runs: its code, the signed requests it makes and the settings it
   * reads (the service's own ids, say). Plain values: they decide the code and the role.
   */
  script: CanaryScriptArgs;
  /** Synthetics runtime version. @default DEFAULT_CANARY_RUNTIME (CANARY_FLEET_DEFAULTS) */
  runtimeVersion?: string;
  /** How often each canary runs: rate(1 minute) to rate(60 minutes). @default "rate(1 minute)" (CANARY_FLEET_DEFAULTS) */
  schedule?: string;
  /** Limit of one run, seconds (15 up to the schedule's interval). @default 60 or the interval */
  timeoutSeconds?: number;
  /** Per-request timeout the script enforces, ms (100 to 60000). @default 10000 */
  requestTimeoutMs?: number;
  /** Days run artifacts are kept, in Synthetics and in the bucket (1 to 455). @default 30 */
  artifactRetentionDays?: number;
  /** Retention of the canaries' Lambda log groups, in days (a CloudWatch Logs value). @default 30 */
  logRetentionDays?: number;
  /**
   * Customer-managed KMS key (in `region`) for the artifacts bucket, the run artifacts and the
   * canaries' log groups; the canary role may use it. @default SSE-S3 and the CloudWatch Logs key
   */
  kmsKeyArn?: pulumi.Input<string>;
  /** Let `pulumi destroy` delete the artifacts bucket with its objects. @default false */
  forceDestroyArtifacts?: boolean;
  /** Alarm when SuccessPercent averages below this (0-100]. @default 90 */
  successPercentThreshold?: number;
  /** Consecutive schedule periods below the threshold before the alarm fires. @default 3 */
  alarmPeriods?: number;
  /** SNS topic notified when an alarm fires and recovers. @default none */
  alarmTopicArn?: pulumi.Input<string>;
  /** Tags on every taggable child. @default none */
  tags?: Record<string, string>;
}

/** Throws unless the targets are plain, labelled once each, and get distinct names; returns them by label. */
function targetNames(args: CanaryFleetArgs): Map<string, string> {
  assertPlain("targets", args.targets);
  if (args.targets.length === 0) throw new Error("CanaryFleet needs at least one target");
  const names = new Map<string, string>();
  const seen = new Map<string, string>();
  for (const t of args.targets) {
    assertPlain("target label", t.label);
    if (names.has(t.label)) throw new Error(`duplicate canary target label ${t.label}`);
    const name = canaryName(args.namePrefix, t.label);
    const clash = seen.get(name);
    if (clash) throw new Error(`canary targets ${clash} and ${t.label} both get the name ${name}`);
    seen.set(name, t.label);
    names.set(t.label, name);
  }
  return names;
}

/** Checks CanaryFleetArgs before any resource exists; returns the canary names by label. */
export function validateCanaryFleetArgs(args: CanaryFleetArgs): Map<string, string> {
  const D = CANARY_FLEET_DEFAULTS;
  assertPlain("region", args.region);
  assertRegion("region", args.region);
  const names = targetNames(args);
  if (args.apis.length === 0) throw new Error("CanaryFleet needs at least one API to invoke");
  assertPlain("script", args.script);
  validateCanaryScript(args.script);
  const interval = scheduleSeconds(args.schedule ?? D.schedule);
  const timeout = args.timeoutSeconds ?? Math.min(D.timeoutSeconds, interval);
  assertIntInRange("timeoutSeconds", timeout, 15, Math.min(840, interval));
  assertIntInRange("requestTimeoutMs", args.requestTimeoutMs ?? D.requestTimeoutMs, 100, 60000);
  assertIntInRange(
    "artifactRetentionDays",
    args.artifactRetentionDays ?? D.artifactRetentionDays,
    1,
    455,
  );
  assertIntInRange("logRetentionDays", args.logRetentionDays ?? D.logRetentionDays, 1, 3653);
  const threshold = args.successPercentThreshold ?? D.successPercentThreshold;
  if (!(threshold > 0 && threshold <= 100)) {
    throw new Error(`successPercentThreshold must be in (0, 100]: got ${threshold}`);
  }
  const maxPeriods = Math.max(1, Math.floor(86400 / interval));
  assertIntInRange("alarmPeriods", args.alarmPeriods ?? D.alarmPeriods, 1, maxPeriods);
  const runtime = args.runtimeVersion ?? D.runtimeVersion;
  if (!/^syn-nodejs-puppeteer-\d+\.\d+$/.test(runtime)) {
    throw new Error(
      `runtimeVersion must be a Node.js Puppeteer Synthetics runtime such as ${DEFAULT_CANARY_RUNTIME}: got ${JSON.stringify(runtime)} ` +
        `(the script ships as ${CANARY_SCRIPT_PATH}, the layout those runtimes load)`,
    );
  }
  return names;
}

/**
 * CloudWatch Synthetics canaries in one region, one per target, all running one script (its
 * code, requests and settings come in as `script`): a non-2xx answer or a timeout fails the run.
 * One private, encrypted, versioned artifacts bucket with lifecycle expiry; one role that may
 * invoke only the script's requests on the given APIs; one SuccessPercent alarm per canary that
 * also fires when the canary stops reporting.
 */
export class CanaryFleet extends pulumi.ComponentResource {
  /** Canary names by target label (plain: dashboards and alarms are built from them). */
  readonly canaryNames: Record<string, string>;
  /** Region the canaries run in (plain). */
  readonly region: string;
  /** Canary ARNs by target label. */
  readonly canaryArns: pulumi.Output<Record<string, string>>;
  /** SuccessPercent alarm ARNs by target label. */
  readonly alarmArns: pulumi.Output<Record<string, string>>;
  /** The artifacts bucket, which also holds the script's code. */
  readonly bucketName: pulumi.Output<string>;
  /** The role every canary of the fleet runs under. */
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: CanaryFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("CanaryFleet"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:observability:CanaryFleet"),
    );
    const names = validateCanaryFleetArgs(args);
    const D = CANARY_FLEET_DEFAULTS;
    const { region, script, kmsKeyArn, tags } = args;
    const schedule = args.schedule ?? D.schedule;
    const interval = scheduleSeconds(schedule);
    const retention = args.artifactRetentionDays ?? D.artifactRetentionDays;

    const artifacts = canaryArtifacts(
      name,
      {
        region,
        script,
        retentionDays: retention,
        kmsKeyArn,
        forceDestroy: args.forceDestroyArtifacts ?? D.forceDestroyArtifacts,
        tags,
      },
      this,
    );
    const role = canaryRole(
      name,
      {
        region,
        namePrefix: args.namePrefix,
        script,
        apis: args.apis,
        bucketArn: artifacts.bucket.arn,
        canaryNames: [...names.values()],
        kmsKeyArn,
        tags,
      },
      this,
    );

    const canaryArns: Record<string, pulumi.Output<string>> = {};
    const alarmArns: Record<string, pulumi.Output<string>> = {};
    for (const target of args.targets) {
      const { canary, alarm } = canaryWithAlarm(
        name,
        {
          region,
          label: target.label,
          canaryName: names.get(target.label) as string,
          endpoint: target.endpoint,
          signingRegion: target.signingRegion,
          script,
          runtimeVersion: args.runtimeVersion ?? D.runtimeVersion,
          schedule,
          intervalSeconds: interval,
          timeoutSeconds: args.timeoutSeconds ?? Math.min(D.timeoutSeconds, interval),
          requestTimeoutMs: args.requestTimeoutMs ?? D.requestTimeoutMs,
          artifactRetentionDays: retention,
          logRetentionDays: args.logRetentionDays ?? D.logRetentionDays,
          successPercentThreshold: args.successPercentThreshold ?? D.successPercentThreshold,
          alarmPeriods: args.alarmPeriods ?? D.alarmPeriods,
          alarmTopicArn: args.alarmTopicArn,
          kmsKeyArn,
          tags,
          artifacts,
          role,
        },
        this,
      );
      canaryArns[target.label] = canary.arn;
      alarmArns[target.label] = alarm.arn;
    }

    this.region = region;
    this.canaryNames = Object.fromEntries(names);
    this.canaryArns = pulumi.output(canaryArns);
    this.alarmArns = pulumi.output(alarmArns);
    this.bucketName = artifacts.bucket.bucket;
    this.roleArn = role.role.arn;
    this.registerOutputs({
      canaryArns: this.canaryArns,
      alarmArns: this.alarmArns,
      bucketName: this.bucketName,
      roleArn: this.roleArn,
    });
  }
}
