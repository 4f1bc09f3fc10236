/**
 * Delivery reports at an origin: "I completed item X; this many bytes came
 * from origins and from peers, by locality class" (the downloader's own
 * transit accounting, core/proximity/locality.ts). They are how a publisher
 * sees what the swarm saved: bytes that came from peers are bytes its
 * seeders did not send. A report is informative, not proof: a peer can lie
 * about what it received; the rules below only bound what one peer can add.
 *
 * Rules (`accept`), checked in this order:
 *  - `unknown-item`: the origin does not hold the item (it can't bound it);
 *  - `invalid`: a count that is not a safe non-negative integer, or a total
 *    over `maxReportedBytesPerItemLength` × the item's length (a download
 *    receives each piece about once; endgame duplicates stay far below 2×);
 *  - `rate-limited`: over `reportsPerMinute` from one peer (a token bucket
 *    of `burstReports`);
 *  - `duplicate`: the peer already reported this item (one report per
 *    peer and item, remembered for the last `maxRemembered` pairs);
 *  - else `accepted`, and its bytes join the totals.
 * Pure: time is passed in; no I/O.
 */
import { emptyLocalityBytes, LOCALITY_CLASSES, type LocalityByteCounts } from '../proximity/locality.js'

/** One delivery report as sent on the wire (`/swarmcdn/delivery/1.0.0`). */
export interface DeliveryReport {
  /** The completed item (a content id as text). */
  contentId: string
  /** Bytes that came from origin seeders, by locality class between the downloader and the source. */
  origin: LocalityByteCounts
  /** Bytes that came from other peers, likewise. */
  peer: LocalityByteCounts
}

/** What an origin did with a report. */
export type DeliveryVerdict = 'accepted' | 'duplicate' | 'rate-limited' | 'invalid' | 'unknown-item'

/** Every verdict, for metrics labels. */
export const DELIVERY_VERDICTS: readonly DeliveryVerdict[] = ['accepted', 'duplicate', 'rate-limited', 'invalid', 'unknown-item']

/** Options of DeliveryLedger; every field optional. */
export interface DeliveryLedgerInit {
  /** Reports accepted per peer per minute in the long run. Default 30. */
  reportsPerMinute?: number
  /** Reports a peer may send at once before the rate applies. Default 10. */
  burstReports?: number
  /** (peer, item) pairs remembered for the one-report rule, and peers tracked for the rate; oldest forgotten first. Default 100 000. */
  maxRemembered?: number
  /** Largest reported total as a multiple of the item's length. Default 2. */
  maxReportedBytesPerItemLength?: number
}

/** Defaults of DeliveryLedgerInit, in one place. */
export const DELIVERY_LEDGER_DEFAULTS = { reportsPerMinute: 30, burstReports: 10, maxRemembered: 100_000, maxReportedBytesPerItemLength: 2 } as const

/** Accepted delivery bytes by source kind and locality, and verdict counts (see the file's rules). */
export class DeliveryLedger {
  /** Accepted bytes from origins, by locality class. */
  readonly origin = emptyLocalityBytes()
  /** Accepted bytes from peers, by locality class. */
  readonly peer = emptyLocalityBytes()
  /** Reports seen, by verdict. */
  readonly verdicts: Record<DeliveryVerdict, number> = { accepted: 0, duplicate: 0, 'rate-limited': 0, invalid: 0, 'unknown-item': 0 }
  private readonly opts: Required<DeliveryLedgerInit>
  private readonly reported = new Set<string>()
  private readonly buckets = new Map<string, { tokens: number, atMs: number }>()

  constructor (init: DeliveryLedgerInit = {}) {
    this.opts = { ...DELIVERY_LEDGER_DEFAULTS, ...init }
    for (const [k, v] of Object.entries(this.opts)) {
      if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`DeliveryLedger ${k} must be a positive number, got ${String(v)}`)
    }
  }

  /** Judges one report from `peerId` about an item of `itemLengthBytes` (undefined: not held here). */
  accept (nowMs: number, peerId: string, report: DeliveryReport, itemLengthBytes: number | undefined): DeliveryVerdict {
    const verdict = this.judge(nowMs, peerId, report, itemLengthBytes)
    this.verdicts[verdict]++
    if (verdict === 'accepted') {
      for (const c of LOCALITY_CLASSES) { this.origin[c] += report.origin[c]; this.peer[c] += report.peer[c] }
    }
    return verdict
  }

  private judge (nowMs: number, peerId: string, report: DeliveryReport, itemLengthBytes: number | undefined): DeliveryVerdict {
    if (itemLengthBytes === undefined) return 'unknown-item'
    let total = 0
    for (const c of LOCALITY_CLASSES) {
      for (const n of [report.origin[c], report.peer[c]]) {
        if (!Number.isSafeInteger(n) || n < 0) return 'invalid'
        total += n
      }
    }
    if (total > itemLengthBytes * this.opts.maxReportedBytesPerItemLength) return 'invalid'
    if (!this.takeToken(nowMs, peerId)) return 'rate-limited'
    const key = `${peerId} ${report.contentId}`
    if (this.reported.has(key)) return 'duplicate'
    remember(this.reported, key, this.opts.maxRemembered)
    return 'accepted'
  }

  private takeToken (nowMs: number, peerId: string): boolean {
    const { reportsPerMinute, burstReports, maxRemembered } = this.opts
    let b = this.buckets.get(peerId)
    if (b === undefined) {
      b = { tokens: burstReports, atMs: nowMs }
      if (this.buckets.size >= maxRemembered) this.buckets.delete(this.buckets.keys().next().value as string)
      this.buckets.set(peerId, b)
    }
    b.tokens = Math.min(burstReports, b.tokens + Math.max(0, nowMs - b.atMs) * reportsPerMinute / 60_000)
    b.atMs = Math.max(b.atMs, nowMs)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }
}

/** Adds `key`, forgetting the oldest entry when full (a Set iterates in insertion order). */
function remember (set: Set<string>, key: string, max: number): void {
  if (set.size >= max) set.delete(set.values().next().value as string)
  set.add(key)
}

/** A report of zero bytes for `contentId` (a starting point for tallies). */
export function emptyDeliveryReport (contentId: string): DeliveryReport {
  return { contentId, origin: emptyLocalityBytes(), peer: emptyLocalityBytes() }
}
