/**
 * The JSON the global endpoint writes itself (control API, proxy errors, its own 500s) and how it
 * reads a control request's body: bounded in size and depth, so no body can exhaust the process.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_JSON_DEPTH, jsonDepthExceeds } from "../../functions/request";

/** Control request bodies are small JSON objects; more than this is refused with a 413. */
export const MAX_CONTROL_BODY_BYTES = 64 * 1024;

/** An error with the HTTP status and code the control API answers it with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON response the sandbox writes itself (control API, proxy errors). */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Answers an unexpected failure: a generic 500 (details stay in the log), or a cut connection
 * when the response had already begun.
 */
export function internalError(res: ServerResponse): void {
  try {
    if (res.headersSent) res.destroy();
    else
      json(res, 500, { error: "InternalError", message: "internal error (see the sandbox log)" });
  } catch {
    res.destroy();
  }
}

/**
 * The request's body parsed as JSON, or undefined when it is empty. Over MAX_CONTROL_BODY_BYTES
 * is a 413 (the rest is read and dropped, so the client gets the answer rather than a reset);
 * not JSON, or nested deeper than MAX_JSON_DEPTH, a 400.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_CONTROL_BODY_BYTES) chunks.push(chunk as Buffer);
    }
  } catch {
    throw new HttpError(400, "BadRequest", "the request body was cut off");
  }
  if (size > MAX_CONTROL_BODY_BYTES) {
    throw new HttpError(
      413,
      "PayloadTooLarge",
      `control request body too large: at most ${MAX_CONTROL_BODY_BYTES} bytes are accepted`,
    );
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "BadRequest", "body is not valid JSON");
  }
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new HttpError(
      400,
      "BadRequest",
      `body nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep`,
    );
  }
  return value;
}
