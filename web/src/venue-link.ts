// The admin's view of the venue link (GET /api/v1/admin/venue): how its state reads on screen, how long
// ago things happened, and the poller that reads it every few seconds. No DOM here: test/web drives the
// poller with fake timers.
import type { VenueStatus } from "../../worker/venue/alpaca/status";
import { ApiFailure } from "./api-failure";
import type { Timers } from "./commands";

export type { VenueStatus };
export type AlpacaLinkStatus = Extract<VenueStatus, { exchange: "alpaca" }>;
export type LinkState = AlpacaLinkStatus["stream"]["state"];

/** How often the panel reads the link (a reconnect after a drop takes about a second to start). */
export const VENUE_POLL_MS = 3_000;

// ---------------------------------------------------------------- the state, in words

export type LinkTone = "ok" | "pending" | "down" | "refused" | "idle";

export interface LinkBadge {
  /** The state in one or two words: the badge, and what a screen reader announces. */
  label: string;
  /** A glyph beside the label, so the state never rests on colour alone. */
  glyph: string;
  tone: LinkTone;
  /** What the state means for the admin, and what to do about it (null when all is well). */
  meaning: string | null;
}

const BADGES: Record<LinkState, LinkBadge> = {
  connected: { label: "Connected", glyph: "✓", tone: "ok", meaning: null },
  connecting: { label: "Connecting…", glyph: "↻", tone: "pending", meaning: "Opening Alpaca's trade_updates stream; it reconciles open orders and fills once connected." },
  disconnected: { label: "Disconnected", glyph: "✕", tone: "down", meaning: "The stream is down; the link reconnects with backoff and reconciles, so no fill is lost." },
  unauthorized: {
    label: "Unauthorized", glyph: "⚠", tone: "refused",
    meaning: "Alpaca refused the API keys: check ALPACA_KEY_ID and ALPACA_SECRET_KEY (wrangler secret put …) and the API URL.",
  },
  idle: { label: "Idle", glyph: "○", tone: "idle", meaning: "No order is working, so the stream is closed; the next order opens it again." },
};

/** The badge for a stream state: label, glyph, tone and what it means. */
export function linkBadge(state: LinkState): LinkBadge {
  return BADGES[state];
}

// ---------------------------------------------------------------- times

/** A span in the largest one or two units that matter: "45 s", "3 min", "2 h 5 min", "3 d 4 h". */
export function span(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

const parse = (iso: string): number | null => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

/**
 * How long ago `iso` was, at `now`: "just now" under a second (or slightly ahead, the server's clock
 * against the browser's), else "12 s ago"; "never" for null; the text itself when it is not a time.
 */
export function ago(iso: string | null, now: number): string {
  if (iso === null) return "never";
  const t = parse(iso);
  if (t === null) return iso;
  return now - t < 1000 ? "just now" : `${span(now - t)} ago`;
}

/** How long until `iso`, at `now`: "in 4 s", or "due now" once it has passed; "—" for null. */
export function until(iso: string | null, now: number): string {
  if (iso === null) return "—";
  const t = parse(iso);
  if (t === null) return iso;
  return t - now < 1000 ? "due now" : `in ${span(t - now)}`;
}

// ---------------------------------------------------------------- polling

/** What the panel knows: nothing yet, the last answer, or a failed read (with the last answer, if any). */
export type VenueRead =
  | { phase: "loading" }
  | { phase: "ok"; status: VenueStatus; readAt: number }
  | { phase: "failed"; status: VenueStatus | null; readAt: number | null; error: string };

const realTimers: Timers = { set: (run, ms) => setTimeout(run, ms), clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) };

/**
 * Reads the venue link now and then every `intervalMs` after each answer (never two reads at once). A 401
 * or 403 stops it: the page signs the admin out (api.ts hears the 401), and reading again cannot help.
 * After `stop()` nothing more is read or reported, not even the answer of a read still on its way.
 */
export class VenuePoller {
  private timer: unknown = null;
  private running = false;
  private last: { status: VenueStatus; readAt: number } | null = null;

  constructor(
    private readonly load: () => Promise<VenueStatus>,
    private readonly report: (read: VenueRead) => void,
    private readonly timers: Timers = realTimers,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = VENUE_POLL_MS,
  ) {}

  /** Starts reading (at once); a second start while running does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.read();
  }

  /** Stops reading; an answer still on its way is dropped. */
  stop(): void {
    this.running = false;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }

  private async read(): Promise<void> {
    this.timer = null;
    try {
      const status = await this.load();
      if (!this.running) return;
      this.last = { status, readAt: this.now() };
      this.report({ phase: "ok", ...this.last });
    } catch (err) {
      if (!this.running) return;
      this.report({ phase: "failed", status: this.last?.status ?? null, readAt: this.last?.readAt ?? null, error: err instanceof Error ? err.message : String(err) });
      if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) return this.stop();
    }
    if (this.running) this.timer = this.timers.set(() => void this.read(), this.intervalMs);
  }
}
