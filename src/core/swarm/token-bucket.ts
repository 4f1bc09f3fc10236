/**
 * A byte-rate limiter (token bucket), sans-IO: the driver asks how long to
 * wait before sending `bytes` and sleeps that long itself.
 *
 * Rules: the bucket fills at `ratePerSec` up to `burst`. A send takes its
 * bytes at once, even more than are there (the bucket goes into debt), and
 * the answer is the time until the debt is paid back. So one piece larger
 * than the burst still goes out, and the long-run rate never exceeds
 * `ratePerSec` by more than one burst over any interval.
 */

/** A token bucket of bytes (see the file's rules). */
export class TokenBucket {
  private tokens: number
  private lastMs: number | undefined

  /** A bucket filling at `ratePerSec` bytes/s, holding at most `burst` bytes (default: one second's worth). */
  constructor (readonly ratePerSec: number, readonly burst: number = ratePerSec) {
    if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) throw new RangeError(`ratePerSec must be a positive number, got ${ratePerSec}`)
    if (!(burst > 0)) throw new RangeError(`burst must be a positive number, got ${burst}`)
    this.tokens = burst
  }

  /** Takes `bytes` at `nowMs`; returns the ms to wait before sending them (0 = now). */
  take (nowMs: number, bytes: number): number {
    this.refill(nowMs)
    this.tokens -= bytes
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.ratePerSec * 1000)
  }

  /** Bytes available at `nowMs` (negative while in debt). */
  available (nowMs: number): number {
    this.refill(nowMs)
    return this.tokens
  }

  private refill (nowMs: number): void {
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.lastMs) * this.ratePerSec / 1000)
    }
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs
  }
}
