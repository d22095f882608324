/**
 * One sandbox per test file: started in `before`, stopped in `after` pass or fail, and then
 * checked to have left no DynamoDB Local JVM behind. Short lags, TTL and health-check interval
 * keep the end-to-end suites quick.
 */
import { expect } from "chai";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../local/sandbox";

export { eventually } from "./eventually";

/** Test defaults: replication 200-400 ms, TTL 1 s, health checked every 200 ms, threshold 2. */
export const TEST_SANDBOX: SandboxOptions = {
  lag: { minMs: 200, maxMs: 400 },
  ttlSeconds: 1,
  healthCheck: { intervalMs: 200, failureThreshold: 2, timeoutMs: 1_000 },
  pollMs: 50,
};

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function useSandbox(opts: SandboxOptions = {}): { sandbox(): Sandbox } {
  let sandbox: Sandbox | undefined;
  before(async function () {
    this.timeout(90_000);
    sandbox = await startSandbox({ ...TEST_SANDBOX, ...opts });
  });
  after(async function () {
    this.timeout(30_000);
    if (!sandbox) return;
    const pids = sandbox.jvmPids();
    await sandbox.stop();
    // Nothing this sandbox started may outlive it.
    const deadline = Date.now() + 5_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive), "DynamoDB Local JVMs still running after stop()").to.deep.equal([]);
  });
  return {
    sandbox(): Sandbox {
      if (!sandbox) throw new Error("the sandbox is not running (use sandbox() inside a test)");
      return sandbox;
    },
  };
}

export interface HttpResult<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** A JSON request; never throws on an HTTP error status. Starting a region's JVM on a loaded
 * machine can take longer than the default bound: pass `timeoutMs` for those calls. */
export async function http<T = any>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<HttpResult<T>> {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Creates `n` customers and products in a region (straight to its API); returns their ids. */
export async function fill(
  regionUrl: string,
  n: number,
): Promise<{ customers: string[]; products: string[] }> {
  const res = await http("POST", `${regionUrl}/fill?cust=${n}&product=${n}&order=0`);
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
}
