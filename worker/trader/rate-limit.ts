// The per-trader order rate limit: a token bucket of RATE_LIMIT_BURST orders refilled at
// RATE_LIMIT_PER_SECOND.
import { fail, type Failure } from "../shared/errors";

export class TokenBucket {
  private tokens: number;
  private at = 0;

  constructor(private readonly perSecond: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Takes one token at `nowMs`; a RATE_LIMITED failure (with details.retry_after_seconds) when none is left. */
  take(nowMs: number): Failure | null {
    const { perSecond: rate, burst } = this;
    this.tokens = Math.min(burst, this.tokens + ((nowMs - this.at) / 1000) * rate);
    this.at = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return null;
    }
    const retryAfter = Math.max(1, Math.ceil((1 - this.tokens) / rate));
    return fail("RATE_LIMITED", `Too many orders: at most ${rate} per second (bursts of ${burst}); retry in ${retryAfter} s`, { retry_after_seconds: retryAfter });
  }
}
