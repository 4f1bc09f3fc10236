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
import { emptyLocalityBytes, type LocalityClass } from '../../src/core/proximity/locality.js'

/** Columns of the sampled time series, in CSV order. */
export const SERIES_COLUMNS = ['timeS', 'onlinePeers', 'onlineSupernodes', 'onlineSeeders', 'transfersInFlight', 'bytesFromSeeders', 'bytesFromPeers', 'downloadsCompleted', 'requests', 'onlineLeaves', 'orphanLeaves', 'lookups', 'lookupsOk'] as const

/** A tier has recovered from a fault when at most this share of online leaves (or the pre-fault share, if higher) has no supernode. */
export const ORPHAN_RECOVERY_SHARE = 0.01

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
  /** Delivered bytes by transit class (the client's rule), from seeders and from peers. */
  readonly bytesByLocality = { fromSeeders: emptyLocalityBytes(), fromPeers: emptyLocalityBytes() }
  readonly downloadTimesS = new Samples()
  readonly series: number[][] = []
  readonly faults: FaultRecord[] = []
  readonly observed = new Map<string, Samples>()

  constructor (private readonly world: World, private readonly transfersInFlight: () => number) {}

  onRequest (): void { this.requests++ }
  /** Requests for an item the peer already held (no transfer). */
  servedLocally = 0
  /** Requests for an item the peer was already downloading (they join that download). */
  joinedOngoing = 0
  onRequestFailed (): void { this.requestsFailed++ }
  onTransferDone (t: TransferRecord): void {
    this.downloadsCompleted++
    this.downloadTimesS.push((t.endMs - t.startMs) / 1000)
    if (t.fromSeeder) this.bytesFromSeeders += t.bytes
    else {
      this.bytesFromPeers += t.bytes
      if (t.sameAs) this.bytesPeerSameAs += t.bytes
    }
    this.bytesByLocality[t.fromSeeder ? 'fromSeeders' : 'fromPeers'][t.locality] += t.bytes
  }

  onTransferAborted (): void { this.downloadsAborted++ }

  onBytes (_from: number, _to: number, bytes: number, fromSeeder: boolean, sameAs: boolean, _nowMs: number, locality: LocalityClass): void {
    if (fromSeeder) this.bytesFromSeeders += bytes
    else {
      this.bytesFromPeers += bytes
      if (sameAs) this.bytesPeerSameAs += bytes
    }
    this.bytesByLocality[fromSeeder ? 'fromSeeders' : 'fromPeers'][locality] += bytes
  }

  onDownload (_node: number, _itemRank: number, startMs: number, endMs: number, _bytes: number, completed: boolean): void {
    if (!completed) { this.downloadsAborted++; return }
    this.downloadsCompleted++
    this.downloadTimesS.push((endMs - startMs) / 1000)
  }

  /** Lookups observed so far, and those that succeeded. */
  lookups = 0
  lookupsOk = 0
  onFault (index: number, type: string, victims: number, nowMs: number): void {
    this.faults.push({ index, type, atS: nowMs / 1000, victims })
  }

  onObserve (_node: number, name: string, value: number): void {
    if (name === 'lookup.success') { this.lookups++; if (value === 1) this.lookupsOk++ }
    if (name === 'request.local') { this.servedLocally++; return }
    if (name === 'request.ongoing') { this.joinedOngoing++; return }
    let s = this.observed.get(name)
    if (s == null) { s = new Samples(); this.observed.set(name, s) }
    s.push(value)
  }

  onSample (nowMs: number): void {
    const w = this.world
    this.series.push([nowMs / 1000, w.onlinePeers, w.onlineSupernodes, w.onlineSeeders, this.transfersInFlight(), this.bytesFromSeeders, this.bytesFromPeers, this.downloadsCompleted, this.requests, w.onlineLeaves, w.orphanLeaves, this.lookups, this.lookupsOk])
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
    const out: Record<string, unknown> = { type: f.type, atS: f.atS, victims: f.victims, watched: watch, before, recoveryS }
    if (this.world.scenario.protocol.kind === 'swarmcdn') Object.assign(out, this.orphanRecovery(f.atS, endS))
    if (this.lookups > 0) Object.assign(out, this.lookupRecovery(f.atS, endS))
    return out
  }

  /**
   * Tier recovery: orphan share = orphanLeaves / onlineLeaves per sample;
   * `orphanShareBefore` at the last sample before the fault, `orphanSharePeak`
   * the highest after it, `orphanRecoveryS` the first sample at or after the
   * fault's end where the share is <= max(ORPHAN_RECOVERY_SHARE, before), minus
   * the fault time (null: not within the run).
   */
  private orphanRecovery (atS: number, endS: number): Record<string, unknown> {
    const t = this.column('timeS'); const o = this.column('orphanLeaves'); const l = this.column('onlineLeaves')
    const share = (i: number): number => l[i] === 0 ? 0 : o[i] / l[i]
    let before = 0
    for (let i = 0; i < t.length && t[i] < atS; i++) before = share(i)
    let peak = 0
    let rec: number | null = null
    for (let i = 0; i < t.length; i++) {
      if (t[i] < atS) continue
      peak = Math.max(peak, share(i))
      if (rec == null && t[i] >= endS && share(i) <= Math.max(ORPHAN_RECOVERY_SHARE, before)) rec = t[i] - atS
    }
    return { orphanShareBefore: before, orphanSharePeak: peak, orphanRecoveryS: rec }
  }

  /**
   * DHT recovery: the lookup success rate before the fault (all lookups
   * observed before it), after it (all lookups after it), and
   * `lookupRecoveryS`: the first sample at or after the fault's end whose
   * interval (since the previous sample) had lookups with a success rate
   * >= recoveryThreshold x the rate before, minus the fault time.
   */
  private lookupRecovery (atS: number, endS: number): Record<string, unknown> {
    const t = this.column('timeS'); const n = this.column('lookups'); const ok = this.column('lookupsOk')
    let nB = 0; let okB = 0
    for (let i = 0; i < t.length && t[i] < atS; i++) { nB = n[i]; okB = ok[i] }
    const before = nB === 0 ? null : okB / nB
    const nA = n.length === 0 ? 0 : n[n.length - 1] - nB
    const after = nA === 0 ? null : (ok[ok.length - 1] - okB) / nA
    let rec: number | null = null
    if (before != null) {
      for (let i = 1; i < t.length; i++) {
        if (t[i] < endS || t[i] <= atS) continue
        const dn = n[i] - n[i - 1]
        if (dn > 0 && (ok[i] - ok[i - 1]) / dn >= this.world.scenario.recoveryThreshold * before) { rec = t[i] - atS; break }
      }
    }
    return { lookupSuccessBefore: before, lookupSuccessAfter: after, lookupRecoveryS: rec }
  }

  private sumOf (name: string): number {
    let t = 0
    for (const v of this.observed.get(name)?.values() ?? []) t += v
    return t
  }

  /** Orphan leaves over the sampled series: count and share of online leaves (min/mean/max/final), null for flat protocols. */
  private orphanSeries (): unknown {
    if (this.world.scenario.protocol.kind !== 'swarmcdn') return null
    const o = this.column('orphanLeaves'); const l = this.column('onlineLeaves')
    if (o.length === 0) return null
    const share = o.map((v, i) => l[i] === 0 ? 0 : v / l[i])
    const st = (v: number[]): { min: number, mean: number, max: number, final: number } => ({ min: Math.min(...v), mean: v.reduce((a, b) => a + b, 0) / v.length, max: Math.max(...v), final: v[v.length - 1] })
    return { count: st(o), share: st(share) }
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
      requests: { total: this.requests, completed: this.downloadsCompleted, aborted: this.downloadsAborted, failedNoSeeder: this.requestsFailed, servedLocally: this.servedLocally, joinedOngoing: this.joinedOngoing },
      bytes: { fromSeeders: this.bytesFromSeeders, fromPeers: this.bytesFromPeers, peerSameAs: this.bytesPeerSameAs, byLocality: this.bytesByLocality, duplicate: this.sumOf('bytes.duplicate'), ofAbortedDownloads: this.sumOf('bytes.aborted') },
      supernodeCount: this.stats('onlineSupernodes'),
      onlinePeers: this.stats('onlinePeers'),
      faultRecovery: this.faults.map((f) => this.recovery(f)),
      lookupSuccessRate: ((): unknown => { const s = this.observed.get('lookup.success'); return s == null ? null : (distributionSummary(s).mean) })(),
      lookupHops: obs('lookup.hops'),
      lookupLatencyMs: obs('lookup.latencyMs'),
      leavesWithoutSupernode: this.orphanSeries(),
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
