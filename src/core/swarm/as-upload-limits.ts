/**
 * Per-AS upload caps (`--as-upload-limit AS=RATE`): an ISP-friendly lever
 * on what an uploader sends into one network, on top of the total rate
 * limit. Sans-IO like the TokenBucket it is made of: the driver asks how
 * long to wait before sending bytes to a requester in an AS, and sleeps.
 *
 * Rules:
 * - One token bucket per capped AS, shared by every requester in it; the
 *   burst is a quarter second of the rate, at least MIN_AS_BURST_BYTES, as
 *   for the total limit.
 * - A requester whose AS is unknown (0) or not capped is not limited here.
 * - The total limit still applies: the driver waits for the longer of the
 *   two.
 */
import { TokenBucket } from './token-bucket.js'

/** Smallest burst of one AS's bucket, bytes (one piece of 64 KiB goes out without waiting). */
export const MIN_AS_BURST_BYTES = 64 * 1024
/** Capped ASes at most (a limit on what one option can make us hold). */
export const MAX_CAPPED_ASES = 4096

/** The caps of one uploader: AS number → bytes/s. */
export class AsUploadLimits {
  private readonly buckets = new Map<number, TokenBucket>()

  /** Caps from AS number to bytes per second; throws RangeError for a bad AS or rate. */
  constructor (capsBytesPerSec: ReadonlyMap<number, number> | Readonly<Record<number, number>>) {
    const entries = capsBytesPerSec instanceof Map ? [...capsBytesPerSec] : Object.entries(capsBytesPerSec).map(([k, v]) => [Number(k), v] as const)
    if (entries.length > MAX_CAPPED_ASES) throw new RangeError(`at most ${MAX_CAPPED_ASES} capped ASes`)
    for (const [asn, rate] of entries) {
      if (!Number.isInteger(asn) || asn <= 0 || asn > 0xffffffff) throw new RangeError(`not an AS number: ${asn}`)
      if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`AS ${asn}: rate must be a positive number of bytes/s, got ${rate}`)
      this.buckets.set(asn, new TokenBucket(rate, Math.max(rate / 4, MIN_AS_BURST_BYTES)))
    }
  }

  /** True when `asn` has a cap. */
  caps (asn: number): boolean { return this.buckets.has(asn) }

  /** Takes `bytes` for a requester in `asn` at `nowMs`; returns the ms to wait before sending them (0 = now, or not capped). */
  take (nowMs: number, asn: number, bytes: number): number {
    return this.buckets.get(asn)?.take(nowMs, bytes) ?? 0
  }
}
