/**
 * The Kademlia routing table: the one file that touches the `k-bucket` package.
 *
 * Rules:
 * - Only contacts the driver saw on an authenticated connection are added
 *   (`addAuthenticated`); contacts named in replies stay lookup candidates.
 * - A re-added id never replaces the stored contact's addresses (the
 *   arbiter keeps the incumbent and only refreshes its last-seen time, which
 *   moves it to the bucket's tail). Addresses change only after the old
 *   contact was removed (failed ping or RPC).
 * - A region (IPv4 /16, IPv6 /32 or an injected AS) may hold at most
 *   `maxPerRegionPerBucket` contacts of one bucket and `maxPerRegionInTable`
 *   of the table; exempt (null-region) contacts are not counted.
 * - A full bucket does not evict: k-bucket emits 'ping' with its least
 *   recently seen contacts; we return those to ping, remember the candidate,
 *   and evict a pinged contact only when the ping fails (Maymounkov and
 *   Mazières 2002, section 2.2: old live contacts are preferred). A contact
 *   heard from within `pingFreshMs` counts as live without a ping (BEP 5's
 *   "good" node: responded or queried us in the last 15 minutes), so a busy
 *   node does not ping its whole table again for every new candidate.
 * - A contact whose connection closed (`markDisconnected`) is bad until it
 *   is seen again: a full bucket replaces it with a new candidate without a
 *   ping (BEP 5: "if any nodes in the bucket are known to have become bad,
 *   one is replaced"), and `closest` leaves it out when asked to
 *   (`connectedOnly`, for what a node tells others).
 * - "Closest" is ordered by exact byte-wise XOR (compareDistance); k-bucket's
 *   numeric distance loses precision past 53 bits and is never used.
 */
import KBucket from 'k-bucket'
import { compareDistance, keyToHex, keysEqual, type Key } from '../ids.js'
import { prefixRegionOf, type Contact, type RegionOf } from './contact.js'

/** Options of a RoutingTable; every field but `localId` is optional. */
export interface RoutingTableInit {
  /** This node's key; required (k-bucket would otherwise invent a random one). */
  localId: Key
  /** Contacts per bucket (Kademlia k). Default 20. */
  kBucketSize?: number
  /**
   * Least-recently-seen contacts pinged when a full bucket gets a candidate.
   * Default 1, as in the Kademlia paper and BEP 5 (k-bucket's own default is
   * 3): at 10^5 simulated peers eviction pings were a quarter of all
   * messages and 99% of them were answered.
   */
  pingCount?: number
  /** Region labelling for diversity limits. Default `prefixRegionOf` (IPv4 /16, IPv6 /32, local exempt). */
  regionOf?: RegionOf
  /** Most contacts of one region in one bucket. Default 2. */
  maxPerRegionPerBucket?: number
  /** Most contacts of one region in the whole table. Default 10. */
  maxPerRegionInTable?: number
  /** Most eviction pings outstanding at once (each remembers one candidate). Default 64. */
  maxPendingPings?: number
  /** A least-recently-seen contact heard from within this long is live: the candidate is dropped unpinged. Default 0 (always ping). */
  pingFreshMs?: number
}

/** Outcome of `addAuthenticated`; `ping` lists contacts the owner must ping (status 'ping'). */
export type AddContactResult =
  | { status: 'added' | 'updated' | 'rejected-self' | 'rejected-region' | 'dropped' }
  | { status: 'ping', ping: Contact[] }

/**
 * A stored contact: the contact object itself (contacts are immutable values,
 * handed out without copies), `region` = regionOf(contact) computed once at
 * insertion (a per-offer scan of the bucket needs it). `hi` and `lo` are the
 * id's first three and next three bytes as small integers: `closest` and
 * the bucket scans read them from the entry itself instead of the id's
 * byte array, a separate heap object (at 10^5 simulated nodes those extra
 * memory loads per contact were most of `closest`'s time).
 */
// Every field is set at creation: one object shape keeps the hot loops' property loads monomorphic.
interface Entry { id: Key, contact: Contact, vectorClock: number, region: string | null, failures: number, hi: number, lo: number, disconnected: boolean }

interface KNode { contacts: Entry[] | null, dontSplit: boolean, left: KNode, right: KNode }

/** Kademlia routing table over k-bucket with exact ordering, diversity limits and ping-before-evict. */
export class RoutingTable {
  readonly localId: Key
  readonly kBucketSize: number
  private readonly kb: KBucket<Entry>
  private readonly regionOf: RegionOf
  private readonly maxPerRegionPerBucket: number
  private readonly maxPerRegionInTable: number
  private readonly maxPendingPings: number
  private readonly pingFreshMs: number
  private readonly pingCount: number
  private readonly regionCounts = new Map<string, number>()
  private contactCount = 0
  /** pinged contact (hex id) -> candidate waiting for its slot */
  private readonly pending = new Map<string, Contact>()
  private pingRequest: Entry[] | undefined

  constructor (init: RoutingTableInit) {
    this.localId = init.localId
    this.kBucketSize = init.kBucketSize ?? 20
    this.regionOf = init.regionOf ?? prefixRegionOf
    this.maxPerRegionPerBucket = init.maxPerRegionPerBucket ?? 2
    this.maxPerRegionInTable = init.maxPerRegionInTable ?? 10
    this.maxPendingPings = init.maxPendingPings ?? 64
    this.pingFreshMs = init.pingFreshMs ?? 0
    this.pingCount = init.pingCount ?? 1
    this.kb = new KBucket<Entry>({
      localNodeId: init.localId,
      numberOfNodesPerKBucket: this.kBucketSize,
      numberOfNodesToPing: this.pingCount,
      // Keep the live incumbent's addresses; a fresh object moves it to the tail as recently seen.
      arbiter: (incumbent, candidate) => ({ ...incumbent, vectorClock: Math.max(incumbent.vectorClock, candidate.vectorClock) })
    })
    this.kb.on('added', (c: Entry) => { this.count(c, +1) })
    this.kb.on('removed', (c: Entry) => { this.count(c, -1) })
    // The arbiter returns a new object for a known id: 'updated', not counted.
    this.kb.on('ping', (old: Entry[]) => { this.pingRequest = old })
  }

  /** Number of contacts in the table. */
  get size (): number { return this.contactCount }

  /** Contact stored under `id`, or undefined. */
  get (id: Key): Contact | undefined {
    const e = this.kb.get(id)
    return e?.contact
  }

  /** Every contact, in no particular order. */
  toArray (): Contact[] { return this.kb.toArray().map(e => e.contact) }

  /** Contacts of `region` in the table. */
  regionCount (region: string): number { return this.regionCounts.get(region) ?? 0 }

  /**
   * Adds (or refreshes) a contact seen on an authenticated connection at
   * `nowMs`. When its bucket is full the result lists contacts to ping;
   * report the outcome with `pingAnswered` / `pingFailed`.
   */
  addAuthenticated (contact: Contact, nowMs: number): AddContactResult {
    if (keysEqual(contact.id, this.localId)) return { status: 'rejected-self' }
    const node = this.bucketNodeOf(contact.id)
    const bucket = node.contacts as Entry[]
    // Known: keep its addresses, only its last-seen time and place in the bucket change (what the arbiter does, without k-bucket's copies).
    if (this.refreshIn(bucket, contact.id, nowMs)) return { status: 'updated' }
    const region = this.regionOf(contact)
    if (region != null) {
      if (this.regionCount(region) >= this.maxPerRegionInTable) return { status: 'rejected-region' }
      let inBucket = 0
      for (const c of bucket) if (c.region === region) inBucket++
      if (inBucket >= this.maxPerRegionPerBucket) return { status: 'rejected-region' }
    }
    if (bucket.length >= this.kBucketSize) {
      const gone = bucket.find(e => e.disconnected)
      if (gone !== undefined) this.kb.remove(gone.id)
    }
    if (node.dontSplit && bucket.length >= this.kBucketSize && this.freshHead(bucket, nowMs)) {
      // What k-bucket would do (emit 'ping' with the bucket's head) when every head contact counts as live anyway: drop, without the copies.
      return { status: 'dropped' }
    }
    const entry: Entry = { id: contact.id, contact: toContact(contact), vectorClock: nowMs, region, failures: 0, hi: idHi(contact.id), lo: idLo(contact.id), disconnected: false }
    this.pingRequest = undefined
    this.kb.add(entry)
    const old = this.pingRequest as Entry[] | undefined
    this.pingRequest = undefined
    if (old == null) return this.kb.get(contact.id) != null ? { status: 'added' } : { status: 'dropped' }
    const toPing: Contact[] = []
    for (const o of old) {
      if (nowMs - o.vectorClock < this.pingFreshMs) continue // seen lately: live, keep it unpinged
      const hex = keyToHex(o.id)
      if (this.pending.has(hex)) continue
      if (this.pending.size >= this.maxPendingPings) break
      this.pending.set(hex, entry.contact)
      toPing.push(o.contact)
      // One free slot suffices for one candidate: ping more only to find a dead one faster.
    }
    return toPing.length === 0 ? { status: 'dropped' } : { status: 'ping', ping: toPing }
  }

  /** The pinged contact answered: it stays (and becomes most recently seen); its waiting candidate is dropped. */
  pingAnswered (id: Key, nowMs: number): void {
    this.pending.delete(keyToHex(id))
    this.touch(id, nowMs)
  }

  /** The pinged contact did not answer: it is evicted and the candidate waiting on it is added in its place. */
  pingFailed (id: Key, nowMs: number): AddContactResult | undefined {
    const hex = keyToHex(id)
    const candidate = this.pending.get(hex)
    this.pending.delete(hex)
    this.kb.remove(id)
    if (candidate == null || this.kb.get(candidate.id) != null) return undefined
    return this.addAuthenticated(candidate, nowMs)
  }

  /** True while an eviction ping to `id` is outstanding. */
  isPinging (id: Key): boolean { return this.pending.has(keyToHex(id)) }

  /** Marks a contact as just seen (moves it to its bucket's tail); no-op for unknown ids. */
  touch (id: Key, nowMs: number): void {
    this.refreshIn(this.bucketOf(id), id, nowMs)
  }

  /** Moves `id` to the tail of its bucket (most recently seen) with last-seen `nowMs`; false when not stored. */
  private refreshIn (bucket: Entry[], id: Key, nowMs: number): boolean {
    const hi = idHi(id); const lo = idLo(id)
    for (let i = bucket.length - 1; i >= 0; i--) {
      const e = bucket[i]
      if (e.hi !== hi || e.lo !== lo || !keysEqual(e.id, id)) continue
      if (nowMs > e.vectorClock) e.vectorClock = nowMs
      e.failures = 0
      e.disconnected = false
      if (i !== bucket.length - 1) { bucket.splice(i, 1); bucket.push(e) }
      return true
    }
    return false
  }

  /**
   * A request to `id` failed (no answer, dial error). The contact is removed
   * when that makes `evictAfterFailures` failures in a row, or at once when
   * its connection closed (see the rules); any contact seen from it
   * (refresh, answered ping) resets the count. True when it was removed.
   */
  recordFailure (id: Key, evictAfterFailures: number): boolean {
    const e = this.entryOf(id)
    if (e === undefined) return false
    if (!e.disconnected && ++e.failures < evictAfterFailures) return false
    this.remove(id)
    return true
  }

  /** The connection to `id` closed: it is bad until seen again (see the rules). False when not stored. */
  markDisconnected (id: Key): boolean {
    const e = this.entryOf(id)
    if (e === undefined) return false
    e.disconnected = true
    return true
  }

  /** True when `id` is stored and marked disconnected since it was last seen. */
  isDisconnected (id: Key): boolean { return this.entryOf(id)?.disconnected === true }

  /** Removes a contact (vanished or misbehaving peer). */
  remove (id: Key): boolean {
    const had = this.kb.get(id) != null
    this.kb.remove(id)
    this.pending.delete(keyToHex(id))
    return had
  }

  /**
   * The `n` contacts closest to `target` by exact XOR distance. Walks
   * k-bucket's tree nearest subtree first (each subtree is one contiguous
   * distance range, as k-bucket's own `closest` does) and orders exactly;
   * `except` (typically the asker) is left out, and with `connectedOnly`
   * so are contacts marked disconnected.
   */
  closest (target: Key, n: number = this.kBucketSize, except?: Key, connectedOnly = false): Contact[] {
    // Top n kept sorted by insertion (by a 48-bit distance prefix; full byte-wise XOR breaks its ties) in module scratch arrays: core is synchronous, and this runs for every find-node and get-providers a member answers.
    if (bestD.length < n + 1) bestD = new Float64Array(2 * (n + 1))
    const best = bestEntries
    let count = 0
    const th = idHi(target); const tl = idLo(target)
    // The asker's own entry has exactly this prefix distance: compare whole ids only then.
    const exceptD = except === undefined ? -1 : (th ^ idHi(except)) * 2 ** 24 + (tl ^ idLo(except))
    let seen = 0
    const stack = walkStack
    stack.length = 0
    stack.push(this.kb.root as unknown as KNode)
    let bit = 0
    while (stack.length > 0 && seen < n) {
      const node = stack.pop() as KNode
      if (node.contacts == null) {
        const near = bitAt(target, bit++) ? node.right : node.left
        stack.push(near === node.left ? node.right : node.left, near)
        continue
      }
      for (const e of node.contacts) {
        const d = (th ^ e.hi) * 2 ** 24 + (tl ^ e.lo)
        if (d === exceptD && keysEqual(e.id, except as Key)) continue
        if (connectedOnly && e.disconnected) continue
        seen++
        let i = count
        while (i > 0 && (bestD[i - 1] > d || (bestD[i - 1] === d && compareDistance(target, best[i - 1].id, e.id) > 0))) i--
        if (i >= n) continue
        if (count < n) count++
        for (let j = count - 1; j > i; j--) { best[j] = best[j - 1]; bestD[j] = bestD[j - 1] }
        best[i] = e
        bestD[i] = d
      }
    }
    stack.length = 0
    const out: Contact[] = new Array(count)
    for (let i = 0; i < count; i++) { out[i] = best[i].contact; best[i] = undefined as unknown as Entry }
    return out
  }

  private entryOf (id: Key): Entry | undefined {
    const hi = idHi(id); const lo = idLo(id)
    for (const e of this.bucketOf(id)) if (e.hi === hi && e.lo === lo && keysEqual(e.id, id)) return e
    return undefined
  }

  private bucketOf (id: Key): Entry[] {
    return this.bucketNodeOf(id).contacts as Entry[]
  }

  private bucketNodeOf (id: Key): KNode {
    let node = this.kb.root as unknown as KNode
    let bit = 0
    while (node.contacts == null) node = bitAt(id, bit++) ? node.right : node.left
    return node
  }

  /** True when the `pingCount` least recently seen contacts of a full bucket were all heard from within pingFreshMs. */
  private freshHead (bucket: Entry[], nowMs: number): boolean {
    for (let i = 0; i < this.pingCount && i < bucket.length; i++) if (nowMs - bucket[i].vectorClock >= this.pingFreshMs) return false
    return true
  }

  private count (c: Entry, delta: number): void {
    this.contactCount += delta
    const r = c.region
    if (r == null) return
    const n = (this.regionCounts.get(r) ?? 0) + delta
    if (n <= 0) this.regionCounts.delete(r)
    else this.regionCounts.set(r, n)
  }
}

// closest()'s scratch: the best entries so far, their distance prefixes, and the tree walk's stack.
const bestEntries: Entry[] = []
let bestD = new Float64Array(64)
const walkStack: KNode[] = []

/** Bytes 0-2 of a key as a 24-bit integer. */
function idHi (id: Key): number { return (id[0] << 16) | (id[1] << 8) | id[2] }

/** Bytes 3-5 of a key as a 24-bit integer. */
function idLo (id: Key): number { return (id[3] << 16) | (id[4] << 8) | id[5] }

function bitAt (id: Key, bit: number): boolean {
  return (id[bit >> 3] & (1 << (7 - (bit & 7)))) !== 0
}

function toContact (e: Contact): Contact {
  return e.origin === true ? { id: e.id, peerId: e.peerId, addrs: e.addrs, origin: true } : { id: e.id, peerId: e.peerId, addrs: e.addrs }
}
