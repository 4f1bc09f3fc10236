/**
 * The upload policy of a serving node, as an UploadGate for the xfer
 * server: upload slots (the pure UploadSlots choker, re-run on a timer and
 * whenever a requester comes or goes), a total upload rate limit (the pure
 * TokenBucket), and an origin's "busy" mode.
 *
 * Busy mode (issue 4, popular vs long tail): with `busyThresholdRequesters`
 * set, an item with fewer concurrent requesters than the threshold is
 * served to everyone (the long tail: the seeder alone serves it), and an
 * item with at least that many is served through the upload slots only;
 * the others get `choke` and treat it as "use peers" (the requesters of a
 * popular item find each other through the same provider finder). Without
 * the threshold, slots always apply (a peer's normal policy). On a busy
 * item the origin also spreads pieces (`spreadPieces`, default on with the
 * threshold): each piece once before repeating any, by the pure PieceSpread
 * (core/swarm/origin-spread.ts, with the busy decision `isBusyItem`).
 * With `alternatives`, a busy item's chokes and spread rejects name other
 * holders ("busy, try these peers"), so a requester that knew only the
 * origin gets peers; `offerAlternatives` re-sends the choke once the
 * owner has found holders it did not know when the choke went out.
 *
 * Stalled requesters (issue "hostile peers"): a requester whose stream
 * stopped reading (the xfer server's stall clock, `ticket.stalled`) loses
 * its slot with the stream, and every other stream of the same peer is
 * choked for `stallPenaltyMs` (default 60 s) whatever the item's state, so
 * a peer that holds slots without reading cannot take them back with its
 * next stream; the slots go at once to requesters that read. Idle slot
 * holders too: a requester holding a slot that has asked for nothing and
 * been sent nothing for `idleSlotMs` (default 5 s) gives the slot up at
 * once (it is choked) and waits behind every requester that asks, until
 * it asks again (BitTorrent gives slots to interested peers only; a
 * choked requester's request is its "interested").
 */
import type { PeerAlternative, XferMessage } from '../core/messages/xfer-messages.js'
import { UploadSlots, type UploadRequester, type UploadSlotsInit } from '../core/swarm/upload-slots.js'
import { TokenBucket } from '../core/swarm/token-bucket.js'
import { PieceSpread, isBusyItem } from '../core/swarm/origin-spread.js'
import type { RequesterInfo, UploadGate, UploadTicket } from './xfer-server.js'

/** Time over which received bytes count as a peer's reciprocation rate, ms. */
const RECIPROCATION_WINDOW_MS = 20_000
/** Most peers whose received bytes are tracked for reciprocation, and most peers penalized at once. */
const MAX_TRACKED_PEERS = 4096
/** Default time a peer whose stream stalled is kept choked, ms. */
export const DEFAULT_STALL_PENALTY_MS = 60_000
/** Default time a slot holder may ask for and receive nothing before its slot goes to someone who asks, ms. */
export const DEFAULT_IDLE_SLOT_MS = 5_000

/** Options for SwarmUploadGate. */
export interface SwarmUploadGateInit extends UploadSlotsInit {
  /** Total upload rate over all requesters, bytes/s. Default: unlimited. */
  uploadBytesPerSec?: number
  /** Busy mode (see the file's comment): requesters of one item from which slots apply. Default: slots always apply. */
  busyThresholdRequesters?: number
  /** On a busy item, serve each piece once before repeating any (see core/swarm/origin-spread.ts). Default: true when busyThresholdRequesters is set. */
  spreadPieces?: boolean
  /** PieceSpread's repeatAfterMs. Default DEFAULT_SPREAD_REPEAT_AFTER_MS (10 s). */
  spreadRepeatAfterMs?: number
  /** Orders requesters nearest first (rankPeers over their addresses). Default: arrival order. */
  rank?: (requesters: RequesterInfo[]) => RequesterInfo[]
  /** True for a requester in our near class (same AS by rankPeers' rule 1), for `nearFirst`. Default: nobody is near. */
  isNear?: (requester: RequesterInfo) => boolean
  /** Other holders of a busy item to name to `requester`, nearest to it first (synchronous: answer from what is known now). Default: none. */
  alternatives?: (requester: RequesterInfo) => PeerAlternative[]
  /** Time a peer whose stream stopped reading stays choked on all its streams, ms. Default DEFAULT_STALL_PENALTY_MS (60 s). */
  stallPenaltyMs?: number
  /** Time a slot holder may ask for and receive nothing before its slot goes to a requester that asks, ms. Default DEFAULT_IDLE_SLOT_MS (5 s). */
  idleSlotMs?: number
}

interface Admitted {
  key: string
  who: RequesterInfo
  push: (msg: XferMessage) => void
  choked: boolean
  /** Its stream stalled and is being reset: no message goes to it any more. */
  stalledOut?: boolean
  /** It asked for more after receiving a piece: its admitted pieces count for the spread at once. */
  reads: boolean
  /** Pieces admitted before it was known to read, counted for the spread only when sent (at most one stream's queue). */
  unrecorded: Set<number>
  /** Pieces sent before it was known to read: given back to the spread if it stalls (at most one stream's queue). */
  sentUnconfirmed: number[]
  /** Last time it asked for a piece, was sent one, or was unchoked. */
  lastActiveMs: number
  /** It held a slot idle: it waits behind requesters that ask until it asks again. */
  idle: boolean
}

/** Upload slots + rate limit + busy mode for one node (see the file's comment). */
export class SwarmUploadGate implements UploadGate {
  private readonly slots: UploadSlots
  private readonly bucket: TokenBucket | undefined
  private readonly admitted = new Map<string, Admitted>()
  /** Item -> what a busy origin served of it; dropped when its last requester leaves. */
  private readonly spreads = new Map<string, PieceSpread>()
  /** Item -> admitted requesters. */
  private readonly requestersOf = new Map<string, number>()
  /** Pieces declined by the spread rule (tests and metrics). */
  piecesDeclined = 0
  private readonly received = new Map<string, Array<{ atMs: number, bytes: number }>>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private nextKey = 0
  private stopped = false
  /** Piece bytes that passed the gate (sent or about to be). */
  bytesUploaded = 0
  /** Chokes sent so far (tests and metrics). */
  chokesSent = 0
  /** Requesters whose stream stalled so far (tests and metrics). */
  stallsSeen = 0
  /** Peer -> until when it is choked for a stalled stream (at most MAX_TRACKED_PEERS). */
  private readonly penalized = new Map<string, number>()

  /** A gate with the given policy. */
  constructor (private readonly init: SwarmUploadGateInit = {}) {
    this.slots = new UploadSlots(init)
    if (init.uploadBytesPerSec != null) this.bucket = new TokenBucket(init.uploadBytesPerSec, Math.max(init.uploadBytesPerSec / 4, 64 * 1024))
  }

  /** Records `bytes` received from `peerId` (our download from it): its reciprocation. */
  recordReceived (peerId: string, bytes: number): void {
    let list = this.received.get(peerId)
    if (list == null) {
      if (this.received.size >= MAX_TRACKED_PEERS) this.received.delete(this.received.keys().next().value as string)
      list = []
      this.received.set(peerId, list)
    }
    list.push({ atMs: Date.now(), bytes })
  }

  /** Requesters currently unchoked. */
  unchokedCount (): number {
    let n = 0
    for (const a of this.admitted.values()) if (!a.choked) n++
    return n
  }

  admit (who: RequesterInfo, push: (msg: XferMessage) => void): UploadTicket {
    const key = `${who.peerId}#${this.nextKey++}`
    const entry: Admitted = { key, who, push, choked: true, reads: false, unrecorded: new Set(), sentUnconfirmed: [], lastActiveMs: Date.now(), idle: false }
    this.admitted.set(key, entry)
    const item = who.contentId.toString()
    this.requestersOf.set(item, (this.requestersOf.get(item) ?? 0) + 1)
    this.decide(key)
    if (entry.choked) this.chokesSent++
    const pace = async (bytes: number, signal?: AbortSignal): Promise<void> => {
      this.bytesUploaded += bytes
      if (this.bucket == null) return
      const waitMs = this.bucket.take(Date.now(), bytes)
      if (waitMs > 0) await sleep(waitMs, signal)
    }
    return {
      get choked () { return entry.choked },
      pace,
      admitPiece: (index: number): boolean => {
        if (this.init.spreadPieces === false || who.pieceCount == null) return true
        if (!isBusyItem(this.requestersOf.get(item) ?? 0, this.init.busyThresholdRequesters)) return true
        let spread = this.spreads.get(item)
        if (spread == null) {
          spread = new PieceSpread(who.pieceCount, { repeatAfterMs: this.init.spreadRepeatAfterMs })
          this.spreads.set(item, spread)
        }
        // A requester that has read nothing yet may never read: what it is admitted counts once it was sent.
        const ok = entry.reads ? spread.request(Date.now(), index, key) : spread.check(Date.now(), index, key)
        if (!ok) this.piecesDeclined++
        else if (!entry.reads) entry.unrecorded.add(index)
        return ok
      },
      alternatives: (): PeerAlternative[] => {
        if (this.init.alternatives == null || !isBusyItem(this.requestersOf.get(item) ?? 0, this.init.busyThresholdRequesters)) return []
        return this.init.alternatives(who)
      },
      unqueued: (indices: readonly number[]) => {
        const spread = this.spreads.get(item)
        for (const i of indices) {
          if (entry.unrecorded.delete(i)) continue
          spread?.unserve(i)
        }
      },
      requested: () => {
        entry.lastActiveMs = Date.now()
        if (!entry.idle) return
        entry.idle = false
        this.decide(undefined)
      },
      sent: (index: number) => {
        entry.lastActiveMs = Date.now()
        if (entry.unrecorded.delete(index)) this.spreads.get(item)?.recordServed(Date.now(), index)
        if (!entry.reads) entry.sentUnconfirmed.push(index)
      },
      reading: () => {
        entry.reads = true
        entry.sentUnconfirmed.length = 0
      },
      stalled: () => {
        this.stallsSeen++
        // What it was sent but never read did not reach anyone who can pass it on.
        const spread = this.spreads.get(item)
        for (const i of entry.sentUnconfirmed.splice(0)) spread?.unserve(i)
        this.penalized.delete(who.peerId)
        this.penalized.set(who.peerId, Date.now() + (this.init.stallPenaltyMs ?? DEFAULT_STALL_PENALTY_MS))
        if (this.penalized.size > MAX_TRACKED_PEERS) this.penalized.delete(this.penalized.keys().next().value as string)
        // Its slot goes with the stream (release follows); its other streams are choked now.
        entry.stalledOut = true
        this.decide(undefined)
      },
      release: () => {
        if (!this.admitted.delete(key)) return
        const n = (this.requestersOf.get(item) ?? 1) - 1
        if (n <= 0) { this.requestersOf.delete(item); this.spreads.delete(item) } else { this.requestersOf.set(item, n); this.spreads.get(item)?.forget(key) }
        this.decide(undefined)
      }
    }
  }

  /** Re-sends choke (now naming alternatives) to every choked requester of `contentId` when the item is busy: holders were found after the first choke. */
  offerAlternatives (contentId: string): number {
    if (this.stopped || this.init.alternatives == null) return 0
    if (!isBusyItem(this.requestersOf.get(contentId) ?? 0, this.init.busyThresholdRequesters)) return 0
    let n = 0
    for (const a of this.admitted.values()) {
      if (!a.choked || a.who.contentId !== contentId) continue
      a.push({ type: 'choke' })
      n++
    }
    return n
  }

  /** Stops the rechoke timer. */
  stop (): void {
    this.stopped = true
    if (this.timer != null) clearTimeout(this.timer)
  }

  private reciprocation (peerId: string, nowMs: number): number {
    const list = this.received.get(peerId)
    if (list == null) return 0
    while (list.length > 0 && nowMs - list[0].atMs > RECIPROCATION_WINDOW_MS) list.shift()
    let sum = 0
    for (const r of list) sum += r.bytes
    return sum * 1000 / RECIPROCATION_WINDOW_MS
  }

  private decide (freshKey: string | undefined): void {
    if (this.stopped) return
    const nowMs = Date.now()
    for (const [peerId, untilMs] of this.penalized) if (untilMs <= nowMs) this.penalized.delete(peerId)
    const all = [...this.admitted.values()]
    const penalized = (a: Admitted): boolean => a.stalledOut === true || this.penalized.has(a.who.peerId)
    const perItem = new Map<string, number>()
    for (const a of all) perItem.set(a.who.contentId, (perItem.get(a.who.contentId) ?? 0) + 1)
    const threshold = this.init.busyThresholdRequesters
    const idleSlotMs = this.init.idleSlotMs ?? DEFAULT_IDLE_SLOT_MS
    // A slot held idle is taken back now: left out of this update, the slots forget it and give its place to the best waiting.
    const eligible = (a: Admitted): boolean => !penalized(a) && (threshold == null || isBusyItem(perItem.get(a.who.contentId) ?? 0, threshold))
    const justIdled = new Set<string>()
    // With unlimited slots nobody waits for one: idleness costs nothing.
    if (this.init.regularSlots !== Infinity) {
      for (const a of all) {
        if (!a.choked && !a.idle && eligible(a) && nowMs - a.lastActiveMs >= idleSlotMs) { a.idle = true; justIdled.add(a.key) }
      }
    }
    const managed = all.filter(a => eligible(a) && !justIdled.has(a.key))
    const managedKeys = new Set(managed.map(a => a.key))
    const ranked = this.init.rank != null ? this.init.rank(managed.map(a => a.who)) : managed.map(a => a.who)
    const rankOf = new Map<RequesterInfo, number>(ranked.map((w, i) => [w, i]))
    // An idle requester ranks behind every requester that asks.
    const requesters: UploadRequester[] = managed.map(a => ({
      id: a.key,
      rank: (rankOf.get(a.who) ?? ranked.length) + (a.idle ? ranked.length + 1 : 0),
      reciprocationBytesPerSec: a.idle ? 0 : this.reciprocation(a.who.peerId, nowMs),
      near: !a.idle && (this.init.isNear?.(a.who) ?? false)
    }))
    this.slots.update(nowMs, requesters)
    for (const a of all) {
      const managedHere = managedKeys.has(a.key) || justIdled.has(a.key)
      const choked = penalized(a) || (managedHere ? !this.slots.isUnchoked(a.key) : false)
      if (choked === a.choked) continue
      a.choked = choked
      if (!choked) a.lastActiveMs = nowMs
      if (a.stalledOut === true) continue
      // A fresh requester learns its initial state from the handshake reply; later changes are pushed.
      if (a.key !== freshKey) {
        if (choked) this.chokesSent++
        a.push({ type: choked ? 'choke' : 'unchoke' })
      }
    }
    this.schedule()
  }

  private schedule (): void {
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
    if (this.stopped || this.admitted.size === 0) return
    let dueMs = this.slots.nextDeadlineMs()
    // A penalty that ends must unchoke its peer even when the slots have nothing due.
    for (const untilMs of this.penalized.values()) dueMs = Math.min(dueMs, untilMs)
    // A slot holder that goes idle must give its slot up on time.
    const idleSlotMs = this.init.idleSlotMs ?? DEFAULT_IDLE_SLOT_MS
    // (Only deadlines still ahead: one that passed without idling its holder was not eligible, e.g. a long-tail item, and must not spin the timer.)
    const nowMs = Date.now()
    if (this.init.regularSlots !== Infinity) {
      for (const a of this.admitted.values()) {
        const idleAtMs = a.lastActiveMs + idleSlotMs
        if (!a.choked && !a.idle && idleAtMs > nowMs) dueMs = Math.min(dueMs, idleAtMs)
      }
    }
    if (!Number.isFinite(dueMs)) return
    this.timer = setTimeout(() => { this.timer = undefined; this.decide(undefined) }, Math.max(0, dueMs - Date.now()))
    this.timer.unref?.()
  }
}

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
