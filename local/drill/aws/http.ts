/**
 * One HTTP(S) exchange to a chosen address: the URL gives Host, TLS server name (SNI), port and
 * path; `address` (from the drill's own DNS client) says where to connect. Bounded by a timeout
 * over the whole exchange; never rejects (no answer is status 0 with the reason).
 */
import * as http from "node:http";
import * as https from "node:https";

export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface Exchange {
  readonly method: string;
  readonly url: URL;
  /** Connect here instead of resolving the URL's host. */
  readonly address?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  readonly timeoutMs: number;
}

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
  readonly error?: string | undefined;
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The error code of an error answer: `{error}` or API Gateway's `{message}`. */
function errorCode(status: number, body: unknown): string | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (typeof body !== "object" || body === null) return undefined;
  const { error, message } = body as { error?: unknown; message?: unknown };
  if (typeof error === "string") return error;
  return typeof message === "string" ? message : undefined;
}

export function exchange(x: Exchange): Promise<Answer> {
  const secure = x.url.protocol === "https:";
  const client = secure ? https : http;
  const signal = AbortSignal.timeout(x.timeoutMs);
  const port = x.url.port !== "" ? Number(x.url.port) : secure ? 443 : 80;
  return new Promise<Answer>((resolve) => {
    const fail = (err: unknown): void => {
      const e = err as { code?: string; name?: string };
      const error = signal.aborted ? "timeout" : (e.code ?? e.name ?? String(err));
      resolve({ status: 0, headers: {}, body: undefined, error });
    };
    const req = client.request(
      {
        host: x.address ?? x.url.hostname,
        port,
        method: x.method,
        path: x.url.pathname + x.url.search,
        headers: { ...x.headers },
        signal,
        ...(secure ? { servername: x.url.hostname } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) res.destroy(new Error("response too large"));
          else chunks.push(chunk);
        });
        res.on("error", fail);
        res.on("end", () => {
          const headers: Record<string, string | undefined> = {};
          for (const [k, v] of Object.entries(res.headers))
            headers[k] = Array.isArray(v) ? v.join(", ") : v;
          const status = res.statusCode ?? 0;
          const body = parseBody(Buffer.concat(chunks).toString("utf8"));
          resolve({ status, headers, body, error: errorCode(status, body) });
        });
      },
    );
    req.on("error", fail);
    req.end(x.body);
  });
}
