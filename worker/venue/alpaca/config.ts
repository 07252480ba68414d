// The Alpaca adapter's settings: vars (URLs, with paper defaults) and secrets (keys, only through
// `wrangler secret put`). Secrets are read here and nowhere else; they never appear in a message.
import { intVar } from "../../config";

export interface AlpacaConfig {
  apiUrl: string;
  /** The trade_updates WebSocket, as an http(s) URL (Workers open client sockets with fetch + Upgrade). */
  streamUrl: string;
  dataUrl: string;
  /** Market data feed for reference prices (iex on free plans, sip with a subscription); unset: Alpaca's default. */
  dataFeed: string | null;
  credentials: { keyId: string; secretKey: string } | null;
  /** Each HTTP call gives up after this (a little over the desk's own venue timeout). */
  requestTimeoutMs: number;
  /** How long a reference price is reused. */
  quoteTtlMs: number;
  /** First reconnect delay of the stream link; it doubles per failed attempt up to RECONNECT_MAX_MS. */
  reconnectBaseMs: number;
  /** How long the link holds stream reports of an order whose submit has not answered yet. */
  submitHoldMs: number;
}

/**
 * What wrangler.toml does not declare: the secrets (`wrangler secret put ALPACA_KEY_ID`, `... ALPACA_SECRET_KEY`)
 * and optional tuning vars. Optional, because they matter only with EXCHANGE=alpaca.
 */
export interface AlpacaSettings {
  ALPACA_KEY_ID?: string;
  ALPACA_SECRET_KEY?: string;
  /** iex or sip: the market data feed for reference prices (Alpaca's default for the plan when unset). */
  ALPACA_DATA_FEED?: string;
  ALPACA_QUOTE_TTL_MS?: string;
  ALPACA_RECONNECT_BASE_MS?: string;
}

export const PAPER_API_URL = "https://paper-api.alpaca.markets";
export const PAPER_STREAM_URL = "wss://paper-api.alpaca.markets/stream";
export const DATA_URL = "https://data.alpaca.markets";

export function alpacaConfig(vars: Env): AlpacaConfig {
  const env: Env & AlpacaSettings = vars;
  const timeout = intVar(env.EXCHANGE_TIMEOUT_MS, 5000);
  const keyId = env.ALPACA_KEY_ID ?? "";
  const secretKey = env.ALPACA_SECRET_KEY ?? "";
  return {
    apiUrl: trimSlash(env.ALPACA_API_URL || PAPER_API_URL),
    streamUrl: env.ALPACA_STREAM_URL || PAPER_STREAM_URL,
    dataUrl: trimSlash(env.ALPACA_DATA_URL || DATA_URL),
    dataFeed: env.ALPACA_DATA_FEED || null,
    credentials: keyId && secretKey ? { keyId, secretKey } : null,
    requestTimeoutMs: timeout + 1000,
    quoteTtlMs: intVar(env.ALPACA_QUOTE_TTL_MS, 3000),
    reconnectBaseMs: intVar(env.ALPACA_RECONNECT_BASE_MS, 1000),
    submitHoldMs: timeout * 2 + intVar(env.RETRY_BASE_MS, 1000) * 2,
  };
}

/** ws(s)://host/stream → http(s)://host/stream: the URL fetch() upgrades. */
export function upgradeUrl(streamUrl: string): string {
  return streamUrl.replace(/^ws(s?):\/\//i, "http$1://");
}

/** The stream link of this account: one Durable Object per Alpaca account (named by its API host). */
export function linkName(config: AlpacaConfig): string {
  return `alpaca:${config.apiUrl}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
