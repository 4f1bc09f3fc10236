/**
 * One simulated node's piece exchange: its downloads (the core's
 * DownloadSession and SourceChooser, as `swarmcdn get` runs them) and its
 * uploads (the core's UploadPolicy, as `swarmcdn seed` or `swarmcdn peer`
 * runs it), turned into simulated xfer messages and transfers. The
 * decisions are the core's; what this model abstracts is listed in
 * sim/README.md ("What the simulator abstracts").
 */
import type { Contact } from '../../src/core/dht/contact.js'
import type { OverlayEffect, OverlayPeer } from '../../src/core/peer/overlay-peer.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'
import { DownloadSession } from '../../src/core/swarm/download-session.js'
import { SourceChooser, type ChosenSource } from '../../src/core/swarm/source-admission.js'
import { answerPieceRequest } from '../../src/core/swarm/piece-request-answer.js'
import { UploadPolicy, type ChokeChange } from '../../src/core/swarm/upload-policy.js'
import { BusyAlternatives } from '../../src/core/swarm/busy-alternatives.js'
import type { Effect } from './node-adapter.js'
import { simMessageBytes, type SimMessage, type XferSimMessage } from './sim-messages.js'
import type { SwarmcdnShared } from './swarmcdn-shared.js'

type Out = Array<Effect<SimMessage>>

/** What the exchange needs of its node. */
export interface PieceExchangeHost {
  readonly s: SwarmcdnShared
  readonly node: number
  readonly asIdx: number
  readonly isSeeder: boolean
  readonly random: () => number
  readonly peer: OverlayPeer
  /** Carries out the node's overlay effects (hold, drop, find). */
  perform: (nowMs: number, effects: OverlayEffect[], out: Out) => void
}

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

const CONTROL_BYTES = 24

/** Downloads and uploads of one node (created on its first request or first requester). */
export class PieceExchange {
  private readonly downloads = new Map<number, Download>()
  /** The node's upload policy: the core's, created on the first requester (most peers never upload). */
  private uploads: UploadPolicy | undefined = undefined
  /** When the upload policy's timer is due (rechoke, optimistic rotation, idle slots, penalties). */
  private uploadsDueMs: number | undefined = undefined
  /** Transfers this node is sending now (for the overlay policy's spare-upload input). */
  uploadsActive = 0
  /** A busy origin's holders to name in its chokes and declines (the core's rule, as `swarmcdn seed`), created with the upload policy. */
  private alternatives: BusyAlternatives<Contact> | undefined = undefined
  /** Overlay finds running for `alternatives`: find id -> item. */
  private alternativeFinds: Map<number, number> | undefined = undefined

  constructor (private readonly h: PieceExchangeHost) {}

  /** A request for `itemRank`; false when the node holds it or already downloads it. */
  request (nowMs: number, itemRank: number, sizeBytes: number, out: Out): boolean {
    if (this.downloads.has(itemRank)) return false
    const d: Download = { itemRank, startMs: nowMs, pieceBytes: Math.ceil(sizeBytes / this.h.s.p.piecesPerItem), sizeBytes, findId: 0 }
    this.downloads.set(itemRank, d)
    if (this.h.isSeeder) { this.finish(nowMs, d, out); return true }
    this.find(nowMs, d, out)
    return true
  }

  /** The overlay answered find `findId` for `item`. */
  providersFound (nowMs: number, item: number, findId: number, providers: Contact[], out: Out): void {
    if (this.alternativeFinds?.delete(findId) === true) { this.alternativesFound(nowMs, item, providers, out); return }
    const d = this.downloads.get(item)
    if (d == null || d.findId !== findId) return
    const added = d.session == null ? this.startPieces(nowMs, d, providers, out) : this.addSources(nowMs, d, providers, out)
    const after = d.chooser?.answered(added)
    d.refindAtMs = after === undefined ? undefined : nowMs + after
  }

  /** An xfer message from `from`: to our uploads (requests, hello, leave) or to our downloads. */
  message (nowMs: number, from: number, m: XferSimMessage, out: Out): void {
    if (m.type === 'piece-request' || m.type === 'leave' || m.type === 'hello') { this.onUpload(nowMs, from, m, out); this.armUploads(nowMs) } else this.onDownload(nowMs, from, m, out)
  }

  timer (nowMs: number, out: Out): void {
    if (this.uploads != null && this.uploadsDueMs !== undefined && this.uploadsDueMs <= nowMs) this.chokeChanges(nowMs, this.uploads.timer(nowMs), out)
    if (this.downloads.size > 0) this.downloadTimers(nowMs, out)
    this.armUploads(nowMs)
  }

  private downloadTimers (nowMs: number, out: Out): void {
    for (const d of [...this.downloads.values()]) {
      if (d.session == null) continue
      if (d.refindAtMs !== undefined && d.refindAtMs <= nowMs) { d.refindAtMs = undefined; this.find(nowMs, d, out) }
      if (d.handshakeDeadlineMs !== undefined && d.handshakeDeadlineMs <= nowMs) {
        // Sources that never answered the handshake (offline): forgotten.
        d.handshakeDeadlineMs = undefined
        if (d.opening != null && d.opening.size > 0) {
          d.sources = d.sources?.filter(n => !(d.opening as Map<number, ChosenSource>).has(n))
          for (const peer of d.opening.keys()) this.openFailed(nowMs, d, peer)
          d.opening.clear()
          this.pump(nowMs, d, out)
          continue
        }
      }
      const t = d.session.nextTimeoutMs()
      if (t !== undefined && t <= nowMs) { d.session.onRequestTimeout(nowMs); this.pump(nowMs, d, out) } else if (d.retryAtMs !== undefined && d.retryAtMs <= nowMs) this.pump(nowMs, d, out)
    }
  }

  /** Earliest time `timer` has work (called after every input: no closures, no allocation). */
  nextDeadlineMs (): number {
    let m = this.uploadsDueMs ?? Infinity
    if (this.downloads.size === 0) return m
    for (const d of this.downloads.values()) {
      const t = d.session?.nextTimeoutMs()
      if (t !== undefined && t < m) m = t
      if (d.retryAtMs !== undefined && d.retryAtMs < m) m = d.retryAtMs
      if (d.handshakeDeadlineMs !== undefined && d.handshakeDeadlineMs < m) m = d.handshakeDeadlineMs
      if (d.refindAtMs !== undefined && d.refindAtMs < m) m = d.refindAtMs
    }
    return m
  }

  /**
   * A chosen source could not be opened (unreachable, no handshake by the
   * deadline, or it lacks the item): the chooser frees its place and may
   * choose it again, as the libp2p client does (SourceChooser.connectFailed).
   */
  private openFailed (nowMs: number, d: Download, peer: number): void {
    const after = d.chooser?.connectFailed(String(peer), this.isNear(peer))
    if (after !== undefined) d.refindAtMs = nowMs + after
  }

  /** `peer`'s connection closed: its xfer streams closed too (a requester frees its slot, a source leaves our downloads). */
  peerGone (nowMs: number, peer: number, out: Out): void {
    if (this.uploads != null) { this.chokeChanges(nowMs, this.uploads.releasePeer(nowMs, String(peer)), out); this.armUploads(nowMs) }
    for (const d of [...this.downloads.values()]) {
      if (d.session == null || d.sources?.includes(peer) !== true) continue
      d.session.removeSource(String(peer))
      d.sources = d.sources.filter(n => n !== peer)
      const after = d.chooser?.sourceClosed(String(peer), this.isNear(peer))
      if (after !== undefined) d.refindAtMs = nowMs + after
      this.pump(nowMs, d, out)
    }
  }

  /** A piece this node sent has left (its transfer ended). */
  transferSent (nowMs: number, to: number, m: SimMessage): void {
    this.uploadsActive--
    if (this.uploads != null && m.type === 'piece') { this.uploads.sent(nowMs, `${to}:${m.itemRank}`, m.index); this.armUploads(nowMs) }
    if (this.uploads != null && this.h.peer.role !== 'leaf') this.h.peer.reportLoad({ uploadUtilization: this.uploads.slotUtilization() })
  }

  /** Peers this node's xfer streams reach (as requester or uploader): they see the streams close when it goes offline. */
  streamPeers (): number[] {
    const peers: number[] = []
    for (const d of this.downloads.values()) for (const n of d.sources ?? []) peers.push(n)
    for (const peerId of this.uploads?.peerIds() ?? []) peers.push(Number(peerId))
    return peers
  }

  /** The node went offline: every download ends unfinished. */
  abortAll (out: Out): void {
    for (const d of this.downloads.values()) {
      out.push({ type: 'observe', name: 'bytes.aborted', value: (d.session?.verified.count ?? 0) * d.pieceBytes })
      out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
    }
  }

  get uploadChokes (): number { return this.uploads?.chokes ?? 0 }
  get uploadBusyTimes (): number { return this.uploads?.busyTimes ?? 0 }
  /** Holders named in busy chokes and declines so far. */
  alternativesNamed = 0

  // ---- downloads ---------------------------------------------------------------

  private find (nowMs: number, d: Download, out: Out): void {
    const f = this.h.peer.find(nowMs, this.h.s.keyOf(d.itemRank))
    d.findId = f.findId
    this.h.perform(nowMs, f.effects, out)
  }

  /** Starts the pieces phase with the first find's answer; returns the sources added. */
  private startPieces (nowMs: number, d: Download, providers: Contact[], out: Out): ChosenSource[] {
    const { p, seeders } = this.h.s
    const self = String(this.h.node)
    d.session = new DownloadSession(this.piecesOf(d.itemRank), { maxRequestsPerSource: p.maxRequestsPerSource, maxRequestsTotal: p.maxRequestsPerSource * (p.maxSourcesPerDownload + seeders.length), requestTimeoutMs: this.h.s.pieceTimeoutMs, maxRequestsPerPiece: p.maxRequestsPerPiece, partialSourceWaitMs: 0, random: this.h.random, stripeKey: self })
    // The peer's choice, as `swarmcdn get` makes it: near peers first, at most maxFarPeers far ones; every seeder as origin (the manifest names them).
    d.chooser = new SourceChooser({ self, maxPeers: p.maxSourcesPerDownload, maxFarPeers: p.maxFarPeers, knowsOwnAs: p.proximity, proximity: p.proximity, refindIntervalMs: p.refindIntervalS * 1000 })
    d.opening = new Map()
    d.sources = []
    const added = this.addSources(nowMs, d, providers, out, seeders)
    // Held as it arrives: announced now, its verified pieces served to others while it downloads.
    this.h.perform(nowMs, this.h.peer.hold(nowMs, this.h.s.keyOf(d.itemRank)), out)
    return added
  }

  /** Opens streams to the sources the chooser takes from `providers` (and `origins`); returns those it could open. */
  private addSources (nowMs: number, d: Download, providers: Contact[], out: Out, origins: readonly number[] = []): ChosenSource[] {
    const added: ChosenSource[] = []
    const candidates = providers.map(c => ({ peerId: c.peerId, origin: c.origin === true, near: this.isNear(Number(c.peerId)) }))
    for (const s of origins) candidates.push({ peerId: String(s), origin: true, near: this.isNear(s) })
    const { nat } = this.h.s.world
    for (const c of (d.chooser as SourceChooser).choose(candidates)) {
      const to = Number(c.peerId)
      // Behind NATs that neither a dial, a dial-back nor a punch gets through: the place goes to the next find's answer (the
      // model spends no time on the failed attempt; the real downloader keeps using its other sources meanwhile).
      if (!nat.connectable(this.h.node, to)) { this.openFailed(nowMs, d, to); continue }
      d.opening?.set(to, c)
      d.sources?.push(to)
      added.push(c)
      out.push({ type: 'send', to, message: { type: 'hello', itemRank: d.itemRank }, sizeBytes: CONTROL_BYTES })
    }
    if ((d.opening?.size ?? 0) > 0) d.handshakeDeadlineMs ??= nowMs + this.h.s.p.requestTimeoutMs
    return added
  }

  private pump (nowMs: number, d: Download, out: Out): void {
    const s = d.session as DownloadSession
    d.retryAtMs = undefined
    if (s.isComplete) { this.finish(nowMs, d, out); return }
    for (const e of s.nextRequests(nowMs)) {
      if (e.type !== 'request') continue // cancels: the uploader finishes what it started (no cancel message in the model)
      out.push({ type: 'send', to: Number(e.sourceId), message: { type: 'piece-request', itemRank: d.itemRank, index: e.index }, sizeBytes: CONTROL_BYTES })
    }
    const connecting = d.opening?.size ?? 0
    if (!s.givesUp(nowMs, { connecting })) {
      // Waiting: an answer, an unchoke, a handshake or a closed connection pumps again; else the picker's next wake does.
      const st = s.stats()
      if (st.requestsInFlight === 0 && st.chokedSources === 0 && connecting === 0) d.retryAtMs = s.nextWakeMs(nowMs)
      return
    }
    // The session's verdict: nobody can serve what is missing (every origin down or gone). Stop announcing it.
    this.endDownload(d, out)
    if (!this.holds(d.itemRank)) this.h.perform(nowMs, this.h.peer.drop(nowMs, this.h.s.keyOf(d.itemRank)), out)
    out.push({ type: 'observe', name: 'bytes.aborted', value: s.verified.count * d.pieceBytes })
    out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
  }

  /** The download is over: its xfer streams close (every source frees the slot or the place in line it gave us). */
  private endDownload (d: Download, out: Out): void {
    this.downloads.delete(d.itemRank)
    for (const to of d.sources ?? []) out.push({ type: 'send', to, message: { type: 'leave', itemRank: d.itemRank }, sizeBytes: CONTROL_BYTES })
  }

  private finish (nowMs: number, d: Download, out: Out): void {
    const { held } = this.h.s
    this.endDownload(d, out)
    const h = held[this.h.node] ?? []
    if (!h.includes(d.itemRank)) h.push(d.itemRank)
    held[this.h.node] = h
    out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: d.sizeBytes, completed: true })
    this.h.perform(nowMs, this.h.peer.hold(nowMs, this.h.s.keyOf(d.itemRank)), out)
  }

  /** An uploader's answer to this node as a requester. */
  private onDownload (nowMs: number, from: number, m: XferSimMessage, out: Out): void {
    const d = this.downloads.get(m.itemRank)
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
        if (!m.found) { d.sources = d.sources?.filter(n => n !== from); this.openFailed(nowMs, d, from); break }
        s.addSource(source, m.have ?? Bitfield.full(s.pieceCount), { isOrigin: c.isOrigin, preference: c.preference, stripeKey: source })
        if (m.choked) s.choke(source)
        // The first requests wait for every handshake (or its deadline): with the model's coarse pieces, an origin that
        // answered first would take a quarter of the item before the peers' bitfields arrive (real pieces are 1 MiB, a few hundred per item).
        if ((d.opening?.size ?? 0) > 0) return
        break
      }
      case 'have': s.have(source, m.index, nowMs); break
      case 'piece-reject': s.onRequestRejected(source, m.index); break
      case 'piece-decline':
        s.onRequestDeclined(source, m.index, nowMs)
        // A busy origin's "try these peers": chosen like a find's answer (as the libp2p client's onAlternatives).
        if (m.alternatives != null) this.addSources(nowMs, d, m.alternatives, out)
        break
      // The uploader has no queue: what it accepted is on the wire and arrives (BitTorrent drops only queued requests).
      case 'choke':
        s.choke(source, true)
        if (m.alternatives != null) this.addSources(nowMs, d, m.alternatives, out)
        break
      case 'unchoke': s.unchoke(source); break
      case 'piece':
        this.uploads?.recordReceived(nowMs, source, this.pieceBytesOf(m.itemRank, m.index))
        if (s.onPieceReceived(source, m.index)) { s.onPieceVerified(source, m.index, nowMs); this.announceHave(m.itemRank, m.index, out) } else out.push({ type: 'observe', name: 'bytes.duplicate', value: this.pieceBytesOf(m.itemRank, m.index) })
        break
      default: return
    }
    this.pump(nowMs, d, out)
  }

  // ---- uploads -----------------------------------------------------------------

  /** A requester's message to this node as an uploader: the xfer server's rules over the core upload policy. */
  private onUpload (nowMs: number, from: number, m: XferSimMessage, out: Out): void {
    const key = `${from}:${m.itemRank}`
    if (m.type === 'leave') { if (this.uploads != null) this.chokeChanges(nowMs, this.uploads.release(nowMs, key), out); return }
    if (m.type === 'hello') {
      const whole = this.h.isSeeder || this.holds(m.itemRank)
      const partial = whole ? undefined : this.downloads.get(m.itemRank)?.session?.verified
      if (!whole && partial == null) { out.push({ type: 'send', to: from, message: { type: 'handshake', itemRank: m.itemRank, found: false, have: undefined, choked: true }, sizeBytes: CONTROL_BYTES }); return }
      if (this.uploads == null) {
        const init = this.h.isSeeder ? this.h.s.originPolicy : this.h.s.peerPolicy
        this.uploads = new UploadPolicy(init)
        if (init.busyThresholdRequesters != null) this.alternatives = new BusyAlternatives<Contact>({ self: String(this.h.node), peerIdOf: c => c.peerId, isOrigin: c => c.origin === true })
      }
      const policy = this.uploads
      this.chokeChanges(nowMs, policy.admit(nowMs, key, { item: String(m.itemRank), peerId: String(from), pieceCount: this.piecesOf(m.itemRank), near: this.isNear(from), reads: true }), out)
      const message: SimMessage = { type: 'handshake', itemRank: m.itemRank, found: true, have: partial?.clone(), choked: policy.isChoked(key) }
      out.push({ type: 'send', to: from, message, sizeBytes: simMessageBytes(message) })
      return
    }
    if (m.type !== 'piece-request') return
    const policy = this.uploads
    // No stream (it never said hello, or we restarted): dropped.
    if (policy == null || !policy.has(key)) return
    // A request is also its "interested" (a simulated requester reads: admitted with `reads`).
    this.chokeChanges(nowMs, policy.requested(nowMs, key), out)
    const answer = answerPieceRequest({ choked: policy.isChoked(key), held: this.holdsPiece(m.itemRank, m.index), admitPiece: () => policy.admitPiece(nowMs, key, m.index) })
    if (answer !== 'serve') {
      // A request that crossed our choke: the requester keeps what it asked before the choke in flight (this model's
      // uploader has no queue to drop), so it hears this one is not coming, as a decline (ask others, or us later).
      const message: XferSimMessage = answer === 'not-held'
        ? { type: 'piece-reject', itemRank: m.itemRank, index: m.index }
        : { type: 'piece-decline', itemRank: m.itemRank, index: m.index, alternatives: this.alternativesFor(nowMs, from, m.itemRank, out) }
      out.push({ type: 'send', to: from, message, sizeBytes: simMessageBytes(message) })
      return
    }
    this.uploadsActive++
    if (this.h.peer.role !== 'leaf') this.h.peer.reportLoad({ uploadUtilization: policy.slotUtilization() })
    out.push({ type: 'transfer', to: from, message: { type: 'piece', itemRank: m.itemRank, index: m.index }, bytes: this.pieceBytesOf(m.itemRank, m.index) })
  }

  /** Tells this node's requesters of `item` that it now holds piece `index`. */
  private announceHave (item: number, index: number, out: Out): void {
    if (this.uploads == null) return
    for (const key of this.uploads.keysOf(String(item))) out.push({ type: 'send', to: Number(key.slice(0, key.indexOf(':'))), message: { type: 'have', itemRank: item, index }, sizeBytes: CONTROL_BYTES })
  }

  /** Re-reads when the upload policy's timer is due (after every input that can change it). */
  private armUploads (nowMs: number): void {
    if (this.uploads != null) this.uploadsDueMs = this.uploads.nextDeadlineMs(nowMs)
  }

  private chokeChanges (nowMs: number, changes: ChokeChange[], out: Out): void {
    for (const c of changes) {
      const at = c.key.indexOf(':')
      const to = Number(c.key.slice(0, at))
      const itemRank = Number(c.key.slice(at + 1))
      const message: XferSimMessage = c.choked ? { type: 'choke', itemRank, alternatives: this.alternativesFor(nowMs, to, itemRank, out) } : { type: 'unchoke', itemRank }
      out.push({ type: 'send', to, message, sizeBytes: simMessageBytes(message) })
    }
  }

  /** Holders of a busy `item` to name to `requester` (none when it is not busy here); starts the core's refresh find when due. */
  private alternativesFor (nowMs: number, requester: number, item: number, out: Out): Contact[] | undefined {
    const alts = this.alternatives
    if (alts == null) return undefined
    const { dir, p } = this.h.s
    const { named, findDue } = alts.namedTo(nowMs, String(item), String(requester), this.uploads?.isBusy(String(item)) === true, holders => dir.rank(requester, holders, p.proximity))
    if (findDue) {
      const f = this.h.peer.find(nowMs, this.h.s.keyOf(item))
      ;(this.alternativeFinds ??= new Map()).set(f.findId, item)
      this.h.perform(nowMs, f.effects, out)
    }
    if (named.length === 0) return undefined
    this.alternativesNamed += named.length
    return named
  }

  /** A busy origin's find for holders of `item` answered: new names go to its choked requesters at once (as the libp2p gate's offerAlternatives). */
  private alternativesFound (nowMs: number, item: number, providers: Contact[], out: Out): void {
    if (this.alternatives?.found(nowMs, String(item), providers) !== true || this.uploads == null) return
    this.chokeChanges(nowMs, this.uploads.chokedOf(String(item)).map(key => ({ key, choked: true })), out)
  }

  // ---- the model's items ---------------------------------------------------------

  private holds (item: number): boolean { return this.h.s.held[this.h.node]?.includes(item) === true }

  /** True when this node can serve piece `index` of `item` now (a seeder holds every item; a peer what it completed or verified so far). */
  private holdsPiece (item: number, index: number): boolean {
    return this.h.isSeeder || this.holds(item) || this.downloads.get(item)?.session?.verified.get(index) === true
  }

  private isNear (node: number): boolean { return this.h.s.world.net.asOf[node] === this.h.asIdx }

  private piecesOf (item: number): number {
    const size = this.h.s.world.itemSizeBytes[item - 1]
    return Math.max(1, Math.ceil(size / Math.ceil(size / this.h.s.p.piecesPerItem)))
  }

  private pieceBytesOf (item: number, index: number): number {
    const size = this.h.s.world.itemSizeBytes[item - 1]
    const pb = Math.ceil(size / this.h.s.p.piecesPerItem)
    return Math.max(0, Math.min(pb, size - index * pb))
  }
}
