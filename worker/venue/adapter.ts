// The boundary between a trader's desk and a trading venue. The simulated venue implements it by default;
// a real broker's adapter implements the same four calls and is chosen by the EXCHANGE var.
import type { OrderType, Side, TimeInForce } from "../shared/orders";

export interface Quote {
  symbol: string;
  priceCents: number;
  tickCents: number;
  tradable: boolean;
  /**
   * Why no price could be had just now (a broker's market data down, rate limited or refused): the risk
   * checks then answer 503 VENUE_UNAVAILABLE with it rather than judging the order; absent when priced.
   */
  unavailable?: string;
  /** Rises with every change of the instrument: of two quotes for a symbol, the higher version is current. */
  version: number;
}

/** What the desk sends. `key` is the order's idempotency key toward the venue: one key, at most one order. */
export interface VenueOrder {
  key: string;
  traderId: string;
  orderId: string;
  symbol: string;
  side: Side;
  quantity: number;
  orderType: OrderType;
  limitCents: number | null;
  stopCents: number | null;
  timeInForce: TimeInForce;
  /** Market protection: a market (or triggered stop) order never trades through this price. */
  protectCents: number | null;
  /** A BUY never spends more than this (the cash reserved for it). */
  maxCostCents: number | null;
  /** TRAILING_STOP: its trail (a fixed amount in cents, or basis points of the mark); null otherwise. */
  trailCents?: number | null;
  trailBp?: number | null;
  /** TRAILING_STOP: the high-water mark (low for a BUY) the venue tracks; set by the venue. */
  hwmCents?: number | null;
  /** Exits of one parent (one-cancels-other): as one fills, the venue reduces the others by as much. */
  ocoGroup?: string | null;
  /**
   * The shares the group's exits may trade between them (its entry's fills so far, or an oco's quantity):
   * the venue holds every member to what is left of it, however late a member arrives. Only rises.
   */
  ocoCapacity?: number;
  /**
   * The one other exit of its group, for a venue that can take the pair as one order (Alpaca's `oco` order
   * class): absent when the group has more than one other member, or its other member was never live.
   */
  ocoPeer?: OcoPeer;
}

/**
 * The other exit of a pair, as the desk has it when the order is sent (prices in cents). `live`: not final,
 * it is sent (or working) now; a final peer may still have carried this order to the venue.
 */
export type OcoPeer = Pick<VenueOrder, "orderId" | "key" | "side" | "quantity" | "orderType" | "limitCents" | "stopCents" | "timeInForce"> & { live: boolean };

export type OrderRef = Pick<VenueOrder, "key" | "orderId" | "traderId" | "symbol">;

export interface VenueFill {
  id: string;
  quantity: number;
  priceCents: number;
  timestamp: string;
}

export type VenueState = "WORKING" | "FILLED" | "CANCELLED" | "REJECTED" | "EXPIRED";

/** The terms an order works on at the venue now, and the last amend applied to them (0: none). */
export interface VenueTerms {
  amendSeq: number;
  quantity: number;
  limitCents: number | null;
  /** The stop; for a TRAILING_STOP, where it stands now. */
  stopCents: number | null;
  timeInForce: TimeInForce;
  /** TRAILING_STOP: its trail and high-water mark now (absent otherwise). */
  trailCents?: number | null;
  trailBp?: number | null;
  hwmCents?: number | null;
}

/** An amend (FIX cancel/replace) of a working order: its new terms under the desk's amend sequence number. */
export interface VenueAmend extends Omit<VenueTerms, "amendSeq" | "hwmCents"> {
  /** Rises by one per amend of the order; the venue applies each seq at most once. */
  seq: number;
  protectCents: number | null;
  maxCostCents: number | null;
  /** An exit grown as its entry fills on: the group's new capacity (see VenueOrder.ocoCapacity). */
  ocoCapacity?: number;
}

/** The venue's whole view of one order: every fill so far, so a report can be applied more than once. */
export interface VenueReport {
  key: string;
  orderId: string;
  state: VenueState;
  fills: VenueFill[];
  reason: string | null;
  /** A STOP or STOP_LIMIT order's stop has been reached (it now works as a market or limit order). */
  triggered?: boolean;
  /** The terms the order works on at the venue (a report after an amend says whether it applied). */
  terms?: VenueTerms;
  /** An answer to an amend that did not apply: the venue's reason, for the trader (e.g. a broker's refusal). */
  amendRefusal?: string;
}

export interface ExchangeAdapter {
  /**
   * True when the venue itself holds the exits of a group to what is left of it (VenueOrder.ocoGroup and
   * ocoCapacity), atomically with each fill, as the simulated venue does. False (a broker that gets the exits
   * as unrelated orders): the desk reduces or cancels the siblings as each exit's fill reaches it.
   */
  readonly holdsExitGroups: boolean;
  /**
   * The symbol's reference price now. The venue also pushes every later change of it to the subscriber's
   * desk (TraderDesk.onQuote), so a desk may reuse the quote it holds until a newer one arrives.
   */
  quote(symbol: string, subscriber: string): Promise<Quote | null>;
  /** Throws when the venue fails; the caller bounds it with EXCHANGE_TIMEOUT_MS. */
  submit(order: VenueOrder, attempt: number): Promise<VenueReport>;
  /** The order the venue holds under `key`, or null when it never received it. */
  lookup(order: OrderRef): Promise<VenueReport | null>;
  /**
   * Amends a working order in place: the answer is its report after the change (terms.amendSeq tells
   * whether this amend applied; an order no longer working is left as it is), or null when the venue never
   * received the order. Sending the same seq again changes nothing more.
   */
  amend(order: OrderRef, amend: VenueAmend): Promise<VenueReport | null>;
  /** Ends the order at the venue; an unknown key is tombstoned so a late copy can never trade. */
  cancel(order: OrderRef, final: "CANCELLED" | "EXPIRED", reason: string): Promise<VenueReport>;
}
