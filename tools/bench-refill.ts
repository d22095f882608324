/**
 * Benchmark: a region's database stop/start in the sandbox.
 *
 *   node --import tsx tools/bench-refill.ts [--items 10000] [--writers 8] [--stop-at 12] [--start-at 27]
 *
 * 1. Refill time: fills us-west-2 with `--items` items through /fill (replicated to us-east-1),
 *    stops us-east-1's database and starts it again, and prints how long until the region
 *    serves again (JVM and tables, then the batched refill), as the sandbox logs it.
 * 2. Under load: `--writers` writers (half on each regional API) put new kv keys; us-east-1's
 *    database stops at `--stop-at` s and starts at `--start-at` s; the writers stop 5 s later.
 *    Prints writes acknowledged, acknowledged writes each region lacks after convergence, and
 *    seconds from the start until every region holds identical tables.
 */
import { parseArgs } from "node:util";
import { missingWrites, startKvWriters } from "../local/kv-load";
import { startSandbox, type Sandbox } from "../local/sandbox";

const EAST = "us-east-1";
const WEST = "us-west-2";
const FILL_PER_CALL = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function fillItems(sandbox: Sandbox, items: number): Promise<void> {
  const west = sandbox.urls.regions[WEST] as string;
  for (let left = items; left > 0;) {
    const cust = Math.min(FILL_PER_CALL, Math.ceil(left / 2));
    const product = Math.min(FILL_PER_CALL, left - cust);
    const res = await fetch(`${west}/fill?cust=${cust}&product=${product}&order=0`, {
      method: "POST",
    });
    if (res.status !== 201) throw new Error(`fill: HTTP ${res.status} ${await res.text()}`);
    left -= cust + product;
  }
  await sandbox.replicator.waitIdle(600_000);
}

async function untilConverged(sandbox: Sandbox, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await sandbox.convergence();
    if (c.backlog === 0 && c.identical) return;
    if (Date.now() > deadline) throw new Error(`not converged: ${JSON.stringify(c)}`);
    await sleep(200);
  }
}

async function refillTime(sandbox: Sandbox, items: number): Promise<void> {
  const t0 = Date.now();
  await fillItems(sandbox, items);
  console.log(
    `filled ${items} items in ${WEST}, replicated to ${EAST}, in ${secs(Date.now() - t0)}`,
  );
  await sandbox.stopRegion(EAST, "database");
  const t1 = performance.now();
  await sandbox.startRegion(EAST, "database");
  console.log(`refill: ${EAST} serving again ${secs(performance.now() - t1)} after its start`);
  await untilConverged(sandbox, 60_000);
}

async function underLoad(
  sandbox: Sandbox,
  writers: number,
  stopAtS: number,
  startAtS: number,
): Promise<void> {
  const t0 = Date.now();
  const at = (s: number): Promise<void> => sleep(Math.max(0, t0 + s * 1000 - Date.now()));
  const load = startKvWriters(
    [
      { name: "east", url: sandbox.urls.regions[EAST] as string },
      { name: "west", url: sandbox.urls.regions[WEST] as string },
    ],
    Math.max(1, Math.floor(writers / 2)),
    `bench-${t0}`,
  );
  await at(stopAtS);
  await sandbox.stopRegion(EAST, "database");
  console.log(`${secs(Date.now() - t0)}: ${EAST} database stopped`);
  await at(startAtS);
  await sandbox.startRegion(EAST, "database");
  const started = Date.now();
  console.log(`${secs(started - t0)}: ${EAST} database started and refilled`);
  await at(startAtS + 5);
  await load.stop();
  const writersStopped = Date.now();
  await untilConverged(sandbox, 120_000);
  const converged = Date.now();
  const lost = await Promise.all(
    [EAST, WEST].map(async (r) => missingWrites(load.acked, await sandbox.scan(r, "kv")).length),
  );
  console.log(
    `writes acknowledged: ${load.acked.size}; responses ${JSON.stringify(load.statuses)}`,
  );
  console.log(`acknowledged writes lost: ${EAST} ${lost[0]}, ${WEST} ${lost[1]}`);
  console.log(
    `converged ${secs(converged - started)} after the region was back ` +
      `(${secs(converged - writersStopped)} after the writers stopped)`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      items: { type: "string", default: "10000" },
      writers: { type: "string", default: "8" },
      "stop-at": { type: "string", default: "12" },
      "start-at": { type: "string", default: "27" },
    },
  });
  const sandbox = await startSandbox({ log: (line) => console.log(`  ${line}`) });
  try {
    await refillTime(sandbox, Number(values.items));
    await underLoad(
      sandbox,
      Number(values.writers),
      Number(values["stop-at"]),
      Number(values["start-at"]),
    );
  } finally {
    await sandbox.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
