/**
 * The canary's real boundaries: signing for `execute-api` with the AWS SDK's own signers (SigV4
 * for one region, SigV4a from @aws-sdk/signature-v4a for the region set `*`), with credentials
 * from a provider such as the SDK default chain, and one HTTP(S) exchange bounded by a timeout
 * that covers connecting, the response headers and the whole body.
 */
import * as http from "node:http";
import * as https from "node:https";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4a } from "@aws-sdk/signature-v4a";
import { SignatureV4 } from "@smithy/signature-v4";
import type { HttpRequest } from "@smithy/types";
import { RequestTimeoutError, type CanaryRequest, type CanaryResponse } from "./check";

/** The signing service of API Gateway's invoke API. */
export const EXECUTE_API_SERVICE = "execute-api";

/** Largest response body read; the API's bodies are a few hundred bytes. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Credentials, or a function that returns them (and may refresh them). */
export type CredentialSource = Credentials | (() => Promise<Credentials>);

/** The SigV4a region set that covers every region. */
export const EVERY_REGION = "*";

/**
 * A `sign` boundary for `runCanary`: one signer per region, created on first use, each signing
 * for `execute-api` with `credentials`: SigV4a for `*` (valid in whichever region serves the
 * request), SigV4 for a region name.
 */
export function sigV4Signer(
  credentials: CredentialSource,
): (request: CanaryRequest, region: string) => Promise<CanaryRequest> {
  const signers = new Map<string, SignatureV4 | SignatureV4a>();
  return async (request, region) => {
    let signer = signers.get(region);
    if (signer === undefined) {
      const init = { service: EXECUTE_API_SERVICE, region, credentials, sha256: Sha256 };
      signer = region === EVERY_REGION ? new SignatureV4a(init) : new SignatureV4(init);
      signers.set(region, signer);
    }
    const url = new URL(request.url);
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = value;
    const signed: HttpRequest = await signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port !== "" ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        // `host` is signed, so it is sent exactly as signed (with the port when there is one).
        headers: { ...request.headers, host: url.host },
      },
      {},
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
    return { method: request.method, url: request.url, headers };
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * A `send` boundary for `runCanary` over node:https (node:http for an `http:` URL). The time
 * bound covers the whole exchange; when it passes the request is destroyed and the promise
 * rejects with `RequestTimeoutError`. Any status resolves; network errors reject as they are.
 */
export function httpSend(request: CanaryRequest, timeoutMs: number): Promise<CanaryResponse> {
  const url = new URL(request.url);
  const client = url.protocol === "http:" ? http : https;
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise<CanaryResponse>((resolve, reject) => {
    const fail = (err: unknown): void => {
      reject(signal.aborted ? new RequestTimeoutError(request.url, timeoutMs) : err);
    };
    const req = client.request(
      url,
      { method: request.method, headers: { ...request.headers }, signal },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy(new Error(`response body exceeds ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", fail);
        res.on("end", () => {
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            headers[name] = headerValue(value);
          }
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    req.on("error", fail);
    req.end();
  });
}
