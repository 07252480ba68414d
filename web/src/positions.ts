// Positions and the account valued at the latest price the page holds, as plain data: the same arithmetic
// as the desk's valuation (worker/trader/valuation.ts: integer cents and micro-dollars, rounded half away
// from zero only at the end), so the table moves with every price refresh and agrees with GET /positions.
// Also: a close request from what the trader chose, and the outcome lines of "Cancel all" and "Close all".
import type { Account } from "../../worker/shared/account";
import type { Instrument, Order } from "../../worker/shared/orders";

const MICROS_PER_CENT = 10_000n;

export interface PositionRow {
  symbol: string;
  quantity: number;
  avg_price: number;
  cost_basis: number;
  /** null when the page has no price for the symbol (then valued at cost, as the desk does). */
  market_price: number | null;
  market_value: number | null;
  unrealized_pl: number | null;
  /** A fraction of the cost basis (0.0125 is 1.25 %). */
  unrealized_plpc: number | null;
  realized_pl: number;
}

export interface DeskValue {
  positions: PositionRow[];
  /** cash + market value (a position without a price counts at cost). */
  equity: number;
  market_value: number;
  unrealized_pl: number;
  realized_pl: number;
}

/** Micro-dollars (BigInt) to dollars rounded to the cent, half away from zero. */
function microsToDollars(micros: bigint): number {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const cents = (2n * abs + MICROS_PER_CENT) / (2n * MICROS_PER_CENT);
  return (negative ? -Number(cents) : Number(cents)) / 100 || 0;
}

const cents = (dollars: number) => BigInt(Math.round(dollars * 100));
const micros = (dollars: number) => BigInt(Math.round(dollars * 1_000_000));

/** a x b / c rounded half away from zero. */
function mulDivRound(a: bigint, b: bigint, c: bigint): bigint {
  const n = a * b;
  const q = (2n * (n < 0n ? -n : n) + c) / (2n * c);
  return n < 0n ? -q : q;
}

/**
 * The account's positions valued at `instruments`' prices, with equity and P&L. Without instruments (not
 * loaded yet) the account's own figures stand: the desk valued them when it sent them.
 */
export function valueDesk(account: Account, instruments: readonly Pick<Instrument, "symbol" | "price">[] | null): DeskValue {
  const prices = new Map((instruments ?? []).map((i) => [i.symbol, i.price]));
  let marketCents = 0n;
  let unrealizedMicros = 0n;
  const positions = account.positions
    .filter((p) => p.quantity !== 0)
    .map((p): PositionRow => {
      const avg = micros(p.avg_price);
      const qty = BigInt(p.quantity);
      const cost = mulDivRound(avg, qty, MICROS_PER_CENT);
      const mark = prices.get(p.symbol);
      if (mark === undefined) {
        marketCents += cost;
        return { symbol: p.symbol, quantity: p.quantity, avg_price: p.avg_price, cost_basis: Number(cost) / 100, market_price: null, market_value: null, unrealized_pl: null, unrealized_plpc: null, realized_pl: p.realized_pl };
      }
      const markCents = cents(mark);
      const pl = (markCents * MICROS_PER_CENT - avg) * qty;
      marketCents += markCents * qty;
      unrealizedMicros += pl;
      return {
        symbol: p.symbol,
        quantity: p.quantity,
        avg_price: p.avg_price,
        cost_basis: Number(cost) / 100,
        market_price: Number(markCents) / 100,
        market_value: Number(markCents * qty) / 100,
        unrealized_pl: microsToDollars(pl),
        unrealized_plpc: cost === 0n ? null : Math.round((Number(pl) / Number(cost * MICROS_PER_CENT)) * 1e6) / 1e6,
        realized_pl: p.realized_pl,
      };
    });
  if (instruments === null) {
    return { positions, equity: account.equity, market_value: Math.round((account.equity - account.cash) * 100) / 100, unrealized_pl: account.unrealized_pl, realized_pl: account.realized_pl };
  }
  const cashCents = cents(account.cash);
  return {
    positions,
    equity: Number(cashCents + marketCents) / 100,
    market_value: Number(marketCents) / 100,
    unrealized_pl: microsToDollars(unrealizedMicros),
    realized_pl: account.realized_pl,
  };
}

/** "+1.25 %" / "−0.40 %" of a fraction; "—" without one. */
export function percent(fraction: number | null): string {
  if (fraction === null) return "—";
  const value = Math.round(fraction * 10_000) / 100;
  return `${value > 0 ? "+" : value < 0 ? "−" : ""}${Math.abs(value).toFixed(2)} %`;
}

/** The tone of a P&L figure: gain, loss or flat. */
export const tone = (n: number | null) => (n === null || n === 0 ? "" : n > 0 ? "pos" : "neg");

// ------------------------------------------------------------ closing a position

export interface CloseDraft {
  mode: "all" | "quantity" | "percentage";
  quantity: string;
  percentage: string;
}

export type CloseQuery = { quantity?: string; percentage?: string };

export const closeDraft = (): CloseDraft => ({ mode: "all", quantity: "", percentage: "50" });

/**
 * The query of DELETE /positions/:symbol for the draft, with the shares it sells (a percentage rounds down,
 * as the desk does), or what is wrong with it.
 */
export function toCloseRequest(held: number, draft: CloseDraft): { ok: true; query: CloseQuery; shares: number } | { ok: false; field: "quantity" | "percentage"; error: string } {
  if (draft.mode === "all") return { ok: true, query: {}, shares: held };
  if (draft.mode === "quantity") {
    const text = draft.quantity.trim().replace(/,/g, "");
    const n = Number(text);
    if (text === "" || !Number.isInteger(n) || n < 1) return { ok: false, field: "quantity", error: "quantity must be a whole number of shares, at least 1" };
    if (n > held) return { ok: false, field: "quantity", error: `quantity must be at most the ${held} shares you hold` };
    return { ok: true, query: { quantity: String(n) }, shares: n };
  }
  const text = draft.percentage.trim().replace(/%$/, "").trim();
  const pct = Number(text);
  if (text === "" || !Number.isFinite(pct) || pct <= 0 || pct > 100) return { ok: false, field: "percentage", error: "percentage must be more than 0 and at most 100" };
  const shares = Math.floor((held * pct) / 100);
  if (shares < 1) return { ok: false, field: "percentage", error: `${text} % of ${held} shares rounds down to 0 shares` };
  return { ok: true, query: { percentage: text }, shares };
}

// ------------------------------------------------------------ outcome lines

export interface CancelOutcome {
  id: string;
  status: number;
  order: Order | null;
  error: { error: string; message: string } | null;
}

export interface OutcomeSummary {
  /** One line: "3 cancelled, 1 could not be: …". */
  text: string;
  done: number;
  failures: { subject: string; message: string }[];
}

/** What DELETE /orders did, in one line; `describe` names an order ("BUY 100 AAPL"). */
export function summarizeCancelAll(outcomes: readonly CancelOutcome[], describe: (id: string) => string): OutcomeSummary {
  if (outcomes.length === 0) return { text: "There were no working orders to cancel.", done: 0, failures: [] };
  const done = outcomes.filter((o) => o.status === 200).length;
  const failures = outcomes
    .filter((o) => o.status !== 200)
    .map((o) => ({ subject: describe(o.id), message: o.error?.message ?? `fillwire answered ${o.status}` }));
  return { text: line(`${done} cancelled`, failures), done, failures };
}

/** What DELETE /positions did, in one line. */
export function summarizeCloseAll(result: { data: readonly Order[]; errors: readonly { symbol: string; message: string }[] }): OutcomeSummary {
  const done = result.data.length;
  const failures = result.errors.map((e) => ({ subject: e.symbol, message: e.message }));
  if (done === 0 && failures.length === 0) return { text: "There were no positions to close.", done, failures };
  return { text: line(`${done} closing ${done === 1 ? "order" : "orders"} sent`, failures), done, failures };
}

function line(head: string, failures: OutcomeSummary["failures"]): string {
  if (failures.length === 0) return `${head}.`;
  return `${head}, ${failures.length} could not be: ${failures.map((f) => `${f.subject}: ${f.message}`).join("; ")}`;
}
