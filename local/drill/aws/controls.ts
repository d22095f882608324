/**
 * `RoutingControlClient` over the ARC cluster's data plane (local/arc-cluster.ts: each cluster
 * endpoint in turn, the all-off refusal). A control turned Off goes into the fault ledger until it
 * is On again, with the `npm run arc` command that turns it back on.
 */
import type { RoutingControlState } from "@aws-sdk/client-route53-recovery-cluster";
import { ArcCluster, refuseAllOff } from "../../arc-cluster";
import type { ControlState, RoutingControlClient } from "../target";
import type { FaultLedger } from "./faults";

export interface ArcControlsOptions {
  readonly cluster: ArcCluster;
  /** Region -> routing control ARN. */
  readonly controls: Readonly<Record<string, string>>;
  readonly ledger: FaultLedger;
  /** The routing stack's outputs file, for the undo command. */
  readonly outputsArg: string;
}

export function arcControls(o: ArcControlsOptions): RoutingControlClient {
  const get = () => o.cluster.states(o.controls);
  return {
    get,
    async set(states: Readonly<Record<string, ControlState>>): Promise<void> {
      for (const r of Object.keys(states)) {
        if (o.controls[r] === undefined) throw new Error(`no routing control for region ${r}`);
      }
      const current = await get();
      const wanted: Record<string, RoutingControlState> = { ...current, ...states };
      refuseAllOff(wanted, current);
      const changes = Object.keys(o.controls).filter((r) => wanted[r] !== current[r]);
      if (changes.length === 0) return;
      await o.cluster.setMany(
        changes.map((r) => ({
          arn: o.controls[r] as string,
          state: wanted[r] as RoutingControlState,
        })),
        `UpdateRoutingControlStates ${changes.map((r) => `${r} ${wanted[r]}`).join(", ")}`,
      );
      for (const r of changes) {
        if (wanted[r] === "On") {
          o.ledger.remove(`arc:${r}`);
          continue;
        }
        o.ledger.add(`arc:${r}`, {
          what: `routing control of ${r} is Off`,
          undo: () => this.set({ [r]: "On" }),
          command: `npm run arc -- set ${r} on --outputs ${o.outputsArg}`,
        });
      }
    },
  };
}
