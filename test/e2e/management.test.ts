// Order management on the trader's page, in Chromium against a real `wrangler dev`: amend from the
// blotter, cancel all, positions that move with the price, closing positions, the trading-state banner,
// and the account panel rendered with the fill that moved it. One server for the file; each test trades as
// a trader of its own, and moves prices only of instruments it created.
// UPDATE_DOCS_SCREENSHOT=1 also copies the desk's picture to docs/screenshot.png and docs/screenshot-390.png.
import { copyFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { account, awaitStatus, freshSymbol, openTrader, order, positions, putInstrument, setTradingState, submit } from "./api";
import { SCREENSHOTS, collectErrors, fillTicket, orderRow, signInWithToken, snap, submitButton, waitForStatus } from "./browser";
import { browserTestsRun, useBrowserSuite } from "./suite";



const GTC_LIMIT = (symbol: string, quantity: number, price: number) => ({ symbol, side: "BUY", quantity, order_type: "LIMIT", price, time_in_force: "GTC" });
/** The page reads prices every 5 s: a price move shows within one refresh, plus slack for a slow machine. */
const PRICE_REFRESH_WAIT_MS = 12_000;

describe.skipIf(!browserTestsRun)("order management on the trader's page in Chromium", () => {
  const suite = useBrowserSuite();

  /** A browser signed in with `token`, recording the HTTP requests and the live feed's URLs and frames. */
  async function desk(token: string): Promise<{ page: Page; errors: string[]; requests: string[]; sockets: { url: string; frames: string[] }[] }> {
    const context = await suite.context();
    const page = await context.newPage();
    const errors = collectErrors(page);
    const requests: string[] = [];
    page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    const sockets: { url: string; frames: string[] }[] = [];
    page.on("websocket", (ws) => {
      const socket = { url: ws.url(), frames: [] as string[] };
      sockets.push(socket);
      ws.on("framereceived", (f) => socket.frames.push(String(f.payload)));
    });
    await signInWithToken(page, suite.server.url, token);
    return { page, errors, requests, sockets };
  }

  const positionRow = (page: Page, symbol: string) => page.getByTestId("positions").locator(`tr[data-symbol="${symbol}"]`);
  const cell = (page: Page, symbol: string, testId: string) => positionRow(page, symbol).getByTestId(testId);

  it("amends a resting LIMIT's price and quantity from its blotter row, and the row shows the new terms", async () => {
    const { token } = await openTrader(suite.server.url);
    const id = await submit(suite.server.url, token, GTC_LIMIT("AAPL", 100, 140));
    await awaitStatus(suite.server.url, token, id, "PENDING");
    const { page, errors, requests } = await desk(token);
    await waitForStatus(page, id, "PENDING (0/100)");
    await expect(orderRow(page, id).textContent()).resolves.toContain("limit $140.00");

    await orderRow(page, id).getByRole("button", { name: "Amend BUY 100 AAPL" }).click();
    const form = page.getByRole("form", { name: "Amend BUY 100 AAPL" });
    await expect(form.getByLabel("New total quantity").inputValue()).resolves.toBe("100");
    await expect(form.getByLabel("Limit price ($)").inputValue()).resolves.toBe("140.00");
    await expect(form.getByLabel("Time in force").inputValue()).resolves.toBe("GTC");

    // checked on the page with the shared schema first: nothing is sent
    await form.getByLabel("Limit price ($)").fill("141.005");
    await form.getByRole("button", { name: "Save amend" }).click();
    await expect(form.locator(".field-error").textContent()).resolves.toBe("price must have at most two decimals (whole cents)");
    expect(requests.filter((r) => r.startsWith("PATCH"))).toEqual([]);

    await form.getByLabel("New total quantity").fill("80");
    await form.getByLabel("Limit price ($)").fill("141.00");
    await snap(page, "10-amend-in-place");
    await form.getByRole("button", { name: "Save amend" }).click();
    await waitForStatus(page, id, "PENDING (0/80)");
    await form.waitFor({ state: "detached" });
    await expect(orderRow(page, id).textContent()).resolves.toContain("limit $141.00");
    await expect(orderRow(page, id).getByRole("button", { name: "Amend BUY 80 AAPL" }).isVisible()).resolves.toBe(true);
    await page.getByTestId("toast").filter({ hasText: "Order amended - BUY 80 AAPL: quantity 80, limit $141.00" }).waitFor();
    // With the socket connected the amend goes over it (the same desk command as PATCH): no HTTP request.
    expect(requests.filter((r) => r.startsWith("PATCH"))).toEqual([]);
    await expect(page.evaluate(() => window.fillwireDebug!.orderRoutes())).resolves.toMatchObject({ http: 0, fallbacks: 0 });

    const amended = await order(suite.server.url, token, id);
    expect({ quantity: amended.quantity, price: amended.price, status: amended.status }).toEqual({ quantity: 80, price: 141, status: "PENDING" });
    expect(amended.amended_at).not.toBeNull();
    await snap(page, "11-amended");
    expect(errors).toEqual([]);
  });

  it("shows the server's 409 verbatim when the order filled while the amend was on its way", async () => {
    const symbol = freshSymbol();
    await putInstrument(suite.server.url, symbol, { name: "Amend race", price: 50, tick_size: 0.01, depth: 100_000 });
    const { token } = await openTrader(suite.server.url);
    const id = await submit(suite.server.url, token, GTC_LIMIT(symbol, 10, 49));
    await awaitStatus(suite.server.url, token, id, "PENDING");
    const { page, errors } = await desk(token);
    await waitForStatus(page, id, "PENDING (0/10)");

    // The page hears nothing while the price moves through the limit and the order fills.
    await page.evaluate(() => window.fillwireDebug!.pauseFeed());
    await putInstrument(suite.server.url, symbol, { price: 48.9 });
    await awaitStatus(suite.server.url, token, id, "FILLED");

    await orderRow(page, id).getByRole("button", { name: `Amend BUY 10 ${symbol}` }).click();
    const form = page.getByTestId("amend-form");
    await form.getByLabel("Limit price ($)").fill("49.50");
    await form.getByRole("button", { name: "Save amend" }).click();
    const refusal = form.getByTestId("amend-error");
    await refusal.waitFor();
    // the server's own words, as the API answers the same amend
    const res = await fetch(`${suite.server.url}/api/v1/orders/${id}`, {
      method: "PATCH", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ price: 49.5 }),
    });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("ORDER_NOT_AMENDABLE");
    await expect(refusal.textContent()).resolves.toBe(body.message);
    // the row catches up with where the order is: filled, nothing left to amend
    await waitForStatus(page, id, "FILLED (10/10)");
    await expect(form.getByRole("button", { name: "Close" }).isVisible()).resolves.toBe(true);
    await expect(orderRow(page, id).getByRole("button", { name: /^Amend/ }).count()).resolves.toBe(0);
    await snap(page, "12-amend-refused");
    await page.evaluate(() => window.fillwireDebug!.resumeFeed());
    expect(errors).toEqual([]);
  });

  it("cancels all working orders, or one symbol's, after a confirmation, and sums up each outcome", async () => {
    const { token } = await openTrader(suite.server.url);
    const ids = [
      await submit(suite.server.url, token, GTC_LIMIT("AAPL", 10, 140)),
      await submit(suite.server.url, token, GTC_LIMIT("AAPL", 10, 139)),
      await submit(suite.server.url, token, GTC_LIMIT("MSFT", 5, 400)),
    ];
    for (const id of ids) await awaitStatus(suite.server.url, token, id, "PENDING");
    const { page, errors, requests } = await desk(token);
    for (const id of ids) await waitForStatus(page, id, "PENDING");

    // Escape keeps them
    await page.getByRole("button", { name: "Cancel all…" }).click();
    const dialog = page.getByTestId("cancel-all-dialog");
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(requests.filter((r) => r.startsWith("DELETE"))).toEqual([]);

    await page.getByRole("button", { name: "Cancel all…" }).click();
    await dialog.getByLabel("Orders to cancel").selectOption("AAPL");
    await snap(page, "13-cancel-all-confirm", { fullPage: false });
    await dialog.getByRole("button", { name: "Cancel 2 orders" }).click();
    await expect(dialog.getByTestId("cancel-all-result").textContent()).resolves.toBe("2 cancelled.");
    await dialog.getByRole("button", { name: "Done" }).click();
    await waitForStatus(page, ids[0]!, "CANCELLED (0/10)");
    await waitForStatus(page, ids[1]!, "CANCELLED (0/10)");
    await expect(orderRow(page, ids[2]!).getByTestId("status").textContent()).resolves.toBe("PENDING (0/5)");

    await page.getByRole("button", { name: "Cancel all…" }).click();
    await expect(dialog.getByLabel("Orders to cancel").inputValue()).resolves.toBe("");
    await dialog.getByRole("button", { name: "Cancel 1 order" }).click();
    await expect(dialog.getByTestId("cancel-all-result").textContent()).resolves.toBe("1 cancelled.");
    await dialog.getByRole("button", { name: "Done" }).click();
    await waitForStatus(page, ids[2]!, "CANCELLED (0/5)");
    await expect(page.getByRole("button", { name: "Cancel all…" }).isDisabled()).resolves.toBe(true); // nothing works any more
    // Both cancel-alls went over the socket (cancel_all), not DELETE /api/v1/orders.
    expect(requests.filter((r) => r.startsWith("DELETE"))).toEqual([]);
    await expect(page.evaluate(() => window.fillwireDebug!.orderRoutes())).resolves.toMatchObject({ http: 0, fallbacks: 0 });
    for (const id of ids) expect((await order(suite.server.url, token, id)).status).toBe("CANCELLED");
    expect(errors).toEqual([]);
  });

  it("values positions at the latest price: the table, equity and P&L move after an admin price move", async () => {
    const symbol = freshSymbol();
    await putInstrument(suite.server.url, symbol, { name: "Price mover", price: 50, tick_size: 0.01, depth: 100_000 });
    const { token } = await openTrader(suite.server.url, 10_000, [{ symbol, quantity: 100, avg_price: 50 }]);
    const { page, errors, requests } = await desk(token);
    await cell(page, symbol, "market-price").filter({ hasText: "$50.00" }).waitFor(); // once the prices are read
    await expect(cell(page, symbol, "market-value").textContent()).resolves.toBe("$5,000.00");
    await expect(cell(page, symbol, "unrealized-pl").textContent()).resolves.toBe("$0.00");
    await expect(cell(page, symbol, "unrealized-plpc").textContent()).resolves.toBe("0.00 %");
    await expect(page.getByTestId("equity").textContent()).resolves.toBe("$15,000.00");

    await putInstrument(suite.server.url, symbol, { price: 55 });
    await cell(page, symbol, "market-price").filter({ hasText: "$55.00" }).waitFor({ timeout: PRICE_REFRESH_WAIT_MS });
    await expect(cell(page, symbol, "market-value").textContent()).resolves.toBe("$5,500.00");
    await expect(cell(page, symbol, "unrealized-pl").textContent()).resolves.toBe("$500.00");
    await expect(cell(page, symbol, "unrealized-plpc").textContent()).resolves.toBe("+10.00 %");
    await expect(page.getByTestId("equity").textContent()).resolves.toBe("$15,500.00");
    await expect(page.getByTestId("account-unrealized").textContent()).resolves.toBe("$500.00");
    // the page's arithmetic is the desk's
    const [served] = await positions(suite.server.url, token);
    expect(served).toMatchObject({ symbol, quantity: 100, market_price: 55, market_value: 5500, unrealized_pl: 500, unrealized_plpc: 0.1 });
    expect((await account(suite.server.url, token)).equity).toBe(15_500);
    await snap(page, "14-positions-price-up");

    await putInstrument(suite.server.url, symbol, { price: 47.5 });
    await cell(page, symbol, "market-price").filter({ hasText: "$47.50" }).waitFor({ timeout: PRICE_REFRESH_WAIT_MS });
    await expect(cell(page, symbol, "unrealized-pl").textContent()).resolves.toBe("-$250.00");
    await expect(cell(page, symbol, "unrealized-plpc").textContent()).resolves.toBe("−5.00 %");
    await expect(positionRow(page, symbol).locator('td[data-label="Unrealized P&L"]').getAttribute("class")).resolves.toContain("neg");
    // valued on the page: the account was read once, at sign-in, and the positions never
    expect(requests.filter((r) => r === "GET /api/v1/account" || r === "GET /api/v1/positions")).toEqual(["GET /api/v1/account"]);
    expect(errors).toEqual([]);
  });

  it("closes a position in part and in full, and then all positions, each after a confirmation", async () => {
    const symbol = freshSymbol();
    await putInstrument(suite.server.url, symbol, { name: "Closer", price: 20, tick_size: 0.01, depth: 1_000_000 });
    const { token } = await openTrader(suite.server.url, 10_000, [{ symbol, quantity: 100, avg_price: 18 }, { symbol: "AAPL", quantity: 10, avg_price: 150 }]);
    const { page, errors, requests } = await desk(token);
    await expect(cell(page, symbol, "position-qty").textContent()).resolves.toBe("100");

    // part, by percentage (the quantity is checked on the page first)
    await page.getByRole("button", { name: `Close ${symbol} position` }).click();
    const dialog = page.getByTestId("close-position-dialog");
    await dialog.getByLabel("Shares", { exact: true }).check();
    await dialog.getByLabel("Shares to sell").fill("200");
    await dialog.getByRole("button", { name: `Sell ${symbol}` }).click();
    await expect(dialog.locator(".field-error").textContent()).resolves.toBe("quantity must be at most the 100 shares you hold");
    await dialog.getByLabel("Percentage").check();
    await dialog.getByLabel("Percent of the position").fill("25");
    await expect(dialog.getByTestId("close-summary").textContent()).resolves.toContain(`Sells 25 of 100 ${symbol} at market`);
    await snap(page, "15-close-position-confirm", { fullPage: false });
    expect(requests.filter((r) => r.startsWith("DELETE"))).toEqual([]);
    await dialog.getByRole("button", { name: `Sell 25 ${symbol}` }).click();
    await dialog.waitFor({ state: "detached" });
    await cell(page, symbol, "position-qty").filter({ hasText: /^75$/ }).waitFor({ timeout: 10_000 });
    await expect(cell(page, symbol, "realized-pl").textContent()).resolves.toBe("$50.00"); // (20 - 18) x 25
    await page.getByTestId("toast").filter({ hasText: `Closing order submitted - SELL 25 ${symbol}` }).waitFor();

    // the rest of it
    await page.getByRole("button", { name: `Close ${symbol} position` }).click();
    await expect(dialog.getByLabel("All 75 shares").isChecked()).resolves.toBe(true);
    await dialog.getByRole("button", { name: `Sell 75 ${symbol}` }).click();
    await positionRow(page, symbol).waitFor({ state: "detached", timeout: 10_000 });

    // and every position left
    await page.getByRole("button", { name: "Close all…" }).click();
    const all = page.getByTestId("close-all-dialog");
    await expect(all.locator(".close-list").textContent()).resolves.toContain("AAPL 10 shares");
    await all.getByRole("button", { name: "Close 1 position" }).click();
    await expect(all.getByTestId("close-all-result").textContent()).resolves.toBe("1 closing order sent.");
    await all.getByRole("button", { name: "Done" }).click();
    await page.getByTestId("positions-empty").waitFor({ timeout: 10_000 });
    expect(requests.filter((r) => r.startsWith("DELETE"))).toEqual([
      `DELETE /api/v1/positions/${symbol}`, `DELETE /api/v1/positions/${symbol}`, "DELETE /api/v1/positions",
    ]);
    expect(await positions(suite.server.url, token)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("shows a banner while the account is HALTED or REDUCE_ONLY, and closes the ticket or its Buy side", async () => {
    const { traderId, token } = await openTrader(suite.server.url);
    const id = await submit(suite.server.url, token, GTC_LIMIT("AAPL", 10, 140));
    await awaitStatus(suite.server.url, token, id, "PENDING");
    const { page, errors } = await desk(token);
    await waitForStatus(page, id, "PENDING");
    await expect(page.getByTestId("trading-banner").count()).resolves.toBe(0);

    await setTradingState(suite.server.url, traderId, "HALTED", "Margin call pending review");
    const banner = page.getByTestId("trading-banner");
    await banner.and(page.locator('[data-state="HALTED"]')).waitFor({ timeout: 10_000 });
    await expect(banner.textContent()).resolves.toContain("Trading is halted on this account.");
    await expect(submitButton(page).isDisabled()).resolves.toBe(true);
    await expect(page.getByTestId("ticket-closed").textContent()).resolves.toContain("the ticket is closed");
    await expect(orderRow(page, id).getByRole("button", { name: "Amend BUY 10 AAPL" }).isDisabled()).resolves.toBe(true);
    await expect(page.getByRole("button", { name: "Close all…" }).isDisabled()).resolves.toBe(true);
    await snap(page, "16-halted");
    // cancels still work
    await orderRow(page, id).getByRole("button", { name: "Cancel BUY 10 AAPL" }).click();
    await waitForStatus(page, id, "CANCELLED");

    await setTradingState(suite.server.url, traderId, "REDUCE_ONLY", "Risk review");
    await banner.and(page.locator('[data-state="REDUCE_ONLY"]')).waitFor({ timeout: 10_000 });
    await expect(banner.textContent()).resolves.toContain("This account is reduce-only.");
    const ticket = page.getByRole("region", { name: "Order ticket" });
    await expect(ticket.getByRole("radio", { name: "Buy" }).isDisabled()).resolves.toBe(true);
    await expect(submitButton(page).isDisabled()).resolves.toBe(true);
    await ticket.getByRole("radio", { name: "Sell" }).check();
    await expect(submitButton(page).isEnabled()).resolves.toBe(true);
    await snap(page, "17-reduce-only");

    await setTradingState(suite.server.url, traderId, "ACTIVE", "Review done");
    await banner.waitFor({ state: "detached", timeout: 10_000 });
    await expect(ticket.getByRole("radio", { name: "Buy" }).isEnabled()).resolves.toBe(true);
    expect(errors).toEqual([]);
  });

  it("renders the account's new cash in the same render as the fill, from account.updated, with no refetch", async () => {
    const { token } = await openTrader(suite.server.url, 100_000);
    const { page, errors, requests, sockets } = await desk(token);
    await expect(page.getByTestId("cash").textContent()).resolves.toBe("$100,000.00");
    // the first connection asked for the snapshot: the account as of the acknowledged seq
    expect(new URL(sockets[0]!.url).searchParams.get("snapshot")).toBe("1");
    const [ack, snapshot] = sockets[0]!.frames.map((f) => JSON.parse(f) as { type?: string; seq?: number; account?: { cash: number } });
    expect({ ack: ack?.type, snapshot: snapshot?.type, seq: snapshot?.seq, cash: snapshot?.account?.cash }).toEqual({ ack: "connection_acknowledged", snapshot: "snapshot", seq: ack?.seq, cash: 100_000 });
    await page.evaluate(() => {
      const w = window as unknown as { screens: { rows: Record<string, string>; cash: string; reserved: string; buyingPower: string }[] };
      w.screens = [];
      const record = () => {
        const rows: Record<string, string> = {};
        for (const row of document.querySelectorAll<HTMLElement>("tr[data-order-id]")) rows[row.dataset.orderId!] = row.querySelector('[data-testid="status"]')?.textContent ?? "";
        const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? "";
        w.screens.push({ rows, cash: text("cash"), reserved: text("reserved"), buyingPower: text("buying-power") });
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const accountReadsBefore = requests.filter((r) => r === "GET /api/v1/account").length;

    await fillTicket(page, { symbol: "AAPL", side: "Buy", quantity: "10", type: "Market" });
    await submitButton(page).click();
    const toast = page.getByTestId("toast").filter({ hasText: "Order submitted" });
    await toast.waitFor({ timeout: 10_000 });
    const id = /Order ID: (ord_[0-9A-Z]+)/.exec((await toast.textContent()) ?? "")![1]!;
    await waitForStatus(page, id, "FILLED (10/10)");
    await page.getByTestId("cash").filter({ hasText: "$98,500.00" }).waitFor();

    const screens = await page.evaluate(() => (window as unknown as { screens: { rows: Record<string, string>; cash: string; reserved: string; buyingPower: string }[] }).screens);
    const filledAt = screens.findIndex((s) => s.rows[id]?.startsWith("FILLED"));
    expect(filledAt).toBeGreaterThan(0);
    // the first screen that shows the fill shows the cash it took, and no screen before it does
    expect(screens[filledAt]).toMatchObject({ cash: "$98,500.00", reserved: "$0.00", buyingPower: "$98,500.00" });
    expect(screens.slice(0, filledAt).map((s) => s.cash)).toEqual(screens.slice(0, filledAt).map(() => "$100,000.00"));
    // and the reservation showed with the order's first appearance, not a moment later
    const pendingAt = screens.findIndex((s) => s.rows[id] !== undefined);
    expect(screens[pendingAt]!.rows[id]).toBe("PENDING (0/10)");
    expect(screens[pendingAt]!.reserved).not.toBe("$0.00");
    // no read of the account: the socket brought it
    expect(requests.filter((r) => r === "GET /api/v1/account").length).toBe(accountReadsBefore);
    expect(errors).toEqual([]);
  });

  it("shows the whole desk: positions with P&L, amended and working orders (the README's picture)", async () => {
    const { token } = await openTrader(
      suite.server.url,
      250_000,
      [
        { symbol: "AAPL", quantity: 100, avg_price: 142.35 },
        { symbol: "MSFT", quantity: 20, avg_price: 431.1 },
        { symbol: "TSLA", quantity: 40, avg_price: 238.9 },
      ],
      "dana",
    );
    await awaitStatus(suite.server.url, token, await submit(suite.server.url, token, { symbol: "AAPL", side: "BUY", quantity: 50, order_type: "MARKET" }), "FILLED");
    await awaitStatus(suite.server.url, token, await submit(suite.server.url, token, { symbol: "TSLA", side: "SELL", quantity: 10, order_type: "MARKET" }), "FILLED");
    const limit = await submit(suite.server.url, token, GTC_LIMIT("MSFT", 10, 410));
    await awaitStatus(suite.server.url, token, limit, "PENDING");
    const stop = await submit(suite.server.url, token, { symbol: "TSLA", side: "SELL", quantity: 30, order_type: "STOP", stop_price: 230, time_in_force: "GTC" });
    await awaitStatus(suite.server.url, token, stop, "PENDING");
    const { page, errors } = await desk(token);
    await waitForStatus(page, stop, "PENDING");
    await orderRow(page, limit).getByRole("button", { name: "Amend BUY 10 MSFT" }).click();
    await page.getByTestId("amend-form").getByLabel("Limit price ($)").fill("415.00");
    await page.getByTestId("amend-form").getByRole("button", { name: "Save amend" }).click();
    await orderRow(page, limit).filter({ hasText: "limit $415.00" }).waitFor();
    await expect(cell(page, "TSLA", "realized-pl").textContent()).resolves.toBe("$111.00"); // (250 - 238.90) x 10
    await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>(".toast-close").forEach((b) => b.click()));
    await page.getByTestId("toast").first().waitFor({ state: "detached" });
    await snap(page, "18-desk");
    if (process.env.UPDATE_DOCS_SCREENSHOT === "1") {
      const docs = resolve(import.meta.dirname, "../../docs");
      copyFileSync(join(SCREENSHOTS, "18-desk-1280.png"), join(docs, "screenshot.png"));
      copyFileSync(join(SCREENSHOTS, "18-desk-390.png"), join(docs, "screenshot-390.png"));
    }
    expect(errors).toEqual([]);
  });
});
