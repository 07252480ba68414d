import { defineConfig } from "vitest/config";

// The page's tests, in plain Node (not workerd): the pure state logic of web/src (test/web) and the
// browser tests (test/e2e), which start their own `wrangler dev` and drive Debian's Chromium.
export default defineConfig({
  test: {
    environment: "node",
    include: ["test/web/**/*.test.ts", "test/e2e/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
  },
});
