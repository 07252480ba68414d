import { defineConfig } from "drizzle-kit";

// drizzle-kit writes the SQL; wrangler applies it (`wrangler d1 migrations apply fillwire`).
export default defineConfig({
  dialect: "sqlite",
  schema: "./worker/db/schema.ts",
  out: "./migrations",
});
