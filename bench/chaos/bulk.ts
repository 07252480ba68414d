// A trader's bulk actions: cancel all its working orders (of a symbol, and side) and close positions (in
// part, whole, or all). Before asking, the drill marks every order the action may end as asked to cancel
// (a contingent entry's exits with it), so the checks do not expect those orders to trade on meanwhile.
import { errorCode, type HttpResult } from "../http.ts";
import { CancelAllAnswer, CloseAllAnswer, Order, type Api, type CancelOutcome } from "./api.ts";
import type { DrillTrader, SubmitRecord } from "./submit.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface CancelAllRecord {
  trader: string;
  symbol: string | null;
  side: "BUY" | "SELL" | null;
  /** Date.now() when the first try was sent, when the answered one was sent, and when its answer came. */
  sentAt: number;
  lastSentAt: number;
  doneAt: number;
  status: number;
  code: string | null;
  results: CancelOutcome[] | null;
  tries: number;
}

export interface CloseRecord {
  trader: string;
  /** null: every position (DELETE /api/v1/positions). */
  symbol: string | null;
  quantity: number | null;
  percentage: number | null;
  sentAt: number;
  doneAt: number;
  status: number;
  code: string | null;
  /** The closing MARKET SELLs it placed, and the positions it could not close. */
  orders: Order[];
  errors: { symbol: string; error: string; message: string }[];
}

/** What the bulk actions read of the flow and write back: its submits, and the cancels it has asked. */
export interface BulkContext {
  api: Api;
  submits: SubmitRecord[];
  /** Marks an order (and its legs) as asked to cancel at `at` (Date.now()). */
  markCancelSent(orderId: string, at: number): void;
}

/** DELETE /api/v1/orders[?symbol&side]: marks the trader's matching orders as asked to cancel, then asks (up to four tries). */
export async function cancelAll(x: BulkContext, trader: DrillTrader, symbol: string | null, side: "BUY" | "SELL" | null): Promise<CancelAllRecord> {
  const sentAt = Date.now();
  for (const s of x.submits) {
    // A bracket or oto entry's exits are SELLs: a cancel-all of SELLs cancels them.
    const sideMatches = side === null || s.body.side === side || (side === "SELL" && s.legIds.length > 0);
    if (s.trader === trader.id && s.orderId && (symbol === null || s.body.symbol === symbol) && sideMatches) x.markCancelSent(s.orderId, sentAt);
  }
  const query = [symbol ? `symbol=${symbol}` : "", side ? `side=${side}` : ""].filter(Boolean).join("&");
  let last: HttpResult | null = null;
  let lastSentAt = sentAt;
  let tries = 0;
  for (; tries < 4; tries++) {
    if (tries > 0) await sleep(200 * 2 ** (tries - 1));
    lastSentAt = Date.now();
    try {
      last = await x.api.http.send("DELETE", `/api/v1/orders${query ? `?${query}` : ""}`, { token: trader.token, timeoutMs: 20_000 });
    } catch {
      last = null;
    }
    if (last && last.status < 500 && last.status !== 429) break;
  }
  return {
    trader: trader.id, symbol, side, sentAt, lastSentAt, doneAt: Date.now(), status: last?.status ?? 0, code: last && last.status !== 200 ? errorCode(last) : last ? null : "network",
    results: last?.status === 200 ? CancelAllAnswer.parse(JSON.parse(last.text)).data : null, tries: Math.min(tries + 1, 4),
  };
}

/**
 * DELETE /api/v1/positions/:symbol[?quantity|percentage], or DELETE /api/v1/positions (every position):
 * the symbol's SELL orders are marked as asked to cancel (the close cancels them first). Sent once. The
 * closing MARKET SELLs join the flow's submits.
 */
export async function close(x: BulkContext, trader: DrillTrader, symbol: string | null, quantity: number | null, percentage: number | null): Promise<CloseRecord> {
  const sentAt = Date.now();
  for (const s of x.submits) {
    // A bracket or oto entry is a BUY whose exits are SELLs: the close cancels those.
    if (s.trader === trader.id && s.orderId && (s.body.side === "SELL" || s.legIds.length > 0) && (symbol === null || s.body.symbol === symbol)) x.markCancelSent(s.orderId, sentAt);
  }
  const path = symbol === null ? "/api/v1/positions" : `/api/v1/positions/${symbol}${quantity !== null ? `?quantity=${quantity}` : percentage !== null ? `?percentage=${percentage}` : ""}`;
  let last: HttpResult | null = null;
  try {
    last = await x.api.http.send("DELETE", path, { token: trader.token, timeoutMs: 30_000 });
  } catch {
    last = null;
  }
  const doneAt = Date.now();
  let orders: Order[] = [];
  let errors: CloseRecord["errors"] = [];
  if (last?.status === 201) orders = [Order.parse(JSON.parse(last.text))];
  if (last?.status === 200) ({ data: orders, errors } = CloseAllAnswer.parse(JSON.parse(last.text)));
  for (const o of orders) {
    x.submits.push({
      trader: trader.id, kind: "close", body: { symbol: o.symbol, side: "SELL", quantity: o.quantity, order_type: "MARKET", time_in_force: "DAY" }, clientOrderId: "",
      status: last!.status, code: null, tries: 1, orderId: o.id, legIds: [], ackedAt: doneAt, ms: doneAt - sentAt, repriced: 0, repricedAfter: null,
    });
  }
  return {
    trader: trader.id, symbol, quantity, percentage, sentAt, doneAt, status: last?.status ?? 0,
    code: last && last.status !== 200 && last.status !== 201 ? errorCode(last) : last ? null : "network", orders, errors,
  };
}
