/**
 * DynamoDB Local for the sandbox: the one launcher, ./dynamo-local.ts (the tests use it too), plus
 * what the sandbox needs on top of it: a Java check with an install hint, tables from `TABLES` that may already exist
 * (`--data-dir`), and a watchdog that kills a JVM whose Node parent died without stopping it.
 */
import { spawn as spawnChild, spawnSync } from "node:child_process";
import {
  DescribeTableCommand,
  ListTablesCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { TABLES, physicalTableName, type TableKey } from "../functions/tables";
import { createTables, startDynamoLocal, type DynamoLocal } from "./dynamo-local";

export {
  createTables,
  freePort,
  localClient,
  localClientConfig,
  startDynamoLocal,
  LOCAL_CREDENTIALS,
  type DynamoLocal,
} from "./dynamo-local";

/** Oldest Java major version DynamoDB Local runs on. */
export const MIN_JAVA_MAJOR = 17;

export const JAVA_INSTALL_HINT =
  "DynamoDB Local needs Java 17 or newer on PATH. Debian/Ubuntu: " +
  "sudo apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17; " +
  "or any JDK/JRE 17+ from https://adoptium.net";

export interface JavaCheck {
  readonly ok: boolean;
  /** Major version found, when `java -version` ran. */
  readonly major?: number;
  /** Why it is not usable, with the install hint. */
  readonly message?: string;
}

/** Parses the major version out of `java -version` output ("1.8.0_392" -> 8, "17.0.15" -> 17). */
export function javaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/** Checks that a Java 17+ runtime is on PATH, before any JVM is spawned. */
export function checkJava(): JavaCheck {
  const out = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (out.error) {
    return { ok: false, message: `'java' was not found on PATH. ${JAVA_INSTALL_HINT}` };
  }
  const major = javaMajor(`${out.stderr}${out.stdout}`);
  if (major === undefined) {
    return { ok: false, message: `could not read the Java version. ${JAVA_INSTALL_HINT}` };
  }
  if (major < MIN_JAVA_MAJOR) {
    return { ok: false, major, message: `found Java ${major}. ${JAVA_INSTALL_HINT}` };
  }
  return { ok: true, major };
}

export interface RegionDbOptions {
  /** Port to listen on; a restarted region keeps its port so its clients keep working. */
  readonly port?: number;
  /** Directory for the database file; in memory when absent. */
  readonly dataDir?: string;
  readonly startTimeoutMs?: number;
}

/** Starts one region's DynamoDB Local: in memory, or with its database file under `dataDir`. */
export async function startRegionDb(opts: RegionDbOptions = {}): Promise<DynamoLocal> {
  return startDynamoLocal({
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.startTimeoutMs !== undefined ? { startTimeoutMs: opts.startTimeoutMs } : {}),
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
  });
}

/**
 * Makes sure every table of `TABLES` exists under `prefix`, with a stream of new and old images.
 * Creates them all on an empty engine; accepts a complete set left by an earlier run
 * (`--data-dir`); refuses a partial set or a table without the stream the replicator reads.
 * Returns the physical names and whether the tables were created now.
 */
export async function ensureTables(
  client: DynamoDBClient,
  prefix: string,
): Promise<{ names: Record<TableKey, string>; created: boolean }> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const out = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of out.TableNames ?? []) existing.add(name);
    start = out.LastEvaluatedTableName;
  } while (start !== undefined);
  const wanted = TABLES.map((t) => physicalTableName(prefix, t.key));
  const present = wanted.filter((n) => existing.has(n));
  if (present.length === 0) return { names: await createTables(client, prefix), created: true };
  if (present.length !== wanted.length) {
    const missing = wanted.filter((n) => !existing.has(n));
    throw new Error(
      `the data directory holds only some of the tables (missing ${missing.join(", ")}); ` +
        `remove it or use another --data-dir`,
    );
  }
  const names = {} as Record<TableKey, string>;
  for (const spec of TABLES) {
    const name = physicalTableName(prefix, spec.key);
    const out = await client.send(new DescribeTableCommand({ TableName: name }));
    const view = out.Table?.StreamSpecification?.StreamViewType;
    if (view !== "NEW_AND_OLD_IMAGES") {
      throw new Error(`table ${name} has no NEW_AND_OLD_IMAGES stream (found ${view ?? "none"})`);
    }
    names[spec.key] = name;
  }
  return { names, created: false };
}

/**
 * Starts a small shell watchdog that SIGKILLs the JVM's process group if this Node process dies
 * without stopping it (SIGKILL, a crash in native code). It exits by itself when the JVM is gone;
 * `stop()` ends it at once. Only the pid we spawned is ever signalled.
 */
export function watchJvm(jvmPid: number): { stop(): void } {
  const script =
    'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; ' +
    'kill -KILL -- "-$2" 2>/dev/null; exit 0';
  const child = spawnChild(
    "sh",
    ["-c", script, "rd-jvm-watchdog", String(process.pid), String(jvmPid)],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  child.unref();
  child.on("error", () => undefined);
  return {
    stop(): void {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          // Its own process group (detached): the pending `sleep` goes too.
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    },
  };
}
