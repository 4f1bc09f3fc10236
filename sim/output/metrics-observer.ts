/**
 * Records the registry's metrics from world events: counters, the
 * download-time distribution, a time series sampled every
 * sampleIntervalS, and per-fault recovery.
 *
 * Recovery: for a fault at t, the watched series (lose-supernodes →
 * supernodes online; lose-seeder → seeders online; other faults → peers
 * online) is read at the last sample before t; recovery time is the first
 * sample at or after the fault's end (t, or t + window for a mass restart)
 * where the series is back to recoveryThreshold × that value.
 */
import type { SimObserver, TransferRecord } from '../node/observer.js'
import type { World } from '../node/world.js'
import { distributionSummary, METRICS, Samples } from './metrics.js'

/** Columns of the sampled time series, in CSV order. */
export const SERIES_COLUMNS = ['timeS', 'onlinePeers', 'onlineSupernodes', 'onlineSeeders', 'transfersInFlight', 'bytesFromSeeders', 'bytesFromPeers', 'downloadsCompleted', 'requests'] as const

interface FaultRecord { index: number, type: string, atS: number, victims: number }

/** Collects every registered metric of one run. */
export class MetricsObserver implements SimObserver {
  requests = 0
  requestsFailed = 0
  downloadsCompleted = 0
  downloadsAborted = 0
  bytesFromSeeders = 0
  bytesFromPeers = 0
  bytesPeerSameAs = 0
  readonly downloadTimesS = new Samples()
  readonly series: number[][] = []
  readonly faults: FaultRecord[] = []
  readonly observed = new Map<string, Samples>()

  constructor (private readonly world: World, private readonly transfersInFlight: () => number) {}

  onRequest (): void { this.requests++ }
  onRequestFailed (): void { this.requestsFailed++ }
  onTransferDone (t: TransferRecord): void {
    this.downloadsCompleted++
    this.downloadTimesS.push((t.endMs - t.startMs) / 1000)
    if (t.fromSeeder) this.bytesFromSeeders += t.bytes
    else {
      this.bytesFromPeers += t.bytes
      if (t.sameAs) this.bytesPeerSameAs += t.bytes
    }
  }

  onTransferAborted (): void { this.downloadsAborted++ }
  onFault (index: number, type: string, victims: number, nowMs: number): void {
    this.faults.push({ index, type, atS: nowMs / 1000, victims })
  }

  onObserve (_node: number, name: string, value: number): void {
    let s = this.observed.get(name)
    if (s == null) { s = new Samples(); this.observed.set(name, s) }
    s.push(value)
  }

  onSample (nowMs: number): void {
    const w = this.world
    this.series.push([nowMs / 1000, w.onlinePeers, w.onlineSupernodes, w.onlineSeeders, this.transfersInFlight(), this.bytesFromSeeders, this.bytesFromPeers, this.downloadsCompleted, this.requests])
  }

  private column (name: typeof SERIES_COLUMNS[number]): number[] {
    const c = SERIES_COLUMNS.indexOf(name)
    return this.series.map((r) => r[c])
  }

  private stats (name: typeof SERIES_COLUMNS[number]): { min: number, mean: number, max: number, final: number } | null {
    const v = this.column(name)
    if (v.length === 0) return null
    return { min: Math.min(...v), mean: v.reduce((a, b) => a + b, 0) / v.length, max: Math.max(...v), final: v[v.length - 1] }
  }

  private recovery (f: FaultRecord): Record<string, unknown> {
    const sc = this.world.scenario
    const spec = sc.faults[f.index]
    const watch = f.type === 'lose-supernodes' ? 'onlineSupernodes' : f.type === 'lose-seeder' ? 'onlineSeeders' : 'onlinePeers'
    const t = this.column('timeS'); const v = this.column(watch)
    let before: number | null = null
    for (let i = 0; i < t.length && t[i] < f.atS; i++) before = v[i]
    if (before == null && t.length > 0 && t[0] <= f.atS) before = v[0]
    const endS = f.atS + (spec.type === 'mass-restart' ? spec.windowS : 0)
    let recoveryS: number | null = null
    if (before != null) {
      for (let i = 0; i < t.length; i++) {
        if (t[i] >= endS && v[i] >= sc.recoveryThreshold * before) { recoveryS = t[i] - f.atS; break }
      }
    }
    return { type: f.type, atS: f.atS, victims: f.victims, watched: watch, before, recoveryS }
  }

  /** The metrics block of summary.json, one entry per registered metric. */
  snapshot (protocolWired: boolean): Record<string, { unit: string, measured: boolean, value: unknown }> {
    const delivered = this.bytesFromSeeders + this.bytesFromPeers
    const obs = (name: string): unknown => {
      const s = this.observed.get(name)
      return s == null ? null : distributionSummary(s)
    }
    const values: Record<string, unknown> = {
      originOffload: delivered === 0 ? null : this.bytesFromPeers / delivered,
      intraAsPeerByteShare: this.bytesFromPeers === 0 ? null : this.bytesPeerSameAs / this.bytesFromPeers,
      downloadTimeS: distributionSummary(this.downloadTimesS),
      requests: { total: this.requests, completed: this.downloadsCompleted, aborted: this.downloadsAborted, failedNoSeeder: this.requestsFailed },
      bytes: { fromSeeders: this.bytesFromSeeders, fromPeers: this.bytesFromPeers, peerSameAs: this.bytesPeerSameAs },
      supernodeCount: this.stats('onlineSupernodes'),
      onlinePeers: this.stats('onlinePeers'),
      faultRecovery: this.faults.map((f) => this.recovery(f)),
      lookupSuccessRate: ((): unknown => { const s = this.observed.get('lookup.success'); return s == null ? null : (distributionSummary(s).mean) })(),
      lookupHops: obs('lookup.hops'),
      lookupLatencyMs: obs('lookup.latencyMs'),
      leavesWithoutSupernode: obs('tier.orphanLeaves'),
      perSupernodeLoad: obs('tier.supernodeLoad')
    }
    const out: Record<string, { unit: string, measured: boolean, value: unknown }> = {}
    for (const m of METRICS) {
      const measured = m.source === 'model' || (protocolWired && values[m.name] != null)
      out[m.name] = { unit: m.unit, measured, value: measured ? values[m.name] : null }
    }
    return out
  }
}
