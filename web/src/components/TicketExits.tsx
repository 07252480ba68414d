// The ticket's Exits section: the order class (simple, bracket, oto, oco), which exit an oto has, and the
// take-profit and stop-loss prices, each shown only when the class uses it (ticket.ts usesTakeProfit,
// usesStopLoss). The draft and its errors stay with the ticket; this renders them and reports changes.
import type { ReactElement } from "react";
import { ORDER_CLASSES, type OrderClass } from "../../../worker/shared/orders";
import { usesStopLoss, usesTakeProfit, type TicketDraft, type TicketField } from "../ticket";

const CLASS_LABELS: Record<OrderClass, string> = {
  simple: "None",
  bracket: "Bracket: take profit and stop loss",
  oto: "OTO: one exit",
  oco: "OCO: two exits for shares held",
};
const CLASS_HINTS: Record<OrderClass, string> = {
  simple: "Attach exits to an entry (bracket, OTO), or sell shares you hold at whichever exit comes first (OCO).",
  bracket: "The exits close what the entry opens (a sell entry's exits buy back): held until it fills, then live; when one fills the other is cancelled.",
  oto: "The exit closes what the entry opens (a sell entry's exit buys back): held until it fills, then live.",
  oco: "A take-profit limit and a stop loss for shares you hold: when one fills the other is cancelled.",
};

/** The attributes every ticket input carries: its id, name, and error wiring (aria). */
export interface FieldProps {
  id: string;
  name: TicketField;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

interface Props {
  draft: TicketDraft;
  /** The instrument's tick in dollars (the price inputs' step); undefined before instruments load. */
  tickSize: number | undefined;
  field: (name: TicketField) => FieldProps;
  fieldError: (name: TicketField) => ReactElement | null;
  domId: (name: TicketField) => string;
  update: <K extends keyof TicketDraft>(field: K, value: TicketDraft[K]) => void;
}

export function TicketExits({ draft, tickSize, field, fieldError, domId, update }: Props) {
  const contingent = draft.order_class !== "simple";
  /** One exit price: the request field it fills (for its id and errors), its label, and the draft's field. */
  const exitPrice = (name: TicketField, label: string, value: "take_profit" | "stop_loss" | "stop_loss_limit", placeholder?: string) => (
    <div className="field">
      <label htmlFor={domId(name)}>{label}</label>
      <input
        {...field(name)}
        type="number"
        inputMode="decimal"
        min={0.01}
        step={tickSize ?? 0.01}
        placeholder={placeholder}
        value={draft[value]}
        onChange={(e) => update(value, e.target.value)}
      />
      {fieldError(name)}
    </div>
  );
  return (
    <fieldset className="exits" data-testid="exits">
      <legend>Exits</legend>
      <div className="field">
        <label htmlFor={domId("order_class")}>Order class</label>
        <select {...field("order_class")} value={draft.order_class} onChange={(e) => update("order_class", e.target.value as OrderClass)}>
          {ORDER_CLASSES.map((c) => (
            <option key={c} value={c}>
              {CLASS_LABELS[c]}
            </option>
          ))}
        </select>
        <p className="hint">{CLASS_HINTS[draft.order_class]}</p>
        {fieldError("order_class")}
      </div>
      {draft.order_class === "oto" && (
        <fieldset className="field seg-toggle">
          <legend>Exit</legend>
          {(["take_profit", "stop_loss"] as const).map((exit) => (
            <label key={exit} className="seg">
              <input type="radio" name="oto_exit" value={exit} checked={draft.oto_exit === exit} onChange={() => update("oto_exit", exit)} />
              <span>{exit === "take_profit" ? "Take profit" : "Stop loss"}</span>
            </label>
          ))}
        </fieldset>
      )}
      {contingent && (
        <div className="field-row">
          {usesTakeProfit(draft) && exitPrice("take_profit.limit_price", "Take profit at ($)", "take_profit")}
          {usesStopLoss(draft) && exitPrice("stop_loss.stop_price", "Stop loss at ($)", "stop_loss")}
          {usesStopLoss(draft) && exitPrice("stop_loss.limit_price", "Stop loss limit ($)", "stop_loss_limit", "optional")}
        </div>
      )}
    </fieldset>
  );
}
