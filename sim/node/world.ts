/**
 * The node layer: which nodes exist, which are online, and the controls
 * that change that (churn, faults) or create demand (workload). It turns
 * model draws into scheduled events and tells the traffic flow and the
 * observers what happened.
 *
 * Rules:
 * - Nodes 0..peerCount-1 are the scenario's populations in order; the
 *   origin seeders follow. Seeders do not churn.
 * - Every up/down bumps the node's generation; an event carries the
 *   generation it was scheduled under and is ignored if it changed (lazy
 *   cancellation, no heap removal).
 * - Only events before the end of the run are scheduled.
 * - Requests are a thinned Poisson process: candidate arrivals come at
 *   rate r·N·(1 + diurnal amplitude) over all N peers; one lands on a
 *   uniformly drawn peer and is kept if that peer is online and the
 *   diurnal factor allows, so the kept rate is r·(online peers)·f(t).
 */
import { NatModel } from '../models/nat.js'
import type { Rng, RngStreams } from '../engine/rng.js'
import type { Simulator } from '../engine/simulator.js'
import { diurnalFactor, stationaryOnlineFraction } from '../models/churn.js'
import { sample, type Law } from '../models/distributions.js'
import { loadAsPlacement } from '../models/as-placement.js'
import { NetworkModel } from '../models/network.js'
import { nextFlashArrivalMs, poissonGapMs, ZipfSampler } from '../models/workload.js'
import type { Fault, Scenario } from '../scenario/scenario.js'
import type { DownCause, SimObserver } from './observer.js'

/** Role codes in World.role. */
export const ROLE_PEER = 0
/** A supernode (static role until the tier protocol is wired). */
export const ROLE_SUPERNODE = 1
/** An origin seeder. */
export const ROLE_SEEDER = 2

/** What carries the bytes of a request: the origin-only baseline now, the protocol later. */
export interface TrafficFlow {
  /** An online peer wants catalog item `itemRank`. */
  onRequest: (node: number, itemRank: number, nowMs: number) => void
  /** A node went offline. */
  onNodeDown: (node: number, nowMs: number) => void
  /** A node came online. */
  onNodeUp: (node: number, nowMs: number) => void
}

/** Nodes, their state, and the churn / workload / fault controls. */
export class World {
  readonly peerCount: number
  readonly nodeCount: number
  /** Index of the first seeder. */
  readonly seederBase: number
  readonly role: Uint8Array
  readonly popOf: Uint16Array
  readonly online: Uint8Array
  readonly gen: Int32Array
  /** 1 once a fault removed the node for good. */
  readonly gone: Uint8Array
  readonly net: NetworkModel
  /** Home routers: who is behind which NAT, who can connect to whom. */
  readonly nat: NatModel
  readonly zipf: ZipfSampler
  readonly observers: SimObserver[] = []
  /** 1 for nodes that are supernodes now: the static role at first, then whatever the tier protocol decides (setSupernode). */
  readonly supernodeFlag: Uint8Array
  /** Online leaves attached to no supernode (kept by the protocol host; 0 for flat protocols). */
  orphanLeaves = 0
  flow: TrafficFlow | null = null
  /** Online non-seeder nodes. */
  onlinePeers = 0
  /** Online nodes with isSupernode true (kept for the static role). */
  onlineSupernodes = 0
  onlineSeeders = 0
  /** Sizes of catalog items by rank-1, bytes. */
  readonly itemSizeBytes: Float64Array

  private readonly endMs: number
  private readonly churnRng: Array<Rng | undefined>
  private readonly workloadRng: Rng
  private readonly faultRng: Rng
  private readonly kUp: number
  private readonly kDown: number
  private readonly kRequest: number
  private readonly kFlash: number
  private readonly kScripted: number
  private readonly kFault: number
  private readonly kSample: number
  private readonly kRestartDown: number
  private readonly flashElapsedMs: Float64Array
  private readonly flashRng: Rng[]
  private readonly sampleMs: number
  private readonly maxRequestRatePerSec: number

  constructor (readonly scenario: Scenario, readonly streams: RngStreams, readonly sim: Simulator) {
    this.peerCount = scenario.populations.reduce((s, p) => s + p.count, 0)
    this.seederBase = this.peerCount
    this.nodeCount = this.peerCount + scenario.seeders.count
    this.endMs = scenario.durationS * 1000
    const n = this.nodeCount
    this.role = new Uint8Array(n)
    this.popOf = new Uint16Array(n)
    this.online = new Uint8Array(n)
    this.gen = new Int32Array(n)
    this.gone = new Uint8Array(n)
    this.churnRng = new Array(n)
    let i = 0
    scenario.populations.forEach((p, pi) => {
      for (let j = 0; j < p.count; j++, i++) { this.popOf[i] = pi; this.role[i] = p.role === 'supernode' ? ROLE_SUPERNODE : ROLE_PEER }
    })
    for (; i < n; i++) this.role[i] = ROLE_SEEDER
    this.supernodeFlag = new Uint8Array(n)
    for (let k = 0; k < this.peerCount; k++) this.supernodeFlag[k] = this.role[k] === ROLE_SUPERNODE ? 1 : 0
    const table = loadAsPlacement(scenario.network.asCsvPath == null ? {} : { csvPath: scenario.network.asCsvPath })
    this.net = new NetworkModel(n, table, { asCount: scenario.network.asCount, latency: scenario.network.latency, accessClasses: scenario.network.accessClasses }, streams.stream('placement'))
    for (let s = this.seederBase; s < n; s++) this.net.setClass(s, 255, scenario.seeders)
    const natRng = streams.stream('nat')
    this.nat = new NatModel(n, scenario.network.nat, node => this.role[node] === ROLE_PEER, () => natRng.float())
    const wl = scenario.workload
    this.zipf = new ZipfSampler(wl.catalogItems, wl.zipfExponent)
    this.itemSizeBytes = new Float64Array(wl.catalogItems)
    const sizeRng = streams.stream('catalog')
    for (let r = 0; r < wl.catalogItems; r++) this.itemSizeBytes[r] = Math.max(1, Math.round(sample(wl.itemSizeBytes, sizeRng)))
    this.workloadRng = streams.stream('workload')
    this.faultRng = streams.stream('faults')
    this.flashElapsedMs = new Float64Array(wl.flashCrowds.length)
    this.flashRng = wl.flashCrowds.map((_, k) => streams.stream('flash', k))
    this.sampleMs = scenario.sampleIntervalS * 1000
    this.maxRequestRatePerSec = wl.requestsPerOnlinePeerPerHour / 3600 * this.peerCount * (1 + scenario.diurnal.amplitude)
    this.kUp = sim.registerKind('node-up', (node, g, now) => { if (this.gen[node] === g) this.bringUp(node, now) })
    this.kDown = sim.registerKind('node-down', (node, g, now) => { if (this.gen[node] === g && this.online[node] === 1) this.takeDown(node, now, 'churn', null) })
    this.kRestartDown = sim.registerKind('restart-down', (node, downMs, now) => { if (this.online[node] === 1) this.takeDown(node, now, 'fault', downMs) })
    this.kRequest = sim.registerKind('request', (_n, _a, now) => this.onRequestArrival(now))
    this.kFlash = sim.registerKind('flash-request', (_n, k, now) => this.onFlashArrival(k, now))
    this.kScripted = sim.registerKind('scripted-request', (_n, k, now) => {
      const r = this.scenario.workload.requests[k]
      if (r.node < this.peerCount && this.online[r.node] === 1) this.request(r.node, r.itemRank, now)
    })
    this.kFault = sim.registerKind('fault', (_n, k, now) => this.applyFault(k, now))
    this.kSample = sim.registerKind('sample', (_n, _a, now) => {
      for (const o of this.observers) o.onSample?.(now)
      if (now + this.sampleMs <= this.endMs) this.sim.schedule(now + this.sampleMs, this.kSample, -1, 0)
    })
  }

  /** True when `node` is a supernode now (static role or promoted by the tier); faults and metrics use this. */
  isSupernode (node: number): boolean { return this.supernodeFlag[node] === 1 }

  /** The tier promoted (true) or demoted (false) `node`; keeps onlineSupernodes exact. */
  setSupernode (node: number, on: boolean): void {
    if (this.role[node] === ROLE_SEEDER || this.isSupernode(node) === on) return
    this.supernodeFlag[node] = on ? 1 : 0
    if (this.online[node] === 1) this.onlineSupernodes += on ? 1 : -1
  }

  /** Online peers that are not supernodes. */
  get onlineLeaves (): number { return this.onlinePeers - this.onlineSupernodes }

  /** Adds an observer (before start()). */
  addObserver (o: SimObserver): void { this.observers.push(o) }

  /** Schedules the initial state, the first arrivals, faults and samples. */
  start (): void {
    const init = this.streams.stream('initial-online')
    for (let node = 0; node < this.nodeCount; node++) {
      let up = true
      if (this.role[node] !== ROLE_SEEDER) {
        const p = this.scenario.populations[this.popOf[node]]
        const frac = p.initialOnline === 'all' ? 1 : p.initialOnline === 'stationary' ? stationary(p.sessionS, p.offS) : p.initialOnline
        up = init.float() < frac
      }
      if (up) this.bringUp(node, 0)
      else this.scheduleReturn(node, 0)
    }
    this.sim.schedule(0, this.kSample, -1, 0)
    if (this.maxRequestRatePerSec > 0) this.scheduleAt(poissonGapMs(this.maxRequestRatePerSec, this.workloadRng), this.kRequest, -1, 0)
    this.scenario.workload.flashCrowds.forEach((f, k) => this.scheduleAt(f.atS * 1000, this.kFlash, -1, k))
    this.scenario.workload.requests.forEach((r, k) => this.scheduleAt(r.atS * 1000, this.kScripted, -1, k))
    this.scenario.faults.forEach((f, k) => this.scheduleAt(f.atS * 1000, this.kFault, -1, k))
  }

  private scheduleAt (atMs: number, kind: number, node: number, arg: number): void {
    if (atMs <= this.endMs) this.sim.schedule(atMs, kind, node, arg)
  }

  private rngOf (node: number): Rng {
    let r = this.churnRng[node]
    if (r == null) { r = this.streams.stream('churn', node); this.churnRng[node] = r }
    return r
  }

  private bringUp (node: number, nowMs: number): void {
    if (this.online[node] === 1 || this.gone[node] === 1) return
    this.online[node] = 1
    const g = ++this.gen[node]
    if (this.role[node] === ROLE_SEEDER) this.onlineSeeders++
    else {
      this.onlinePeers++
      if (this.isSupernode(node)) this.onlineSupernodes++
      const p = this.scenario.populations[this.popOf[node]]
      this.scheduleAt(nowMs + sample(p.sessionS, this.rngOf(node)) * 1000, this.kDown, node, g)
    }
    this.flow?.onNodeUp(node, nowMs)
    for (const o of this.observers) o.onNodeUp?.(node, nowMs)
  }

  /** Takes a node offline; it returns after `downMs`, after a churn off period if null, never if `gone`. */
  private takeDown (node: number, nowMs: number, cause: DownCause, downMs: number | null, gone = false): void {
    if (this.online[node] === 0) {
      if (gone) { this.gone[node] = 1; this.gen[node]++ }
      return
    }
    this.online[node] = 0
    const g = ++this.gen[node]
    if (this.role[node] === ROLE_SEEDER) this.onlineSeeders--
    else {
      this.onlinePeers--
      if (this.isSupernode(node)) this.onlineSupernodes--
    }
    this.flow?.onNodeDown(node, nowMs)
    for (const o of this.observers) o.onNodeDown?.(node, nowMs, cause)
    if (gone) { this.gone[node] = 1; return }
    if (downMs != null) this.scheduleAt(nowMs + downMs, this.kUp, node, g)
    else this.scheduleReturn(node, nowMs)
  }

  private scheduleReturn (node: number, nowMs: number): void {
    if (this.role[node] === ROLE_SEEDER) return
    const p = this.scenario.populations[this.popOf[node]]
    const offMs = sample(p.offS, this.rngOf(node)) * 1000 / diurnalFactor(this.scenario.diurnal, nowMs)
    this.scheduleAt(nowMs + offMs, this.kUp, node, this.gen[node])
  }

  private request (node: number, itemRank: number, nowMs: number): void {
    for (const o of this.observers) o.onRequest?.(node, itemRank, nowMs)
    this.flow?.onRequest(node, itemRank, nowMs)
  }

  private onRequestArrival (nowMs: number): void {
    const rng = this.workloadRng
    const node = rng.int(this.peerCount)
    const keep = rng.float() * (1 + this.scenario.diurnal.amplitude) < diurnalFactor(this.scenario.diurnal, nowMs)
    const item = this.zipf.sample(rng)
    if (keep && this.online[node] === 1) this.request(node, item, nowMs)
    this.scheduleAt(nowMs + poissonGapMs(this.maxRequestRatePerSec, rng), this.kRequest, -1, 0)
  }

  /** Most tries to find an online requester for a flash-crowd arrival. */
  static readonly FLASH_REQUESTER_TRIES = 32

  private onFlashArrival (k: number, nowMs: number): void {
    const f = this.scenario.workload.flashCrowds[k]
    const rng = this.flashRng[k]
    for (let t = 0; t < World.FLASH_REQUESTER_TRIES && this.peerCount > 0; t++) {
      const node = rng.int(this.peerCount)
      if (this.online[node] === 1) { this.request(node, f.itemRank, nowMs); break }
    }
    const next = nextFlashArrivalMs(this.flashElapsedMs[k], f.peakRequestsPerSec, f.decayS, rng)
    if (Number.isFinite(next)) {
      this.flashElapsedMs[k] = next
      this.scheduleAt(f.atS * 1000 + next, this.kFlash, -1, k)
    }
  }

  /** Online nodes matching `pred`, in index order. */
  private onlineWhere (pred: (node: number) => boolean): number[] {
    const out: number[] = []
    for (let node = 0; node < this.nodeCount; node++) if (this.online[node] === 1 && pred(node)) out.push(node)
    return out
  }

  /** Picks round(fraction·n) of `nodes` uniformly (partial Fisher–Yates on the fault stream). */
  private pick (nodes: number[], fraction: number): number[] {
    const k = Math.round(fraction * nodes.length)
    for (let i = 0; i < k; i++) {
      const j = i + this.faultRng.int(nodes.length - i)
      const t = nodes[i]; nodes[i] = nodes[j]; nodes[j] = t
    }
    return nodes.slice(0, k)
  }

  private applyFault (k: number, nowMs: number): void {
    const f: Fault = this.scenario.faults[k]
    let victims: number[] = []
    const down = (nodes: number[], downS: number | null): void => {
      for (const v of nodes) this.takeDown(v, nowMs, 'fault', downS == null ? null : downS * 1000, downS == null)
    }
    switch (f.type) {
      case 'lose-supernodes':
        victims = this.pick(this.onlineWhere((n) => this.role[n] !== ROLE_SEEDER && this.isSupernode(n)), f.fraction)
        down(victims, f.downS)
        break
      case 'lose-nodes':
        victims = this.pick(this.onlineWhere((n) => this.role[n] !== ROLE_SEEDER && (f.role === 'any' || (f.role === 'supernode') === this.isSupernode(n))), f.fraction)
        down(victims, f.downS)
        break
      case 'mass-restart': {
        victims = this.pick(this.onlineWhere((n) => this.role[n] !== ROLE_SEEDER), f.fraction)
        for (const v of victims) {
          const at = nowMs + this.faultRng.float() * f.windowS * 1000
          this.scheduleAt(at, this.kRestartDown, v, Math.round(f.downS * 1000))
        }
        break
      }
      case 'lose-seeder': {
        const s = this.seederBase + f.seeder
        if (s < this.nodeCount && this.online[s] === 1) victims = [s]
        down(victims, f.downS)
        break
      }
      case 'lose-as': {
        const asIndex = f.asn != null ? this.asIndexOfAsn(f.asn) : this.asIndexByRank(f.asRank)
        victims = asIndex < 0 ? [] : this.onlineWhere((n) => this.net.asOf[n] === asIndex)
        down(victims, f.downS)
        // a permanently lost AS also keeps its offline nodes from coming back
        if (f.downS == null && asIndex >= 0) {
          for (let n = 0; n < this.nodeCount; n++) if (this.net.asOf[n] === asIndex) this.takeDown(n, nowMs, 'fault', null, true)
        }
        break
      }
    }
    for (const o of this.observers) o.onFault?.(k, f.type, victims.length, nowMs)
  }

  private asIndexOfAsn (asn: number): number {
    for (let i = 0; i < this.net.ases.members.length; i++) if (this.net.ases.asn(i) === asn) return i
    return -1
  }

  /** The AS holding the rank-th most nodes (ties: lower AS number first). */
  asIndexByRank (rank: number): number {
    const counts = new Map<number, number>()
    for (let n = 0; n < this.nodeCount; n++) counts.set(this.net.asOf[n], (counts.get(this.net.asOf[n]) ?? 0) + 1)
    const order = [...counts.entries()].sort((a, b) => b[1] - a[1] || this.net.ases.asn(a[0]) - this.net.ases.asn(b[0]))
    return rank <= order.length ? order[rank - 1][0] : -1
  }
}

function stationary (sessionS: Law, offS: Law): number {
  return stationaryOnlineFraction({ sessionS, offS })
}
