// The contingent kinds of the drill (SPEC, "Trailing and contingent orders"), all on the contingent
// instrument, which accounts start without: brackets and otos (a BUY entry, MARKET or LIMIT, with a
// take-profit above it and a stop-loss below it, or one of the two), some entries too large to fill at once
// (their exits come alive for the part filled and grow with it); ocos (a take-profit and a stop-loss, one
// cancels other) and SELL trailing stops, each for shares a MARKET BUY just bought; BUY trailing stops. The
// instrument's price path (paths.ts) runs up and down through the exits and the trails, and gaps.
import type { Api } from "./api.ts";
import { FINAL_EVENTS } from "../clients.ts";
import type { PriceMove } from "./load.ts";
import { PricePath } from "./paths.ts";
import { onTick, random, type ContingentKind, type InstrumentSpec, type OrderBody, type PlannedOrder } from "./scenario.ts";
import { sendOrder, type DrillTrader, type SubmitRecord } from "./submit.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const between = (r: () => number, lo: number, hi: number) => lo + r() * (hi - lo);

/** The share of each trader's planned orders that are contingent kinds, and how they divide. */
export const CONTINGENT_SHARE = 0.22;
const KINDS: readonly [Exclude<ContingentKind, "exit_shares">, number][] = [
  ["bracket", 0.32], ["oto", 0.14], ["oco", 0.16], ["trailing_sell", 0.19], ["trailing_buy", 0.19],
];

function planOne(r: () => number, spec: InstrumentSpec): PlannedOrder {
  let x = r();
  const kind = KINDS.find(([, w]) => (x -= w) < 0)?.[0] ?? "bracket";
  const timeInForce = r() < 0.5 ? "DAY" : "GTC";
  const exit = () => between(r, 0.006, 0.025);
  const trail = { by: r() < 0.5 ? ("price" as const) : ("percent" as const), fraction: between(r, 0.008, 0.025) };
  const base = { kind, symbol: spec.symbol, timeInForce, amend: null, cancelAfterMs: null } as const;
  const none = { entry: "MARKET", takeProfit: null, stopLoss: null, stopLimit: false, trail: null } as const;
  switch (kind) {
    case "bracket":
    case "oto": {
      // A third of the entries are MARKET; the others are LIMITs 0.2-1% under the price, or (one in five) at
      // it for 600-900 shares: 500 fill at once (the book's depth), the rest when the price comes down.
      const shape = r();
      const partial = shape > 0.8;
      const entry = shape < 0.35 ? "MARKET" : "LIMIT";
      const withTp = kind === "bracket" || r() < 0.5;
      const cancel = entry === "LIMIT" && r() < 0.25 ? int(r, 300, 2500) : null;
      return {
        ...base, side: "BUY", quantity: partial ? int(r, 600, 900) : int(r, 1, 400), offset: entry === "LIMIT" && !partial ? between(r, 0.002, 0.01) : 0, cancelAfterMs: cancel,
        contingent: { ...none, entry, takeProfit: withTp ? exit() : null, stopLoss: kind === "bracket" || !withTp ? exit() : null, stopLimit: r() < 0.25 },
      };
    }
    case "oco":
      return { ...base, side: "SELL", quantity: int(r, 1, 400), offset: 0, cancelAfterMs: r() < 0.15 ? int(r, 500, 4000) : null, contingent: { ...none, takeProfit: exit(), stopLoss: exit(), stopLimit: r() < 0.25 } };
    case "trailing_sell":
    case "trailing_buy":
      return {
        ...base, side: kind === "trailing_sell" ? "SELL" : "BUY", quantity: int(r, 1, kind === "trailing_sell" ? 400 : 300), offset: 0,
        cancelAfterMs: r() < 0.1 ? int(r, 500, 4000) : null, contingent: { ...none, trail },
      };
  }
}

/**
 * The plan with a seeded share (CONTINGENT_SHARE) of each trader's orders replaced by contingent kinds on the
 * contingent instrument; the other orders stay as planned.
 */
export function withContingent(plan: readonly PlannedOrder[][], instruments: readonly InstrumentSpec[], seed: number): PlannedOrder[][] {
  const spec = instruments.find((i) => i.contingent);
  if (!spec) return plan.map((orders) => [...orders]);
  const r = random(seed ^ 0xc0_7e_11);
  return plan.map((orders) => orders.map((o) => (r() < CONTINGENT_SHARE ? planOne(r, spec) : o)));
}

const dollars = (cents: number) => cents / 100;

/**
 * The request for a planned contingent order at the instrument's current price (cents). A bracket or oto
 * entry's take-profit sits above both the entry and the price and its stop-loss below the entry (a
 * STOP_LIMIT's limit 1% under its stop); an oco's exits straddle the price; a trail in dollars is on the
 * tick, one in percent has one decimal. Every price is a whole number of ticks.
 */
export function contingentBody(p: PlannedOrder, priceCents: number, tickCents: number): OrderBody {
  const c = p.contingent;
  if (!c) throw new Error(`a ${p.kind} order is not a contingent kind`);
  const base = { symbol: p.symbol, side: p.side, quantity: p.quantity, time_in_force: p.timeInForce };
  const above = (basis: number, f: number) => Math.max(basis + tickCents, onTick(priceCents * (1 + f), tickCents));
  const below = (basis: number, f: number) => Math.min(basis - tickCents, onTick(basis * (1 - f), tickCents));
  const stopLoss = (basis: number, f: number) => {
    const stop = below(basis, f);
    return c.stopLimit ? { stop_price: dollars(stop), limit_price: dollars(onTick(stop * 0.99, tickCents)) } : { stop_price: dollars(stop) };
  };
  if (c.trail) {
    const trail = c.trail.by === "price" ? { trail_price: dollars(onTick(priceCents * c.trail.fraction, tickCents)) } : { trail_percent: Math.round(c.trail.fraction * 1000) / 10 };
    return { ...base, order_type: "TRAILING_STOP", ...trail };
  }
  if (p.kind === "oco") {
    return {
      ...base, side: "SELL", order_type: "LIMIT", order_class: "oco",
      take_profit: { limit_price: dollars(above(priceCents, c.takeProfit ?? 0.01)) }, stop_loss: stopLoss(priceCents, c.stopLoss ?? 0.01),
    };
  }
  const limit = c.entry === "LIMIT" ? onTick(priceCents * (1 - p.offset), tickCents) : null;
  const basis = limit ?? priceCents;
  return {
    ...base, side: "BUY", order_class: p.kind === "bracket" ? "bracket" : "oto", ...(limit === null ? { order_type: "MARKET" } : { order_type: "LIMIT", price: dollars(limit) }),
    ...(c.takeProfit === null ? {} : { take_profit: { limit_price: dollars(above(basis, c.takeProfit)) } }),
    ...(c.stopLoss === null ? {} : { stop_loss: stopLoss(basis, c.stopLoss) }),
  };
}

export interface ContingentFigures {
  /** ocos and SELL trailing stops not placed because the MARKET BUY of their shares filled nothing. */
  notPlaced: number;
  pathErrors: string[];
}

/** Sends the contingent kinds, each priced from the path's current price, and drives the path. */
export class ContingentFlow {
  readonly path: PricePath;
  /** The path's admin moves (the drill's report and checks merge them with the others). */
  readonly moves: PriceMove[] = [];
  private notPlaced = 0;
  private readonly api: Api;
  private readonly spec: InstrumentSpec;

  /** `setPrice` moves the venue's price of the contingent instrument (cents) along its path. */
  constructor(api: Api, setPrice: (symbol: string, priceCents: number) => Promise<void>, spec: InstrumentSpec, seed: number, totalOrders: number) {
    this.api = api;
    this.spec = spec;
    this.path = new PricePath(setPrice, spec, this.moves, seed, totalOrders);
  }

  /**
   * One planned contingent order: its submit, or for an oco or a SELL trailing stop first the MARKET BUY of its
   * shares (client order id `<id>-shares`), then the order for the shares that filled.
   */
  async send(trader: DrillTrader, planned: PlannedOrder, clientOrderId: string): Promise<SubmitRecord[]> {
    const bodyAt = (p: PlannedOrder) => (cents: number) => contingentBody(p, cents, this.spec.tickCents);
    if (planned.kind !== "oco" && planned.kind !== "trailing_sell") {
      return [await sendOrder(this.api, trader, planned.kind, clientOrderId, bodyAt(planned), await this.path.current())];
    }
    const shares: OrderBody = { symbol: planned.symbol, side: "BUY", quantity: planned.quantity, order_type: "MARKET", time_in_force: "DAY" };
    const buy = await sendOrder(this.api, trader, "exit_shares", `${clientOrderId}-shares`, () => shares, await this.path.current());
    const filled = buy.orderId ? await this.filledOf(trader, buy.orderId) : 0;
    if (filled === 0) {
      this.notPlaced++;
      return [buy];
    }
    return [buy, await sendOrder(this.api, trader, planned.kind, clientOrderId, bodyAt({ ...planned, quantity: filled }), await this.path.current())];
  }

  onProgress(done: number): void {
    this.path.onProgress(done);
  }

  async finish(): Promise<void> {
    await this.path.finish();
  }

  figures(): ContingentFigures {
    return { notPlaced: this.notPlaced, pathErrors: [...this.path.errors] };
  }

  /** The shares an order filled once it is final (its final event on the trader's stream), 0 after 20 s without. */
  private async filledOf(trader: DrillTrader, orderId: string): Promise<number> {
    const deadline = Date.now() + 20_000;
    while (!trader.streams[0]!.has(orderId, FINAL_EVENTS)) {
      if (Date.now() > deadline) return 0;
      await sleep(100);
    }
    return (await this.api.order(trader.token, orderId)).filled_quantity;
  }
}
