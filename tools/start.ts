/**
 * `npm start`: the whole service on this machine, no AWS account needed. Starts the sandbox,
 * seeds sample data through the fill route, prints the URLs and a curl example, and on Ctrl-C or
 * SIGTERM stops everything it started, DynamoDB Local JVMs included.
 *
 *   npm start -- --help
 */
import { checkJava } from "../local/dynamo";
import {
  UsageError,
  choiceOption,
  parseOptions,
  intOption,
  listOption,
  runCli,
  seconds,
} from "./cli-args";
import { parseConsistencyOptions } from "./consistency-options";
import { DEFAULT_MRSC_WRITE_LATENCY_MS } from "../local/mrsc/model";
import { parseLag } from "../local/replication-model";
import { ROUTING_POLICIES, checkTtl } from "../local/routing";
import {
  DEFAULT_REGIONS,
  installLastResortGuard,
  startSandbox,
  type Sandbox,
  type SandboxOptions,
} from "../local/sandbox";

export const USAGE = `Usage: npm start -- [options]

Runs the order service in every region on this machine: one DynamoDB Local per region,
replication between them, each region's API, and a global endpoint with a status page.

Options:
  --regions LIST           two or more regions (default ${DEFAULT_REGIONS.join(",")})
  --port N                 global endpoint port; region APIs take the next ports (default 8080;
                           0 picks free ports)
  --data-dir DIR           keep each region's tables in DIR/<region> (default: in memory)
  --lag MS|MIN-MAX         replication lag in ms (default 600-1200, the sample's measurement)
  --ttl SECONDS            how long a client keeps the global endpoint's answer (default 60)
  --policy latency|failover  routing between healthy regions whose control is On (default latency)
  --health-interval MS     time between health checks of each region (default 2000)
  --health-threshold N     failed checks before a region is unhealthy (default 2)
  --consistency eventual|strong
                           eventual (default): asynchronous replication, last writer wins;
                           strong: multi-Region strong consistency for customers, products and
                           orders (kv stays eventual: MRSC has no TTL): two regions and a
                           witness, or --regions a,b,c for three replicas, all in one MRSC
                           Region set (US: us-east-1,us-east-2,us-west-2; EU; AP)
  --witness-region REGION  strong with two regions: the witness (default: the set's first region
                           that is not a replica)
  --mrsc-write-latency-ms MS
                           strong: cross-region latency added to each write of a strong table
                           (default ${DEFAULT_MRSC_WRITE_LATENCY_MS})
  --no-seed                start with empty tables
  --verbose                show the handlers' Powertools logs and metrics
  -h, --help               show this help`;

const DEFAULT_PORT = 8080;

export function parseStartArgs(
  argv: readonly string[],
): { options: SandboxOptions; seed: boolean } | "help" {
  const values = parseOptions(argv, {
    regions: { type: "string" },
    port: { type: "string" },
    "data-dir": { type: "string" },
    lag: { type: "string" },
    ttl: { type: "string" },
    policy: { type: "string" },
    "health-interval": { type: "string" },
    "health-threshold": { type: "string" },
    consistency: { type: "string" },
    "witness-region": { type: "string" },
    "mrsc-write-latency-ms": { type: "string" },
    "no-seed": { type: "boolean" },
    verbose: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  const regions = listOption(values.regions) ?? [...DEFAULT_REGIONS];
  const port = intOption("port", values.port, 0, 65_535) ?? DEFAULT_PORT;
  if (port !== 0 && port + regions.length > 65_535)
    throw new UsageError(`--port ${port} leaves no room for the regions`);
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined) {
    try {
      checkTtl(ttl);
    } catch (err) {
      throw new UsageError(`--ttl: ${(err as Error).message}`);
    }
  }
  let lag;
  try {
    lag = values.lag === undefined ? undefined : parseLag(values.lag);
  } catch (err) {
    throw new UsageError(`--lag: ${(err as Error).message}`);
  }
  const interval = intOption("health-interval", values["health-interval"], 50, 600_000);
  const threshold = intOption("health-threshold", values["health-threshold"], 1, 10);
  const policy = choiceOption("policy", values.policy, ROUTING_POLICIES);
  const options: SandboxOptions = {
    regions,
    port,
    ...(port !== 0 ? { regionPorts: regions.map((_, i) => port + 1 + i) } : {}),
    ...(values["data-dir"] !== undefined ? { dataDir: values["data-dir"] } : {}),
    ...(lag !== undefined ? { lag } : {}),
    ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
    ...(policy !== undefined ? { policy } : {}),
    healthCheck: {
      ...(interval !== undefined ? { intervalMs: interval } : {}),
      ...(threshold !== undefined ? { failureThreshold: threshold } : {}),
    },
    verbose: values.verbose ?? false,
    ...parseConsistencyOptions(values, regions),
  };
  return { options, seed: !values["no-seed"] };
}

interface FillResult {
  customers: string[];
  products: string[];
  orders: string[];
}

/** Creates sample data in the first region through the fill route and waits until it replicated. */
async function seed(sandbox: Sandbox): Promise<FillResult> {
  const first = sandbox.regions[0] as string;
  const res = await fetch(`${sandbox.urls.regions[first]}/fill?cust=10&product=50&order=10`, {
    method: "POST",
  });
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`seeding with POST /fill failed: HTTP ${res.status} ${await res.text()}`);
  }
  const body = (await res.json()) as FillResult;
  await sandbox.replicator.waitIdle(30_000);
  return body;
}

/** "eventual" or "strong: us-east-1, us-west-2 + witness us-east-2, +20 ms per write". */
function consistencyText(sandbox: Sandbox): string {
  const view = sandbox.consistencyView();
  if (view.mode !== "strong")
    return "eventual (kv, customers, products, orders replicate asynchronously)";
  const members = view.members.map((m) => (m.role === "witness" ? `witness ${m.name}` : m.name));
  return `strong for customers, products, orders (${members.join(", ")}; +${view.writeLatencyMs} ms per write); kv eventual`;
}

function banner(sandbox: Sandbox, seeded: FillResult | undefined, startupMs: number): string {
  const lines = [
    "",
    `resilient-dynamo sandbox ready in ${seconds(startupMs)} (${sandbox.regions.length} regions)`,
    "",
    `  status page      ${sandbox.urls.status}`,
    `  global endpoint  ${sandbox.urls.global}`,
    `  control API      ${sandbox.urls.control}/state`,
    `  consistency      ${consistencyText(sandbox)}`,
  ];
  for (const r of sandbox.regions) lines.push(`  ${r.padEnd(16)} ${sandbox.urls.regions[r]}`);
  const g = sandbox.urls.global;
  const second = sandbox.regions[1] as string;
  lines.push("", "Try:");
  if (seeded && seeded.customers[0] && seeded.products[0]) {
    lines.push(
      `  curl -si -X POST "${g}/orders?customerId=${seeded.customers[0]}&productId=${seeded.products[0]}" -H "x-client-region: ${second}"`,
      `  curl -s "${g}/orders/<OrderId from above>"`,
    );
  } else {
    lines.push(`  curl -si -X POST "${g}/fill?cust=1&product=1"`);
  }
  lines.push(
    `  curl -s ${g}/health -H "x-client-region: ${second}"`,
    `  curl -s -X PUT ${sandbox.urls.control}/routing-controls/${sandbox.regions[0]} -d '{"state":"Off"}'`,
    "",
    `Seeded: ${seeded ? `${seeded.customers.length} customers, ${seeded.products.length} products in stock, ${seeded.orders.length} orders` : "nothing (--no-seed)"}.`,
    "Run the failover drill against this sandbox from another terminal:",
    `  npm run drill -- --endpoint ${g}`,
    "",
    "Ctrl-C stops everything.",
  );
  return lines.join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseStartArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  const java = checkJava();
  if (!java.ok) {
    console.error(`cannot start the sandbox: ${java.message}`);
    return 1;
  }

  const t0 = Date.now();
  let sandbox: Sandbox | undefined;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      console.error("stopping already; press Ctrl-C again to force");
      return;
    }
    stopping = true;
    console.log(`\n${signal}: stopping the sandbox…`);
    const s0 = Date.now();
    await sandbox?.stop();
    console.log(`stopped everything in ${seconds(Date.now() - s0)}`);
    process.exit(0);
  };
  let forced = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping && ++forced > 1) process.exit(130);
      void stop(signal);
    });
  }

  // `npm start` runs us under npm and a shell; a supervisor that signals only npm (kill <npm pid>)
  // leaves this process orphaned and its JVMs running. Notice the parent going away and stop.
  const parent = process.ppid;
  if (parent !== 1) {
    setInterval(() => {
      if (process.ppid !== parent) void stop("parent process exited");
    }, 500).unref();
  }

  try {
    installLastResortGuard((line) => console.error(`  ${line}`));
    sandbox = await startSandbox({ ...parsed.options, log: (line) => console.log(`  ${line}`) });
    if (stopping) return 0;
    const seeded = parsed.seed ? await seed(sandbox) : undefined;
    console.log(banner(sandbox, seeded, Date.now() - t0));
  } catch (err) {
    console.error(`cannot start the sandbox: ${err instanceof Error ? err.message : String(err)}`);
    await sandbox?.stop();
    return 1;
  }
  // Keep running until a signal arrives.
  return new Promise<number>(() => undefined);
}

if (require.main === module) runCli(main);
