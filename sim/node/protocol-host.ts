/**
 * The adapter host: runs one NodeAdapter (a set of src/core objects) per
 * online node and turns their effects into engine events: messages,
 * transfers and timers in virtual time. It holds no protocol logic (the
 * libp2p shell's counterpart is the swarm node's streams and timers).
 *
 * Rules:
 * - A node's adapter is built when it comes online and discarded when it
 *   goes offline (a restart is a new process; what it keeps on disk lives
 *   with the adapter factory).
 * - `send` is delivered after NetworkModel.messageDelayMs(from, to, size).
 *   A message whose receiver went offline or restarted meanwhile (its
 *   generation changed) is dropped: the sender's core fails the request at
 *   its own `requestTimeoutMs`, which is what a dead connection costs in the
 *   binding until the connection is seen closed (then, below, the core
 *   fails what still waits on it).
 * - `transfer` is a content upload: latency + bytes / rate, with the rate
 *   fixed at admission by the network model's fair share; it holds an
 *   upload slot at the sender and a download slot at the receiver until it
 *   ends. If the sender went away before the end, nothing arrives and no
 *   byte counts; otherwise the bytes count (seeder or peer, same AS or not)
 *   and the message is delivered.
 * - One timer per node (NodeTimers, beside the event queue): after every
 *   input the host asks the adapter for `nextDeadlineMs()` and moves the
 *   node's timer there, earlier or later, so it fires only when something
 *   is due; going offline disarms it.
 * - Connection liveness is the transport's: a stopping node names the peers
 *   it had connections to (`disconnect`), and each one that is still the
 *   same process gets `onPeerDisconnected` after the given delay, unless
 *   the stopped node came back meanwhile (a new connection then exists).
 */
import type { Rng } from '../engine/rng.js'
import { NodeTimers } from '../engine/node-timers.js'
import type { Simulator } from '../engine/simulator.js'
import { classifyIpv4Locality } from '../../src/core/proximity/locality.js'
import type { Effect, NodeAdapter, NodeAdapterFactory } from './node-adapter.js'
import { ROLE_SEEDER, type TrafficFlow, type World } from './world.js'

/** Hosts the protocol adapters of every online node. */
/** Messages sent per type, counted only when SIM_MESSAGE_COUNTS=1 (profiling aid for the benchmark; off by default). */
export const MESSAGE_COUNTS: Map<string, number> | null = process.env.SIM_MESSAGE_COUNTS === '1' ? new Map() : null

export class ProtocolHost<M> implements TrafficFlow {
  private readonly adapters: Array<NodeAdapter<M> | undefined>
  private readonly timers: NodeTimers
  private readonly attachCount: Uint8Array
  private readonly jitter: Rng
  private readonly kMsg: number
  private readonly kTransfer: number
  private readonly kGone: number
  // in-flight messages and transfers: parallel arrays indexed by slot, with a free list
  private sFrom = new Int32Array(1024)
  private sTo = new Int32Array(1024)
  private sFromGen = new Int32Array(1024)
  private sToGen = new Int32Array(1024)
  private sBytes = new Float64Array(1024)
  private sMsg: Array<M | undefined> = new Array(1024)
  private readonly freeSlots: number[] = []
  private usedSlots = 0
  /** Content transfers in progress. */
  transfersInFlight = 0
  /** Messages delivered (for perf reporting). */
  messagesDelivered = 0
  /** Messages dropped because the receiver was gone. */
  messagesDropped = 0

  /**
   * `tiered`: the protocol has leaves that attach to supernodes (orphan
   * leaves are counted); false for flat Kademlia.
   */
  constructor (private readonly world: World, private readonly sim: Simulator, private readonly factory: NodeAdapterFactory<M>, private readonly tiered: boolean) {
    const n = world.nodeCount
    this.adapters = new Array(n)
    this.timers = new NodeTimers(n)
    this.attachCount = new Uint8Array(n)
    this.jitter = world.streams.stream('jitter')
    this.kMsg = sim.registerKind('message', (node, slot, now) => this.onDeliver(node, slot, now))
    sim.attachTimers(this.timers, (node, now) => this.onTimerFired(node, now))
    this.kTransfer = sim.registerKind('transfer-done', (node, slot, now) => this.onTransferEnd(node, slot, now))
    this.kGone = sim.registerKind('peer-gone', (node, slot, now) => this.onPeerGone(node, slot, now))
  }

  /** The adapter of an online node (for observers and tests). */
  adapterOf (node: number): NodeAdapter<M> | undefined { return this.adapters[node] }

  onNodeUp (node: number, nowMs: number): void {
    // The world marked it online already; it was not counted while offline.
    this.attachCount[node] = 0
    if (this.countsAsOrphan(node)) this.world.orphanLeaves++
    const a = this.factory(node, nowMs)
    this.adapters[node] = a
    this.timers.clear(node)
    this.exec(node, nowMs, a.start(nowMs))
  }

  onNodeDown (node: number, nowMs: number): void {
    // The world marked it offline already; drop it from the orphan count if it was in it.
    if (this.countsAsOrphan(node)) this.world.orphanLeaves--
    this.attachCount[node] = 1
    const a = this.adapters[node]
    if (a == null) return
    this.adapters[node] = undefined
    this.timers.clear(node)
    this.exec(node, nowMs, a.stop(nowMs))
  }

  onRequest (node: number, itemRank: number, nowMs: number): void {
    const a = this.adapters[node]
    if (a?.onRequest == null) return
    this.exec(node, nowMs, a.onRequest(nowMs, itemRank, this.world.itemSizeBytes[itemRank - 1]))
  }

  // ---- effects -------------------------------------------------------------

  private exec (node: number, nowMs: number, effects: Array<Effect<M>>): void {
    const w = this.world
    for (const e of effects) {
      switch (e.type) {
        case 'send': {
          if (MESSAGE_COUNTS != null) { const t = (e.message as { type?: string }).type ?? '?'; MESSAGE_COUNTS.set(t, (MESSAGE_COUNTS.get(t) ?? 0) + 1) }
          const slot = this.alloc(node, e.to, e.message, e.sizeBytes)
          this.sim.schedule(nowMs + w.net.messageDelayMs(node, e.to, e.sizeBytes, this.jitter), this.kMsg, e.to, slot)
          break
        }
        case 'transfer': {
          const slot = this.alloc(node, e.to, e.message, e.bytes)
          const rate = w.net.admissionRateBps(node, e.to)
          w.net.activeUploads[node]++; w.net.activeDownloads[e.to]++
          this.transfersInFlight++
          this.sim.schedule(nowMs + w.net.latencyMs(node, e.to, this.jitter) + e.bytes * 1000 / rate, this.kTransfer, e.to, slot)
          break
        }
        case 'observe':
          for (const o of w.observers) o.onObserve?.(node, e.name, e.value, nowMs)
          break
        case 'download':
          for (const o of w.observers) o.onDownload?.(node, e.itemRank, e.startMs, nowMs, e.bytes, e.completed)
          break
        case 'role':
          this.withOrphanAccounting(node, () => w.setSupernode(node, e.supernode))
          break
        case 'attachments':
          this.withOrphanAccounting(node, () => { this.attachCount[node] = Math.min(255, e.count) })
          break
        case 'disconnect':
          for (const to of e.peers) {
            if (w.online[to] !== 1) continue
            this.sim.schedule(nowMs + e.afterMs, this.kGone, to, this.alloc(node, to, undefined as M, 0))
          }
          break
      }
    }
    if (this.adapters[node] != null) this.arm(node, nowMs, this.inTimer ? nowMs + 1 : nowMs)
  }

  /** Keeps world.orphanLeaves (online leaves with no supernode) exact across a change to `node`. */
  private withOrphanAccounting (node: number, change: () => void): void {
    const w = this.world
    const before = this.isOrphan(node)
    change()
    const after = this.isOrphan(node)
    if (before !== after) w.orphanLeaves += after ? 1 : -1
  }

  private isOrphan (node: number): boolean {
    return this.world.online[node] === 1 && this.countsAsOrphan(node)
  }

  /** A leaf (not a seeder, not a supernode) of a tiered protocol with no attachment. */
  private countsAsOrphan (node: number): boolean {
    const w = this.world
    return this.tiered && w.role[node] !== ROLE_SEEDER && !w.isSupernode(node) && this.attachCount[node] === 0
  }

  /** Moves the node's timer to its next deadline, but not before `notBeforeMs`. */
  private arm (node: number, nowMs: number, notBeforeMs: number): void {
    const a = this.adapters[node]
    if (a == null) return
    const d = a.nextDeadlineMs()
    const at = d === undefined ? Infinity : Math.max(nowMs, notBeforeMs, d)
    this.timers.set(node, at <= this.world.scenario.durationS * 1000 ? at : Infinity)
  }

  private onTimerFired (node: number, nowMs: number): void {
    const a = this.adapters[node]
    if (a == null) return
    this.execTimer(node, nowMs, a.onTimer(nowMs))
  }

  /**
   * After a timer fire, a deadline still at or before now would fire again
   * in the same instant forever (a machine that cannot make progress yet,
   * e.g. busy): it is re-armed at least 1 ms later, as a real timer would.
   */
  private execTimer (node: number, nowMs: number, effects: Array<Effect<M>>): void {
    this.inTimer = true
    try { this.exec(node, nowMs, effects) } finally { this.inTimer = false }
  }

  private inTimer = false

  private onDeliver (to: number, slot: number, nowMs: number): void {
    const from = this.sFrom[slot]
    const msg = this.sMsg[slot] as M
    const ok = this.world.gen[to] === this.sToGen[slot]
    this.release(slot)
    const a = this.adapters[to]
    if (!ok || a == null) { this.messagesDropped++; return }
    this.messagesDelivered++
    this.exec(to, nowMs, a.onMessage(nowMs, from, msg))
  }

  private onPeerGone (to: number, slot: number, nowMs: number): void {
    const from = this.sFrom[slot]
    const ok = this.world.gen[to] === this.sToGen[slot] && this.world.gen[from] === this.sFromGen[slot]
    this.release(slot)
    const a = this.adapters[to]
    if (!ok || a?.onPeerDisconnected == null) return
    this.exec(to, nowMs, a.onPeerDisconnected(nowMs, from))
  }

  private onTransferEnd (to: number, slot: number, nowMs: number): void {
    const w = this.world
    const from = this.sFrom[slot]
    const msg = this.sMsg[slot] as M
    const bytes = this.sBytes[slot]
    const senderOk = w.gen[from] === this.sFromGen[slot]
    const receiverOk = w.gen[to] === this.sToGen[slot]
    this.release(slot)
    w.net.activeUploads[from]--; w.net.activeDownloads[to]--
    this.transfersInFlight--
    const sender = senderOk ? this.adapters[from] : undefined
    if (sender?.onTransferSent != null) this.exec(from, nowMs, sender.onTransferSent(nowMs, to, msg))
    if (!senderOk || !receiverOk) return
    const fromSeeder = w.role[from] === ROLE_SEEDER
    // The client's transit accounting rule, so "same AS" means the same in both shells.
    const locality = classifyIpv4Locality(w.net.asnOf(from), w.net.ipOf[from], w.net.asnOf(to), w.net.ipOf[to])
    const sameAs = locality === 'same-as'
    for (const o of w.observers) o.onBytes?.(from, to, bytes, fromSeeder, sameAs, nowMs, locality)
    const a = this.adapters[to]
    if (a == null) return
    this.exec(to, nowMs, a.onMessage(nowMs, from, msg))
  }

  private alloc (from: number, to: number, msg: M, bytes: number): number {
    let s = this.freeSlots.pop()
    if (s === undefined) {
      if (this.usedSlots === this.sFrom.length) this.grow()
      s = this.usedSlots++
    }
    const w = this.world
    this.sFrom[s] = from; this.sTo[s] = to; this.sFromGen[s] = w.gen[from]; this.sToGen[s] = w.gen[to]
    this.sBytes[s] = bytes; this.sMsg[s] = msg
    return s
  }

  private release (slot: number): void {
    this.sMsg[slot] = undefined
    this.freeSlots.push(slot)
  }

  private grow (): void {
    const g = <T extends Int32Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(a.length * 2); b.set(a); return b }
    this.sFrom = g(this.sFrom); this.sTo = g(this.sTo); this.sFromGen = g(this.sFromGen); this.sToGen = g(this.sToGen); this.sBytes = g(this.sBytes)
    this.sMsg.length = this.sFrom.length
  }
}
