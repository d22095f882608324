/**
 * A Pulumi mock engine that plays the AWS provider well enough to evaluate the program offline:
 * it records every resource and invoke, fills in the outputs AWS would compute (ARNs, ids, domain
 * names) from the inputs, answers StackReferences from a map of stack outputs, and refuses any
 * invoke it does not know. The component tests and the `plan` tool share it, so what the tests
 * assert is what `plan` prints. The outputs each resource type gets are in mock-outputs.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { MOCK_ACCOUNT_ID, computedOutputs, shortHash } from "./mock-outputs";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** The URN the mock monitor gave it ("" when the engine runs outside `evaluate`). */
  readonly urn: string;
  /** URN of its parent resource; undefined for a resource at the top of the stack. */
  readonly parent: string | undefined;
  readonly id: string;
  /** The inputs as the program passed them (Outputs resolved). */
  readonly inputs: Record<string, any>;
  /** Inputs plus what the mock computed. */
  readonly state: Record<string, any>;
  /** The region the resource lands in: its `region` input, or the stack's default region. */
  readonly region: string | undefined;
  /** The resource options the engine acts on in an update or a destroy. */
  readonly options: RecordedOptions;
  /** Types the resource was registered under before (its aliases' `type`), for a moved component. */
  readonly aliasTypes: string[];
  /** URN of its explicit provider; undefined on the default provider. */
  readonly provider: string | undefined;
}

/** Resource options that decide what `pulumi up` and `pulumi destroy` do to a resource. */
export interface RecordedOptions {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
}

const NO_OPTIONS: RecordedOptions = {
  protect: false,
  retainOnDelete: false,
  deleteBeforeReplace: false,
};

export interface RecordedCall {
  readonly token: string;
  readonly inputs: Record<string, any>;
}

export interface MockEngineOptions {
  /** The stack's default AWS region (`aws:region`), used where a resource names none. */
  readonly defaultRegion?: string;
  /** Outputs of the stacks a StackReference may name, keyed by the full stack name. */
  readonly stackOutputs?: Readonly<Record<string, Record<string, unknown>>>;
}

/**
 * The URN of a resource's explicit provider, from the monitor's `<provider urn>::<provider id>`;
 * undefined for a default provider (`default` or `default_<version>`), whose URN changes with the
 * plugin version.
 */
function explicitProvider(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const urn = ref.slice(0, ref.lastIndexOf("::"));
  return /::default(_[\w.-]+)?$/.test(urn) ? undefined : urn;
}

export class MockEngine implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  readonly calls: RecordedCall[] = [];
  /** Region of each explicit provider, by id, so its resources are recorded in that region. */
  private readonly providerRegions = new Map<string, string | undefined>();
  /** URN and parent of registrations the monitor has announced but not yet handed over. */
  private readonly announced = new Map<
    string,
    { urn: string; parent: string | undefined; options: RecordedOptions; aliasTypes: string[] }[]
  >();

  constructor(private readonly options: MockEngineOptions = {}) {}

  /** Recorded resources of one type token, in creation order. */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** Drops what was recorded, for a fresh evaluation with the same engine. */
  reset(): void {
    this.resources.length = 0;
    this.calls.length = 0;
    this.providerRegions.clear();
    this.announced.clear();
  }

  /** The region of the explicit provider a resource names (`<provider urn>::<id>`), if any. */
  private providerRegion(ref: string | undefined): string | undefined {
    if (!ref) return undefined;
    return this.providerRegions.get(ref.slice(ref.lastIndexOf("::") + 2));
  }

  /** Called by the monitor (see `evaluate`) just before it asks for a resource: its URN and parent. */
  announce(
    type: string,
    name: string,
    urn: string,
    parent: string | undefined,
    options: RecordedOptions = NO_OPTIONS,
    aliasTypes: string[] = [],
  ): void {
    const key = `${type}::${name}`;
    const queue = this.announced.get(key) ?? [];
    queue.push({ urn, parent, options, aliasTypes });
    this.announced.set(key, queue);
  }

  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string | undefined;
    state: Record<string, any>;
  } {
    const inputs = args.inputs as Record<string, any>;
    if (args.type === "pulumi:pulumi:StackReference") {
      const stackName = String(inputs["name"] ?? args.name);
      const outputs = this.options.stackOutputs?.[stackName];
      if (!outputs) {
        const known = Object.keys(this.options.stackOutputs ?? {}).join(", ") || "none";
        throw new Error(
          `StackReference to ${stackName}, which the mocks do not know (known: ${known})`,
        );
      }
      const state = { name: stackName, outputs, secretOutputNames: [] };
      this.record(args, stackName, state, undefined);
      return { id: stackName, state };
    }
    const region =
      (inputs["region"] as string | undefined) ??
      this.providerRegion(args.provider) ??
      this.options.defaultRegion;
    // An import id arrives as "" when there is none (protobuf strings default to empty).
    const id = args.id || `${args.name}-${shortHash(args.type + args.name)}`;
    if (args.type.startsWith("pulumi:providers:")) {
      this.providerRegions.set(id, inputs["region"] as string | undefined);
    }
    const state = { ...inputs, ...computedOutputs(args.type, args.name, id, inputs, region) };
    this.record(args, id, state, region);
    // Component resources (ours, and awsx's remote ones) have no provider id.
    const component = args.type.startsWith("resilient-dynamo:") || args.type.startsWith("awsx:");
    return { id: component ? undefined : id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    this.calls.push({ token: args.token, inputs: args.inputs as Record<string, any> });
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          accountId: MOCK_ACCOUNT_ID,
          arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/mock`,
          userId: "mock",
        };
      case "aws:index/getPartition:getPartition":
        return { partition: "aws", dnsSuffix: "amazonaws.com" };
      case "aws:index/getAvailabilityZones:getAvailabilityZones": {
        const region = (args.inputs["region"] as string | undefined) ?? this.options.defaultRegion;
        const names = ["a", "b", "c"].map((s) => `${region}${s}`);
        return { names, zoneIds: names.map((_, i) => `${region}-az${i + 1}`), id: String(region) };
      }
      case "aws:ssm/getParameter:getParameter": {
        // Only the public parameters of the FIS Lambda extension layer (components/fis-plan.ts).
        const name = String(args.inputs["name"]);
        const arch =
          /^\/aws\/service\/fis\/lambda-extension\/AWS-FIS-extension-(arm64|x86_64)\//.exec(
            name,
          )?.[1];
        if (!arch) throw new Error(`the mocks do not know the SSM parameter ${name}`);
        const region = (args.inputs["region"] as string | undefined) ?? this.options.defaultRegion;
        const value = `arn:aws:lambda:${region}:${MOCK_ACCOUNT_ID}:layer:aws-fis-extension-${arch}:9`;
        return { id: name, name, type: "String", value, insecureValue: value, version: 1 };
      }
      default:
        throw new Error(`the mocks do not know the invoke ${args.token}`);
    }
  }

  private record(
    args: pulumi.runtime.MockResourceArgs,
    id: string,
    state: Record<string, any>,
    region: string | undefined,
  ): void {
    const where = this.announced.get(`${args.type}::${args.name}`)?.shift();
    this.resources.push({
      type: args.type,
      name: args.name,
      urn: where?.urn ?? "",
      parent: where?.parent,
      id,
      inputs: args.inputs as Record<string, any>,
      state,
      region,
      options: where?.options ?? NO_OPTIONS,
      aliasTypes: where?.aliasTypes ?? [],
      provider: explicitProvider(args.provider),
    });
  }
}

export interface EvaluateOptions {
  readonly project: string;
  readonly stack: string;
  /** Pulumi organization the program sees. @default "organization" (what self-managed backends use) */
  readonly organization?: string;
  /** Full config keys (`aws:region`, `resilient-dynamo:role`) to string values, as Pulumi holds them. */
  readonly config: Readonly<Record<string, string>>;
  /** Run as a preview (`pulumi preview`), where `pulumi.runtime.isDryRun()` is true. @default false */
  readonly dryRun?: boolean;
}

/**
 * Installs the engine as Pulumi's mocks with the given project, stack and config, runs `program`
 * and waits until every resource registration it started has been answered.
 */
export async function evaluate<T>(
  engine: MockEngine,
  options: EvaluateOptions,
  program: () => T | Promise<T>,
): Promise<T> {
  engine.reset();
  await pulumi.runtime.setMocks(
    engine,
    options.project,
    options.stack,
    options.dryRun ?? false,
    options.organization ?? "organization",
  );
  pulumi.runtime.setAllConfig({ ...options.config });
  announceRegistrations(engine);
  // Under mocks, an error thrown in an apply surfaces only as an unhandled rejection while the
  // resources that depend on it never finish registering: catch the first one and fail with it.
  let onError: (reason: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (reason) => reject(reason instanceof Error ? reason : new Error(String(reason)));
  });
  process.prependListener("unhandledRejection", onError);
  try {
    const result = await Promise.race([Promise.resolve().then(program), failed]);
    await Promise.race([waitForRegistrations(), failed]);
    // Rejections are reported after the microtask queue drains: give them one macrotask turn.
    await Promise.race([new Promise((resolve) => setImmediate(resolve)), failed]);
    return result;
  } finally {
    process.removeListener("unhandledRejection", onError);
  }
}

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  // Register requests carry the options; read requests do not.
  getProtect?(): boolean;
  getRetainondelete?(): boolean;
  getDeletebeforereplace?(): boolean;
  getAliasesList?(): { getSpec(): { getType(): string } | undefined }[];
}
type MonitorMethod = (req: MonitorRequest, callback: unknown) => unknown;

/**
 * Lets the engine record each resource's URN and parent: the SDK's mock monitor computes both but
 * hands the mocks only type, name and inputs. Wraps the monitor's register/read calls (internals of
 * @pulumi/pulumi's MockMonitor, checked here so a changed SDK fails loudly rather than silently).
 */
function announceRegistrations(engine: MockEngine): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as Record<string, unknown> | undefined;
  const newUrn = monitor?.["newUrn"];
  if (!monitor || typeof newUrn !== "function") {
    throw new Error("this @pulumi/pulumi's mock monitor has no newUrn; pin a version that does");
  }
  for (const method of ["registerResource", "readResource"] as const) {
    const original = monitor[method];
    if (typeof original !== "function") {
      throw new Error(
        `this @pulumi/pulumi's mock monitor has no ${method}; pin a version that does`,
      );
    }
    const wrapped: MonitorMethod = (req, callback) => {
      const parent = req.getParent() || undefined;
      const urn = (newUrn as (p: string | undefined, t: string, n: string) => string).call(
        monitor,
        parent,
        req.getType(),
        req.getName(),
      );
      engine.announce(
        req.getType(),
        req.getName(),
        urn,
        parent,
        {
          protect: req.getProtect?.() ?? false,
          retainOnDelete: req.getRetainondelete?.() ?? false,
          deleteBeforeReplace: req.getDeletebeforereplace?.() ?? false,
        },
        (req.getAliasesList?.() ?? []).flatMap((a) => a.getSpec()?.getType() || []),
      );
      return (original as MonitorMethod).call(monitor, req, callback);
    };
    monitor[method] = wrapped;
  }
}

/**
 * Resolves an Output to its value, whatever it is (undefined included). Rejects when the output is
 * unknown, and with the program's own error when an apply on the way threw (under mocks such an
 * error otherwise only surfaces as an unhandled rejection, leaving a plain apply waiting forever).
 */
export async function settle<T>(value: pulumi.Input<T>): Promise<T> {
  const output = pulumi.output(value) as pulumi.Output<T> & {
    isKnown: Promise<boolean>;
    promise(withUnknowns?: boolean): Promise<T>;
  };
  const [known, resolved] = await Promise.all([output.isKnown, output.promise(true)]);
  if (!known) throw new Error("output is unknown");
  return resolved;
}

/** Waits for the runtime's RPC queue to drain (an internal the Pulumi SDK exports at run time). */
export async function waitForRegistrations(): Promise<void> {
  const settings = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (typeof settings.waitForRPCs !== "function") {
    throw new Error("this @pulumi/pulumi has no waitForRPCs; pin a version that does");
  }
  await settings.waitForRPCs();
}

/** URNs the mock monitor handed out, so a test can check a child's parent chain. */
export async function registeredUrns(): Promise<string[]> {
  const monitor = pulumi.runtime.getMonitor() as unknown as
    { resources?: Map<string, unknown> } | undefined;
  if (!monitor?.resources) throw new Error("no mock monitor is installed");
  return [...monitor.resources.keys()];
}
