/**
 * The DynamoDB Local helper the handler tests and the sandbox rely on: it creates the tables as
 * GlobalTableSet does, stops the whole JVM, and says what to install when Java is missing.
 */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
} from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { TABLES } from "../functions/tables";
import { createTables, startDynamoLocal, type DynamoLocal } from "./support/dynamo-local";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("DynamoDB Local helper", function () {
  this.timeout(90_000);

  it("creates every table with streams, on-demand billing and TTL, and stops the JVM", async () => {
    const local: DynamoLocal = await startDynamoLocal();
    try {
      const names = await createTables(local.client, "helper");
      const listed = await local.client.send(new ListTablesCommand({}));
      expect(listed.TableNames).to.have.members(Object.values(names));
      for (const spec of TABLES) {
        const { Table } = await local.client.send(
          new DescribeTableCommand({ TableName: names[spec.key] }),
        );
        expect(Table?.KeySchema).to.deep.equal([{ AttributeName: spec.hashKey, KeyType: "HASH" }]);
        expect(Table?.StreamSpecification).to.deep.equal({
          StreamEnabled: true,
          StreamViewType: "NEW_AND_OLD_IMAGES",
        });
        expect(Table?.BillingModeSummary?.BillingMode).to.equal("PAY_PER_REQUEST");
        const ttl = await local.client.send(
          new DescribeTimeToLiveCommand({ TableName: names[spec.key] }),
        );
        expect(ttl.TimeToLiveDescription?.AttributeName).to.equal(spec.ttlAttribute);
      }
      expect(isAlive(local.pid)).to.equal(true);
    } finally {
      await local.stop();
    }
    expect(isAlive(local.pid), "JVM still running after stop()").to.equal(false);
  });

  it("reports the JVM's own output when it exits before answering", async () => {
    // A server that takes the port and hangs up on every connection: the JVM cannot bind.
    const busy = createServer((socket) => socket.destroy()).listen(0, "127.0.0.1");
    await once(busy, "listening");
    const { port } = busy.address() as AddressInfo;
    try {
      await startDynamoLocal({ port, startTimeoutMs: 30_000 });
      expect.fail("started on a taken port");
    } catch (err) {
      expect(String(err)).to.include("exited before answering").and.include("Failed to bind");
    } finally {
      busy.close();
    }
  });

  it("keeps its tables in dataDir across a restart (npm start --data-dir)", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "ddb-data-")), "nested");
    try {
      const first = await startDynamoLocal({ dataDir: dir });
      try {
        await createTables(first.client, "kept");
      } finally {
        await first.stop();
      }
      expect(isAlive(first.pid), "first JVM still running").to.equal(false);
      const second = await startDynamoLocal({ dataDir: dir });
      try {
        const names = (await second.client.send(new ListTablesCommand({}))).TableNames ?? [];
        expect(names.filter((n) => n.startsWith("kept-")).sort()).to.deep.equal(
          TABLES.map((t) => `kept-${t.key}`).sort(),
        );
      } finally {
        await second.stop();
      }
      // In memory, nothing survives: the check above can fail.
      const memory = await startDynamoLocal();
      try {
        expect((await memory.client.send(new ListTablesCommand({}))).TableNames).to.deep.equal([]);
      } finally {
        await memory.stop();
      }
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it("fails with an install hint when java is not on PATH", async () => {
    const empty = mkdtempSync(join(tmpdir(), "no-java-"));
    const path = process.env.PATH;
    process.env.PATH = empty;
    try {
      await startDynamoLocal({ startTimeoutMs: 10_000 });
      expect.fail("started without java");
    } catch (err) {
      expect(String(err)).to.include("'java' not found").and.include("Java 17");
      expect(String(err)).to.include("apt-get install -y openjdk-17-jre-headless");
    } finally {
      process.env.PATH = path;
      rmSync(empty, { recursive: true });
    }
  });
});
