/**
 * The upload slots as they were before their update selected only the
 * head of the order (src/core/swarm/upload-slots.ts at fb2588c): every
 * requester sorted on every update. Kept as the oracle of the
 * differential test (upload-slots-order.test.ts): the faster update must
 * decide exactly as this one.
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
export class ReferenceUploadSlots {
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
    // Runs on every admit, release and request of an uploader: a few requesters most of the time, so small
    // lists are scanned instead of hashed (no Sets built per call).
    const before = this.unchoked()
    const present = requesters.length > SCAN_LIMIT ? new Set(requesters.map(r => r.id)) : undefined
    // Deleting the entry being visited is safe in a Set's or Map's iteration: no copies (this runs at every rechoke).
    for (const id of this.regular) if (!listed(id, requesters, present)) this.regular.delete(id)
    for (const id of this.optimistic) if (!listed(id, requesters, present)) this.optimistic.delete(id)
    if (this.waitingSince.size > 0) for (const id of this.waitingSince.keys()) if (!listed(id, requesters, present)) this.waitingSince.delete(id)

    const nearClass = this.nearFirst ? farIsOne : noClass
    let best = [...requesters].sort((a, b) => (nearClass(a) - nearClass(b)) ||
      (b.reciprocationBytesPerSec - a.reciprocationBytesPerSec) || (a.rank - b.rank) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    if (this.groupPreempts) best = groupsFirst(best, nearClass)
    if (nowMs >= this.nextRechokeMs) {
      this.nextRechokeMs = nowMs + this.rechokeIntervalMs
      this.regular.clear()
      for (const r of best) {
        if (this.regular.size >= this.regularSlots) break
        this.regular.add(r.id)
        // A peer promoted to a regular slot frees its optimistic one.
        this.optimistic.delete(r.id)
      }
    } else {
      for (const r of best) {
        if (this.regular.size >= this.regularSlots) break
        if (!this.optimistic.has(r.id)) this.regular.add(r.id)
      }
      if (this.nearPreempts) {
        for (const r of best) {
          if (r.near !== true || this.isUnchoked(r.id)) continue
          // `best` is sorted best first, so the last far holder in it is the worst one.
          const farHolder = best.findLast(f => f.near !== true && this.regular.has(f.id))
          if (farHolder == null) break
          this.regular.delete(farHolder.id)
          this.regular.add(r.id)
        }
      }
      if (this.groupPreempts) this.preemptForGroups(best, nearClass)
    }

    if (nowMs >= this.nextOptimisticMs) {
      this.nextOptimisticMs = nowMs + this.optimisticIntervalMs
      this.optimistic.clear()
    }
    for (const r of requesters) {
      if (!this.isUnchoked(r.id) && !this.waitingSince.has(r.id)) this.waitingSince.set(r.id, nowMs)
    }
    while (this.optimistic.size < this.optimisticSlots) {
      const choked = best.filter(r => !this.isUnchoked(r.id))
      if (choked.length === 0) break
      let pick: UploadRequester
      if (this.random != null) {
        pick = choked[Math.min(choked.length - 1, Math.floor(this.random() * choked.length))]
      } else {
        pick = choked.reduce((a, b) => (this.waitingSince.get(b.id) ?? nowMs) < (this.waitingSince.get(a.id) ?? nowMs) ? b : a)
      }
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
