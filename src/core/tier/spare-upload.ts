/**
 * How much upload a peer has to spare for the supernode role, measured
 * rather than assumed (SupernodePolicy's `spareUploadBytesPerSec` input).
 *
 * Rules:
 * - The shell samples the bytes its upload gate let through, once per load
 *   interval; the rate between two samples is one measurement.
 * - Capacity is the upload limit the operator configured
 *   (`--upload-limit`) when there is one, else the highest rate this
 *   peer has sustained over `capacityWindowMs` (a mean over that window, not
 *   one interval's burst): a link's capacity is what it has shown it can
 *   carry. A peer that has not uploaded yet has shown nothing, so spares
 *   nothing, and is not promoted on a guess.
 * - Recent use is the mean rate over the last `recentWindowMs`.
 * - Spare = max(0, capacity - recent use).
 * Why: a supernode's upload belongs first to its leaves' signalling and its
 * relays; promoting a peer whose uplink is already full (or unknown) makes
 * a supernode that cannot serve. Time is passed in; memory is bounded by
 * `maxSamples`.
 */

/** Options of SpareUploadMeter. */
export interface SpareUploadInit {
  /** Window of "recent use", ms. Default 60 000. */
  recentWindowMs?: number
  /** Window over which a sustained rate counts as shown capacity, ms. Default 10 000. */
  capacityWindowMs?: number
  /** Samples kept. Default 600 (10 min at one a second). */
  maxSamples?: number
}

/** Defaults of SpareUploadInit. */
export const SPARE_UPLOAD_DEFAULTS = { recentWindowMs: 60_000, capacityWindowMs: 10_000, maxSamples: 600 } as const

/** Thrown for invalid SpareUploadInit values. */
export class SpareUploadOptionError extends Error {
  override name = 'SpareUploadOptionError'
}

interface Sample { atMs: number, bytes: number }

/** Upload samples in, spare upload (bytes/s) out. Pure: time is passed in. */
export class SpareUploadMeter {
  readonly recentWindowMs: number
  readonly capacityWindowMs: number
  readonly maxSamples: number
  private readonly samples: Sample[] = []
  /** Highest mean rate over capacityWindowMs seen so far, bytes/s. */
  private shownCapacity = 0

  constructor (init: SpareUploadInit = {}) {
    this.recentWindowMs = init.recentWindowMs ?? SPARE_UPLOAD_DEFAULTS.recentWindowMs
    this.capacityWindowMs = init.capacityWindowMs ?? SPARE_UPLOAD_DEFAULTS.capacityWindowMs
    this.maxSamples = init.maxSamples ?? SPARE_UPLOAD_DEFAULTS.maxSamples
    if (!(this.recentWindowMs > 0) || !(this.capacityWindowMs > 0)) throw new SpareUploadOptionError('windows must be positive')
    if (!Number.isSafeInteger(this.maxSamples) || this.maxSamples < 2) throw new SpareUploadOptionError(`maxSamples must be an integer of at least 2, got ${this.maxSamples}`)
  }

  /** Records the upload counter (bytes since start, never decreasing) at `nowMs`. */
  sample (nowMs: number, bytesUploadedTotal: number): void {
    const last = this.samples[this.samples.length - 1]
    if (last !== undefined && (nowMs <= last.atMs || bytesUploadedTotal < last.bytes)) return
    this.samples.push({ atMs: nowMs, bytes: bytesUploadedTotal })
    if (this.samples.length > this.maxSamples) this.samples.shift()
    const shown = this.meanRate(nowMs, this.capacityWindowMs, true)
    if (shown !== undefined && shown > this.shownCapacity) this.shownCapacity = shown
  }

  /** Mean upload rate over the last `recentWindowMs`, bytes/s (0 before two samples). */
  recentBytesPerSec (nowMs: number): number { return this.meanRate(nowMs, this.recentWindowMs, false) ?? 0 }

  /** Capacity: the configured limit, else the highest sustained rate shown. */
  capacityBytesPerSec (configuredBytesPerSec?: number): number { return configuredBytesPerSec ?? this.shownCapacity }

  /** Upload capacity not used recently, bytes/s. */
  spareBytesPerSec (nowMs: number, configuredBytesPerSec?: number): number {
    return Math.max(0, this.capacityBytesPerSec(configuredBytesPerSec) - this.recentBytesPerSec(nowMs))
  }

  /** Mean rate from the newest sample back to the oldest within `windowMs` (a full window only when `full`). */
  private meanRate (nowMs: number, windowMs: number, full: boolean): number | undefined {
    const newest = this.samples[this.samples.length - 1]
    if (newest === undefined) return undefined
    let oldest: Sample | undefined
    for (let i = this.samples.length - 1; i >= 0; i--) {
      if (nowMs - this.samples[i].atMs > windowMs) break
      oldest = this.samples[i]
    }
    if (oldest === undefined || oldest === newest) return undefined
    const spanMs = newest.atMs - oldest.atMs
    if (full && spanMs < windowMs * 0.9) return undefined
    return (newest.bytes - oldest.bytes) * 1000 / spanMs
  }
}
