/**
 * The CDN steady state both simulator benchmarks run (issue 5's scale
 * measurement): 98% leaves with KAD-like churn, 2% long-lived supernodes,
 * 4 origin seeders, a Zipf catalog of 10,000 items of 50 MB, 0.1 requests
 * per online peer per hour, diurnal demand.
 */
import { resolveScenario } from '../sim/scenario/load-scenario.js'
import type { Scenario } from '../sim/scenario/scenario.js'

/** Options of cdnSteadyState. */
export interface CdnSteadyStateInit {
  /** Scenario name (outputs only). */
  name: string
  /** Simulated time, s. Default one day. */
  durationS?: number
  /** Traffic flow. Default the scenario default (models-only origin baseline). */
  kind?: 'origin-baseline' | 'swarmcdn'
  /** Share of leaves behind home NATs (sim/models/nat.ts, its other defaults). Default 0. */
  natShare?: number
  /** Hole-punch success by NAT kinds (sim/models/nat.ts). Default none succeeds. */
  punchSuccess?: { coneCone: number, coneSymmetric: number, symmetricSymmetric: number }
}

/** The benchmark scenario at `peers` peers. */
export function cdnSteadyState (peers: number, init: CdnSteadyStateInit): Scenario {
  return resolveScenario({
    name: init.name,
    durationS: init.durationS ?? 86400,
    sampleIntervalS: 300,
    network: { asCount: 1000, ...(init.natShare === undefined ? {} : { nat: { behindNatShare: init.natShare, ...(init.punchSuccess === undefined ? {} : { punchSuccess: init.punchSuccess }) } }) },
    populations: [
      { name: 'leaves', count: Math.round(peers * 0.98), churn: { preset: 'kad' } },
      { name: 'supernodes', role: 'supernode', count: Math.round(peers * 0.02), churn: { preset: 'supernode' } }
    ],
    seeders: { count: 4 },
    diurnal: { amplitude: 0.5 },
    workload: { catalogItems: 10000, requestsPerOnlinePeerPerHour: 0.1, itemSizeBytes: { law: 'fixed', value: 50_000_000 } },
    ...(init.kind === undefined ? {} : { protocol: { kind: init.kind } })
  })
}
