/**
 * A DNS stand-in for the service name's Route 53 records (the `dns2` package, UDP and TCP on
 * 127.0.0.1, a free port unless given).
 *
 *   const dns = await startServiceDns({ serviceDomain: "orders.example.test",
 *     answer: () => ["127.0.0.2"], ttlSeconds: () => 5 });
 *   const r = new (require("node:dns").promises.Resolver)();
 *   r.setServers([dns.address]);                              // "127.0.0.1:PORT"
 *   await r.resolve4("orders.example.test", { ttl: true });   // [{ address, ttl: 5 }]
 *
 * `answer` is asked at every query, so the answer follows whatever it reads (the sandbox's routing
 * controls and health, in aws-standin/index.ts) with no propagation delay; each A record carries
 * `ttlSeconds()`, so a client that caches for the TTL keeps the old answer that long, as it would
 * with Route 53. The name is matched case-insensitively; AAAA and other types for it get an
 * empty answer (NODATA), other names NXDOMAIN. `queries()` counts the A queries answered and
 * `answers()` lists each distinct answer in order with when it was first given.
 */
import DNS from "dns2";

export interface ServiceDnsOptions {
  readonly serviceDomain: string;
  /** Addresses to answer with now (one A record each). */
  readonly answer: () => readonly string[];
  /** The records' TTL in seconds now. */
  readonly ttlSeconds: () => number;
  /** @default 0 (a free port) */
  readonly port?: number;
  readonly onError?: (message: string, err: unknown) => void;
}

export interface AnswerChange {
  readonly at: number;
  readonly addresses: readonly string[];
}

export interface ServiceDns {
  /** `127.0.0.1:PORT`, for `Resolver.setServers`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  queries(): number;
  answers(): readonly AnswerChange[];
  stop(): Promise<void>;
}

export const DNS_HOST = "127.0.0.1";
/** RFC 1035 RCODE 3 (dns2 3.0's typings lack Packet.RCODE). */
const NXDOMAIN = 3;

export async function startServiceDns(opts: ServiceDnsOptions): Promise<ServiceDns> {
  const { Packet } = DNS;
  const name = opts.serviceDomain.toLowerCase().replace(/\.$/, "");
  const onError = opts.onError ?? (() => undefined);
  let count = 0;
  const changes: AnswerChange[] = [];
  const server = DNS.createServer({
    udp: true,
    tcp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      response.header.aa = 1;
      const [question] = request.questions;
      const asked = (question?.name ?? "").toLowerCase().replace(/\.$/, "");
      if (question === undefined || asked !== name) {
        response.header.rcode = NXDOMAIN;
      } else if (question.type === Packet.TYPE.A) {
        count++;
        const addresses = opts.answer();
        const ttl = Math.round(opts.ttlSeconds());
        const last = changes[changes.length - 1];
        if (last === undefined || last.addresses.join() !== addresses.join()) {
          changes.push({ at: Date.now(), addresses: [...addresses] });
        }
        for (const address of addresses) {
          const record = {
            name: question.name,
            type: Packet.TYPE.A,
            class: Packet.CLASS.IN,
            ttl,
            address,
          };
          response.answers.push(record as (typeof response.answers)[number]);
        }
      }
      send(response).catch((err: unknown) => onError("DNS reply failed", err));
    },
  });
  server.on("requestError", (err) => onError("bad DNS request", err));
  server.on("error", (err) => onError("DNS server error", err));
  const port = opts.port ?? 0;
  const addresses = await server.listen({
    udp: { port, address: DNS_HOST },
    tcp: { port, address: DNS_HOST },
  });
  const udpPort = addresses.udp?.port;
  if (udpPort === undefined) throw new Error("the DNS stand-in did not get a UDP port");
  // TCP on a different free port than UDP when port 0: resolvers fall back to TCP on the same
  // port, so bind TCP again on the UDP port.
  if (addresses.tcp?.port !== udpPort) {
    await server.close();
    return startServiceDns({ ...opts, port: udpPort });
  }
  let stopping: Promise<void> | undefined;
  return {
    address: `${DNS_HOST}:${udpPort}`,
    host: DNS_HOST,
    port: udpPort,
    queries: () => count,
    answers: () => [...changes],
    stop: () => (stopping ??= server.close()),
  };
}
