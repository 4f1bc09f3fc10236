/**
 * Which of the relays a leaf wants (relay-choice.ts `relaysWanted`) it
 * asks for a reservation now, and when a relay that let it down may be
 * asked again. Pure: the libp2p shell (src/net/relay-reservations.ts)
 * reserves, probes and reports what happened.
 *
 * Rules:
 * - At most `maxReservations` (4: a leaf attaches to 2-3 supernodes) are
 *   held or being made at once; wanted relays are taken in the order
 *   given (relaysWanted keeps the attachment order).
 * - A relay that refused or failed a reservation is asked again after
 *   `retryFailedMs` (30 s): a full relay frees slots as its reservations
 *   lapse.
 * - A relay that granted a reservation but did not relay (our probe's
 *   connection through it never arrived) is not asked again for
 *   `retryBrokenMs` (30 min): it may be broken or hostile, and asking it
 *   soon would only announce a relayed address that leads nowhere again.
 * - At most `maxRemembered` failed or broken relays are remembered each
 *   (64); the oldest is forgotten first (and may be asked again).
 */
import type { Contact } from '../dht/contact.js'

/** Default reservations held or being made at once. */
export const DEFAULT_MAX_RELAY_RESERVATIONS = 4
/** Default wait before asking a relay that refused or failed again, ms. */
export const DEFAULT_RESERVE_RETRY_MS = 30_000
/** Default wait before asking a relay whose probe failed again, ms. */
export const DEFAULT_RELAY_BROKEN_RETRY_MS = 30 * 60_000
/** Default relays remembered as failed, and as broken, at most. */
export const DEFAULT_MAX_REMEMBERED_RELAYS = 64

/** Options of RelayRetry; every field optional. */
export interface RelayRetryInit {
  /** Reservations held or being made at once. Default DEFAULT_MAX_RELAY_RESERVATIONS (4). */
  maxReservations?: number
  /** Wait after a refused or failed reservation, ms. Default DEFAULT_RESERVE_RETRY_MS (30 s). */
  retryFailedMs?: number
  /** Wait after a failed probe, ms. Default DEFAULT_RELAY_BROKEN_RETRY_MS (30 min). */
  retryBrokenMs?: number
  /** Failed, and broken, relays remembered at most. Default DEFAULT_MAX_REMEMBERED_RELAYS (64). */
  maxRemembered?: number
}

/** A leaf's memory of relays that let it down (see the file's rules). */
export class RelayRetry {
  readonly maxReservations: number
  private readonly retryFailedMs: number
  private readonly retryBrokenMs: number
  private readonly maxRemembered: number
  private readonly failedAtMs = new Map<string, number>()
  private readonly brokenAtMs = new Map<string, number>()

  constructor (init: RelayRetryInit = {}) {
    this.maxReservations = init.maxReservations ?? DEFAULT_MAX_RELAY_RESERVATIONS
    this.retryFailedMs = init.retryFailedMs ?? DEFAULT_RESERVE_RETRY_MS
    this.retryBrokenMs = init.retryBrokenMs ?? DEFAULT_RELAY_BROKEN_RETRY_MS
    this.maxRemembered = init.maxRemembered ?? DEFAULT_MAX_REMEMBERED_RELAYS
    if (!(Number.isSafeInteger(this.maxReservations) && this.maxReservations >= 0)) throw new RangeError(`maxReservations must be an integer >= 0, got ${this.maxReservations}`)
    if (!(this.retryFailedMs >= 0) || !(this.retryBrokenMs >= 0)) throw new RangeError('retry waits must be >= 0 ms')
    if (!(Number.isSafeInteger(this.maxRemembered) && this.maxRemembered >= 1)) throw new RangeError(`maxRemembered must be an integer >= 1, got ${this.maxRemembered}`)
  }

  /** The wanted relays to ask for a reservation now, given those held or being made (`busy`, peer ids). */
  toReserve (nowMs: number, wanted: readonly Contact[], busy: ReadonlySet<string>): Contact[] {
    const out: Contact[] = []
    let inUse = busy.size
    for (const c of wanted) {
      if (busy.has(c.peerId)) continue
      if (inUse >= this.maxReservations) break
      if (waiting(this.failedAtMs, c.peerId, nowMs, this.retryFailedMs) || waiting(this.brokenAtMs, c.peerId, nowMs, this.retryBrokenMs)) continue
      out.push(c)
      inUse++
    }
    return out
  }

  /** `relay` granted a reservation: a past refusal is forgotten. */
  reserved (relay: string): void { this.failedAtMs.delete(relay) }

  /** `relay` refused or failed a reservation at `nowMs`. */
  failed (nowMs: number, relay: string): void { this.remember(this.failedAtMs, relay, nowMs) }

  /** A connection to us through `relay` did not arrive at `nowMs` (the shell hangs up on it). */
  broken (nowMs: number, relay: string): void { this.remember(this.brokenAtMs, relay, nowMs) }

  private remember (m: Map<string, number>, relay: string, nowMs: number): void {
    m.delete(relay)
    m.set(relay, nowMs)
    if (m.size > this.maxRemembered) m.delete(m.keys().next().value as string)
  }
}

function waiting (m: ReadonlyMap<string, number>, relay: string, nowMs: number, waitMs: number): boolean {
  const at = m.get(relay)
  return at !== undefined && nowMs - at < waitMs
}
