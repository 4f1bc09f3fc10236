/**
 * The upload policy of one serving node, sans-IO: who is served now and
 * what a busy origin serves. The libp2p shell (src/net/upload-gate.ts)
 * and the simulator shell (sim/node/swarmcdn-node.ts) drive the same
 * object: they admit requesters as streams (or simulated requesters)
 * arrive, release them when they leave, ask before serving a piece, and
 * turn the returned changes into choke/unchoke messages.
 *
 * Rules:
 * - Upload slots (UploadSlots: BitTorrent's choking, near first,
 *   reciprocation, optimistic slot) decide who is unchoked, recomputed on
 *   every admit and release and at `nextDeadlineMs`.
 * - Busy mode (`busyThresholdRequesters`): an item with fewer concurrent
 *   requesters than the threshold is served to everyone (the long tail:
 *   only the origin has it); from the threshold on, its requesters go
 *   through the slots and the choked ones are told to use peers. Without
 *   a threshold the slots always apply (a peer's normal policy).
 * - On a busy item the origin spreads pieces (`spreadPieces`, default on
 *   with the threshold): each piece once before repeating any
 *   (PieceSpread, core/swarm/origin-spread.ts).
 * - Reciprocation: bytes received from a peer over the last
 *   RECIPROCATION_WINDOW_MS count as its upload rate to us.
 * - Slots go to requesters that read (hostile peers). A requester whose
 *   stream stopped reading (`stalled`) loses its slot with the stream, and
 *   every other requester of the same peer is choked for `stallPenaltyMs`
 *   whatever its item, so a peer that holds slots without reading cannot
 *   take them back with its next stream. A slot holder that has asked for
 *   nothing and been sent nothing for `idleSlotMs` gives its slot up (it is
 *   choked) unless it has shown it reads and has a piece on its way (a
 *   slow link is not idleness) and waits behind every requester that asks until it asks again
 *   (BitTorrent gives slots to interested peers only). Until a requester
 *   has shown it reads (it asks again after a piece went out), the pieces the spread rule admits for
 *   it count as served only once it shows it reads (a piece handed to the
 *   transport is not read: pieces sent to 16 streams that never read were
 *   declined to a legitimate downloader, a 1 s back-off each): requests
 *   that are never read cannot make a busy origin decline those pieces to
 *   everyone else.
 * - Slots spread over networks first (UploadSlots `groupPreempts`, a
 *   requester's group is its /24 or /48, else its peer id): a newcomer of
 *   a network with no slot takes one at once from a network holding two
 *   or more, so streams that never read cannot hold every slot until the
 *   stall timeout finds them.
 */
import { DEFAULT_OPTIMISTIC_SLOTS, DEFAULT_REGULAR_SLOTS, UploadSlots, type UploadRequester, type UploadSlotsInit } from './upload-slots.js'
import { PieceSpread, isBusyItem } from './origin-spread.js'
import { sourceNetworkOf } from '../proximity/source-network.js'
import { AdmissionOrder } from './admission-order.js'

/** Time over which received bytes count as a peer's reciprocation rate, ms. */
export const RECIPROCATION_WINDOW_MS = 20_000
/** Most peers whose received bytes are tracked for reciprocation, and most peers penalized at once. */
export const MAX_TRACKED_PEERS = 4096
/** Default time a peer whose stream stalled is kept choked, ms. */
export const DEFAULT_STALL_PENALTY_MS = 60_000
/** Default time a slot holder may ask for and receive nothing before its slot goes to someone who asks, ms. */
export const DEFAULT_IDLE_SLOT_MS = 5_000

/** Options for UploadPolicy (the slots' options plus busy mode). */
export interface UploadPolicyInit extends UploadSlotsInit {
  /** Busy mode (see the file's rules): requesters of one item from which slots apply. Default: slots always apply. */
  busyThresholdRequesters?: number
  /** On a busy item, serve each piece once before repeating any. Default: true when busyThresholdRequesters is set. */
  spreadPieces?: boolean
  /** PieceSpread's repeatAfterMs. Default DEFAULT_SPREAD_REPEAT_AFTER_MS (10 s). */
  spreadRepeatAfterMs?: number
  /** A peer whose stream stopped reading stays choked on all its streams this long, ms. Default DEFAULT_STALL_PENALTY_MS (60 s). */
  stallPenaltyMs?: number
  /** A slot holder that asks for and receives nothing this long gives its slot to a requester that asks, ms. Default DEFAULT_IDLE_SLOT_MS (5 s). */
  idleSlotMs?: number
  /** Orders requesters nearest first (rankPeers over their addresses). Default: arrival order. */
  rank?: (requesters: PolicyRequester[]) => PolicyRequester[]
  /** True for a requester in this node's near class (same AS by rankPeers' rule 1), for `nearFirst`. Default: nobody is near. */
  isNear?: (requester: PolicyRequester) => boolean
}

/** One admitted requester: an item asked by a peer. */
export interface PolicyRequester {
  /** The item asked for (a content id, or a simulated item's name). */
  item: string
  /** The requester's peer id (reciprocation is per peer). */
  peerId: string
  /** Pieces of the item, for the spread rule; undefined: no spreading. */
  pieceCount?: number
  /** The requester's address as the connection shows it (multiaddr), for `rank` and `isNear`. */
  remoteAddr?: string
  /** In this node's near class (same AS), when the caller knows it without `isNear`. Default false. */
  near?: boolean
  /**
   * Known to read what it asks for from the start. The simulator's modelled
   * requesters all read (the model has no non-readers), and its coarse
   * pieces take longer than idleSlotMs to send, so a first piece on its
   * way must keep their slot. Default false: a requester shows it reads by
   * asking again after a piece went out.
   */
  reads?: boolean
}

/** A requester whose state changed: send it choke or unchoke. */
export interface ChokeChange { key: string, choked: boolean }

interface Admitted {
  /** Its key in `admitted`. */
  key: string
  who: PolicyRequester
  choked: boolean
  /** Its stream stalled and is being reset: no change is reported for it any more. */
  stalledOut: boolean
  /** It asked for more after receiving a piece: its admitted pieces count for the spread at once. */
  reads: boolean
  /** A piece went out to it (`sent`): its next request shows it reads. */
  sentAny: boolean
  /** Pieces admitted before it was known to read, counted for the spread only when sent (at most one stream's queue). */
  unrecorded: Set<number> | undefined
  /** Pieces sent before it was known to read: given back to the spread if it stalls (at most one stream's queue). */
  sentUnconfirmed: number[] | undefined
  /** Last time it asked for a piece, was sent one, or was unchoked. */
  lastActiveMs: number
  /** Pieces admitted and not yet sent or dropped: a requester with a piece on its way is not idle, however slow its link. */
  pending: number
  /** It held a slot idle: it waits behind requesters that ask until it asks again. */
  idle: boolean
  /** Its UploadSlots group: its network (/24, /48) by its address, else its peer id; undefined without an address. */
  group: string | undefined
  /** Scratch of the last `decide`: it went idle in it; it was passed to the slots. */
  justIdled: boolean
  managed: boolean
  /** Admission order (the order of `admitted`): a decision walks requesters in it. */
  seq: number
  /** The `decide` that last took it as a candidate (dedupes the candidate list). */
  mark: number
  /** It left (`admitted` no longer holds it): a recheck entry that outlived it is skipped. */
  gone: boolean
  /** Its item's requesters (the set in `requestersOf`): its item's busyness without a lookup. */
  itemSet: Set<Admitted>
  /** It has an entry in `busyOrder` (live while its item is busy, stale after). */
  inOrder: boolean
  /** What the slots are told of it, rewritten at each decision (one object per requester, not per decision). */
  slotView: SlotView
}

/** UploadRequester as a decision fills it in. */
interface SlotView { id: string, rank: number, reciprocationBytesPerSec: number, near: boolean, group: string | undefined }

/** Upload slots + busy mode + piece spreading for one node (see the file's rules). */
export class UploadPolicy {
  private readonly slots: UploadSlots
  private readonly threshold: number | undefined
  private readonly spread: boolean
  private readonly admitted = new Map<string, Admitted>()
  /** Item -> what a busy origin served of it; dropped when its last requester leaves. */
  private readonly spreads = new Map<string, PieceSpread>()
  /** Item -> its admitted requesters, in admission order (the set's size is the item's requester count). */
  private readonly requestersOf = new Map<string, Set<Admitted>>()
  /**
   * Busy mode: the requesters of busy items in admission order (what a
   * decision walks), kept in order as they come instead of gathered and
   * sorted per decision (a 10^6-peer day's origins decide over thousands).
   * Entries that left or whose item stopped being busy are stale: skipped,
   * and dropped once they are many.
   */
  private readonly busyOrder = new AdmissionOrder<Admitted>()
  /** Peer -> its admitted requesters, in admission order. */
  private readonly requestersOfPeer = new Map<string, Set<Admitted>>()
  /**
   * Busy mode: requesters whose state a `decide` must look at although their
   * item is not busy (just admitted, their item just stopped being busy,
   * their peer's penalty began or ended). Every other requester of an item
   * that is not busy is, after each decision, unchoked unless penalized,
   * and no decision can change that (see `decide`).
   */
  private readonly recheck: Admitted[] = []
  private nextSeq = 0
  /** Admitted requesters with a slot group (an address): while any, decisions take the full path. */
  private grouped = 0
  /** The last decision left a slot holder out as idle (the next one lists it again). */
  private idledAtLastDecision = false
  private decisions = 0
  private readonly received = new Map<string, Array<{ atMs: number, bytes: number }>>()
  /** Unchoked requesters holding a slot, as of the last decision. */
  private slotsHeld = 0
  /** Peer -> until when it is choked for a stalled stream (at most MAX_TRACKED_PEERS). */
  private readonly penalized = new Map<string, number>()
  private readonly stallPenaltyMs: number
  private readonly idleSlotMs: number
  /** Requesters whose stream stalled so far (metrics). */
  stallsSeen = 0
  /** Times an item became busy (its requesters reached busyThresholdRequesters) so far (metrics). */
  busyTimes = 0
  /** Pieces declined by the spread rule (metrics). */
  piecesDeclined = 0
  /** Chokes decided so far (metrics). */
  chokes = 0

  constructor (private readonly init: UploadPolicyInit = {}) {
    this.slots = new UploadSlots(init)
    this.threshold = init.busyThresholdRequesters
    this.spread = init.spreadPieces ?? this.threshold != null
    this.stallPenaltyMs = init.stallPenaltyMs ?? DEFAULT_STALL_PENALTY_MS
    this.idleSlotMs = init.idleSlotMs ?? DEFAULT_IDLE_SLOT_MS
  }

  /** Requesters admitted now. */
  get size (): number { return this.admitted.size }

  /** True when requester `key` is admitted. */
  has (key: string): boolean { return this.admitted.has(key) }

  /** True while requester `key` must not be served. */
  isChoked (key: string): boolean { return this.admitted.get(key)?.choked ?? true }

  /**
   * Share of the upload slots in use (0-1): unchoked requesters that hold a
   * slot over regular + optimistic slots; 0 with unlimited slots. The
   * overlay peer's load input (a supernode sheds new leaves near 1).
   */
  slotUtilization (): number {
    const slots = (this.init.regularSlots ?? DEFAULT_REGULAR_SLOTS) + (this.init.optimisticSlots ?? DEFAULT_OPTIMISTIC_SLOTS)
    if (!Number.isFinite(slots) || slots <= 0) return 0
    return Math.min(1, this.slotsHeld / slots)
  }

  /** Requesters unchoked now. */
  unchokedCount (): number {
    let n = 0
    for (const a of this.admitted.values()) if (!a.choked) n++
    return n
  }

  /** True when `item` has enough requesters to be busy (its choked requesters should use peers). */
  isBusy (item: string): boolean { return isBusyItem(this.requestersOf.get(item)?.size ?? 0, this.threshold) }

  /** Every requester of `item` (to tell them `have`). */
  keysOf (item: string): string[] {
    const out: string[] = []
    for (const a of this.requestersOf.get(item) ?? NO_REQUESTERS) out.push(a.key)
    return out
  }

  /**
   * The requesters to tell again, with names, when a busy origin learns of
   * holders it did not know (BusyAlternatives.found): the choked requesters
   * of `item` while it is busy; none once it is not (its chokes name nobody).
   */
  chokedOf (item: string): string[] {
    const out: string[] = []
    if (!this.isBusy(item)) return out
    for (const a of this.requestersOf.get(item) ?? NO_REQUESTERS) if (a.choked) out.push(a.key)
    return out
  }

  /** Admits requester `key`; returns the OTHER requesters whose state changed (the new one reads `isChoked(key)`). */
  admit (nowMs: number, key: string, who: PolicyRequester): ChokeChange[] {
    if (this.admitted.has(key)) return []
    const a: Admitted = { key, who, choked: true, stalledOut: false, reads: who.reads === true, sentAny: false, unrecorded: undefined, sentUnconfirmed: undefined, lastActiveMs: nowMs, pending: 0, idle: false, group: groupOf(who), justIdled: false, managed: false, seq: this.nextSeq++, mark: 0, gone: false, itemSet: addTo(this.requestersOf, who.item), inOrder: false, slotView: { id: key, rank: 0, reciprocationBytesPerSec: 0, near: false, group: undefined } }
    a.itemSet.add(a)
    this.admitted.set(key, a)
    this.recheck.push(a)
    addTo(this.requestersOfPeer, who.peerId).add(a)
    const requesters = a.itemSet.size
    if (this.itemBusy(a)) {
      // Requesters come one at a time, so an item becomes busy exactly when it reaches the threshold:
      // its earlier requesters then join the walk in their admission order.
      if (requesters === this.threshold) {
        this.busyTimes++
        for (const other of a.itemSet) if (other !== a) this.busyOrder.enter(other)
      }
      this.busyOrder.enter(a)
    }
    if (a.group !== undefined) this.grouped++
    // A far newcomer to a crowd whose slots are full, with nothing due: it waits, and nobody else's state can change.
    const quiet = this.recheck.length === 1 && this.threshold != null && requesters > this.threshold &&
      !(this.init.isNear?.(who) ?? who.near === true) && this.quiet(nowMs)
    if (quiet) {
      this.recheck.length = 0
      a.managed = true
      this.slots.waiting(nowMs, key)
      this.chokes++
      return []
    }
    const changes = this.decide(nowMs)
    const mine = changes.findIndex(c => c.key === key)
    if (mine >= 0) changes.splice(mine, 1)
    if (this.isChoked(key)) this.chokes++
    return changes
  }

  /** Peer ids with a requester admitted now. */
  peerIds (): string[] {
    const out = new Set<string>()
    for (const a of this.admitted.values()) out.add(a.who.peerId)
    return [...out]
  }

  /** Every requester of `peerId` left (its connection closed). */
  releasePeer (nowMs: number, peerId: string): ChokeChange[] {
    const mine = this.requestersOfPeer.get(peerId)
    if (mine === undefined) return []
    const keys: string[] = []
    for (const a of mine) keys.push(a.key)
    for (const key of keys) this.dropAdmitted(key)
    return this.decide(nowMs)
  }

  /** Requester `key` left: frees its slot. */
  release (nowMs: number, key: string): ChokeChange[] {
    const a = this.admitted.get(key)
    if (a === undefined || !this.dropAdmitted(key)) return []
    // A waiting requester left a crowd that stays busy, with nothing due: it held no slot, so nobody's state can change.
    if (a.choked && !a.stalledOut && this.recheck.length === 0 && this.itemBusy(a) && this.quiet(nowMs)) {
      this.slots.forget(key)
      return []
    }
    return this.decide(nowMs)
  }

  /**
   * True when a decision now could change no requester's state beyond the
   * one arriving or leaving (checked by the caller: a far newcomer to an
   * item already busy, or a choked requester leaving an item that stays
   * busy), so it need not visit the crowd. The conditions, each what the
   * decision would otherwise act on: busy mode without `rank`, slot groups,
   * reciprocation or penalties (the simulator's origins; the libp2p
   * seeder's requesters carry addresses, so it always decides); every slot
   * taken and no rechoke or optimistic rotation due; no slot holder going
   * idle now and none left out as idle at the last decision (it would be
   * listed again now). Under them, the last decision's slots stand: they
   * are full, near requesters took far ones' slots then, and the
   * requesters' order is unchanged (the newcomer is far and the last of its
   * class; the leaver held no slot). The differential test
   * (upload-policy-order.test.ts) holds it to the full decision.
   */
  private quiet (nowMs: number): boolean {
    if (this.threshold == null || this.init.rank != null || this.grouped > 0 || this.received.size > 0 || this.penalized.size > 0 || this.idledAtLastDecision) return false
    if (!this.slots.full() || nowMs >= this.slots.nextDeadlineMs()) return false
    for (const key of this.slots.unchoked()) {
      const h = this.admitted.get(key)
      if (h !== undefined && this.idleDue(nowMs, h, Infinity) <= nowMs) return false
    }
    return true
  }

  private dropAdmitted (key: string): boolean {
    const a = this.admitted.get(key)
    if (a == null) return false
    this.admitted.delete(key)
    a.gone = true
    if (a.group !== undefined) this.grouped--
    const item = a.who.item
    const wasBusy = this.itemBusy(a)
    // Its entry was live only while its item was busy (an entry already stale is counted once).
    if (wasBusy) this.busyOrder.staled(a)
    const n = removeFrom(this.requestersOf, item, a)
    removeFrom(this.requestersOfPeer, a.who.peerId, a)
    const nowBusy = isBusyItem(n, this.threshold)
    if (n <= 0) this.spreads.delete(item)
    else {
      this.spreads.get(item)?.forget(key)
      // Its requesters leave the slots: the next decision unchokes them.
      if (wasBusy && !nowBusy) {
        for (const other of a.itemSet) {
          this.recheck.push(other)
          this.busyOrder.staled(other)
        }
      }
    }
    return true
  }

  /** True while `a`'s item is busy. */
  private itemBusy (a: Admitted): boolean { return isBusyItem(a.itemSet.size, this.threshold) }

  /** Asked before serving piece `index` to `key`: false declines it for now (a busy origin's spread rule). */
  admitPiece (nowMs: number, key: string, index: number): boolean {
    const a = this.admitted.get(key)
    if (a == null) return true
    if (!this.spread || a.who.pieceCount == null || !this.itemBusy(a)) { a.pending++; return true }
    let spread = this.spreads.get(a.who.item)
    if (spread == null) {
      spread = new PieceSpread(a.who.pieceCount, { repeatAfterMs: this.init.spreadRepeatAfterMs })
      this.spreads.set(a.who.item, spread)
    }
    // A requester that has read nothing yet may never read: what it is admitted counts once it was sent.
    const ok = a.reads ? spread.request(nowMs, index, key) : spread.check(nowMs, index, key)
    if (!ok) this.piecesDeclined++
    else {
      a.pending++
      if (!a.reads) (a.unrecorded ??= new Set()).add(index)
    }
    return ok
  }

  /** Requests `admitPiece` passed were dropped unserved (choke, cancel, stream end, a stalled write): the spread counts them back. */
  unqueued (key: string, indices: readonly number[]): void {
    const a = this.admitted.get(key)
    if (a == null) return
    const spread = this.spreads.get(a.who.item)
    a.pending = Math.max(0, a.pending - indices.length)
    for (const i of indices) {
      if (a.unrecorded?.delete(i) === true) continue
      spread?.unserve(i)
    }
  }

  /** The requester sent a request (served or not: while choked it is its "interested"); an idle one is back in line; after a piece went out to it, it reads. */
  requested (nowMs: number, key: string): ChokeChange[] {
    const a = this.admitted.get(key)
    if (a == null) return []
    // A requester that asks again after a piece went out has read it: the first requests alone let a non-reader "receive" pieces.
    if (!a.reads && a.sentAny) this.confirmReading(nowMs, a)
    a.lastActiveMs = nowMs
    if (!a.idle) return []
    a.idle = false
    return this.decide(nowMs)
  }

  /** Piece `index` went out whole to `key` (handed to the transport: not proof it reads). */
  sent (nowMs: number, key: string, index: number): void {
    const a = this.admitted.get(key)
    if (a == null) return
    a.lastActiveMs = nowMs
    a.sentAny = true
    if (a.pending > 0) a.pending--
    if (a.unrecorded?.delete(index) !== true) return
    // Handed to the transport is not read: it counts for the spread once the requester shows it reads.
    if (a.reads) this.spreads.get(a.who.item)?.recordServed(nowMs, index)
    else (a.sentUnconfirmed ??= []).push(index)
  }

  /** `a` asked for more after a piece was sent to it: it reads what it asks for (what it was sent now counts for the spread). */
  private confirmReading (nowMs: number, a: Admitted): void {
    a.reads = true
    const spread = this.spreads.get(a.who.item)
    for (const i of a.sentUnconfirmed ?? []) spread?.recordServed(nowMs, i)
    a.sentUnconfirmed = undefined
  }

  /** `key` stopped reading (its stream is being reset; `release` follows): its peer's other requesters are choked for stallPenaltyMs. */
  stalled (nowMs: number, key: string): ChokeChange[] {
    const a = this.admitted.get(key)
    if (a == null) return []
    this.stallsSeen++
    // What it was sent but never read was never counted for the spread (see `sent`): nothing to give back.
    a.sentUnconfirmed = undefined
    this.penalized.delete(a.who.peerId)
    this.penalized.set(a.who.peerId, nowMs + this.stallPenaltyMs)
    this.recheckPeer(a.who.peerId)
    if (this.penalized.size > MAX_TRACKED_PEERS) {
      const forgotten = this.penalized.keys().next().value as string
      this.penalized.delete(forgotten)
      this.recheckPeer(forgotten)
    }
    a.stalledOut = true
    return this.decide(nowMs)
  }

  /** Records `bytes` received from `peerId` (our download from it): its reciprocation. */
  recordReceived (nowMs: number, peerId: string, bytes: number): void {
    let list = this.received.get(peerId)
    if (list == null) {
      if (this.received.size >= MAX_TRACKED_PEERS) this.received.delete(this.received.keys().next().value as string)
      list = []
      this.received.set(peerId, list)
    }
    list.push({ atMs: nowMs, bytes })
  }

  /** When `timer` should run even if nothing happens, ms (rechoke, rotation, a penalty ending, a slot going idle); undefined with nobody admitted. */
  nextDeadlineMs (nowMs: number): number | undefined {
    if (this.admitted.size === 0) return undefined
    let due = this.slots.nextDeadlineMs()
    // A penalty that ends must unchoke its peer even when the slots have nothing due.
    for (const untilMs of this.penalized.values()) due = Math.min(due, untilMs)
    // A slot holder that goes idle must give its slot up on time, at once if its time passed while nothing ran
    // (a slow machine): the scan takes only holders the next decision would idle, so it cannot spin the timer.
    if (this.init.regularSlots !== Infinity) {
      if (this.threshold == null) {
        for (const a of this.admitted.values()) due = this.idleDue(nowMs, a, due)
      } else {
        // Only a busy item's unchoked requesters can go idle, and after each decision those are the slot holders
        // (a busy item's requester that is not penalized is choked unless the slots unchoked it): a few, not the crowd.
        for (const key of this.slots.unchoked()) {
          const a = this.admitted.get(key)
          if (a !== undefined) due = this.idleDue(nowMs, a, due)
        }
      }
    }
    return Number.isFinite(due) ? due : undefined
  }

  /** `due`, or earlier when slot holder `a` goes idle before it. */
  private idleDue (nowMs: number, a: Admitted, due: number): number {
    if (a.choked || a.idle || (a.pending > 0 && a.reads) || this.penalized.has(a.who.peerId) || !(this.threshold == null || this.itemBusy(a))) return due
    return Math.min(due, Math.max(nowMs, a.lastActiveMs + this.idleSlotMs))
  }

  /** Busy mode: `peerId`'s penalty began or ended; its requesters of items that are not busy change state at the next decision. */
  private recheckPeer (peerId: string): void {
    if (this.threshold == null) return
    for (const a of this.requestersOfPeer.get(peerId) ?? NO_REQUESTERS) this.recheck.push(a)
  }

  /**
   * The requesters a decision can change, in admission order: undefined
   * (all of them) without busy mode; with it, the requesters of busy items and those in
   * `recheck`. Why the others need no look: a requester of an item that is
   * not busy is not eligible, so the decision sets it choked exactly when
   * it is penalized; it was set so at the last decision, and what could
   * change that since (admission, the item leaving busy, a penalty
   * beginning or ending) put it in `recheck`.
   */
  private candidates (): Admitted[] | undefined {
    if (this.threshold == null) return undefined
    const mark = ++this.decisions
    this.busyOrder.compact(a => !a.gone && this.itemBusy(a))
    const out: Admitted[] = []
    // Both lists in admission order, merged: a decision walks requesters in it.
    const recheck = this.recheck
    if (recheck.length > 1) recheck.sort(bySeq)
    let j = 0
    for (const a of this.busyOrder.all) {
      if (a.gone || !this.itemBusy(a)) continue
      while (j < recheck.length && recheck[j].seq < a.seq) this.takeCandidate(recheck[j++], mark, out)
      this.takeCandidate(a, mark, out)
    }
    while (j < recheck.length) this.takeCandidate(recheck[j++], mark, out)
    recheck.length = 0
    return out
  }

  private takeCandidate (a: Admitted, mark: number, out: Admitted[]): void {
    // Once per decision, and not when it left since it was put on the recheck list.
    if (a.mark === mark || a.gone) return
    a.mark = mark
    out.push(a)
  }

  /** Periodic recomputation (rechoke, optimistic rotation). */
  timer (nowMs: number): ChokeChange[] { return this.decide(nowMs) }

  private reciprocation (peerId: string, nowMs: number): number {
    // An origin downloads nothing: no lookup per requester per decision.
    if (this.received.size === 0) return 0
    const list = this.received.get(peerId)
    if (list == null) return 0
    while (list.length > 0 && nowMs - list[0].atMs > RECIPROCATION_WINDOW_MS) list.shift()
    let sum = 0
    for (const r of list) sum += r.bytes
    return sum * 1000 / RECIPROCATION_WINDOW_MS
  }

  private isPenalized (a: Admitted): boolean { return a.stalledOut || (this.penalized.size > 0 && this.penalized.has(a.who.peerId)) }

  private eligible (a: Admitted): boolean { return !this.isPenalized(a) && (this.threshold == null || this.itemBusy(a)) }

  // Runs on every admit, release and request and at every rechoke (a simulated day calls it millions of
  // times): no closures, and the sets and maps of the straightforward version are flags on Admitted.
  private decide (nowMs: number): ChokeChange[] {
    if (this.penalized.size > 0) for (const [peerId, untilMs] of this.penalized) if (untilMs <= nowMs) { this.penalized.delete(peerId); this.recheckPeer(peerId) }
    const candidates = this.candidates()
    // A slot held idle is taken back now: left out of this update, the slots forget it and give its place to the best waiting.
    // With unlimited slots nobody waits for one: idleness costs nothing.
    const idling = this.init.regularSlots !== Infinity
    const managed: Admitted[] = []
    let idled = false
    for (const a of candidates ?? this.admitted.values()) {
      a.justIdled = idling && !a.choked && !a.idle && (a.pending === 0 || !a.reads) && this.eligible(a) && nowMs - a.lastActiveMs >= this.idleSlotMs
      if (a.justIdled) { a.idle = true; idled = true }
      a.managed = !a.justIdled && this.eligible(a)
      if (a.managed) managed.push(a)
    }
    this.idledAtLastDecision = idled
    const n = managed.length
    let rankOf: Map<PolicyRequester, number> | undefined
    let ranks = n
    if (this.init.rank != null) {
      const ranked = this.init.rank(managed.map(a => a.who))
      rankOf = new Map(ranked.map((w, i) => [w, i]))
      ranks = ranked.length
    }
    // An idle requester ranks behind every requester that asks; without `rank`, arrival order is the rank.
    const requesters: UploadRequester[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const a = managed[i]
      const view = a.slotView
      view.rank = (rankOf === undefined ? i : (rankOf.get(a.who) ?? ranks)) + (a.idle ? ranks + 1 : 0)
      view.reciprocationBytesPerSec = a.idle ? 0 : this.reciprocation(a.who.peerId, nowMs)
      view.near = !a.idle && (this.init.isNear?.(a.who) ?? a.who.near === true)
      view.group = a.idle ? undefined : a.group
      requesters[i] = view
    }
    this.slots.update(nowMs, requesters)
    // Every unchoked id is one of `requesters` (the slots forget whoever is not listed).
    this.slotsHeld = this.slots.unchokedCount()
    let changes: ChokeChange[] | undefined
    for (const a of candidates ?? this.admitted.values()) {
      const choked = this.isPenalized(a) || ((a.managed || a.justIdled) ? !this.slots.isUnchoked(a.key) : false)
      if (choked === a.choked) continue
      a.choked = choked
      if (!choked) a.lastActiveMs = nowMs
      if (a.stalledOut) continue
      if (choked) this.chokes++
      changes ??= []
      changes.push({ key: a.key, choked })
    }
    return changes ?? []
  }
}

const NO_REQUESTERS: ReadonlySet<Admitted> = new Set()

function bySeq (a: Admitted, b: Admitted): number { return a.seq - b.seq }

/** `key`'s set in `map`, made empty when it has none. */
function addTo (map: Map<string, Set<Admitted>>, key: string): Set<Admitted> {
  let set = map.get(key)
  if (set === undefined) { set = new Set(); map.set(key, set) }
  return set
}

/** Removes `a` from `key`'s set (the set too once empty); returns how many are left. */
function removeFrom (map: Map<string, Set<Admitted>>, key: string, a: Admitted): number {
  const set = map.get(key)
  if (set === undefined) return 0
  set.delete(a)
  if (set.size === 0) map.delete(key)
  return set.size
}

/**
 * A requester's slot group (UploadSlots `groupPreempts`): its network, which
 * costs an attacker more than peer ids, else (an address without an IP, a
 * relay's) its peer id; none without an address (the simulator's
 * requesters, which carry `near` instead).
 */
function groupOf (who: PolicyRequester): string | undefined {
  if (who.remoteAddr === undefined) return undefined
  return sourceNetworkOf(who.remoteAddr, false) ?? `peer:${who.peerId}`
}

/**
 * Default requesters of one item from which an origin goes busy. The swarm
 * benchmark (docs/BENCHMARKS.md "Swarm download") measured 4 with 20 peers:
 * seeder upload 1.4-1.6 item copies instead of 20, while an item asked by
 * up to 3 clients at once (the long tail) is never choked.
 */
export const DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS = 4
/** Default regular upload slots of a busy origin (per busy item set; the long tail is never choked). */
export const DEFAULT_ORIGIN_UPLOAD_SLOTS = 4
/** Default optimistic upload slots of a busy origin. */
export const DEFAULT_ORIGIN_OPTIMISTIC_SLOTS = 1
/** Default rechoke period of an origin, ms: shorter than a peer's 10 s so slots move on while a burst of requesters is still downloading. */
export const DEFAULT_ORIGIN_RECHOKE_INTERVAL_MS = 2_000
/** Default optimistic rotation period of an origin, ms. */
export const DEFAULT_ORIGIN_OPTIMISTIC_INTERVAL_MS = 3_000
/** Default regular upload slots of a peer (BitTorrent's classic 4). */
export const DEFAULT_PEER_UPLOAD_SLOTS = 4

/** The origin's upload policy (all optional; defaults above). */
export interface OriginUploadInit {
  /** Regular upload slots on busy items. Default DEFAULT_ORIGIN_UPLOAD_SLOTS (4). */
  regularSlots?: number
  /** Optimistic upload slots on busy items. Default 1. */
  optimisticSlots?: number
  /** Total upload rate over all requesters, bytes/s. Default: unlimited. */
  uploadBytesPerSec?: number
  /** Requesters of one item from which it is busy; `false` turns busy mode off (everyone served, no slots). Default 4. */
  busyThresholdRequesters?: number | false
  /** Spread a busy item's pieces (each once before any twice). Default true. */
  spreadPieces?: boolean
  /** Regular-slot recomputation period, ms. Default 2 s. */
  rechokeIntervalMs?: number
  /** Optimistic rotation period, ms. Default 3 s. */
  optimisticIntervalMs?: number
  /** A slot holder that asks for and receives nothing this long gives its slot to a requester that asks, ms. Default DEFAULT_IDLE_SLOT_MS (5 s). */
  idleSlotMs?: number
  /** A peer whose stream stopped reading stays choked this long, ms. Default DEFAULT_STALL_PENALTY_MS (60 s). */
  stallPenaltyMs?: number
}

/** The upload policy of an origin seeder, defaults resolved (see OriginUploadInit): what `swarmcdn seed` and the simulator's seeders run. */
export function originUploadPolicy (init: OriginUploadInit = {}): UploadPolicyInit & { uploadBytesPerSec?: number } {
  const threshold = init.busyThresholdRequesters ?? DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS
  for (const [name, v] of Object.entries({ regularSlots: init.regularSlots, optimisticSlots: init.optimisticSlots, uploadBytesPerSec: init.uploadBytesPerSec, busyThresholdRequesters: threshold === false ? undefined : threshold })) {
    if (v != null && !(v >= (name === 'optimisticSlots' ? 0 : 1))) throw new RangeError(`origin upload ${name} must be ${name === 'optimisticSlots' ? '>= 0' : '>= 1'}, got ${v}`)
  }
  const base = {
    ...(init.uploadBytesPerSec != null ? { uploadBytesPerSec: init.uploadBytesPerSec } : {}),
    ...(init.idleSlotMs != null ? { idleSlotMs: init.idleSlotMs } : {}),
    ...(init.stallPenaltyMs != null ? { stallPenaltyMs: init.stallPenaltyMs } : {})
  }
  // Busy mode off: the seeder of old, everyone served (within the rate limit).
  if (threshold === false) return { ...base, regularSlots: Infinity }
  return {
    ...base,
    regularSlots: init.regularSlots ?? DEFAULT_ORIGIN_UPLOAD_SLOTS,
    optimisticSlots: init.optimisticSlots ?? DEFAULT_ORIGIN_OPTIMISTIC_SLOTS,
    busyThresholdRequesters: threshold,
    spreadPieces: init.spreadPieces ?? true,
    rechokeIntervalMs: init.rechokeIntervalMs ?? DEFAULT_ORIGIN_RECHOKE_INTERVAL_MS,
    optimisticIntervalMs: init.optimisticIntervalMs ?? DEFAULT_ORIGIN_OPTIMISTIC_INTERVAL_MS
  }
}
