/**
 * Probability laws used by the models, sampled by inverse CDF from one
 * uniform draw each (so one draw per sample and a stream's position is
 * easy to reason about).
 *
 * A law's numbers are dimensionless: the field that holds the law carries
 * the unit (`sessionS`, `itemSizeBytes`).
 */
import type { Rng } from '../engine/rng.js'

/** A probability law over positive values; the unit is given by the field holding it. */
export type Law =
  | { law: 'fixed', value: number }
  | { law: 'exponential', mean: number }
  /** Weibull with shape k and scale λ; give `mean` instead of `scale` and λ = mean / Γ(1 + 1/k). */
  | { law: 'weibull', shape: number, scale: number }
  /** Pareto (type I) with shape α and minimum x_m. */
  | { law: 'pareto', shape: number, min: number }
  /** Log-normal: exp(N(ln median, sigma²)); one draw via the normal quantile. */
  | { law: 'lognormal', median: number, sigma: number }

/** Thrown for a law with missing or out-of-range parameters. */
export class LawError extends Error {
  override name = 'LawError'
  readonly code = 'ERR_LAW'
}

/** Lanczos approximation of Γ(x) for x > 0 (g = 7, n = 9); relative error < 1e-13. */
export function gamma (x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x))
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
  x -= 1
  let a = c[0]
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += c[i] / (x + i)
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a
}

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
export function normalQuantile (p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.383577518672690e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const lo = 0.02425
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  if (p > 1 - lo) return -normalQuantile(1 - p)
  const q = p - 0.5; const r = q * q
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
}

/** Checks a law's parameters; `where` names the field in error messages. */
export function validateLaw (law: Law, where: string): void {
  const pos = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new LawError(`${where}.${name} must be a positive number, got ${JSON.stringify(v)}`)
  }
  switch (law?.law) {
    case 'fixed': pos(law.value, 'value'); break
    case 'exponential': pos(law.mean, 'mean'); break
    case 'weibull': pos(law.shape, 'shape'); pos(law.scale, 'scale'); break
    case 'pareto': pos(law.shape, 'shape'); pos(law.min, 'min'); break
    case 'lognormal': pos(law.median, 'median'); pos(law.sigma, 'sigma'); break
    default: throw new LawError(`${where}.law must be one of fixed, exponential, weibull, pareto, lognormal; got ${JSON.stringify((law as { law?: unknown })?.law)}`)
  }
}

/** Weibull scale λ that gives the wanted mean for shape k. */
export function weibullScaleForMean (mean: number, shape: number): number {
  return mean / gamma(1 + 1 / shape)
}

/** Value of the law at cumulative probability u in (0, 1). */
export function quantile (law: Law, u: number): number {
  switch (law.law) {
    case 'fixed': return law.value
    case 'exponential': return -law.mean * Math.log(1 - u)
    case 'weibull': return law.scale * Math.pow(-Math.log(1 - u), 1 / law.shape)
    case 'pareto': return law.min * Math.pow(1 - u, -1 / law.shape)
    case 'lognormal': return law.median * Math.exp(law.sigma * normalQuantile(u))
  }
}

/** One sample of the law from one uniform draw. */
export function sample (law: Law, rng: Rng): number {
  // float() is in [0, 1); 1 - floatOpen() is too, but u = 0 gives a finite quantile for every law
  return quantile(law, rng.float())
}

/** The law's median (exponential: mean·ln 2; Weibull: λ(ln 2)^(1/k); Pareto: x_m·2^(1/α)). */
export function median (law: Law): number { return quantile(law, 0.5) }

/** The law's mean (Infinity for Pareto with α <= 1). */
export function mean (law: Law): number {
  switch (law.law) {
    case 'fixed': return law.value
    case 'exponential': return law.mean
    case 'weibull': return law.scale * gamma(1 + 1 / law.shape)
    case 'pareto': return law.shape <= 1 ? Infinity : law.shape * law.min / (law.shape - 1)
    case 'lognormal': return law.median * Math.exp(law.sigma * law.sigma / 2)
  }
}
