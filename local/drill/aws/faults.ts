/**
 * Faults the AWS target causes, and a ledger of those still in place so a drill never leaves one
 * behind: FIS experiments (started from the ChaosExperiments templates, stopped at the end, on
 * Ctrl-C, or when the drill fails) and routing controls turned Off. When an undo fails, the
 * ledger says what is still faulted and the command that undoes it. `fisFaultInjector` is the
 * drill's `FaultInjector` over those experiments.
 */
import {
  FisClient,
  GetExperimentCommand,
  ListExperimentsCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import type { FaultInjector } from "../target";
import { fisTemplate, type DeployedOutputs } from "./outputs";

export interface ActiveFault {
  /** In words: "FIS experiment EXP123 (pause-replication in us-east-1)". */
  readonly what: string;
  readonly undo: () => Promise<void>;
  /** A shell command that undoes it, for when `undo` fails. */
  readonly command: string;
}

export class FaultLedger {
  private readonly active = new Map<string, ActiveFault>();

  add(key: string, fault: ActiveFault): void {
    this.active.set(key, fault);
  }
  remove(key: string): void {
    this.active.delete(key);
  }
  has(key: string): boolean {
    return this.active.has(key);
  }
  get size(): number {
    return this.active.size;
  }

  /**
   * Undoes every fault still in place, newest first. Returns one line per fault that could not
   * be undone: what is still faulted and the command that undoes it.
   */
  async undoAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const [key, fault] of [...this.active.entries()].reverse()) {
      try {
        await fault.undo();
        this.active.delete(key);
      } catch (err) {
        failures.push(
          `STILL FAULTED: ${fault.what} (${(err as Error).message}); undo it with: ${fault.command}`,
        );
      }
    }
    return failures;
  }
}

/** FIS experiment states in which the experiment may still act. */
const LIVE = new Set(["pending", "initiating", "running", "stopping"]);
const STOP_WAIT_MS = 60_000;

export interface FisFaultsOptions {
  /** The FIS client of a region: a template lives in the region it faults, and starts there. */
  readonly client: (region: string) => FisClient;
  readonly ledger: FaultLedger;
  /** How often to ask whether a stopped experiment has ended. @default 1000 */
  readonly pollMs?: number;
  readonly stopWaitMs?: number;
}

export class FisFaults {
  /** Template id -> running experiment id and its region. */
  private readonly running = new Map<string, { id: string; region: string }>();

  constructor(private readonly o: FisFaultsOptions) {}

  /** Experiments in `region` of `templateIds` that are not finished: "EXP1 (template T, running)". */
  async liveExperiments(region: string, templateIds: readonly string[]): Promise<string[]> {
    const wanted = new Set(templateIds);
    const live: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.o
        .client(region)
        .send(new ListExperimentsCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
      for (const e of page.experiments ?? []) {
        const status = e.state?.status ?? "";
        if (e.experimentTemplateId && wanted.has(e.experimentTemplateId) && LIVE.has(status))
          live.push(`${e.id} (template ${e.experimentTemplateId}, ${status})`);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return live;
  }

  /** Starts the template's experiment (once) and records how to stop it. */
  async start(templateId: string, region: string, what: string): Promise<string> {
    const already = this.running.get(templateId);
    if (already) return already.id;
    const out = await this.o.client(region).send(
      new StartExperimentCommand({
        experimentTemplateId: templateId,
        tags: { "resilient-dynamo": "drill" },
      }),
    );
    const id = out.experiment?.id;
    if (!id) throw new Error(`FIS StartExperiment ${templateId} returned no experiment id`);
    this.running.set(templateId, { id, region });
    this.o.ledger.add(`fis:${id}`, {
      what: `FIS experiment ${id} (${what})`,
      undo: async () => {
        await this.stop(templateId);
      },
      command: `aws fis stop-experiment --id ${id} --region ${region}`,
    });
    return id;
  }

  /**
   * Stops the template's experiment and waits until FIS says it has ended. An experiment that
   * already ended (its duration ran out, a stop condition tripped) counts as stopped.
   */
  async stop(templateId: string): Promise<string | undefined> {
    const run = this.running.get(templateId);
    if (!run) return undefined;
    const { id, region } = run;
    const state = await this.status(id, region);
    let ended: string | undefined;
    if (LIVE.has(state.status) && state.status !== "stopping") {
      await this.o.client(region).send(new StopExperimentCommand({ id }));
    } else if (!LIVE.has(state.status)) {
      ended = `FIS experiment ${id} had already ended: ${state.status}${state.reason ? ` (${state.reason})` : ""}`;
    }
    const until = Date.now() + (this.o.stopWaitMs ?? STOP_WAIT_MS);
    for (;;) {
      const s = await this.status(id, region);
      if (!LIVE.has(s.status)) break;
      if (Date.now() > until)
        throw new Error(`experiment ${id} is still ${s.status} after StopExperiment`);
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 1_000));
    }
    this.running.delete(templateId);
    this.o.ledger.remove(`fis:${id}`);
    return ended;
  }

  /** Stops every experiment this drill started. */
  async stopAll(): Promise<string[]> {
    const notes: string[] = [];
    for (const t of [...this.running.keys()]) {
      const n = await this.stop(t);
      if (n) notes.push(n);
    }
    return notes;
  }

  private async status(
    id: string,
    region: string,
  ): Promise<{ status: string; reason?: string | undefined }> {
    const out = await this.o.client(region).send(new GetExperimentCommand({ id }));
    return {
      status: out.experiment?.state?.status ?? "unknown",
      reason: out.experiment?.state?.reason,
    };
  }
}

export interface FisInjectorOptions {
  readonly fis: FisFaults;
  readonly outputs: DeployedOutputs;
  /** The drill's fault region: what "replication from it" pauses when no region is named. */
  readonly faultRegion: string;
  /** Where a note goes when an experiment had already ended before the drill stopped it. */
  readonly note: (line: string) => void;
}

/**
 * The deployed target's faults: a region lost is FIS making every Lambda invocation fail there,
 * replication paused is FIS pausing replication into a region's replicas; both are undone by
 * stopping the experiments.
 */
export function fisFaultInjector(o: FisInjectorOptions): FaultInjector {
  const { fis, outputs, faultRegion, note } = o;
  const regions = outputs.regions.map((r) => r.region);
  const fault = (scenario: "region-loss" | "replication-pause", region: string) => ({
    id: fisTemplate(outputs, scenario, region),
    region,
    what: `${scenario === "region-loss" ? "every Lambda invocation fails" : "replication into it paused"} in ${region}`,
  });
  const pauses = new Set<string>();
  return {
    describe: (scenario, region) =>
      scenario === "switch"
        ? `routing control of ${region} turned Off (ARC)`
        : scenario === "region-loss"
          ? `every Lambda invocation fails in ${region} (FIS lambda-errors)`
          : `replication to and from ${region} paused (FIS replication-pause in every region)`,
    stopRegion: async (region) => {
      const f = fault("region-loss", region);
      await fis.start(f.id, f.region, f.what);
    },
    startRegion: async (region) => {
      const n = await fis.stop(fault("region-loss", region).id);
      if (n) note(n);
    },
    // FIS pauses replication INTO a region's replicas: "to X" is X's template; "from X" is
    // every other region's (with three regions that also pauses the other two's exchange).
    pauseReplication: async (from, to) => {
      const into = to !== undefined ? [to] : regions.filter((r) => r !== (from ?? faultRegion));
      for (const region of into) {
        const f = fault("replication-pause", region);
        pauses.add(f.id);
        await fis.start(f.id, f.region, f.what);
      }
    },
    resumeReplication: async () => {
      for (const id of pauses) {
        const n = await fis.stop(id);
        if (n) note(n);
      }
      pauses.clear();
    },
  };
}
