/**
 * Workload: a catalog with Zipf popularity, Poisson request arrivals, and
 * flash crowds whose arrival rate decays exponentially after a release.
 *
 * Rules: item rank r (1-based) is requested with probability ∝ 1/r^s; the
 * many rarely requested high ranks are the long tail the origin seeders
 * serve. A flash crowd at t0 with peak rate R and decay τ has rate
 * R·exp(−(t − t0)/τ), so it brings R·τ requests in expectation; its
 * arrivals are drawn exactly by inverting the integrated rate.
 */
import type { Rng } from '../engine/rng.js'

/** Samples item ranks from a Zipf law over a finite catalog by bisection on the CDF. */
export class ZipfSampler {
  private readonly cdf: Float64Array

  constructor (readonly items: number, readonly exponent: number) {
    if (!Number.isInteger(items) || items < 1) throw new RangeError(`catalog items must be a positive integer, got ${items}`)
    if (!(exponent >= 0)) throw new RangeError(`zipf exponent must be >= 0, got ${exponent}`)
    this.cdf = new Float64Array(items)
    let acc = 0
    for (let r = 1; r <= items; r++) { acc += Math.pow(r, -exponent); this.cdf[r - 1] = acc }
    for (let i = 0; i < items; i++) this.cdf[i] /= acc
  }

  /** Probability of rank r (1-based). */
  probability (rank: number): number {
    return this.cdf[rank - 1] - (rank > 1 ? this.cdf[rank - 2] : 0)
  }

  /** A rank in [1, items]. */
  sample (rng: Rng): number {
    const u = rng.float()
    let lo = 0; let hi = this.items - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.cdf[mid] > u) hi = mid; else lo = mid + 1
    }
    return lo + 1
  }
}

/** Delay (ms) to the next arrival of a Poisson process with the given rate per second. */
export function poissonGapMs (ratePerSec: number, rng: Rng): number {
  return -Math.log(rng.floatOpen()) / ratePerSec * 1000
}

/**
 * Next arrival of a flash crowd (rate peak·exp(−s/τ), s since release),
 * given the previous arrival at `elapsedMs` since release; Infinity when
 * the crowd has no more arrivals.
 */
export function nextFlashArrivalMs (elapsedMs: number, peakPerSec: number, decayS: number, rng: Rng): number {
  const e = -Math.log(rng.floatOpen())
  // Λ(s) = peak·τ·(1 − e^{−s/τ}); solve Λ(s') − Λ(s) = e for s'
  const rest = Math.exp(-elapsedMs / 1000 / decayS) - e / (peakPerSec * decayS)
  if (rest <= 0) return Infinity
  return -Math.log(rest) * decayS * 1000
}
