// The trader's page in a real browser against a real `wrangler dev`: the seed's scenarios 2, 3, 5 and 7
// by clicking, plus a dropped live connection that resumes with since=<last seq>. One server for the
// file, so its state is shared: alice (15,000 cash) buys once, everything else trades as carol.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { OrderWithFills } from "../../worker/shared/orders";
import { collectErrors, fillTicket, orderRow, screenLog, signIn, snap, submitButton, waitForStatus, watchScreen } from "./browser";
import { browserTestsRun, useBrowserSuite } from "./suite";


const SUBMITTED = /^Order submitted - Order ID: (ord_[0-9A-Z]+), Status: PENDING$/;

describe.skipIf(!browserTestsRun)("the trader's desk in Chromium", () => {
  const suite = useBrowserSuite();

  async function desk(): Promise<{ page: Page; errors: string[] }> {
    const context = await suite.context();
    const page = await context.newPage();
    return { page, errors: collectErrors(page) };
  }

  /** Click submit and read the order id from the seed's toast. */
  async function submitAndReadToast(page: Page, click: "click" | "dblclick" = "click"): Promise<string> {
    const before = await page.getByTestId("toast").filter({ hasText: "Order submitted" }).count();
    await submitButton(page)[click]();
    const toast = page.getByTestId("toast").filter({ hasText: "Order submitted" }).nth(before);
    await toast.waitFor({ timeout: 10_000 });
    const text = (await toast.locator(".toast-text").textContent()) ?? "";
    expect(text).toMatch(SUBMITTED);
    return SUBMITTED.exec(text)![1]!;
  }

  it("signs alice in, buys 100 AAPL and shows PENDING, then FILLED, the toast and the new position (scenario 2)", async () => {
    const { page, errors } = await desk();
    await page.goto(suite.server.url);
    await page.getByRole("button", { name: "Sign in as carol (trader)" }).waitFor();
    for (const who of ["alice", "bob", "carol"]) await expect(page.getByRole("button", { name: `Sign in as ${who} (trader)` }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole("button", { name: "Sign in as compliance (compliance)" }).isVisible()).resolves.toBe(true);
    await snap(page, "01-sign-in");

    await signIn(page, suite.server.url, "alice");
    await page.getByTestId("orders-empty").waitFor();
    await expect(page.getByTestId("cash").textContent()).resolves.toBe("$15,000.00");
    await snap(page, "02-alice-empty-desk");

    await watchScreen(page);
    await fillTicket(page, { symbol: "AAPL", side: "Buy", quantity: "100", type: "Market", tif: "DAY" });
    await expect(page.getByLabel("Limit price ($)").count()).resolves.toBe(0); // no price fields on a market order
    const started = Date.now();
    const id = await submitAndReadToast(page);
    await waitForStatus(page, id, "FILLED (100/100)");
    const filledAfterMs = Date.now() - started;

    const { statusLog, buttonLog } = await screenLog(page);
    expect(statusLog[id]?.[0]).toBe("PENDING (0/100)");
    expect(statusLog[id]?.at(-1)).toBe("FILLED (100/100)");
    expect(buttonLog).toContain("Submitting...");
    expect(filledAfterMs).toBeLessThan(2_000); // the seed's "fills within 2 s"
    await expect(orderRow(page, id).getByTestId("avg-price").textContent()).resolves.toBe("$150.00");
    await expect(orderRow(page, id).getByTestId("fills").textContent()).resolves.toMatch(/^100 @ \$150\.00 \d\d:\d\d:\d\d$/);
    // the account panel follows the fill: all 15,000 spent, 100 AAPL held
    await page.getByTestId("cash").filter({ hasText: "$0.00" }).waitFor();
    await expect(page.getByTestId("positions").locator('tr[data-symbol="AAPL"]').textContent()).resolves.toContain("100");
    await snap(page, "03-alice-filled");
    expect(errors).toEqual([]);
  });

  it("shows bob the server's insufficient-funds message verbatim in a red banner, submitted from the keyboard (scenario 3)", async () => {
    const { page, errors } = await desk();
    await signIn(page, suite.server.url, "bob");
    await fillTicket(page, { symbol: "AAPL", side: "Buy", type: "Market" });
    await page.getByLabel("Quantity").fill("100");
    await page.getByLabel("Quantity").press("Enter");
    const banner = page.getByRole("alert").filter({ hasText: "Insufficient funds" });
    await banner.waitFor({ timeout: 10_000 });
    await expect(banner.textContent()).resolves.toBe("Insufficient funds for $15,000.00 order; available: $5,000.00");
    await expect(banner.evaluate((el) => getComputedStyle(el).backgroundColor)).resolves.toBe("rgb(254, 226, 226)");
    await expect(page.getByTestId("orders-empty").isVisible()).resolves.toBe(true); // nothing was created
    await snap(page, "04-bob-insufficient-funds");
    expect(errors).toEqual([]);
  });

  it("submits a resting LIMIT order for carol (a double click makes one order), cancels it and shows its audit trail (scenario 7)", async () => {
    const { page, errors } = await desk();
    await signIn(page, suite.server.url, "carol");
    await fillTicket(page, { symbol: "AAPL", side: "Buy", quantity: "100", type: "Limit", limit: "140.00", tif: "GTC" });
    const rowsBefore = await page.locator("tr[data-order-id]").count();
    const id = await submitAndReadToast(page, "dblclick");
    await waitForStatus(page, id, "PENDING (0/100)");
    await page.waitForTimeout(750);
    await expect(page.locator("tr[data-order-id]").count()).resolves.toBe(rowsBefore + 1);
    await expect(orderRow(page, id).getByTestId("status").textContent()).resolves.toBe("PENDING (0/100)"); // resting below the market
    await expect(orderRow(page, id).textContent()).resolves.toContain("limit $140.00");
    await snap(page, "05-carol-resting-limit");

    await orderRow(page, id).getByRole("button", { name: "Cancel BUY 100 AAPL" }).click();
    await page.getByTestId("toast").filter({ hasText: /^Order cancelled×?$/ }).waitFor({ timeout: 10_000 });
    await waitForStatus(page, id, "CANCELLED (0/100)");
    await expect(orderRow(page, id).getByRole("button", { name: /^Cancel/ }).count()).resolves.toBe(0);

    await orderRow(page, id).getByRole("button", { name: "Audit trail of BUY 100 AAPL" }).click();
    const drawer = page.getByTestId("audit-drawer");
    const cancelled = drawer.locator('tr[data-action="CANCELLED"]');
    await cancelled.waitFor({ timeout: 10_000 });
    await expect(cancelled.textContent()).resolves.toContain("User requested cancellation");
    await expect(drawer.locator("tr[data-action]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")))).resolves.toEqual([
      "SUBMITTED", "APPROVED", "EXECUTED", "CANCELLED",
    ]);
    await snap(page, "06-carol-audit-drawer", { fullPage: false });
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "detached" });
    expect(errors).toEqual([]);
  });

  it("shows a TEST_PARTIAL order as PARTIAL (50/100), then FILLED with both fills (scenario 5)", async () => {
    const { page, errors } = await desk();
    await signIn(page, suite.server.url, "carol");
    await watchScreen(page);
    await fillTicket(page, { symbol: "TEST_PARTIAL", side: "Buy", quantity: "100", type: "Market" });
    const id = await submitAndReadToast(page);
    await waitForStatus(page, id, "FILLED (100/100)");
    const { statusLog } = await screenLog(page);
    const seen = statusLog[id] ?? [];
    expect(seen).toContain("PARTIAL (50/100)");
    expect(seen.indexOf("PARTIAL (50/100)")).toBeLessThan(seen.indexOf("FILLED (100/100)"));
    expect(seen.at(-1)).toBe("FILLED (100/100)");
    const fills = await orderRow(page, id).getByTestId("fills").locator("li").allTextContents();
    expect(fills.map((f) => f.replace(/ \d\d:\d\d:\d\d$/, ""))).toEqual(["50 @ $150.00", "50 @ $150.05"]);
    await expect(orderRow(page, id).getByTestId("avg-price").textContent()).resolves.toBe("$150.025");
    await snap(page, "07-carol-partial-then-filled");
    expect(errors).toEqual([]);
  });

  it("drops the live connection, and on reconnect replays the events missed meanwhile, each once", async () => {
    const { page, errors } = await desk();
    const sockets: { url: string; frames: string[]; closed: boolean }[] = [];
    page.on("websocket", (ws) => {
      const entry = { url: ws.url(), frames: [] as string[], closed: false };
      sockets.push(entry);
      ws.on("framereceived", (f) => entry.frames.push(String(f.payload)));
      ws.on("close", () => (entry.closed = true));
    });
    await signIn(page, suite.server.url, "carol");
    const seqBefore = (await page.evaluate(() => window.fillwireDebug!.lastSeq())) ?? 0;
    expect(seqBefore).toBeGreaterThan(0);

    await page.evaluate(() => window.fillwireDebug!.pauseFeed());
    await page.locator('[data-testid="connection"][data-phase="reconnecting"]').waitFor();
    await expect.poll(() => sockets.every((s) => s.closed)).toBe(true);
    await snap(page, "08-carol-connection-lost");

    // Meanwhile, orders placed elsewhere (another screen, the API) fill while this page hears nothing.
    const token = await devToken(suite.server.url, "carol");
    const missed = [await placeAndAwaitFill(suite.server.url, token, "MSFT", 10), await placeAndAwaitFill(suite.server.url, token, "TEST_PARTIAL", 100)];
    for (const id of missed) await expect(orderRow(page, id).count()).resolves.toBe(0);

    const reconnectStarted = Date.now();
    await page.evaluate(() => window.fillwireDebug!.resumeFeed());
    await page.locator('[data-testid="connection"][data-phase="live"]').waitFor({ timeout: 15_000 });
    for (const id of missed) await waitForStatus(page, id, "FILLED");
    const caughtUpMs = Date.now() - reconnectStarted;

    const resumed = sockets.at(-1)!;
    expect(new URL(resumed.url).searchParams.get("since")).toBe(String(seqBefore));
    const replayed = resumed.frames.map((f) => JSON.parse(f) as { event?: string; seq: number; order_id?: string; type?: string; replayed?: number });
    const events = replayed.filter((m) => m.event);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => seqBefore + 1 + i)); // contiguous, no repeats
    expect(new Set(events.filter((e) => e.event!.startsWith("order.")).map((e) => e.order_id))).toEqual(new Set(missed));
    expect(events.filter((e) => e.event === "account.updated").length).toBeGreaterThan(0); // the account moved with them
    expect(replayed.find((m) => m.type === "replay_complete")?.replayed).toBe(events.length);

    // on screen: one row per order, each fill once, nothing applied twice
    for (const id of missed) await expect(orderRow(page, id).count()).resolves.toBe(1);
    await expect(orderRow(page, missed[0]!).getByTestId("fills").locator("li").count()).resolves.toBe(1);
    await expect(orderRow(page, missed[1]!).getByTestId("fills").locator("li").count()).resolves.toBe(2);
    await expect(orderRow(page, missed[1]!).getByTestId("status").textContent()).resolves.toBe("FILLED (100/100)");
    await expect(page.evaluate(() => window.fillwireDebug!.lastSeq())).resolves.toBe(seqBefore + events.length);
    await expect(page.evaluate(() => window.fillwireDebug!.duplicatesIgnored())).resolves.toBe(0);
    expect(caughtUpMs).toBeLessThan(5_000);
    // the account panel caught up too, from the replayed account.updated
    const account = (await (await fetch(`${suite.server.url}/api/v1/account`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { cash: number };
    await expect(page.getByTestId("cash").textContent()).resolves.toBe(new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(account.cash));
    await snap(page, "09-carol-caught-up");
    expect(errors).toEqual([]);
  });
});

async function devToken(baseUrl: string, sub: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/dev/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sub, role: "trader" }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Submit a market order over HTTP and wait until the server reports it FILLED. */
async function placeAndAwaitFill(baseUrl: string, token: string, symbol: string, quantity: number): Promise<string> {
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() };
  const res = await fetch(`${baseUrl}/api/v1/orders`, { method: "POST", headers, body: JSON.stringify({ symbol, quantity, order_type: "MARKET" }) });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = (await res.json()) as { id: string };
  await expect
    .poll(async () => ((await (await fetch(`${baseUrl}/api/v1/orders/${id}`, { headers })).json()) as OrderWithFills).status, { timeout: 10_000, interval: 100 })
    .toBe("FILLED");
  return id;
}
