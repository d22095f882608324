/**
 * The deployed stacks, as the drill reads them: `pulumi stack output --json` of every region stack
 * (one JSON file each, or a directory of them). Validated with zod; a missing or malformed output
 * is named with the file it should be in, before anything is changed.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { REGION_PATTERN } from "resilient-dynamo/regions";
import { z } from "zod";

/** The scenarios that start FIS experiments, and the template (fault key) each starts. */
export const FIS_FAULTS = {
  "region-loss": "lambda-errors",
  "replication-pause": "replication-pause",
} as const;
export type FisScenario = keyof typeof FIS_FAULTS;

const regionName = z.string().regex(REGION_PATTERN, "is not an AWS region name such as us-east-1");
const httpUrl = z.url({ protocol: /^https?$/ });

/** One stack's outputs: only what the drill reads; anything else is ignored. */
const stackOutputs = z.object({
  region: regionName,
  invokeUrl: httpUrl,
  url: httpUrl.optional(),
  /** The custom domain's regional target: its addresses tell which region DNS chose. */
  regionalDomainName: z.string().min(1).nullish(),
  tableNames: z.record(z.string(), z.string().min(1)).optional(),
  alarmArns: z.unknown().optional(),
  routing: z.string().optional(),
  serviceDomain: z.string().min(1).optional(),
  arcClusterEndpoints: z
    .array(z.object({ endpoint: httpUrl, region: regionName }))
    .min(1)
    .optional(),
  routingControlArns: z.record(regionName, z.string().startsWith("arn:")).optional(),
  fisExperimentTemplateIds: z
    .record(z.string(), z.record(regionName, z.string().min(1)))
    .optional(),
});
type StackOutputs = z.infer<typeof stackOutputs>;

export interface RegionOutputs {
  readonly region: string;
  /** The stage's own invoke URL: requests to it are signed for this region. */
  readonly invokeUrl: string;
  readonly tableNames: Readonly<Record<string, string>>;
  readonly regionalDomainName?: string | undefined;
}

export interface DeployedOutputs {
  /** Regions in the order of their routing controls (the first is the failover primary). */
  readonly regions: readonly RegionOutputs[];
  /** Base URL of the service name (the name DNS moves), with the base path. */
  readonly globalUrl: string;
  readonly serviceDomain: string;
  readonly routing: string;
  readonly arcClusterEndpoints: readonly { endpoint: string; region: string }[];
  readonly routingControlArns: Readonly<Record<string, string>>;
  /** The file holding the routing stack's outputs (what `npm run arc -- --outputs` reads). */
  readonly routingFile: string;
  /** Fault -> region the fault hits -> template id; absent when no stack deploys ChaosExperiments. */
  readonly fisExperimentTemplateIds: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The files `--outputs` names: each JSON file of a directory, or the files themselves. */
export function outputFiles(specs: readonly string[]): string[] {
  const files: string[] = [];
  for (const spec of specs) {
    let isDir: boolean;
    try {
      isDir = statSync(spec).isDirectory();
    } catch {
      throw new Error(`--outputs ${spec}: no such file or directory`);
    }
    if (!isDir) {
      files.push(spec);
      continue;
    }
    const inDir = readdirSync(spec)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => path.join(spec, f));
    if (inDir.length === 0) throw new Error(`--outputs ${spec}: no .json files in it`);
    files.push(...inDir);
  }
  return files;
}

function parseStack(file: string, text: string): StackOutputs {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${file} is not JSON (${(err as Error).message}); write it with pulumi stack output --json -s STACK > ${file}`,
      { cause: err },
    );
  }
  const parsed = stackOutputs.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(top)"} ${i.message}`)
      .join("; ");
    throw new Error(`${file}: not the outputs of a region stack: ${issues}`);
  }
  return parsed.data;
}

/** Combines the stacks' outputs; throws naming every output the drill needs and did not get. */
export function combineOutputs(stacks: readonly { file: string; outputs: StackOutputs }[]) {
  const byRegion = new Map<string, StackOutputs>();
  for (const { file, outputs } of stacks) {
    if (byRegion.has(outputs.region))
      throw new Error(`${file}: a second stack for region ${outputs.region}`);
    byRegion.set(outputs.region, outputs);
  }
  const owner = stacks.find((s) => s.outputs.routingControlArns !== undefined);
  const missing: string[] = [];
  if (!owner) {
    missing.push(
      "routingControlArns and arcClusterEndpoints (outputs of the stack that owns routing, with routing arc)",
    );
  }
  const o = owner?.outputs;
  if (o && o.arcClusterEndpoints === undefined) missing.push(`arcClusterEndpoints (${owner.file})`);
  const serviceDomain = stacks.find((s) => s.outputs.serviceDomain)?.outputs.serviceDomain;
  if (serviceDomain === undefined) missing.push("serviceDomain (the stack that owns routing)");
  if (o?.routing !== undefined && o.routing !== "arc") {
    missing.push(`routing arc (${owner?.file} has routing ${o.routing}: no routing controls)`);
  }
  const controls = o?.routingControlArns ?? {};
  for (const region of Object.keys(controls)) {
    if (!byRegion.has(region)) missing.push(`the outputs of ${region}'s stack (its invokeUrl)`);
  }
  if (missing.length > 0) throw new Error(`missing stack outputs: ${missing.join("; ")}`);
  const regions = Object.keys(controls).map((region) => {
    const s = byRegion.get(region) as StackOutputs;
    return {
      region,
      invokeUrl: s.invokeUrl,
      tableNames: s.tableNames ?? {},
      ...(s.regionalDomainName ? { regionalDomainName: s.regionalDomainName } : {}),
    };
  });
  const domain = serviceDomain as string;
  const custom = stacks.map((s) => s.outputs.url).find((u) => u && new URL(u).hostname === domain);
  const chaos = stacks.find((s) => s.outputs.fisExperimentTemplateIds !== undefined);
  return {
    regions,
    globalUrl: (custom ?? `https://${domain}`).replace(/\/+$/, ""),
    serviceDomain: domain,
    routing: o?.routing ?? "arc",
    arcClusterEndpoints: o?.arcClusterEndpoints ?? [],
    routingControlArns: controls,
    routingFile: owner?.file ?? "",
    fisExperimentTemplateIds: chaos?.outputs.fisExperimentTemplateIds ?? {},
  } satisfies DeployedOutputs;
}

/** Reads and checks `--outputs`. */
export function loadOutputs(
  specs: readonly string[],
  read: (file: string) => string = (f) => readFileSync(f, "utf8"),
): DeployedOutputs {
  if (specs.length === 0) throw new Error("--target aws needs --outputs DIR|FILE");
  const stacks = outputFiles(specs).map((file) => ({
    file,
    outputs: parseStack(file, read(file)),
  }));
  return combineOutputs(stacks);
}

/** The template a scenario starts for `region`; throws naming the output when it is missing. */
export function fisTemplate(
  outputs: DeployedOutputs,
  scenario: FisScenario,
  region: string,
): string {
  const fault = FIS_FAULTS[scenario];
  const id = outputs.fisExperimentTemplateIds[fault]?.[region];
  if (id === undefined) {
    throw new Error(
      `missing stack output fisExperimentTemplateIds.${fault}.${region}: the ${scenario} scenario ` +
        "starts that FIS experiment (set chaosExperiments: true on the stack that owns routing and pulumi up)",
    );
  }
  return id;
}
