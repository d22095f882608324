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
 * `running()` lists what is still applied, for tests and for the drill's own checks; `stop()`
 * stops every running experiment (undoing its fault) before closing.
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

/** Templates, experiments and which faults are applied: the stand-in's whole state. */
class FisState {
  readonly templates = new Map<string, { fault: string; region: string }>();
  readonly templateIds: Record<string, Record<string, string>> = {};
  readonly experiments = new Map<string, Experiment>();
  /** How many running experiments hold each fault@region. */
  private readonly applied = new Map<string, number>();

  constructor(private readonly opts: FisFakeOptions) {
    for (const fault of Object.keys(opts.faults)) {
      const ids: Record<string, string> = {};
      for (const region of opts.regions) {
        ids[region] = `EXT${randomBytes(8).toString("hex")}`;
        this.templates.set(ids[region], { fault, region });
      }
      this.templateIds[fault] = ids;
    }
  }

  private action(fault: string): FaultAction {
    return this.opts.faults[fault] as FaultAction;
  }

  /** The template `tid` of `region`, or ResourceNotFoundException. */
  template(tid: unknown, region: string): { fault: string; region: string } {
    const t = typeof tid === "string" ? this.templates.get(tid) : undefined;
    if (t === undefined || t.region !== region) {
      throw new AwsError(
        "ResourceNotFoundException",
        404,
        `Experiment template not found: ${String(tid)} in ${region}`,
      );
    }
    return t;
  }

  describeTemplate(tid: string) {
    const t = this.templates.get(tid) as { fault: string; region: string };
    return {
      id: tid,
      description: `${t.fault} in ${t.region} (stand-in)`,
      actions: { [t.fault]: { actionId: this.action(t.fault).actionId, description: t.fault } },
      stopConditions: [{ source: "none" }],
      tags: { fault: t.fault, region: t.region },
    };
  }

  describe(e: Experiment) {
    return {
      id: e.id,
      experimentTemplateId: e.templateId,
      roleArn: `arn:aws:iam::111122223333:role/fis-${e.fault}`,
      state: { status: e.status, ...(e.reason !== undefined ? { reason: e.reason } : {}) },
      actions: {
        [e.fault]: { actionId: this.action(e.fault).actionId, state: { status: e.status } },
      },
      stopConditions: [{ source: "none" }],
      creationTime: seconds(e.createdAt),
      startTime: seconds(e.startedAt),
      endTime: seconds(e.endedAt),
      tags: e.tags,
    };
  }

  /** The experiment `id` of `region`, or ResourceNotFoundException. */
  lookup(id: string | undefined, region: string): Experiment {
    const e = id === undefined ? undefined : this.experiments.get(id);
    if (e === undefined || e.region !== region) {
      throw new AwsError("ResourceNotFoundException", 404, `Experiment not found: ${String(id)}`);
    }
    return e;
  }

  /** Applies the fault (unless another experiment holds it) and runs until `maxDurationMs`. */
  async start(e: Experiment): Promise<void> {
    this.experiments.set(e.id, e);
    const key = `${e.fault}@${e.region}`;
    try {
      const n = this.applied.get(key) ?? 0;
      if (n === 0) await this.action(e.fault).apply(e.region);
      this.applied.set(key, n + 1);
      e.status = "running";
      e.startedAt = Date.now();
      e.timer = setTimeout(() => {
        if (e.status === "running") void this.end(e, "completed");
      }, this.opts.maxDurationMs ?? DEFAULT_MAX_DURATION_MS);
      e.timer.unref();
    } catch (err) {
      e.status = "failed";
      e.reason = `action failed: ${err instanceof Error ? err.message : String(err)}`;
      e.endedAt = Date.now();
    }
  }

  /** Undoes the fault when no other running experiment holds it. */
  async end(e: Experiment, final: "stopped" | "completed"): Promise<void> {
    clearTimeout(e.timer);
    e.status = "stopping";
    const key = `${e.fault}@${e.region}`;
    const left = (this.applied.get(key) ?? 1) - 1;
    this.applied.set(key, left);
    try {
      if (left === 0) await this.action(e.fault).undo(e.region);
      e.status = final;
      e.reason = final === "stopped" ? "Experiment stopped." : "Experiment completed.";
    } catch (err) {
      e.status = "failed";
      e.reason = `undo failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    e.endedAt = Date.now();
  }
}

/** The FIS operations the stand-in serves, over `state`. */
function fisRoutes(state: FisState): RestRoute[] {
  return [
    {
      method: "POST",
      path: "/experiments",
      run: async ({ body }, region) => {
        const t = state.template(body.experimentTemplateId, region);
        if (body.clientToken !== undefined && typeof body.clientToken !== "string") {
          throw validation("clientToken must be a string");
        }
        const tags = (isRecord(body.tags) ? body.tags : {}) as Record<string, string>;
        const e: Experiment = {
          id: `EXP${randomBytes(8).toString("hex")}`,
          templateId: body.experimentTemplateId as string,
          fault: t.fault,
          region: t.region,
          createdAt: Date.now(),
          status: "initiating",
          tags,
        };
        await state.start(e);
        return { experiment: state.describe(e) };
      },
    },
    {
      method: "DELETE",
      path: "/experiments/{id}",
      run: async ({ params }, region) => {
        const e = state.lookup(params.id, region);
        if (e.status === "running") await state.end(e, "stopped");
        return { experiment: state.describe(e) };
      },
    },
    {
      method: "GET",
      path: "/experiments/{id}",
      run: async ({ params }, region) => ({
        experiment: state.describe(state.lookup(params.id, region)),
      }),
    },
    {
      method: "GET",
      path: "/experiments",
      run: async (_input, region) => ({
        experiments: [...state.experiments.values()]
          .filter((e) => e.region === region)
          .map((e) => {
            const d = state.describe(e);
            return {
              id: d.id,
              experimentTemplateId: d.experimentTemplateId,
              state: d.state,
              creationTime: d.creationTime,
              tags: d.tags,
            };
          }),
      }),
    },
    {
      method: "GET",
      path: "/experimentTemplates/{id}",
      run: async ({ params }, region) => {
        state.template(params.id, region);
        return { experimentTemplate: state.describeTemplate(params.id as string) };
      },
    },
    {
      method: "GET",
      path: "/experimentTemplates",
      run: async (_input, region) => ({
        experimentTemplates: [...state.templates]
          .filter(([, t]) => t.region === region)
          .map(([tid]) => {
            const d = state.describeTemplate(tid);
            return { id: d.id, description: d.description, tags: d.tags };
          }),
      }),
    },
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function startFisFake(opts: FisFakeOptions): Promise<FisFake> {
  const state = new FisState(opts);
  const verifier = new SignatureVerifier({
    credentials: opts.credentials,
    service: FIS_SERVICE,
    regions: opts.regions,
  });
  const server = await listen(
    "127.0.0.1",
    0,
    restJsonHandler(verifier, fisRoutes(state)),
    opts.onError ?? (() => undefined),
  );
  return {
    endpoint: server.url,
    templateIds: state.templateIds,
    running: () =>
      [...state.experiments.values()]
        .filter((e) => ACTIVE.includes(e.status))
        .map((e) => ({ id: e.id, fault: e.fault, region: e.region, status: e.status })),
    // Stopping the stand-in ends every running experiment first: no fault outlives it.
    stop: async () => {
      for (const e of state.experiments.values()) {
        if (e.status === "running") await state.end(e, "stopped");
      }
      await server.stop();
    },
  };
}
