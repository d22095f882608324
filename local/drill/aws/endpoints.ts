/**
 * `ServiceEndpoints` of a deployed service. The service name goes through each drill client's own
 * TTL-honouring DNS client and is signed with SigV4a for every region, so a request DNS moves
 * mid-failover stays valid; a region's own endpoint is signed with SigV4 for that region.
 * Should a region refuse the SigV4a signature (403), the request is signed again with SigV4 for
 * the region DNS chose and sent once more, and that client signs per region from then on.
 */
import type { ApiCall, ApiResult, ClientIdentity, ServiceEndpoints } from "../target";
import { exchange, type Answer } from "./http";
import type { DeployedOutputs } from "./outputs";
import { TtlResolver, type DnsServer } from "./resolver";
import { sigV4aSigner, sigV4Signer, type CredentialSource, type Signer } from "./signing";

export interface AwsEndpointsOptions {
  readonly outputs: DeployedOutputs;
  readonly credentials: CredentialSource;
  readonly dnsServer: DnsServer;
  /** @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Told once when a region refused SigV4a and the drill fell back to SigV4. */
  readonly onNote?: (line: string) => void;
}

/** A 403 that is about the signature, not about the caller's permissions. */
export function signatureRefused(a: Answer): boolean {
  if (a.status !== 403) return false;
  const text = typeof a.body === "string" ? a.body : JSON.stringify(a.body ?? "");
  return /signature|credential should be scoped|authorization header|ECDSA|region.set/i.test(text);
}

export interface AwsEndpoints extends ServiceEndpoints {
  /** The TTL the service name's record had at its last resolution, in seconds. */
  readonly lastTtlSeconds: () => number | undefined;
}

export function awsEndpoints(opts: AwsEndpointsOptions): AwsEndpoints {
  const { outputs } = opts;
  const timeoutMs = opts.requestTimeoutMs ?? 5_000;
  const regions = outputs.regions.map((r) => r.region);
  const invoke = new Map(outputs.regions.map((r) => [r.region, r.invokeUrl.replace(/\/+$/, "")]));
  const regional = new Map(regions.map((r) => [r, sigV4Signer(opts.credentials, r)]));
  const global = sigV4aSigner(opts.credentials);
  const resolvers = new Map<string, TtlResolver>();
  /** Resolves the regions' own domain names, to tell which region an address belongs to. */
  const mapper = new TtlResolver(opts.dnsServer);
  const perRegionSigning = new Set<string>();
  let lastTtl: number | undefined;
  let noted = false;

  async function regionOf(address: string): Promise<string | undefined> {
    for (const r of outputs.regions) {
      if (r.regionalDomainName === undefined) continue;
      try {
        if ((await mapper.resolve(r.regionalDomainName)).address === address) return r.region;
      } catch {
        // that name does not resolve now: not this region
      }
    }
    return undefined;
  }

  async function send(
    url: URL,
    call: ApiCall,
    sign: Signer,
    extra: Record<string, string>,
    address?: string,
  ): Promise<Answer> {
    const body = call.body !== undefined ? JSON.stringify(call.body) : undefined;
    const headers = { "content-type": "application/json", ...extra };
    const signed = await sign({ method: call.method, url, headers, body });
    return exchange({
      method: call.method,
      url,
      address,
      headers: signed,
      body,
      timeoutMs: call.timeoutMs ?? timeoutMs,
    });
  }

  function result(a: Answer, startedAt: number, t0: number, resolved?: string): ApiResult {
    return {
      status: a.status,
      servedBy: a.headers["x-served-by-region"],
      resolvedRegion: resolved,
      body: a.body,
      error: a.error,
      startedAt,
      ms: Math.round(performance.now() - t0),
    };
  }

  return {
    regions,
    lastTtlSeconds: () => lastTtl,
    async viaGlobal(call: ApiCall, client: ClientIdentity): Promise<ApiResult> {
      const startedAt = Date.now();
      const t0 = performance.now();
      let resolver = resolvers.get(client.id);
      if (!resolver) resolvers.set(client.id, (resolver = new TtlResolver(opts.dnsServer)));
      let address: string;
      try {
        const r = await resolver.resolve(outputs.serviceDomain);
        address = r.address;
        lastTtl = r.ttlSeconds;
      } catch (err) {
        const e = err as { code?: string; message?: string };
        return result(
          { status: 0, headers: {}, body: undefined, error: e.code ?? "dns" },
          startedAt,
          t0,
        );
      }
      const resolved = await regionOf(address);
      const url = new URL(outputs.globalUrl + call.path);
      const extra = { "x-client-id": client.id, "x-client-region": client.region };
      const perRegion = resolved !== undefined && perRegionSigning.has(client.id);
      let a = await send(
        url,
        call,
        perRegion ? (regional.get(resolved) as Signer) : global,
        extra,
        address,
      );
      const region = resolved ?? a.headers["x-served-by-region"];
      if (!perRegion && signatureRefused(a) && region !== undefined && regional.has(region)) {
        perRegionSigning.add(client.id);
        if (!noted) {
          noted = true;
          opts.onNote?.(
            `${region} refused the SigV4a signature (${a.error ?? "403"}): signing for the region DNS chose from now on`,
          );
        }
        a = await send(url, call, regional.get(region) as Signer, extra, address);
      }
      return result(a, startedAt, t0, resolved);
    },
    async viaRegion(region: string, call: ApiCall): Promise<ApiResult> {
      const base = invoke.get(region);
      const sign = regional.get(region);
      if (base === undefined || sign === undefined) throw new Error(`unknown region ${region}`);
      const startedAt = Date.now();
      const t0 = performance.now();
      const a = await send(new URL(base + call.path), call, sign, {});
      return result(a, startedAt, t0);
    },
  };
}
