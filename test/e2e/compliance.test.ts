// The compliance officer's page in a real browser against a real `wrangler dev`: filter the execution
// report by a trader, download it as CSV (the file the browser saves, checked row by row against the
// API), verify the audit chain, page through a long report, and look up one order's trail. One server
// for the file; each test trades as a trader of its own.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { awaitReportRows, buyAndFill, devToken, openTrader, tradeTwoOrders, utcDay } from "./api";
import { collectErrors, snap } from "./browser";
import { wrangler } from "./server";
import { browserTestsRun, useBrowserSuite } from "./suite";


const DAY_MS = 86_400_000;
const SEED_COLUMNS = "trader_id,order_id,action,timestamp,reason";

describe.skipIf(!browserTestsRun)("the compliance page in Chromium", () => {
  const suite = useBrowserSuite();
  let officer: string;

  beforeAll(async () => {
    officer = await devToken(suite.server.url, "compliance", "compliance");
  });

  /** A fresh browser signed in as the compliance officer, on the report with its default range loaded. */
  async function compliancePage(): Promise<{ page: Page; errors: string[]; urls: string[] }> {
    const context = await suite.context({ acceptDownloads: true });
    const page = await context.newPage();
    const errors = collectErrors(page);
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await page.goto(suite.server.url);
    await page.getByRole("button", { name: "Sign in as compliance (compliance)" }).click();
    await page.getByRole("heading", { name: "Execution report" }).waitFor({ timeout: 15_000 });
    await page.getByTestId("report-loading").waitFor({ state: "detached", timeout: 15_000 });
    return { page, errors, urls };
  }

  async function filterByTrader(page: Page, traderId: string): Promise<void> {
    await page.getByLabel("Trader").fill(traderId);
    await page.getByLabel("Trader").press("Enter"); // the keyboard submits the filter
    await page.getByTestId("report-loading").waitFor({ state: "detached", timeout: 15_000 });
  }

  const shownRows = (page: Page) =>
    page.locator("tr[data-log-id]").evaluateAll((rows) => rows.map((r) => ({ id: r.getAttribute("data-log-id"), trader: r.getAttribute("data-trader"), action: r.getAttribute("data-action") })));

  it("filters by a trader, shows their rows newest first, downloads them as CSV and verifies their chain", async () => {
    const { traderId, token } = await openTrader(suite.server.url);
    const orders = await tradeTwoOrders(suite.server.url, token);
    const now = Date.now();
    const [from, to] = [utcDay(now - 6 * DAY_MS), utcDay(now)];
    const api = await awaitReportRows(suite.server.url, officer, { from, to, trader_id: traderId }, orders.auditRows);
    expect(api).toHaveLength(8);

    const { page, errors, urls } = await compliancePage();
    // the default range: the last 7 UTC days, today included
    await expect(page.getByLabel("From (UTC)").inputValue()).resolves.toBe(from);
    await expect(page.getByLabel("To (UTC)").inputValue()).resolves.toBe(to);
    await filterByTrader(page, traderId);

    await expect.poll(() => shownRows(page)).toEqual(api.map((r) => ({ id: r.id, trader: traderId, action: r.action })));
    await expect(page.locator("tr[data-log-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")))).resolves.toEqual([
      "CANCELLED", "EXECUTED", "APPROVED", "SUBMITTED", "FILLED", "EXECUTED", "APPROVED", "SUBMITTED",
    ]);
    const cancelled = page.locator(`tr[data-log-id="${api[0]!.id}"]`);
    await expect(cancelled.locator("td").allTextContents()).resolves.toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/), traderId, orders.cancelled, "AAPL", "BUY", "CANCELLED", "CANCELLED", "User requested cancellation", "—", "—",
    ]);
    await expect(page.getByTestId("report-summary").textContent()).resolves.toContain(`8 rows (all) · ${from} to ${to} (UTC), trader ${traderId}`);
    await expect(page.getByRole("button", { name: "Load more" }).count()).resolves.toBe(0);
    await snap(page, "10-compliance-report");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    expect(download.suggestedFilename()).toBe(`execution_report_${from}_${to}.csv`);
    const csv = readFileSync((await download.path())!, "utf8");
    const lines = csv.split("\r\n");
    expect(lines.at(-1)).toBe(""); // every record ends with CRLF
    const [header, ...records] = lines.slice(0, -1);
    expect(header!.startsWith(SEED_COLUMNS)).toBe(true);
    expect(records).toHaveLength(8);
    expect(records.map((line) => line.split(",").slice(0, 5).join(","))).toEqual(
      api.map((r) => [r.trader_id, r.order_id, r.action, r.timestamp, r.reason ?? ""].join(",")),
    );
    await page.getByTestId("download-note").filter({ hasText: `Saved execution_report_${from}_${to}.csv` }).waitFor();

    await page.getByRole("button", { name: "Verify audit chain" }).click();
    const verdict = page.getByTestId("verify-result");
    await verdict.waitFor({ timeout: 15_000 });
    await expect(verdict.getAttribute("data-ok")).resolves.toBe("true");
    await expect(verdict.locator(".verdict-title").textContent()).resolves.toBe(`✓ Audit chain intact (ok): ${traderId}'s audit chain, whole history`);
    await expect(page.getByTestId("verify-ok").textContent()).resolves.toBe("true");
    await expect(page.getByTestId("verify-checked").textContent()).resolves.toBe("8 rows of 1 trader");
    await expect(page.getByTestId("verify-first-bad").textContent()).resolves.toBe("none");
    await snap(page, "11-compliance-verified");

    // the token travelled in the Authorization header only: never in a URL
    const signedIn = await page.evaluate(() => sessionStorage.getItem("fillwire.token"));
    expect(signedIn).toBeTruthy();
    expect(urls.filter((u) => u.includes(signedIn!) || /[?&](token|access_token)=/.test(u))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("pages through a long report with Load more, and says when nothing matches", async () => {
    const { traderId, token } = await openTrader(suite.server.url);
    for (let i = 0; i < 13; i++) await buyAndFill(suite.server.url, token); // 13 fills x 4 rows = 52: two pages of 50
    const now = Date.now();
    const api = await awaitReportRows(suite.server.url, officer, { from: utcDay(now - 6 * DAY_MS), to: utcDay(now), trader_id: traderId }, 52);
    expect(api).toHaveLength(52);

    const { page, errors } = await compliancePage();
    await filterByTrader(page, traderId);
    await expect.poll(() => page.locator("tr[data-log-id]").count()).toBe(50);
    await expect(page.getByTestId("report-summary").textContent()).resolves.toMatch(/^50 rows shown, more older rows/);
    const more = page.getByRole("button", { name: "Load more" });
    await more.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("tr[data-log-id]").count()).toBe(52);
    await more.waitFor({ state: "detached" });
    await expect(shownRows(page)).resolves.toEqual(api.map((r) => ({ id: r.id, trader: traderId, action: r.action })));
    await expect(page.getByTestId("report-summary").textContent()).resolves.toMatch(/^52 rows \(all\)/);

    // the end date before the start date is refused on the page, with the field named
    await page.getByLabel("To (UTC)").fill("2020-01-01");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText("The end date must not be before the start date").waitFor();
    await expect(page.getByLabel("To (UTC)").getAttribute("aria-invalid")).resolves.toBe("true");
    await page.getByRole("button", { name: "Last 7 days" }).click();
    await expect.poll(() => page.locator("tr[data-log-id]").count()).toBe(50);

    await page.getByLabel("Action").selectOption("EXPIRED");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByTestId("report-empty").waitFor({ timeout: 15_000 });
    await expect(page.getByTestId("report-empty").textContent()).resolves.toContain(`trader ${traderId}, action EXPIRED`);
    await snap(page, "12-compliance-empty");
    expect(errors).toEqual([]);
  });

  it("shows a broken chain plainly: not ok, and the first bad row, after a row is rewritten behind the triggers' back", async () => {
    const { traderId, token } = await openTrader(suite.server.url);
    await buyAndFill(suite.server.url, token);
    const now = Date.now();
    const [submitted] = (await awaitReportRows(suite.server.url, officer, { from: utcDay(now), to: utcDay(now), trader_id: traderId }, 4)).slice(-1);
    // the tamper drill of docs/compliance.md, on this trader's first row
    const rewrite = (reason: string) =>
      wrangler(["d1", "execute", "fillwire", "--local", "--persist-to", suite.server.persistTo, "--command", [
        "DROP TRIGGER execution_logs_no_update;",
        `UPDATE execution_logs SET reason = ${reason} WHERE id = '${submitted!.id}';`,
        "CREATE TRIGGER execution_logs_no_update BEFORE UPDATE ON execution_logs BEGIN SELECT RAISE(ABORT, 'execution_logs is append-only: UPDATE is refused'); END;",
      ].join(" ")]);
    await rewrite("'nothing to see'");
    try {
      const { page, errors } = await compliancePage();
      await filterByTrader(page, traderId);
      await page.getByRole("button", { name: "Verify audit chain" }).click();
      const verdict = page.getByRole("alert").and(page.getByTestId("verify-result"));
      await verdict.waitFor({ timeout: 15_000 });
      await expect(verdict.getAttribute("data-ok")).resolves.toBe("false");
      await expect(verdict.locator(".verdict-title").textContent()).resolves.toBe(`✗ Audit chain broken (not ok): ${traderId}'s audit chain, whole history`);
      await expect(page.getByTestId("verify-first-bad").textContent()).resolves.toBe(
        `trader ${traderId}, row 1 (${submitted!.id}): the row's contents do not match its hash (altered)`,
      );
      await expect(page.locator(`tr[data-log-id="${submitted!.id}"] td.log-reason`).textContent()).resolves.toBe("nothing to see");
      await snap(page, "13-compliance-chain-broken");
      expect(errors).toEqual([]);
    } finally {
      await rewrite("NULL"); // the rest of the file's desk keeps an intact audit trail
    }
    const res = await fetch(`${suite.server.url}/api/v1/compliance/audit/verify?trader_id=${traderId}`, { headers: { Authorization: `Bearer ${officer}` } });
    await expect(res.json()).resolves.toEqual({ ok: true, checked: 4, traders: 1, first_bad: null });
  });

  it("keeps the order-id audit lookup on the page", async () => {
    const { token } = await openTrader(suite.server.url);
    const id = await buyAndFill(suite.server.url, token);
    // Compliance reads D1, which trails the desk by its outbox flush (about a second): wait for the rows.
    await awaitReportRows(suite.server.url, officer, { order_id: id }, 4);
    const { page, errors } = await compliancePage();
    await page.getByLabel("Order ID").fill(id);
    await page.getByRole("button", { name: "Show trail" }).click();
    const trail = page.getByTestId("audit-trail");
    await trail.waitFor({ timeout: 10_000 });
    await expect(trail.locator("tr[data-action]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")))).resolves.toEqual([
      "SUBMITTED", "APPROVED", "EXECUTED", "FILLED",
    ]);
    expect(errors).toEqual([]);
  });
});
