/**
 * Churn: each peer alternates online sessions and offline periods whose
 * lengths (in seconds) are drawn from a session law and an off law.
 *
 * Rules: a peer's draws come from its own stream, so faults that take other
 * peers down never shift them. With diurnal modulation on, an off period
 * drawn at time t is divided by the arrival-rate factor f(t) (arrivals are
 * f(t) times as frequent at the peak), a first-order approximation of a
 * non-homogeneous arrival process that keeps one draw per period.
 */
import { type Law, mean, weibullScaleForMean } from './distributions.js'

/** Session and off-time laws, in seconds. */
export interface ChurnLaws {
  /** Length of an online session, seconds. */
  sessionS: Law
  /** Length of an offline period between sessions, seconds. */
  offS: Law
}

/** A named churn preset with where its numbers come from. */
export interface ChurnPreset extends ChurnLaws {
  /** Where the parameters come from (paper, or "our choice" and why). */
  source: string
}

/**
 * Named presets. Only the parameters credited to a paper come from it; the
 * rest are our choices, labelled as such.
 */
export const CHURN_PRESETS: Record<string, ChurnPreset> = {
  /** No churn: every peer stays online for the whole run. */
  none: {
    sessionS: { law: 'fixed', value: Number.MAX_SAFE_INTEGER / 1e4 },
    offS: { law: 'fixed', value: 1 },
    source: 'no churn (static network)'
  },
  /**
   * BitTorrent-like. Stutzbach & Rejaie, "Understanding churn in peer-to-peer
   * networks", IMC 2006: session lengths fit a Weibull with shape 0.34–0.59
   * across Gnutella, Kad and BitTorrent; we take k = 0.45 (mid-range). The
   * scale 8000 s (median ≈ 59 min) and the off law are our choices.
   */
  bittorrent: {
    sessionS: { law: 'weibull', shape: 0.45, scale: 8000 },
    offS: { law: 'weibull', shape: 0.45, scale: 20000 },
    source: 'Stutzbach & Rejaie, IMC 2006 (Weibull shape 0.34-0.59, we use 0.45); scale and off law: our choice'
  },
  /**
   * KAD-like. Steiner, En-Najjary & Biersack, "A global view of KAD", IMC 2007:
   * Weibull session times, shape 0.5, mean session 10,000 s (scale 5000 s).
   * The off law (Weibull 0.5, mean 20,000 s, so about a third of peers
   * online) is our choice.
   */
  kad: {
    sessionS: { law: 'weibull', shape: 0.5, scale: weibullScaleForMean(10000, 0.5) },
    offS: { law: 'weibull', shape: 0.5, scale: weibullScaleForMean(20000, 0.5) },
    source: 'Steiner et al., IMC 2007 (Weibull k = 0.5, mean session 10,000 s); off law: our choice'
  },
  /** Memoryless baseline: exponential sessions and off times, mean one hour each. */
  'exponential-1h': {
    sessionS: { law: 'exponential', mean: 3600 },
    offS: { law: 'exponential', mean: 3600 },
    source: 'baseline (memoryless), our choice'
  },
  /**
   * Supernode-like: long-lived, multi-day sessions (exponential, mean 3 days)
   * and short outages (exponential, mean 1 h), for well-provisioned always-on
   * hosts. Our choice.
   */
  supernode: {
    sessionS: { law: 'exponential', mean: 3 * 86400 },
    offS: { law: 'exponential', mean: 3600 },
    source: 'long-lived hosts, our choice'
  }
}

/** Fraction of time a peer is online in steady state: E[session] / (E[session] + E[off]). */
export function stationaryOnlineFraction (laws: ChurnLaws): number {
  const on = mean(laws.sessionS)
  const off = mean(laws.offS)
  if (!Number.isFinite(on)) return 1
  if (!Number.isFinite(off)) return 0
  if (off / on < 1e-9) return 1
  return on / (on + off)
}

/** Diurnal modulation of arrival rates: f(t) = 1 + amplitude·cos(2π(t − peak)/day). */
export interface DiurnalInit {
  /** Relative swing of the rate around its mean, in [0, 1); default 0 (off). */
  amplitude?: number
  /** Hour of day (virtual time 0 = midnight) of the peak rate; default 20. */
  peakHour?: number
}

/** Rate factor f(t) at virtual time tMs (mean 1 over a day). */
export function diurnalFactor (d: Required<DiurnalInit>, tMs: number): number {
  if (d.amplitude === 0) return 1
  const dayMs = 86400_000
  return 1 + d.amplitude * Math.cos(2 * Math.PI * (tMs - d.peakHour * 3600_000) / dayMs)
}
