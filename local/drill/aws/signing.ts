/**
 * Signing for API Gateway's IAM authorization (`execute-api`): SigV4a for the region set `*` for
 * the service name (valid in whichever region DNS sends the request to), SigV4 for one region's
 * own endpoint. Both are the AWS SDK's pure-JS signers (no CRT).
 */
import { createECDH, createPrivateKey, sign as cryptoSign, type KeyObject } from "node:crypto";
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

/** A P-256 private key (the SigV4a signing key, 32 bytes) as a node:crypto key. */
function p256Key(scalar: Uint8Array): KeyObject {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(scalar));
  const pub = ecdh.getPublicKey();
  const b64 = (b: Buffer) => b.toString("base64url");
  return createPrivateKey({
    key: {
      kty: "EC",
      crv: "P-256",
      d: b64(Buffer.from(scalar)),
      x: b64(pub.subarray(1, 33)),
      y: b64(pub.subarray(33, 65)),
    },
    format: "jwk",
  });
}

/**
 * SigV4a for every region (`X-Amz-Region-Set: *`). The library derives the key and builds the
 * string to sign; the ECDSA P-256/SHA-256 signature itself is made with node:crypto instead of
 * the library's bundled pure-JS curve (about 25 ms a request on a busy machine, enough to slow
 * a drill client down). Same algorithm and DER encoding: a test verifies it independently.
 */
export function sigV4aSigner(credentials: CredentialSource): Signer {
  const signer = new SignatureV4a({
    service: EXECUTE_API,
    region: "*",
    credentials,
    sha256: Sha256,
  });
  const keys = new Map<string, KeyObject>();
  (signer as unknown as { getSignature: unknown }).getSignature = async (
    privateKey: Uint8Array,
    stringToSign: string,
  ): Promise<string> => {
    const id = Buffer.from(privateKey).toString("hex");
    let key = keys.get(id);
    if (!key) keys.set(id, (key = p256Key(privateKey)));
    const der = cryptoSign("sha256", Buffer.from(stringToSign, "utf8"), {
      key,
      dsaEncoding: "der",
    });
    return der.toString("hex");
  };
  return async (req) => lower((await signer.sign(toHttpRequest(req), {})).headers);
}

/** SigV4 for one region. */
export function sigV4Signer(credentials: CredentialSource, region: string): Signer {
  const signer = new SignatureV4({ service: EXECUTE_API, region, credentials, sha256: Sha256 });
  return async (req) => lower((await signer.sign(toHttpRequest(req))).headers);
}
