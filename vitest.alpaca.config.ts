import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// fillwire with EXCHANGE=alpaca, in workerd, against the fake Alpaca of test/fake-alpaca: it runs as an
// auxiliary worker (built here with wrangler: auxiliary workers must be JavaScript), and every outbound
// request of fillwire (paper-api, data, the stream, at their real default URLs) is routed to it by
// `outboundService`, so nothing leaves the machine and the adapter's code is the code that runs in production.
// The seed's scenarios 2, 3 and 6 run here as they are; test/alpaca/ holds the rest, and the faults.
const FAKE_OUT = resolve(".wrangler/fake-alpaca"); // absolute: wrangler reads a relative outdir from the config's folder

export default defineConfig(async () => {
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", FAKE_OUT, "-c", "test/fake-alpaca/wrangler.toml"], {
    stdio: "ignore",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            TEST_SEED_SQL: readFileSync("./scripts/seed.sql", "utf8"),
            JWT_SECRET: "fillwire-test-secret-0123456789abcdef",
            EXCHANGE: "alpaca",
            EXCHANGE_TIMEOUT_MS: "300",
            // Five retries, 100 ms ... 1.6 s apart (3.1 s in all), outlast a 429's X-RateLimit-Reset (whole seconds).
            RETRY_BASE_MS: "100",
            RETRY_MAX_ATTEMPTS: "5",
            ALPACA_KEY_ID: "fake-key-id",
            ALPACA_SECRET_KEY: "fake-secret-key",
            ALPACA_QUOTE_TTL_MS: "0",
            ALPACA_RECONNECT_BASE_MS: "50",
          },
          outboundService: "fake-alpaca",
          workers: [
            {
              name: "fake-alpaca",
              modules: true,
              scriptPath: `${FAKE_OUT}/index.js`,
              compatibilityDate: "2026-11-01",
              durableObjects: { FAKE_ALPACA: { className: "FakeAlpaca", useSQLite: true } },
              bindings: { FAKE_KEY_ID: "fake-key-id", FAKE_SECRET_KEY: "fake-secret-key" },
            },
          ],
        },
      }),
    ],
    test: {
      include: ["test/scenario-2-*.test.ts", "test/scenario-3-*.test.ts", "test/scenario-6-*.test.ts", "test/alpaca/**/*.test.ts"],
      setupFiles: ["./test/helpers/setup.ts"],
      testTimeout: 20_000,
      // One fake Alpaca account serves every file (as one paper account would): account-wide faults stay
      // deterministic when the files run one after another.
      fileParallelism: false,
    },
  };
});
