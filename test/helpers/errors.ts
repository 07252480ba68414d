// The SPEC's error shape, asserted: a 4xx JSON body {error, message, details}.
import { expect } from "vitest";

export interface ErrorBody {
  error: string;
  message: string;
  details: Record<string, unknown>;
}

/** Asserts the response is a 4xx in the SPEC's error shape (JSON) and returns the body. */
export async function errorOf(res: Response, context: string): Promise<ErrorBody> {
  const text = await res.text();
  const where = `${context} -> ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBeGreaterThanOrEqual(400);
  expect(res.status, where).toBeLessThan(500);
  expect(res.headers.get("Content-Type") ?? "", where).toMatch(/^application\/json/);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${where}`);
  }
  const shaped = body as Partial<ErrorBody>;
  expect(typeof shaped.error === "string" && shaped.error.length > 0, where).toBe(true);
  expect(typeof shaped.message === "string" && shaped.message.length > 0, where).toBe(true);
  expect(typeof shaped.details === "object" && shaped.details !== null && !Array.isArray(shaped.details), where).toBe(true);
  return body as ErrorBody;
}
