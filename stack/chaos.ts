/**
 * Fault injection for index.ts: each region stack prepares its functions for FIS Lambda actions
 * (`fisLambdaExtension`), and the stack that owns routing builds the FIS experiment templates
 * over every routed region (`chaosExperiments`), reading the peers' FIS buckets and alarms.
 */
import * as pulumi from "@pulumi/pulumi";
import { ChaosExperiments, FisLambdaTarget, type ChaosRegionArgs } from "resilient-dynamo";
import { kmsKeysByRegion, type StackConfig } from "./config";
import { qualifiedStackName, type RegionView, type StackRefs } from "./references";

/**
 * The service alarms (ServiceAlarms keys) that stop every experiment in their region: more than
 * api5xxRatePercent of the region's API requests failing for alarmPeriods minutes means
 * customers still reach the faulted region (failover has not moved them) or a fault hurts a
 * region it should not; FIS quota allows five.
 */
export const STOP_ALARM_KEYS = ["api-5xx-rate"] as const;

/** The stop alarm ARNs of one region, from its stack's `alarmArns` output. */
export function stopAlarmArns(stack: string, alarmArns: Record<string, string>): string[] {
  return STOP_ALARM_KEYS.map((key) => {
    const arn = alarmArns[key];
    if (!arn) {
      throw new Error(
        `stack ${stack} has no alarm ${key} in its alarmArns output: deploy it with this version of the program first (pulumi up -s ${stack})`,
      );
    }
    return arn;
  });
}

/** This region's FIS configuration bucket and extension layer, when `fisLambdaExtension` is on. */
export function fisLambdaTarget(
  config: StackConfig,
  tags: Record<string, string>,
): FisLambdaTarget | undefined {
  if (!config.fisLambdaExtension) return undefined;
  return new FisLambdaTarget(`fis-lambda-${config.region}`, {
    region: config.region,
    kmsKeyArn: kmsKeysByRegion(config)?.[config.region],
    tags,
  });
}

export interface ChaosArgs {
  readonly config: StackConfig;
  readonly tags: Record<string, string>;
  readonly refs: StackRefs;
  /** This region first, then every peer region. */
  readonly regions: readonly RegionView[];
  /** This stack's service alarms (ServiceAlarms.alarmArns). */
  readonly alarmArns: pulumi.Output<Record<string, string>>;
  /** This stack's FIS configuration bucket. */
  readonly fisTarget: FisLambdaTarget | undefined;
}

const values = <K extends string>(m: pulumi.Output<Record<K, string>>) =>
  m.apply((o) => Object.values(o) as string[]);

async function composeChaos(args: ChaosArgs): Promise<ChaosExperiments | undefined> {
  const { config, refs, regions } = args;
  const self = regions[0] as RegionView;
  if (!args.fisTarget) throw new Error("chaosExperiments needs fisLambdaExtension on this stack");
  // A preview before a peer is deployed: nothing to fault there yet (StackRefs warns).
  const undeployed = await Promise.all(
    regions.slice(1).map((view) => refs.undeployedInPreview(view.stack)),
  );
  if (undeployed.some(Boolean)) return undefined;
  const members: ChaosRegionArgs[] = [
    {
      region: config.region,
      tableArns: values(self.tableArns),
      functionArns: values(self.functionArns),
      fisConfigBucketArn: args.fisTarget.bucketArn,
      stopAlarmArns: [args.alarmArns.apply((a) => stopAlarmArns(config.stack, a)[0] as string)],
    },
  ];
  for (const view of regions.slice(1)) {
    const ref = refs.get(view.stack);
    const value = async (key: string): Promise<unknown> => {
      const d = await ref.getOutputDetails(key);
      return d.value ?? d.secretValue;
    };
    const [region, bucket] = await Promise.all([value("region"), value("fisConfigBucketArn")]);
    const name = qualifiedStackName(view.stack);
    if (typeof region !== "string") {
      throw new Error(
        `stack ${name} has no output region: deploy it first (pulumi up -s ${view.stack}), then this stack`,
      );
    }
    if (typeof bucket !== "string") {
      throw new Error(
        `stack ${name} exports no fisConfigBucketArn, so FIS cannot reach its functions: set resilient-dynamo:fisLambdaExtension true in its config ` +
          `and run pulumi up -s ${view.stack} before turning on resilient-dynamo:chaosExperiments here`,
      );
    }
    const alarms = refs.require<Record<string, string>>(view.stack, "alarmArns");
    members.push({
      region,
      tableArns: values(view.tableArns),
      functionArns: values(view.functionArns),
      fisConfigBucketArn: bucket,
      stopAlarmArns: STOP_ALARM_KEYS.map((_, i) =>
        alarms.apply((a) => stopAlarmArns(view.stack, a)[i] as string),
      ),
    });
  }
  const keys = kmsKeysByRegion(config);
  return new ChaosExperiments("chaos", {
    namePrefix: config.namePrefix,
    regions: members.map((m) => ({ ...m, logKmsKeyArn: keys?.[m.region] })),
    logRetentionDays: config.logRetentionDays,
    strongConsistency: config.consistency === "strong",
    tags: args.tags,
  });
}

/**
 * The FIS experiment template ids by fault and region (`fisExperimentTemplateIds`), on the stack
 * whose config sets chaosExperiments; undefined (no stack output) otherwise.
 */
export function chaosExperiments(
  args: ChaosArgs,
): pulumi.Output<Record<string, Record<string, string>> | undefined> | undefined {
  if (!args.config.chaosExperiments) return undefined;
  const parts = composeChaos(args);
  return pulumi.output(parts.then((c) => c?.experimentTemplateIds)) as pulumi.Output<
    Record<string, Record<string, string>> | undefined
  >;
}
