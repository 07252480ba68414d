// Every failure answers {"error": CODE, "message": text, "details": {...}}; this is the list of codes.
import { z } from "zod";

export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  UNKNOWN_SYMBOL: 400,
  SYMBOL_NOT_TRADABLE: 400,
  INSUFFICIENT_FUNDS: 400,
  INSUFFICIENT_POSITION: 400,
  PRICE_OUT_OF_BAND: 400,
  ORDER_TOO_LARGE: 400,
  MARKET_CLOSED: 400,
  REDUCE_ONLY: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TRADING_HALTED: 403,
  NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  ACCOUNT_NOT_FOUND: 404,
  POSITION_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  ORDER_NOT_CANCELLABLE: 409,
  ORDER_NOT_AMENDABLE: 409,
  ACCOUNT_EXISTS: 409,
  IDEMPOTENCY_KEY_IN_USE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UPGRADE_REQUIRED: 426,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  /** A trader at MAX_SOCKETS_PER_TRADER open sockets, or too many sockets waiting for first-message auth. */
  TOO_MANY_SOCKETS: 429,
  INTERNAL_ERROR: 500,
  VENUE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorDetails = Record<string, unknown>;

/** An expected failure as a value: what the trader's Durable Object returns across RPC instead of throwing. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}
export type Result<T> = { ok: true; value: T } | Failure;

export const fail = (code: ErrorCode, message: string, details?: ErrorDetails): Failure => ({
  ok: false,
  code,
  message,
  ...(details ? { details } : {}),
});
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const ErrorBody = z
  .object({
    error: z.string().meta({ example: "INSUFFICIENT_FUNDS" }),
    message: z.string().meta({ example: "Insufficient funds for $15,000.00 order; available: $5,000.00" }),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "Error" });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The message of a thrown value, for logs and reasons (never a stack). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * zod's issues as a VALIDATION_ERROR body naming each bad field in details.fields (the HTTP routes and the
 * socket's order messages answer with this same body).
 */
export function validationError(error: z.ZodError, prefix = ""): ErrorBody {
  // No prototype: a field named __proto__ or constructor is reported like any other.
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const issue of error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) fields[path ? `${path}.${key}` : key] ??= `${key} is not a field of this request`;
      continue;
    }
    fields[path || "body"] ??= issue.message;
  }
  const summary = Object.entries(fields).map(([f, m]) => (m.startsWith(f) ? m : `${f}: ${m}`)).join("; ");
  return { error: "VALIDATION_ERROR", message: `Invalid request: ${summary}`, details: { fields } };
}
