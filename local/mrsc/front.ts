/**
 * One region's DynamoDB endpoint in strong mode: an HTTP server speaking DynamoDB's JSON protocol
 * (X-Amz-Target) that the region's handlers use instead of its DynamoDB Local, handing every
 * request to the MRSC coordinator. It stays up while the region's database is stopped (it answers
 * 503 then), so a handler's client keeps its endpoint.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { MrscCoordinator } from "./coordinator";
import { dynamoError, type DynamoAnswer } from "./protocol";

/** DynamoDB's own request limit is 16 MB; the service's requests are far smaller. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, a: DynamoAnswer): void {
  if (res.headersSent) return;
  res.writeHead(a.status, { "content-type": a.contentType, "x-amzn-requestid": "sandbox-mrsc" });
  res.end(a.body);
}

export class MrscFront {
  private server: Server | undefined;
  private port = 0;

  constructor(
    private readonly region: string,
    private readonly coordinator: MrscCoordinator,
    private readonly onError: (message: string, err: unknown) => void = () => undefined,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.serve(req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("front has no port");
    this.port = address.port;
    this.server = server;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      if (body === undefined) {
        send(res, dynamoError(413, "ValidationException", "request larger than 16 MB"));
        return;
      }
      send(res, await this.coordinator.handle(this.region, req.headers, body));
    } catch (err) {
      this.onError(`MRSC front ${this.region}`, err);
      send(
        res,
        dynamoError(500, "InternalServerError", `${this.region}: the replica did not answer`),
      );
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
