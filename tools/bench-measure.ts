/**
 * The measurements of `npm run bench`. Each one is bounded (a count and a time cap) and runs on
 * 127.0.0.1 only; each starts what it needs and stops it, DynamoDB Local JVMs included.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { bundleFunction } from "resilient-dynamo";
import { FUNCTIONS, FUNCTION_NAMES, type FunctionName } from "../functions/routes";
import { createDocumentClient } from "../functions/runtime";
import { TABLES } from "../functions/tables";
import { SERVICE_CODE_ROOT } from "../stack/service-api";
import { LOCAL_CREDENTIALS, ensureTables, startRegionDb } from "../local/dynamo";
import { DEFAULT_TABLE_PREFIX, startSandbox } from "../local/sandbox";
import { median, parseMochaOutput, quantile, round, type FileTime } from "./bench-stats";

export interface BundleResult {
  readonly fn: FunctionName;
  readonly bytes: number;
  readonly kib: number;
  /** Median of `spawns` fresh processes: `require` of the bundle, handler built as on Lambda. */
  readonly initMs: number;
  readonly initP95Ms: number;
  /** Median CPU time (user + system) of the same `require`. */
  readonly initCpuMs: number;
  /** Median time from the process's start (performance.timeOrigin) to the module loaded. */
  readonly spawnToLoadedMs: number;
  readonly spawns: number;
}

// Runs in the child: times the require in-process, so Node's own start-up is not counted.
// CPU time is reported too: on a shared machine it moves far less than wall time does.
const CHILD = `const c0 = process.cpuUsage(); const t0 = performance.now();
require(process.argv[1]);
const t1 = performance.now(); const c = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ init: t1 - t0, cpu: (c.user + c.system) / 1000, loaded: t1 }));`;

/** What Lambda gives one of our functions (RegionalApi's variables, fake role credentials). */
function lambdaEnv(fn: FunctionName): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: `bench-${fn}`,
    AWS_ACCESS_KEY_ID: "ASIABENCH",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_SESSION_TOKEN: "bench",
    NODE_OPTIONS: "--enable-source-maps",
    POWERTOOLS_SERVICE_NAME: "bench",
    ...Object.fromEntries(TABLES.map((t) => [t.envVar, `bench-${t.key}`])),
  };
}

/** Size of every handler bundle and its module initialisation in `spawns` fresh processes. */
export function measureBundles(spawns: number, log: (line: string) => void): BundleResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-bundles-"));
  try {
    return FUNCTION_NAMES.map((fn) => {
      const bundle = bundleFunction(FUNCTIONS[fn].entry, SERVICE_CODE_ROOT);
      const file = path.join(dir, fn, "index.js");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, bundle.code);
      fs.writeFileSync(`${file}.map`, bundle.sourceMap);
      const init: number[] = [];
      const cpu: number[] = [];
      const loaded: number[] = [];
      for (let i = 0; i < spawns; i++) {
        const run = spawnSync(process.execPath, ["-e", CHILD, file], {
          env: lambdaEnv(fn),
          encoding: "utf8",
          timeout: 30_000,
        });
        if (run.status !== 0) throw new Error(`${fn}: bundle failed to load: ${run.stderr}`);
        const out = JSON.parse(run.stdout) as { init: number; cpu: number; loaded: number };
        init.push(out.init);
        cpu.push(out.cpu);
        loaded.push(out.loaded);
      }
      const bytes = Buffer.byteLength(bundle.code);
      log(
        `  ${fn}: ${round(bytes / 1024)} KiB, init ${round(median(init))} ms (${round(median(cpu))} ms CPU)`,
      );
      return {
        fn,
        bytes,
        kib: round(bytes / 1024),
        initMs: round(median(init)),
        initP95Ms: round(quantile(init, 0.95)),
        initCpuMs: round(median(cpu)),
        spawnToLoadedMs: round(median(loaded)),
        spawns,
      };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface LatencyResult {
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly count: number;
}

/**
 * Times each of `calls` sequentially, taking turns (a, b, a, b...) so that both see the same
 * conditions on a shared machine: `warmup` untimed rounds, then up to `count` rounds within
 * `capMs`.
 */
export async function timeCalls<K extends string>(
  calls: Record<K, () => Promise<void>>,
  opts: { warmup: number; count: number; capMs: number },
): Promise<Record<K, LatencyResult>> {
  const keys = Object.keys(calls) as K[];
  for (let i = 0; i < opts.warmup; i++) for (const k of keys) await calls[k]();
  const samples = new Map<K, number[]>(keys.map((k) => [k, []]));
  const deadline = performance.now() + opts.capMs;
  for (let i = 0; i < opts.count && performance.now() < deadline; i++) {
    for (const k of keys) {
      const t0 = performance.now();
      await calls[k]();
      samples.get(k)?.push(performance.now() - t0);
    }
  }
  const out = {} as Record<K, LatencyResult>;
  for (const [k, values] of samples) {
    out[k] = {
      medianMs: round(median(values), 2),
      p95Ms: round(quantile(values, 0.95), 2),
      count: values.length,
    };
  }
  return out;
}

export interface SandboxResult {
  readonly direct: LatencyResult;
  readonly regional: LatencyResult;
  readonly global: LatencyResult;
  /** Median through the API over median of the direct call. */
  readonly regionalRatio: number;
  readonly globalRatio: number;
}

const KV_KEY = "bench-key";
const LOOP = { warmup: 100, count: 300, capMs: 30_000 };

/** A GET that must answer 200; the body is read so the whole response is timed. */
async function get(url: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
}

/** One kv read straight from DynamoDB Local, with the handlers' own document client. */
async function measureDirect(region: string): Promise<LatencyResult> {
  const db = await startRegionDb();
  try {
    const { names } = await ensureTables(db.client, DEFAULT_TABLE_PREFIX);
    const doc = createDocumentClient({
      region,
      endpoint: db.endpoint,
      credentials: { ...LOCAL_CREDENTIALS },
    });
    const key = { Key: KV_KEY };
    await doc.send(new PutCommand({ TableName: names.kv, Item: { ...key, Value: "v" } }));
    const timed = await timeCalls(
      {
        direct: async () => {
          const out = await doc.send(new GetCommand({ TableName: names.kv, Key: key }));
          if (!out.Item) throw new Error("direct GetItem found no item");
        },
      },
      LOOP,
    );
    return timed.direct;
  } finally {
    await db.stop();
  }
}

/** The same read as `GET /kv/{key}` through a region's API and through the global endpoint. */
async function measureApi(region: string): Promise<Pick<SandboxResult, "regional" | "global">> {
  const sandbox = await startSandbox({ lag: { minMs: 50, maxMs: 100 } });
  try {
    const regional = `${sandbox.urls.regions[region]}/kv/${KV_KEY}`;
    const put = await fetch(regional, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value: "v" }),
      signal: AbortSignal.timeout(5_000),
    });
    if (put.status >= 300) throw new Error(`PUT ${regional}: ${put.status} ${await put.text()}`);
    // Every region must hold the key before the global endpoint may route to any of them.
    const globalUrl = `${sandbox.urls.global}/kv/${KV_KEY}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const state = await sandbox.convergence();
      if (state.backlog === 0 && state.identical) break;
      if (Date.now() > deadline) throw new Error("the sandbox did not converge within 10 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    return await timeCalls({ regional: () => get(regional), global: () => get(globalUrl) }, LOOP);
  } finally {
    await sandbox.stop();
  }
}

/** The API's overhead over a direct DynamoDB Local call, one JVM set at a time. */
export async function measureSandbox(log: (line: string) => void): Promise<SandboxResult> {
  const region = "us-east-1";
  log("  direct GetItem on DynamoDB Local...");
  const direct = await measureDirect(region);
  log("  GET /kv/{key} through the sandbox's regional API and global endpoint...");
  const api = await measureApi(region);
  return {
    direct,
    ...api,
    regionalRatio: round(api.regional.medianMs / direct.medianMs, 2),
    globalRatio: round(api.global.medianMs / direct.medianMs, 2),
  };
}

export interface StackEvalResult {
  readonly stack: string;
  /** Stacks evaluated for this plan, in order (a referenced stack first). */
  readonly evaluated: readonly string[];
  /** First plan in this process: modules loaded, functions bundled. */
  readonly firstMs: number;
  /** Median of the next `repeats` plans. */
  readonly medianMs: number;
  readonly repeats: number;
}

/** `planStack` (index.ts under tools/mock-engine.ts, as `npm run plan` runs it) per stack. */
export async function measureStackEvaluation(
  stacks: readonly string[],
  repeats: number,
): Promise<{ loadMs: number; results: StackEvalResult[] }> {
  const t0 = performance.now();
  // Loaded here, not at the top, so its module load (Pulumi, the program) is timed on its own.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { planStack } = require("./planner") as typeof import("./planner");
  const loadMs = round(performance.now() - t0, 0);
  const results: StackEvalResult[] = [];
  for (const stack of stacks) {
    const times: number[] = [];
    let evaluated: readonly string[] = [];
    for (let i = 0; i <= repeats; i++) {
      const start = performance.now();
      evaluated = (await planStack(stack)).evaluated;
      times.push(performance.now() - start);
    }
    results.push({
      stack,
      evaluated,
      firstMs: round(times[0] as number, 0),
      medianMs: round(median(times.slice(1)), 0),
      repeats,
    });
  }
  return { loadMs, results };
}

export interface TestTimeResult {
  readonly wallSeconds: number;
  readonly exitCode: number | null;
  readonly passed?: number;
  readonly failed?: number;
  readonly skipped?: number;
  readonly cpus: number;
  readonly loadAverageAtStart: number;
  /** Wall time of each test file (its top-level suites), slowest first. */
  readonly files: FileTime[];
  readonly log: string;
}

/** Runs the whole `npm test` once, its output to `logFile`, with per-file times. */
export async function measureTestTime(logFile: string): Promise<TestTimeResult> {
  const loadAverageAtStart = round(os.loadavg()[0] as number, 2);
  const out = fs.createWriteStream(logFile);
  const t0 = performance.now();
  const chunks: string[] = [];
  const child = spawn("npm", ["test"], {
    env: { ...process.env, MOCHA_FILE_TIMES: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (c: Buffer) => {
      out.write(c);
      if (stream === child.stdout) chunks.push(c.toString("utf8"));
    });
  }
  const exitCode = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wallSeconds = round((performance.now() - t0) / 1000);
  await new Promise((resolve) => out.end(resolve));
  const parsed = parseMochaOutput(chunks.join(""));
  return {
    wallSeconds,
    exitCode,
    cpus: os.cpus().length,
    loadAverageAtStart,
    ...parsed,
    log: logFile,
  };
}
