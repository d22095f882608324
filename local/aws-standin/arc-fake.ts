/**
 * A Route 53 ARC cluster data plane stand-in (awsJson1_0, target prefix `ToggleCustomerAPI`,
 * signing name `route53-recovery-cluster`), backed by the sandbox's routing controls: what the
 * real @aws-sdk/client-route53-recovery-cluster client and `npm run arc` talk to.
 *
 *   const arc = await startArcFake({ controls: sandbox.endpoint, regions, credentials: [c] });
 *   arc.endpoints            // [{ endpoint: "http://127.0.0.1:P/v1", region: "us-east-1" }, ...]
 *   arc.routingControlArns   // { "us-east-1": "arn:aws:route53-recovery-control::...", ... }
 *   arc.setEndpointDown(0, true)  // that endpoint answers EndpointTemporarilyUnavailable (503)
 *
 * One server per cluster endpoint (five, like a real cluster, in `endpointRegions`), each
 * accepting SigV4 for its own region only. Operations: GetRoutingControlState,
 * UpdateRoutingControlState, UpdateRoutingControlStates (all or nothing), ListRoutingControls.
 * An unknown ARN is a ResourceNotFoundException; a change the sandbox's safety rule refuses
 * (fewer than one region On) a ConflictException naming the rule; `SafetyRulesToOverride` is
 * accepted and ignored (the sandbox has one rule and no override).
 */
import { randomBytes } from "node:crypto";
import { SafetyRuleError, type ControlState } from "../routing";
import { AwsError, awsJsonHandler, validation } from "./aws-protocol";
import { listen, type Listening } from "./http-util";
import { SignatureVerifier, type StandInCredentials } from "./sigv4-verify";

export const ARC_SERVICE = "route53-recovery-cluster";
/** A real cluster has five regional endpoints; these are where ours "are". */
export const DEFAULT_ARC_ENDPOINT_REGIONS: readonly string[] = [
  "us-east-1",
  "us-west-2",
  "eu-west-1",
  "ap-northeast-1",
  "ap-southeast-2",
];
export const STAND_IN_ACCOUNT = "111122223333";

/** What the fake flips: the sandbox's GlobalEndpoint fits. */
export interface RoutingControls {
  routingControls(): Record<string, ControlState>;
  setRoutingControls(change: Readonly<Record<string, ControlState>>): Record<string, ControlState>;
}

export interface ArcFakeOptions {
  readonly controls: RoutingControls;
  /** The service's regions, one routing control each. */
  readonly regions: readonly string[];
  readonly credentials: readonly StandInCredentials[];
  /** @default DEFAULT_ARC_ENDPOINT_REGIONS */
  readonly endpointRegions?: readonly string[];
  readonly onError?: (message: string, err: unknown) => void;
}

export interface ArcFake {
  readonly clusterArn: string;
  readonly controlPanelArn: string;
  readonly endpoints: readonly { readonly endpoint: string; readonly region: string }[];
  readonly routingControlArns: Readonly<Record<string, string>>;
  /** Calls answered per endpoint index (to see the client's rotation). */
  calls(): readonly number[];
  setEndpointDown(index: number, down: boolean): void;
  stop(): Promise<void>;
}

const id = (n: number): string => randomBytes(n).toString("hex");

function parseState(value: unknown, field: string): ControlState {
  if (value === "On" || value === "Off") return value;
  throw validation(`${field} must be On or Off: got ${JSON.stringify(value)}`);
}

export async function startArcFake(opts: ArcFakeOptions): Promise<ArcFake> {
  const panel = id(6);
  const clusterArn = `arn:aws:route53-recovery-control::${STAND_IN_ACCOUNT}:cluster/${id(8)}`;
  const controlPanelArn = `arn:aws:route53-recovery-control::${STAND_IN_ACCOUNT}:controlpanel/${panel}`;
  const arns: Record<string, string> = {};
  for (const r of opts.regions) arns[r] = `${controlPanelArn}/routingcontrol/${id(8)}`;
  const regionOf = new Map(Object.entries(arns).map(([r, a]) => [a, r]));
  const region = (arn: unknown): string => {
    if (typeof arn !== "string") throw validation("RoutingControlArn is required");
    const r = regionOf.get(arn);
    if (r === undefined) {
      throw new AwsError("ResourceNotFoundException", 404, `no routing control ${arn}`, {
        resourceId: arn,
        resourceType: "RoutingControl",
      });
    }
    return r;
  };
  const apply = (change: Record<string, ControlState>): void => {
    try {
      opts.controls.setRoutingControls(change);
    } catch (err) {
      if (err instanceof SafetyRuleError) {
        throw new AwsError("ConflictException", 409, err.message, {
          resourceId: controlPanelArn,
          resourceType: "SafetyRule",
        });
      }
      throw err;
    }
  };
  const describe = (r: string) => ({
    ControlPanelArn: controlPanelArn,
    ControlPanelName: "resilient-dynamo",
    RoutingControlArn: arns[r],
    RoutingControlName: `resilient-dynamo-${r}`,
    RoutingControlState: opts.controls.routingControls()[r],
    Owner: STAND_IN_ACCOUNT,
  });
  const operations = {
    GetRoutingControlState: async (input: Record<string, unknown>) => {
      const r = region(input.RoutingControlArn);
      const d = describe(r);
      return {
        RoutingControlArn: d.RoutingControlArn,
        RoutingControlState: d.RoutingControlState,
        RoutingControlName: d.RoutingControlName,
      };
    },
    UpdateRoutingControlState: async (input: Record<string, unknown>) => {
      const r = region(input.RoutingControlArn);
      apply({ [r]: parseState(input.RoutingControlState, "RoutingControlState") });
      return {};
    },
    UpdateRoutingControlStates: async (input: Record<string, unknown>) => {
      const entries = input.UpdateRoutingControlStateEntries;
      if (!Array.isArray(entries) || entries.length === 0) {
        throw validation("UpdateRoutingControlStateEntries must be a non-empty list");
      }
      const change: Record<string, ControlState> = {};
      entries.forEach((e: Record<string, unknown>, i) => {
        change[region(e?.RoutingControlArn)] = parseState(
          e?.RoutingControlState,
          `UpdateRoutingControlStateEntries[${i}].RoutingControlState`,
        );
      });
      apply(change);
      return {};
    },
    ListRoutingControls: async (input: Record<string, unknown>) => {
      if (input.ControlPanelArn !== undefined && input.ControlPanelArn !== controlPanelArn) {
        return { RoutingControls: [] };
      }
      return { RoutingControls: opts.regions.map(describe) };
    },
  };
  const endpointRegions = opts.endpointRegions ?? DEFAULT_ARC_ENDPOINT_REGIONS;
  const down = endpointRegions.map(() => false);
  const counts = endpointRegions.map(() => 0);
  const servers: Listening[] = [];
  try {
    for (const [i, epRegion] of endpointRegions.entries()) {
      const verifier = new SignatureVerifier({
        credentials: opts.credentials,
        service: ARC_SERVICE,
        regions: [epRegion],
      });
      const handle = awsJsonHandler(
        "ToggleCustomerAPI",
        verifier,
        operations,
        () => down[i] === true,
      );
      servers.push(
        await listen(
          "127.0.0.1",
          0,
          async (req, res) => {
            counts[i] = (counts[i] ?? 0) + 1;
            await handle(req, res);
          },
          opts.onError ?? (() => undefined),
        ),
      );
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return {
    clusterArn,
    controlPanelArn,
    endpoints: servers.map((s, i) => ({
      endpoint: `${s.url}/v1`,
      region: endpointRegions[i] as string,
    })),
    routingControlArns: arns,
    calls: () => [...counts],
    setEndpointDown: (index, isDown) => {
      if (index < 0 || index >= down.length) throw new Error(`no ARC endpoint ${index}`);
      down[index] = isDown;
    },
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
