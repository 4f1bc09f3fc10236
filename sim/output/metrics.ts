/**
 * The metrics registry: every metric the simulator reports, its unit, and
 * whether the models alone can measure it or it needs the protocol. The
 * MetricsObserver fills values from world events; summary.json lists every
 * registered metric, with `measured: false` and value null where the
 * running flow cannot produce it (never a made-up number).
 */

/** Where a metric's data comes from. */
export type MetricSource = 'model' | 'protocol'

/** One registered metric. */
export interface MetricDefinition {
  name: string
  unit: string
  source: MetricSource
  description: string
}

/** The metrics, in summary order. */
export const METRICS: MetricDefinition[] = [
  { name: 'originOffload', unit: 'fraction', source: 'model', description: 'share of delivered bytes not served by origin seeders' },
  { name: 'intraAsPeerByteShare', unit: 'fraction', source: 'model', description: 'share of peer-served bytes whose sender and receiver are in the same AS (null when peers served nothing)' },
  { name: 'downloadTimeS', unit: 's', source: 'model', description: 'request to last byte of completed downloads: count, mean, p50, p95, p99' },
  { name: 'requests', unit: 'count', source: 'model', description: 'requests made, completed, aborted by churn or faults, failed for lack of an online seeder' },
  { name: 'bytes', unit: 'bytes', source: 'model', description: 'bytes delivered by seeders and by peers, peer bytes that stayed in one AS, and both by transit class (byLocality: same-as, same-prefix, other-as, unknown; the rule of src/core/proximity/locality.ts, as in the client)' },
  { name: 'supernodeCount', unit: 'count', source: 'model', description: 'online supernodes over the sampled series: min, mean, max, final (the tier promotes and demotes when the protocol is wired)' },
  { name: 'onlinePeers', unit: 'count', source: 'model', description: 'online non-seeder nodes over the sampled series: min, mean, max, final' },
  { name: 'faultRecovery', unit: 's', source: 'model', description: 'per fault: victims, the watched series, its value before, and seconds until it is back to recoveryThreshold of that (null: not within the run); with the tier, orphan-leaf recovery; with lookups, lookup-success recovery (sim/README.md)' },
  { name: 'lookupSuccessRate', unit: 'fraction', source: 'protocol', description: 'DHT lookups that found their target (observe "lookup.success" 0/1)' },
  { name: 'lookupHops', unit: 'hops', source: 'protocol', description: 'hops per lookup (observe "lookup.hops")' },
  { name: 'lookupLatencyMs', unit: 'ms', source: 'protocol', description: 'lookup latency (observe "lookup.latencyMs")' },
  { name: 'leavesWithoutSupernode', unit: 'count', source: 'protocol', description: 'online leaves attached to no supernode, sampled every sampleIntervalS: count and share of online leaves (min, mean, max, final)' },
  { name: 'perSupernodeLoad', unit: 'leaves', source: 'protocol', description: 'leaves attached per online supernode at each sample (observe "tier.supernodeLoad"): count, mean, p50/p95/p99' }
]

/** Most samples kept per observed protocol metric (percentiles use the first ones). */
export const MAX_OBSERVED_SAMPLES = 2_000_000

/** A growable list of numbers in a Float64Array. */
export class Samples {
  private data = new Float64Array(256)
  length = 0
  constructor (private readonly limit = MAX_OBSERVED_SAMPLES) {}
  /** Appends a value (dropped past the limit). */
  push (v: number): void {
    if (this.length >= this.limit) return
    if (this.length === this.data.length) { const d = new Float64Array(this.data.length * 2); d.set(this.data); this.data = d }
    this.data[this.length++] = v
  }

  /** The values, in insertion order. */
  values (): Float64Array { return this.data.subarray(0, this.length) }
  /** The values, sorted ascending (a copy). */
  sorted (): Float64Array { return Float64Array.from(this.values()).sort() }
}

/** Nearest-rank percentile of sorted values (p in [0, 100]); null when empty. */
export function percentile (sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil(p / 100 * sorted.length))
  return sorted[rank - 1]
}

/** count / mean / p50 / p95 / p99 of a sample list. */
export function distributionSummary (s: Samples): { count: number, mean: number | null, p50: number | null, p95: number | null, p99: number | null } {
  const sorted = s.sorted()
  let sum = 0
  for (const v of sorted) sum += v
  return { count: sorted.length, mean: sorted.length === 0 ? null : sum / sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) }
}
