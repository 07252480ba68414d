// The order ticket. Checks run on the shared zod schema before sending; the server's refusal is shown
// verbatim in a red banner; one Idempotency-Key per ticket makes a double click or a retry harmless.
// While the account is HALTED the ticket is closed; while REDUCE_ONLY, Buy is (each with the reason).
import { useId, useRef, useState, type FormEvent } from "react";
import { needsLimitPrice, needsStopPrice, ORDER_TYPES, TIME_IN_FORCE } from "../../../worker/shared/orders";
import type { Account } from "../../../worker/shared/account";
import type { Instrument, OrderType } from "../../../worker/shared/orders";
import { ApiFailure } from "../api";
import { money, price } from "../format";
import type { DeskStore } from "../store";
import { estimatedCost, initialDraft, keyFor, newKey, submitLabel, toOrderRequest, type FieldErrors, type TicketDraft, type TicketField, type TicketKey } from "../ticket";

const TYPE_LABELS: Record<OrderType, string> = { MARKET: "Market", LIMIT: "Limit", STOP: "Stop", STOP_LIMIT: "Stop limit", TRAILING_STOP: "Trailing stop" };
const TIF_LABELS = { DAY: "Day", GTC: "Good till cancelled", IOC: "Immediate or cancel", FOK: "Fill or kill" } as const;
const FIELD_ORDER: TicketField[] = ["symbol", "side", "quantity", "order_type", "price", "stop_price", "time_in_force"];

interface Props {
  store: DeskStore;
  instruments: Instrument[] | null;
  instrumentsError: string | null;
  account: Account | null;
}

export function Ticket({ store, instruments, instrumentsError, account }: Props) {
  const id = useId();
  const [draft, setDraft] = useState<TicketDraft>(() => initialDraft());
  const [errors, setErrors] = useState<FieldErrors>({});
  const [checked, setChecked] = useState(false);
  const [banner, setBanner] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const ticketKey = useRef<TicketKey | null>(null);
  const form = useRef<HTMLFormElement>(null);

  const instrument = instruments?.find((i) => i.symbol === draft.symbol);
  const cost = estimatedCost(draft, instrument?.price);
  const short = draft.side === "BUY" && cost !== null && account !== null && cost > account.buying_power;
  const tradingState = account?.trading_state ?? "ACTIVE";
  const halted = tradingState === "HALTED";
  const buyBarred = tradingState === "REDUCE_ONLY" && draft.side === "BUY";
  const closedNote = halted
    ? "Trading is halted on this account: the ticket is closed until an administrator reopens it."
    : buyBarred
      ? "This account is reduce-only: buying is disabled. Choose Sell to reduce a position."
      : null;

  function update<K extends keyof TicketDraft>(field: K, value: TicketDraft[K]) {
    const next = { ...draft, [field]: value };
    // Switching to a priced order type starts from the current price, which the trader then adjusts.
    if (field === "order_type" && instrument) {
      const type = value as OrderType;
      if (needsLimitPrice(type) && next.price === "") next.price = instrument.price.toFixed(2);
      // A stop starts one tick on the side it triggers from: above the price for a BUY, below for a SELL.
      const tick = next.side === "BUY" ? instrument.tick_size : -instrument.tick_size;
      if (needsStopPrice(type) && next.stop_price === "") next.stop_price = (instrument.price + tick).toFixed(2);
    }
    setDraft(next);
    setBanner(null);
    if (checked) {
      const result = toOrderRequest(next, instrument);
      setErrors(result.ok ? {} : result.errors);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (submitting || closedNote) return;
    const result = toOrderRequest(draft, instrument);
    setChecked(true);
    if (!result.ok) {
      setErrors(result.errors);
      const first = FIELD_ORDER.find((f) => result.errors[f]);
      if (first) form.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
      return;
    }
    setErrors({});
    ticketKey.current = keyFor(ticketKey.current, JSON.stringify(result.body), newKey);
    setSubmitting(true);
    setBanner(null);
    try {
      await store.submit(result.body, ticketKey.current.key);
      ticketKey.current = null; // the next order is a new order
      setChecked(false);
    } catch (err) {
      if (err instanceof ApiFailure) {
        setBanner(err.message);
        const fields = err.details?.fields;
        if (err.code === "VALIDATION_ERROR" && fields && typeof fields === "object") setErrors(fields as FieldErrors);
      } else {
        setBanner("The order could not be sent; try again.");
      }
    } finally {
      setSubmitting(false);
    }
  }

  const field = (name: TicketField) => ({
    id: `${id}-${name}`,
    name,
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": errors[name] ? `${id}-${name}-error` : undefined,
  });
  const fieldError = (name: TicketField) =>
    errors[name] ? (
      <p className="field-error" id={`${id}-${name}-error`}>
        {errors[name]}
      </p>
    ) : null;

  return (
    <section className="panel ticket" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Order ticket</h2>
      <form ref={form} onSubmit={submit} noValidate aria-describedby={closedNote ? `${id}-closed` : undefined}>
        {closedNote && (
          <p className="banner banner-warn" id={`${id}-closed`} data-testid="ticket-closed">
            {closedNote}
          </p>
        )}
        <fieldset className="ticket-fields" disabled={halted}>
          {banner && (
            <div className="banner banner-error" role="alert" data-testid="order-error">
              {banner}
            </div>
          )}
          {instrumentsError && !instruments && <div className="banner banner-warn">{instrumentsError}</div>}

          <div className="field">
            <label htmlFor={`${id}-symbol`}>Symbol</label>
            <select {...field("symbol")} value={draft.symbol} disabled={!instruments} onChange={(e) => update("symbol", e.target.value)}>
              {!instruments && <option value={draft.symbol}>Loading instruments…</option>}
              {instruments?.map((i) => (
                <option key={i.symbol} value={i.symbol} disabled={!i.tradable}>
                  {i.symbol} · {price(i.price)}
                  {i.tradable ? "" : " · halted"}
                </option>
              ))}
            </select>
            <p className="hint" aria-live="polite">
              {instrument ? `${instrument.name} · last ${price(instrument.price)}` : " "}
            </p>
            {fieldError("symbol")}
          </div>

          <fieldset className="field side-toggle">
            <legend>Side</legend>
            {(["BUY", "SELL"] as const).map((side) => (
              <label key={side} className={`side side-${side.toLowerCase()}`}>
                <input
                  type="radio"
                  name="side"
                  value={side}
                  checked={draft.side === side}
                  disabled={side === "BUY" && tradingState === "REDUCE_ONLY"}
                  onChange={() => update("side", side)}
                />
                <span>{side === "BUY" ? "Buy" : "Sell"}</span>
              </label>
            ))}
          </fieldset>

          <div className="field-row">
            <div className="field">
              <label htmlFor={`${id}-quantity`}>Quantity</label>
              <input {...field("quantity")} type="number" inputMode="numeric" min={1} step={1} value={draft.quantity} onChange={(e) => update("quantity", e.target.value)} />
              {fieldError("quantity")}
            </div>
            <div className="field">
              <label htmlFor={`${id}-order_type`}>Order type</label>
              <select {...field("order_type")} value={draft.order_type} onChange={(e) => update("order_type", e.target.value as OrderType)}>
                {ORDER_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {TYPE_LABELS[t]}
                  </option>
                ))}
              </select>
            </div>
          </div>

          {(needsLimitPrice(draft.order_type) || needsStopPrice(draft.order_type)) && (
            <div className="field-row">
              {needsStopPrice(draft.order_type) && (
                <div className="field">
                  <label htmlFor={`${id}-stop_price`}>Stop price ($)</label>
                  <input {...field("stop_price")} type="number" inputMode="decimal" min={0.01} step={0.01} value={draft.stop_price} onChange={(e) => update("stop_price", e.target.value)} />
                  {fieldError("stop_price")}
                </div>
              )}
              {needsLimitPrice(draft.order_type) && (
                <div className="field">
                  <label htmlFor={`${id}-price`}>Limit price ($)</label>
                  <input {...field("price")} type="number" inputMode="decimal" min={0.01} step={0.01} value={draft.price} onChange={(e) => update("price", e.target.value)} />
                  {fieldError("price")}
                </div>
              )}
            </div>
          )}

          <div className="field">
            <label htmlFor={`${id}-time_in_force`}>Time in force</label>
            <select {...field("time_in_force")} value={draft.time_in_force} onChange={(e) => update("time_in_force", e.target.value as TicketDraft["time_in_force"])}>
              {TIME_IN_FORCE.map((t) => (
                <option key={t} value={t}>
                  {t} · {TIF_LABELS[t]}
                </option>
              ))}
            </select>
          </div>

          <dl className="estimate">
            <div>
              <dt>Estimated {draft.side === "BUY" ? "cost" : "proceeds"}</dt>
              <dd>{cost === null ? "—" : money(cost)}</dd>
            </div>
            {draft.side === "BUY" && (
              <div className={short ? "short" : undefined}>
                <dt>Buying power</dt>
                <dd>{account ? money(account.buying_power) : "—"}</dd>
              </div>
            )}
          </dl>
          {errors.body && <p className="field-error">{errors.body}</p>}

          <button type="submit" className={`btn btn-submit btn-${draft.side.toLowerCase()}`} disabled={submitting || !instruments || closedNote !== null} aria-busy={submitting}>
            {submitting ? "Submitting..." : submitLabel(draft)}
          </button>
        </fieldset>
      </form>
    </section>
  );
}
