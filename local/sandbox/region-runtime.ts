/**
 * One region of the sandbox: its DynamoDB Local, the API server in front of the region's
 * functions (the same handlers as Lambda, with the environment a Lambda function of that region
 * gets), and the consumers of its tables' streams (the replicator's pollers and the reconciler).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createApp } from "../../functions/app";
import { depsFromEnv, type ApiHandler } from "../../functions/runtime";
import { TABLES, type TableKey } from "../../functions/tables";
import { ensureTables, localClient, startRegionDb, watchJvm, type DynamoLocal } from "../dynamo";
import type { RegionStatus } from "../global-endpoint/sandbox-hooks";
import type { ConsistencyRuntime } from "../mrsc/mode";
import type { SandboxReconciler } from "../reconciler";
import { RegionalServer } from "../regional-server";
import type { Replicator } from "../replicator";
import type { RegionIO } from "../replicator/region-io";
import { dynamoRegionIO, startStreamPoller, type StreamPoller } from "../streams";

/** What every region of one sandbox shares: its settings and the pieces that span regions. */
export interface RegionWiring {
  readonly regions: readonly string[];
  readonly prefix: string;
  readonly pollMs: number;
  readonly verbose: boolean;
  /** Keep each region's database in `<dataDir>/<region>`; in memory when absent. */
  readonly dataDir?: string | undefined;
  readonly replicator: Replicator;
  readonly mode: ConsistencyRuntime;
  readonly reconciler?: SandboxReconciler | undefined;
  /** Failures worth logging when verbose (replication, streams). */
  readonly onError: (message: string, err: unknown) => void;
  /** A request that failed in the sandbox itself: always logged. */
  readonly onRequestError: (message: string, err: unknown) => void;
  readonly log: (line: string) => void;
  /** The tables' names, known once the first database is up (every region has the same). */
  tables?: Record<TableKey, string> | undefined;
  /** Every DynamoDB Local pid started (running or not). */
  readonly pids: number[];
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The environment a Lambda function of `region` gets, pointed at the region's DynamoDB Local. */
export function regionEnv(
  region: string,
  endpoint: string,
  tables: Readonly<Record<TableKey, string>>,
  verbose: boolean,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: region,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    POWERTOOLS_SERVICE_NAME: "resilient-dynamo",
    POWERTOOLS_LOG_LEVEL: verbose ? "INFO" : "SILENT",
    POWERTOOLS_METRICS_DISABLED: verbose ? "false" : "true",
  };
  for (const spec of TABLES) env[spec.envVar] = tables[spec.key];
  return env;
}

/** One region: its database (while it runs), API server, functions and stream pollers. */
export class RegionRuntime {
  db?: DynamoLocal | undefined;
  dbPort?: number;
  client?: DynamoDBClient | undefined;
  watchdog?: { stop(): void } | undefined;
  pollers: StreamPoller[] = [];
  readonly server: RegionalServer;
  /** The region's whole API (dispatcher and handlers), once its tables exist. */
  app?: ApiHandler | undefined;
  /** Its database stopped with the region (region loss): its unreplicated writes are gone. */
  lost?: boolean;
  /** Serialises stop/start of this region. */
  busy: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly wiring: RegionWiring,
    port?: number,
  ) {
    this.server = new RegionalServer({
      region: name,
      handler: (event) =>
        this.app ? this.app(event) : Promise.reject(new Error("region not ready")),
      ...(port !== undefined ? { port } : {}),
      onError: wiring.onRequestError,
    });
  }

  /**
   * Starts the region's DynamoDB Local (on its earlier port, if it had one) with its tables and
   * connects it to the replicator and the consistency mode. True when the tables were created.
   */
  async startDb(): Promise<boolean> {
    const w = this.wiring;
    const db = await startRegionDb({
      ...(this.dbPort !== undefined ? { port: this.dbPort } : {}),
      ...(w.dataDir !== undefined ? { dataDir: `${w.dataDir}/${this.name}` } : {}),
    });
    w.pids.push(db.pid);
    this.db = db;
    this.dbPort = db.port;
    this.watchdog = watchJvm(db.pid);
    this.client = localClient(db.endpoint);
    const ensured = await ensureTables(this.client, w.prefix);
    w.tables = ensured.names;
    w.replicator.attach(this.name, dynamoRegionIO(this.client, ensured.names));
    w.mode.attach(this.name, db.endpoint, this.client, ensured.names);
    return ensured.created;
  }

  /** Starts reading the replicated tables' streams, and the reconciler's. */
  async openStreams(): Promise<void> {
    const w = this.wiring;
    const db = this.db as DynamoLocal;
    const names = w.tables as Record<TableKey, string>;
    this.pollers = await Promise.all(
      w.mode.replicatedTables.map((table) =>
        startStreamPoller({
          endpoint: db.endpoint,
          tableName: names[table],
          pollMs: w.pollMs,
          onRecords: (records, at) => w.replicator.ingest(this.name, table, records, at),
          onError: w.onError,
        }),
      ),
    );
    await w.reconciler?.attach(
      this.name,
      db.endpoint,
      depsFromEnv(regionEnv(this.name, db.endpoint, names, w.verbose)),
    );
  }

  /**
   * Stops a region's database. `drain`: read its streams to the end first and keep sending what
   * it wrote (a database outage); otherwise what it wrote and nobody has yet is lost (region loss).
   */
  async stopDb(drain = false): Promise<void> {
    const w = this.wiring;
    await w.reconciler?.detach(this.name);
    const pollers = this.pollers;
    this.pollers = [];
    await Promise.allSettled(pollers.map((p) => p.stop({ drain })));
    w.replicator.regionDown(this.name, { keepOutgoing: drain });
    w.mode.detach(this.name);
    this.client?.destroy();
    this.client = undefined;
    await this.db?.stop();
    this.db = undefined;
    this.watchdog?.stop();
    this.watchdog = undefined;
  }

  /** Builds the region's functions on its database (its MRSC front in strong mode); serves them. */
  async serve(): Promise<void> {
    const w = this.wiring;
    const endpoint = w.mode.dynamoEndpoint(this.name, (this.db as DynamoLocal).endpoint);
    const names = w.tables as Record<TableKey, string>;
    this.app = createApp(depsFromEnv(regionEnv(this.name, endpoint, names, w.verbose)));
    await this.server.start();
  }

  /** The region's tables as the replicator sees them; throws while its database is stopped. */
  io(): RegionIO {
    if (!this.client || !this.wiring.tables)
      throw new Error(`${this.name}: the database is stopped`);
    return dynamoRegionIO(this.client, this.wiring.tables);
  }

  status(): RegionStatus {
    const since = Date.now() - 10_000;
    return {
      api: this.server.running,
      database: this.db !== undefined,
      ...(this.server.unavailable !== undefined ? { unavailable: this.server.unavailable } : {}),
      served: this.server.served,
      servedLast10s: this.server.recent.toArray().filter((q) => q.at >= since).length,
    };
  }
}
