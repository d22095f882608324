/**
 * Cross-stack plumbing for index.ts: the stack references this program makes and the views of
 * region stacks built from them. Stateless at module scope: index.ts creates one `StackRefs` per
 * program run and passes it in.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegionalApi, RegionalTableMap } from "resilient-dynamo";
import { qualifyStackName, type SecondaryConfig, type StackConfig } from "./config";
import type { TableKey } from "../functions/tables";

/** The fully qualified name (org/project/stack) of a stack this program references. */
export function qualifiedStackName(name: string): string {
  return qualifyStackName(name, pulumi.getOrganization(), pulumi.getProject());
}

/**
 * An Output whose value is unknown, as a preview shows a value that only a deployment will tell.
 * Built with the SDK's Output constructor (exported at run time as `Output`), the way the SDK
 * itself makes unknown outputs.
 */
function unknownOutput<T>(): pulumi.Output<T> {
  const OutputImpl = pulumi.Output as unknown as new (
    ...args: Promise<unknown>[] | Set<unknown>[] | unknown[]
  ) => pulumi.Output<T>;
  return new OutputImpl(
    new Set(),
    Promise.resolve(undefined),
    Promise.resolve(false),
    Promise.resolve(false),
    Promise.resolve(new Set()),
  );
}

/** One StackReference per referenced stack, however many parts of the program read it. */
export class StackRefs {
  private readonly refs = new Map<string, pulumi.StackReference>();
  private readonly warned = new Set<string>();

  /**
   * An output of a referenced stack. `pulumi up` requires it. A preview of a stack whose
   * referenced stack has no outputs at all yet (created, never deployed: the first pull request
   * of a new project) gets an unknown value instead, with one warning per stack, so the preview
   * still shows what this stack would create. A deployed stack missing the output fails either way.
   */
  require<T>(stack: string, key: string): pulumi.Output<T> {
    const ref = this.get(stack);
    if (!pulumi.runtime.isDryRun()) return ref.requireOutput(key) as pulumi.Output<T>;
    return pulumi
      .all([ref.outputs, ref.getOutput(key)])
      .apply(([all, value]): T | pulumi.Output<T> => {
        if (Object.keys(all).length === 0) {
          this.warnUndeployed(stack);
          return unknownOutput<T>();
        }
        if (!(key in all)) {
          throw new Error(
            `stack ${qualifiedStackName(stack)} has no output ${key}: deploy it with this version of the program first (pulumi up -s ${stack})`,
          );
        }
        return value as T;
      }) as pulumi.Output<T>;
  }

  /** True in a preview when the stack has no outputs yet (see `require`); warns once. */
  async undeployedInPreview(stack: string): Promise<boolean> {
    if (!pulumi.runtime.isDryRun()) return false;
    // Every region stack exports region and apiId: neither means nothing is deployed there yet.
    const details = await Promise.all(
      ["region", "apiId"].map((k) => this.get(stack).getOutputDetails(k)),
    );
    const none = details.every((d) => d.value === undefined && d.secretValue === undefined);
    if (none) this.warnUndeployed(stack);
    return none;
  }

  private warnUndeployed(stack: string): void {
    if (this.warned.has(stack)) return;
    this.warned.add(stack);
    void pulumi.log.warn(
      `stack ${qualifiedStackName(stack)} has no outputs yet (not deployed): this preview shows its values ` +
        `as unknown and leaves out global routing; pulumi up refuses until you deploy it (pulumi up -s ${stack})`,
    );
  }

  get(name: string): pulumi.StackReference {
    const qualified = qualifiedStackName(name);
    let ref = this.refs.get(qualified);
    if (!ref) {
      ref = new pulumi.StackReference(`stack-${qualified.replace(/\//g, "-")}`, {
        name: qualified,
      });
      this.refs.set(qualified, ref);
    }
    return ref;
  }
}

/**
 * This stack's consistency, checked against every stack it reads (primaryStack, peerStacks): a
 * preview fails, naming both stacks, when one says otherwise. A peer deployed before the key
 * existed exports none and was eventual (the only mode then). A peer with no outputs yet (a
 * preview before its first deployment) is not checked; `pulumi up` requires its outputs anyway.
 */
export function agreedConsistency(refs: StackRefs, config: StackConfig): pulumi.Output<string> {
  const peers = [
    ...new Set([
      ...(config.role === "secondary" ? [config.primaryStack] : []),
      ...config.peerStacks,
    ]),
  ];
  const checks = peers.map(async (stack) => {
    if (await refs.undeployedInPreview(stack)) return;
    const details = await refs.get(stack).getOutputDetails("consistency");
    const theirs = String(details.value ?? details.secretValue ?? "eventual");
    if (theirs !== config.consistency) {
      throw new Error(
        `consistency differs across the stack set: stack ${qualifiedStackName(config.stack)} has ${config.consistency}, ` +
          `stack ${qualifiedStackName(stack)} has ${theirs}. Every region stack must set the same ` +
          `resilient-dynamo:consistency; a deployed set cannot change mode in place (see docs/consistency-migration.md)`,
      );
    }
  });
  return pulumi.output(Promise.all(checks).then(() => config.consistency));
}

/** The global tables as this region sees them: built here (primary) or read from the primary. */
export interface TableOutputs {
  readonly tableNames: pulumi.Output<Record<TableKey, string>>;
  readonly tableArns: pulumi.Output<RegionalTableMap>;
  readonly streamArns: pulumi.Output<RegionalTableMap>;
}

/** A secondary's tables: the primary stack's outputs, which must have replicas in this region. */
export function primaryTables(refs: StackRefs, config: SecondaryConfig): TableOutputs {
  const primaryName = qualifiedStackName(config.primaryStack);
  const tableArns = refs.require<RegionalTableMap>(config.primaryStack, "tableArns");
  return {
    tableNames: refs.require<Record<TableKey, string>>(config.primaryStack, "tableNames"),
    tableArns: tableArns.apply((arns) => {
      if (!arns[config.region]) {
        throw new Error(
          `stack ${primaryName} has no replicas in ${config.region} (it has ${Object.keys(arns).join(", ")}); ` +
            `add ${config.region} to its resilient-dynamo:replicaRegions and run pulumi up there first`,
        );
      }
      return arns;
    }),
    streamArns: refs.require<RegionalTableMap>(config.primaryStack, "streamArns"),
  };
}

/** What one region stack exports for the parts of the program that span regions. */
export interface RegionView {
  /** The stack's name as configured (plain, so it can name resources). */
  readonly stack: string;
  readonly region: pulumi.Output<string>;
  readonly apiId: pulumi.Output<string>;
  readonly stageName: pulumi.Output<string>;
  readonly stageArn: pulumi.Output<string>;
  readonly executionArn: pulumi.Output<string>;
  readonly invokeUrl: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;
  readonly functionArns: pulumi.Output<Record<string, string>>;
  readonly tableArns: pulumi.Output<Record<TableKey, string>>;
  readonly regionalDomainName: pulumi.Output<string | undefined>;
  readonly regionalZoneId: pulumi.Output<string | undefined>;
}

/** This stack's own region, from the components it built. */
export function selfView(config: StackConfig, api: RegionalApi, tables: TableOutputs): RegionView {
  return {
    stack: config.stack,
    region: pulumi.output(config.region),
    apiId: api.apiId,
    stageName: api.stageName,
    stageArn: api.stageArn,
    executionArn: api.executionArn,
    invokeUrl: api.invokeUrl,
    url: api.url,
    functionArns: api.functionArns as pulumi.Output<Record<string, string>>,
    tableArns: tables.tableArns.apply((arns) => arns[config.region] as Record<TableKey, string>),
    regionalDomainName: api.regionalDomainName,
    regionalZoneId: api.regionalZoneId,
  };
}

/** Another region stack, from its outputs. */
export function peerView(refs: StackRefs, stack: string): RegionView {
  const ref = refs.get(stack);
  const out = <T>(key: string) => refs.require<T>(stack, key);
  const region = out<string>("region");
  return {
    stack,
    region,
    apiId: out("apiId"),
    stageName: out("stageName"),
    stageArn: out("stageArn"),
    executionArn: out("executionArn"),
    invokeUrl: out("invokeUrl"),
    url: out("url"),
    functionArns: out("functionArns"),
    tableArns: pulumi
      .all([region, out<RegionalTableMap>("tableArns")])
      .apply(([r, arns]) => arns[r] as Record<TableKey, string>),
    regionalDomainName: ref.getOutput("regionalDomainName") as pulumi.Output<string | undefined>,
    regionalZoneId: ref.getOutput("regionalZoneId") as pulumi.Output<string | undefined>,
  };
}

/** What a peer stack must export for routing, read as plain values (they decide resources). */
export interface PeerFacts {
  readonly view: RegionView;
  readonly region: string;
  readonly regionalDomainName: string;
  readonly regionalZoneId: string;
  readonly vpcId: string | undefined;
}

/**
 * A peer's routing facts, checked: deployed, not owning routing itself, serving the same service
 * name on a custom domain, and (private zone) exporting its VPC.
 */
export async function readPeer(
  refs: StackRefs,
  view: RegionView,
  config: StackConfig,
): Promise<PeerFacts> {
  const ref = refs.get(view.stack);
  const name = qualifiedStackName(view.stack);
  const value = async (key: string): Promise<unknown> => {
    const details = await ref.getOutputDetails(key);
    return details.value ?? details.secretValue;
  };
  const [region, url, regionalDomainName, regionalZoneId, vpcId, routing] = await Promise.all(
    ["region", "url", "regionalDomainName", "regionalZoneId", "vpcId", "routing"].map(value),
  );
  if (typeof region !== "string") {
    throw new Error(
      `stack ${name} has no output region: deploy it first (pulumi up -s ${view.stack}), then this stack, which owns routing`,
    );
  }
  if (routing !== undefined && routing !== "none") {
    throw new Error(
      `stack ${name} owns routing too (routing ${String(routing)}): one stack owns the service name's records; ` +
        `set resilient-dynamo:routing none there or here`,
    );
  }
  if (typeof regionalDomainName !== "string" || typeof regionalZoneId !== "string") {
    throw new Error(
      `stack ${name} exports no regionalDomainName: it has no custom domain for routing to alias. ` +
        `Set resilient-dynamo:domainName ${config.domainName} and resilient-dynamo:hostedZoneId in its config ` +
        `(the same as this stack's) and run pulumi up -s ${view.stack}`,
    );
  }
  if (typeof url !== "string" || !url.startsWith(`https://${config.domainName}/`)) {
    throw new Error(
      `stack ${name} serves ${String(url)}, not https://${config.domainName}/: every region must serve the ` +
        `same service name; set its resilient-dynamo:domainName to ${config.domainName}`,
    );
  }
  if ((config.zoneType ?? "public") === "private" && typeof vpcId !== "string") {
    throw new Error(
      `stack ${name} exports no vpcId for the private zone: set resilient-dynamo:zoneType private in its ` +
        `config (it then creates a VPC, or set resilient-dynamo:vpcId) and run pulumi up -s ${view.stack}`,
    );
  }
  return {
    view,
    region,
    regionalDomainName,
    regionalZoneId,
    vpcId: typeof vpcId === "string" ? vpcId : undefined,
  };
}
