// The trader's page: built into dist/client, which the Worker serves as static assets (wrangler.toml).
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/client", import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the page works under a strict Content-Security-Policy.
    assetsInlineLimit: 0,
  },
  server: {
    // `vite --config web/vite.config.ts` for hot reload against a running `npm start`.
    proxy: { "/api": "http://127.0.0.1:8787", "/ws": { target: "ws://127.0.0.1:8787", ws: true } },
  },
});
