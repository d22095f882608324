/**
 * The IAM policy an operator needs to run `npm run drill -- --target aws` against deployed
 * stacks, built from their `pulumi stack output --json`: exact routing control ARNs, exact FIS
 * experiment templates, exact APIs. One list (DRILL_PERMISSIONS) names every action the drill
 * calls and why; the policy is made from it and nothing else.
 *
 *   node --import tsx tools/drill-permissions.ts region1.json region2.json
 *
 * Sources: Service Authorization Reference pages for route53-recovery-cluster, fis, cloudwatch
 * and execute-api (docs/drill-your-deployment-permissions.md cites them).
 */
import { readFileSync } from "node:fs";

/** What the drill reads from the stacks' outputs. */
export interface DrillStackOutputs {
  readonly region?: string;
  readonly executionArn?: string;
  readonly stageName?: string;
  readonly routingControlArns?: Record<string, string>;
  readonly fisExperimentTemplateIds?: Record<string, Record<string, string>>;
}

export interface DrillPermission {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly why: string;
  /** The resources, from every stack's outputs; `*` only where IAM has no resource-level permission. */
  readonly resources: (stacks: readonly DrillStackOutputs[]) => string[];
}

function accountOf(stacks: readonly DrillStackOutputs[]): { account: string; partition: string } {
  for (const s of stacks) {
    const m = /^arn:(aws[a-z-]*):execute-api:[a-z0-9-]+:(\d{12}):/.exec(s.executionArn ?? "");
    if (m) return { partition: m[1] as string, account: m[2] as string };
  }
  throw new Error("no stack output executionArn: pass the outputs of every region stack");
}

function controls(stacks: readonly DrillStackOutputs[]): string[] {
  const arns = stacks.flatMap((s) => Object.values(s.routingControlArns ?? {}));
  if (arns.length === 0) {
    throw new Error(
      "no stack output routingControlArns: pass the outputs of the routing stack (routing arc)",
    );
  }
  return [...new Set(arns)].sort();
}

function templates(stacks: readonly DrillStackOutputs[]): string[] {
  const { account, partition } = accountOf(stacks);
  const arns = stacks.flatMap((s) =>
    Object.values(s.fisExperimentTemplateIds ?? {}).flatMap((byRegion) =>
      Object.entries(byRegion).map(
        ([region, id]) => `arn:${partition}:fis:${region}:${account}:experiment-template/${id}`,
      ),
    ),
  );
  if (arns.length === 0) {
    throw new Error(
      "no stack output fisExperimentTemplateIds: pass the routing stack's outputs, with resilient-dynamo:chaosExperiments true",
    );
  }
  return [...new Set(arns)].sort();
}

function templateRegions(stacks: readonly DrillStackOutputs[]): string[] {
  return [...new Set(templates(stacks).map((arn) => arn.split(":")[3] as string))].sort();
}

function experiments(stacks: readonly DrillStackOutputs[]): string[] {
  const { account, partition } = accountOf(stacks);
  return templateRegions(stacks).map((r) => `arn:${partition}:fis:${r}:${account}:experiment/*`);
}

/** Every AWS action `npm run drill -- --target aws` calls, and on what. */
export const DRILL_PERMISSIONS: readonly DrillPermission[] = [
  {
    sid: "ReadAndFlipRoutingControls",
    actions: [
      "route53-recovery-cluster:GetRoutingControlState",
      "route53-recovery-cluster:UpdateRoutingControlState",
      "route53-recovery-cluster:UpdateRoutingControlStates",
    ],
    why: "switch: read every control before it starts (refuses when one is Off), flip the fault region's control, flip it back",
    resources: controls,
  },
  {
    sid: "ListRoutingControls",
    actions: ["route53-recovery-cluster:ListRoutingControls"],
    why: "find the cluster's controls through each endpoint in turn (no resource-level permission)",
    resources: () => ["*"],
  },
  {
    sid: "StartDrillExperiments",
    actions: ["fis:StartExperiment"],
    why: "region-loss and replication-pause: start an experiment from one of the stack's templates (creates an experiment resource)",
    resources: (s) => [...templates(s), ...experiments(s)],
  },
  {
    sid: "WatchAndStopDrillExperiments",
    actions: ["fis:GetExperiment", "fis:StopExperiment"],
    why: "follow the experiment it started and stop it at the end, on Ctrl-C or when the drill fails",
    resources: experiments,
  },
  {
    sid: "FindRunningExperiments",
    actions: ["fis:ListExperiments"],
    why: "refuse to start while an experiment is already running (no resource-level permission)",
    resources: () => ["*"],
  },
  {
    sid: "ReadReplicationLatency",
    actions: ["cloudwatch:GetMetricData"],
    why: "ReplicationLatency of every table toward every region (no resource-level permission)",
    resources: () => ["*"],
  },
  {
    sid: "CallTheApi",
    actions: ["execute-api:Invoke"],
    why: "the load and the write-then-read probes, signed, on every region's stage",
    resources: (stacks) => {
      const arns = stacks
        .filter((s) => s.executionArn && s.stageName)
        .map((s) => `${s.executionArn}/${s.stageName}/*/*`);
      if (arns.length === 0) throw new Error("no stack output executionArn and stageName");
      return [...new Set(arns)].sort();
    },
  },
];

/** Every action the drill calls. */
export const DRILL_ACTIONS: readonly string[] = DRILL_PERMISSIONS.flatMap((p) => p.actions);

/** The operator's policy document for these stacks' outputs. */
export function drillPolicy(stacks: readonly DrillStackOutputs[]): {
  Version: "2012-10-17";
  Statement: { Sid: string; Effect: "Allow"; Action: string[]; Resource: string[] }[];
} {
  return {
    Version: "2012-10-17",
    Statement: DRILL_PERMISSIONS.map((p) => ({
      Sid: p.sid,
      Effect: "Allow",
      Action: [...p.actions],
      Resource: p.resources(stacks),
    })),
  };
}

function main(files: readonly string[]): number {
  if (files.length === 0) {
    process.stderr.write(
      "usage: node --import tsx tools/drill-permissions.ts <pulumi stack output --json file>...\n" +
        "Prints the IAM policy `npm run drill -- --target aws` needs for those stacks.\n",
    );
    return 2;
  }
  try {
    const stacks = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as DrillStackOutputs);
    process.stdout.write(`${JSON.stringify(drillPolicy(stacks), null, 2)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`drill-permissions: ${(err as Error).message}\n`);
    return 2;
  }
}

if (process.argv[1] && /drill-permissions\.ts$/.test(process.argv[1])) {
  process.exitCode = main(process.argv.slice(2));
}
