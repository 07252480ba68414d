// Typed settings from wrangler vars (strings in the environment), with the seed's defaults.

export function intVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) ? n : fallback;
}

export interface DeskConfig {
  exchangeTimeoutMs: number;
  retryBaseMs: number;
  retryMaxAttempts: number;
  priceBandPct: number;
  maxOrderQuantity: number;
  maxOrderNotionalCents: number;
  /** "always": trade at any hour; "regular": MARKET, IOC and FOK only in the venue's session (SPEC). */
  marketHours: "always" | "regular";
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** How long changes gather in a desk's outbox before they go to D1 as one batch. */
  outboxFlushMs: number;
}

export function deskConfig(env: Env): DeskConfig {
  return {
    exchangeTimeoutMs: intVar(env.EXCHANGE_TIMEOUT_MS, 5000),
    retryBaseMs: intVar(env.RETRY_BASE_MS, 1000),
    retryMaxAttempts: intVar(env.RETRY_MAX_ATTEMPTS, 5),
    priceBandPct: intVar(env.PRICE_BAND_PCT, 10),
    maxOrderQuantity: intVar(env.MAX_ORDER_QUANTITY, 1_000_000),
    maxOrderNotionalCents: intVar(env.MAX_ORDER_NOTIONAL, 50_000_000) * 100,
    marketHours: env.MARKET_HOURS === "regular" ? "regular" : "always",
    rateLimitPerSecond: intVar(env.RATE_LIMIT_PER_SECOND, 50),
    rateLimitBurst: intVar(env.RATE_LIMIT_BURST, 200),
    outboxFlushMs: intVar(env.OUTBOX_FLUSH_MS, 1000),
  };
}
