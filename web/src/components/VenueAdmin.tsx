// Admin: the venue link's state, and the simulated venue's reference prices (a move fills the resting
// orders it crosses); with EXCHANGE=alpaca prices come from Alpaca's market data, so none are set here.
import { useEffect, useId, useMemo, useState } from "react";
import type { Instrument } from "../../../worker/shared/orders";
import { createApi } from "../api";
import { price } from "../format";
import type { Session } from "../session";
import type { VenueStatus } from "../venue-link";
import { VenueLink } from "./VenueLink";

export function VenueAdmin({ session, onExpired }: { session: Session; onExpired: () => void }) {
  const id = useId();
  const api = useMemo(() => createApi(() => session.token, onExpired), [session.token, onExpired]);
  const [exchange, setExchange] = useState<VenueStatus["exchange"] | null>(null);
  const readVenue = useMemo(
    () => async () => {
      const status = await api.venue();
      setExchange(status.exchange);
      return status;
    },
    [api],
  );
  const [instruments, setInstruments] = useState<Instrument[] | null>(null);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ tone: "error" | "success"; text: string } | null>(null);

  const load = () =>
    api.instruments().then(
      (res) => setInstruments(res.data),
      (err: unknown) => setMessage({ tone: "error", text: err instanceof Error ? err.message : "Could not load instruments" }),
    );
  useEffect(() => {
    void load();
  }, [api]);

  async function save(symbol: string) {
    const value = Number(drafts[symbol]);
    try {
      const updated = await api.setPrice(symbol, value);
      // The venue answers with its new state; the listing (read from D1) catches up a moment later.
      setInstruments((list) => list?.map((i) => (i.symbol === symbol ? { ...i, price: updated.price } : i)) ?? null);
      setMessage({ tone: "success", text: `${symbol} now ${price(updated.price)}` });
      setDrafts((d) => ({ ...d, [symbol]: "" }));
    } catch (err) {
      setMessage({ tone: "error", text: err instanceof Error ? err.message : "Could not set the price" });
    }
  }

  return (
    <div className="admin">
      <VenueLink load={readVenue} />
      {exchange === "alpaca" ? (
        <section className="panel" aria-labelledby={`${id}-title`}>
          <h2 id={`${id}-title`}>Prices</h2>
          <p className="muted">Orders execute at Alpaca; reference prices come from Alpaca&apos;s market data (latest quote, else last trade).</p>
        </section>
      ) : (
        <section className="panel" aria-labelledby={`${id}-title`}>
          <h2 id={`${id}-title`}>Simulated venue prices</h2>
          {message && <p className={`banner banner-${message.tone}`} role="status">{message.text}</p>}
          {!instruments ? (
            <p className="loading">Loading instruments…</p>
          ) : (
            <div className="table-scroll">
              <table className="compact">
                <thead><tr><th scope="col">Symbol</th><th scope="col" className="num">Price</th><th scope="col">New price</th></tr></thead>
                <tbody>
                  {instruments.map((i) => (
                    <tr key={i.symbol}>
                      <th scope="row">{i.symbol}</th>
                      <td className="num">{price(i.price)}</td>
                      <td>
                        <form className="inline-form" onSubmit={(e) => (e.preventDefault(), void save(i.symbol))}>
                          <label className="visually-hidden" htmlFor={`${id}-${i.symbol}`}>New price for {i.symbol}</label>
                          <input id={`${id}-${i.symbol}`} type="number" step={0.01} min={0.01} value={drafts[i.symbol] ?? ""} onChange={(e) => setDrafts((d) => ({ ...d, [i.symbol]: e.target.value }))} />
                          <button type="submit" className="btn btn-ghost btn-small" disabled={!drafts[i.symbol]}>Set</button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </div>
  );
}
