/**
 * `startAwsStandIn`: makes the sandbox look like a deployed pair of region stacks, so the drill's
 * `--target aws` and its tests run against real protocols without AWS.
 *
 *   const standIn = await startAwsStandIn({ sandbox, ttlSeconds: 2 });
 *   standIn.outputsDir        // region1.json, region2.json: `pulumi stack output --json` shape
 *   standIn.dns.address       // "127.0.0.1:PORT": resolves standIn.serviceDomain (A, TTL)
 *   standIn.credentials       // the only keys the stand-ins accept
 *   standIn.endpoints.fis / .cloudwatch / .arc   // for the SDK clients' `endpoint`
 *   standIn.env               // the same as environment variables for a child process
 *   await standIn.stop()      // stops what it started (the sandbox only if it started it)
 *
 * Parts (each module documents its own API and what it supports):
 * - api-front.ts: per region, an API Gateway stand-in verifying SigV4 (its region) and SigV4a
 *   (region set covering it) for execute-api, forwarding to the sandbox's regional server; all
 *   fronts share one port on their own loopback address (127.0.0.2, 127.0.0.3, ...).
 * - dns.ts: the service name's A record, answered from the sandbox's routing controls and health
 *   with the sandbox's routing policy, as seen from `resolverRegion`, with a TTL.
 * - arc-fake.ts, fis-fake.ts, cloudwatch-fake.ts: ARC cluster data plane (flips the sandbox's
 *   routing controls), FIS (templates per fault and region, below), CloudWatch GetMetricData of
 *   ReplicationLatency (from the replicator's samples).
 *
 * FIS faults (template ids in `templateIds` and in the routing stack's outputs as
 * `fisExperimentTemplateIds`, named as ChaosExperiments names them): `replication-pause`
 * (aws:dynamodb:global-table-pause-replication: replication INTO the region pauses),
 * `lambda-errors` (aws:lambda:invocation-error: the region's API stops, so its front answers 502
 * and its health check fails), `lambda-latency` (aws:lambda:invocation-add-delay: the front waits
 * `lambdaDelayMs` before each request) and `api-unavailable`
 * (aws:lambda:invocation-http-integration-response: the front answers 503, and the DNS answer
 * treats the region as unhealthy).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TABLE_KEYS, type TableKey } from "../../functions/tables";
import { eligibleRegions, pickRegion } from "../routing";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox";
import { startApiFronts, DEFAULT_STAGE, type ApiFronts } from "./api-front";
import { startArcFake, STAND_IN_ACCOUNT, type ArcFake } from "./arc-fake";
import { startCloudWatchFake, type CloudWatchFake } from "./cloudwatch-fake";
import { startServiceDns, type ServiceDns } from "./dns";
import { startFisFake, type FaultAction, type FisFake } from "./fis-fake";
import type { StandInCredentials } from "./sigv4-verify";

export { SignatureVerifier, type StandInCredentials } from "./sigv4-verify";
export { sigV4aPublicKey } from "./sigv4a";

/** A name under `.test` (RFC 2606): it can never leave the machine. */
export const DEFAULT_SERVICE_DOMAIN = "orders.resilient-dynamo.test";

export interface AwsStandInOptions {
  /** The sandbox to stand in front of; when absent one is started with `sandboxOptions`. */
  readonly sandbox?: Sandbox;
  readonly sandboxOptions?: SandboxOptions;
  /** @default DEFAULT_SERVICE_DOMAIN */
  readonly serviceDomain?: string;
  /** The A record's TTL. @default the sandbox's TTL setting, read at each query */
  readonly ttlSeconds?: number;
  /** Where the resolver "is" for latency routing. @default the first region */
  readonly resolverRegion?: string;
  /** @default a fresh random key pair */
  readonly credentials?: StandInCredentials;
  /** Where to write the stack outputs. @default a new temp directory */
  readonly outputsDir?: string;
  /** Delay the lambda-latency fault adds. @default DEFAULT_LAMBDA_DELAY_MS */
  readonly lambdaDelayMs?: number;
  /** FIS templates' bounded duration. @default 10 minutes */
  readonly maxExperimentMs?: number;
  /** @default 300_000 */
  readonly clockSkewMs?: number;
  readonly onError?: (message: string, err: unknown) => void;
}

export interface AwsStandIn {
  readonly sandbox: Sandbox;
  readonly regions: readonly string[];
  readonly serviceDomain: string;
  readonly credentials: StandInCredentials;
  readonly fronts: ApiFronts;
  readonly dns: ServiceDns;
  readonly arc: ArcFake;
  readonly fis: FisFake;
  readonly cloudwatch: CloudWatchFake;
  readonly endpoints: {
    readonly fis: string;
    readonly cloudwatch: string;
    readonly arc: readonly { readonly endpoint: string; readonly region: string }[];
  };
  /** Fault -> region -> FIS experiment template id. */
  readonly templateIds: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Directory holding `<stack>.json` per region stack (region1, region2, ...). */
  readonly outputsDir: string;
  /** Stack name -> its outputs, as written. */
  readonly outputs: Readonly<Record<string, Record<string, unknown>>>;
  /**
   * Environment for a child process using the stand-ins: credentials, `AWS_ENDPOINT_URL_FIS`,
   * `AWS_ENDPOINT_URL_CLOUDWATCH` (the SDK's service-specific endpoint variables) and
   * `DRILL_DNS_SERVER` (the resolver to use for the service name).
   */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** Delay of the lambda-latency fault, as ChaosExperiments' default. */
export const DEFAULT_LAMBDA_DELAY_MS = 2_000;

/** The faults FIS templates stand for (CHAOS_FAULTS of components/fis-plan.ts), and what each does locally. */
export function sandboxFaults(
  sandbox: Sandbox,
  fronts: ApiFronts,
  lambdaDelayMs: number = DEFAULT_LAMBDA_DELAY_MS,
): Record<string, FaultAction> {
  return {
    "replication-pause": {
      actionId: "aws:dynamodb:global-table-pause-replication",
      apply: async (region) => {
        sandbox.replicator.pause(undefined, region);
        sandbox.endpoint.event("replication", `FIS: replication to ${region} paused`);
      },
      undo: async (region) => {
        sandbox.replicator.resume(undefined, region);
        sandbox.endpoint.event("replication", `FIS: replication to ${region} resumed`);
      },
    },
    "lambda-errors": {
      actionId: "aws:lambda:invocation-error",
      apply: (region) => sandbox.stopRegion(region, "api"),
      undo: (region) => sandbox.startRegion(region, "api"),
    },
    "lambda-latency": {
      actionId: "aws:lambda:invocation-add-delay",
      apply: async (region) => fronts.setFault(region, { kind: "latency", ms: lambdaDelayMs }),
      undo: async (region) => fronts.setFault(region, undefined),
    },
    "api-unavailable": {
      actionId: "aws:lambda:invocation-http-integration-response",
      apply: async (region) => fronts.setFault(region, { kind: "unavailable" }),
      undo: async (region) => fronts.setFault(region, undefined),
    },
  };
}

/**
 * The region the service name resolves to now, as Route 53 would answer `resolverRegion`: routing
 * controls On, healthy (the sandbox's health checks, and no front answering 503 for a fault, as
 * a Route 53 health check through API Gateway would see), by the sandbox's routing policy.
 */
export function answerRegion(sandbox: Sandbox, fronts: ApiFronts, resolverRegion: string): string {
  const ep = sandbox.endpoint;
  const healthy = (r: string) => ep.isHealthy(r) && fronts.fault(r)?.kind !== "unavailable";
  const eligible = eligibleRegions(sandbox.regions, ep.routingControls(), healthy);
  return pickRegion(ep.settings().policy, sandbox.regions, eligible, {
    id: "resolver",
    region: resolverRegion,
  });
}

function newCredentials(): StandInCredentials {
  return {
    accessKeyId: `AKIASTANDIN${randomBytes(5).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64url"),
  };
}

export async function startAwsStandIn(opts: AwsStandInOptions = {}): Promise<AwsStandIn> {
  const owned = opts.sandbox === undefined;
  const sandbox = opts.sandbox ?? (await startSandbox(opts.sandboxOptions));
  const regions = sandbox.regions;
  const resolverRegion = opts.resolverRegion ?? (regions[0] as string);
  if (!regions.includes(resolverRegion)) {
    throw new Error(`resolverRegion ${resolverRegion} is not one of ${regions.join(", ")}`);
  }
  const serviceDomain = opts.serviceDomain ?? DEFAULT_SERVICE_DOMAIN;
  const credentials = opts.credentials ?? newCredentials();
  const onError = opts.onError ?? (() => undefined);
  const common = { regions, credentials: [credentials], onError };
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(stops.reverse().map((s) => s()));
    if (owned) await sandbox.stop();
  };
  try {
    const fronts = await startApiFronts({
      ...common,
      upstreams: sandbox.urls.regions,
      serviceDomain,
      ...(opts.clockSkewMs !== undefined ? { clockSkewMs: opts.clockSkewMs } : {}),
    });
    stops.push(() => fronts.stop());
    const dns = await startServiceDns({
      serviceDomain,
      answer: () => [fronts.addresses[answerRegion(sandbox, fronts, resolverRegion)] as string],
      ttlSeconds: () => opts.ttlSeconds ?? sandbox.endpoint.settings().ttlSeconds,
      onError,
    });
    stops.push(() => dns.stop());
    const arc = await startArcFake({ ...common, controls: sandbox.endpoint });
    stops.push(() => arc.stop());
    const fis = await startFisFake({
      ...common,
      faults: sandboxFaults(sandbox, fronts, opts.lambdaDelayMs),
      ...(opts.maxExperimentMs !== undefined ? { maxDurationMs: opts.maxExperimentMs } : {}),
    });
    stops.push(() => fis.stop());
    const cloudwatch = await startCloudWatchFake({
      ...common,
      series: (since) => sandbox.replicator.lagSeries(since),
      tables: sandbox.tables,
    });
    stops.push(() => cloudwatch.stop());

    const outputs = stackOutputs({ sandbox, fronts, arc, fis, serviceDomain });
    const outputsDir =
      opts.outputsDir ?? join(mkdtempSync(join(tmpdir(), "aws-standin-")), "outputs");
    mkdirSync(outputsDir, { recursive: true });
    for (const [stack, out] of Object.entries(outputs)) {
      writeFileSync(join(outputsDir, `${stack}.json`), `${JSON.stringify(out, null, 2)}\n`);
    }
    let stopping: Promise<void> | undefined;
    return {
      sandbox,
      regions,
      serviceDomain,
      credentials,
      fronts,
      dns,
      arc,
      fis,
      cloudwatch,
      endpoints: { fis: fis.endpoint, cloudwatch: cloudwatch.endpoint, arc: arc.endpoints },
      templateIds: fis.templateIds,
      outputsDir,
      outputs,
      env: {
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: regions[0] as string,
        AWS_ENDPOINT_URL_FIS: fis.endpoint,
        AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
        DRILL_DNS_SERVER: dns.address,
      },
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * What `pulumi stack output --json` prints for each region stack (index.ts's exports), pointing
 * at the stand-ins: region1 is the primary, the last region's stack owns routing (ARC) and the
 * chaos experiments, as in Pulumi.region2.yaml.
 */
export function stackOutputs(args: {
  sandbox: Sandbox;
  fronts: ApiFronts;
  arc: ArcFake;
  fis: FisFake;
  serviceDomain: string;
}): Record<string, Record<string, unknown>> {
  const { sandbox, fronts, arc, fis, serviceDomain } = args;
  const regions = sandbox.regions;
  const tableArn = (r: string, k: TableKey) =>
    `arn:aws:dynamodb:${r}:${STAND_IN_ACCOUNT}:table/${sandbox.tables[k]}`;
  const byRegion = <T>(f: (r: string) => T) => Object.fromEntries(regions.map((r) => [r, f(r)]));
  const byTable = <T>(f: (k: TableKey) => T) =>
    Object.fromEntries(TABLE_KEYS.map((k) => [k, f(k)]));
  const out: Record<string, Record<string, unknown>> = {};
  regions.forEach((region, i) => {
    const apiId = `standin${i}${region.replace(/-/g, "")}`.slice(0, 10);
    const routingOwner = i === regions.length - 1;
    out[`region${i + 1}`] = {
      region,
      role: i === 0 ? "primary" : "secondary",
      consistency: "eventual",
      tableNames: { ...sandbox.tables },
      tableArns: byRegion((r) => byTable((k) => tableArn(r, k))),
      streamArns: byRegion((r) =>
        byTable((k) => `${tableArn(r, k)}/stream/2026-01-01T00:00:00.000`),
      ),
      apiId,
      stageName: DEFAULT_STAGE,
      stageArn: `arn:aws:apigateway:${region}::/restapis/${apiId}/stages/${DEFAULT_STAGE}`,
      executionArn: `arn:aws:execute-api:${region}:${STAND_IN_ACCOUNT}:${apiId}`,
      invokeUrl: fronts.invokeUrls[region],
      url: fronts.serviceUrl,
      routing: routingOwner ? "arc" : undefined,
      ...(routingOwner
        ? {
            serviceDomain,
            arcClusterArn: arc.clusterArn,
            arcClusterEndpoints: arc.endpoints,
            arcControlPanelArn: arc.controlPanelArn,
            routingControlArns: arc.routingControlArns,
            fisExperimentTemplateIds: fis.templateIds,
          }
        : {}),
    };
    // `pulumi stack output --json` leaves out outputs that are undefined.
    for (const [k, v] of Object.entries(out[`region${i + 1}`] as object)) {
      if (v === undefined) delete (out[`region${i + 1}`] as Record<string, unknown>)[k];
    }
  });
  return out;
}
