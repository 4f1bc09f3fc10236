/**
 * Which piece to ask which source for, for one item: the piece picker of a
 * download, sans-IO. The driver (src/client for real libp2p streams, sim/
 * for the simulator) feeds it sources, haves, arrivals and time, and turns
 * the effects it returns into messages.
 *
 * Rules:
 * - A source has a bitfield; `isOrigin` marks a publisher's seeder that
 *   holds everything and should be spared.
 * - At most `maxRequestsPerSource` requests are outstanding per source
 *   (pipelining hides the round trip) and `maxRequestsTotal` overall (this
 *   bounds the bytes a driver buffers: requests x piece size).
 * - Order: first the priority range (a streaming playhead), in index order,
 *   then rarest first among peers' availability (BitTorrent's policy,
 *   Cohen 2003 "Incentives build robustness in BitTorrent" sec. 2.3); equal
 *   availability is broken by a rank drawn once from the injected `random`
 *   (default: index order, which suits a single seeder's disk).
 * - Peers before origins: an origin is asked for a piece only when no
 *   connected peer has it, when it lies in the priority range and no peer
 *   could take it now, or after a peer let a request for it time out.
 * - A piece is requested from one source at a time, except in endgame
 *   (every missing piece that some source has is already requested): then
 *   idle peers (nothing outstanding; never origins: they are reached
 *   through timeouts) duplicate outstanding requests, one at a time each,
 *   up to `maxRequestsPerPiece`, and the first verified copy cancels the
 *   rest. A source sends its requests in order, so the copy is taken from
 *   the back of a queue (the newest request): the idle peer delivers it
 *   first and the cancel removes the loser before it is sent. A source's
 *   oldest outstanding request is on the wire and a cancel comes too late
 *   for it: it is duplicated only once it has been outstanding
 *   `endgameHeadWaitMs` (2 s: a slow link, where a second copy wins).
 *   Filling every peer's pipeline with copies of the oldest requests, as
 *   before, sent 5-12% of all piece bytes twice in a 1 -> 8 mesh on
 *   loopback (bench/mesh.ts).
 * - A source whose piece fails verification is banned for this item: its
 *   requests are dropped and it is never used again by this session.
 * - A request outstanding for `requestTimeoutMs` is cancelled and the piece
 *   goes back to the pool, avoiding that source next time.
 * - Among the sources that could take a piece, a lower `preference` (the
 *   driver's proximity rank, 0 to < 2) wins before load: nearer peers fill
 *   their pipelines first. Preference never lifts an origin above a peer.
 *   Sources with preference < 1 are "near" (the driver's same-AS class): a
 *   piece some unchoked near source holds is asked only from near sources
 *   (it waits for their room rather than crossing to a far peer), unless a
 *   near source already let it time out. Far peers and origins get what
 *   no near peer has: bytes stay inside the AS when they can.
 * - Few far sources (`maxFarSources`, default 2): while the session has
 *   a near peer source (choked or not), only the `maxFarSources` unchoked
 *   far peers with the lowest preference get requests; the other far peers
 *   still count for availability, take over when one chokes or leaves,
 *   and are asked for a piece that no near or allowed far peer holds.
 *   Far bandwidth is what makes several peers of one AS fetch the same
 *   piece from outside before any of them holds it; with few far pipes
 *   each, the AS's members spend most of their time on pieces a near peer
 *   already holds. Without near sources (proximity off, or alone in the
 *   AS) every peer may be used.
 * - Stripes inside the AS (`stripeKey`, off unless given): the near peers
 *   of one AS that download together split the pieces none of them holds
 *   by rendezvous hashing (Thaler & Ravishankar 1998): piece i "belongs"
 *   to whichever of us and our live near sources has the highest
 *   hash(key, i), the same answer on every member that sees the same
 *   group. A piece that no near source holds and that belongs to a live
 *   near source is not asked from far peers or origins: its owner fetches
 *   it from outside and we get it from the owner. A near source is live
 *   while it announced a piece (or joined) within `stripeIdleMs` (5 s); a
 *   stalled owner's stripe falls back to us. The priority range and
 *   pieces a peer let time out are exempt.
 * - A declined piece (`onRequestDeclined`: a busy origin already served it
 *   to someone, see core/swarm/origin-spread.ts) is not asked from that
 *   source again for `declineBackoffMs` (1 s); unlike a rejection, the
 *   source keeps counting as a holder, so the piece comes from the peer
 *   that got it, or from the same source after the back-off.
 * - A choked source (it said `choke`: its upload slots are taken, or an
 *   origin is busy and wants us to use peers) gets no requests; its
 *   outstanding ones go back to the pool, and it keeps counting for
 *   availability until it unchokes or leaves.
 * - Giving up (`givesUp`, the one verdict both shells ask): an incomplete
 *   download gives up when no source is on its way (the shell's count of
 *   dials and handshakes under way) and no source in the session can still
 *   deliver. A source can while a request to it is in flight or a piece
 *   from it is being verified, while it chokes us (it may unchoke), while
 *   the picker waits on a back-off or an idle stripe (`nextWakeMs`), and,
 *   for a source that does not hold the whole item (a peer still
 *   downloading may announce more), for `partialSourceWaitMs` after it
 *   joined or last announced or delivered a piece. Asked after the shell
 *   pumped: a source that holds a missing piece then has a request in
 *   flight, a back-off or a choke.
 */
import { Bitfield } from './bitfield.js'
import { fmix32, mixWord } from '../hash32.js'

/** Default outstanding requests per source: 8 x 1 MiB pieces covers a fast link's round trip. */
export const DEFAULT_MAX_REQUESTS_PER_SOURCE = 8
/** Default outstanding requests over all sources. */
export const DEFAULT_MAX_REQUESTS_TOTAL = 64
/** Default time after which an unanswered request is given to another source, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
/** Default number of sources one piece may be requested from at once in endgame. */
export const DEFAULT_MAX_REQUESTS_PER_PIECE = 2
/** Default time a source's oldest outstanding request (the one on the wire) must wait before endgame duplicates it, ms. */
export const DEFAULT_ENDGAME_HEAD_WAIT_MS = 2_000

/** Default far peer sources that get requests while a near source exists. */
export const DEFAULT_MAX_FAR_SOURCES = 2

/** Default time a source that declined a piece is not asked for it again, ms. */
export const DEFAULT_DECLINE_BACKOFF_MS = 1_000

/** Default time a near source stays an owner of its stripe without announcing a piece, ms. */
export const DEFAULT_STRIPE_IDLE_MS = 5_000

/** Default time a source without the whole item keeps an otherwise idle download from giving up, ms (the client's stream idle timeout). */
export const DEFAULT_PARTIAL_SOURCE_WAIT_MS = 60_000

/** Options for a DownloadSession. */
export interface DownloadSessionInit {
  /** Pieces already verified (a resumed download). Default: none. */
  verified?: Bitfield
  /** Outstanding requests per source. Default DEFAULT_MAX_REQUESTS_PER_SOURCE (8). */
  maxRequestsPerSource?: number
  /** Outstanding requests over all sources. Default DEFAULT_MAX_REQUESTS_TOTAL (64). */
  maxRequestsTotal?: number
  /** Unanswered request timeout, ms. Default DEFAULT_REQUEST_TIMEOUT_MS (30 s). */
  requestTimeoutMs?: number
  /** Sources one piece may be requested from at once in endgame. Default 2. */
  maxRequestsPerPiece?: number
  /** In endgame, a source's oldest outstanding request (on the wire) is duplicated only after this long, ms. Default DEFAULT_ENDGAME_HEAD_WAIT_MS (2 s). */
  endgameHeadWaitMs?: number
  /** Far peers (preference >= 1) that get requests while a near peer source exists; Infinity turns the rule off. Default DEFAULT_MAX_FAR_SOURCES (2). */
  maxFarSources?: number
  /** This downloader's stripe key (its peer id), turning on the stripe rule; sources need theirs too. Default: off. */
  stripeKey?: string
  /** A near source without a piece announced for this long no longer owns a stripe, ms. Default DEFAULT_STRIPE_IDLE_MS (5 s). */
  stripeIdleMs?: number
  /** A source that declined a piece (onRequestDeclined) is not asked for it again for this long, ms. Default DEFAULT_DECLINE_BACKOFF_MS (1 s). */
  declineBackoffMs?: number
  /**
   * How long a source that does not hold the whole item keeps an otherwise
   * idle download from giving up (`givesUp`) after it joined or last
   * announced or delivered a piece, ms; 0: not at all. A shell with a
   * wait > 0 asks again when a source's stream closes (the libp2p client
   * closes a silent one after the same time). Default
   * DEFAULT_PARTIAL_SOURCE_WAIT_MS (60 s).
   */
  partialSourceWaitMs?: number
  /** Uniform [0, 1) generator for tie-breaks (seeded in the simulator). Default: index order. */
  random?: () => number
}

/** Options for one source. */
export interface AddSourceInit {
  /** A publisher's origin seeder: used only when peers can't serve (see rules). Default false. */
  isOrigin?: boolean
  /** Outstanding requests to this source. Default: the session's maxRequestsPerSource. */
  maxRequests?: number
  /** Proximity rank, 0 (nearest) to < 2; lower is asked first. Default 0. */
  preference?: number
  /** The source's stripe key (its peer id) for the stripe rule. Default: none (owns no stripe). */
  stripeKey?: string
}

/** What a shell reports for `DownloadSession.givesUp`: sources on their way, not in the session yet. */
export interface SourcesUnderWay {
  /** Sources being dialled or waiting for their handshake (a replacement the shell started counts). */
  connecting: number
}

/** What the session asks its driver to do. */
export type SessionEffect =
  | { type: 'request', sourceId: string, index: number }
  | { type: 'cancel', sourceId: string, index: number }
  | { type: 'ban', sourceId: string, index: number, reason: string }

/** Counters for progress and tests. */
export interface SessionStats {
  pieceCount: number
  verifiedPieces: number
  requestsInFlight: number
  sources: number
  /** Sources that choked us and have not unchoked (a driver waits for them rather than giving up). */
  chokedSources: number
  bannedSources: number
  endgame: boolean
}

interface Source {
  id: string
  isOrigin: boolean
  has: Bitfield
  maxRequests: number
  preference: number
  choked: boolean
  /** 32-bit hash of the stripe key, when given. */
  stripeHash: number | undefined
  /** Last time the source announced a piece (or was first seen by nextRequests), ms. */
  lastProgressMs: number | undefined
  /** Last time the source announced or delivered a piece (or was first seen by nextRequests), ms; kept only with a partial-source wait. */
  lastHeardMs: number | undefined
  /** Outstanding requests: piece index -> sent at (ms). */
  inFlight: Map<number, number>
}

/** The piece-picking state machine of one download (see the file's rules). */
export class DownloadSession {
  readonly pieceCount: number
  private readonly done: Bitfield
  private readonly sources = new Map<string, Source>()
  private readonly banned = new Set<string>()
  /** Piece -> sources it is outstanding at. */
  private readonly requested = new Map<number, Set<string>>()
  /** Pieces that arrived and are being verified: piece -> source. */
  private readonly verifying = new Map<number, string>()
  /** Piece -> sources that let a request for it time out. */
  private readonly slowFrom = new Map<number, Set<string>>()
  private readonly peerAvailability: Uint32Array
  private readonly originAvailability: Uint32Array
  private readonly rank: Uint32Array
  /** Missing pieces in picking order; rebuilt when availability changes. */
  private order: number[] = []
  private orderDirty = true
  private priorityStart = 0
  private priorityEnd = 0
  private totalInFlight = 0
  private inEndgame = false
  private readonly maxRequestsPerSource: number
  private readonly maxRequestsTotal: number
  private readonly requestTimeoutMs: number
  private readonly maxRequestsPerPiece: number
  private readonly endgameHeadWaitMs: number
  private readonly maxFarSources: number
  private readonly selfStripeHash: number | undefined
  private readonly stripeIdleMs: number
  private readonly declineBackoffMs: number
  private readonly partialSourceWaitMs: number
  /** Piece -> source -> declined until (ms). */
  private readonly declined = new Map<number, Map<string, number>>()
  /** nowMs of the current nextRequests pass. */
  private passNowMs = 0
  /** Live near sources with a stripe key in the current nextRequests pass. */
  private stripeOwners: Source[] = []
  /** Far peers allowed requests in the current nextRequests pass (undefined: all). */
  private farAllowed: Set<Source> | undefined

  /** A session for an item of `pieceCount` pieces. */
  constructor (pieceCount: number, init: DownloadSessionInit = {}) {
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 0) throw new RangeError(`pieceCount must be a non-negative integer, got ${pieceCount}`)
    this.pieceCount = pieceCount
    this.done = init.verified?.clone() ?? new Bitfield(pieceCount)
    if (this.done.length !== pieceCount) throw new RangeError(`verified bitfield has ${this.done.length} bits, expected ${pieceCount}`)
    this.maxRequestsPerSource = positiveInt('maxRequestsPerSource', init.maxRequestsPerSource ?? DEFAULT_MAX_REQUESTS_PER_SOURCE)
    this.maxRequestsTotal = positiveInt('maxRequestsTotal', init.maxRequestsTotal ?? DEFAULT_MAX_REQUESTS_TOTAL)
    this.requestTimeoutMs = positiveInt('requestTimeoutMs', init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
    this.maxRequestsPerPiece = positiveInt('maxRequestsPerPiece', init.maxRequestsPerPiece ?? DEFAULT_MAX_REQUESTS_PER_PIECE)
    this.endgameHeadWaitMs = nonNegativeInt('endgameHeadWaitMs', init.endgameHeadWaitMs ?? DEFAULT_ENDGAME_HEAD_WAIT_MS)
    const maxFar = init.maxFarSources ?? DEFAULT_MAX_FAR_SOURCES
    this.maxFarSources = maxFar === Infinity ? Infinity : nonNegativeInt('maxFarSources', maxFar)
    this.selfStripeHash = init.stripeKey == null ? undefined : stripeHash(init.stripeKey)
    this.stripeIdleMs = positiveInt('stripeIdleMs', init.stripeIdleMs ?? DEFAULT_STRIPE_IDLE_MS)
    this.declineBackoffMs = positiveInt('declineBackoffMs', init.declineBackoffMs ?? DEFAULT_DECLINE_BACKOFF_MS)
    this.partialSourceWaitMs = nonNegativeInt('partialSourceWaitMs', init.partialSourceWaitMs ?? DEFAULT_PARTIAL_SOURCE_WAIT_MS)
    this.peerAvailability = new Uint32Array(pieceCount)
    this.originAvailability = new Uint32Array(pieceCount)
    this.rank = new Uint32Array(pieceCount)
    for (let i = 0; i < pieceCount; i++) this.rank[i] = i
    if (init.random != null) {
      // Fisher-Yates: a random permutation so equal-availability ties spread peers over different pieces.
      for (let i = pieceCount - 1; i > 0; i--) {
        const j = Math.floor(init.random() * (i + 1))
        const t = this.rank[i]; this.rank[i] = this.rank[j]; this.rank[j] = t
      }
    }
  }

  /** Pieces verified so far (a live view: do not modify). */
  get verified (): Bitfield {
    return this.done
  }

  /** True when every piece is verified. */
  get isComplete (): boolean {
    return this.done.isFull
  }

  /** True when `sourceId` was banned for sending a bad piece. */
  isBanned (sourceId: string): boolean {
    return this.banned.has(sourceId)
  }

  /** Counters for progress reporting. */
  stats (): SessionStats {
    return {
      pieceCount: this.pieceCount,
      verifiedPieces: this.done.count,
      requestsInFlight: this.totalInFlight,
      sources: this.sources.size,
      chokedSources: [...this.sources.values()].filter(src => src.choked).length,
      bannedSources: this.banned.size,
      endgame: this.inEndgame
    }
  }

  /** Adds a source with what it holds; returns false (and ignores it) if it is banned or already present. */
  addSource (sourceId: string, bitfield: Bitfield, init: AddSourceInit = {}): boolean {
    if (this.banned.has(sourceId) || this.sources.has(sourceId)) return false
    if (bitfield.length !== this.pieceCount) throw new RangeError(`source bitfield has ${bitfield.length} bits, expected ${this.pieceCount}`)
    const src: Source = {
      id: sourceId,
      isOrigin: init.isOrigin ?? false,
      has: bitfield.clone(),
      maxRequests: positiveInt('maxRequests', init.maxRequests ?? this.maxRequestsPerSource),
      preference: Math.max(0, Math.min(1.99, init.preference ?? 0)),
      choked: false,
      stripeHash: init.stripeKey == null ? undefined : stripeHash(init.stripeKey),
      lastProgressMs: undefined,
      lastHeardMs: undefined,
      inFlight: new Map()
    }
    this.sources.set(sourceId, src)
    const avail = src.isOrigin ? this.originAvailability : this.peerAvailability
    for (let i = 0; i < this.pieceCount; i++) if (src.has.get(i)) avail[i]++
    this.orderDirty = true
    return true
  }

  /** A source announced a new piece (at `nowMs`, which keeps its stripe live). */
  have (sourceId: string, index: number, nowMs?: number): void {
    const src = this.sources.get(sourceId)
    if (src == null || index < 0 || index >= this.pieceCount || !Number.isInteger(index)) return
    if (nowMs !== undefined) { src.lastProgressMs = nowMs; src.lastHeardMs = nowMs }
    if (src.has.set(index)) {
      (src.isOrigin ? this.originAvailability : this.peerAvailability)[index]++
      this.orderDirty = true
    }
  }

  /**
   * The source choked us: it gets no request until unchoke(), and its
   * outstanding requests go back to the pool (the source dropped its queue),
   * unless `onTheWire`: the source had already started sending them all (a
   * server with no queue, as the simulator models one), so they stay in
   * flight and their pieces are awaited.
   */
  choke (sourceId: string, onTheWire = false): void {
    const src = this.sources.get(sourceId)
    if (src == null) return
    src.choked = true
    if (!onTheWire) for (const index of [...src.inFlight.keys()]) this.dropRequest(src, index)
  }

  /** The source unchoked us: it may be asked again. */
  unchoke (sourceId: string): void {
    const src = this.sources.get(sourceId)
    if (src != null) src.choked = false
  }

  /** True when the source is present and choking us. */
  isChoked (sourceId: string): boolean {
    return this.sources.get(sourceId)?.choked === true
  }

  /** Forgets a source (disconnected); its outstanding requests go back to the pool. */
  removeSource (sourceId: string): void {
    const src = this.sources.get(sourceId)
    if (src == null) return
    for (const index of [...src.inFlight.keys()]) this.dropRequest(src, index)
    const avail = src.isOrigin ? this.originAvailability : this.peerAvailability
    for (let i = 0; i < this.pieceCount; i++) if (src.has.get(i)) avail[i]--
    this.sources.delete(sourceId)
    this.orderDirty = true
  }

  /**
   * Restricts the first picks to pieces `startPiece` (inclusive) to
   * `endPiece` (exclusive), in index order: a streaming playhead's window.
   * An empty range (start >= end) turns it off.
   */
  setPriorityRange (startPiece: number, endPiece: number): void {
    this.priorityStart = Math.max(0, Math.min(this.pieceCount, Math.floor(startPiece)))
    this.priorityEnd = Math.max(this.priorityStart, Math.min(this.pieceCount, Math.floor(endPiece)))
  }

  /**
   * A piece arrived from a source. Returns true if the driver should verify
   * it (the session still needs it); its request stops counting against
   * the source's pipeline and the piece is held until onPieceVerified or
   * onPieceFailed.
   */
  onPieceReceived (sourceId: string, index: number): boolean {
    const src = this.sources.get(sourceId)
    if (src == null || !Number.isInteger(index) || index < 0 || index >= this.pieceCount) return false
    const wasRequested = src.inFlight.has(index)
    if (wasRequested) this.dropRequest(src, index)
    if (this.done.get(index) || this.verifying.has(index)) return false
    this.verifying.set(index, sourceId)
    return true
  }

  /** The piece from `sourceId` matched its hash and is kept; returns cancels for duplicate requests. */
  onPieceVerified (sourceId: string, index: number, nowMs: number): SessionEffect[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return []
    this.verifying.delete(index)
    this.slowFrom.delete(index)
    this.declined.delete(index)
    const src = this.sources.get(sourceId)
    if (src != null && this.partialSourceWaitMs > 0) src.lastHeardMs = nowMs
    if (src?.inFlight.has(index) === true) this.dropRequest(src, index)
    if (!this.done.set(index)) return []
    const effects: SessionEffect[] = []
    for (const other of [...(this.requested.get(index) ?? [])]) {
      const o = this.sources.get(other)
      if (o == null) continue
      this.dropRequest(o, index)
      effects.push({ type: 'cancel', sourceId: other, index })
    }
    return effects
  }

  /** The piece from `sourceId` failed verification: the source is banned and the piece goes back to the pool. */
  onPieceFailed (sourceId: string, index: number, _nowMs: number, reason = `piece ${index} failed verification`): SessionEffect[] {
    if (this.verifying.get(index) === sourceId) this.verifying.delete(index)
    if (this.banned.has(sourceId)) return []
    this.banned.add(sourceId)
    this.removeSource(sourceId)
    return [{ type: 'ban', sourceId, index, reason }]
  }

  /** The source said it does not have the piece after all: it is not asked for it again. */
  onRequestRejected (sourceId: string, index: number): void {
    const src = this.sources.get(sourceId)
    if (src == null || !Number.isInteger(index) || index < 0 || index >= this.pieceCount) return
    if (src.inFlight.has(index)) this.dropRequest(src, index)
    if (src.has.clear(index)) {
      (src.isOrigin ? this.originAvailability : this.peerAvailability)[index]--
      this.orderDirty = true
    }
  }

  /** The source declined piece `index` for now (a busy origin's spread rule): ask others, or it again after declineBackoffMs. */
  onRequestDeclined (sourceId: string, index: number, nowMs: number): void {
    const src = this.sources.get(sourceId)
    if (src == null || !Number.isInteger(index) || index < 0 || index >= this.pieceCount) return
    if (src.inFlight.has(index)) this.dropRequest(src, index)
    let bySource = this.declined.get(index)
    if (bySource == null) { bySource = new Map(); this.declined.set(index, bySource) }
    bySource.set(sourceId, nowMs + this.declineBackoffMs)
  }

  /**
   * When nextRequests may answer differently with no other input, ms: a
   * decline back-off ends, or a near source's stripe goes idle (its pieces
   * fall back to us). Undefined when nothing is pending. A driver with
   * nothing in flight pumps again then.
   */
  nextWakeMs (nowMs: number): number | undefined {
    let earliest: number | undefined
    const consider = (t: number): void => { if (t > nowMs && (earliest === undefined || t < earliest)) earliest = t }
    for (const bySource of this.declined.values()) for (const untilMs of bySource.values()) consider(untilMs)
    for (const src of this.stripeOwners) if (src.lastProgressMs !== undefined) consider(src.lastProgressMs + this.stripeIdleMs)
    return earliest
  }

  /**
   * True when this incomplete download should give up (see the file's
   * rules): nothing is on its way (`underWay`, the shell's count) and no
   * source in the session can still deliver. Ask after pumping
   * `nextRequests`.
   */
  givesUp (nowMs: number, underWay: SourcesUnderWay): boolean {
    if (this.done.isFull || underWay.connecting > 0 || this.totalInFlight > 0 || this.verifying.size > 0) return false
    for (const src of this.sources.values()) {
      if (src.choked) return false
      if (this.partialSourceWaitMs > 0 && !src.has.isFull && nowMs - (src.lastHeardMs ?? nowMs) < this.partialSourceWaitMs) return false
    }
    return this.nextWakeMs(nowMs) === undefined
  }

  /** When the next request would time out (ms), or undefined if none is outstanding: for the driver's timer. */
  nextTimeoutMs (): number | undefined {
    let earliest: number | undefined
    for (const src of this.sources.values()) {
      for (const sentAt of src.inFlight.values()) {
        if (earliest === undefined || sentAt < earliest) earliest = sentAt
      }
    }
    return earliest === undefined ? undefined : earliest + this.requestTimeoutMs
  }

  /** Cancels requests outstanding for requestTimeoutMs or more; their pieces avoid that source next time. */
  onRequestTimeout (nowMs: number): SessionEffect[] {
    const effects: SessionEffect[] = []
    for (const src of this.sources.values()) {
      for (const [index, sentAt] of [...src.inFlight]) {
        if (nowMs - sentAt < this.requestTimeoutMs) continue
        this.dropRequest(src, index)
        let slow = this.slowFrom.get(index)
        if (slow == null) { slow = new Set(); this.slowFrom.set(index, slow) }
        slow.add(src.id)
        effects.push({ type: 'cancel', sourceId: src.id, index })
      }
    }
    return effects
  }

  /** New requests to send now, within every limit (see the file's rules). */
  nextRequests (nowMs: number): SessionEffect[] {
    const effects: SessionEffect[] = []
    this.inEndgame = false
    if (this.done.isFull || this.sources.size === 0) return effects
    this.passNowMs = nowMs
    if (this.partialSourceWaitMs > 0) for (const src of this.sources.values()) src.lastHeardMs ??= nowMs
    this.farAllowed = this.chooseFarSources()
    this.stripeOwners = []
    if (this.selfStripeHash !== undefined) {
      for (const src of this.sources.values()) {
        if (src.isOrigin || src.preference >= 1 || src.stripeHash === undefined) continue
        src.lastProgressMs ??= nowMs
        if (nowMs - src.lastProgressMs < this.stripeIdleMs) this.stripeOwners.push(src)
      }
    }
    const assign = (index: number, allowOrigin: boolean, duplicate: boolean): boolean => {
      if (this.totalInFlight >= this.maxRequestsTotal) return false
      const src = this.pickSource(index, allowOrigin, duplicate)
      if (src == null) return false
      src.inFlight.set(index, nowMs)
      let set = this.requested.get(index)
      if (set == null) { set = new Set(); this.requested.set(index, set) }
      set.add(src.id)
      this.totalInFlight++
      effects.push({ type: 'request', sourceId: src.id, index })
      return true
    }
    const free = (i: number): boolean => !this.done.get(i) && !this.requested.has(i) && !this.verifying.has(i)

    // 1. The playhead's window, in order; an origin may serve it if no peer can now.
    for (let i = this.priorityStart; i < this.priorityEnd; i++) {
      if (free(i)) assign(i, true, false)
    }
    // 2. Pieces a peer let time out may go to anyone, the origin included.
    for (const i of this.slowFrom.keys()) {
      if (free(i)) assign(i, true, false)
    }
    // 3. Rarest first. Pieces no peer has sort first (availability 0), so an
    //    origin's share is a prefix and the scan can stop at the first piece
    //    nobody can take.
    if (this.orderDirty) this.rebuildOrder()
    let unassignedWithHolder = 0
    let write = 0
    for (let k = 0; k < this.order.length; k++) {
      const i = this.order[k]
      if (this.done.get(i)) continue
      this.order[write++] = i
      if (!free(i)) continue
      const holders = this.peerAvailability[i] + this.originAvailability[i]
      if (holders === 0) continue
      // A deferred piece counts as unassigned: endgame must not start while near owners still fetch it.
      if (this.stripeOwners.length > 0 && this.belongsToNearSource(i)) { unassignedWithHolder++; continue }
      if (assign(i, this.peerAvailability[i] === 0, false)) continue
      unassignedWithHolder++
      // Stop when nothing later can be placed: the total is reached, or no
      // peer has room and origins have none or may not take pieces peers
      // hold (later pieces have at least this availability). Keep the tail.
      if (this.totalInFlight >= this.maxRequestsTotal ||
          (!this.hasRoom(false) && (this.peerAvailability[i] > 0 || !this.hasRoom(true)))) {
        for (let r = k + 1; r < this.order.length; r++) this.order[write++] = this.order[r]
        break
      }
    }
    this.order.length = write
    // 4. Endgame: every missing piece with a holder is requested; idle sources duplicate.
    if (unassignedWithHolder === 0 && this.requested.size > 0) {
      this.inEndgame = true
      const onTheWire = this.recentHeads(nowMs)
      const depth = this.queueDepths()
      // Fewest copies first; among equals the one deepest in its source's queue (the newest request).
      const pieces = [...this.requested.entries()].map(([i, set]) => ({ i, copies: set.size, depth: depth.get(i) ?? 0 }))
        .sort((a, b) => (a.copies - b.copies) || (b.depth - a.depth))
      for (const { i, copies } of pieces) {
        if (copies >= this.maxRequestsPerPiece || this.verifying.has(i) || onTheWire.has(i)) continue
        assign(i, false, true)
      }
    }
    return effects
  }

  /** Pieces that are some source's oldest outstanding request (being sent) and younger than endgameHeadWaitMs. */
  private recentHeads (nowMs: number): Set<number> {
    const heads = new Set<number>()
    for (const src of this.sources.values()) {
      // inFlight keeps request order: its first entry is the oldest request.
      const first = src.inFlight.entries().next()
      if (first.done !== true && nowMs - first.value[1] < this.endgameHeadWaitMs) heads.add(first.value[0])
    }
    return heads
  }

  /** Outstanding piece -> its deepest position in a source's queue (0: the request being sent). */
  private queueDepths (): Map<number, number> {
    const depth = new Map<number, number>()
    for (const src of this.sources.values()) {
      let at = 0
      for (const index of src.inFlight.keys()) { depth.set(index, Math.max(depth.get(index) ?? 0, at)); at++ }
    }
    return depth
  }

  private pickSource (index: number, allowOrigin: boolean, duplicate: boolean): Source | undefined {
    const already = this.requested.get(index)
    const slow = this.slowFrom.get(index)
    let nearOnly = false
    if (slow == null) {
      for (const src of this.sources.values()) {
        if (src.preference < 1 && !src.isOrigin && !src.choked && src.has.get(index)) { nearOnly = true; break }
      }
    }
    // The far-source limit applies only when some allowed peer could serve this piece at all, so a piece only a disallowed far peer holds still gets fetched.
    let limitFar = false
    if (this.farAllowed != null) {
      for (const src of this.sources.values()) {
        if (!src.isOrigin && !src.choked && src.has.get(index) && (src.preference < 1 || this.farAllowed.has(src))) { limitFar = true; break }
      }
    }
    const declined = this.declined.get(index)
    let best: Source | undefined
    let bestScore = Infinity
    for (const src of this.sources.values()) {
      if (src.choked || src.inFlight.size >= src.maxRequests || !src.has.get(index)) continue
      if (declined != null && (declined.get(src.id) ?? -Infinity) > this.passNowMs) continue
      if (src.isOrigin && !allowOrigin) continue
      if (nearOnly && (src.isOrigin || src.preference >= 1)) continue
      if (limitFar && !src.isOrigin && src.preference >= 1 && this.farAllowed?.has(src) !== true) continue
      if (duplicate && (src.inFlight.size > 0 || already?.has(src.id) === true || slow?.has(src.id) === true)) continue
      // Lower is better: peers, then origins, then sources that were slow for this piece; nearest, then least loaded, within each.
      const score = (src.isOrigin ? 4 : 0) + (slow?.has(src.id) === true ? 8 : 0) + src.preference + src.inFlight.size / src.maxRequests
      if (score < bestScore) { best = src; bestScore = score }
    }
    return best
  }

  /** True when no near source holds piece `index` and a live near source owns its stripe (see the rules). */
  private belongsToNearSource (index: number): boolean {
    for (const src of this.sources.values()) {
      if (!src.isOrigin && src.preference < 1 && src.has.get(index)) return false
    }
    const self = this.selfStripeHash as number
    let best = mix(self, index)
    for (const src of this.stripeOwners) {
      const h = mix(src.stripeHash as number, index)
      if (h > best) return true
      // Equal hashes (a 1 in 2^32 chance): the piece stays ours, so every tie is fetched by someone.
      if (h === best) best = h
    }
    return false
  }

  /** The far peers that may get requests now, or undefined when the rule does not apply (no near source, or no limit). */
  private chooseFarSources (): Set<Source> | undefined {
    if (this.maxFarSources === Infinity) return undefined
    let hasNear = false
    const far: Source[] = []
    for (const src of this.sources.values()) {
      if (src.isOrigin) continue
      if (src.preference < 1) hasNear = true
      else if (!src.choked) far.push(src)
    }
    if (!hasNear) return undefined
    far.sort((a, b) => a.preference - b.preference)
    return new Set(far.slice(0, this.maxFarSources))
  }

  private hasRoom (origin: boolean): boolean {
    for (const src of this.sources.values()) {
      if (src.isOrigin === origin && !src.choked && src.inFlight.size < src.maxRequests &&
          (origin || src.preference < 1 || this.farAllowed == null || this.farAllowed.has(src))) return true
    }
    return false
  }

  private dropRequest (src: Source, index: number): void {
    if (!src.inFlight.delete(index)) return
    this.totalInFlight--
    const set = this.requested.get(index)
    if (set != null) {
      set.delete(src.id)
      if (set.size === 0) this.requested.delete(index)
    }
  }

  private rebuildOrder (): void {
    const order: number[] = []
    for (let i = 0; i < this.pieceCount; i++) if (!this.done.get(i)) order.push(i)
    const pa = this.peerAvailability
    const rank = this.rank
    order.sort((a, b) => (pa[a] - pa[b]) || (rank[a] - rank[b]))
    this.order = order
    this.orderDirty = false
  }
}

/** A well-mixed 32-bit hash of a stripe key (a peer id): murmur3's steps over its UTF-16 units (a SHA-256 per source cost ~10 µs). */
function stripeHash (key: string): number {
  let h = 0x9747b28c
  for (let i = 0; i < key.length; i++) h = mixWord(h, key.charCodeAt(i))
  return fmix32((h ^ key.length) >>> 0)
}

/** Rendezvous hash of (key, piece index): which near peer a piece belongs to. */
function mix (keyHash: number, index: number): number {
  return fmix32((keyHash ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)
}

function nonNegativeInt (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer or Infinity, got ${value}`)
  return value
}

function positiveInt (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}
