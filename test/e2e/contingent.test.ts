// Trailing and contingent orders on the trader's page, in Chromium against a real `wrangler dev` (SPEC,
// "Trailing and contingent orders"): a bracket placed from the ticket, its legs HELD under the entry, live
// once it fills, and the stop-loss CANCELLED on screen when the take-profit fills after the admin moves the
// price; a trailing stop placed from the ticket whose mark and stop follow the price up on screen. One server
// for the file; each test trades as a trader of its own, on instruments it created.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { awaitStatus, freshSymbol, openTrader, order, putInstrument, tryAmend, tryOrder } from "./api";
import { collectErrors, orderRow, signInWithToken, snap, submitButton, waitForStatus } from "./browser";
import { browserTestsRun, useBrowserSuite } from "./suite";



/** The page reads prices every 5 s (and then the trailing stops): a move shows within two refreshes, plus slack. */
const PRICE_REFRESH_WAIT_MS = 15_000;

describe.skipIf(!browserTestsRun)("trailing and contingent orders on the trader's page in Chromium", () => {
  const suite = useBrowserSuite();

  async function desk(token: string): Promise<{ page: Page; errors: string[] }> {
    const context = await suite.context();
    const page = await context.newPage();
    const errors = collectErrors(page);
    await signInWithToken(page, suite.server.url, token);
    return { page, errors };
  }

  const ticketOf = (page: Page) => page.getByRole("region", { name: "Order ticket" });
  const rowIds = (page: Page) => page.locator("tr[data-order-id]").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.orderId!));
  const sent = (page: Page) => page.evaluate(() => window.fillwireDebug!.orderRoutes()).then((r) => r.socket + r.http);

  /** The order id the seed's toast names after a submit. */
  async function submittedId(page: Page): Promise<string> {
    const toast = page.getByTestId("toast").filter({ hasText: "Order submitted" });
    await toast.last().waitFor({ timeout: 10_000 });
    return /Order ID: (ord_[0-9A-Z]+)/.exec((await toast.last().textContent()) ?? "")![1]!;
  }

  it("places a bracket from the ticket; its legs wait HELD under the entry, go live when it fills, and the stop-loss is CANCELLED when the take-profit fills", async () => {
    const symbol = freshSymbol();
    await putInstrument(suite.server.url, symbol, { name: "Bracket", price: 50, tick_size: 0.01, depth: 100_000 });
    const { token } = await openTrader(suite.server.url, 100_000);
    const { page, errors } = await desk(token);
    const ticket = ticketOf(page);

    await ticket.getByLabel("Symbol").selectOption(symbol);
    await ticket.getByLabel("Quantity").fill("10");
    await ticket.getByLabel("Order type").selectOption({ label: "Limit" });
    await ticket.getByLabel("Limit price ($)").fill("49.50");
    await ticket.getByLabel("Time in force").selectOption("GTC");
    // No exit fields until a class that has them is chosen; then they start either side of the entry.
    await expect(ticket.getByLabel("Take profit at ($)").count()).resolves.toBe(0);
    await ticket.getByLabel("Order class").selectOption("bracket");
    await expect(ticket.getByLabel("Take profit at ($)").inputValue()).resolves.toBe("50.49");
    await expect(ticket.getByLabel("Stop loss at ($)").inputValue()).resolves.toBe("48.51");
    await expect(ticket.getByRole("radio", { name: "Sell" }).isDisabled()).resolves.toBe(false); // a sell entry's exits buy back
    await expect(ticket.getByText("Estimated cost").locator("xpath=..").textContent()).resolves.toContain("$495.00");

    // Checked on the page first, in the desk's words, at the leg's field: nothing is sent.
    await ticket.getByLabel("Take profit at ($)").fill("49.00");
    await submitButton(page).click();
    await expect(ticket.getByTestId("error-take_profit.limit_price").textContent()).resolves.toBe("take_profit.limit_price 49.00 must be above the entry price 49.50");
    await expect(page.evaluate(() => document.activeElement?.getAttribute("name"))).resolves.toBe("take_profit.limit_price");
    expect(await sent(page)).toBe(0);

    // A refusal only the desk can give (the price band) is shown verbatim, and at the leg's field it names.
    const refusedBody = { symbol, side: "BUY", quantity: 10, order_type: "LIMIT", price: 49.5, time_in_force: "GTC", order_class: "bracket", take_profit: { limit_price: 60 }, stop_loss: { stop_price: 47 } };
    await ticket.getByLabel("Take profit at ($)").fill("60.00");
    await ticket.getByLabel("Stop loss at ($)").fill("47.00");
    await submitButton(page).click();
    const banner = ticket.getByTestId("order-error");
    await banner.waitFor();
    const refused = await tryOrder(suite.server.url, token, refusedBody);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: "PRICE_OUT_OF_BAND", details: { field: "take_profit.limit_price" } });
    await expect(banner.textContent()).resolves.toBe(refused.body.message);
    await expect(ticket.getByTestId("error-take_profit.limit_price").textContent()).resolves.toBe(refused.body.message);
    await snap(page, "30-bracket-refused-at-leg");

    await ticket.getByLabel("Take profit at ($)").fill("52.00");
    await expect(submitButton(page).textContent()).resolves.toBe(`Buy 10 ${symbol} bracket`);
    await submitButton(page).click();
    const id = await submittedId(page);
    const [tp, sl] = [`${id}-tp`, `${id}-sl`];

    // The legs under the entry, indented, HELD, each with Cancel and Amend (its prices, on the desk alone).
    await waitForStatus(page, tp, "HELD (0/10)");
    await waitForStatus(page, sl, "HELD (0/10)");
    await waitForStatus(page, id, "PENDING (0/10)");
    await expect(rowIds(page)).resolves.toEqual([id, tp, sl]);
    for (const leg of [tp, sl]) {
      await expect(orderRow(page, leg).getAttribute("class")).resolves.toContain("leg");
      await expect(orderRow(page, leg).getByRole("button", { name: /^Amend/ }).count()).resolves.toBe(1);
      await expect(orderRow(page, leg).getByRole("button", { name: /^Cancel/ }).count()).resolves.toBe(1);
    }
    await expect(orderRow(page, tp).getByTestId("leg-role").textContent()).resolves.toBe("Take profit");
    await expect(orderRow(page, sl).getByTestId("leg-role").textContent()).resolves.toBe("Stop loss");
    await expect(orderRow(page, id).getByTestId("order-class").textContent()).resolves.toBe("Bracket");
    await expect(orderRow(page, sl).textContent()).resolves.toContain("stop $47.00");
    // A stop-loss on the wrong side of the entry is refused, naming the field; then moved down to $46.50.
    const wrongSide = await tryAmend(suite.server.url, token, sl, { stop_price: 50 });
    expect(wrongSide).toMatchObject({ status: 400, body: { error: "VALIDATION_ERROR", details: { fields: { stop_price: expect.any(String) } } } });
    await orderRow(page, sl).getByRole("button", { name: /^Amend/ }).click();
    const form = page.getByTestId("amend-form");
    await expect(form.getByLabel("New total quantity").count()).resolves.toBe(0); // an exit's quantity follows its entry
    await form.getByLabel("Stop price ($)").fill("46.50");
    await form.getByRole("button", { name: "Save amend" }).click();
    await expect.poll(() => orderRow(page, sl).textContent()).toContain("stop $46.50");
    await waitForStatus(page, sl, "HELD (0/10)");
    await snap(page, "31-bracket-held");

    // The price comes down through the entry's limit: it fills and its exits go live for the 10 shares.
    await putInstrument(suite.server.url, symbol, { price: 49.4 });
    await waitForStatus(page, id, "FILLED (10/10)");
    await waitForStatus(page, tp, "PENDING (0/10)");
    await waitForStatus(page, sl, "PENDING (0/10)");
    await expect(orderRow(page, sl).getByRole("button", { name: /^Amend/ }).count()).resolves.toBe(1);
    await snap(page, "32-bracket-live");

    // The price rises to the take-profit: it fills, and the stop-loss is cancelled (one cancels other).
    await putInstrument(suite.server.url, symbol, { price: 52.1 });
    await waitForStatus(page, tp, "FILLED (10/10)");
    await waitForStatus(page, sl, "CANCELLED (0/10)");
    await expect(orderRow(page, sl).getAttribute("data-status")).resolves.toBe("CANCELLED");
    await expect(orderRow(page, sl).getByRole("button", { name: /^Cancel/ }).count()).resolves.toBe(0);
    await expect(rowIds(page)).resolves.toEqual([id, tp, sl]);
    const stopLoss = await order(suite.server.url, token, sl);
    expect(stopLoss.status).toBe("CANCELLED");
    await expect(orderRow(page, sl).textContent()).resolves.toContain(stopLoss.reason!);
    await snap(page, "33-bracket-take-profit-filled");
    expect(errors).toEqual([]);
  });

  it("places an oco from the ticket for shares held: both exits live under one row, and cancelling one cancels the other", async () => {
    const symbol = freshSymbol();
    await putInstrument(suite.server.url, symbol, { name: "Exits", price: 50, tick_size: 0.01, depth: 100_000 });
    const { token } = await openTrader(suite.server.url, 10_000, [{ symbol, quantity: 20, avg_price: 45 }]);
    const { page, errors } = await desk(token);
    const ticket = ticketOf(page);

    await ticket.getByLabel("Symbol").selectOption(symbol);
    await ticket.getByLabel("Quantity").fill("20");
    await ticket.getByLabel("Order class").selectOption("oco");
    // An oco sells what is held: Sell, the take-profit is its limit (no separate limit price), DAY or GTC.
    await expect(ticket.getByRole("radio", { name: "Sell" }).isChecked()).resolves.toBe(true);
    await expect(ticket.getByRole("radio", { name: "Buy" }).isDisabled()).resolves.toBe(true);
    await expect(ticket.getByLabel("Order type").isDisabled()).resolves.toBe(true);
    await expect(ticket.getByLabel("Limit price ($)").count()).resolves.toBe(0);
    await expect(ticket.locator('option[value="IOC"]').isDisabled()).resolves.toBe(true);
    await ticket.getByLabel("Take profit at ($)").fill("53.00");
    await ticket.getByLabel("Stop loss at ($)").fill("48.00");
    await ticket.getByLabel("Stop loss limit ($)").fill("47.90");
    await expect(ticket.getByText("Estimated proceeds").locator("xpath=..").textContent()).resolves.toContain("$1,060.00");
    await submitButton(page).click();
    const id = await submittedId(page);
    const sl = `${id}-sl`;

    await waitForStatus(page, id, "PENDING (0/20)");
    await waitForStatus(page, sl, "PENDING (0/20)");
    await expect(rowIds(page)).resolves.toEqual([id, sl]);
    await expect(orderRow(page, id).getByTestId("order-class").textContent()).resolves.toBe("OCO");
    await expect(orderRow(page, sl).textContent()).resolves.toContain("stop $48.00");
    await expect(orderRow(page, sl).textContent()).resolves.toContain("limit $47.90");
    await snap(page, "36-oco-live");

    await orderRow(page, sl).getByRole("button", { name: `Cancel SELL 20 ${symbol}` }).click();
    await waitForStatus(page, sl, "CANCELLED (0/20)");
    await waitForStatus(page, id, "CANCELLED (0/20)");
    await awaitStatus(suite.server.url, token, id, "CANCELLED");
    expect(errors).toEqual([]);
  });

  it("places a SELL bracket for shares held: its exits move to the other side of the entry and buy back", async () => {
    const symbol = freshSymbol();
    await putInstrument(suite.server.url, symbol, { name: "Sell bracket", price: 50, tick_size: 0.01, depth: 100_000 });
    const { token } = await openTrader(suite.server.url, 10_000, [{ symbol, quantity: 10, avg_price: 45 }]);
    const { page, errors } = await desk(token);
    const ticket = ticketOf(page);

    await ticket.getByLabel("Symbol").selectOption(symbol);
    await ticket.getByLabel("Quantity").fill("10");
    await ticket.getByLabel("Order class").selectOption("bracket");
    await expect(ticket.getByLabel("Take profit at ($)").inputValue()).resolves.toBe("51.00");
    await ticket.getByRole("radio", { name: "Sell" }).check();
    // The exits trade places: a SELL's take-profit below the entry, its stop-loss above.
    await expect(ticket.getByLabel("Take profit at ($)").inputValue()).resolves.toBe("49.00");
    await expect(ticket.getByLabel("Stop loss at ($)").inputValue()).resolves.toBe("51.00");
    await submitButton(page).click();
    const id = await submittedId(page);
    const [tp, sl] = [`${id}-tp`, `${id}-sl`];
    await waitForStatus(page, id, "FILLED (10/10)"); // a MARKET entry sells the 10 held
    await waitForStatus(page, tp, "PENDING (0/10)");
    await waitForStatus(page, sl, "PENDING (0/10)");
    await expect(orderRow(page, tp).getByRole("button", { name: `Cancel BUY 10 ${symbol}` }).count()).resolves.toBe(1);

    await putInstrument(suite.server.url, symbol, { price: 48.9 }); // the take-profit buys back; the stop-loss goes
    await waitForStatus(page, tp, "FILLED (10/10)");
    await waitForStatus(page, sl, "CANCELLED (0/10)");
    await snap(page, "37-sell-bracket-bought-back");
    expect(errors).toEqual([]);
  });

  it("places a trailing stop from the ticket, and shows its mark and stop following the price up", async () => {
    const symbol = freshSymbol();
    await putInstrument(suite.server.url, symbol, { name: "Trailer", price: 100, tick_size: 0.05, depth: 100_000 });
    const { token } = await openTrader(suite.server.url, 100_000, [{ symbol, quantity: 10, avg_price: 90 }]);
    const { page, errors } = await desk(token);
    const ticket = ticketOf(page);

    await ticket.getByLabel("Symbol").selectOption(symbol);
    await ticket.getByLabel("Quantity").fill("10");
    await ticket.getByLabel("Order type").selectOption({ label: "Trailing stop" });
    // Only the trail's fields: no limit or stop price.
    await expect(ticket.getByLabel("Limit price ($)").count()).resolves.toBe(0);
    await expect(ticket.getByLabel("Stop price ($)").count()).resolves.toBe(0);
    // A trailing BUY is funded at the price plus its trail.
    await ticket.getByLabel("Trail ($)").fill("2.00");
    await expect(ticket.getByText("Estimated cost").locator("xpath=..").textContent()).resolves.toContain("$1,020.00");
    await expect(ticket.getByTestId("trail-start").textContent()).resolves.toContain("Stop starts at $102.00");

    await ticket.getByRole("radio", { name: "Sell" }).check();
    await ticket.getByRole("radio", { name: "Percent" }).check();
    await ticket.getByLabel("Trail (%)").fill("60");
    await submitButton(page).click();
    await expect(ticket.getByTestId("error-trail_percent").textContent()).resolves.toBe("trail_percent must be at most 50");
    expect(await sent(page)).toBe(0);
    await ticket.getByLabel("Trail (%)").fill("2.5");
    await expect(ticket.getByTestId("trail-start").textContent()).resolves.toContain("Stop starts at $97.50");
    await expect(ticket.getByText("Estimated proceeds").locator("xpath=..").textContent()).resolves.toContain("$975.00");
    await ticket.getByLabel("Time in force").selectOption("GTC");
    await submitButton(page).click();
    const id = await submittedId(page);
    const row = orderRow(page, id);

    await waitForStatus(page, id, "PENDING (0/10)");
    await expect(row.getByTestId("trail-by").textContent()).resolves.toBe("2.5%");
    await row.getByTestId("hwm").filter({ hasText: "$100.00" }).waitFor({ timeout: PRICE_REFRESH_WAIT_MS });
    await expect(row.getByTestId("trail-stop").textContent()).resolves.toBe("$97.50");
    await snap(page, "34-trailing-placed");

    // The price rises: the mark follows, the stop trails it by 2.5% on the tick ($104.00 - $2.60).
    await putInstrument(suite.server.url, symbol, { price: 104 });
    await row.getByTestId("hwm").filter({ hasText: "$104.00" }).waitFor({ timeout: PRICE_REFRESH_WAIT_MS });
    await row.getByTestId("trail-stop").filter({ hasText: "$101.40" }).waitFor({ timeout: 2_000 });
    const moved = await order(suite.server.url, token, id);
    expect({ hwm: moved.hwm, stop_price: moved.stop_price, status: moved.status }).toEqual({ hwm: 104, stop_price: 101.4, status: "PENDING" });
    await snap(page, "35-trailing-followed");

    // A fall back to the price it had does not move them back.
    await putInstrument(suite.server.url, symbol, { price: 102 });
    await page.waitForTimeout(6_000);
    await expect(row.getByTestId("hwm").textContent()).resolves.toBe("$104.00");
    await expect(row.getByTestId("trail-stop").textContent()).resolves.toBe("$101.40");

    // Through the stop: it triggers and sells.
    await putInstrument(suite.server.url, symbol, { price: 101 });
    await waitForStatus(page, id, "FILLED (10/10)", 15_000);
    await awaitStatus(suite.server.url, token, id, "FILLED");
    expect(errors).toEqual([]);
  });
});
