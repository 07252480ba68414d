#!/usr/bin/env node
// npm start: migrate and seed the local D1, build the page, then serve everything on :8787.
import { execFileSync, spawn } from "node:child_process";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const port = process.env.PORT ?? "8787";
execFileSync("node", ["scripts/seed.mjs"], { stdio: "inherit", env });
execFileSync("node", ["scripts/build-assets.mjs"], { stdio: "inherit", env });
const dev = spawn("wrangler", ["dev", "--port", port, "--ip", "127.0.0.1", ...process.argv.slice(2)], { stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
