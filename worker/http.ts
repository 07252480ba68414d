// One error shape for every failure: {"error": CODE, "message": text, "details": {...}}.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ERROR_STATUS, validationError, type ErrorBody, type ErrorCode, type ErrorDetails, type Result } from "./shared/errors";
import { parseStrictJson } from "./shared/json";

export class ApiError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly details?: ErrorDetails, readonly headers?: Record<string, string>) {
    super(message);
  }
  get status() {
    return ERROR_STATUS[this.code];
  }
}

/** The value of a desk call, or the ApiError its failure stands for. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  const headers =
    result.code === "RATE_LIMITED" && typeof result.details?.retry_after_seconds === "number"
      ? { "Retry-After": String(result.details.retry_after_seconds) }
      : undefined;
  throw new ApiError(result.code, result.message, result.details, headers);
}

/** zod's issues as the VALIDATION_ERROR body every door answers (see shared/errors.ts). */
export const validationFailure = validationError;

export function errorBody(code: ErrorCode, message: string, details: ErrorDetails = {}): ErrorBody {
  return { error: code, message, details };
}

export function renderError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    return c.json(errorBody(err.code, err.message, err.details), err.status, err.headers);
  }
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) {
      return c.json(errorBody("MALFORMED_JSON", "The request body is not valid JSON; send a JSON object with Content-Type: application/json"), 400);
    }
    if (err.status === 413) return c.json(errorBody("PAYLOAD_TOO_LARGE", "The request body is larger than 16 KiB"), 413);
    if (err.status === 401) return c.json(errorBody("UNAUTHORIZED", err.message || "Sign in: send Authorization: Bearer <token>"), 401);
    return c.json(errorBody(err.status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR", err.message || "Bad request"), err.status);
  }
  console.error("unhandled error", c.req.method, c.req.path, err.stack ?? String(err));
  return c.json(errorBody("INTERNAL_ERROR", "Something went wrong on our side; the request was not completed. Try again."), 500);
}

/** Bodies are JSON objects of at most 16 KiB; anything else is refused before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
/** curl -d without -H sends this type (the seed's scenario 7 does): a JSON object under it is accepted. */
const CURL_DEFAULT_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * Every body on /api/* is checked here, before any route reads it: its size, its type, and that it is JSON
 * naming each key once (SPEC, "JSON names each key once"), so a repeated key is refused on every route and
 * nothing is written. Hono caches the text read here; the route's validator parses these same bytes.
 */
export async function checkBody(c: Context, next: () => Promise<void>): Promise<void> {
  const method = c.req.method;
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    const length = c.req.header("Content-Length");
    if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
      throw new ApiError("PAYLOAD_TOO_LARGE", `The request body is larger than 16 KiB (${length} bytes)`);
    }
    const type = c.req.header("Content-Type") ?? "";
    const hasBody = length !== undefined ? length !== "0" : c.req.raw.body !== null;
    if (hasBody) {
      const typedJson = JSON_TYPE.test(type);
      if (!typedJson && !(CURL_DEFAULT_TYPE.test(type) || type === "")) throw unsupportedType(type);
      const text = await c.req.text();
      if (!typedJson) {
        if (!text.trimStart().startsWith("{")) throw unsupportedType(type);
        const headers = new Headers(c.req.raw.headers);
        headers.set("Content-Type", "application/json");
        c.req.raw = new Request(c.req.raw.url, { method, headers, body: text });
      }
      // An empty stream is a missing body, which the route's own validation reports.
      if (text !== "") refuseUnlessStrictJson(text);
    }
  }
  await next();
}

const unsupportedType = (type: string) =>
  new ApiError("UNSUPPORTED_MEDIA_TYPE", `Send the body as JSON with Content-Type: application/json (got ${type || "no Content-Type"})`);

function refuseUnlessStrictJson(text: string): void {
  const parsed = parseStrictJson(text);
  if (parsed.ok) return;
  if (parsed.duplicateKeys.length > 0) {
    throw new ApiError("MALFORMED_JSON", `The request body names a key more than once (${parsed.duplicateKeys.join(", ")}); send each key once`, {
      duplicate_keys: parsed.duplicateKeys,
    });
  }
  throw new ApiError("MALFORMED_JSON", `The request body is not valid JSON (${parsed.message}); send a JSON object with Content-Type: application/json`);
}
