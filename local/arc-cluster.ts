/**
 * The Route 53 ARC cluster's data plane, shared by `npm run arc` and the drill's AWS target: one
 * client per cluster endpoint, tried in turn when one cannot be reached, and the all-off refusal.
 */
import {
  GetRoutingControlStateCommand,
  Route53RecoveryClusterClient,
  type Route53RecoveryClusterClientConfig,
  UpdateRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
  type RoutingControlState,
} from "@aws-sdk/client-route53-recovery-cluster";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface ClusterEndpoint {
  readonly endpoint: string;
  readonly region: string;
}

/**
 * A change refused because it would leave no region on: the caller's mistake, not AWS's
 * (`npm run arc` exits with its usage code).
 */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
}

/** Throws RefusedError when `result` would have every region off. */
export function refuseAllOff(
  result: Readonly<Record<string, RoutingControlState>>,
  current: Readonly<Record<string, RoutingControlState>>,
): void {
  if (Object.values(result).includes("On")) return;
  const now = Object.entries(current)
    .map(([r, s]) => `${r} ${s}`)
    .join(", ");
  throw new RefusedError(
    `refused: this would turn every region off (now: ${now}); turn another region on first, ` +
      "or use failover --to REGION",
  );
}

/** An error from AWS (or from reaching it): exit code 1. */
export class AwsFailure extends Error {
  override readonly name = "AwsFailure";
}

const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** ARC errors that mean "this endpoint cannot answer now", not "this request is wrong". */
const ENDPOINT_EXCEPTIONS = new Set([
  "EndpointTemporarilyUnavailableException",
  "InternalServerException",
  "ThrottlingException",
]);

/**
 * Whether to try the next endpoint after this error: timeouts, connection errors and the
 * endpoint's own unavailability. Access denied, validation, conflicts and unknown resources are
 * the same at every endpoint, so they fail at once.
 */
export function isEndpointFailure(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (name === "TimeoutError") return true;
  if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) return true;
  return typeof name === "string" && ENDPOINT_EXCEPTIONS.has(name);
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

export interface ClusterOptions {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Where to report an endpoint that failed before the next is tried. */
  readonly warn?: (line: string) => void;
  /** Credentials to sign with. @default the SDK's default chain */
  readonly credentials?: Route53RecoveryClusterClientConfig["credentials"];
}

/**
 * The cluster's data plane: one client per endpoint, each signed for its endpoint's region,
 * with explicit connection and request timeouts and no SDK retries (the next endpoint is the
 * retry). Sticks to the endpoint that last answered.
 */
export class ArcCluster {
  private readonly clients: Route53RecoveryClusterClient[];
  private current = 0;

  constructor(
    readonly endpoints: readonly ClusterEndpoint[],
    private readonly options: ClusterOptions,
  ) {
    if (endpoints.length === 0) throw new Error("no cluster endpoints");
    this.clients = endpoints.map(
      (e) =>
        new Route53RecoveryClusterClient({
          endpoint: e.endpoint,
          region: e.region,
          maxAttempts: 1,
          ...(options.credentials ? { credentials: options.credentials } : {}),
          requestHandler: new NodeHttpHandler({
            connectionTimeout: options.connectTimeoutMs,
            requestTimeout: options.requestTimeoutMs,
            throwOnRequestTimeout: true,
          }),
        }),
    );
  }

  /** The endpoint the next call goes to first. */
  get endpoint(): ClusterEndpoint {
    return this.endpoints[this.current] as ClusterEndpoint;
  }

  /** Sends a command, trying each endpoint in turn on timeouts and connection errors. */
  async send<T>(
    what: string,
    call: (client: Route53RecoveryClusterClient) => Promise<T>,
  ): Promise<T> {
    const failures: string[] = [];
    for (let tried = 0; tried < this.clients.length; tried++) {
      const index = (this.current + tried) % this.clients.length;
      const endpoint = this.endpoints[index] as ClusterEndpoint;
      const where = `${endpoint.endpoint} (${endpoint.region})`;
      try {
        const result = await call(this.clients[index] as Route53RecoveryClusterClient);
        this.current = index;
        return result;
      } catch (err) {
        if (!isEndpointFailure(err)) {
          throw new AwsFailure(`${what} failed at ${where}: ${describeError(err)}`, { cause: err });
        }
        failures.push(`${where}: ${describeError(err)}`);
        if (tried < this.clients.length - 1) {
          this.options.warn?.(
            `${what}: ${where} failed (${describeError(err)}); trying the next endpoint`,
          );
        }
      }
    }
    throw new AwsFailure(`${what} failed at every cluster endpoint:\n  ${failures.join("\n  ")}`);
  }

  /** Current state of every routing control, by region. */
  async states(
    controls: Readonly<Record<string, string>>,
  ): Promise<Record<string, RoutingControlState>> {
    const states: Record<string, RoutingControlState> = {};
    for (const [region, arn] of Object.entries(controls)) {
      const out = await this.send(`GetRoutingControlState ${region}`, (c) =>
        c.send(new GetRoutingControlStateCommand({ RoutingControlArn: arn })),
      );
      if (out.RoutingControlState !== "On" && out.RoutingControlState !== "Off") {
        throw new AwsFailure(
          `GetRoutingControlState ${region}: unexpected state ${JSON.stringify(out.RoutingControlState)}`,
        );
      }
      states[region] = out.RoutingControlState;
    }
    return states;
  }

  async setOne(arn: string, state: RoutingControlState, what: string): Promise<void> {
    await this.send(what, (c) =>
      c.send(
        new UpdateRoutingControlStateCommand({
          RoutingControlArn: arn,
          RoutingControlState: state,
        }),
      ),
    );
  }

  async setMany(
    entries: readonly { arn: string; state: RoutingControlState }[],
    what: string,
  ): Promise<void> {
    await this.send(what, (c) =>
      c.send(
        new UpdateRoutingControlStatesCommand({
          UpdateRoutingControlStateEntries: entries.map((e) => ({
            RoutingControlArn: e.arn,
            RoutingControlState: e.state,
          })),
        }),
      ),
    );
  }
}
