/**
 * `--compare`: the same scenario and seed three times in one invocation —
 * as configured, with proximity off (rankPeers tie keys only), and without
 * the supernode tier (every peer a DHT member that queries the DHT
 * itself) — and a side-by-side table of the headline metrics.
 */
import type { RunResult, RunScenarioInit } from './run-scenario.js'
import { runScenario } from './run-scenario.js'
import type { Scenario } from './scenario/scenario.js'

/** The variants --compare runs, in order. */
export const COMPARE_VARIANTS: Array<{ variant: string, params: Record<string, unknown> }> = [
  { variant: 'as configured', params: {} },
  { variant: 'proximity off', params: { proximity: false } },
  { variant: 'supernodes off', params: { supernodes: false } }
]

/** One row of compare.json / compare.csv. */
export interface CompareRow {
  variant: string
  originOffload: number | null
  intraAsPeerByteShare: number | null
  downloadP50S: number | null
  downloadP95S: number | null
  downloadP99S: number | null
  completed: number
  lookupSuccessRate: number | null
  lookupHopsMean: number | null
  lookupLatencyP50Ms: number | null
  supernodesMean: number | null
  orphanShareMean: number | null
  events: number
}

/** Headline metrics of one run as a compare row. */
export function compareRow (r: RunResult): CompareRow {
  const m = r.summary.metrics
  const v = (name: string): any => m[name]?.value // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    variant: r.summary.protocol.variant,
    originOffload: v('originOffload'),
    intraAsPeerByteShare: v('intraAsPeerByteShare'),
    downloadP50S: v('downloadTimeS')?.p50 ?? null,
    downloadP95S: v('downloadTimeS')?.p95 ?? null,
    downloadP99S: v('downloadTimeS')?.p99 ?? null,
    completed: v('requests')?.completed ?? 0,
    lookupSuccessRate: v('lookupSuccessRate'),
    lookupHopsMean: v('lookupHops')?.mean ?? null,
    lookupLatencyP50Ms: v('lookupLatencyMs')?.p50 ?? null,
    supernodesMean: v('supernodeCount')?.mean ?? null,
    orphanShareMean: v('leavesWithoutSupernode')?.share?.mean ?? null,
    events: r.summary.events
  }
}

/** Runs every variant (swarmcdn scenarios only) and returns the runs in COMPARE_VARIANTS order. */
export function runCompare (scenario: Scenario, init: RunScenarioInit = {}): RunResult[] {
  if (scenario.protocol.kind !== 'swarmcdn') throw new RangeError(`--compare needs a swarmcdn scenario (proximity and supernodes are its parameters), got ${scenario.protocol.kind}`)
  return COMPARE_VARIANTS.map(v => runScenario(scenario, { ...init, variant: v.variant, paramsOverride: { ...init.paramsOverride, ...v.params } }))
}
