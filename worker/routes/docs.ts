// /api/v1/openapi.json (generated from the zod schemas that validate) and /api/docs (Swagger UI, served
// from our own assets: no CDN, no inline script).
import { SOCKET_ORDERS_DOC } from "../shared/socket-orders";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>fillwire API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

/** Swagger UI runs from our own files: no inline script or style, nothing from elsewhere, never framed. */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  app.doc31("/api/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "fillwire",
      version: "1.0.0",
      description:
        "Real-time order execution. Errors are {error, message, details}. Live events: GET /ws/orders/events?token=<JWT>&since=<seq>[&snapshot=1], subprotocol order-updates: order.* events and account.updated under one per-trader seq.\n" +
        SOCKET_ORDERS_DOC,
    },
    servers: [{ url: "/" }],
  });
  app.get("/api/docs", (c) => c.html(DOCS_PAGE));
}
