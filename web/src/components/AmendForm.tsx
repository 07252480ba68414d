// Amend a working order in place, under its blotter row: the new total quantity, the limit and stop prices
// it has (a trailing stop: its trail), and its time in force. Checked before sending with the shared schema and price rules; one
// Idempotency-Key per edit (a retry of the same terms keeps it); the server's refusal shown verbatim.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { Instrument } from "../../../worker/shared/orders";
import { ApiFailure } from "../api";
import { focusFirstError } from "../form-errors";
import { amendDraft, editsPrice, editsStop, editsTrail, isExit, toAmendRequest, type AmendDraft, type AmendErrors, type AmendField } from "../amend";
import { isWorking, type OrderView } from "../blotter";
import { price, quantity } from "../format";
import type { DeskStore } from "../store";
import { keyFor, newKey, type TicketKey } from "../ticket";

const FIELD_ORDER: AmendField[] = ["quantity", "stop_price", "trail_price", "trail_percent", "price", "time_in_force"];

export function AmendForm({ order, store, instrument, onDone }: { order: OrderView; store: DeskStore; instrument: Instrument | undefined; onDone: () => void }) {
  const id = useId();
  const [draft, setDraft] = useState<AmendDraft>(() => amendDraft(order));
  const [errors, setErrors] = useState<AmendErrors>({});
  const [banner, setBanner] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const key = useRef<TicketKey | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const name = `${order.side} ${quantity(order.quantity)} ${order.symbol}`;
  const trailField = editsTrail(order);
  const exit = isExit(order);

  useEffect(() => {
    form.current?.querySelector<HTMLInputElement>("input")?.focus();
  }, []);

  function update<K extends keyof AmendDraft>(field: K, value: AmendDraft[K]) {
    setDraft({ ...draft, [field]: value });
    setBanner(null);
    if (Object.keys(errors).length > 0) setErrors({});
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (sending) return;
    const result = toAmendRequest(order, draft, instrument);
    if (!result.ok) {
      setErrors(result.errors);
      focusFirstError(form.current, FIELD_ORDER, result.errors);
      return;
    }
    setErrors({});
    key.current = keyFor(key.current, JSON.stringify(result.body), newKey);
    setSending(true);
    setBanner(null);
    try {
      await store.amend(order.id, result.body, key.current.key);
      onDone();
    } catch (err) {
      if (err instanceof ApiFailure) {
        setBanner(err.message);
        const fields = err.details?.fields;
        if (err.code === "VALIDATION_ERROR" && fields && typeof fields === "object") setErrors(fields as AmendErrors);
      } else {
        setBanner("The amend could not be sent; try again.");
      }
      setSending(false);
    }
  }

  const field = (fieldName: AmendField) => ({
    id: `${id}-${fieldName}`,
    name: fieldName,
    "aria-invalid": errors[fieldName] ? true : undefined,
    "aria-describedby": errors[fieldName] ? `${id}-${fieldName}-error` : undefined,
  });
  const fieldError = (fieldName: AmendField) =>
    errors[fieldName] ? (
      <p className="field-error" id={`${id}-${fieldName}-error`}>
        {errors[fieldName]}
      </p>
    ) : null;

  return (
    <form
      ref={form}
      className="amend"
      onSubmit={submit}
      onKeyDown={(e) => e.key === "Escape" && !sending && onDone()}
      noValidate
      aria-label={`Amend ${name}`}
      data-testid="amend-form"
    >
      {banner && (
        <div className="banner banner-error" role="alert" data-testid="amend-error">
          {banner}
        </div>
      )}
      <div className="amend-fields">
        {!exit && (
          <div className="field">
            <label htmlFor={`${id}-quantity`}>New total quantity</label>
            <input {...field("quantity")} type="number" inputMode="numeric" min={order.filled_quantity + 1} step={1} value={draft.quantity} onChange={(e) => update("quantity", e.target.value)} />
            {order.filled_quantity > 0 && <p className="hint">{quantity(order.filled_quantity)} filled: more than that</p>}
            {fieldError("quantity")}
          </div>
        )}
        {editsStop(order) && (
          <div className="field">
            <label htmlFor={`${id}-stop_price`}>Stop price ($)</label>
            <input {...field("stop_price")} type="number" inputMode="decimal" min={0.01} step={instrument?.tick_size ?? 0.01} value={draft.stop_price} onChange={(e) => update("stop_price", e.target.value)} />
            {fieldError("stop_price")}
          </div>
        )}
        {trailField && (
          <div className="field">
            <label htmlFor={`${id}-${trailField}`}>{trailField === "trail_price" ? "Trail ($)" : "Trail (%)"}</label>
            <input
              {...field(trailField)}
              type="number"
              inputMode="decimal"
              min={0.01}
              step={trailField === "trail_price" ? (instrument?.tick_size ?? 0.01) : 0.01}
              value={draft.trail}
              onChange={(e) => update("trail", e.target.value)}
            />
            {fieldError(trailField)}
          </div>
        )}
        {editsPrice(order) && (
          <div className="field">
            <label htmlFor={`${id}-price`}>Limit price ($)</label>
            <input {...field("price")} type="number" inputMode="decimal" min={0.01} step={instrument?.tick_size ?? 0.01} value={draft.price} onChange={(e) => update("price", e.target.value)} />
            {fieldError("price")}
          </div>
        )}
        {draft.time_in_force !== "" && !exit && (
          <div className="field field-tif">
            <label htmlFor={`${id}-time_in_force`}>Time in force</label>
            <select {...field("time_in_force")} value={draft.time_in_force} onChange={(e) => update("time_in_force", e.target.value as AmendDraft["time_in_force"])}>
              <option value="DAY">DAY · Day</option>
              <option value="GTC">GTC · Good till cancelled</option>
            </select>
            {fieldError("time_in_force")}
          </div>
        )}
      </div>
      <p className="hint">
        {instrument ? `${order.symbol} last ${price(instrument.price)} · tick ${price(instrument.tick_size)}. ` : ""}
        {exit
          ? "An exit's quantity follows its entry's fills; its prices can change."
          : "A lower quantity keeps the order's place in the book; a new price or more shares lose it."}
      </p>
      {errors.body && <p className="field-error">{errors.body}</p>}
      <div className="amend-buttons">
        <button type="submit" className="btn btn-primary btn-small" disabled={sending || !isWorking(order)} aria-busy={sending}>
          {sending ? "Amending…" : "Save amend"}
        </button>
        <button type="button" className="btn btn-ghost btn-small" onClick={onDone}>
          {isWorking(order) ? "Discard" : "Close"}
        </button>
      </div>
    </form>
  );
}
