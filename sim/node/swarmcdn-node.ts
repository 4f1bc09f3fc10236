/**
 * The swarmcdn peer in the simulator: the shell of one OverlayPeer
 * (src/core/peer) per online node, the same object the libp2p shell
 * (src/net/overlay-service.ts) drives, plus its piece exchange
 * (piece-exchange.ts: the core's UploadPolicy, SourceChooser and
 * DownloadSession). The decisions are the core's; this file turns the
 * peer's effects into simulated messages and metrics and answers the
 * peer's host questions from the model. What the model abstracts (sim/README.md, "What the simulator
 * abstracts"): frames carry the sender's current role; connections close
 * `disconnectDetectS` after a node goes offline; pieces are fair-share
 * transfers with no bytes that always verify; a download's first requests
 * wait for every handshake (coarse pieces); every seeder is an origin
 * source of every download (as if the manifest named them).
 */
import type { Key } from '../../src/core/ids.js'
import type { Contact } from '../../src/core/dht/contact.js'
import { DEFAULT_PEER_UPLOAD_SLOTS } from '../../src/core/swarm/upload-policy.js'
import type { OverlayRole } from '../../src/core/tier/supernode-policy.js'
import type { PeerPlace } from '../../src/core/proximity/peer-ranking.js'
import { OverlayPeer, type OverlayEffect, type OverlayPeerHost, type PolicyMeasurements } from '../../src/core/peer/overlay-peer.js'
import type { OverlayRoleSetting } from '../../src/core/peer/overlay-options.js'
import type { Effect, NodeAdapter, NodeAdapterFactory, NodeInspection, ProtocolFactory } from './node-adapter.js'
import type { SimObserver } from './observer.js'
import type { SimDirectory } from './sim-directory.js'
import { isPieceMessage, simMessageBytes, type SimMessage } from './sim-messages.js'
import { PieceExchange, type PieceExchangeHost } from './piece-exchange.js'
import { ROLE_SEEDER, ROLE_SUPERNODE, type World } from './world.js'
import { swarmcdnParams } from './swarmcdn-params.js'
import { SwarmcdnShared } from './swarmcdn-shared.js'

export { swarmcdnParams, type SwarmcdnParams } from './swarmcdn-params.js'

/** Upload slots of a node in all (regular + optimistic), for the spare-upload measurement. */
const UPLOAD_SLOTS_IN_ALL = DEFAULT_PEER_UPLOAD_SLOTS + 1


/** The swarmcdn adapter as the runner sees it (leafCount for the load samples). */
export interface SwarmcdnAdapter extends NodeAdapter<SimMessage> {
  /** Leaves attached, when a supernode; undefined otherwise. */
  leafCount: () => number | undefined
}

/**
 * One online node: the shell of its OverlayPeer (src/core/peer), plus the
 * piece exchange it models. A class, not closures over create's scope: at
 * 10^6 peers ~41 closures per node (and their contexts) cost ~0.7 GiB.
 * Every field is set in the constructor, in one order, so all nodes share
 * one hidden class; the maps that usually stay empty are created on first
 * use. It is the peer's host: places from the directory, held items from
 * the node's disk, policy inputs from the model (access class, upload in
 * use, the AS's online supernodes and leaves).
 */
class SwarmcdnNode implements SwarmcdnAdapter, OverlayPeerHost, PieceExchangeHost {
  readonly s: SwarmcdnShared
  readonly node: number
  readonly peer: OverlayPeer
  readonly asIdx: number
  readonly isSeeder: boolean
  private readonly startMs: number
  readonly random: () => number
  /** Downloads and uploads, created on the first request or requester (most of the time a node has neither). */
  private pieces: PieceExchange | undefined
  private announced: Set<number> | undefined
  /** Lookups in flight that could succeed when they started (lookup.* metrics count only these). */
  private answerable: Set<number> | undefined
  private stopped: boolean

  constructor (s: SwarmcdnShared, node: number, startMs: number) {
    const { p, world } = s
    this.s = s
    this.node = node
    const rng = s.rngOf(node)
    this.random = rng.float.bind(rng)
    this.asIdx = world.net.asOf[node]
    this.isSeeder = world.role[node] === ROLE_SEEDER
    this.startMs = startMs
    const role: OverlayRoleSetting = this.isSeeder ? 'seeder' : (world.role[node] === ROLE_SUPERNODE || !p.supernodes) ? 'supernode' : 'auto'
    this.peer = new OverlayPeer(s.dir.contact(node), this, this.random, s.bootstrap, role === s.overlay.role ? s.overlay : { ...s.overlay, role })
    this.pieces = undefined
    this.announced = undefined
    this.answerable = undefined
    this.stopped = false
  }

  // ---- OverlayPeerHost ----------------------------------------------------

  placeOf (c: Contact): PeerPlace { return this.s.dir.place(this.s.dir.nodeOf(c)) }
  selfPlace (): PeerPlace { return this.s.dir.place(this.node) }
  heldKeys (): Iterable<Key> { return (this.s.held[this.node] ?? []).map(item => this.s.keyOf(item)) }
  policyInputs (): PolicyMeasurements {
    const { world } = this.s
    return {
      reachable: !this.s.unreachable.has(world.net.classOf[this.node]) && world.nat.reachable(this.node),
      spareUploadBytesPerSec: world.net.upBps[this.node] * Math.max(0, 1 - (this.pieces?.uploadsActive ?? 0) / UPLOAD_SLOTS_IN_ALL),
      regionSupernodes: this.s.regionSupernodes[this.asIdx],
      regionLeaves: Math.max(1, this.s.regionLeaves[this.asIdx])
    }
  }

  // ---- the peer's effects -------------------------------------------------

  perform (nowMs: number, effects: OverlayEffect[], out: Array<Effect<SimMessage>>): void {
    const s = this.s
    for (const e of effects) {
      switch (e.type) {
        case 'send': out.push({ type: 'send', to: s.dir.nodeOf(e.to), message: e.message, sizeBytes: simMessageBytes(e.message) }); break
        case 'penalize': out.push({ type: 'observe', name: 'dht.penalized', value: 1 }); break
        case 'role-changed':
          this.answerable?.clear()
          if (e.role === 'seeder') break
          if (e.previous !== undefined) this.countRegion(e.previous, -1)
          this.countRegion(e.role, +1)
          out.push({ type: 'role', supernode: e.role === 'supernode' })
          if (e.role === 'leaf') out.push({ type: 'attachments', count: 0 })
          break
        case 'attached':
        case 'detached': out.push({ type: 'attachments', count: this.peer.attachedCount }); break
        case 'providers-found': {
          const item = s.itemOf(e.key)
          if (item !== undefined && !this.stopped) this.pieces?.providersFound(nowMs, item, e.findId, e.providers, out)
          break
        }
        case 'lookup-started': {
          // Only a lookup that could find someone when it started counts for success (another's record may arrive while it runs).
          const item = s.itemOf(e.key)
          if (item === undefined || s.announcers[item] <= (this.announced?.has(item) === true ? 1 : 0)) break
          this.answerable ??= new Set()
          this.answerable.add(e.lookupId)
          break
        }
        case 'lookup-measured': {
          if (this.answerable?.delete(e.lookupId) !== true) break
          out.push({ type: 'observe', name: 'lookup.success', value: e.foundOthers ? 1 : 0 })
          out.push({ type: 'observe', name: 'lookup.hops', value: e.hops })
          out.push({ type: 'observe', name: 'lookup.latencyMs', value: e.latencyMs })
          break
        }
        case 'announced': {
          const item = s.itemOf(e.key)
          if (item === undefined) break
          this.announced ??= new Set()
          if (!this.announced.has(item)) { this.announced.add(item); s.announcers[item]++ }
          break
        }
        case 'withdrawn': {
          const item = s.itemOf(e.key)
          if (item !== undefined && this.announced?.delete(item) === true) s.announcers[item]--
          break
        }
      }
    }
  }

  private countRegion (role: OverlayRole, sign: number): void {
    if (role === 'supernode') this.s.regionSupernodes[this.asIdx] += sign
    else if (role === 'leaf') this.s.regionLeaves[this.asIdx] += sign
  }

  private holds (item: number): boolean { return this.s.held[this.node]?.includes(item) === true }

  private exchange (): PieceExchange {
    this.pieces ??= new PieceExchange(this)
    return this.pieces
  }

  // ---- the adapter --------------------------------------------------------

  start (nowMs: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.s.adapters[this.node] = this
    const joinAtMs = this.startMs === 0 ? this.random() * this.s.p.joinSpreadS * 1000 : nowMs
    this.perform(nowMs, this.peer.start(nowMs, joinAtMs), out)
    return out
  }

  stop (nowMs: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.stopped = true
    this.s.adapters[this.node] = undefined
    this.countRegion(this.peer.role, -1)
    if (this.announced != null) { for (const item of this.announced) this.s.announcers[item]--; this.announced.clear() }
    // The connections this process held (its supernodes, or its leaves and DHT contacts) close with it.
    const peers = this.peer.connectedPeerIds().map(Number)
    for (const n of this.pieces?.streamPeers() ?? []) peers.push(n)
    this.peer.stop()
    if (peers.length > 0) out.push({ type: 'disconnect', peers, afterMs: this.s.p.disconnectDetectS * 1000 })
    this.pieces?.abortAll(out)
    return out
  }

  onMessage (nowMs: number, from: number, m: SimMessage): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (isPieceMessage(m)) { this.exchange().message(nowMs, from, m, out); return out }
    this.perform(nowMs, this.peer.message(nowMs, this.s.dir.contact(from), this.s.roleOf(from), m), out)
    return out
  }

  onTimer (nowMs: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.perform(nowMs, this.peer.timer(nowMs), out)
    this.pieces?.timer(nowMs, out)
    return out
  }

  nextDeadlineMs (): number | undefined {
    // Called after every input: no closures, no allocation.
    let m = this.peer.nextDeadlineMs() ?? Infinity
    if (this.pieces != null) m = Math.min(m, this.pieces.nextDeadlineMs())
    return m === Infinity ? undefined : m
  }

  onRequest (nowMs: number, itemRank: number, sizeBytes: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (this.holds(itemRank)) out.push({ type: 'observe', name: 'request.local', value: 1 })
    else if (!this.exchange().request(nowMs, itemRank, sizeBytes, out)) out.push({ type: 'observe', name: 'request.ongoing', value: 1 })
    return out
  }

  onPeerDisconnected (nowMs: number, peer: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.perform(nowMs, this.peer.peerDisconnected(nowMs, this.s.dir.contact(peer)), out)
    this.pieces?.peerGone(nowMs, peer, out)
    return out
  }

  onTransferSent (nowMs: number, to: number, m: SimMessage): Array<Effect<SimMessage>> {
    this.pieces?.transferSent(nowMs, to, m)
    return []
  }

  leafCount (): number | undefined { return this.peer.leafCount }

  /** Chokes this node's upload policy decided (inspection). */
  get uploadChokes (): number { return this.pieces?.uploadChokes ?? 0 }

  /** Times an item went busy at this node's upload policy (inspection). */
  get uploadBusyTimes (): number { return this.pieces?.uploadBusyTimes ?? 0 }
  get alternativesNamed (): number { return this.pieces?.alternativesNamed ?? 0 }
}

/** Factory of swarmcdn node adapters for one world. */
export function swarmcdnFactory (world: World, dir: SimDirectory, params: Record<string, unknown>): ProtocolFactory {
  const shared = new SwarmcdnShared(world, dir, swarmcdnParams(params))
  const adapters = shared.adapters
  const create: NodeAdapterFactory<SimMessage> = (node, startMs) => new SwarmcdnNode(shared, node, startMs)

  const observer = (): SimObserver => ({
    onSample: (nowMs) => {
      for (let node = 0; node < world.peerCount; node++) {
        const a = adapters[node]
        if (a == null || !world.isSupernode(node)) continue
        const load = a.leafCount()
        if (load !== undefined) for (const o of world.observers) o.onObserve?.(node, 'tier.supernodeLoad', load, nowMs)
      }
    }
  })
  const inspect = (node: number): NodeInspection | undefined => {
    const a = adapters[node]
    return a == null ? undefined : {
      role: a.peer.role,
      attachedTo: a.peer.attached().map(c => Number(c.peerId)),
      uploadChokes: a.uploadChokes,
      uploadBusyTimes: a.uploadBusyTimes,
      alternativesNamed: a.alternativesNamed,
      leafCount: a.peer.leafCount,
      providerRecords: a.peer.providerRecords,
      routingTableSize: a.peer.routingTableSize
    }
  }
  return { create, observer, inspect }
}
