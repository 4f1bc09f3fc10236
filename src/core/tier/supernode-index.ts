/**
 * The supernode side of the tier: accepts leaves, indexes what they hold,
 * announces it in the DHT, and answers their queries.
 *
 * Rules:
 * - A leaf is attached after `attach` → `attach-ok`; it must send keep-alive
 *   (any request counts) within `leafTimeoutMs` or it is dropped with its keys.
 *   Requests other than attach from a non-attached peer get `not-attached`.
 * - Load shedding: with `maxLeaves` leaves, while the driver says the
 *   node is overloaded (upload slots, event-loop lag), or while
 *   `shedAtPendingQueries` of its leaves' queries are still resolving (its
 *   own measure of query load), a NEW leaf gets `attach-busy` with up to
 *   `maxAlternatives` other supernodes: the members `alternatives(leaf)`
 *   lists (the drivers pass their routing table's 20 closest to the leaf's
 *   id), ranked for the leaf by `rank` (nearest first, then a per-pair
 *   tie-break), origin seeders last. The first few by XOR alone sent every
 *   busy leaf of one id region to the same supernodes: at 10^5 simulated
 *   peers ranking cut first-hour attach-busy by a quarter. Existing leaves are never dropped
 *   and the supernode never leaves the tier because of load: a tier that
 *   lost a quarter of its members must not collapse as survivors fill up.
 *   While overloaded, queries are answered from the leaf index only.
 * - Each key held by at least one leaf (or by this node, `holdSelf`) is
 *   indexed; it is announced once with `dht-provide` while at least one of
 *   its holders asked for that, and withdrawn with `dht-unprovide` when the
 *   last such holder goes (aggregated provider records: one record per
 *   supernode, not per leaf). This node itself always asks; a leaf asks
 *   unless it registered the key `indexOnly`. A leaf registers with all its
 *   supernodes but asks only one of them to announce: one record per leaf
 *   is enough for a query to reach it, and every supernode announcing every
 *   key of every leaf was 44% of all messages of a simulated CDN day
 *   (docs/BENCHMARKS.md). Index size is capped by `maxIndexedKeys` and
 *   `maxKeysPerLeaf`; keys over the cap are refused (`too-many-keys`).
 * - A leaf's query is answered from the leaf index; when that yields fewer
 *   than `maxProvidersPerReply`, a `dht-get-providers` effect asks the DHT,
 *   and up to `maxForwardQueries` providers found are sent `query` with
 *   `localOnly` (answered from their own index, no recursion). Forwards go
 *   out as the lookup reports providers (`providersSeen`), not only at its
 *   end (`providersFound`): the lookup may wait a full request timeout on a
 *   slow contact after the first answer already named every announcer, and
 *   a budget spent waiting meant an empty answer. Until an origin seeder
 *   was asked, one forward slot is kept for one. The answer goes out when
 *   no forward is outstanding and either the lookup ended or the forwards
 *   found someone, or after `queryBudgetMs`.
 * - Providers are ranked by the injected `rank(asker, candidates)`.
 * - Every request costs a token of the leaf's rate limit; a leaf that keeps
 *   breaking it is dropped and penalized.
 */
import { keyToHex, type Key } from '../ids.js'
import type { Contact } from '../dht/contact.js'
import { requestIdCounter, type RequestIdSource } from '../dht/dht-node.js'
import { RateLimiter, type RateLimiterInit } from '../dht/rate-limiter.js'
import { MAX_CONTACTS_PER_MESSAGE, type DhtMessage } from '../messages/dht-messages.js'
import { HeadMap } from '../head-map.js'

/** Ranks candidate providers for `asker`, best first (the proximity module supplies the real one). */
export type RankForAsker = (asker: Contact, candidates: Contact[]) => Contact[]

/** Options of a SupernodeIndex; only `self` is required. */
export interface SupernodeIndexInit {
  self: Contact
  /** Leaves accepted before new ones get attach-busy. Default 200. */
  maxLeaves?: number
  /** Keep-alive interval asked of leaves, in ms. Default 15 000. */
  keepAliveIntervalMs?: number
  /** Silence after which a leaf is dropped, in ms. Default 3 × keepAliveIntervalMs. */
  leafTimeoutMs?: number
  /** Keys one leaf may register. Default 10 000. */
  maxKeysPerLeaf?: number
  /** Distinct keys indexed. Default 200 000. */
  maxIndexedKeys?: number
  /** Providers in one query-reply. Default 20 (MAX_CONTACTS_PER_MESSAGE). */
  maxProvidersPerReply?: number
  /** Other supernodes asked (localOnly) per leaf query. Default 3. */
  maxForwardQueries?: number
  /** Time a leaf query may take before it is answered with what was found, in ms. Default 8000. */
  queryBudgetMs?: number
  /** Time a forwarded query has to answer, in ms. Default 5000. */
  requestTimeoutMs?: number
  /** Queries resolving at once; more are answered from the index only. Default 256. */
  maxPendingQueries?: number
  /** Queries resolving at once from which new leaves are shed (attach-busy), as load. Default 3/4 of maxPendingQueries (192). */
  shedAtPendingQueries?: number
  /** Alternatives named in attach-busy. Default 5. */
  maxAlternatives?: number
  /** DHT members to choose attach-busy's alternatives from (e.g. the routing table's 20 closest to the leaf); they are ranked for the leaf. Default none. */
  alternatives?: (leaf: Contact) => Contact[]
  /** Provider ranking. Default: index order. */
  rank?: RankForAsker
  /** Per-leaf rate limit. Defaults: 10/s, burst 20, ban at -100. */
  rateLimit?: RateLimiterInit
  /** Shared request id allocator. Default a private counter. */
  nextRequestId?: RequestIdSource
}

/** Effects of a SupernodeIndex. */
export type SupernodeEffect =
  | { type: 'send', to: Contact, message: DhtMessage }
  /** Announce this node as provider of `key` (DhtNode.provide). */
  | { type: 'dht-provide', key: Key }
  /** Stop announcing `key` (DhtNode.unprovide). */
  | { type: 'dht-unprovide', key: Key }
  /** Run DhtNode.getProviders(key) and report with providersFound(token, providers). */
  | { type: 'dht-get-providers', token: number, key: Key }
  | { type: 'penalize', peer: string, reason: string }

/** `keys`: key hex -> true when this leaf asked us to announce it. */
interface Leaf { contact: Contact, keys: Map<string, boolean>, lastSeenMs: number }
/** `announcers`: holders that asked us to announce the key; we provide it while this is above 0. */
interface IndexEntry { key: Key, holders: Set<string>, announcers: number }
interface PendingQuery { asker: Contact, requestId: number, key: Key, found: Map<string, Contact>, forwards: Set<number>, deadlineMs: number, dhtDone: boolean, asked: Set<string>, originAsked: boolean }

/** Supernode-side tier state machine: leaf index, aggregated announcements, query resolution, load shedding. */
export class SupernodeIndex {
  readonly self: Contact
  readonly maxLeaves: number
  private readonly keepAliveIntervalMs: number
  private readonly leafTimeoutMs: number
  private readonly maxKeysPerLeaf: number
  private readonly maxIndexedKeys: number
  private readonly maxProvidersPerReply: number
  private readonly maxForwardQueries: number
  private readonly queryBudgetMs: number
  private readonly requestTimeoutMs: number
  private readonly maxPendingQueries: number
  private readonly shedAtPendingQueries: number
  private readonly maxAlternatives: number
  private readonly alternatives: (leaf: Contact) => Contact[]
  private readonly rank: RankForAsker
  private readonly limiter: RateLimiter
  private readonly nextRequestId: RequestIdSource
  private readonly leaves = new HeadMap<string, Leaf>()
  /** key hex -> holders (leaf peer ids, plus our own peer id for holdSelf) */
  private readonly index = new Map<string, IndexEntry>()
  private readonly pending = new HeadMap<number, PendingQuery>()
  /** forward request id -> query token */
  private readonly forwards = new HeadMap<number, { token: number, peerId: string, deadlineMs: number }>()
  private nextToken = 1
  private overloaded = false

  constructor (init: SupernodeIndexInit) {
    this.self = init.self
    this.maxLeaves = init.maxLeaves ?? 200
    this.keepAliveIntervalMs = init.keepAliveIntervalMs ?? 15_000
    this.leafTimeoutMs = init.leafTimeoutMs ?? 3 * this.keepAliveIntervalMs
    this.maxKeysPerLeaf = init.maxKeysPerLeaf ?? 10_000
    this.maxIndexedKeys = init.maxIndexedKeys ?? 200_000
    this.maxProvidersPerReply = Math.min(init.maxProvidersPerReply ?? MAX_CONTACTS_PER_MESSAGE, MAX_CONTACTS_PER_MESSAGE)
    this.maxForwardQueries = init.maxForwardQueries ?? 3
    this.queryBudgetMs = init.queryBudgetMs ?? 8000
    this.requestTimeoutMs = init.requestTimeoutMs ?? 5000
    this.maxPendingQueries = init.maxPendingQueries ?? 256
    this.shedAtPendingQueries = init.shedAtPendingQueries ?? Math.ceil(this.maxPendingQueries * 3 / 4)
    this.maxAlternatives = init.maxAlternatives ?? 5
    this.alternatives = init.alternatives ?? (() => [])
    this.rank = init.rank ?? ((_a, c) => c)
    this.limiter = new RateLimiter({ ratePerSec: 10, burst: 20, ...init.rateLimit })
    this.nextRequestId = init.nextRequestId ?? requestIdCounter()
  }

  /** Leaves attached. */
  get leafCount (): number { return this.leaves.size }

  /** The attached leaves' contacts (where they are: the supernode policy's region estimate). */
  * leafContacts (): IterableIterator<Contact> { for (const l of this.leaves.values()) yield l.contact }

  /** Distinct keys indexed. */
  get indexedKeys (): number { return this.index.size }

  /** True when `requestId` is one of our forwarded queries. */
  ownsRequest (requestId: number): boolean { return this.forwards.has(requestId) }

  /** The driver's load signal (upload or CPU saturated): new leaves are refused while true. */
  setOverloaded (overloaded: boolean): void { this.overloaded = overloaded }

  /** This node itself holds `key` (a seeder's catalog, a supernode's own downloads). */
  holdSelf (key: Key): SupernodeEffect[] { return this.addHolder(this.self.peerId, key, true) ? [{ type: 'dht-provide', key }] : [] }

  /** This node no longer holds `key` itself. */
  dropSelf (key: Key): SupernodeEffect[] { return this.removeHolder(this.self.peerId, keyToHex(key), true) }

  /** Holders of `key` in this node's own index (leaves and itself), ranked for `asker` and never naming it. */
  localProviders (asker: Contact, key: Key): Contact[] { return this.localHits(asker, key) }

  /** A message from the authenticated peer `from`. */
  handleMessage (nowMs: number, from: Contact, m: DhtMessage): SupernodeEffect[] {
    switch (m.type) {
      case 'attach': case 'register': case 'unregister': case 'keep-alive': case 'query':
        break
      case 'query-reply': case 'error':
        return this.forwardAnswered(nowMs, from, m.requestId, m.type === 'query-reply' ? m.providers : [])
      default:
        return []
    }
    if (this.limiter.isBanned(nowMs, from.peerId)) return []
    const take = this.limiter.take(nowMs, from.peerId)
    const reply = (message: DhtMessage): SupernodeEffect[] => [{ type: 'send', to: from, message }]
    if (!take.allowed) {
      if (take.banned) return [...this.dropLeaf(from.peerId), { type: 'penalize', peer: from.peerId, reason: 'rate limit' }]
      return reply({ type: 'error', requestId: m.requestId, code: 'rate-limited' })
    }
    if (m.type === 'query' && m.localOnly === true) {
      return reply({ type: 'query-reply', requestId: m.requestId, providers: this.localHits(from, m.key) })
    }
    const leaf = this.leaves.get(from.peerId)
    if (m.type === 'attach') {
      if (leaf != null) { this.seen(from.peerId, leaf, nowMs); return reply(this.attachOk(m.requestId)) }
      if (this.overloaded || this.pending.size >= this.shedAtPendingQueries || this.leaves.size >= this.maxLeaves) {
        return reply({ type: 'attach-busy', requestId: m.requestId, alternatives: this.alternativesFor(from) })
      }
      this.leaves.set(from.peerId, { contact: from, keys: new Map(), lastSeenMs: nowMs })
      return reply(this.attachOk(m.requestId))
    }
    if (leaf == null) return reply({ type: 'error', requestId: m.requestId, code: 'not-attached' })
    this.seen(from.peerId, leaf, nowMs)
    // A leaf's addresses change after it attached (relayed addresses once it holds a reservation here): answers name the latest.
    if (from.addrs.length > 0) leaf.contact = from
    switch (m.type) {
      case 'keep-alive': return reply({ type: 'ack', requestId: m.requestId })
      case 'register': {
        const out: SupernodeEffect[] = []
        let refused = false
        const announce = m.indexOnly !== true
        for (const key of m.keys) {
          const hex = keyToHex(key)
          const had = leaf.keys.get(hex)
          if (had !== undefined) {
            // Index-only before, announce now: the leaf lost the supernode that announced it.
            if (announce && !had) {
              leaf.keys.set(hex, true)
              if (this.addAnnouncer(hex)) out.push({ type: 'dht-provide', key })
            }
            continue
          }
          if (leaf.keys.size >= this.maxKeysPerLeaf || (!this.index.has(hex) && this.index.size >= this.maxIndexedKeys)) { refused = true; continue }
          leaf.keys.set(hex, announce)
          if (this.addHolder(from.peerId, key, announce)) out.push({ type: 'dht-provide', key })
        }
        out.push(...reply(refused ? { type: 'error', requestId: m.requestId, code: 'too-many-keys' } : { type: 'ack', requestId: m.requestId }))
        return out
      }
      case 'unregister': {
        const out: SupernodeEffect[] = []
        for (const key of m.keys) {
          const hex = keyToHex(key)
          const announced = leaf.keys.get(hex)
          if (announced !== undefined) { leaf.keys.delete(hex); out.push(...this.removeHolder(from.peerId, hex, announced)) }
        }
        out.push(...reply({ type: 'ack', requestId: m.requestId }))
        return out
      }
      case 'query': return this.startQuery(nowMs, from, m.requestId, m.key)
      default: return []
    }
  }

  /** The DHT lookup for query `token`, still running, found `providers` (best first): they are asked at once. */
  providersSeen (nowMs: number, token: number, providers: readonly Contact[]): SupernodeEffect[] {
    const q = this.pending.get(token)
    if (q == null) return []
    return this.forwardTo(nowMs, token, q, providers, true)
  }

  /** The DHT lookup for query `token` ended with `providers` (best first). */
  providersFound (nowMs: number, token: number, providers: readonly Contact[]): SupernodeEffect[] {
    const q = this.pending.get(token)
    if (q == null) return []
    q.dhtDone = true
    // Last call: the slot kept for an origin goes to an origin if there is one, else to anyone.
    const ordered = q.originAsked ? providers : [...providers.filter(p => p.origin === true), ...providers.filter(p => p.origin !== true)]
    const out = this.forwardTo(nowMs, token, q, ordered, false)
    out.push(...this.maybeAnswer(nowMs, token))
    return out
  }

  private forwardTo (nowMs: number, token: number, q: PendingQuery, providers: readonly Contact[], keepOriginSlot: boolean): SupernodeEffect[] {
    const out: SupernodeEffect[] = []
    for (const p of providers) {
      if (q.asked.size >= this.maxForwardQueries) break
      if (p.peerId === this.self.peerId || p.peerId === q.asker.peerId || q.asked.has(p.peerId)) continue
      if (keepOriginSlot && p.origin !== true && !q.originAsked && q.asked.size >= this.maxForwardQueries - 1) continue
      q.asked.add(p.peerId)
      if (p.origin === true) q.originAsked = true
      const requestId = this.nextRequestId()
      q.forwards.add(requestId)
      this.forwards.set(requestId, { token, peerId: p.peerId, deadlineMs: nowMs + this.requestTimeoutMs })
      out.push({ type: 'send', to: p, message: { type: 'query', requestId, key: q.key, localOnly: true } })
    }
    return out
  }

  /** A forwarded query could not be delivered. */
  rpcFailed (nowMs: number, requestId: number): SupernodeEffect[] {
    const f = this.forwards.get(requestId)
    if (f == null) return []
    return this.forwardAnswered(nowMs, { peerId: f.peerId } as Contact, requestId, [])
  }

  /** Appends to `into` the ids of forwards still waiting for an answer from `peerId`; returns `into`. */
  forwardsTo (peerId: string, into: number[] = []): number[] {
    if (this.forwards.size > 0) for (const [id, f] of this.forwards) if (f.peerId === peerId) into.push(id)
    return into
  }

  /** The connection to `peerId` closed: a leaf is dropped with its keys at once. */
  peerDisconnected (_nowMs: number, peerId: string): SupernodeEffect[] { return this.dropLeaf(peerId) }

  /**
   * Earliest time `handleTimeout` has work, or undefined. O(1): leaves are
   * kept in last-seen order and queries / forwards in start order (their
   * deadlines are a constant after it), so each map's first entry is its
   * earliest deadline (time passed in never goes backwards).
   */
  nextDeadlineMs (): number | undefined {
    let min: number | undefined
    const l = this.leaves.first()
    if (l != null) min = l.lastSeenMs + this.leafTimeoutMs
    const q = this.pending.first()
    if (q != null && (min === undefined || q.deadlineMs < min)) min = q.deadlineMs
    const f = this.forwards.first()
    if (f != null && (min === undefined || f.deadlineMs < min)) min = f.deadlineMs
    return min
  }

  /** Drops silent leaves and answers queries whose budget ran out. */
  handleTimeout (nowMs: number): SupernodeEffect[] {
    const out: SupernodeEffect[] = []
    for (const [peerId, l] of this.leaves) {
      if (l.lastSeenMs + this.leafTimeoutMs > nowMs) break // last-seen order: the rest are younger
      out.push(...this.dropLeaf(peerId))
    }
    for (const [id, f] of this.forwards) if (f.deadlineMs <= nowMs) out.push(...this.forwardAnswered(nowMs, { peerId: f.peerId } as Contact, id, []))
    for (const [token, q] of this.pending) if (q.deadlineMs <= nowMs) out.push(...this.answer(token, q))
    return out
  }

  /** Peer ids of the attached leaves (the binding closes their connections on shutdown). */
  leafPeerIds (): string[] { return [...this.leaves.keys()] }

  /** Marks a leaf as just heard from; re-inserting keeps `leaves` in last-seen order. */
  private seen (peerId: string, leaf: Leaf, nowMs: number): void {
    leaf.lastSeenMs = nowMs
    this.leaves.delete(peerId)
    this.leaves.set(peerId, leaf)
  }

  private attachOk (requestId: number): DhtMessage {
    return { type: 'attach-ok', requestId, keepAliveIntervalMs: this.keepAliveIntervalMs, leaves: this.leaves.size, maxLeaves: this.maxLeaves }
  }

  private localHits (asker: Contact, key: Key): Contact[] {
    const entry = this.index.get(keyToHex(key))
    if (entry == null) return []
    const hits: Contact[] = []
    for (const peerId of entry.holders) {
      if (peerId === asker.peerId) continue
      if (peerId === this.self.peerId) hits.push(this.self)
      else { const l = this.leaves.get(peerId); if (l != null) hits.push(l.contact) }
    }
    return this.rank(asker, hits).slice(0, this.maxProvidersPerReply)
  }

  private startQuery (nowMs: number, asker: Contact, requestId: number, key: Key): SupernodeEffect[] {
    const hits = this.localHits(asker, key)
    if (hits.length >= this.maxProvidersPerReply || this.overloaded || this.pending.size >= this.maxPendingQueries) {
      return [{ type: 'send', to: asker, message: { type: 'query-reply', requestId, providers: hits } }]
    }
    const token = this.nextToken++
    this.pending.set(token, { asker, requestId, key, found: new Map(hits.map(h => [h.peerId, h])), forwards: new Set(), deadlineMs: nowMs + this.queryBudgetMs, dhtDone: false, asked: new Set(), originAsked: false })
    return [{ type: 'dht-get-providers', token, key }]
  }

  private forwardAnswered (nowMs: number, from: Contact, requestId: number, providers: readonly Contact[]): SupernodeEffect[] {
    const f = this.forwards.get(requestId)
    if (f == null || f.peerId !== from.peerId) return []
    this.forwards.delete(requestId)
    const q = this.pending.get(f.token)
    if (q == null) return []
    q.forwards.delete(requestId)
    for (const p of providers.slice(0, MAX_CONTACTS_PER_MESSAGE)) if (p.peerId !== q.asker.peerId && !q.found.has(p.peerId)) q.found.set(p.peerId, p)
    return this.maybeAnswer(nowMs, f.token)
  }

  private maybeAnswer (_nowMs: number, token: number): SupernodeEffect[] {
    const q = this.pending.get(token)
    if (q == null || q.forwards.size > 0) return []
    // Every announcer named so far answered and something was found: answer
    // now rather than wait for the lookup's slowest contact (the leaf asks
    // again later; a download re-finds every few seconds).
    const enough = q.asked.size > 0 && q.found.size > 0
    if (!q.dhtDone && !enough) return []
    return this.answer(token, q)
  }

  private answer (token: number, q: PendingQuery): SupernodeEffect[] {
    this.pending.delete(token)
    for (const id of q.forwards) this.forwards.delete(id)
    const providers = this.rank(q.asker, [...q.found.values()]).slice(0, this.maxProvidersPerReply)
    return [{ type: 'send', to: q.asker, message: { type: 'query-reply', requestId: q.requestId, providers } }]
  }

  /** Up to maxAlternatives known members for a leaf we cannot take: nearest it first, origin seeders after supernodes. */
  private alternativesFor (leaf: Contact): Contact[] {
    const known = this.alternatives(leaf).filter(c => c.peerId !== this.self.peerId && c.peerId !== leaf.peerId)
    const ranked = this.rank(leaf, known)
    const out: Contact[] = []
    for (const c of ranked) if (out.length < this.maxAlternatives && c.origin !== true) out.push(c)
    for (const c of ranked) if (out.length < this.maxAlternatives && c.origin === true) out.push(c)
    return out
  }

  /** Adds `peerId` as a holder of `key`; true when we must now start announcing it. */
  private addHolder (peerId: string, key: Key, announce: boolean): boolean {
    const hex = keyToHex(key)
    let e = this.index.get(hex)
    if (e == null) { e = { key, holders: new Set(), announcers: 0 }; this.index.set(hex, e) }
    if (e.holders.has(peerId)) return false
    e.holders.add(peerId)
    return announce && countAnnouncer(e)
  }

  /** A holder of indexed key `hex` now asks us to announce it; true when we must start. */
  private addAnnouncer (hex: string): boolean {
    const e = this.index.get(hex)
    return e != null && countAnnouncer(e)
  }

  private removeHolder (peerId: string, hex: string, announced: boolean): SupernodeEffect[] {
    const e = this.index.get(hex)
    if (e == null || !e.holders.delete(peerId)) return []
    if (announced) e.announcers--
    if (e.holders.size === 0) this.index.delete(hex)
    return announced && e.announcers === 0 ? [{ type: 'dht-unprovide', key: e.key }] : []
  }

  private dropLeaf (peerId: string): SupernodeEffect[] {
    const l = this.leaves.get(peerId)
    if (l == null) return []
    this.leaves.delete(peerId)
    const out: SupernodeEffect[] = []
    for (const [hex, announced] of l.keys) out.push(...this.removeHolder(peerId, hex, announced))
    return out
  }
}

/** One more holder of `e` asks us to announce it; true when it is the first (we must start). */
function countAnnouncer (e: IndexEntry): boolean {
  e.announcers++
  return e.announcers === 1
}
