// The harness every browser suite shares: whether the browser tests run at all (Chromium is here, or CI=true,
// which requires it), and, registered inside a describe, the suite's desk under `wrangler dev` and its
// Chromium, every browser context it opened closed after it.
import { existsSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import type { Browser, BrowserContext, BrowserContextOptions } from "playwright-core";
import { CHROMIUM, ensurePageBuilt, INSTALL_HINT, launch } from "./browser";
import { startDeskServer, type DeskServer } from "./server";

const hasChromium = existsSync(CHROMIUM);
const required = process.env.CI === "true";

/** True when the browser suites run: Chromium is installed, or CI=true (which then fails without it). */
export const browserTestsRun = hasChromium || required;
if (!browserTestsRun) {
  console.warn(`\n[fillwire] Browser tests SKIPPED: no Chromium at ${CHROMIUM}; ${INSTALL_HINT}. (With CI=true this is a failure.)\n`);
}

export interface BrowserSuite {
  /** The suite's desk (throws before beforeAll, or for a suite started with `server: false`). */
  readonly server: DeskServer;
  readonly browser: Browser;
  /** A fresh browser context (1280x800 unless `options` says otherwise), closed after the suite. */
  context(options?: BrowserContextOptions): Promise<BrowserContext>;
}

/**
 * Registers the suite's beforeAll/afterAll (call it inside a describe): Chromium, and a desk of its own
 * under `wrangler dev` unless `server: false` (a suite that starts its own servers).
 */
export function useBrowserSuite({ server: withServer = true }: { server?: boolean } = {}): BrowserSuite {
  let server: DeskServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI=true and the browser tests need Chromium at ${CHROMIUM}: ${INSTALL_HINT}`);
    ensurePageBuilt();
    [server, browser] = await Promise.all([withServer ? startDeskServer() : Promise.resolve(undefined), launch()]);
  });

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await server?.stop();
  });

  return {
    get server() {
      if (!server) throw new Error("no desk server: the suite has not started, or was started with server: false");
      return server;
    },
    get browser() {
      if (!browser) throw new Error("no browser: the suite has not started");
      return browser;
    },
    async context(options = {}) {
      const context = await this.browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
      contexts.push(context);
      return context;
    },
  };
}
