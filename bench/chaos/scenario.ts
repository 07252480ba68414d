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
  /**
   * The instrument of the contingent orders (bracket, oto, oco) and trailing stops: only they trade it, along
   * a price path of its own (paths.ts), and accounts start with none of it, so an exit that sold more than its
   * entry bought would show as a negative position.
   */
  contingent: boolean;
  /** Shares of it every account starts with (at its starting price). */
  startShares: number;
}

/** Books of 500 shares per level, one cent apart: a marketable IOC or FOK for 300-1,500 shares may not all fill. */
export const DEPTH = 500;

/**
 * The run's own instruments, named after it (`tag` is up to 7 of A-Z, 0-9), so that the venue's ledger of
 * each holds this run's orders only, even on a server that ran drills before.
 */
export function drillInstruments(tag: string): InstrumentSpec[] {
  const plain = { slow: false, contingent: false, startShares: START_SHARES };
  return [
    { symbol: `${tag}_A`, priceCents: 10_000, tickCents: 1, ...plain },
    { symbol: `${tag}_B`, priceCents: 25_000, tickCents: 1, ...plain },
    { symbol: `${tag}_C`, priceCents: 4_000, tickCents: 1, ...plain },
    { symbol: `${tag}_SLOW`, priceCents: 5_000, tickCents: 1, ...plain, slow: true },
    { symbol: `${tag}_T`, priceCents: 8_000, tickCents: 1, ...plain, contingent: true, startShares: 0 },
  ];
}

/** Every account starts with this cash and this many shares of every ordinary instrument (bought at its price). */
export const START_CASH_CENTS = 1_000_000_000;
export const START_SHARES = 50_000;

/** The instruments the ordinary kinds trade (neither the slow one nor the contingent one). */
export const ordinary = (instruments: readonly InstrumentSpec[]) => instruments.filter((i) => !i.slow && !i.contingent);

/** The desk's market-protection band (PRICE_BAND_PCT in wrangler.toml): limit and stop prices must sit within it. */
export const PRICE_BAND_PCT = 10;

/**
 * `stop_loss`: a protective GTC STOP placed 2-6% away (a SELL below the price, a BUY above it) and never
 * cancelled during the flow: the ordinary price moves (within 2.5% of the start) seldom reach it, the gap
 * moves jump through it. `slow_resting`: a LIMIT resting on the slow instrument, always amended: the venue
 * answers later than the desk waits, so its amends (and cancels) are settled by the venue's own report.
 */
type SimpleKind = "market" | "limit_marketable" | "limit_resting" | "stop" | "stop_limit" | "stop_loss" | "ioc" | "fok" | "slow" | "slow_resting";
/**
 * The contingent instrument's kinds (contingent.ts plans and prices them): a bracket or an oto (a BUY entry
 * with its exits), an oco (a take-profit and a stop-loss for shares held), a SELL or BUY trailing stop; and
 * `exit_shares`, the MARKET BUY of the shares an oco or a SELL trailing stop then sells.
 */
export type ContingentKind = "bracket" | "oto" | "oco" | "trailing_sell" | "trailing_buy" | "exit_shares";
export type OrderKind = SimpleKind | ContingentKind;
const KINDS: readonly [SimpleKind, number][] = [
  ["market", 0.15], ["limit_marketable", 0.11], ["limit_resting", 0.18], ["stop", 0.1], ["stop_limit", 0.08], ["stop_loss", 0.08],
  ["ioc", 0.08], ["fok", 0.08], ["slow", 0.1], ["slow_resting", 0.04],
];
export const STOP_KINDS: ReadonlySet<OrderKind> = new Set(["stop", "stop_limit", "stop_loss"]);
/** The kinds that rest at the venue and may be amended (the protective stops are left alone for the gaps). */
export const AMENDABLE_KINDS: ReadonlySet<OrderKind> = new Set(["limit_resting", "stop", "stop_limit", "slow_resting"]);

/** What an amend changes: the price (a LIMIT's limit, a STOP's stop, both of a STOP_LIMIT) or the quantity. */
export type AmendChange = "price-up" | "price-down" | "quantity-up" | "quantity-down";
const CHANGES: readonly AmendChange[] = ["price-up", "price-down", "quantity-up", "quantity-down"];

export interface PlannedAmend {
  /** Sent this many ms after the order's 201. */
  afterMs: number;
  change: AmendChange;
  /** How much, from 0.2 to 1: a fraction of 1.5% of the price, or of the quantity. */
  size: number;
  /** A second amend of another kind sent as soon as the first is answered, or none. */
  then: AmendChange | null;
}

/**
 * Per trader, at a point of its flow (after its `afterOrder`-th order; its last order for `atEnd`): cancel
 * all its working orders (of one symbol, and side), or close a position in part (`quantity` shares or
 * `percentage` of it), a whole position, or every position.
 */
export type TraderAction =
  | { kind: "cancel-all"; afterOrder: number; symbol: string | null; side: "BUY" | "SELL" | null }
  | { kind: "close"; afterOrder: number; symbol: string | null; quantity: number | null; percentage: number | null };

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
  /** Amend it after its 201 (resting orders only), or never. */
  amend: PlannedAmend | null;
  /** A contingent kind's exits or trail (contingent.ts), absent for the other kinds. */
  contingent?: ContingentTerms;
}

/** How a contingent kind is priced when it is sent, in fractions of the instrument's price at that moment. */
export interface ContingentTerms {
  /** A bracket or oto entry: MARKET, or a LIMIT `offset` below the price (at it, for an entry too large to fill at once). */
  entry: "MARKET" | "LIMIT";
  /** The take-profit above the entry (the price, for an oco) and the stop-loss below it; null: no such exit. */
  takeProfit: number | null;
  stopLoss: number | null;
  /** The stop-loss is a STOP_LIMIT, its limit 1% under its stop. */
  stopLimit: boolean;
  /** A trailing stop's trail: dollars (the fraction of the price, on the tick) or percent (to a tenth). */
  trail: { by: "price" | "percent"; fraction: number } | null;
}

export interface OrderBody {
  symbol: string;
  side: "BUY" | "SELL";
  quantity: number;
  order_type: "MARKET" | "LIMIT" | "STOP" | "STOP_LIMIT" | "TRAILING_STOP";
  time_in_force: "DAY" | "GTC" | "IOC" | "FOK";
  price?: number;
  stop_price?: number;
  /** TRAILING_STOP: dollars, or percent. */
  trail_price?: number;
  trail_percent?: number;
  order_class?: "bracket" | "oco" | "oto";
  take_profit?: { limit_price: number };
  stop_loss?: { stop_price: number; limit_price?: number };
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const between = (r: () => number, lo: number, hi: number) => lo + r() * (hi - lo);

function pickKind(r: () => number): SimpleKind {
  let x = r();
  for (const [kind, weight] of KINDS) {
    if (x < weight) return kind;
    x -= weight;
  }
  return "market";
}

function planOne(r: () => number, instruments: readonly InstrumentSpec[]): PlannedOrder {
  const fast = ordinary(instruments);
  const kind = pickKind(r);
  const side = r() < 0.5 ? "BUY" : "SELL";
  const symbol = kind === "slow" || kind === "slow_resting" ? instruments.find((i) => i.slow)!.symbol : fast[int(r, 0, fast.length - 1)]!.symbol;
  const rests = AMENDABLE_KINDS.has(kind); // stop_loss orders are never cancelled
  const cancelAfterMs = rests && r() < 0.35 ? int(r, 200, 2500) : null;
  const amend: PlannedAmend | null = rests && (kind === "slow_resting" || r() < 0.35)
    ? { afterMs: int(r, 300, 2500), change: CHANGES[int(r, 0, 3)]!, size: between(r, 0.2, 1), then: r() < 0.25 ? CHANGES[int(r, 0, 3)]! : null }
    : null;
  const base = { kind, symbol, side, cancelAfterMs, amend } as const;
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
    case "slow_resting":
      return { ...base, quantity: int(r, 1, 50), timeInForce: r() < 0.5 ? "DAY" : "GTC", offset: -between(r, 0.005, 0.02) };
  }
}

/**
 * Each trader's bulk actions, by its index, at a seeded point of its flow (traders are paced alike, so
 * fixed points would make them all act at once): every fourth from 1 cancels all its orders of one symbol
 * at 30-60% (of one side too, every eighth from 5), every fourth from 3 cancels all of them at 60-85%; every
 * fourth from 2 closes part of a position at 25-45% (a number of shares) and 65-90% (a percentage); after
 * its last order every eighth from 6 closes one whole position, every eighth from 0 closes them all.
 */
export function planActions(instruments: readonly InstrumentSpec[], plan: readonly PlannedOrder[][], seed: number): TraderAction[][] {
  const r = random(seed ^ 0x51ed27);
  const fast = ordinary(instruments).map((i) => i.symbol);
  const pick = () => fast[int(r, 0, fast.length - 1)]!;
  return plan.map((orders, i) => {
    const n = orders.length;
    const at = (f: number) => Math.min(n, Math.max(1, Math.floor(n * f)));
    const actions: TraderAction[] = [];
    if (i % 4 === 1) actions.push({ kind: "cancel-all", afterOrder: at(between(r, 0.3, 0.6)), symbol: pick(), side: i % 8 === 5 ? (r() < 0.5 ? "BUY" : "SELL") : null });
    if (i % 4 === 3) actions.push({ kind: "cancel-all", afterOrder: at(between(r, 0.6, 0.85)), symbol: null, side: null });
    if (i % 4 === 2) {
      actions.push({ kind: "close", afterOrder: at(between(r, 0.25, 0.45)), symbol: pick(), quantity: int(r, 50, 500), percentage: null });
      actions.push({ kind: "close", afterOrder: at(between(r, 0.65, 0.9)), symbol: pick(), quantity: null, percentage: int(r, 1, 5) });
    }
    if (i % 8 === 6) actions.push({ kind: "close", afterOrder: n, symbol: pick(), quantity: null, percentage: null });
    if (i % 8 === 0) actions.push({ kind: "close", afterOrder: n, symbol: null, quantity: null, percentage: null });
    return actions;
  });
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
    case "slow_resting":
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
    default:
      throw new Error(`a ${p.kind} order is priced by contingent.ts`);
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
