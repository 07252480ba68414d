// The stream link's throughput: one price move fills many resting orders of many traders at once; every
// fill passes through the account's one AlpacaLink on its way from Alpaca's stream to the desks. Measures
// fills per second from the fake's stream to the traders' order.filled events (printed, for docs/alpaca.md),
// and checks that each fill is applied once.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, eventually, json, newTrader, submit } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";
import { newSymbol, setSymbol } from "./fake";

afterEach(closeAll);

const TRADERS = 20;
const ORDERS_EACH = 10;

describe("the stream link under a burst of fills", () => {
  it(`delivers ${TRADERS * ORDERS_EACH} fills of ${TRADERS} traders from one price move, each once`, async () => {
    const symbol = await newSymbol(100);
    const traders = await Promise.all(Array.from({ length: TRADERS }, () => newTrader(100_000)));
    const sockets = await Promise.all(traders.map((t) => connect({ token: t.token })));
    const ids = await Promise.all(traders.map(async (trader) => {
      const mine: string[] = [];
      for (let i = 0; i < ORDERS_EACH; i++) mine.push((await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 99 }))).id);
      return mine;
    }));
    await Promise.all(traders.map((t, i) => Promise.all(ids[i]!.map((id) => eventually(() => auditOf(t, id), (a) => a.some((r) => r.action === "EXECUTED"), 20_000)))));

    const started = Date.now();
    await setSymbol(symbol, { price: 98 }); // every resting order fills now, one execution each
    await Promise.all(sockets.map((s, i) => s.until(() => ids[i]!.every((id) => s.events(id).some((e) => e.event === "order.filled")), 30_000)));
    const elapsed = Date.now() - started;
    const fills = TRADERS * ORDERS_EACH;
    console.log(`alpaca link: ${fills} fills from one stream burst to ${TRADERS} desks' sockets in ${elapsed} ms (${Math.round((fills / elapsed) * 1000)} fills/s)`);

    for (const [i, s] of sockets.entries()) {
      for (const id of ids[i]!) expect(s.events(id).filter((e) => e.event === "order.filled")).toHaveLength(1);
    }
  }, 60_000);
});
