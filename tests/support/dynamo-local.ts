/**
 * DynamoDB Local in mocha suites: the launcher lives in local/dynamo-local.ts (the sandbox uses it
 * too); this module adds the hooks that start one per suite and stop it, pass or fail.
 */
import {
  DEFAULT_START_TIMEOUT_MS,
  STOP_GRACE_MS,
  startDynamoLocal,
  type DynamoLocal,
  type StartOptions,
} from "../../local/dynamo-local";

export {
  createTables,
  freePort,
  startDynamoLocal,
  type DynamoLocal,
} from "../../local/dynamo-local";

/**
 * Registers mocha hooks that start one DynamoDB Local before the enclosing suite and stop it
 * after, pass or fail. Read `instance()` inside tests and hooks, not at definition time.
 */
export function useDynamoLocal(opts: StartOptions = {}): { instance(): DynamoLocal } {
  let local: DynamoLocal | undefined;
  before(async function () {
    this.timeout((opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) + 10_000);
    local = await startDynamoLocal(opts);
  });
  after(async function () {
    this.timeout(STOP_GRACE_MS + 5_000);
    await local?.stop();
  });
  return {
    instance(): DynamoLocal {
      if (!local) throw new Error("DynamoDB Local is not running (use instance() inside a test)");
      return local;
    },
  };
}
