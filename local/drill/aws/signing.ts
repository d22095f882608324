/**
 * Signing for API Gateway's IAM authorization (`execute-api`): SigV4a for the region set `*` for
 * the service name (valid in whichever region DNS sends the request to), SigV4 for one region's
 * own endpoint. Both are the AWS SDK's pure-JS signers (no CRT).
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { SignatureV4a } from "@smithy/signature-v4a";

export const EXECUTE_API = "execute-api";

/** Credentials, or a provider of them (the SDK's default chain). */
export type CredentialSource = ConstructorParameters<typeof SignatureV4>[0]["credentials"];

export interface Unsigned {
  readonly method: string;
  /** The URL whose host is signed (and sent as Host): the service name or the invoke host. */
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
}

/** Signs a request; returns the headers to send (lower-case names). */
export type Signer = (req: Unsigned) => Promise<Record<string, string>>;

function toHttpRequest(req: Unsigned): HttpRequest {
  const query: Record<string, string> = {};
  for (const [k, v] of req.url.searchParams) query[k] = v;
  return new HttpRequest({
    method: req.method,
    protocol: req.url.protocol,
    hostname: req.url.hostname,
    ...(req.url.port !== "" ? { port: Number(req.url.port) } : {}),
    path: req.url.pathname,
    query,
    // `host` is signed, so it goes out exactly as signed (with the port when there is one).
    headers: { ...req.headers, host: req.url.host },
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** SigV4a for every region (`X-Amz-Region-Set: *`). */
export function sigV4aSigner(credentials: CredentialSource): Signer {
  const signer = new SignatureV4a({
    service: EXECUTE_API,
    region: "*",
    credentials,
    sha256: Sha256,
  });
  return async (req) => lower((await signer.sign(toHttpRequest(req), {})).headers);
}

/** SigV4 for one region. */
export function sigV4Signer(credentials: CredentialSource, region: string): Signer {
  const signer = new SignatureV4({ service: EXECUTE_API, region, credentials, sha256: Sha256 });
  return async (req) => lower((await signer.sign(toHttpRequest(req))).headers);
}
