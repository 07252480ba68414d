// When the desk tries the venue again: exponential backoff from RETRY_BASE_MS, doubling per attempt.

/** Delay before attempt `next` (1, 2, 3 ...): base, 2 x base, 4 x base ... */
export function retryDelayMs(baseMs: number, next: number): number {
  return baseMs * 2 ** Math.max(0, next - 1);
}

/** True while another attempt is allowed after `attempt` failed (attempt 0 is the first send). */
export function canRetry(attempt: number, maxAttempts: number): boolean {
  return attempt < maxAttempts;
}
