/**
 * `DrillTarget` for deployed stacks (`npm run drill -- --target aws`): the service name through
 * each client's own DNS cache and SigV4a, the regions' invoke URLs with SigV4, the ARC cluster's
 * data plane for `switch`, FIS experiments for `region-loss` and `replication-pause`, and
 * replication seen by probes and CloudWatch. `connectAws` checks everything it can before any
 * change and refuses, naming what is wrong; every fault it causes is in a ledger that `undoAll`
 * empties (the CLI calls it at the end, on failure and on Ctrl-C).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { FisClient } from "@aws-sdk/client-fis";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { ArcCluster } from "../../arc-cluster";
import type { Scenario } from "../report";
import type { DrillTarget, RoutingControlClient, TargetSettings } from "../target";
import { arcControls } from "./controls";
import { awsEndpoints } from "./endpoints";
import { FaultLedger, fisFaultInjector, FisFaults } from "./faults";
import { fisTemplate, loadOutputs, type DeployedOutputs } from "./outputs";
import { awsReplication, Prober } from "./replication";
import { systemDnsServer, TtlResolver, type DnsServer } from "./resolver";
import type { CredentialSource } from "./signing";

export interface AwsTargetOptions {
  /** `--outputs`: directories or files of `pulumi stack output --json`. */
  readonly outputs: readonly string[];
  readonly scenario: Scenario;
  readonly faultRegion?: string | undefined;
  /** @default the system's first name server */
  readonly dnsServer?: DnsServer | undefined;
  readonly fisEndpoint?: string | undefined;
  readonly cloudWatchEndpoint?: string | undefined;
  /** @default the SDK's default chain */
  readonly credentials?: CredentialSource;
  /** Clients for tests (aws-sdk-client-mock); built from the options otherwise. */
  readonly fisClient?: (region: string) => FisClient;
  readonly cloudWatchClients?: ReadonlyMap<string, CloudWatchClient>;
  /** @default 5000 */
  readonly probeEveryMs?: number;
  readonly onNote?: (line: string) => void;
}

export interface AwsDrillTarget extends DrillTarget {
  readonly outputs: DeployedOutputs;
  readonly ledger: FaultLedger;
  /** Undoes every fault still in place; returns what could not be undone and how to undo it. */
  undoAll(): Promise<string[]>;
  /** Stops the probes. */
  close(): Promise<void>;
}

async function checkCredentials(source: CredentialSource): Promise<void> {
  try {
    const c = typeof source === "function" ? await source() : source;
    if (!c?.accessKeyId) throw new Error("no access key id");
  } catch (err) {
    throw new Error(
      `no AWS credentials found by the SDK's default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, ...): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** The templates a scenario starts, by the region each lives in. */
function fisTemplates(
  outputs: DeployedOutputs,
  scenario: Scenario,
  faultRegion: string,
): [string, string][] {
  const regions = outputs.regions.map((r) => r.region);
  if (scenario === "switch") return [];
  if (scenario === "region-loss")
    return [[faultRegion, fisTemplate(outputs, scenario, faultRegion)]];
  return regions.map((r) => [r, fisTemplate(outputs, scenario, r)]);
}

/** Checks the deployment and connects; refuses before any change when something is wrong. */
export async function connectAws(o: AwsTargetOptions): Promise<AwsDrillTarget> {
  const outputs = loadOutputs(o.outputs);
  const regions = outputs.regions.map((r) => r.region);
  const faultRegion = o.faultRegion ?? (regions[0] as string);
  if (!regions.includes(faultRegion))
    throw new Error(
      `--region ${faultRegion} is not one of the deployed regions: ${regions.join(", ")}`,
    );
  const templates = fisTemplates(outputs, o.scenario, faultRegion);
  const credentials = o.credentials ?? defaultProvider();
  await checkCredentials(credentials);
  const note = o.onNote ?? (() => undefined);

  const ledger = new FaultLedger();
  const controls = await routingControlsAllOn(outputs, ledger, credentials, note);
  const fis = new FisFaults({
    client: o.fisClient ?? fisClients(credentials, o.fisEndpoint),
    ledger,
  });
  for (const [region, template] of templates) {
    const live = await fis.liveExperiments(region, [template]);
    if (live.length > 0)
      throw new Error(`an experiment is already running: ${live.join(", ")}; stop it first`);
  }
  const dnsServer = o.dnsServer ?? systemDnsServer();
  const ttlSeconds = await serviceTtl(outputs.serviceDomain, dnsServer);

  const endpoints = awsEndpoints({ outputs, credentials, dnsServer, onNote: note });
  const prober = new Prober({ endpoints, runId: Date.now().toString(36) });
  const replication = awsReplication({
    endpoints,
    prober,
    cloudWatch: {
      clients: o.cloudWatchClients ?? cloudWatchClients(regions, credentials, o.cloudWatchEndpoint),
      tableNames: new Map(outputs.regions.map((r) => [r.region, r.tableNames])),
    },
    onNote: note,
  });
  prober.start(o.probeEveryMs ?? 5_000);

  return {
    name: `aws ${outputs.serviceDomain}`,
    outputs,
    ledger,
    endpoints,
    controls,
    faults: fisFaultInjector({ fis, outputs, faultRegion, note }),
    replication,
    settings: async (): Promise<TargetSettings> => ({
      ttlSeconds: endpoints.lastTtlSeconds() ?? ttlSeconds,
      policy: `${outputs.routing} routing controls`,
      lag: "deployed (probes and CloudWatch)",
    }),
    undoAll: () => ledger.undoAll(),
    close: () => prober.stop(),
  };
}

/**
 * The ARC routing controls, through the cluster's data plane; refuses when one is already Off
 * (a drill starts from every region serving).
 */
async function routingControlsAllOn(
  outputs: DeployedOutputs,
  ledger: FaultLedger,
  credentials: CredentialSource,
  note: (line: string) => void,
): Promise<RoutingControlClient> {
  const cluster = new ArcCluster(outputs.arcClusterEndpoints, {
    connectTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
    warn: note,
    credentials,
  });
  const controls = arcControls({
    cluster,
    controls: outputs.routingControlArns,
    ledger,
    outputsArg: outputs.routingFile,
  });
  const states = await controls.get();
  const off = Object.entries(states).filter(([, s]) => s !== "On");
  if (off.length > 0) {
    throw new Error(
      `routing control already Off: ${off.map(([r]) => r).join(", ")}; turn it on first (npm run arc -- set REGION on --outputs ${outputs.routingFile})`,
    );
  }
  return controls;
}

/** A FIS client per region, made when first asked for. */
function fisClients(
  credentials: CredentialSource,
  endpoint: string | undefined,
): (region: string) => FisClient {
  const clients = new Map<string, FisClient>();
  return (region) => {
    let c = clients.get(region);
    if (!c) {
      c = new FisClient({ region, credentials, ...(endpoint ? { endpoint } : {}) });
      clients.set(region, c);
    }
    return c;
  };
}

/** A CloudWatch client for each region. */
function cloudWatchClients(
  regions: readonly string[],
  credentials: CredentialSource,
  endpoint: string | undefined,
): Map<string, CloudWatchClient> {
  return new Map(
    regions.map((r) => [
      r,
      new CloudWatchClient({ region: r, credentials, ...(endpoint ? { endpoint } : {}) }),
    ]),
  );
}

/** The service name's TTL, as `dnsServer` answers it; refuses when the name does not resolve. */
async function serviceTtl(serviceDomain: string, dnsServer: DnsServer): Promise<number> {
  try {
    return (await new TtlResolver(dnsServer).resolve(serviceDomain)).ttlSeconds;
  } catch (err) {
    throw new Error(
      `the service name ${serviceDomain} does not resolve at ${dnsServer.host}:${dnsServer.port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
