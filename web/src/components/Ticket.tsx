// The order ticket. Checks run on the shared zod schema before sending; the server's refusal is shown
// verbatim in a red banner, and at the field it names (a leg's too: stop_loss.stop_price); one
// Idempotency-Key per ticket makes a double click or a retry harmless. It places trailing stops (trail by
// dollars or percent) and, in its Exits section, brackets, oto and oco orders: only the fields the chosen
// type and class use are shown and sent.
// While the account is HALTED the ticket is closed; while REDUCE_ONLY, Buy is (each with the reason).
import { useId, useRef, useState, type FormEvent } from "react";
import { needsStopPrice, ORDER_TYPES, TIME_IN_FORCE } from "../../../worker/shared/orders";
import type { Account } from "../../../worker/shared/account";
import type { Instrument, OrderClass, OrderType, Side } from "../../../worker/shared/orders";
import { ApiFailure } from "../api";
import { focusFirstError } from "../form-errors";
import { money, price } from "../format";
import type { DeskStore } from "../store";
import { TicketExits, type FieldProps } from "./TicketExits";
import {
  classSides, classTimeInForce, classTypes, defaultTrail, estimatedCost, FIELD_ORDER, initialDraft, keyFor, newKey, refusalErrors, submitLabel,
  toOrderRequest, trailingStart, usesLimitPrice, withOrderClass, withSide,
  type FieldErrors, type TicketDraft, type TicketField, type TicketKey, type TrailMode,
} from "../ticket";

const TYPE_LABELS: Record<OrderType, string> = { MARKET: "Market", LIMIT: "Limit", STOP: "Stop", STOP_LIMIT: "Stop limit", TRAILING_STOP: "Trailing stop" };
const TIF_LABELS = { DAY: "Day", GTC: "Good till cancelled", IOC: "Immediate or cancel", FOK: "Fill or kill" } as const;
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
  const cost = estimatedCost(draft, instrument?.price, instrument?.tick_size);
  const trailStart = trailingStart(draft, instrument);
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
    let next = { ...draft, [field]: value };
    // Switching to a priced order type starts from the current price, which the trader then adjusts.
    if (field === "order_type" && instrument) {
      const type = value as OrderType;
      if (usesLimitPrice({ ...next, order_type: type }) && next.price === "") next.price = instrument.price.toFixed(2);
      // A stop starts one tick on the side it triggers from: above the price for a BUY, below for a SELL.
      const tick = next.side === "BUY" ? instrument.tick_size : -instrument.tick_size;
      if (needsStopPrice(type) && next.stop_price === "") next.stop_price = (instrument.price + tick).toFixed(2);
      if (type === "TRAILING_STOP") {
        if (next.trail_price === "") next.trail_price = defaultTrail("price", instrument);
        if (next.trail_percent === "") next.trail_percent = defaultTrail("percent", instrument);
      }
    }
    // Another class moves side, type and time in force to what it allows, and starts its exits near the price.
    if (field === "order_class") next = withOrderClass(next, value as OrderClass, instrument);
    // A bracket's exits follow the entry to the other side of it.
    if (field === "side") next = withSide(draft, value as Side);
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
      focusFirstError(form.current, FIELD_ORDER, result.errors);
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
        setErrors(refusalErrors(err.code, err.message, err.details));
      } else {
        setBanner("The order could not be sent; try again.");
      }
    } finally {
      setSubmitting(false);
    }
  }

  const domId = (name: TicketField) => `${id}-${name.replace(".", "-")}`;
  const field = (name: TicketField): FieldProps => ({
    id: domId(name),
    name,
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": errors[name] ? `${domId(name)}-error` : undefined,
  });
  const fieldError = (name: TicketField) =>
    errors[name] ? (
      <p className="field-error" id={`${domId(name)}-error`} data-testid={`error-${name}`}>
        {errors[name]}
      </p>
    ) : null;
  const trailField = draft.trail_mode === "price" ? "trail_price" : "trail_percent";
  const sides = classSides(draft.order_class);
  const types = classTypes(draft.order_class);
  const tifs = classTimeInForce(draft.order_class);

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
                  disabled={(side === "BUY" && tradingState === "REDUCE_ONLY") || !sides.includes(side)}
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
              <label htmlFor={domId("order_type")}>Order type</label>
              <select {...field("order_type")} value={draft.order_type} disabled={draft.order_class === "oco"} onChange={(e) => update("order_type", e.target.value as OrderType)}>
                {ORDER_TYPES.map((t) => (
                  <option key={t} value={t} disabled={!types.includes(t)}>
                    {draft.order_class === "oco" && t === "LIMIT" ? "Limit (the take profit)" : TYPE_LABELS[t]}
                  </option>
                ))}
              </select>
              {fieldError("order_type")}
            </div>
          </div>

          {draft.order_type === "TRAILING_STOP" && (
            <div className="field-row">
              <fieldset className="field seg-toggle">
                <legend>Trail by</legend>
                {(["price", "percent"] as TrailMode[]).map((mode) => (
                  <label key={mode} className="seg">
                    <input type="radio" name="trail_mode" value={mode} checked={draft.trail_mode === mode} onChange={() => update("trail_mode", mode)} />
                    <span>{mode === "price" ? "Dollars" : "Percent"}</span>
                  </label>
                ))}
              </fieldset>
              <div className="field">
                <label htmlFor={domId(trailField)}>{draft.trail_mode === "price" ? "Trail ($)" : "Trail (%)"}</label>
                <input
                  {...field(trailField)}
                  type="number"
                  inputMode="decimal"
                  min={0.01}
                  max={draft.trail_mode === "percent" ? 50 : undefined}
                  step={draft.trail_mode === "price" ? (instrument?.tick_size ?? 0.01) : 0.1}
                  value={draft[trailField]}
                  onChange={(e) => update(trailField, e.target.value)}
                />
                {fieldError(trailField)}
              </div>
            </div>
          )}
          {draft.order_type === "TRAILING_STOP" && (
            <p className="hint" data-testid="trail-start">
              {trailStart !== null
                ? `Stop starts at ${price(trailStart)} and follows the ${draft.side === "SELL" ? "highest" : "lowest"} price by the trail.`
                : `The stop follows the ${draft.side === "SELL" ? "highest" : "lowest"} price by the trail.`}
            </p>
          )}

          {(usesLimitPrice(draft) || needsStopPrice(draft.order_type)) && (
            <div className="field-row">
              {needsStopPrice(draft.order_type) && (
                <div className="field">
                  <label htmlFor={`${id}-stop_price`}>Stop price ($)</label>
                  <input {...field("stop_price")} type="number" inputMode="decimal" min={0.01} step={0.01} value={draft.stop_price} onChange={(e) => update("stop_price", e.target.value)} />
                  {fieldError("stop_price")}
                </div>
              )}
              {usesLimitPrice(draft) && (
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
                <option key={t} value={t} disabled={!tifs.includes(t)}>
                  {t} · {TIF_LABELS[t]}
                </option>
              ))}
            </select>
            {fieldError("time_in_force")}
          </div>

          <TicketExits draft={draft} tickSize={instrument?.tick_size} field={field} fieldError={fieldError} domId={domId} update={update} />

          <dl className="estimate">
            <div>
              <dt>Estimated {draft.side === "BUY" ? "cost" : "proceeds"}{draft.order_class === "oco" ? " at the take profit" : ""}</dt>
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
