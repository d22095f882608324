/**
 * Verifies AWS request signatures the way an AWS endpoint does, for the local stand-ins of API
 * Gateway, the ARC cluster, FIS and CloudWatch.
 *
 *   const verifier = new SignatureVerifier({ credentials: [creds], service: "execute-api",
 *     region: "us-east-1" });
 *   const verdict = verifier.verify({ method, url, headers, body });
 *   if (!verdict.ok) reply(verdict.status, verdict.errorType, verdict.message);
 *
 * - SigV4 (`AWS4-HMAC-SHA256`): the credential scope must name this endpoint's region and
 *   service; the signature is recomputed with @smithy/signature-v4's canonical request, string to
 *   sign and signing key, and compared in constant time.
 * - SigV4a (`AWS4-ECDSA-P256-SHA256`): the scope has no region; the signed `x-amz-region-set`
 *   header must cover this endpoint's region (`*`, a list, or `us-*` style patterns). The ECDSA
 *   P-256 public key is derived from the secret key as the SigV4a spec and @smithy/signature-v4a
 *   do (NIST SP 800-108 counter-mode HMAC-SHA256 over "AWS4A" + secret), and the signature over
 *   the string to sign is checked with node:crypto (the key and the region set: sigv4a.ts).
 * - Both: `x-amz-date` within `clockSkewMs` of now (API Gateway allows 5 minutes either way),
 *   `host` signed, the scope's date equal to the request's, a known access key, the session token
 *   (when the credentials have one) sent and signed. The payload hash is always the hash of the
 *   body received, whatever `x-amz-content-sha256` says.
 *
 * Failures are 403s with the message and `x-amzn-ErrorType` API Gateway sends for each case.
 */
import { createHash, createHmac, timingSafeEqual, verify } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { ALGORITHM_IDENTIFIER_V4A, SignatureV4Base, getSigningKey } from "@smithy/signature-v4";
import type { HeaderBag, HttpRequest } from "@smithy/types";
import { regionSetCovers, sigV4aPublicKey } from "./sigv4a";

/** Credentials a stand-in accepts. */
export interface StandInCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** A request as it arrived: raw path and query, header names lower case. */
export interface ArrivedRequest {
  readonly method: string;
  /** Path and query string exactly as sent (`req.url`). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export type Verdict =
  | {
      readonly ok: true;
      readonly algorithm: "SigV4" | "SigV4a";
      readonly accessKeyId: string;
      /** SigV4: the scope's region; SigV4a: the signed region set. */
      readonly regions: string;
    }
  | {
      readonly ok: false;
      readonly status: 403;
      /** API Gateway's `x-amzn-ErrorType`. */
      readonly errorType: string;
      readonly message: string;
    };

export interface VerifierOptions {
  readonly credentials: readonly StandInCredentials[];
  /** Signing name: execute-api, route53-recovery-cluster, fis, monitoring. */
  readonly service: string;
  /** Regions this endpoint answers for: a SigV4 scope must name one of them. */
  readonly regions: readonly string[];
  /** @default 300_000 (5 minutes, API Gateway's window) */
  readonly clockSkewMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/** Exposes the canonical request and string to sign of @smithy/signature-v4 (protected there). */
class CanonicalForm extends SignatureV4Base {
  constructor() {
    super({
      service: "unused",
      region: "unused",
      credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
      sha256: Sha256,
      applyChecksum: false,
    });
  }

  stringToSign(
    request: HttpRequest,
    headers: HeaderBag,
    payloadHash: string,
    longDate: string,
    scope: string,
    algorithm: string,
  ): Promise<string> {
    const canonical = this.createCanonicalRequest(request, headers, payloadHash);
    return this.createStringToSign(longDate, scope, canonical, algorithm);
  }
}

const AUTH_PATTERN =
  /^(AWS4-HMAC-SHA256|AWS4-ECDSA-P256-SHA256) +Credential=([^,\s]+), *SignedHeaders=([^,\s]+), *Signature=([0-9a-f]+)$/;
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;

const INCOMPLETE = "IncompleteSignatureException";
const INVALID = "InvalidSignatureException";
const UNRECOGNIZED = "UnrecognizedClientException";
const INVALID_TOKEN = "The security token included in the request is invalid.";

/** Why a request is refused, thrown inside `verify` and returned as its verdict. */
class Refusal extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the Authorization header says, with the credentials it names. */
interface ParsedAuth {
  readonly algorithm: string;
  readonly v4a: boolean;
  readonly creds: StandInCredentials;
  readonly shortDate: string;
  /** SigV4 only: the scope's region. */
  readonly region: string | undefined;
  readonly service: string;
  readonly signed: readonly string[];
  readonly signature: string;
}

function fail(errorType: string, message: string): Verdict {
  return { ok: false, status: 403, errorType, message };
}

function header(headers: ArrivedRequest["headers"], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export class SignatureVerifier {
  private readonly form = new CanonicalForm();
  private readonly byKey: Map<string, StandInCredentials>;
  private readonly publicKeys = new Map<string, ReturnType<typeof sigV4aPublicKey>>();
  private readonly skew: number;
  private readonly now: () => number;

  constructor(private readonly opts: VerifierOptions) {
    if (opts.credentials.length === 0) throw new Error("a verifier needs at least one credential");
    if (opts.regions.length === 0) throw new Error("a verifier needs at least one region");
    this.byKey = new Map(opts.credentials.map((c) => [c.accessKeyId, c]));
    this.skew = opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Whether `req` carries a valid signature for this endpoint; never throws. */
  async verify(req: ArrivedRequest): Promise<Verdict> {
    try {
      const auth = this.parse(req);
      const longDate = this.checkDate(req, auth);
      const { regions, scope } = this.checkScope(req, auth);
      this.checkHeaders(req, auth);
      const stringToSign = await this.stringToSign(
        req,
        auth.signed,
        longDate,
        scope,
        auth.algorithm,
      );
      const good = auth.v4a
        ? this.checkV4a(auth.creds, stringToSign, auth.signature)
        : await this.checkV4(auth, stringToSign, regions);
      if (!good) {
        throw new Refusal(
          INVALID,
          "The request signature we calculated does not match the signature you provided. Check " +
            "your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        );
      }
      const algorithm = auth.v4a ? "SigV4a" : "SigV4";
      return { ok: true, algorithm, accessKeyId: auth.creds.accessKeyId, regions };
    } catch (err) {
      if (err instanceof Refusal) return fail(err.errorType, err.message);
      throw err;
    }
  }

  /** The Authorization header, its credential scope, and the credentials it names. */
  private parse(req: ArrivedRequest): ParsedAuth {
    const auth = header(req.headers, "authorization");
    if (auth === undefined) {
      throw new Refusal("MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    const m = AUTH_PATTERN.exec(auth.trim());
    if (!m) {
      throw new Refusal(
        INCOMPLETE,
        `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters, ` +
          `with algorithm AWS4-HMAC-SHA256 or AWS4-ECDSA-P256-SHA256. Authorization=${auth}`,
      );
    }
    const [, algorithm, credential, signedList, signature] = m as unknown as string[];
    const v4a = algorithm === ALGORITHM_IDENTIFIER_V4A;
    const scopeParts = (credential as string).split("/");
    const expectedParts = v4a ? 4 : 5;
    if (scopeParts.length !== expectedParts || scopeParts[expectedParts - 1] !== "aws4_request") {
      throw new Refusal(INCOMPLETE, `Credential should be scoped correctly: ${credential}`);
    }
    const creds = this.byKey.get(scopeParts[0] as string);
    if (!creds) throw new Refusal(UNRECOGNIZED, INVALID_TOKEN);
    const service = scopeParts[expectedParts - 2] as string;
    if (service !== this.opts.service) {
      throw new Refusal(
        INVALID,
        `Credential should be scoped to correct service: '${this.opts.service}'. `,
      );
    }
    const signed = (signedList as string).split(";");
    if (!signed.includes("host")) {
      throw new Refusal(
        INCOMPLETE,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      );
    }
    return {
      algorithm: algorithm as string,
      v4a,
      creds,
      shortDate: scopeParts[1] as string,
      region: v4a ? undefined : (scopeParts[2] as string),
      service,
      signed,
      signature: signature as string,
    };
  }

  /** `x-amz-date`, signed, matching the scope's date and within the clock skew of now. */
  private checkDate(req: ArrivedRequest, auth: ParsedAuth): string {
    const dateValue = header(req.headers, "x-amz-date");
    const dateMs = dateValue === undefined ? undefined : parseAmzDate(dateValue);
    if (dateValue === undefined || dateMs === undefined || !auth.signed.includes("x-amz-date")) {
      throw new Refusal(
        INCOMPLETE,
        "Authorization header requires existence of a signed 'X-Amz-Date' header.",
      );
    }
    if (AMZ_DATE.exec(dateValue)?.[1] !== auth.shortDate) {
      throw new Refusal(
        INVALID,
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.shortDate}' != '${dateValue.slice(0, 8)}'`,
      );
    }
    const now = this.now();
    const minutes = Math.round(this.skew / 60_000);
    if (dateMs < now - this.skew) {
      throw new Refusal(
        INVALID,
        `Signature expired: ${dateValue} is now earlier than ${amzDate(now - this.skew)} (${amzDate(now)} - ${minutes} min.)`,
      );
    }
    if (dateMs > now + this.skew) {
      throw new Refusal(
        INVALID,
        `Signature not yet current: ${dateValue} is still later than ${amzDate(now + this.skew)} (${amzDate(now)} + ${minutes} min.)`,
      );
    }
    return dateValue;
  }

  /** The region (SigV4) or signed region set (SigV4a) must cover this endpoint's region. */
  private checkScope(req: ArrivedRequest, auth: ParsedAuth): { regions: string; scope: string } {
    if (auth.region !== undefined) {
      if (!this.opts.regions.includes(auth.region)) {
        throw new Refusal(
          INVALID,
          `Credential should be scoped to a valid region, not '${auth.region}'. `,
        );
      }
      return {
        regions: auth.region,
        scope: `${auth.shortDate}/${auth.region}/${auth.service}/aws4_request`,
      };
    }
    const set = header(req.headers, "x-amz-region-set");
    if (set === undefined || !auth.signed.includes("x-amz-region-set")) {
      throw new Refusal(INCOMPLETE, "SigV4a requires a signed 'X-Amz-Region-Set' header.");
    }
    if (!this.opts.regions.some((r) => regionSetCovers(set, r))) {
      throw new Refusal(
        INVALID,
        `The region set '${set}' does not include this endpoint's region (${this.opts.regions.join(", ")}).`,
      );
    }
    return { regions: set, scope: `${auth.shortDate}/${auth.service}/aws4_request` };
  }

  /** The session token, when the credentials have one, and every signed header were sent. */
  private checkHeaders(req: ArrivedRequest, auth: ParsedAuth): void {
    if (auth.creds.sessionToken !== undefined) {
      const token = header(req.headers, "x-amz-security-token");
      if (token !== auth.creds.sessionToken || !auth.signed.includes("x-amz-security-token")) {
        throw new Refusal(UNRECOGNIZED, INVALID_TOKEN);
      }
    }
    const missing = auth.signed.filter((h) => header(req.headers, h) === undefined);
    if (missing.length > 0) {
      throw new Refusal(INVALID, `Signed header(s) not sent: ${missing.join(", ")}`);
    }
  }

  private stringToSign(
    req: ArrivedRequest,
    signed: readonly string[],
    longDate: string,
    scope: string,
    algorithm: string,
  ): Promise<string> {
    const url = new URL(req.url, "http://stand-in");
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of url.searchParams) {
      const prev = query[name];
      query[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
    }
    const headers: HeaderBag = {};
    for (const name of signed) {
      headers[name] = (header(req.headers, name) as string).trim().replace(/\s+/g, " ");
    }
    // Clients sign `URL.pathname` (already percent-encoded) and the signer escapes it once more;
    // node hands us that same encoded form, so it goes in as is.
    const rawPath = (req.url.split("?")[0] as string) || "/";
    const request = {
      method: req.method,
      protocol: "http:",
      hostname: "stand-in",
      path: rawPath,
      query,
      headers,
    } as HttpRequest;
    const payloadHash = createHash("sha256").update(req.body).digest("hex");
    return this.form.stringToSign(request, headers, payloadHash, longDate, scope, algorithm);
  }

  private async checkV4(auth: ParsedAuth, stringToSign: string, region: string): Promise<boolean> {
    const key = await getSigningKey(Sha256, auth.creds, auth.shortDate, region, auth.service);
    const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
    const got = Buffer.from(auth.signature, "hex");
    return got.length === expected.length && timingSafeEqual(got, expected);
  }

  private checkV4a(creds: StandInCredentials, stringToSign: string, signature: string): boolean {
    let key = this.publicKeys.get(creds.accessKeyId);
    if (!key) {
      key = sigV4aPublicKey(creds.accessKeyId, creds.secretAccessKey);
      this.publicKeys.set(creds.accessKeyId, key);
    }
    try {
      return verify(
        "sha256",
        Buffer.from(stringToSign, "utf8"),
        { key, dsaEncoding: "der" },
        Buffer.from(signature, "hex"),
      );
    } catch {
      return false;
    }
  }
}
