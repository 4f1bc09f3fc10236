/**
 * The swarmcdn peer in the simulator: the shell of one OverlayPeer
 * (src/core/peer) per online node, the same object the libp2p shell
 * (src/net/overlay-service.ts) drives, plus the modelled piece exchange
 * over the core's UploadPolicy, SourceChooser and DownloadSession. The
 * decisions are the core's; this file turns effects into simulated
 * messages and metrics and answers the peer's host questions from the
 * model. What the model abstracts (sim/README.md, "What the simulator
 * abstracts"): frames carry the sender's current role; connections close
 * `disconnectDetectS` after a node goes offline; pieces are fair-share
 * transfers with no bytes that always verify; a download's first requests
 * wait for every handshake (coarse pieces); every seeder is an origin
 * source of every download (as if the manifest named them); a busy
 * origin's chokes name no alternatives.
 */
import type { Key } from '../../src/core/ids.js'
import type { Contact } from '../../src/core/dht/contact.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'
import { DownloadSession } from '../../src/core/swarm/download-session.js'
import { SourceChooser, type ChosenSource } from '../../src/core/swarm/source-admission.js'
import { DEFAULT_PEER_UPLOAD_SLOTS, UploadPolicy, type ChokeChange } from '../../src/core/swarm/upload-policy.js'
import type { OverlayRole } from '../../src/core/tier/supernode-policy.js'
import type { PeerPlace } from '../../src/core/proximity/peer-ranking.js'
import { OverlayPeer, type OverlayEffect, type OverlayPeerHost, type PolicyMeasurements } from '../../src/core/peer/overlay-peer.js'
import type { OverlayRoleSetting } from '../../src/core/peer/overlay-options.js'
import type { NodeInspection, ProtocolFactory } from './kademlia-node.js'
import type { Effect, NodeAdapter, NodeAdapterFactory } from './node-adapter.js'
import type { SimObserver } from './observer.js'
import type { ProtocolHost } from './protocol-host.js'
import type { SimDirectory } from './sim-directory.js'
import { isPieceMessage, simMessageBytes, type SimMessage, type XferSimMessage } from './sim-messages.js'
import { ROLE_SEEDER, ROLE_SUPERNODE, type World } from './world.js'
import { swarmcdnParams } from './swarmcdn-params.js'
import { SwarmcdnShared } from './swarmcdn-shared.js'

export { swarmcdnParams, type SwarmcdnParams } from './swarmcdn-params.js'

interface Download {
  itemRank: number
  startMs: number
  session?: DownloadSession
  pieceBytes: number
  sizeBytes: number
  /** The overlay find in flight for this download's sources. */
  findId: number
  /** Nodes this download opened a stream to (they hold an upload slot or a place in line for it until `leave`). */
  sources?: number[]
  /** Sources whose handshake has not arrived yet, with what the chooser said of them; forgotten at handshakeDeadlineMs. */
  opening?: Map<number, ChosenSource>
  handshakeDeadlineMs?: number
  /** When a declined piece may be asked again, with nothing else in flight. */
  retryAtMs?: number
  /** The download's source choice, kept across finds. */
  chooser?: SourceChooser
  /** When the next find for more sources starts (undefined while one runs). */
  refindAtMs?: number
}

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
class SwarmcdnNode implements SwarmcdnAdapter, OverlayPeerHost {
  private readonly s: SwarmcdnShared
  private readonly node: number
  readonly peer: OverlayPeer
  private readonly asIdx: number
  private readonly isSeeder: boolean
  private readonly startMs: number
  private readonly random: () => number
  private downloads: Map<number, Download> | undefined
  private announced: Set<number> | undefined
  /** Lookups in flight that could succeed when they started (lookup.* metrics count only these). */
  private answerable: Set<number> | undefined
  /** Transfers this node is sending now (for the policy's spare-upload input). */
  private uploadsActive: number
  /** The node's upload policy: the core's, as `swarmcdn seed` (seeders) or `swarmcdn peer` (everyone else) runs it. */
  private uploads: UploadPolicy | undefined
  /** When the upload policy's timer is due (rechoke, optimistic rotation, idle slots, penalties). */
  private uploadsDueMs: number | undefined
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
    this.downloads = undefined
    this.announced = undefined
    this.answerable = undefined
    this.uploadsActive = 0
    this.uploads = undefined
    this.uploadsDueMs = undefined
    this.stopped = false
  }

  // ---- OverlayPeerHost ----------------------------------------------------

  placeOf (c: Contact): PeerPlace { return this.s.dir.place(this.s.dir.nodeOf(c)) }
  selfPlace (): PeerPlace { return this.s.dir.place(this.node) }
  heldKeys (): Iterable<Key> { return (this.s.held[this.node] ?? []).map(item => this.s.keyOf(item)) }
  policyInputs (): PolicyMeasurements {
    const { world } = this.s
    return {
      reachable: !this.s.unreachable.has(world.net.classOf[this.node]),
      spareUploadBytesPerSec: world.net.upBps[this.node] * Math.max(0, 1 - this.uploadsActive / UPLOAD_SLOTS_IN_ALL),
      regionSupernodes: this.s.regionSupernodes[this.asIdx],
      regionLeaves: Math.max(1, this.s.regionLeaves[this.asIdx])
    }
  }

  // ---- the peer's effects -------------------------------------------------

  private perform (nowMs: number, effects: OverlayEffect[], out: Array<Effect<SimMessage>>): void {
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
          const d = item === undefined ? undefined : this.downloads?.get(item)
          if (d == null || d.findId !== e.findId || this.stopped) break
          const added = d.session == null ? this.startPieces(nowMs, d, e.providers, out) : this.addSources(nowMs, d, e.providers, out)
          const after = d.chooser?.refindAfter(added)
          d.refindAtMs = after === undefined ? undefined : nowMs + after
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

  // ---- content ------------------------------------------------------------

  private holds (item: number): boolean { return this.s.held[this.node]?.includes(item) === true }

  /** Starts the pieces phase with the first find's answer; returns the peer sources added. */
  private startPieces (nowMs: number, d: Download, providers: Contact[], out: Array<Effect<SimMessage>>): number {
    const { p, seeders } = this.s
    const pieces = this.piecesOf(d.itemRank)
    d.session = new DownloadSession(pieces, { maxRequestsPerSource: p.maxRequestsPerSource, maxRequestsTotal: p.maxRequestsPerSource * (p.maxSourcesPerDownload + seeders.length), requestTimeoutMs: this.s.pieceTimeoutMs, maxRequestsPerPiece: p.maxRequestsPerPiece, random: this.random, stripeKey: String(this.node) })
    // The peer's choice, as `swarmcdn get` makes it: near peers first, at most maxFarPeers far ones; every seeder as origin (the manifest names them).
    d.chooser = new SourceChooser({ self: String(this.node), maxPeers: p.maxSourcesPerDownload, maxFarPeers: p.maxFarPeers, knowsOwnAs: p.proximity, proximity: p.proximity, refindIntervalMs: p.refindIntervalS * 1000 })
    d.opening = new Map()
    d.sources = []
    const added = this.addSources(nowMs, d, providers, out, seeders)
    // Held as it arrives: announced now, its verified pieces served to others while it downloads.
    this.perform(nowMs, this.peer.hold(nowMs, this.s.keyOf(d.itemRank)), out)
    return added
  }

  /** Opens streams to the sources the chooser takes from `providers` (and `origins`); returns the peer sources added. */
  private addSources (nowMs: number, d: Download, providers: Contact[], out: Array<Effect<SimMessage>>, origins: readonly number[] = []): number {
    let peers = 0
    const asOf = this.s.world.net.asOf
    const candidates = providers.map(c => ({ peerId: c.peerId, origin: c.origin === true, near: asOf[Number(c.peerId)] === this.asIdx }))
    for (const s of origins) candidates.push({ peerId: String(s), origin: true, near: asOf[s] === this.asIdx })
    for (const c of (d.chooser as SourceChooser).choose(candidates)) {
      const to = Number(c.peerId)
      d.opening?.set(to, c)
      d.sources?.push(to)
      if (!c.isOrigin) peers++
      out.push({ type: 'send', to, message: { type: 'hello', itemRank: d.itemRank }, sizeBytes: 24 })
    }
    if ((d.opening?.size ?? 0) > 0) d.handshakeDeadlineMs ??= nowMs + this.s.p.requestTimeoutMs
    return peers
  }

  private pump (nowMs: number, d: Download, out: Array<Effect<SimMessage>>): void {
    const s = d.session as DownloadSession
    d.retryAtMs = undefined
    if (s.isComplete) { this.finish(nowMs, d, out); return }
    for (const e of s.nextRequests(nowMs)) {
      if (e.type !== 'request') continue // cancels: the uploader finishes what it started (no cancel message in the model)
      out.push({ type: 'send', to: Number(e.sourceId), message: { type: 'piece-request', itemRank: d.itemRank, index: e.index }, sizeBytes: 24 })
    }
    const st = s.stats()
    if (st.requestsInFlight > 0 || st.chokedSources > 0 || (d.opening?.size ?? 0) > 0) return // an answer, an unchoke, a handshake or a closed connection pumps again
    d.retryAtMs = s.nextWakeMs(nowMs)
    if (d.retryAtMs !== undefined) return
    // Nobody can serve what is missing (every origin down or gone): give up, and stop announcing it.
    this.endDownload(d, out)
    if (!this.holds(d.itemRank)) this.perform(nowMs, this.peer.drop(nowMs, this.s.keyOf(d.itemRank)), out)
    out.push({ type: 'observe', name: 'bytes.aborted', value: s.verified.count * d.pieceBytes })
    out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
  }

  /** The download is over: its xfer streams close (every source frees the slot or the place in line it gave us). */
  private endDownload (d: Download, out: Array<Effect<SimMessage>>): void {
    this.downloads?.delete(d.itemRank)
    for (const to of d.sources ?? []) out.push({ type: 'send', to, message: { type: 'leave', itemRank: d.itemRank }, sizeBytes: 24 })
  }

  private finish (nowMs: number, d: Download, out: Array<Effect<SimMessage>>): void {
    const held = this.s.held
    this.endDownload(d, out)
    const h = held[this.node] ?? []
    if (!h.includes(d.itemRank)) h.push(d.itemRank)
    held[this.node] = h
    out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: d.sizeBytes, completed: true })
    this.perform(nowMs, this.peer.hold(nowMs, this.s.keyOf(d.itemRank)), out)
  }

  private piecesOf (item: number): number {
    const size = this.s.world.itemSizeBytes[item - 1]
    return Math.max(1, Math.ceil(size / Math.ceil(size / this.s.p.piecesPerItem)))
  }

  private pieceBytesOf (item: number, index: number): number {
    const size = this.s.world.itemSizeBytes[item - 1]
    const pb = Math.ceil(size / this.s.p.piecesPerItem)
    return Math.max(0, Math.min(pb, size - index * pb))
  }

  /** Re-reads when the upload policy's timer is due (after every input that can change it). */
  private armUploads (nowMs: number): void {
    if (this.uploads != null) this.uploadsDueMs = this.uploads.nextDeadlineMs(nowMs)
  }

  /** The upload policy (created on the first request: most peers never upload). */
  private policy (): UploadPolicy {
    this.uploads ??= new UploadPolicy(this.isSeeder ? this.s.originPolicy : this.s.peerPolicy)
    return this.uploads
  }

  private chokeChanges (changes: ChokeChange[], out: Array<Effect<SimMessage>>): void {
    for (const c of changes) {
      const at = c.key.indexOf(':')
      out.push({ type: 'send', to: Number(c.key.slice(0, at)), message: { type: c.choked ? 'choke' : 'unchoke', itemRank: Number(c.key.slice(at + 1)) }, sizeBytes: 24 })
    }
  }

  /** True when this node can serve piece `index` of `item` now (a seeder holds every item; a peer what it completed or verified so far). */
  private holdsPiece (item: number, index: number): boolean {
    return this.isSeeder || this.holds(item) || this.downloads?.get(item)?.session?.verified.get(index) === true
  }

  /** A requester's message to this node as an uploader: the xfer server's rules over the core upload policy. */
  private onUpload (nowMs: number, from: number, m: XferSimMessage, out: Array<Effect<SimMessage>>): void {
    const key = `${from}:${m.itemRank}`
    if (m.type === 'leave') { if (this.uploads != null) this.chokeChanges(this.uploads.release(nowMs, key), out); return }
    if (m.type === 'hello') {
      const partial = this.isSeeder || this.holds(m.itemRank) ? undefined : this.downloads?.get(m.itemRank)?.session?.verified
      if (!this.isSeeder && !this.holds(m.itemRank) && partial == null) { out.push({ type: 'send', to: from, message: { type: 'handshake', itemRank: m.itemRank, found: false, have: undefined, choked: true }, sizeBytes: 24 }); return }
      const policy = this.policy()
      const near = this.s.world.net.asOf[from] === this.asIdx
      this.chokeChanges(policy.admit(nowMs, key, { item: String(m.itemRank), peerId: String(from), pieceCount: this.piecesOf(m.itemRank), near }), out)
      const message: SimMessage = { type: 'handshake', itemRank: m.itemRank, found: true, have: partial?.clone(), choked: policy.isChoked(key) }
      out.push({ type: 'send', to: from, message, sizeBytes: simMessageBytes(message) })
      return
    }
    if (m.type !== 'piece-request') return
    const policy = this.uploads
    // No stream (it never said hello, or we restarted): dropped.
    if (policy == null || !policy.has(key)) return
    // A simulated requester reads everything it asks for; its request is also its "interested".
    this.chokeChanges(policy.requested(nowMs, key), out)
    policy.reading(nowMs, key)
    // A request that crossed our choke: the requester keeps what it asked before the choke in flight (this model's
    // uploader has no queue to drop), so it hears this one is not coming, as a decline (ask others, or us later).
    if (policy.isChoked(key)) { out.push({ type: 'send', to: from, message: { type: 'piece-decline', itemRank: m.itemRank, index: m.index }, sizeBytes: 24 }); return }
    if (!this.holdsPiece(m.itemRank, m.index)) { out.push({ type: 'send', to: from, message: { type: 'piece-reject', itemRank: m.itemRank, index: m.index }, sizeBytes: 24 }); return }
    if (!policy.admitPiece(nowMs, key, m.index)) { out.push({ type: 'send', to: from, message: { type: 'piece-decline', itemRank: m.itemRank, index: m.index }, sizeBytes: 24 }); return }
    this.uploadsActive++
    if (this.peer.role !== 'leaf') this.peer.reportLoad({ uploadUtilization: policy.slotUtilization() })
    out.push({ type: 'transfer', to: from, message: { type: 'piece', itemRank: m.itemRank, index: m.index }, bytes: this.pieceBytesOf(m.itemRank, m.index) })
  }

  /** Tells this node's requesters of `item` that it now holds piece `index`. */
  private announceHave (item: number, index: number, out: Array<Effect<SimMessage>>): void {
    if (this.uploads == null) return
    for (const key of this.uploads.keysOf(String(item))) out.push({ type: 'send', to: Number(key.slice(0, key.indexOf(':'))), message: { type: 'have', itemRank: item, index }, sizeBytes: 24 })
  }

  /** An uploader's answer to this node as a requester. */
  private onDownload (nowMs: number, from: number, m: XferSimMessage, out: Array<Effect<SimMessage>>): void {
    const d = this.downloads?.get(m.itemRank)
    const s = d?.session
    if (d == null || s == null) {
      if (m.type === 'piece') out.push({ type: 'observe', name: 'bytes.duplicate', value: this.pieceBytesOf(m.itemRank, m.index) })
      return
    }
    const source = String(from)
    switch (m.type) {
      case 'handshake': {
        const c = d.opening?.get(from)
        if (c == null) return
        d.opening?.delete(from)
        if (d.opening?.size === 0) d.handshakeDeadlineMs = undefined
        if (!m.found) { d.sources = d.sources?.filter(n => n !== from); d.chooser?.lost(source, this.s.world.net.asOf[from] === this.asIdx); break }
        s.addSource(source, m.have ?? Bitfield.full(s.pieceCount), { isOrigin: c.isOrigin, preference: c.preference, stripeKey: source })
        if (m.choked) s.choke(source)
        // The first requests wait for every handshake (or its deadline): with the model's coarse pieces, an origin that
        // answered first would take a quarter of the item before the peers' bitfields arrive (real pieces are 1 MiB, a few hundred per item).
        if ((d.opening?.size ?? 0) > 0) return
        break
      }
      case 'have': s.have(source, m.index, nowMs); break
      case 'piece-reject': s.onRequestRejected(source, m.index); break
      case 'piece-decline': s.onRequestDeclined(source, m.index, nowMs); break
      // The uploader has no queue: what it accepted is on the wire and arrives (BitTorrent drops only queued requests).
      case 'choke': s.choke(source, true); break
      case 'unchoke': s.unchoke(source); break
      case 'piece':
        this.uploads?.recordReceived(nowMs, source, this.pieceBytesOf(m.itemRank, m.index))
        if (s.onPieceReceived(source, m.index)) { s.onPieceVerified(source, m.index, nowMs); this.announceHave(m.itemRank, m.index, out) } else out.push({ type: 'observe', name: 'bytes.duplicate', value: this.pieceBytesOf(m.itemRank, m.index) })
        break
      default: return
    }
    this.pump(nowMs, d, out)
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
    for (const d of this.downloads?.values() ?? []) for (const n of d.sources ?? []) peers.push(n)
    for (const peerId of this.uploads?.peerIds() ?? []) peers.push(Number(peerId))
    this.peer.stop()
    if (peers.length > 0) out.push({ type: 'disconnect', peers, afterMs: this.s.p.disconnectDetectS * 1000 })
    for (const d of this.downloads?.values() ?? []) {
      out.push({ type: 'observe', name: 'bytes.aborted', value: (d.session?.verified.count ?? 0) * d.pieceBytes })
      out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
    }
    return out
  }

  onMessage (nowMs: number, from: number, m: SimMessage): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (isPieceMessage(m)) {
      if (m.type === 'piece-request' || m.type === 'leave' || m.type === 'hello') { this.onUpload(nowMs, from, m, out); this.armUploads(nowMs) } else this.onDownload(nowMs, from, m, out)
      return out
    }
    this.perform(nowMs, this.peer.message(nowMs, this.s.dir.contact(from), this.s.roleOf(from), m), out)
    return out
  }

  onTimer (nowMs: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.perform(nowMs, this.peer.timer(nowMs), out)
    if (this.uploads != null && this.uploadsDueMs !== undefined && this.uploadsDueMs <= nowMs) this.chokeChanges(this.uploads.timer(nowMs), out)
    if (this.downloads != null) {
      for (const d of [...this.downloads.values()]) {
        if (d.session == null) continue
        if (d.refindAtMs !== undefined && d.refindAtMs <= nowMs) {
          d.refindAtMs = undefined
          const f = this.peer.find(nowMs, this.s.keyOf(d.itemRank))
          d.findId = f.findId
          this.perform(nowMs, f.effects, out)
        }
        if (d.handshakeDeadlineMs !== undefined && d.handshakeDeadlineMs <= nowMs) {
          // Sources that never answered the handshake (offline): forgotten.
          d.handshakeDeadlineMs = undefined
          if (d.opening != null && d.opening.size > 0) { d.sources = d.sources?.filter(n => !(d.opening as Map<number, ChosenSource>).has(n)); d.opening.clear(); this.pump(nowMs, d, out); continue }
        }
        const t = d.session.nextTimeoutMs()
        if (t !== undefined && t <= nowMs) { d.session.onRequestTimeout(nowMs); this.pump(nowMs, d, out) } else if (d.retryAtMs !== undefined && d.retryAtMs <= nowMs) this.pump(nowMs, d, out)
      }
    }
    this.armUploads(nowMs)
    return out
  }

  nextDeadlineMs (): number | undefined {
    // Called after every input: no closures, no allocation.
    let m = this.peer.nextDeadlineMs() ?? Infinity
    if (this.uploadsDueMs !== undefined && this.uploadsDueMs < m) m = this.uploadsDueMs
    if (this.downloads != null) {
      for (const d of this.downloads.values()) {
        const t = d.session?.nextTimeoutMs()
        if (t !== undefined && t < m) m = t
        if (d.retryAtMs !== undefined && d.retryAtMs < m) m = d.retryAtMs
        if (d.handshakeDeadlineMs !== undefined && d.handshakeDeadlineMs < m) m = d.handshakeDeadlineMs
        if (d.refindAtMs !== undefined && d.refindAtMs < m) m = d.refindAtMs
      }
    }
    return m === Infinity ? undefined : m
  }

  onRequest (nowMs: number, itemRank: number, sizeBytes: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (this.holds(itemRank)) { out.push({ type: 'observe', name: 'request.local', value: 1 }); return out }
    if (this.downloads?.has(itemRank) === true) { out.push({ type: 'observe', name: 'request.ongoing', value: 1 }); return out }
    const d: Download = { itemRank, startMs: nowMs, pieceBytes: Math.ceil(sizeBytes / this.s.p.piecesPerItem), sizeBytes, findId: 0 }
    this.downloads ??= new Map()
    this.downloads.set(itemRank, d)
    if (this.isSeeder) { this.finish(nowMs, d, out); return out }
    const f = this.peer.find(nowMs, this.s.keyOf(itemRank))
    d.findId = f.findId
    this.perform(nowMs, f.effects, out)
    return out
  }

  onPeerDisconnected (nowMs: number, peer: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.perform(nowMs, this.peer.peerDisconnected(nowMs, this.s.dir.contact(peer)), out)
    // Its xfer streams closed too: a requester frees its slot, a source leaves our downloads.
    if (this.uploads != null) { this.chokeChanges(this.uploads.releasePeer(nowMs, String(peer)), out); this.armUploads(nowMs) }
    if (this.downloads != null) {
      for (const d of [...this.downloads.values()]) {
        if (d.session == null || d.sources?.includes(peer) !== true) continue
        d.session.removeSource(String(peer))
        d.sources = d.sources.filter(n => n !== peer)
        d.chooser?.lost(String(peer), this.s.world.net.asOf[peer] === this.asIdx)
        if (d.refindAtMs === undefined && d.chooser != null) { const after = d.chooser.refindAfter(1); if (after !== undefined) d.refindAtMs = nowMs + after }
        this.pump(nowMs, d, out)
      }
    }
    return out
  }

  onTransferSent (nowMs: number, to: number, m: SimMessage): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.uploadsActive--
    if (this.uploads != null && m.type === 'piece') { this.uploads.sent(nowMs, `${to}:${m.itemRank}`, m.index); this.armUploads(nowMs) }
    if (this.uploads != null && this.peer.role !== 'leaf') this.peer.reportLoad({ uploadUtilization: this.uploads.slotUtilization() })
    return out
  }

  leafCount (): number | undefined { return this.peer.leafCount }

  /** Chokes this node's upload policy decided (inspection). */
  get uploadChokes (): number { return this.uploads?.chokes ?? 0 }

  /** Times an item went busy at this node's upload policy (inspection). */
  get uploadBusyTimes (): number { return this.uploads?.busyTimes ?? 0 }
}

/** Factory of swarmcdn node adapters for one world. */
export function swarmcdnFactory (world: World, dir: SimDirectory, params: Record<string, unknown>): ProtocolFactory {
  const shared = new SwarmcdnShared(world, dir, swarmcdnParams(params))
  const adapters = shared.adapters
  const create: NodeAdapterFactory<SimMessage> = (node, startMs) => new SwarmcdnNode(shared, node, startMs)

  const observer = (host: ProtocolHost<SimMessage>): SimObserver => ({
    onSample: (nowMs) => {
      for (let node = 0; node < world.peerCount; node++) {
        const a = adapters[node]
        if (a == null || !world.isSupernode(node)) continue
        const load = a.leafCount()
        if (load !== undefined) for (const o of world.observers) o.onObserve?.(node, 'tier.supernodeLoad', load, nowMs)
      }
      void host
    }
  })
  const inspect = (node: number): NodeInspection | undefined => {
    const a = adapters[node]
    return a == null ? undefined : { role: a.peer.role, attachedTo: a.peer.attached().map(c => Number(c.peerId)), uploadChokes: a.uploadChokes, uploadBusyTimes: a.uploadBusyTimes }
  }
  return { create, observer, inspect }
}
