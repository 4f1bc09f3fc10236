/**
 * What a busy origin seeder serves of a popular item: each piece once
 * before repeating any (the spirit of BitTorrent super-seeding, BEP 16),
 * sans-IO. The driver (the origin's upload gate) asks before it queues a
 * request and tells the requester "ask peers" when the answer is no.
 *
 * Rules:
 * - Busy (`isBusyItem`): an item with at least `busyThresholdRequesters`
 *   concurrent requesters. Below it (the long tail, a lone downloader) the
 *   origin serves every request at once and this rule does nothing.
 * - On a busy item, a request for piece i is served when i has been served
 *   no more often than the least-served piece (a round: every piece once,
 *   then every piece twice, ...), or when i was last served at least
 *   `repeatAfterMs` ago (default 10 s: a requester whose peers never got
 *   the piece, e.g. its receiver left, still gets it). Otherwise it is
 *   declined and the requester takes it from the peer that got it, which
 *   announces it with `have`.
 * - A second ask is served: a requester that asks again for a piece it was
 *   declined (after its back-off) has no peer that holds it (its session
 *   asks an origin only for pieces no peer of its own has), so it gets the
 *   piece instead of waiting out `repeatAfterMs`. At most one extra round
 *   trip per piece and requester; `forget(requester)` when it leaves.
 * - Why: requesters ask the origin for pieces no peer they know holds; with
 *   a few hundred ms of `have` lag and 8 peers per requester, several of
 *   them ask for the same piece, and every copy after the first is origin
 *   upload the swarm could have carried.
 */

/** Default time after which a busy origin serves a piece again even before the round is complete, ms. */
export const DEFAULT_SPREAD_REPEAT_AFTER_MS = 10_000
/** The `reject` reason a busy origin sends for a declined piece; a requester backs off and asks peers (see DownloadSession.onRequestDeclined). */
export const SPREAD_DECLINE_REASON = 'busy origin: piece already served, ask peers'

/** Options for PieceSpread. */
export interface PieceSpreadInit {
  /** Serve a piece again after this long even if the round is not complete, ms. Default DEFAULT_SPREAD_REPEAT_AFTER_MS (10 s). */
  repeatAfterMs?: number
}

/** True when an item with `requesters` concurrent requesters is busy for an origin with `busyThresholdRequesters` (undefined: never busy). */
export function isBusyItem (requesters: number, busyThresholdRequesters: number | undefined): boolean {
  return busyThresholdRequesters != null && requesters >= busyThresholdRequesters
}

/** Per-item record of what a busy origin served (see the file's rules). */
export class PieceSpread {
  private readonly served: Uint32Array
  private readonly lastServedMs: Float64Array
  /** How many pieces have each served count: countOf[c] (c < countOf.length). */
  private readonly countOf: number[]
  private minServed = 0
  private readonly repeatAfterMs: number
  /** Requester -> pieces declined to it (bounded by pieceCount each; forgotten when the requester leaves). */
  private readonly declinedTo = new Map<string, Set<number>>()

  /** A record for an item of `pieceCount` pieces, nothing served yet. */
  constructor (readonly pieceCount: number, init: PieceSpreadInit = {}) {
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 1) throw new RangeError(`pieceCount must be a positive integer, got ${pieceCount}`)
    this.repeatAfterMs = init.repeatAfterMs ?? DEFAULT_SPREAD_REPEAT_AFTER_MS
    if (!(this.repeatAfterMs >= 0)) throw new RangeError(`repeatAfterMs must be >= 0, got ${this.repeatAfterMs}`)
    this.served = new Uint32Array(pieceCount)
    this.lastServedMs = new Float64Array(pieceCount).fill(-Infinity)
    this.countOf = [pieceCount]
  }

  /** Decides one request of `requester` at `nowMs`: true (and recorded as served) or false (decline: ask peers). */
  request (nowMs: number, index: number, requester = ''): boolean {
    return this.decide(nowMs, index, requester, true)
  }

  /**
   * Like request, but a yes is not recorded: for a requester that has not
   * yet read anything (it may never read), whose piece is recorded with
   * `recordServed` once it was actually sent. A no is recorded as a
   * decline, so the second-ask rule still applies.
   */
  check (nowMs: number, index: number, requester = ''): boolean {
    return this.decide(nowMs, index, requester, false)
  }

  /** Piece `index` went out to a requester `check` admitted: count it as served now. */
  recordServed (nowMs: number, index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return
    this.countServed(nowMs, index)
  }

  private decide (nowMs: number, index: number, requester: string, record: boolean): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return false
    const c = this.served[index]
    const declined = this.declinedTo.get(requester)
    if (c > this.minServed && nowMs - this.lastServedMs[index] < this.repeatAfterMs && declined?.has(index) !== true) {
      if (declined == null) this.declinedTo.set(requester, new Set([index])); else declined.add(index)
      return false
    }
    declined?.delete(index)
    if (record) this.countServed(nowMs, index)
    return true
  }

  private countServed (nowMs: number, index: number): void {
    const c = this.served[index]
    this.served[index] = c + 1
    this.lastServedMs[index] = nowMs
    this.countOf[c]--
    this.countOf[c + 1] = (this.countOf[c + 1] ?? 0) + 1
    while (this.countOf[this.minServed] === 0) this.minServed++
  }

  /**
   * A request passed by `request` was dropped before its piece went out (a
   * choke, a cancel, a requester that stopped reading): the piece counts
   * as served once less, so requests that were never read cannot make a
   * busy origin decline the piece to everyone else.
   */
  unserve (index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return
    const c = this.served[index]
    if (c === 0) return
    this.served[index] = c - 1
    this.countOf[c]--
    this.countOf[c - 1]++
    if (c - 1 < this.minServed) this.minServed = c - 1
  }

  /** The requester left: drop what was declined to it. */
  forget (requester: string): void {
    this.declinedTo.delete(requester)
  }

  /** Times piece `index` was served. */
  servedCount (index: number): number {
    return this.served[index] ?? 0
  }
}
