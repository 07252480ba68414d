// fillwire Worker: composes the API and exports the Durable Object classes.
//
//   GET  /api/v1/health                           anyone
//   GET  /api/v1/openapi.json, /api/docs          anyone
//   POST /api/v1/orders                           trader      submit (Idempotency-Key)
//   GET  /api/v1/orders[?status&symbol&cursor]    trader      own orders, newest first
//   GET  /api/v1/orders/:id                       trader      one order with fills
//   POST /api/v1/orders/:id/cancel                trader
//   GET  /api/v1/orders/:id/audit                 trader, compliance
//   GET  /api/v1/account                          trader
//   GET  /api/v1/instruments                      signed in
//   PUT  /api/v1/admin/accounts/:trader_id        admin
//   PUT  /api/v1/admin/instruments/:symbol[/faults] admin
//   GET  /ws/orders/events?token&since            trader      WebSocket, subprotocol order-updates
//   GET, POST /api/v1/dev/login                   local dev   seeded people and a token (only when DEV_LOGIN=true)
//   anything else                                 the page (static assets, single-page fallback)
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { router } from "./context";
import { ApiError, checkBody, errorBody, MAX_BODY_BYTES, renderError } from "./http";
import { account } from "./routes/account";
import { adminRoutes } from "./routes/admin";
import { devLogin } from "./routes/dev-login";
import { mountDocs } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { instruments } from "./routes/instruments";
import { orders } from "./routes/orders";
import { wsRoutes } from "./routes/ws";

const app = router();

app.use("/api/*", secureHeaders({ crossOriginResourcePolicy: "same-origin" }));
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
  .route("/api/v1/instruments", instruments)
  .route("/api/v1/admin", adminRoutes)
  .route("/api/v1/dev/login", devLogin)
  .route("/ws", wsRoutes);

mountDocs(app);

app.notFound((c) => c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}; see /api/docs`), 404));
app.onError(renderError);

export type AppType = typeof api;
export default app;
export { TraderDesk } from "./trader/desk";
export { VenueBook } from "./venue/book";
