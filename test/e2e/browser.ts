// Debian's Chromium driven by playwright-core (which cannot download a browser here), and the few
// page actions the desk tests repeat: sign in, fill the ticket, watch statuses, take screenshots.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/** The page's test hooks (web/src/store.ts exposes them on window while tests run). */
declare global {
  interface Window {
    fillwireDebug?: {
      pauseFeed(): void;
      resumeFeed(): void;
      lastSeq(): number | null;
      duplicatesIgnored(): number;
      dropSocketAfterNextCommand(): void;
      orderRoutes(): { socket: number; http: number; fallbacks: number };
    };
  }
}

/** Debian's Chromium; CHROMIUM_PATH points elsewhere (another distribution, a local build). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const INSTALL_HINT = "install it with `sudo apt-get install -y chromium` (Debian/Ubuntu), then run `npm test` again";
const ROOT = resolve(import.meta.dirname, "../..");
export const SCREENSHOTS = join(ROOT, "test/e2e/screenshots");

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Build dist/client when the page's sources are newer than the last build (npm test builds first). */
export function ensurePageBuilt(): void {
  const built = join(ROOT, "dist/client/index.html");
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, "web"))) return;
  // vitest sets NODE_ENV=test, which would make Vite build React's development bundle: test what ships.
  execFileSync("node", ["scripts/build-assets.mjs"], { cwd: ROOT, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
}

/** Screenshots of the current state at 1280 px and at 390 px wide (a phone); a modal is shot as the screen shows it. */
export async function snap(page: Page, name: string, { fullPage = true } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-1280.png`), fullPage });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Console errors and page errors, except the browser's note about the API's deliberate 4xx answers. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) errors.push(msg.text());
  });
  return errors;
}

export async function signIn(page: Page, baseUrl: string, who: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole("button", { name: `Sign in as ${who} (trader)` }).click();
  await page.locator('[data-testid="connection"][data-phase="live"]').waitFor({ timeout: 15_000 });
  await page.locator('[data-testid="orders-loading"]').waitFor({ state: "detached", timeout: 15_000 });
}

/** Sign in a trader who is not on the dev sign-in list (a test's own) by pasting its token. */
export async function signInWithToken(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByLabel("Or paste a token").fill(token);
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await page.locator('[data-testid="connection"][data-phase="live"]').waitFor({ timeout: 15_000 });
  await page.locator('[data-testid="orders-loading"]').waitFor({ state: "detached", timeout: 15_000 });
}

export interface TicketInput {
  symbol?: string;
  side?: "Buy" | "Sell";
  quantity?: string;
  type?: "Market" | "Limit" | "Stop" | "Stop limit";
  limit?: string;
  stop?: string;
  tif?: "DAY" | "GTC" | "IOC" | "FOK";
}

export async function fillTicket(page: Page, input: TicketInput): Promise<void> {
  const ticket = page.getByRole("region", { name: "Order ticket" });
  if (input.symbol) await ticket.getByLabel("Symbol").selectOption(input.symbol);
  if (input.side) await ticket.getByRole("radio", { name: input.side }).check();
  if (input.quantity) await ticket.getByLabel("Quantity").fill(input.quantity);
  if (input.type) await ticket.getByLabel("Order type").selectOption({ label: input.type });
  if (input.limit) await ticket.getByLabel("Limit price ($)").fill(input.limit);
  if (input.stop) await ticket.getByLabel("Stop price ($)").fill(input.stop);
  if (input.tif) await ticket.getByLabel("Time in force").selectOption(input.tif);
}

export const submitButton = (page: Page) => page.getByRole("region", { name: "Order ticket" }).locator('button[type="submit"]');
export const orderRow = (page: Page, id: string) => page.locator(`tr[data-order-id="${id}"]`);

/** Wait until the order's status badge reads `label`, e.g. "FILLED (100/100)". */
export async function waitForStatus(page: Page, id: string, label: string, timeout = 10_000): Promise<void> {
  await orderRow(page, id).locator('[data-testid="status"]', { hasText: label }).waitFor({ timeout });
}

/**
 * Record every status label each order row shows and every text of the submit button, as the DOM
 * changes: proof of what a trader saw (PENDING before FILLED, "Submitting...") however briefly.
 */
export async function watchScreen(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { statusLog: Record<string, string[]>; buttonLog: string[] };
    w.statusLog = {};
    w.buttonLog = [];
    const record = () => {
      for (const row of document.querySelectorAll<HTMLElement>("tr[data-order-id]")) {
        const text = row.querySelector('[data-testid="status"]')?.textContent ?? "";
        const log = (w.statusLog[row.dataset.orderId!] ??= []);
        if (log[log.length - 1] !== text) log.push(text);
      }
      const button = document.querySelector('form button[type="submit"]')?.textContent ?? "";
      if (w.buttonLog[w.buttonLog.length - 1] !== button) w.buttonLog.push(button);
    };
    record();
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

export async function screenLog(page: Page): Promise<{ statusLog: Record<string, string[]>; buttonLog: string[] }> {
  return page.evaluate(() => {
    const w = window as unknown as { statusLog: Record<string, string[]>; buttonLog: string[] };
    return { statusLog: w.statusLog, buttonLog: w.buttonLog };
  });
}
