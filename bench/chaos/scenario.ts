// What the drill trades: private instruments, accounts, and a seeded plan of orders of every type. The plan
// fixes each order's kind, side, size and offsets; its prices are set when it is sent, from the
// instrument's current price (admin price moves change it during the run).

/** mulberry32: a small seedable generator, so a run can be repeated with --seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface InstrumentSpec {
  symbol: string;
  priceCents: number;
  /** The instrument's tick in cents: every price the drill sends (orders and admin moves) is a whole number of ticks. */
  tickCents: number;
  /** Its venue faults are the slow kind: latency longer than the desk's venue timeout. */
  slow: boolean;
}

/** Books of 500 shares per level, one cent apart: a marketable IOC or FOK for 300-1,500 shares may not all fill. */
export const DEPTH = 500;

/**
 * The run's own instruments, named after it (`tag` is up to 7 of A-Z, 0-9), so that the venue's ledger of
 * each holds this run's orders only, even on a server that ran drills before.
 */
export function drillInstruments(tag: string): InstrumentSpec[] {
  return [
    { symbol: `${tag}_A`, priceCents: 10_000, tickCents: 1, slow: false },
    { symbol: `${tag}_B`, priceCents: 25_000, tickCents: 1, slow: false },
    { symbol: `${tag}_C`, priceCents: 4_000, tickCents: 1, slow: false },
    { symbol: `${tag}_SLOW`, priceCents: 5_000, tickCents: 1, slow: true },
  ];
}

/** Every account starts with this cash and this many shares of every instrument (bought at its price). */
export const START_CASH_CENTS = 1_000_000_000;
export const START_SHARES = 50_000;

/** The desk's market-protection band (PRICE_BAND_PCT in wrangler.toml): limit and stop prices must sit within it. */
export const PRICE_BAND_PCT = 10;

/**
 * `stop_loss`: a protective GTC STOP placed 2-6% away (a SELL below the price, a BUY above it) and never
 * cancelled during the flow: the ordinary price moves (within 2.5% of the start) seldom reach it, the gap
 * moves jump through it.
 */
export type OrderKind = "market" | "limit_marketable" | "limit_resting" | "stop" | "stop_limit" | "stop_loss" | "ioc" | "fok" | "slow";
const KINDS: readonly [OrderKind, number][] = [
  ["market", 0.16], ["limit_marketable", 0.12], ["limit_resting", 0.18], ["stop", 0.1], ["stop_limit", 0.08], ["stop_loss", 0.08],
  ["ioc", 0.08], ["fok", 0.08], ["slow", 0.12],
];
export const STOP_KINDS: ReadonlySet<OrderKind> = new Set(["stop", "stop_limit", "stop_loss"]);

export interface PlannedOrder {
  kind: OrderKind;
  symbol: string;
  side: "BUY" | "SELL";
  quantity: number;
  timeInForce: "DAY" | "GTC" | "IOC" | "FOK";
  /**
   * Distance from the current price, as a fraction: the limit (limit orders) or the stop (stop orders, always
   * on the side where the price has yet to go: above it for a BUY, below it for a SELL).
   */
  offset: number;
  /** Cancel this many ms after the 201 (resting and stop orders only), or never. */
  cancelAfterMs: number | null;
}

export interface OrderBody {
  symbol: string;
  side: "BUY" | "SELL";
  quantity: number;
  order_type: "MARKET" | "LIMIT" | "STOP" | "STOP_LIMIT";
  time_in_force: "DAY" | "GTC" | "IOC" | "FOK";
  price?: number;
  stop_price?: number;
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const between = (r: () => number, lo: number, hi: number) => lo + r() * (hi - lo);

function pickKind(r: () => number): OrderKind {
  let x = r();
  for (const [kind, weight] of KINDS) {
    if (x < weight) return kind;
    x -= weight;
  }
  return "market";
}

function planOne(r: () => number, instruments: readonly InstrumentSpec[]): PlannedOrder {
  const fast = instruments.filter((i) => !i.slow);
  const kind = pickKind(r);
  const side = r() < 0.5 ? "BUY" : "SELL";
  const symbol = kind === "slow" ? instruments.find((i) => i.slow)!.symbol : fast[int(r, 0, fast.length - 1)]!.symbol;
  const rests = kind === "limit_resting" || kind === "stop" || kind === "stop_limit"; // stop_loss orders are never cancelled
  const cancelAfterMs = rests && r() < 0.35 ? int(r, 200, 2500) : null;
  const base = { kind, symbol, side, cancelAfterMs } as const;
  switch (kind) {
    case "market":
      return { ...base, quantity: int(r, 1, 100), timeInForce: "DAY", offset: 0 };
    case "limit_marketable":
      return { ...base, quantity: int(r, 1, 200), timeInForce: r() < 0.5 ? "DAY" : "GTC", offset: 0.01 };
    case "limit_resting":
      return { ...base, quantity: int(r, 1, 200), timeInForce: r() < 0.5 ? "DAY" : "GTC", offset: -between(r, 0.003, 0.02) };
    case "stop":
    case "stop_limit":
      return { ...base, quantity: int(r, 1, 150), timeInForce: r() < 0.5 ? "DAY" : "GTC", offset: between(r, 0.003, 0.02) };
    case "stop_loss":
      return { ...base, cancelAfterMs: null, quantity: int(r, 1, 150), timeInForce: "GTC", offset: between(r, 0.02, 0.06) };
    case "ioc":
    case "fok":
      // One tick through the price: two levels of 500 shares are within the limit.
      return { ...base, quantity: int(r, 300, 1500), timeInForce: kind === "ioc" ? "IOC" : "FOK", offset: 0 };
    case "slow":
      return { ...base, quantity: int(r, 1, 50), timeInForce: "DAY", offset: r() < 0.5 ? 0 : 0.01 };
  }
}

/** `orders` orders dealt to `traders` traders (as evenly as possible), reproducible from `seed`. */
export function planOrders(instruments: readonly InstrumentSpec[], traders: number, orders: number, seed: number): PlannedOrder[][] {
  const r = random(seed);
  const plan: PlannedOrder[][] = Array.from({ length: traders }, () => []);
  for (let i = 0; i < orders; i++) plan[i % traders]!.push(planOne(r, instruments));
  return plan;
}

/** Cents to the request's dollars: an integer number of cents, so always on a 1-cent tick. */
const dollars = (c: number) => c / 100;

/** The nearest whole number of ticks to `cents` (at least one tick). */
export function onTick(cents: number, tickCents: number): number {
  return Math.max(tickCents, Math.round(cents / tickCents) * tickCents);
}

/**
 * The request for a planned order at the instrument's current price (in cents). Every price is a whole
 * number of the instrument's ticks; a stop sits at least one tick on the side the price has yet to reach
 * (above it for a BUY, below it for a SELL), as the desk requires.
 */
export function orderBody(p: PlannedOrder, priceCents: number, tickCents: number): OrderBody {
  const towards = p.side === "BUY" ? 1 : -1; // the direction in which an order becomes marketable
  const at = (fraction: number) => dollars(onTick(priceCents * (1 + towards * fraction), tickCents));
  const stopAt = (fraction: number) => {
    const cents = onTick(priceCents * (1 + towards * fraction), tickCents);
    return towards > 0 ? Math.max(cents, priceCents + tickCents) : Math.min(cents, priceCents - tickCents);
  };
  const base = { symbol: p.symbol, side: p.side, quantity: p.quantity, time_in_force: p.timeInForce };
  switch (p.kind) {
    case "market":
      return { ...base, order_type: "MARKET" };
    case "slow":
      return p.offset === 0 ? { ...base, order_type: "MARKET" } : { ...base, order_type: "LIMIT", price: at(p.offset) };
    case "limit_marketable":
    case "limit_resting":
      return { ...base, order_type: "LIMIT", price: at(p.offset) };
    case "stop":
    case "stop_loss":
      return { ...base, order_type: "STOP", stop_price: dollars(stopAt(p.offset)) };
    case "stop_limit": {
      const stop = stopAt(p.offset);
      // Once triggered, a limit 1% beyond the stop: a gap further than that leaves it resting as a limit.
      return { ...base, order_type: "STOP_LIMIT", stop_price: dollars(stop), price: dollars(onTick(stop * (1 + towards * 0.01), tickCents)) };
    }
    case "ioc":
    case "fok":
      return { ...base, order_type: "LIMIT", price: dollars(priceCents + towards * tickCents) };
  }
}

/** An admin price move: up to 2.5% either side of the instrument's starting price, so resting orders cross. */
export function nextPrice(r: () => number, spec: InstrumentSpec): number {
  return onTick(spec.priceCents * (1 + between(r, -0.025, 0.025)), spec.tickCents);
}

/** A gap: one admin move 8-20% down (or up) from the current price, through every stop resting on that side. */
export function gapPrice(r: () => number, spec: InstrumentSpec, currentCents: number, direction: "down" | "up"): number {
  const size = between(r, 0.08, 0.2);
  const target = currentCents * (direction === "down" ? 1 - size : 1 + size);
  // Within 25% of the starting price, and never less than an 8% jump.
  const bounded = direction === "down" ? Math.min(currentCents * 0.92, Math.max(target, spec.priceCents * 0.75)) : Math.max(currentCents * 1.08, Math.min(target, spec.priceCents * 1.25));
  return onTick(bounded, spec.tickCents);
}
