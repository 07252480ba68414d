// One connection to Alpaca's trade_updates stream: open it (fetch + Upgrade), authenticate, listen, then
// hand every trade update on. Frames may be text or binary (paper-api sends binary); both carry JSON.
// https://docs.alpaca.markets/docs/websocket-streaming
// Workers open client WebSockets with fetch(): https://developers.cloudflare.com/workers/examples/websockets/
import { authenticateMessage, LISTEN_MESSAGE, StreamMessage, type AuthForm, type TradeUpdate } from "./wire";

export interface StreamHandlers {
  /** Authorized and listening to trade_updates. */
  ready(): void;
  update(update: TradeUpdate): void;
  /** The connection ended (closed, failed, refused, unauthorized); `reason` has no secret in it. */
  closed(reason: string, unauthorized: boolean): void;
}

/** How long the handshake (authorization, listening) may take before the connection is given up. */
export const HANDSHAKE_MS = 10_000;

export class TradeStream {
  private ws: WebSocket | null = null;
  private phase: "opening" | "authenticating" | "listening" | "ready" | "closed" = "opening";
  private readonly decoder = new TextDecoder();
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly handlers: StreamHandlers) {}

  get isReady(): boolean {
    return this.phase === "ready";
  }

  async open(url: string, credentials: { keyId: string; secretKey: string }, form: AuthForm): Promise<void> {
    let res: Response;
    try {
      res = await fetch(url, { headers: { Upgrade: "websocket" } });
    } catch (err) {
      return this.end(`could not connect (${err instanceof Error ? err.name : "error"})`);
    }
    const ws = res.webSocket;
    if (res.status !== 101 || !ws) {
      await res.body?.cancel();
      return this.end(`upgrade refused with HTTP ${res.status}`);
    }
    this.ws = ws;
    // Binary frames arrive as ArrayBuffer only when asked (the standard default is Blob).
    (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    ws.accept();
    ws.addEventListener("message", (e) => this.onFrame(e.data));
    ws.addEventListener("close", (e) => this.end(`closed by Alpaca (code ${e.code}${e.reason ? `: ${e.reason}` : ""})`));
    ws.addEventListener("error", () => this.end("socket error"));
    this.phase = "authenticating";
    // No answer to the authentication at all counts as a refusal of its form (the link tries the other).
    this.handshakeTimer = setTimeout(() => this.end(`no authorization and listening within ${HANDSHAKE_MS} ms`, this.phase === "authenticating"), HANDSHAKE_MS);
    ws.send(authenticateMessage(form, credentials.keyId, credentials.secretKey));
  }

  /** Closes the connection (a drill, or the link giving it up); `closed` is called once. */
  close(reason: string): void {
    this.end(reason);
  }

  private onFrame(data: unknown): void {
    if (data instanceof Blob) {
      // A runtime that ignores binaryType: read the Blob (rare; order with later frames is then not kept).
      void data.arrayBuffer().then((buffer) => this.onFrame(buffer));
      return;
    }
    const text = typeof data === "string" ? data : data instanceof ArrayBuffer ? this.decoder.decode(data) : null;
    if (text === null) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      console.warn("alpaca stream: a frame that is not JSON was ignored");
      return;
    }
    // Alpaca may batch messages in an array (as its market data stream does); take either form.
    for (const item of Array.isArray(json) ? json : [json]) this.onMessage(item);
  }

  private onMessage(item: unknown): void {
    const parsed = StreamMessage.safeParse(item);
    if (!parsed.success) return; // a message fillwire does not use (or not in the documented shape)
    const message = parsed.data;
    if (message.stream === "authorization") {
      if (message.data.status !== "authorized") return this.end(`Alpaca refused the keys (${message.data.action ?? "authenticate"}: ${message.data.status})`, true);
      if (this.phase === "authenticating") {
        this.phase = "listening";
        this.ws?.send(LISTEN_MESSAGE);
      }
      return;
    }
    if (message.stream === "listening") {
      if (!message.data.streams.includes("trade_updates")) return this.end("Alpaca did not grant the trade_updates stream");
      return this.becomeReady();
    }
    // A trade update after the listen message is as good as its acknowledgement.
    if (this.phase === "listening") this.becomeReady();
    if (this.phase === "ready") this.handlers.update(message.data);
  }

  private becomeReady(): void {
    if (this.phase === "ready") return;
    this.phase = "ready";
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handlers.ready();
  }

  private end(reason: string, unauthorized = false): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    try {
      this.ws?.close(1000, "fillwire closes the link");
    } catch {
      // already closed
    }
    this.ws = null;
    this.handlers.closed(reason, unauthorized);
  }
}
