/**
 * Where `npm run arc` finds the routing controls it acts on and the cluster endpoints it reaches
 * them through: the routing stack's outputs (`pulumi stack output --json`) or the --endpoint and
 * --control flags, each checked (https endpoints, region names, routing control ARNs) before any
 * call is made. Every mistake is a UsageError naming the file or flag.
 */
import type { ClusterEndpoint } from "../local/arc-cluster";
import { UsageError } from "./cli-args";
import { REGION_PATTERN } from "resilient-dynamo/regions";

/** The routing controls to act on and the endpoints to reach them through. */
export interface ArcTarget {
  readonly endpoints: readonly ClusterEndpoint[];
  /** Region -> routing control ARN, in the order the stack (or the flags) listed them. */
  readonly controls: Readonly<Record<string, string>>;
  readonly controlPanelArn?: string;
}

const ROUTING_CONTROL_ARN =
  /^arn:aws[a-z-]*:route53-recovery-control::\d{12}:controlpanel\/[A-Za-z0-9]+\/routingcontrol\/[A-Za-z0-9]+$/;

function checkEndpoint(value: ClusterEndpoint, where: string): ClusterEndpoint {
  let url: URL;
  try {
    url = new URL(value.endpoint);
  } catch {
    throw new UsageError(`${where}: endpoint ${JSON.stringify(value.endpoint)} is not a URL`);
  }
  if (url.protocol !== "https:") {
    throw new UsageError(`${where}: endpoint ${value.endpoint} must be an https URL`);
  }
  if (!REGION_PATTERN.test(value.region)) {
    throw new UsageError(
      `${where}: region ${JSON.stringify(value.region)} is not an AWS region name such as us-east-1`,
    );
  }
  return { endpoint: value.endpoint, region: value.region };
}

function checkControls(controls: Record<string, string>, where: string): Record<string, string> {
  const entries = Object.entries(controls);
  if (entries.length === 0) throw new UsageError(`${where}: no routing controls`);
  for (const [region, arn] of entries) {
    if (!REGION_PATTERN.test(region)) {
      throw new UsageError(
        `${where}: ${JSON.stringify(region)} is not an AWS region name such as us-east-1`,
      );
    }
    if (typeof arn !== "string" || !ROUTING_CONTROL_ARN.test(arn)) {
      throw new UsageError(
        `${where}: ${region} has ${JSON.stringify(arn)}, not a routing control ARN ` +
          "(arn:aws:route53-recovery-control::ACCOUNT:controlpanel/ID/routingcontrol/ID)",
      );
    }
  }
  return { ...controls };
}

/** `URL@REGION` from --endpoint. */
export function parseEndpointFlag(raw: string): ClusterEndpoint {
  const at = raw.lastIndexOf("@");
  if (at <= 0 || at === raw.length - 1) {
    throw new UsageError(`--endpoint must be URL@REGION: got ${raw}`);
  }
  return checkEndpoint({ endpoint: raw.slice(0, at), region: raw.slice(at + 1) }, "--endpoint");
}

/** The target from --endpoint and --control flags. */
export function targetFromFlags(
  endpoints: readonly string[],
  controls: readonly string[],
): ArcTarget {
  if (endpoints.length === 0) throw new UsageError("--endpoint URL@REGION: give at least one");
  if (controls.length === 0) throw new UsageError("--control REGION=ARN: give one per region");
  const byRegion: Record<string, string> = {};
  for (const raw of controls) {
    const eq = raw.indexOf("=");
    if (eq <= 0) throw new UsageError(`--control must be REGION=ARN: got ${raw}`);
    const region = raw.slice(0, eq);
    if (byRegion[region] !== undefined)
      throw new UsageError(`--control: region ${region} given twice`);
    byRegion[region] = raw.slice(eq + 1);
  }
  return {
    endpoints: endpoints.map(parseEndpointFlag),
    controls: checkControls(byRegion, "--control"),
  };
}

/**
 * The target from the routing stack's outputs (`pulumi stack output --json`): keys
 * `arcClusterEndpoints` ([{endpoint, region}]), `routingControlArns` ({region: ARN}), and
 * optionally `arcControlPanelArn` and `routing` (must be `arc` when present).
 */
export function targetFromOutputs(text: string, file: string): ArcTarget {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `${file} is not JSON (${(err as Error).message}); write it with ` +
        "pulumi stack output --json -s region2 > routing.json",
    );
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new UsageError(`${file}: expected a JSON object of stack outputs`);
  }
  const outputs = doc as Record<string, unknown>;
  const routing = outputs["routing"];
  if (routing !== undefined && routing !== "arc") {
    throw new UsageError(
      `${file}: routing is ${JSON.stringify(routing)}, not "arc": this stack has no routing controls` +
        (routing === "healthcheck"
          ? " (with healthcheck routing, Route 53 health checks move traffic on their own)"
          : ""),
    );
  }
  const missing = ["arcClusterEndpoints", "routingControlArns"].filter(
    (k) => outputs[k] === undefined,
  );
  if (missing.length > 0) {
    throw new UsageError(
      `${file}: no ${missing.join(" and no ")}; is it the output of the stack that owns routing ` +
        "(with routing arc), e.g. pulumi stack output --json -s region2?",
    );
  }
  const endpoints = outputs["arcClusterEndpoints"];
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw new UsageError(
      `${file}: arcClusterEndpoints must be a non-empty list of {endpoint, region}`,
    );
  }
  const checked = endpoints.map((e: unknown, i) => {
    const where = `${file}: arcClusterEndpoints[${i}]`;
    if (typeof e !== "object" || e === null)
      throw new UsageError(`${where}: expected {endpoint, region}`);
    const { endpoint, region } = e as Record<string, unknown>;
    if (typeof endpoint !== "string" || typeof region !== "string") {
      throw new UsageError(
        `${where}: expected {endpoint, region} strings: got ${JSON.stringify(e)}`,
      );
    }
    return checkEndpoint({ endpoint, region }, where);
  });
  const controls = outputs["routingControlArns"];
  if (typeof controls !== "object" || controls === null || Array.isArray(controls)) {
    throw new UsageError(`${file}: routingControlArns must be an object of region -> ARN`);
  }
  const panel = outputs["arcControlPanelArn"];
  return {
    endpoints: checked,
    controls: checkControls(controls as Record<string, string>, `${file}: routingControlArns`),
    ...(typeof panel === "string" ? { controlPanelArn: panel } : {}),
  };
}
