// fillwire Worker: composes the API and exports the Durable Object classes.
//
//   GET  /api/v1/health                           anyone
//   GET  /api/v1/openapi.json, /api/docs          anyone
//   POST /api/v1/orders                           trader      submit (Idempotency-Key)
//   GET  /api/v1/orders[?status&symbol&cursor]    trader      own orders, newest first
//   GET  /api/v1/orders/:id                       trader      one order with fills
//   POST /api/v1/orders/:id/cancel                trader
//   GET  /api/v1/orders/:id/audit                 trader, compliance
//   PATCH /api/v1/orders/:id                      trader      amend in place (Idempotency-Key)
//   DELETE /api/v1/orders[?symbol&side]           trader      cancel every working order
//   GET  /api/v1/orders/by-client-id/:coid        trader
//   GET  /api/v1/account                          trader      valued: equity, P&L, trading_state
//   GET  /api/v1/account/activities               trader      fills and cash ledger
//   GET, DELETE /api/v1/positions[/:symbol]       trader      positions with P&L; close all or part
//   GET  /api/v1/instruments                      signed in
//   GET  /api/v1/clock                            signed in   market hours: is_open, next_open, next_close
//   GET  /api/v1/compliance/executions[?format=csv] compliance  execution logs by range, CSV export
//   GET  /api/v1/compliance/audit/verify          compliance  recompute the audit hash chain
//   PUT  /api/v1/admin/accounts/:trader_id        admin
//   PUT  /api/v1/admin/accounts/:trader_id/trading admin     ACTIVE, REDUCE_ONLY, HALTED (audited)
//   PUT  /api/v1/admin/instruments/:symbol[/faults] admin
//   GET  /api/v1/admin/venue                      admin       the venue link's state (Alpaca stream; simulator health)
//   GET  /ws/orders/events?token&since            trader      WebSocket, subprotocol order-updates
//   GET, POST /api/v1/dev/login                   local dev   seeded people and a token (only when DEV_LOGIN=true)
//   /api/v1/admin/drills/*                        admin       fault drills (only when CHAOS_DRILLS=true)
//   anything else                                 the page (static assets, single-page fallback)
//   cron 15 0 * * *                               archive yesterday's audit rows to R2 (AUDIT_ARCHIVE)
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { archiveDay, previousDay } from "./compliance/archive";
import { router } from "./context";
import { ApiError, checkBody, errorBody, MAX_BODY_BYTES, renderError } from "./http";
import { account } from "./routes/account";
import { adminRoutes } from "./routes/admin";
import { clock } from "./routes/clock";
import { complianceRoutes } from "./routes/compliance";
import { devLogin } from "./routes/dev-login";
import { drills } from "./routes/drills";
import { DOCS_CSP, mountDocs } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { instruments } from "./routes/instruments";
import { orders } from "./routes/orders";
import { positions } from "./routes/positions";
import { wsRoutes } from "./routes/ws";

const app = router();

// The docs page's own CSP, set after (outside) secureHeaders so it is the one that stands.
app.use("/api/docs", async (c, next) => {
  await next();
  c.res.headers.set("Content-Security-Policy", DOCS_CSP);
});
// API answers are data, never documents: nothing may load from them or frame them.
app.use(
  "/api/*",
  secureHeaders({
    crossOriginResourcePolicy: "same-origin",
    xFrameOptions: "DENY",
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  }),
);
app.use(
  "/api/*",
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError("PAYLOAD_TOO_LARGE", "The request body is larger than 16 KiB");
    },
  }),
);
app.use("/api/*", checkBody);

const api = app
  .route("/api/v1/health", healthRoutes)
  .route("/api/v1/orders", orders)
  .route("/api/v1/account", account)
  .route("/api/v1/positions", positions)
  .route("/api/v1/instruments", instruments)
  .route("/api/v1/clock", clock)
  .route("/api/v1/compliance", complianceRoutes)
  .route("/api/v1/admin/drills", drills)
  .route("/api/v1/admin", adminRoutes)
  .route("/api/v1/dev/login", devLogin)
  .route("/ws", wsRoutes);

mountDocs(app);

app.notFound((c) => c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}; see /api/docs`), 404));
app.onError(renderError);

export type AppType = typeof api;

export default {
  fetch: app.fetch,
  /** Daily, shortly after midnight UTC: archive the previous day's audit rows to R2. */
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(archiveDay(env.DB, env.AUDIT_ARCHIVE, previousDay(controller.scheduledTime)).then(({ manifest, written }) => {
      console.log(`audit archive ${manifest.day}: ${manifest.rows} rows ${written ? "written" : "already archived"}`);
    }));
  },
} satisfies ExportedHandler<Env>;
export { TraderDesk } from "./trader/desk";
export { VenueBook } from "./venue/book";
export { AlpacaLink } from "./venue/alpaca/link";
