/**
 * The live event feed the status page subscribes to (`GET /control/events`, server-sent events):
 * a `state` event with everything the page shows, sent when a client connects, soon after any
 * change (bursts coalesced) and every second. It also keeps the sandbox's recent events (control
 * flips, health changes, regions stopped, settings) that the page lists.
 */
import type { ServerResponse } from "node:http";
import { Ring } from "../stats";

export type SandboxEventKind = "control" | "health" | "region" | "replication" | "settings";

export interface SandboxEvent {
  readonly at: number;
  readonly kind: SandboxEventKind;
  readonly message: string;
}

/** Where the endpoint's parts report what happened and that the state changed. */
export interface EventSink {
  /** Records an event (and pushes the state soon). */
  record(kind: SandboxEventKind, message: string): void;
  /** Pushes the state soon, without an event. */
  notify(): void;
}

/** Events kept for the status page. */
const MAX_EVENTS = 500;
/** Changes within this long go out as one push. */
const COALESCE_MS = 50;
/** The state goes out at least this often (traffic and lag change without events). */
const REFRESH_MS = 1_000;

export class EventFeed implements EventSink {
  private readonly events = new Ring<SandboxEvent>(MAX_EVENTS);
  private readonly clients = new Set<ServerResponse>();
  private refreshTimer?: NodeJS.Timeout | undefined;
  private notifyTimer?: NodeJS.Timeout | undefined;

  /** `state` builds what each push carries. */
  constructor(private readonly state: () => Promise<unknown>) {}

  record(kind: SandboxEventKind, message: string): void {
    this.events.push({ at: Date.now(), kind, message });
    this.notify();
  }

  /** The latest `limit` events, newest first. */
  recent(limit: number): SandboxEvent[] {
    return this.events.toArray().slice(-limit).reverse();
  }

  /** Starts the periodic push. */
  start(): void {
    this.refreshTimer = setInterval(() => this.broadcast(), REFRESH_MS);
  }

  /** Stops pushing and ends every subscriber's stream. */
  stop(): void {
    clearInterval(this.refreshTimer);
    clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  /** Answers a subscription: an event stream that gets the state now and on every push. */
  open(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    res.write(": connected\n\n");
    this.clients.add(res);
    // Closed when the client goes away (or the feed stops).
    res.on("close", () => this.clients.delete(res));
    void this.send(res);
  }

  notify(): void {
    if (this.notifyTimer || this.clients.size === 0) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.broadcast();
    }, COALESCE_MS);
  }

  private broadcast(): void {
    for (const res of this.clients) void this.send(res);
  }

  private async send(res: ServerResponse): Promise<void> {
    try {
      const state = await this.state();
      if (!res.writableEnded) res.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
    } catch {
      // A region stopping mid-way; the next tick sends a fresh state.
    }
  }
}
