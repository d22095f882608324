/**
 * The pure parts of the sandbox's replication: item fingerprints, change versions and their
 * last-writer-wins order, and the replication lag a change is delayed by.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** An item as DynamoDB stores it (raw attribute values, as in stream records). */
export type Image = Record<string, AttributeValue>;

/** Fingerprint of "no item" (a delete, or nothing there). */
export const ABSENT = "∅";

function canonical(value: AttributeValue): unknown {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString("base64") };
  if (value.SS !== undefined) return { SS: [...value.SS].sort() };
  if (value.NS !== undefined) return { NS: [...value.NS].sort() };
  if (value.BS !== undefined) {
    return { BS: value.BS.map((b) => Buffer.from(b).toString("base64")).sort() };
  }
  if (value.L !== undefined) return { L: value.L.map(canonical) };
  if (value.M !== undefined) return { M: canonicalImage(value.M) };
  throw new Error(`unsupported attribute value: ${JSON.stringify(Object.keys(value))}`);
}

function canonicalImage(image: Image): [string, unknown][] {
  return Object.keys(image)
    .sort()
    .map((name) => [name, canonical(image[name] as AttributeValue)]);
}

/**
 * A string equal for two images exactly when DynamoDB would store the same item: attribute order
 * and set element order do not count. `ABSENT` for no item.
 */
export function fingerprint(image: Image | undefined): string {
  return image === undefined ? ABSENT : JSON.stringify(canonicalImage(image));
}

/** When a change happened and in which region: the order last-writer-wins decides by. */
export interface Version {
  /** Change time, epoch ms. */
  readonly ts: number;
  /** Region where the change was written by a client. */
  readonly origin: string;
}

/** Orders versions by time, then by origin region name so that every region picks the same winner. */
export function compareVersions(a: Version, b: Version): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0;
}

/** The newer of two versions (either may be missing). */
export function newest(a: Version | undefined, b: Version | undefined): Version | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}

/** Replication delay, drawn uniformly from `minMs..maxMs` for every change. */
export interface LagRange {
  readonly minMs: number;
  readonly maxMs: number;
}

/** The sample's measured replication latency (600-1200 ms), the sandbox's default. */
export const DEFAULT_LAG: LagRange = { minMs: 600, maxMs: 1200 };

/** Longest lag accepted, so a typo does not silently stop replication for hours. */
export const MAX_LAG_MS = 600_000;

/** Parses "600-1200" (a range) or "300" (fixed), in milliseconds. */
export function parseLag(text: string): LagRange {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?(?:ms)?\s*$/.exec(text);
  if (!m)
    throw new Error(`lag must be "MIN-MAX" or "MS" in milliseconds, e.g. 600-1200: got ${text}`);
  const minMs = Number(m[1]);
  const maxMs = m[2] === undefined ? minMs : Number(m[2]);
  return checkLag({ minMs, maxMs });
}

export function checkLag(lag: LagRange): LagRange {
  const { minMs, maxMs } = lag;
  if (!Number.isFinite(minMs) || !Number.isFinite(maxMs) || minMs < 0 || maxMs < minMs) {
    throw new Error(`lag range must satisfy 0 <= min <= max: got ${minMs}-${maxMs}`);
  }
  if (maxMs > MAX_LAG_MS) throw new Error(`lag must be at most ${MAX_LAG_MS} ms: got ${maxMs}`);
  return lag;
}

/** One lag drawn from the range; `random` is injectable for tests. */
export function sampleLag(lag: LagRange, random: () => number = Math.random): number {
  return lag.minMs + random() * (lag.maxMs - lag.minMs);
}

export function formatLag(lag: LagRange): string {
  return lag.minMs === lag.maxMs ? `${lag.minMs} ms` : `${lag.minMs}-${lag.maxMs} ms`;
}
