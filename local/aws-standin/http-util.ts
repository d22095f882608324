/**
 * Small HTTP helpers shared by the AWS stand-ins: start/stop a node:http server on a loopback
 * address, read a bounded body, answer JSON, and turn a request into an `ArrivedRequest` for
 * `SignatureVerifier`. Nothing here knows about a particular AWS service.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ArrivedRequest } from "./sigv4-verify";

/** Largest request body a stand-in reads (API Gateway's payload limit is 10 MB). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

/** Reads the whole body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(`request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function arrived(req: IncomingMessage, body: Buffer): ArrivedRequest {
  return { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A listening server and how to reach and stop it. */
export interface Listening {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Listens on `host:port` (port 0: a free one). Every request goes to `handle`; a handler that
 * throws gets a 500 and `onError` hears why, so no request ends the process.
 */
export async function listen(
  host: string,
  port: number,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (message: string, err: unknown) => void,
): Promise<Listening> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      onError(`${req.method} ${req.url} failed`, err);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { message: "Internal server error" });
    });
  });
  server.listen(port, host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([err]) => Promise.reject(err as Error)),
  ]);
  const addr = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    server,
    host,
    port: addr.port,
    url: `http://${host}:${addr.port}`,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
