/**
 * Which requesters an uploader serves now (unchoked) and which wait
 * (choked): BitTorrent's choking algorithm (Cohen 2003, sec. 2.4-2.6),
 * sans-IO. The driver passes `nowMs` and the current requesters with their
 * stats; the decision comes back as lists of ids to choke and unchoke.
 *
 * Rules:
 * - At most `regularSlots` requesters hold a regular slot and at most
 *   `optimisticSlots` an optimistic one; everyone else is choked.
 * - Regular slots go to the best requesters, recomputed every
 *   `rechokeIntervalMs`: highest reciprocation first (bytes/s they uploaded
 *   to us lately: tit-for-tat), then nearest (`rank`, the position the
 *   caller got from rankPeers: same AS, shared prefix, RTT, tie-break).
 *   A seeder gets nothing back, so for it the order is by nearness alone.
 * - Near first (`nearFirst`, default true): requesters marked `near` (the
 *   caller's same-AS class from rankPeers) take regular slots before any
 *   far requester, whatever the far one reciprocates. A far requester then
 *   gets choked by the peers of our AS and turns to peers of its own
 *   (its session asks near sources first), so bytes stay inside each AS;
 *   the optimistic slot still lets far requesters in.
 * - Near preempts far (`nearPreempts`, default true, only with
 *   `nearFirst`): between recomputations, a near requester that is choked
 *   while a far one holds a regular slot takes that slot at once (the
 *   worst far holder is choked). Without it, far peers that arrive first
 *   (the first peer of an AS is found by every other AS at once) hold the
 *   slots for a whole rechoke interval, longer than a small download, and
 *   the AS's later members fetch from outside what their neighbour holds.
 * - Between recomputations a requester that leaves frees its slot at once,
 *   and a free slot goes at once to the best waiting requester (a new
 *   downloader does not wait 10 s for its first piece when slots are free).
 * - Groups first (`groupPreempts`, default true): requesters may carry a
 *   `group` (the caller's: the requester's network, /24 or /48). Within
 *   each near class, every group's best requester ranks before any
 *   group's second, so slots spread over groups before one group gets
 *   two; and between recomputations a choked requester whose group holds
 *   no slot takes at once the regular slot of the worst holder whose group
 *   holds two or more (never a nearer one's). Why: one host mints peer ids
 *   and streams for free, not networks; without it 16 streams of two
 *   identities that never read held every slot of an origin until the
 *   stall timeout (5 s) found them, while a legitimate downloader of
 *   another network waited (issue "hostile peers"). Requesters without a
 *   group come after every grouped one.
 * - The optimistic slot rotates every `optimisticIntervalMs` (30 s) to a
 *   choked requester drawn with the injected `random` (default: the one
 *   that has waited longest), so newcomers with nothing to reciprocate and
 *   far peers still get a chance to show their upload rate.
 */

/** Default regular upload slots (BitTorrent's classic 4). */
export const DEFAULT_REGULAR_SLOTS = 4
/** Default optimistic upload slots. */
export const DEFAULT_OPTIMISTIC_SLOTS = 1
/** Default time between recomputing the regular slots, ms. */
export const DEFAULT_RECHOKE_INTERVAL_MS = 10_000
/** Default time between rotating the optimistic slot, ms. */
export const DEFAULT_OPTIMISTIC_INTERVAL_MS = 30_000

/** Default for `nearPreempts`: near requesters take far requesters' regular slots between rechokes. */
export const DEFAULT_NEAR_PREEMPTS = true

/** Default for `groupPreempts`: slots spread over requester groups (networks) first. */
export const DEFAULT_GROUP_PREEMPTS = true

/** Options for UploadSlots. */
export interface UploadSlotsInit {
  /** Regular slots; Infinity never chokes. Default DEFAULT_REGULAR_SLOTS (4). */
  regularSlots?: number
  /** Optimistic slots. Default DEFAULT_OPTIMISTIC_SLOTS (1). */
  optimisticSlots?: number
  /** Regular-slot recomputation period, ms. Default 10 s. */
  rechokeIntervalMs?: number
  /** Optimistic-slot rotation period, ms. Default 30 s. */
  optimisticIntervalMs?: number
  /** Near requesters take regular slots before far ones (see the rules). Default true. */
  nearFirst?: boolean
  /** A choked near requester takes a far requester's regular slot at once, between rechokes (see the rules). Default DEFAULT_NEAR_PREEMPTS (true). */
  nearPreempts?: boolean
  /** Spread slots over requester groups and let a group with none take one from a group with two or more (see the rules). Default DEFAULT_GROUP_PREEMPTS (true). */
  groupPreempts?: boolean
  /** Uniform [0, 1) generator for the optimistic pick; default: the longest-waiting requester. */
  random?: () => number
}

/** One requester as the uploader sees it. */
export interface UploadRequester {
  /** Stable id of the requester (e.g. a stream or peer id). */
  readonly id: string
  /** Bytes/s this requester uploaded to us lately (0 when it gives nothing). */
  readonly reciprocationBytesPerSec: number
  /** Position from rankPeers among current requesters: 0 is nearest. */
  readonly rank: number
  /** In the uploader's near class (same AS). Default false. */
  readonly near?: boolean
  /** The requester's group for `groupPreempts` (its network); undefined: after every grouped requester. */
  readonly group?: string
}

/** What changed: send choke to `choke` and unchoke to `unchoke`. */
export interface SlotDecision {
  choke: string[]
  unchoke: string[]
}

/** The choking state machine of one uploader (see the file's rules). */
export class UploadSlots {
  private readonly regularSlots: number
  private readonly optimisticSlots: number
  private readonly rechokeIntervalMs: number
  private readonly optimisticIntervalMs: number
  private readonly random: (() => number) | undefined
  private readonly nearFirst: boolean
  private readonly nearPreempts: boolean
  private readonly groupPreempts: boolean
  private readonly regular = new Set<string>()
  private readonly optimistic = new Set<string>()
  /** Requester -> when it was first seen choked (for the longest-waiting pick). */
  private readonly waitingSince = new Map<string, number>()
  private nextRechokeMs = -Infinity
  private nextOptimisticMs = -Infinity

  /** A choker with the given slot counts and periods. */
  constructor (init: UploadSlotsInit = {}) {
    this.regularSlots = slots('regularSlots', init.regularSlots ?? DEFAULT_REGULAR_SLOTS)
    this.optimisticSlots = slots('optimisticSlots', init.optimisticSlots ?? DEFAULT_OPTIMISTIC_SLOTS)
    this.rechokeIntervalMs = positive('rechokeIntervalMs', init.rechokeIntervalMs ?? DEFAULT_RECHOKE_INTERVAL_MS)
    this.optimisticIntervalMs = positive('optimisticIntervalMs', init.optimisticIntervalMs ?? DEFAULT_OPTIMISTIC_INTERVAL_MS)
    this.random = init.random
    this.nearFirst = init.nearFirst ?? true
    this.nearPreempts = this.nearFirst && (init.nearPreempts ?? DEFAULT_NEAR_PREEMPTS)
    this.groupPreempts = init.groupPreempts ?? DEFAULT_GROUP_PREEMPTS
  }

  /** True when `id` may be served now. */
  isUnchoked (id: string): boolean {
    return this.regular.has(id) || this.optimistic.has(id)
  }

  /** Ids currently unchoked. */
  unchoked (): string[] {
    return [...this.regular, ...this.optimistic]
  }

  /** When the driver should call update() again even if nothing happened, ms. */
  nextDeadlineMs (): number {
    return Math.min(this.nextRechokeMs, this.nextOptimisticMs)
  }

  /** A choked requester whose group holds no slot takes the regular slot of the worst holder whose group holds two or more, never a nearer one's. */
  private preemptForGroups (best: readonly UploadRequester[], nearClass: (r: UploadRequester) => number): void {
    const held = new Map<string, number>()
    for (const r of best) if (r.group !== undefined && this.isUnchoked(r.id)) held.set(r.group, (held.get(r.group) ?? 0) + 1)
    for (const r of best) {
      if (r.group === undefined || this.isUnchoked(r.id) || (held.get(r.group) ?? 0) > 0) continue
      // `best` is sorted best first, so the last such holder in it is the worst one.
      const victim = best.findLast(h => this.regular.has(h.id) && nearClass(h) >= nearClass(r) &&
        (h.group === undefined || (held.get(h.group) ?? 0) >= 2))
      if (victim == null) break
      this.regular.delete(victim.id)
      if (victim.group !== undefined) held.set(victim.group, (held.get(victim.group) as number) - 1)
      this.regular.add(r.id)
      held.set(r.group, 1)
    }
  }

  /** Unchoked requesters (regular + optimistic slots in use). */
  unchokedCount (): number { return this.regular.size + this.optimistic.size }

  /** Every regular and optimistic slot is taken. */
  full (): boolean { return this.regular.size >= this.regularSlots && this.optimistic.size >= this.optimisticSlots }

  /**
   * A requester joined while nothing else changed (UploadPolicy decided so):
   * what an update listing it choked would record, without the update.
   */
  waiting (nowMs: number, id: string): void {
    if (!this.waitingSince.has(id) && !this.isUnchoked(id)) this.waitingSince.set(id, nowMs)
  }

  /** A requester left: what leaving it out of the next update would forget, without the update. */
  forget (id: string): void {
    this.regular.delete(id)
    this.optimistic.delete(id)
    this.waitingSince.delete(id)
  }

  /**
   * Applies the rules to the current requesters (all of them, every call)
   * and returns who changed state. Requesters not listed are forgotten.
   */
  update (nowMs: number, requesters: readonly UploadRequester[]): SlotDecision {
    // An origin's decisions mostly pass nobody (its requesters are the long tail, outside the slots): with
    // nobody before either, only the periods move, exactly as the full pass below would move them.
    if (requesters.length === 0 && this.regular.size === 0 && this.optimistic.size === 0 && this.waitingSince.size === 0) {
      if (nowMs >= this.nextRechokeMs) this.nextRechokeMs = nowMs + this.rechokeIntervalMs
      if (nowMs >= this.nextOptimisticMs) this.nextOptimisticMs = nowMs + this.optimisticIntervalMs
      return { choke: [], unchoke: [] }
    }
    const before = this.unchoked()
    const cmp = this.nearFirst ? byNearThenBest : byBest
    // Runs on every admit, release and request of an uploader, over thousands of requesters at a busy origin:
    // one pass finds what the rules need (who of the slot holders is still listed, the head of the order),
    // and the whole order is sorted only when a rule needs it (groups, a random optimistic pick, a long walk).
    const grouped = this.groupPreempts && requesters.some(r => r.group !== undefined)
    const order = new BestOrder(requesters, cmp, grouped || this.random !== undefined ? Infinity : 2 * this.regularSlots + 2 * this.optimisticSlots + 2)
    const known = order.holders
    let listedHeld = 0
    let listedWaiting = 0
    for (const r of requesters) {
      if (this.regular.has(r.id) || this.optimistic.has(r.id)) { listedHeld++; known.set(r.id, r) }
      if (this.waitingSince.has(r.id)) listedWaiting++
    }
    if (listedHeld < this.regular.size + this.optimistic.size || listedWaiting < this.waitingSince.size) {
      const present = requesters.length > SCAN_LIMIT ? new Set(requesters.map(r => r.id)) : undefined
      // Deleting the entry being visited is safe in a Set's or Map's iteration: no copies (this runs at every rechoke).
      for (const id of this.regular) if (!listed(id, requesters, present)) this.regular.delete(id)
      for (const id of this.optimistic) if (!listed(id, requesters, present)) this.optimistic.delete(id)
      if (this.waitingSince.size > 0) for (const id of this.waitingSince.keys()) if (!listed(id, requesters, present)) this.waitingSince.delete(id)
    }

    const nearClass = this.nearFirst ? farIsOne : noClass
    if (grouped) order.reorder(best => groupsFirst(best, nearClass))
    if (nowMs >= this.nextRechokeMs) {
      this.nextRechokeMs = nowMs + this.rechokeIntervalMs
      this.regular.clear()
      for (let i = 0; this.regular.size < this.regularSlots; i++) {
        const r = order.at(i)
        if (r === undefined) break
        this.regular.add(r.id)
        // A peer promoted to a regular slot frees its optimistic one.
        this.optimistic.delete(r.id)
      }
    } else {
      for (let i = 0; this.regular.size < this.regularSlots; i++) {
        const r = order.at(i)
        if (r === undefined) break
        if (!this.optimistic.has(r.id)) this.regular.add(r.id)
      }
      if (this.nearPreempts) {
        for (let i = 0; ; i++) {
          const r = order.at(i)
          // Near requesters come first in the order: past the first far one there is nobody to preempt for.
          if (r === undefined || r.near !== true) break
          if (this.isUnchoked(r.id)) continue
          const farHolder = order.worst(f => f.near !== true && this.regular.has(f.id))
          if (farHolder == null) break
          this.regular.delete(farHolder.id)
          this.regular.add(r.id)
        }
      }
      if (grouped) this.preemptForGroups(order.all(), nearClass)
    }

    if (nowMs >= this.nextOptimisticMs) {
      this.nextOptimisticMs = nowMs + this.optimisticIntervalMs
      this.optimistic.clear()
    }
    for (const r of requesters) {
      if (!this.waitingSince.has(r.id) && !this.isUnchoked(r.id)) this.waitingSince.set(r.id, nowMs)
    }
    while (this.optimistic.size < this.optimisticSlots) {
      let pick: UploadRequester | undefined
      if (this.random != null || grouped) {
        const choked = order.all().filter(r => !this.isUnchoked(r.id))
        if (choked.length === 0) break
        if (this.random != null) pick = choked[Math.min(choked.length - 1, Math.floor(this.random() * choked.length))]
        else pick = choked.reduce((a, b) => (this.waitingSince.get(b.id) ?? nowMs) < (this.waitingSince.get(a.id) ?? nowMs) ? b : a)
      } else {
        // The longest waiting; of those that waited as long, the first in the order (as the walk above would meet them).
        let pickSince = Infinity
        for (const r of requesters) {
          if (this.isUnchoked(r.id)) continue
          const since = this.waitingSince.get(r.id) ?? nowMs
          if (pick === undefined || since < pickSince || (since === pickSince && cmp(r, pick) < 0)) { pick = r; pickSince = since }
        }
      }
      if (pick === undefined) break
      this.optimistic.add(pick.id)
    }
    for (const id of this.unchoked()) this.waitingSince.delete(id)

    // `regular` and `optimistic` never share an id, so neither list has duplicates.
    const after = this.unchoked()
    const wasUnchoked = before.length > SCAN_LIMIT ? new Set(before) : undefined
    return {
      choke: before.filter(id => !this.isUnchoked(id)),
      unchoke: after.filter(id => !(wasUnchoked !== undefined ? wasUnchoked.has(id) : before.includes(id)))
    }
  }
}

/** Best first: highest reciprocation, then nearest rank, then id (a total order: ids are unique). */
function byBest (a: UploadRequester, b: UploadRequester): number {
  return (b.reciprocationBytesPerSec - a.reciprocationBytesPerSec) || (a.rank - b.rank) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** Near requesters before far ones, then byBest. */
function byNearThenBest (a: UploadRequester, b: UploadRequester): number {
  return (farIsOne(a) - farIsOne(b)) || byBest(a, b)
}

/**
 * The requesters best first, as the rules walk it: only its head is
 * selected (one pass, a few comparisons per requester) unless a rule walks
 * past it or needs all of it, which sorts the whole list. Both give the
 * same order, since `cmp` is a total order.
 */
class BestOrder {
  /** Requesters holding a slot before this update, by id, and those given one during it (for `worst`). */
  readonly holders = new Map<string, UploadRequester>()
  private head: UploadRequester[]
  private sorted: UploadRequester[] | undefined
  /** The order is no longer `cmp`'s (see `reorder`). */
  private custom = false

  constructor (private readonly requesters: readonly UploadRequester[], private readonly cmp: (a: UploadRequester, b: UploadRequester) => number, headSize: number) {
    if (headSize >= requesters.length) {
      this.sorted = [...requesters].sort(cmp)
      this.head = this.sorted
      return
    }
    const head: UploadRequester[] = []
    for (const r of requesters) {
      if (head.length === headSize && cmp(r, head[headSize - 1]) >= 0) continue
      let i = head.length
      if (i === headSize) i--
      while (i > 0 && cmp(r, head[i - 1]) < 0) { head[i] = head[i - 1]; i-- }
      head[i] = r
    }
    this.head = head
  }

  /** The `i`th best requester; undefined past the last. */
  at (i: number): UploadRequester | undefined {
    if (i >= this.head.length && this.sorted === undefined) this.head = this.all()
    const r = this.head[i]
    if (r !== undefined) this.holders.set(r.id, r)
    return r
  }

  /** The whole order. */
  all (): UploadRequester[] {
    this.sorted ??= [...this.requesters].sort(this.cmp)
    return this.sorted
  }

  /** Replaces the whole order (the group rule's round-robin over `cmp`'s order). */
  reorder (by: (best: UploadRequester[]) => UploadRequester[]): void {
    this.sorted = by(this.all())
    this.head = this.sorted
    this.custom = true
  }

  /** The last requester in the order matching `match`, among the slot holders and those the walk reached. */
  worst (match: (r: UploadRequester) => boolean): UploadRequester | undefined {
    // A reordered list is not `cmp`'s order: walk it.
    if (this.custom) return (this.sorted as UploadRequester[]).findLast(match)
    let out: UploadRequester | undefined
    for (const r of this.holders.values()) if (match(r) && (out === undefined || this.cmp(r, out) > 0)) out = r
    return out
  }
}

/** Lists up to this long are scanned for an id rather than put in a Set. */
const SCAN_LIMIT = 16

/** True when `id` is one of `requesters` (`present`: their ids, when the list is long). */
function listed (id: string, requesters: readonly UploadRequester[], present: Set<string> | undefined): boolean {
  if (present !== undefined) return present.has(id)
  for (const r of requesters) if (r.id === id) return true
  return false
}

function farIsOne (r: UploadRequester): number { return r.near !== true ? 1 : 0 }
function noClass (): number { return 0 }

/**
 * `best` (sorted best first) reordered so that, within each near class,
 * every group's best requester comes before any group's second, and so on;
 * requesters without a group come last in their class. Stable otherwise.
 */
function groupsFirst (best: UploadRequester[], nearClass: (r: UploadRequester) => number): UploadRequester[] {
  // Nobody grouped (the simulator passes no addresses): nothing to reorder, and nothing allocated per update.
  if (!best.some(r => r.group !== undefined)) return best
  const seen = new Map<string, number>()
  const round = new Map<UploadRequester, number>()
  let reorder = false
  for (const r of best) {
    if (r.group === undefined) { round.set(r, Infinity); reorder = true; continue }
    const n = seen.get(r.group) ?? 0
    seen.set(r.group, n + 1)
    round.set(r, n)
    if (n > 0) reorder = true
  }
  // One requester per group (the simulator's usual case): the order stands.
  if (!reorder) return best
  const order = new Map(best.map((r, i) => [r, i]))
  return [...best].sort((a, b) => (nearClass(a) - nearClass(b)) || ((round.get(a) as number) - (round.get(b) as number)) || ((order.get(a) as number) - (order.get(b) as number)))
}

function slots (name: string, value: number): number {
  if (value !== Infinity && (!Number.isSafeInteger(value) || value < 0)) throw new RangeError(`${name} must be a non-negative integer or Infinity, got ${value}`)
  return value
}

function positive (name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`)
  return value
}
