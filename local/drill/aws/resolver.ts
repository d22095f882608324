/**
 * A DNS client that keeps an answer the way a caching resolver does: resolve, keep the address
 * for the record's TTL, then ask again. One per drill client, so each client's view of the
 * service name moves when its own copy expires, as a real client population's does.
 */
import * as dns from "node:dns";
import DNS from "dns2";

export interface DnsServer {
  readonly host: string;
  readonly port: number;
}

export interface Resolved {
  readonly address: string;
  /** The TTL of the answer, in seconds (the smallest TTL along a CNAME chain). */
  readonly ttlSeconds: number;
  /** True when the answer came from this client's cache. */
  readonly cached: boolean;
}

interface Answer {
  readonly type: number;
  readonly ttl: number;
  readonly address?: string;
  readonly name?: string;
}

const TYPE_A = 1;
const TYPE_CNAME = 5;

/** `HOST:PORT` or `HOST` (port 53). */
export function parseDnsServer(raw: string): DnsServer {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(raw.trim());
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || !(port > 0 && port < 65_536))
    throw new Error(`DNS server must be HOST or HOST:PORT: got ${raw}`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port };
}

/** The system's first configured name server. */
export function systemDnsServer(): DnsServer {
  const first = dns.getServers()[0];
  if (first === undefined) throw new Error("no DNS server configured on this machine");
  return parseDnsServer(first.includes(":") && !first.startsWith("[") ? `[${first}]` : first);
}

export class TtlResolver {
  private readonly cache = new Map<string, { address: string; ttl: number; expires: number }>();
  private readonly query: (name: string, type: "A") => Promise<{ answers: Answer[] }>;

  constructor(
    server: DnsServer,
    private readonly now: () => number = Date.now,
    timeoutMs = 2_000,
  ) {
    this.query = DNS.UDPClient({
      dns: server.host,
      port: server.port,
      timeout: timeoutMs,
    }) as never;
  }

  /** The address of `name`: from the cache while its TTL lasts, else asked again. */
  async resolve(name: string): Promise<Resolved> {
    const hit = this.cache.get(name);
    if (hit && this.now() < hit.expires)
      return { address: hit.address, ttlSeconds: hit.ttl, cached: true };
    const res = await this.query(name, "A");
    const answers = res.answers ?? [];
    const a = answers.find((x) => x.type === TYPE_A && typeof x.address === "string");
    if (!a) throw Object.assign(new Error(`no A record for ${name}`), { code: "ENOTFOUND" });
    const ttl = Math.min(
      ...answers.filter((x) => x.type === TYPE_A || x.type === TYPE_CNAME).map((x) => x.ttl),
    );
    this.cache.set(name, { address: a.address as string, ttl, expires: this.now() + ttl * 1000 });
    return { address: a.address as string, ttlSeconds: ttl, cached: false };
  }
}
