/**
 * The two AWS wire protocols the service stand-ins speak, reduced to what they need: a signed
 * awsJson1_0 endpoint (ARC cluster, CloudWatch: `POST` with `X-Amz-Target: Prefix.Operation`) and
 * a signed restJson1 endpoint (FIS: method + path). Each verifies the SigV4 signature for its
 * service and the region it serves before calling the operation, and turns a thrown `AwsError`
 * into the protocol's error response (`__type`/`x-amzn-ErrorType` plus `message`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLargeError, arrived, readBody, sendJson } from "./http-util";
import type { SignatureVerifier } from "./sigv4-verify";

/** An error an operation answers with: AWS error code, HTTP status, message, extra fields. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const validation = (message: string): AwsError =>
  new AwsError("ValidationException", 400, message);

/** A signed request's region: the SigV4 scope's region (stand-ins accept SigV4 only). */
export type JsonOperation = (input: Record<string, unknown>, region: string) => Promise<unknown>;

function sendError(res: ServerResponse, err: AwsError, contentType: string): void {
  sendJson(
    res,
    err.status,
    { __type: err.code, message: err.message, Message: err.message, ...err.fields },
    { "x-amzn-errortype": err.code, "content-type": contentType },
  );
}

/** Reads the body and checks the signature; returns the body and the signing region. */
async function admit(
  req: IncomingMessage,
  verifier: SignatureVerifier,
): Promise<{ body: Buffer; region: string }> {
  let body: Buffer;
  try {
    body = await readBody(req, 1024 * 1024);
  } catch (err) {
    if (err instanceof BodyTooLargeError)
      throw new AwsError("ValidationException", 413, err.message);
    throw err;
  }
  const verdict = await verifier.verify(arrived(req, body));
  if (!verdict.ok) throw new AwsError(verdict.errorType, verdict.status, verdict.message);
  return { body, region: verdict.regions };
}

function parseObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new AwsError("SerializationException", 400, "the body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AwsError("SerializationException", 400, "the body is not a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A handler for an awsJson1_0 service: `operations` by name, under target prefix `prefix`. */
export function awsJsonHandler(
  prefix: string,
  verifier: SignatureVerifier,
  operations: Readonly<Record<string, JsonOperation>>,
  isDown: () => boolean = () => false,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const contentType = "application/x-amz-json-1.0";
  return async (req, res) => {
    try {
      if (isDown()) {
        throw new AwsError(
          "EndpointTemporarilyUnavailableException",
          503,
          "this endpoint is temporarily unavailable (stand-in: marked down); try another",
        );
      }
      const { body, region } = await admit(req, verifier);
      const target = String(req.headers["x-amz-target"] ?? "");
      const op = target.startsWith(`${prefix}.`) ? target.slice(prefix.length + 1) : "";
      const operation = req.method === "POST" ? operations[op] : undefined;
      if (operation === undefined) {
        throw new AwsError(
          "UnknownOperationException",
          400,
          `unknown operation ${target || "(none)"}`,
        );
      }
      const out = await operation(parseObject(body), region);
      sendJson(res, 200, out ?? {}, { "content-type": contentType });
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      sendError(res, err, contentType);
    }
  };
}

export type RestOperation = (
  input: {
    readonly params: Readonly<Record<string, string>>;
    readonly query: URLSearchParams;
    readonly body: Record<string, unknown>;
  },
  region: string,
) => Promise<unknown>;

export interface RestRoute {
  readonly method: string;
  /** `/experiments/{id}` style. */
  readonly path: string;
  readonly run: RestOperation;
}

/** A handler for a restJson1 service. */
export function restJsonHandler(
  verifier: SignatureVerifier,
  routes: readonly RestRoute[],
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const { body, region } = await admit(req, verifier);
      const url = new URL(req.url ?? "/", "http://stand-in");
      for (const route of routes) {
        if (route.method !== req.method) continue;
        const params = matchRest(route.path, url.pathname);
        if (params === undefined) continue;
        const out = await route.run(
          { params, query: url.searchParams, body: parseObject(body) },
          region,
        );
        sendJson(res, 200, out ?? {});
        return;
      }
      throw new AwsError(
        "UnknownOperationException",
        404,
        `no operation ${req.method} ${url.pathname}`,
      );
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      sendError(res, err, "application/json");
    }
  };
}

function matchRest(template: string, path: string): Record<string, string> | undefined {
  const want = template.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith("{")) {
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}
