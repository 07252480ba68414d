#!/usr/bin/env node
// Builds dist/client, the Worker's static assets: the page (Vite, when web/ has one) and the API docs
// viewer (Swagger UI copied from node_modules, so /api/docs needs no CDN).
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const out = "dist/client";
if (existsSync("web/index.html") && existsSync("web/vite.config.ts")) {
  execFileSync("vite", ["build", "--config", "web/vite.config.ts", "--logLevel", "warn"], { stdio: "inherit" });
} else {
  mkdirSync(out, { recursive: true });
  cpSync("web/placeholder.html", join(out, "index.html"));
}
const swagger = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
mkdirSync(join(out, "docs"), { recursive: true });
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js"]) cpSync(join(swagger, file), join(out, "docs", file));
writeFileSync(
  join(out, "docs", "init.js"),
  'window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true });\n',
);
