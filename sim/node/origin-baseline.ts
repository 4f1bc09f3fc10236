/**
 * ORIGIN-ONLY BASELINE — not the swarmcdn protocol. Every request is served
 * whole by an origin seeder; peers never serve each other. It exists so the
 * engine and models can be exercised end to end before the core protocol
 * is wired, and as the reference point a protocol run is compared against
 * (its origin offload is 0 by construction).
 *
 * Rules: the seeder for item r is seeder (r mod count), or the next online
 * one; with none online the request fails. A transfer takes one-way
 * latency + size / rate, with the rate fixed at admission by the network
 * model's fair share. A transfer whose sender or receiver went offline
 * before its end is aborted; it releases its fair-share slot at its
 * scheduled end (lazy) and its bytes are not counted.
 */
import type { Rng } from '../engine/rng.js'
import type { Simulator } from '../engine/simulator.js'
import { classifyIpv4Locality } from '../../src/core/proximity/locality.js'
import type { TransferRecord } from './observer.js'
import { type TrafficFlow, type World } from './world.js'

/** The origin-only baseline flow. */
export class OriginBaselineFlow implements TrafficFlow {
  private readonly kDone: number
  private readonly jitter: Rng
  private tFrom = new Int32Array(1024)
  private tTo = new Int32Array(1024)
  private tFromGen = new Int32Array(1024)
  private tToGen = new Int32Array(1024)
  private tBytes = new Float64Array(1024)
  private tStartMs = new Float64Array(1024)
  private readonly free: number[] = []
  private used = 0
  /** Transfers in flight (including aborted ones not yet released). */
  active = 0

  constructor (private readonly world: World, sim: Simulator) {
    this.jitter = world.streams.stream('jitter')
    this.kDone = sim.registerKind('baseline-transfer-done', (_n, slot, now) => this.onDone(slot, now))
  }

  onNodeUp (): void {}
  onNodeDown (): void {}

  onRequest (node: number, itemRank: number, nowMs: number): void {
    const w = this.world
    const count = w.nodeCount - w.seederBase
    let seeder = -1
    for (let k = 0; k < count; k++) {
      const s = w.seederBase + (itemRank + k) % count
      if (w.online[s] === 1) { seeder = s; break }
    }
    if (seeder < 0) {
      for (const o of w.observers) o.onRequestFailed?.(node, itemRank, nowMs)
      return
    }
    const bytes = w.itemSizeBytes[itemRank - 1]
    const rate = w.net.admissionRateBps(seeder, node)
    const durationMs = w.net.latencyMs(seeder, node, this.jitter) + bytes * 1000 / rate
    const slot = this.alloc()
    this.tFrom[slot] = seeder; this.tTo[slot] = node
    this.tFromGen[slot] = w.gen[seeder]; this.tToGen[slot] = w.gen[node]
    this.tBytes[slot] = bytes; this.tStartMs[slot] = nowMs
    w.net.activeUploads[seeder]++; w.net.activeDownloads[node]++
    this.active++
    w.sim.schedule(nowMs + durationMs, this.kDone, node, slot)
  }

  private onDone (slot: number, nowMs: number): void {
    const w = this.world
    const from = this.tFrom[slot]; const to = this.tTo[slot]
    w.net.activeUploads[from]--; w.net.activeDownloads[to]--
    this.active--
    const locality = classifyIpv4Locality(w.net.asnOf(from), w.net.ipOf[from], w.net.asnOf(to), w.net.ipOf[to])
    const rec: TransferRecord = {
      from, to, bytes: this.tBytes[slot], startMs: this.tStartMs[slot], endMs: nowMs,
      fromSeeder: true, sameAs: locality === 'same-as', locality
    }
    const ok = w.gen[from] === this.tFromGen[slot] && w.gen[to] === this.tToGen[slot]
    this.free.push(slot)
    for (const o of w.observers) {
      if (ok) o.onTransferDone?.(rec); else o.onTransferAborted?.(rec)
    }
  }

  private alloc (): number {
    const s = this.free.pop()
    if (s !== undefined) return s
    if (this.used === this.tFrom.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(a.length * 2); b.set(a); return b }
      this.tFrom = grow(this.tFrom); this.tTo = grow(this.tTo); this.tFromGen = grow(this.tFromGen)
      this.tToGen = grow(this.tToGen); this.tBytes = grow(this.tBytes); this.tStartMs = grow(this.tStartMs)
    }
    return this.used++
  }
}
