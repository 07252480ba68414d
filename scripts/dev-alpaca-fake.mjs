#!/usr/bin/env node
// npm run dev:alpaca-fake: fillwire with EXCHANGE=alpaca against the fake Alpaca of test/fake-alpaca, both
// on this machine: the fake on :8789 (Trading API, Market Data and the trade_updates stream), fillwire
// on :8787, migrated and seeded as by `npm start`. The keys are the fake's own (never real ones).
import { execFileSync, spawn } from "node:child_process";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const port = process.env.PORT ?? "8787";
const fakePort = process.env.FAKE_ALPACA_PORT ?? "8789";
const fake = `127.0.0.1:${fakePort}`;

execFileSync("node", ["scripts/seed.mjs"], { stdio: "inherit", env });
execFileSync("node", ["scripts/build-assets.mjs"], { stdio: "inherit", env });

const children = [
  spawn("wrangler", [
    "dev", "-c", "test/fake-alpaca/wrangler.toml", "--port", fakePort, "--ip", "127.0.0.1",
    "--persist-to", ".wrangler/fake-alpaca-state", "--inspector-port", "9330", "--show-interactive-dev-session=false",
  ], { stdio: "inherit", env }),
  spawn("wrangler", [
    "dev", "--port", port, "--ip", "127.0.0.1",
    "--var", "EXCHANGE:alpaca",
    "--var", `ALPACA_API_URL:http://${fake}`,
    "--var", `ALPACA_STREAM_URL:ws://${fake}/stream`,
    "--var", `ALPACA_DATA_URL:http://${fake}`,
    "--var", "ALPACA_KEY_ID:fake-key-id",
    "--var", "ALPACA_SECRET_KEY:fake-secret-key",
    ...process.argv.slice(2),
  ], { stdio: "inherit", env }),
];

console.log(`
fillwire (EXCHANGE=alpaca) on http://127.0.0.1:${port}, the fake Alpaca on http://${fake}.
  Move a price (resting orders that it crosses fill, on the stream):
    curl -X POST http://${fake}/_fake/instruments/AAPL -H 'Content-Type: application/json' -d '{"price":149.5}'
  Inject a fault (see test/fake-alpaca/faults.ts), drop the stream, look at what Alpaca holds:
    curl -X POST http://${fake}/_fake/faults -H 'Content-Type: application/json' -d '{"fail_next":[{"method":"POST","status":429}]}'
    curl -X POST http://${fake}/_fake/stream/drop
    curl http://${fake}/_fake/orders
  The stream link's state: curl http://127.0.0.1:${port}/api/v1/admin/venue -H "Authorization: Bearer $(npm run -s token -- root --role admin)"
`);

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => children.forEach((c) => c.kill(signal)));
for (const child of children) child.on("exit", (code) => {
  children.forEach((c) => c.kill("SIGTERM"));
  process.exit(code ?? 0);
});
