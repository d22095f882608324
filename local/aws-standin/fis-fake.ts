/**
 * An AWS FIS stand-in (restJson1, signing name `fis`): experiment templates whose actions are
 * sandbox faults, for the real @aws-sdk/client-fis client.
 *
 *   const fis = await startFisFake({ faults: { "replication-pause": { apply, undo } },
 *     regions, credentials: [c] });
 *   fis.templateIds   // { "replication-pause": { "us-east-1": "EXT...", "us-west-2": "EXT..." } }
 *
 * One template per fault and region; a template lives in its region, so it is found only by a
 * request signed for that region (as FIS templates are regional). Operations:
 * - StartExperiment (POST /experiments): state `initiating`, the fault's `apply(region)`, then
 *   `running`; `failed` with the reason if `apply` throws. The experiment completes by itself
 *   after `maxDurationMs` (the template's bounded duration), undoing the fault.
 * - StopExperiment (DELETE /experiments/{id}): `stopping`, `undo(region)`, `stopped`
 *   (`failed` if `undo` throws, with the reason).
 * - GetExperiment, ListExperiments, GetExperimentTemplate, ListExperimentTemplates.
 * A fault applied by two running experiments is undone when the last of them ends.
 * `running()` lists what is still applied, for tests and for the drill's own checks.
 */
import { randomBytes } from "node:crypto";
import { AwsError, restJsonHandler, validation, type RestRoute } from "./aws-protocol";
import { listen } from "./http-util";
import { SignatureVerifier, type StandInCredentials } from "./sigv4-verify";

export const FIS_SERVICE = "fis";
/** The templates' bounded duration when not given (PT10M). */
export const DEFAULT_MAX_DURATION_MS = 10 * 60_000;

export interface FaultAction {
  /** The FIS action id this stands in for, shown in the template. */
  readonly actionId: string;
  apply(region: string): Promise<void>;
  undo(region: string): Promise<void>;
}

export interface FisFakeOptions {
  readonly faults: Readonly<Record<string, FaultAction>>;
  readonly regions: readonly string[];
  readonly credentials: readonly StandInCredentials[];
  /** @default DEFAULT_MAX_DURATION_MS */
  readonly maxDurationMs?: number;
  readonly onError?: (message: string, err: unknown) => void;
}

type Status = "initiating" | "running" | "completed" | "stopping" | "stopped" | "failed";

interface Experiment {
  readonly id: string;
  readonly templateId: string;
  readonly fault: string;
  readonly region: string;
  readonly createdAt: number;
  status: Status;
  reason?: string;
  startedAt?: number;
  endedAt?: number;
  timer?: NodeJS.Timeout;
  readonly tags: Record<string, string>;
}

export interface FisFake {
  readonly endpoint: string;
  /** Fault -> region -> template id. */
  readonly templateIds: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Experiments applied now (initiating, running or stopping). */
  running(): { id: string; fault: string; region: string; status: string }[];
  stop(): Promise<void>;
}

const ACTIVE: readonly Status[] = ["initiating", "running", "stopping"];
const seconds = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : ms / 1000;

export async function startFisFake(opts: FisFakeOptions): Promise<FisFake> {
  const maxDurationMs = opts.maxDurationMs ?? DEFAULT_MAX_DURATION_MS;
  const templates = new Map<string, { fault: string; region: string }>();
  const templateIds: Record<string, Record<string, string>> = {};
  for (const fault of Object.keys(opts.faults)) {
    templateIds[fault] = {};
    for (const region of opts.regions) {
      const tid = `EXT${randomBytes(8).toString("hex")}`;
      templates.set(tid, { fault, region });
      (templateIds[fault] as Record<string, string>)[region] = tid;
    }
  }
  const experiments = new Map<string, Experiment>();
  const applied = new Map<string, number>();
  const key = (e: Experiment) => `${e.fault}@${e.region}`;

  const template = (tid: unknown, region: string) => {
    const t = typeof tid === "string" ? templates.get(tid) : undefined;
    if (t === undefined || t.region !== region) {
      throw new AwsError(
        "ResourceNotFoundException",
        404,
        `Experiment template not found: ${String(tid)} in ${region}`,
      );
    }
    return t;
  };
  const describeTemplate = (tid: string) => {
    const t = templates.get(tid) as { fault: string; region: string };
    const action = opts.faults[t.fault] as FaultAction;
    return {
      id: tid,
      description: `${t.fault} in ${t.region} (stand-in)`,
      actions: { [t.fault]: { actionId: action.actionId, description: t.fault } },
      stopConditions: [{ source: "none" }],
      tags: { fault: t.fault, region: t.region },
    };
  };
  const describe = (e: Experiment) => ({
    id: e.id,
    experimentTemplateId: e.templateId,
    roleArn: `arn:aws:iam::111122223333:role/fis-${e.fault}`,
    state: { status: e.status, ...(e.reason !== undefined ? { reason: e.reason } : {}) },
    actions: {
      [e.fault]: {
        actionId: (opts.faults[e.fault] as FaultAction).actionId,
        state: { status: e.status },
      },
    },
    stopConditions: [{ source: "none" }],
    creationTime: seconds(e.createdAt),
    startTime: seconds(e.startedAt),
    endTime: seconds(e.endedAt),
    tags: e.tags,
  });
  const lookup = (id: string | undefined, region: string): Experiment => {
    const e = id === undefined ? undefined : experiments.get(id);
    if (e === undefined || e.region !== region) {
      throw new AwsError("ResourceNotFoundException", 404, `Experiment not found: ${String(id)}`);
    }
    return e;
  };

  async function end(e: Experiment, final: "stopped" | "completed"): Promise<void> {
    clearTimeout(e.timer);
    e.status = "stopping";
    const left = (applied.get(key(e)) ?? 1) - 1;
    applied.set(key(e), left);
    try {
      if (left === 0) await (opts.faults[e.fault] as FaultAction).undo(e.region);
      e.status = final;
      e.reason = final === "stopped" ? "Experiment stopped." : "Experiment completed.";
    } catch (err) {
      e.status = "failed";
      e.reason = `undo failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    e.endedAt = Date.now();
  }

  async function start(e: Experiment): Promise<void> {
    try {
      const n = applied.get(key(e)) ?? 0;
      if (n === 0) await (opts.faults[e.fault] as FaultAction).apply(e.region);
      applied.set(key(e), n + 1);
      e.status = "running";
      e.startedAt = Date.now();
      e.timer = setTimeout(() => {
        if (e.status === "running") void end(e, "completed");
      }, maxDurationMs);
      e.timer.unref();
    } catch (err) {
      e.status = "failed";
      e.reason = `action failed: ${err instanceof Error ? err.message : String(err)}`;
      e.endedAt = Date.now();
    }
  }

  const routes: RestRoute[] = [
    {
      method: "POST",
      path: "/experiments",
      run: async ({ body }, region) => {
        const t = template(body.experimentTemplateId, region);
        if (body.clientToken !== undefined && typeof body.clientToken !== "string") {
          throw validation("clientToken must be a string");
        }
        const tags = (
          typeof body.tags === "object" && body.tags !== null ? body.tags : {}
        ) as Record<string, string>;
        const e: Experiment = {
          id: `EXP${randomBytes(8).toString("hex")}`,
          templateId: body.experimentTemplateId as string,
          fault: t.fault,
          region: t.region,
          createdAt: Date.now(),
          status: "initiating",
          tags,
        };
        experiments.set(e.id, e);
        await start(e);
        return { experiment: describe(e) };
      },
    },
    {
      method: "DELETE",
      path: "/experiments/{id}",
      run: async ({ params }, region) => {
        const e = lookup(params.id, region);
        if (e.status === "running") await end(e, "stopped");
        return { experiment: describe(e) };
      },
    },
    {
      method: "GET",
      path: "/experiments/{id}",
      run: async ({ params }, region) => ({ experiment: describe(lookup(params.id, region)) }),
    },
    {
      method: "GET",
      path: "/experiments",
      run: async (_input, region) => ({
        experiments: [...experiments.values()]
          .filter((e) => e.region === region)
          .map((e) => ({
            id: e.id,
            experimentTemplateId: e.templateId,
            state: describe(e).state,
            creationTime: seconds(e.createdAt),
            tags: e.tags,
          })),
      }),
    },
    {
      method: "GET",
      path: "/experimentTemplates/{id}",
      run: async ({ params }, region) => {
        template(params.id, region);
        return { experimentTemplate: describeTemplate(params.id as string) };
      },
    },
    {
      method: "GET",
      path: "/experimentTemplates",
      run: async (_input, region) => ({
        experimentTemplates: [...templates]
          .filter(([, t]) => t.region === region)
          .map(([tid]) => {
            const d = describeTemplate(tid);
            return { id: d.id, description: d.description, tags: d.tags };
          }),
      }),
    },
  ];
  const verifier = new SignatureVerifier({
    credentials: opts.credentials,
    service: FIS_SERVICE,
    regions: opts.regions,
  });
  const server = await listen(
    "127.0.0.1",
    0,
    restJsonHandler(verifier, routes),
    opts.onError ?? (() => undefined),
  );
  return {
    endpoint: server.url,
    templateIds,
    running: () =>
      [...experiments.values()]
        .filter((e) => ACTIVE.includes(e.status))
        .map((e) => ({ id: e.id, fault: e.fault, region: e.region, status: e.status })),
    stop: async () => {
      for (const e of experiments.values()) clearTimeout(e.timer);
      await server.stop();
    },
  };
}
