/**
 * A download's origin fallback over a fleet: which owner to use, and when
 * to move on to the next.
 *
 * Rules:
 * - Origins are tried one at a time in rendezvous order (owners first, then
 *   the rest of the fleet: `rendezvousOrder`), so one item loads one
 *   seeder and the order is the same for every client.
 * - The next origin is added when the current one is lost (its stream
 *   ended or it could not be reached) or when the download received no
 *   piece from anyone for `failoverAfterMs` while the current origin was in
 *   use (a hung seeder keeps its TCP connection). The stalled origin is
 *   dropped: its requests go back to the pool for the next one (the piece
 *   picker never duplicates an origin's requests, so they would otherwise
 *   wait for the request timeout).
 * - Time lost by a failover: from the last piece the download received
 *   before the fault to the first piece from the origin that replaced it.
 * - When every origin was tried there is nothing left to add; the
 *   download's own timeouts end it.
 * - The delivery report of a completed download goes to the first origin
 *   of `reportOrder` that answers: the origin in use, then those never
 *   tried, in rendezvous order (the item's other owners first). Origins
 *   that were lost or stalled are left out (a report must not wait on a
 *   dead seeder). One accepted report per download, so a publisher's sum
 *   over the fleet counts each download once.
 */

/** Default time without any piece before the next origin is added, ms. */
export const DEFAULT_ORIGIN_FAILOVER_MS = 5_000

/** Options of OriginFailover. */
export interface OriginFailoverInit {
  /** Origin peer ids in the order to try them (rendezvous order); at least one. */
  order: readonly string[]
  /** Time without any piece before the next origin is added, ms. Default DEFAULT_ORIGIN_FAILOVER_MS (5 s). */
  failoverAfterMs?: number
}

/** One move to the next origin. */
export interface OriginFailoverEvent {
  from: string
  to: string
  reason: 'lost' | 'stalled'
  /** When the fault was noticed, ms (the caller's clock). */
  atMs: number
  /** Time without progress it cost: from the last piece before the fault to the first piece from `to`; undefined until that piece arrives. */
  lostMs?: number
}

/** The failover rule of one download (see the file's comment). Pure: time comes in as `nowMs`. */
export class OriginFailover {
  private readonly order: readonly string[]
  private readonly failoverAfterMs: number
  private next = 0
  private current: string | undefined
  private lastPieceMs = 0
  private complete = false
  /** For each failover, the last progress before its fault (where its lost time starts). */
  private readonly faultFromMs = new Map<OriginFailoverEvent, number>()
  /** Every failover so far, oldest first. */
  readonly events: OriginFailoverEvent[] = []

  constructor (init: OriginFailoverInit) {
    if (init.order.length === 0) throw new RangeError('an origin failover needs at least one origin')
    this.order = [...init.order]
    this.failoverAfterMs = init.failoverAfterMs ?? DEFAULT_ORIGIN_FAILOVER_MS
    if (!(this.failoverAfterMs > 0)) throw new RangeError(`failoverAfterMs must be positive, got ${this.failoverAfterMs}`)
  }

  /** The origin in use now. */
  get active (): string | undefined { return this.current }

  /** The download starts: the first origin to use. */
  start (nowMs: number): string {
    this.lastPieceMs = nowMs
    return this.advance() as string
  }

  /** A verified piece arrived from `source` (any source: peers count as progress too). */
  pieceReceived (nowMs: number, source: string): void {
    this.lastPieceMs = nowMs
    for (const e of this.events) if (e.to === source && e.lostMs === undefined) e.lostMs = Math.max(0, nowMs - (this.faultFromMs.get(e) ?? nowMs))
  }

  /** `source` is gone (stream ended, refused): the next origin when it was the active one, else nothing. */
  sourceLost (nowMs: number, source: string): string | undefined {
    if (this.complete || source !== this.current) return undefined
    return this.failover(nowMs, 'lost')
  }

  /** Origins to send the delivery report to, first that answers wins (see the file's rules). */
  reportOrder (): string[] {
    const faulty = new Set(this.events.map(e => e.from))
    const candidates = this.current === undefined ? this.order.slice(this.next) : [this.current, ...this.order.slice(this.next)]
    return candidates.filter(id => !faulty.has(id))
  }

  /** The download completed or ended: no more failovers. */
  finish (): void { this.complete = true }

  /** When `timer` should run next, ms, or undefined. */
  nextDeadlineMs (): number | undefined {
    if (this.complete || this.current === undefined || this.next >= this.order.length) return undefined
    return this.lastPieceMs + this.failoverAfterMs
  }

  /** Time passed: when the download stalled, the origin to add and the stalled one to drop; else undefined. */
  timer (nowMs: number): { add: string, drop: string } | undefined {
    const due = this.nextDeadlineMs()
    if (due === undefined || nowMs < due) return undefined
    const drop = this.current as string
    const add = this.failover(nowMs, 'stalled')
    // Give the new origin a full period before judging it.
    this.lastPieceMs = nowMs
    return add === undefined ? undefined : { add, drop }
  }

  private failover (nowMs: number, reason: 'lost' | 'stalled'): string | undefined {
    const from = this.current as string
    const to = this.advance()
    if (to === undefined) return undefined
    const event: OriginFailoverEvent = { from, to, reason, atMs: nowMs }
    this.faultFromMs.set(event, this.lastPieceMs)
    this.events.push(event)
    return to
  }

  private advance (): string | undefined {
    if (this.next >= this.order.length) { this.current = undefined; return undefined }
    this.current = this.order[this.next++]
    return this.current
  }
}
