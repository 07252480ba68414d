// The admin's "Venue link" panel in a real browser: against the simulated venue (one line, and no more
// reads once the admin signs out), and against EXCHANGE=alpaca with the fake Alpaca (connected; the fake
// drops the stream and refuses the next upgrades: disconnected with the error and the next attempt, then
// connected again with one reconnect more). The Alpaca pair is bench/alpaca-server.ts's (the same pair as
// `npm run dev:alpaca-fake`, on free ports with fresh state).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { startAlpacaPair, type AlpacaPair } from "../../bench/alpaca-server.ts";
import { devToken, order, submit, until } from "./api";
import { collectErrors, snap } from "./browser";
import { startDeskServer, type DeskServer } from "./server";
import { browserTestsRun, useBrowserSuite, type BrowserSuite } from "./suite";

const VENUE_PATH = "/api/v1/admin/venue";

/** A fresh browser signed in as the admin, with the venue link panel read once. */
async function adminPage(suite: BrowserSuite, baseUrl: string): Promise<{ page: Page; errors: string[]; venueReads: () => number }> {
  const context = await suite.context();
  const page = await context.newPage();
  const errors = collectErrors(page);
  let reads = 0;
  page.on("request", (r) => void (new URL(r.url()).pathname === VENUE_PATH && reads++));
  await page.goto(baseUrl);
  await page.getByRole("button", { name: "Sign in as admin (admin)" }).click();
  await page.getByRole("heading", { name: "Venue link" }).waitFor({ timeout: 15_000 });
  return { page, errors, venueReads: () => reads };
}

const panel = (page: Page) => page.getByRole("region", { name: "Venue link" });
const linkState = (page: Page) => panel(page).getAttribute("data-state");
const reconnects = async (page: Page) => Number(await panel(page).getByTestId("venue-reconnects").textContent());

describe.skipIf(!browserTestsRun)("the admin's venue link panel in Chromium", () => {
  const suite = useBrowserSuite({ server: false }); // each venue below starts its own

  describe("against the simulated venue", () => {
    let server: DeskServer;
    beforeAll(async () => {
      server = await startDeskServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("shows one line saying the simulated venue is ok, and stops reading once the admin signs out", async () => {
      const { page, errors, venueReads } = await adminPage(suite, server.url);
      const line = panel(page).getByTestId("venue-sim");
      await line.waitFor({ timeout: 15_000 });
      await expect(line.textContent()).resolves.toBe("✓ Simulated venue — ok");
      await expect(line.getAttribute("role")).resolves.toBe("status");
      await expect(linkState(page)).resolves.toBe("simulated");
      // the prices panel is still there, below
      await page.getByRole("heading", { name: "Simulated venue prices" }).waitFor();
      await snap(page, "40-venue-link-simulated");

      // it polls: a second read within a few seconds
      await expect.poll(venueReads, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("button", { name: "Sign in as admin (admin)" }).waitFor();
      const afterSignOut = venueReads();
      await page.waitForTimeout(4_000);
      expect(venueReads()).toBe(afterSignOut);
      expect(errors).toEqual([]);
    });
  });

  describe("against Alpaca (the fake)", () => {
    let pair: AlpacaPair;
    beforeAll(async () => {
      pair = await startAlpacaPair({});
    });
    afterAll(async () => {
      await pair?.stop();
    });

    const fake = async (path: string, body: unknown = {}) => {
      const res = await fetch(`${pair.fake.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json();
    };

    it("shows the stream connected, then disconnected with the error and the next attempt when it drops, then connected again", async () => {
      const { page, errors } = await adminPage(suite, pair.desk.url);
      try {
        await expect.poll(() => linkState(page), { timeout: 20_000 }).toBe("connected");
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- fillwire:\n${pair.desk.log()}\n--- fake Alpaca:\n${pair.fake.log()}`);
      }
      const badge = panel(page).getByTestId("venue-link-state");
      await expect(badge.textContent()).resolves.toBe("Alpaca stream: ✓ Connected");
      await expect(badge.getAttribute("role")).resolves.toBe("status");
      await expect(panel(page).locator("code").textContent()).resolves.toBe(pair.fake.url);
      // prices come from Alpaca's market data: no simulated prices to set
      await page.getByRole("heading", { name: "Prices", exact: true }).waitFor();
      await expect(page.getByRole("heading", { name: "Simulated venue prices" }).count()).resolves.toBe(0);
      // the reconcile after connecting, and relative times with the exact ISO time on hover
      await expect.poll(() => panel(page).getByTestId("venue-last-reconcile").textContent(), { timeout: 10_000 }).toMatch(/^(just now|\d+ s ago)$/);
      const since = panel(page).getByTestId("venue-connected-since").locator("time");
      await expect(since.getAttribute("title")).resolves.toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      await expect(since.getAttribute("title")).resolves.toBe(await since.getAttribute("datetime"));
      for (const id of ["venue-working", "venue-held", "venue-fills", "venue-owed"]) await expect(panel(page).getByTestId(id).textContent()).resolves.toBe("0");
      const before = await reconnects(page);
      await expect(panel(page).getByTestId("venue-trouble").count()).resolves.toBe(0);
      await snap(page, "41-venue-link-alpaca-connected");

      // the network drops the stream, and the next two upgrades are refused (503): the link backs off
      await fake("/_fake/faults", { refuse_streams: 2 });
      await expect(fake("/_fake/stream/drop")).resolves.toEqual({ dropped: 1 });
      await expect.poll(() => linkState(page), { timeout: 10_000 }).toBe("disconnected");
      await expect(badge.textContent()).resolves.toBe("Alpaca stream: ✕ Disconnected");
      await expect(reconnects(page)).resolves.toBe(before + 1);
      const trouble = panel(page).getByTestId("venue-trouble");
      await expect(trouble.textContent()).resolves.toMatch(/The stream is down; .*Last error: .+Next attempt: (in \d+ s|due now)/);
      await expect(panel(page).getByTestId("venue-connected-since").textContent()).resolves.toBe("not connected");
      await snap(page, "42-venue-link-alpaca-disconnected");

      // backoff 1 s, 2 s, 4 s, then the upgrade is accepted: connected again, with one reconnect counted
      await expect.poll(() => linkState(page), { timeout: 30_000 }).toBe("connected");
      await expect(reconnects(page)).resolves.toBe(before + 1);
      await expect(trouble.count()).resolves.toBe(0);
      expect(errors).toEqual([]);
    }, 90_000);

    it("warns of an execution at Alpaca that no trader's books hold (a fill after a cancel)", async () => {
      const token = await devToken(pair.desk.url, "alice", "trader");
      const id = await submit(pair.desk.url, token, { symbol: "AAPL", side: "BUY", quantity: 1, order_type: "LIMIT", price: 140 });
      type Listed = { order: { id: string; status: string } }[];
      const listed = async () => (await (await fetch(`${pair.fake.url}/_fake/orders?client_order_id_prefix=${id}`)).json()) as Listed;
      await until(listed, (o) => o[0]?.order.status === "new", `order ${id} working at the fake`);
      const cancel = await fetch(`${pair.desk.url}/api/v1/orders/${id}/cancel`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
      expect(cancel.status, await cancel.clone().text()).toBe(200);
      const [atAlpaca] = await until(listed, (o) => o[0]?.order.status === "canceled", `order ${id} canceled at the fake`);
      await fake(`/_fake/orders/${atAlpaca!.order.id}/late-fill`); // outside Alpaca's reference: canceled is final there

      const { page, errors } = await adminPage(suite, pair.desk.url);
      const banner = panel(page).getByTestId("venue-unbooked");
      await banner.waitFor({ timeout: 20_000 });
      await expect(banner.textContent()).resolves.toMatch(/^1 execution at Alpaca of orders that had already ended, not booked to\s+any trader: reconcile the account by hand\. Each is on its order's audit trail \(action UNBOOKED\)\.$/);
      await expect(order(pair.desk.url, token, id)).resolves.toMatchObject({ status: "CANCELLED", filled_quantity: 0 });
      await snap(page, "43-venue-link-unbooked");
      expect(errors).toEqual([]);
    }, 60_000);
  });
});
