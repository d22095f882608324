/**
 * Write load on the kv route that remembers every acknowledged write, and the check that finds
 * acknowledged writes a region's table lacks. The database stop/start test and the refill
 * benchmark (tools/bench-refill.ts) share it, so both count "lost" the same way.
 */

/** A place writes go to: a regional API or the global endpoint (with headers naming a client). */
export interface WriteTarget {
  readonly name: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface KvLoad {
  /** Acknowledged writes (200): key -> value. Every key is written once. */
  readonly acked: ReadonlyMap<string, string>;
  /** Responses by status ("error" when no response came), acknowledged ones included. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Stops the writers; resolves once every request in flight has its answer. */
  stop(): Promise<void>;
}

/** Pause after a refused or failed write, so a writer facing a down region does not spin. */
const PAUSE_AFTER_REFUSAL_MS = 20;

/** Starts `perTarget` sequential writers per target, each writing new keys until `stop()`. */
export function startKvWriters(
  targets: readonly WriteTarget[],
  perTarget: number,
  prefix: string,
): KvLoad {
  const acked = new Map<string, string>();
  const statuses: Record<string, number> = {};
  let stopping = false;
  const writer = async (target: WriteTarget, n: number): Promise<void> => {
    for (let seq = 0; !stopping; seq++) {
      const key = `${prefix}-${target.name}-${n}-${seq}`;
      const value = `${key}@${Date.now()}`;
      let status: string;
      try {
        const res = await fetch(`${target.url}/kv/${encodeURIComponent(key)}`, {
          method: "PUT",
          headers: { "content-type": "application/json", ...target.headers },
          body: JSON.stringify({ value }),
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        status = String(res.status);
      } catch {
        status = "error";
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === "200") acked.set(key, value);
      else await new Promise((r) => setTimeout(r, PAUSE_AFTER_REFUSAL_MS));
    }
  };
  const running = targets.flatMap((t) => Array.from({ length: perTarget }, (_, n) => writer(t, n)));
  return {
    acked,
    statuses,
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(running);
    },
  };
}

/** Acknowledged writes a region's kv items (unmarshalled) do not hold with the same value. */
export function missingWrites(
  acked: ReadonlyMap<string, string>,
  items: readonly Record<string, unknown>[],
): string[] {
  const stored = new Map<string, unknown>();
  for (const item of items) {
    const text = item.Value;
    stored.set(String(item.Key), typeof text === "string" ? safeJson(text) : undefined);
  }
  return [...acked].filter(([key, value]) => stored.get(key) !== value).map(([key]) => key);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
