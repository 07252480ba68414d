#!/usr/bin/env node
// npm run seed [-- --remote]: applies migrations, then the seed accounts and instruments (idempotent).
import { execFileSync } from "node:child_process";

const where = process.argv.includes("--remote") ? "--remote" : "--local";
const run = (...args) => execFileSync("wrangler", args, { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
run("d1", "migrations", "apply", "fillwire", where);
run("d1", "execute", "fillwire", where, "--file", "scripts/seed.sql");
