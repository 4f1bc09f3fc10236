/**
 * Which other holders a busy origin names in its chokes and spread
 * rejects ("busy, try these peers"), and when it looks them up again.
 * Pure: the shell runs the finds (the overlay's) and sends the messages;
 * the libp2p origin (src/client/swarm-peer.ts) and the simulator's origin
 * (sim/node/piece-exchange.ts) both ask this object.
 *
 * Rules:
 * - Only a busy item names alternatives (the shells pass
 *   UploadPolicy.isBusy): a requester of an item that is not busy is
 *   served, so it is told nobody and no find starts for it.
 * - Holders come from one find per item, reused for `refreshMs` (default
 *   5 s): a busy origin sends chokes to every requester and again at every
 *   rechoke, and a find per choke would be an overlay lookup each. A find
 *   is due when the last answer is older than that and none runs; until it
 *   answers, the last answer is named (none at first).
 * - A find that brings a holder not known before says so (`found` returns
 *   true): the choked requesters of the item are told again, now with
 *   names, instead of waiting for their next choke.
 * - Named to a requester: holders that are neither origins, this node,
 *   nor the requester, nearest to the requester first (the shell's
 *   `rankNearestTo`, over rankPeers from the requester's place), at most
 *   `maxNamed` (8: the xfer codec's cap).
 * - At most `maxItems` items are remembered (default 256); the one asked
 *   about longest ago goes first.
 */

/** Default time a busy origin reuses one find's answer for the alternatives it names, ms. */
export const DEFAULT_ALTERNATIVES_REFRESH_MS = 5_000
/** Default items whose holders a busy origin remembers at most. */
export const DEFAULT_MAX_ALTERNATIVE_ITEMS = 256
/** Holders named in one choke or reject at most (the xfer codec's cap, MAX_XFER_ALTERNATIVES). */
export const MAX_NAMED_ALTERNATIVES = 8

/** Options of BusyAlternatives. */
export interface BusyAlternativesInit<H> {
  /** This node's peer id (never named). */
  self: string
  /** A holder's peer id. */
  peerIdOf: (holder: H) => string
  /** True for an origin seeder (never named: the requester has the origins already). */
  isOrigin: (holder: H) => boolean
  /** Time one find's answer is reused, ms. Default DEFAULT_ALTERNATIVES_REFRESH_MS (5 s). */
  refreshMs?: number
  /** Items remembered at most. Default DEFAULT_MAX_ALTERNATIVE_ITEMS (256). */
  maxItems?: number
  /** Holders named to one requester at most. Default MAX_NAMED_ALTERNATIVES (8). */
  maxNamed?: number
}

interface Entry<H> { holders: H[], fetchedAtMs: number, finding: boolean }

/** What an item that is not busy names: nobody, and no find. */
const NOT_BUSY: { named: never[], findDue: false } = Object.freeze({ named: [], findDue: false }) as { named: never[], findDue: false }

/** A busy origin's known holders per item (see the file's rules). */
export class BusyAlternatives<H> {
  private readonly entries = new Map<string, Entry<H>>()
  private readonly refreshMs: number
  private readonly maxItems: number
  private readonly maxNamed: number

  constructor (private readonly init: BusyAlternativesInit<H>) {
    this.refreshMs = init.refreshMs ?? DEFAULT_ALTERNATIVES_REFRESH_MS
    this.maxItems = init.maxItems ?? DEFAULT_MAX_ALTERNATIVE_ITEMS
    this.maxNamed = init.maxNamed ?? MAX_NAMED_ALTERNATIVES
    if (!(this.refreshMs >= 0)) throw new RangeError(`refreshMs must be >= 0, got ${this.refreshMs}`)
    if (!(Number.isSafeInteger(this.maxItems) && this.maxItems >= 1)) throw new RangeError(`maxItems must be an integer >= 1, got ${this.maxItems}`)
    if (!(Number.isSafeInteger(this.maxNamed) && this.maxNamed >= 0)) throw new RangeError(`maxNamed must be an integer >= 0, got ${this.maxNamed}`)
  }

  /** Items remembered now. */
  get size (): number { return this.entries.size }

  /**
   * The holders of `item` to name to `requester` now (none unless the
   * item is `busy`), and whether the shell should start a find for the
   * item (then it must report the answer with `found`, or `findFailed`).
   */
  namedTo (nowMs: number, item: string, requester: string, busy: boolean, rankNearestTo: (holders: H[]) => H[]): { named: H[], findDue: boolean } {
    if (!busy) return NOT_BUSY
    let e = this.entries.get(item)
    if (e === undefined) {
      if (this.entries.size >= this.maxItems) this.entries.delete(this.entries.keys().next().value as string)
      e = { holders: [], fetchedAtMs: -Infinity, finding: false }
    } else this.entries.delete(item)
    this.entries.set(item, e) // Map order is ask order: the first key is the one asked about longest ago
    const findDue = !e.finding && nowMs - e.fetchedAtMs >= this.refreshMs
    if (findDue) e.finding = true
    const { peerIdOf } = this.init
    const others = e.holders.filter(h => peerIdOf(h) !== requester)
    const named = others.length === 0 || this.maxNamed === 0 ? [] : rankNearestTo(others).slice(0, this.maxNamed)
    return { named, findDue }
  }

  /** A find for `item` answered `holders`; true when it names a holder not known before (tell the choked requesters again). */
  found (nowMs: number, item: string, holders: readonly H[]): boolean {
    const e = this.entries.get(item)
    if (e === undefined) return false // forgotten meanwhile
    const { peerIdOf, isOrigin, self } = this.init
    const fresh = holders.filter(h => !isOrigin(h) && peerIdOf(h) !== self)
    const known = new Set(e.holders.map(peerIdOf))
    e.holders = fresh
    e.fetchedAtMs = nowMs
    e.finding = false
    return fresh.some(h => !known.has(peerIdOf(h)))
  }

  /** The find for `item` failed: the last answer stays, the next is due after `refreshMs`. */
  findFailed (nowMs: number, item: string): void {
    const e = this.entries.get(item)
    if (e === undefined) return
    e.fetchedAtMs = nowMs
    e.finding = false
  }
}
