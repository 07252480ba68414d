// The live order feed: one partysocket connection to /ws/orders/events that reconnects with backoff.
// Its URL is recomputed on every attempt, so each reconnect carries the current token and
// `since=<last seq applied>`: the server replays exactly what was missed. A heartbeat notices a
// connection that went silent (a laptop lid, a dead Wi-Fi) and replaces it.
// It also carries the page's order commands: each waits for the ack or reject that names its request_id;
// when the connection closes first, the answer is lost (answers are not replayed) and the caller falls back.
import { WebSocket as ReconnectingWebSocket } from "partysocket";
import { ServerMessage, WS_PROTOCOL } from "../../worker/shared/events";
import { PendingAnswers, type OrderCommandInput, type SocketAnswer } from "./commands";

export type FeedPhase = "connecting" | "replaying" | "live" | "reconnecting" | "stopped";

export interface FeedStatus {
  phase: FeedPhase;
  /** Failed attempts since the last good connection. */
  attempt: number;
}

export interface FeedOptions {
  /** The URL for the next attempt, given the seq to resume after (null on the first connection). */
  url: () => string;
  /** Whether the URL just built asked for a replay. */
  resumes: () => boolean;
  onMessage: (message: ServerMessage) => void;
  onStatus: (status: FeedStatus) => void;
}

const HEARTBEAT_MS = 20_000;
const SILENCE_MS = 8_000;

export class OrderFeed {
  private socket: ReconnectingWebSocket | null = null;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private status: FeedStatus = { phase: "connecting", attempt: 0 };
  private resumed = false;
  private readonly answers = new PendingAnswers();
  /** Test hook: drop the connection right after the next command is sent, before its answer. */
  private dropAfterCommand = false;

  constructor(private readonly options: FeedOptions) {}

  start(): void {
    if (this.socket) return;
    this.setStatus({ phase: "connecting", attempt: 0 });
    const socket = new ReconnectingWebSocket(
      () => {
        this.resumed = this.options.resumes();
        return this.options.url();
      },
      [WS_PROTOCOL],
      {
        minReconnectionDelay: 500 + Math.random() * 500, // jitter: a restarted server is not hit by every page at once
        maxReconnectionDelay: 15_000,
        reconnectionDelayGrowFactor: 1.6,
        connectionTimeout: 5_000,
        maxEnqueuedMessages: 0, // nothing to send later: a ping queued while offline is stale
      },
    );
    socket.addEventListener("open", () => {
      this.lastHeard = Date.now();
      this.setStatus({ phase: this.resumed ? "replaying" : "connecting", attempt: 0 });
    });
    socket.addEventListener("close", () => {
      this.answers.loseAll();
      if (this.status.phase !== "stopped") this.setStatus({ phase: "reconnecting", attempt: socket.retryCount });
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    this.socket = socket;
    this.heartbeat = setInterval(() => this.checkPulse(), HEARTBEAT_MS / 4);
  }

  stop(): void {
    clearInterval(this.heartbeat);
    this.setStatus({ phase: "stopped", attempt: 0 });
    this.socket?.close(1000, "signed out");
    this.socket = null;
    this.answers.loseAll();
  }

  /** True while the connection is open and caught up: an order command sent now is answered on it. */
  get connected(): boolean {
    const socket = this.socket;
    return socket !== null && socket.readyState === socket.OPEN && this.status.phase === "live";
  }

  /**
   * Send an order command and wait for its answer; "lost" when the connection is not up ("unsent"), closes
   * before the answer ("closed") or stays silent past `timeoutMs` ("timeout").
   */
  command(command: OrderCommandInput, timeoutMs: number): Promise<SocketAnswer> {
    const socket = this.socket;
    if (!socket || !this.connected) return Promise.resolve({ kind: "lost", why: "unsent" });
    const answer = this.answers.expect(command.request_id, timeoutMs);
    let sent = false;
    try {
      sent = socket.send(JSON.stringify(command)); // false: not open after all, and nothing is queued
    } catch {
      sent = false;
    }
    if (!sent) {
      this.answers.drop(command.request_id, "unsent");
      return answer;
    }
    if (this.dropAfterCommand) {
      this.dropAfterCommand = false;
      socket.reconnect(4000, "dropped after a command (test hook)");
    }
    return answer;
  }

  /** Test and debug hook: the next command's connection drops right after it is sent, before its answer. */
  dropAfterNextCommand(): void {
    this.dropAfterCommand = true;
  }

  /** Drop the connection now and open a new one (resuming after the last seq). */
  reconnect(): void {
    this.socket?.reconnect(4000, "resync");
  }

  /** Close the connection and do not reconnect until resume() (the test and debug hook). */
  pause(): void {
    this.socket?.close(4001, "paused");
    this.setStatus({ phase: "reconnecting", attempt: 0 });
  }

  resume(): void {
    this.socket?.reconnect();
  }

  private receive(data: unknown): void {
    this.lastHeard = Date.now();
    let message: ServerMessage;
    try {
      const parsed = ServerMessage.safeParse(JSON.parse(String(data)));
      if (!parsed.success) return console.warn("fillwire: ignored an unexpected live message", parsed.error.issues);
      message = parsed.data;
    } catch {
      return console.warn("fillwire: ignored a live message that is not JSON");
    }
    if ("type" in message) {
      if (message.type === "ack" || message.type === "reject") {
        // An answer, not an event: it settles its command and is not paced with the events.
        if (!this.answers.settle(message)) console.warn(`fillwire: an answer for no waiting command (request_id ${message.request_id})`);
        return;
      }
      if (message.type === "connection_acknowledged" && !this.resumed) this.setStatus({ phase: "live", attempt: 0 });
      if (message.type === "replay_complete") this.setStatus({ phase: "live", attempt: 0 });
    }
    this.options.onMessage(message);
  }

  private checkPulse(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== socket.OPEN) return;
    const quiet = Date.now() - this.lastHeard;
    if (quiet > HEARTBEAT_MS + SILENCE_MS) socket.reconnect(4002, "no heartbeat");
    else if (quiet > HEARTBEAT_MS) socket.send(JSON.stringify({ type: "ping" }));
  }

  private setStatus(status: FeedStatus): void {
    if (status.phase === this.status.phase && status.attempt === this.status.attempt) return;
    this.status = status;
    this.options.onStatus(status);
  }
}
