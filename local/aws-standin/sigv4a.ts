/**
 * What SigV4a adds to SigV4, for the stand-ins' signature check (sigv4-verify.ts): the ECDSA
 * P-256 key pair derived from the secret key, as the SigV4a spec and @smithy/signature-v4a derive
 * it, and the signed region set (`*`, a list, or `us-*` style patterns) a request covers.
 */
import { createECDH, createHmac, createPublicKey } from "node:crypto";
import { ALGORITHM_IDENTIFIER_V4A } from "@smithy/signature-v4";

/** The P-256 group order n, minus 2: the bound of the SigV4a key derivation. */
const P256_N_MINUS_2 = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f");

/**
 * The SigV4a private scalar for a key pair, as a 32-byte big-endian buffer (SigV4a spec: HMAC-SHA256
 * keyed with "AWS4A" + secret over counter || label || 0x00 || access key id || trial || 256,
 * the first trial whose value is at most n-2, plus one).
 */
export function sigV4aPrivateKey(accessKeyId: string, secretAccessKey: string): Buffer {
  for (let trial = 1; trial < 255; trial++) {
    const fixed = Buffer.concat([
      Buffer.from([0, 0, 0, 1]),
      Buffer.from(ALGORITHM_IDENTIFIER_V4A, "latin1"),
      Buffer.from([0]),
      Buffer.from(accessKeyId, "latin1"),
      Buffer.from([trial]),
      Buffer.from([0, 0, 1, 0]),
    ]);
    const k0 = createHmac("sha256", Buffer.from(`AWS4A${secretAccessKey}`, "latin1"))
      .update(fixed)
      .digest();
    const value = BigInt(`0x${k0.toString("hex")}`);
    if (value > P256_N_MINUS_2) continue;
    return Buffer.from((value + 1n).toString(16).padStart(64, "0"), "hex");
  }
  throw new Error("cannot derive a SigV4a key: every trial exceeded n-2");
}

/** The SigV4a public key (a node KeyObject) of a key pair. */
export function sigV4aPublicKey(accessKeyId: string, secretAccessKey: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(sigV4aPrivateKey(accessKeyId, secretAccessKey));
  const point = ecdh.getPublicKey();
  return createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: point.subarray(1, 33).toString("base64url"),
      y: point.subarray(33, 65).toString("base64url"),
    },
    format: "jwk",
  });
}

/** True when a SigV4a region set (`*`, `us-east-1,us-west-2`, `us-*`) covers `region`. */
export function regionSetCovers(set: string, region: string): boolean {
  return set
    .split(",")
    .map((s) => s.trim())
    .some((pattern) => {
      if (pattern === "*") return true;
      if (!pattern.includes("*")) return pattern === region;
      const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
      return re.test(region);
    });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
