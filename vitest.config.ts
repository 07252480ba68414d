import { readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd against the real local D1, Durable Objects, alarms and WebSockets.
// Venue timings are shortened (the seed's 5 s timeout and 1 s backoff become 300 ms and 50 ms).
export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          TEST_SEED_SQL: readFileSync("./scripts/seed.sql", "utf8"),
          JWT_SECRET: "fillwire-test-secret-0123456789abcdef",
          EXCHANGE_TIMEOUT_MS: "300",
          RETRY_BASE_MS: "50",
          RETRY_MAX_ATTEMPTS: "3",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // test/alpaca runs in its own project (vitest.alpaca.config.ts: EXCHANGE=alpaca and the fake Alpaca).
    exclude: ["test/e2e/**", "test/web/**", "test/alpaca/**"],
    setupFiles: ["./test/helpers/setup.ts"],
    testTimeout: 20_000,
  },
}));
