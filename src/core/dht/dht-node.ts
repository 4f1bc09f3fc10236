/**
 * One DHT member (supernode or seeder), sans-IO: message in, effects out.
 *
 * Rules:
 * - The driver reports authenticated DHT peers (`peerAuthenticated`), every
 *   decoded message (`handleMessage`, with the authenticated sender), failed
 *   deliveries (`rpcFailed`), protocol violations it detected while
 *   decoding (`protocolViolation`) and time (`handleTimeout` at
 *   `nextDeadlineMs()`); it performs the returned effects.
 * - A peer enters the routing table only when authenticated: reported by the
 *   driver, or when it answered one of our requests. Contacts named in
 *   replies are lookup candidates only.
 * - Every request costs one token of the sender's bucket; a refusal or a
 *   violation lowers its score; at the ban score the peer is removed from
 *   the table, its provider records are dropped, and a `penalize` effect
 *   tells the driver to disconnect it. Requests from banned peers are ignored.
 * - A provider record always names the authenticated sender of add-provider.
 *   Its source (network, when it starts to count) comes from
 *   `providerAdmission` (the sender's live connection, reported by the
 *   driver); a sender without one is refused, and one over its identity's
 *   or network's quota (ProviderStore) is refused at the cost of a
 *   rate-limit refusal's score, so a flood ends in a ban. When a provider's
 *   last connection closes, its records that never counted are dropped.
 * - `provide` stores our own record, finds the k closest and sends them
 *   add-provider; it is repeated every `republishIntervalMs` until
 *   `unprovide`. Expired records are pruned every `pruneIntervalMs`.
 * - The provide lookup is a get-providers lookup: when it finds
 *   `wellProvidedAt` other providers the key is well announced, the lookup
 *   stops there and no record of ours is added (this time; the republish
 *   looks again). A popular key is held by leaves of most supernodes, and
 *   every supernode adding a record (a full lookup and k add-provider, ~90
 *   messages) was a third of all DHT traffic at 10^5 peers, while a
 *   get-providers answer names at most 20 of them anyway.
 * - A key provided again soon after `unprovide` (a supernode whose last
 *   leaf holding it left, then another leaf registered it) is not looked up
 *   again while the records of its last announcement still outlive the next
 *   republish (announced less than TTL - republishIntervalMs ago): remote
 *   records stay for their TTL whether or not we unprovide, so the repeat
 *   lookup and k add-provider would change nothing. At most
 *   MAX_RECENT_ANNOUNCEMENTS such keys are remembered.
 * - Every request we send fails after `requestTimeoutMs`. A table contact
 *   whose requests failed `evictAfterFailures` times in a row (no answer,
 *   undeliverable) is removed, and one that answers `not-a-dht-node` at
 *   once: it left or demoted. That only cleans the requester's own table;
 *   what keeps a departed member out of everyone's replies is the
 *   transport: the driver reports a closed connection (`peerDisconnected`),
 *   and a contact whose connection closed is not named to others until it
 *   is seen again, and is evicted at its first failed request. Before that
 *   signal, at 10^4 simulated peers half of all get-providers requests went
 *   to offline nodes. Two other fixes were tried and not kept: naming only
 *   contacts heard from within pingFreshMs (flat Kademlia lookup success
 *   fell from 0.99 to 0.91: fresh but far contacts displaced stale but close
 *   ones), and pinging every stale contact a reply names (liveness pings
 *   cost more events than the timeouts they saved).
 * - A get-providers lookup reports providers as it finds them
 *   (`lookup-providers`, only the new ones) before its `lookup-done`: the
 *   first answer usually names them all, while the lookup itself runs on
 *   until its closest answered, which a slow or dead contact stretches to
 *   a full request timeout.
 * - get-providers lookups (queries and provides) end once the
 *   `providerLookupResiliency` (3) closest have answered, as
 *   go-libp2p-kad-dht does; find-node lookups wait for all k. A provide
 *   stores its record on the k closest the lookup knows, asked or not.
 */
import { HeadMap } from '../head-map.js'
import { keyToHex, keysEqual, type Key } from '../ids.js'
import type { DhtMessage, DhtRequest } from '../messages/dht-messages.js'
import { MAX_CONTACTS_PER_MESSAGE } from '../messages/dht-messages.js'
import { prefixRegionOf, type Contact, type RegionOf } from './contact.js'
import { Lookup, type LookupKind, type LookupRequest, type LookupResult } from './lookup.js'
import { DEFAULT_REPUBLISH_INTERVAL_MS, ProviderStore, type ProviderStoreInit } from './provider-store.js'
import { ProviderAdmission } from './provider-admission.js'
import { RateLimiter, type RateLimiterInit } from './rate-limiter.js'
import { RoutingTable, type AddContactResult } from './routing-table.js'

/** Allocates request ids; share one between all state machines of a node so ids never collide. */
export type RequestIdSource = () => number

/** A counter-based RequestIdSource starting at `first`. */
export function requestIdCounter (first = 1): RequestIdSource {
  let next = first
  return () => next++
}

/** Options of a DhtNode; only `self` is required. */
export interface DhtNodeInit {
  /** This node's contact (key = SHA-256 of its peer id bytes). */
  self: Contact
  /** Kademlia k (bucket size and result size). Default 20. */
  k?: number
  /** Lookup parallelism. Default 3. */
  alpha?: number
  /** Time a peer has to answer any request, in ms. Default 5000. */
  requestTimeoutMs?: number
  /**
   * A full bucket's least-recently-seen contact heard from within this long
   * is not pinged (RoutingTable pingFreshMs), in ms. Default 1 h: drivers
   * report closed connections, so a departed contact is normally replaced
   * without a ping and the eviction ping only catches silent failures. With
   * BEP 5's 15 min, 98% of eviction pings were answered, and ping/pong were
   * 18% of a simulated CDN day's messages (10^4 peers; 8% with 1 h). A
   * driver that cannot see connections close should pass 15 min.
   */
  pingFreshMs?: number
  /** Other providers a provide lookup must find for us to skip adding our record; Infinity always adds. Default 20 (a get-providers answer's worth). */
  wellProvidedAt?: number
  /** Failed requests in a row after which a table contact is removed. Default 2 (one timeout may be a stall). */
  evictAfterFailures?: number
  /** Most requests one lookup sends. Default 100. */
  maxRpcsPerLookup?: number
  /**
   * Closest candidates that must have answered for a get-providers lookup
   * (a query's or a provide's) to end: Lookup `resiliency`,
   * go-libp2p-kad-dht's beta. Default 3, as go-libp2p-kad-dht. The paper's
   * rule (k: all k closest answered) cost a simulated 10^4-peer CDN day 23%
   * more events and quadrupled the median query lookup latency (1.75 s vs
   * 0.45 s), for 5 fewer answered lookups in 4,564. find-node lookups keep the paper's rule: a
   * joining node's self-lookup is how the nodes near it learn it, and flat
   * Kademlia lookups after losing 30% of the nodes found their target less
   * often (0.92 vs 0.95+) with 3.
   */
  providerLookupResiliency?: number
  /** Lookups running at once; more are refused with DhtBusyError. Default 64. */
  maxConcurrentLookups?: number
  /** Region labelling for every diversity limit. Default IPv4 /16, IPv6 /32, local exempt. */
  regionOf?: RegionOf
  /** Most contacts of one region per bucket. Default 2. */
  maxPerRegionPerBucket?: number
  /** Most contacts of one region in the table. Default 10. */
  maxPerRegionInTable?: number
  /** Most contacts of one region a single lookup response may contribute. Default 2. */
  maxPerRegionPerResponse?: number
  /** Provider store limits, quotas and TTL (default TTL 24 h). */
  providerStore?: ProviderStoreInit
  /**
   * Who may add provider records, from which network, from when they count
   * (shared with the owner, which reports connections to it). Default: one
   * that needs no connection reports (minConnectionAgeMs 0; the network is
   * the contact's first address), for drivers that report none.
   */
  providerAdmission?: ProviderAdmission
  /** Re-announce interval for our own records, in ms. Default 12 h. */
  republishIntervalMs?: number
  /** How often expired provider records are pruned, in ms. Default 1 h. */
  pruneIntervalMs?: number
  /** Per-peer request rate limit and score. Defaults: 20/s, burst 40, ban at -100. */
  rateLimit?: RateLimiterInit
  /** Score lost per protocol violation. Default 50 (two violations ban). */
  violationWeight?: number
  /** Shared request id allocator. Default a private counter. */
  nextRequestId?: RequestIdSource
}

/** Send `message` to `to` (request or response). */
export interface SendEffect { type: 'send', to: Contact, message: DhtMessage }
/** Disconnect and score down `peer` (a libp2p peer id string). */
export interface PenalizeEffect { type: 'penalize', peer: string, reason: string }
/** A lookup started by findNode/getProviders/provide ended. */
/** `announced` (provide only): add-provider went out; false when the key was already well provided or nobody answered. */
export interface LookupDoneEffect { type: 'lookup-done', lookupId: number, purpose: LookupPurpose, target: Key, result: LookupResult, announced?: boolean }
/** A get-providers lookup still running found `providers` it had not reported before (lookup-done repeats them all). */
export interface LookupProvidersEffect { type: 'lookup-providers', lookupId: number, target: Key, providers: Contact[] }
/** Everything a DhtNode asks its driver to do. */
export type DhtEffect = SendEffect | PenalizeEffect | LookupDoneEffect | LookupProvidersEffect

/** Why a lookup runs. */
export type LookupPurpose = 'find-node' | 'get-providers' | 'provide' | 'bootstrap'

/** Thrown when more lookups are started than `maxConcurrentLookups` allows. */
export class DhtBusyError extends Error {
  override name = 'DhtBusyError'
  readonly code = 'ERR_DHT_BUSY'
}

type Purpose = { kind: 'lookup', lookupId: number } | { kind: 'ping' } | { kind: 'add-provider' }

interface Outstanding { to: Contact, purpose: Purpose, deadlineMs: number }

interface RunningLookup { lookup: Lookup, purpose: LookupPurpose, reportedProviders: number }

/** Score an add-provider over its identity's or network's quota costs: a rate-limit refusal's (RateLimiter.take), so 20 in a row ban. */
export const QUOTA_REFUSAL_WEIGHT = 5

/** Keys remembered after `unprovide` with the time of their last announcement (bounds DhtNode memory). */
export const MAX_RECENT_ANNOUNCEMENTS = 10_000

/** A Kademlia DHT member: routing table, provider store, lookups, rate limits. */
export class DhtNode {
  readonly self: Contact
  readonly table: RoutingTable
  readonly providers: ProviderStore
  readonly limiter: RateLimiter
  readonly providerAdmission: ProviderAdmission
  private readonly k: number
  private readonly alpha: number
  private readonly requestTimeoutMs: number
  private readonly maxRpcsPerLookup: number
  private readonly providerLookupResiliency: number
  private readonly maxConcurrentLookups: number
  private readonly regionOf: RegionOf
  private readonly maxPerRegionPerResponse: number
  private readonly republishIntervalMs: number
  private readonly pruneIntervalMs: number
  private readonly violationWeight: number
  private readonly nextRequestId: RequestIdSource
  private readonly outstanding = new HeadMap<number, Outstanding>()
  private readonly lookups = new Map<number, RunningLookup>()
  /** Our keys in republish order; `announcedAtMs`: when a provide lookup last sent their add-provider. */
  private readonly provided = new HeadMap<string, { key: Key, nextAtMs: number, announcedAtMs?: number }>()
  /** key hex -> announcedAtMs of keys unprovided lately, in unprovide order (at most MAX_RECENT_ANNOUNCEMENTS). */
  private readonly unprovidedAnnouncedAtMs = new Map<string, number>()
  private readonly announceReuseMs: number
  private readonly wellProvidedAt: number
  private readonly evictAfterFailures: number
  private nextLookupId = 1
  private nextPruneAtMs: number | undefined

  constructor (init: DhtNodeInit) {
    this.self = init.self
    this.k = init.k ?? 20
    this.alpha = init.alpha ?? 3
    this.requestTimeoutMs = init.requestTimeoutMs ?? 5000
    this.maxRpcsPerLookup = init.maxRpcsPerLookup ?? 100
    this.providerLookupResiliency = init.providerLookupResiliency ?? 3
    this.maxConcurrentLookups = init.maxConcurrentLookups ?? 64
    this.regionOf = init.regionOf ?? prefixRegionOf
    this.maxPerRegionPerResponse = init.maxPerRegionPerResponse ?? 2
    this.republishIntervalMs = init.republishIntervalMs ?? DEFAULT_REPUBLISH_INTERVAL_MS
    this.pruneIntervalMs = init.pruneIntervalMs ?? 60 * 60 * 1000
    this.violationWeight = init.violationWeight ?? 50
    this.nextRequestId = init.nextRequestId ?? requestIdCounter()
    this.table = new RoutingTable({
      localId: init.self.id,
      pingFreshMs: init.pingFreshMs ?? 60 * 60 * 1000,
      kBucketSize: this.k,
      regionOf: this.regionOf,
      maxPerRegionPerBucket: init.maxPerRegionPerBucket,
      maxPerRegionInTable: init.maxPerRegionInTable
    })
    this.providers = new ProviderStore(init.providerStore)
    this.providerAdmission = init.providerAdmission ?? new ProviderAdmission({ minConnectionAgeMs: 0 })
    this.announceReuseMs = this.providers.recordTtlMs - this.republishIntervalMs
    this.wellProvidedAt = init.wellProvidedAt ?? 20
    this.evictAfterFailures = init.evictAfterFailures ?? 2
    this.limiter = new RateLimiter(init.rateLimit)
  }

  /** Requests awaiting an answer. */
  get outstandingRequests (): number { return this.outstanding.size }

  /** Lookups running. */
  get runningLookups (): number { return this.lookups.size }

  /** True when `requestId` is one of our outstanding requests (lets a composite node route responses). */
  ownsRequest (requestId: number): boolean { return this.outstanding.has(requestId) }

  /** The driver has an authenticated connection to a DHT member `contact`. */
  peerAuthenticated (nowMs: number, contact: Contact): DhtEffect[] {
    if (this.limiter.isBanned(nowMs, contact.peerId)) return []
    return this.pingEffects(nowMs, this.table.addAuthenticated(contact, nowMs))
  }

  /**
   * The connection to the DHT member with key `id` closed. Its table entry
   * is no longer named to others, is replaced by the next candidate for a
   * full bucket, and is evicted at its first failed request; any message
   * from it makes it a good contact again.
   */
  peerDisconnected (id: Key): void { this.table.markDisconnected(id) }

  /** Appends to `into` the ids of our requests still waiting for an answer from `peerId`; returns `into`. */
  requestsTo (peerId: string, into: number[] = []): number[] {
    if (this.outstanding.size > 0) for (const [id, o] of this.outstanding) if (o.to.peerId === peerId) into.push(id)
    return into
  }

  /** The last connection to `peerId` closed: its provider records that never counted go (a fresh identity's flood ends with its connection). */
  providerGone (nowMs: number, peerId: string): void { this.providers.removeUncounted(nowMs, peerId) }

  /** The driver found a protocol violation from `peerId` (bad frame, over-limit message). */
  protocolViolation (nowMs: number, peerId: string, reason: string): DhtEffect[] {
    return this.fault(nowMs, peerId, this.violationWeight, reason)
  }

  /** A message from the authenticated peer `from`. */
  handleMessage (nowMs: number, from: Contact, message: DhtMessage): DhtEffect[] {
    switch (message.type) {
      case 'ping': case 'find-node': case 'get-providers': case 'add-provider':
        return this.handleRequest(nowMs, from, message)
      case 'pong': case 'find-node-reply': case 'get-providers-reply': case 'ack': case 'error':
        return this.handleResponse(nowMs, from, message)
      default:
        return [] // tier messages belong to the supernode index / leaf attachment
    }
  }

  /** The request `requestId` could not be delivered or its stream failed. */
  rpcFailed (nowMs: number, requestId: number): DhtEffect[] {
    const o = this.outstanding.get(requestId)
    if (o == null) return []
    this.outstanding.delete(requestId)
    return this.requestFailed(nowMs, o)
  }

  /** Starts a find-node lookup for `target`; its result comes back as a `lookup-done` effect. */
  findNode (nowMs: number, target: Key): { lookupId: number, effects: DhtEffect[] } {
    return this.startLookup(nowMs, target, 'find-node', 'find-node')
  }

  /** Starts a get-providers lookup for `key`, stopping after `wantedProviders` providers. */
  getProviders (nowMs: number, key: Key, wantedProviders = this.k): { lookupId: number, effects: DhtEffect[] } {
    const local = this.providers.get(nowMs, key)
    return this.startLookup(nowMs, key, 'get-providers', 'get-providers', wantedProviders, local)
  }

  /**
   * Announces that we provide `key`, now and every `republishIntervalMs` until `unprovide`.
   * `lookupId` is undefined when the records of a recent announcement are still live (no lookup).
   */
  provide (nowMs: number, key: Key): { lookupId: number | undefined, effects: DhtEffect[] } {
    this.providers.add(nowMs, key, this.self)
    const hex = keyToHex(key)
    const prev = this.provided.get(hex)
    this.provided.delete(hex) // re-insert: `provided` stays in republish-time order
    const at = this.unprovidedAnnouncedAtMs.get(hex)
    this.unprovidedAnnouncedAtMs.delete(hex)
    if (prev == null && at !== undefined && nowMs - at < this.announceReuseMs) {
      // The next republish (at nowMs + republishIntervalMs) still comes before those records expire.
      this.provided.set(hex, { key, nextAtMs: nowMs + this.republishIntervalMs, announcedAtMs: at })
      return { lookupId: undefined, effects: [] }
    }
    this.provided.set(hex, { key, nextAtMs: nowMs + this.republishIntervalMs, announcedAtMs: prev?.announcedAtMs })
    if (this.wellProvidedAt === Infinity) return this.startLookup(nowMs, key, 'find-node', 'provide')
    // One more than needed: our own old record may be among those found.
    return this.startLookup(nowMs, key, 'get-providers', 'provide', this.wellProvidedAt + 1)
  }

  /** Stops republishing `key` (remote records then expire after their TTL). */
  unprovide (key: Key): void {
    const hex = keyToHex(key)
    const at = this.provided.get(hex)?.announcedAtMs
    this.provided.delete(hex)
    this.providers.remove(this.self.peerId, key)
    if (at === undefined) return
    this.unprovidedAnnouncedAtMs.set(hex, at)
    if (this.unprovidedAnnouncedAtMs.size > MAX_RECENT_ANNOUNCEMENTS) {
      for (const h of this.unprovidedAnnouncedAtMs.keys()) { this.unprovidedAnnouncedAtMs.delete(h); break }
    }
  }

  /** True while we announce `key` (provide without unprovide since). */
  isProviding (key: Key): boolean { return this.provided.has(keyToHex(key)) }

  /** Keys we announce. */
  providedKeys (): Key[] { return [...this.provided.values()].map(p => p.key) }

  /** Joins through `seeds` (known DHT members): a lookup of our own key fills the table. */
  bootstrap (nowMs: number, seeds: readonly Contact[]): { lookupId: number, effects: DhtEffect[] } {
    return this.startLookup(nowMs, this.self.id, 'find-node', 'bootstrap', undefined, [], seeds)
  }

  /**
   * Earliest time `handleTimeout` has work, or undefined. O(1): requests
   * are kept in send order and provided keys in republish order, each with
   * a constant delay, so a map's first entry is its earliest deadline
   * (time passed in never goes backwards).
   */
  nextDeadlineMs (): number | undefined {
    let min = this.nextPruneAtMs
    // HeadMap: both maps churn, and a plain Map's first live entry is found by walking past every deleted slot.
    const o = this.outstanding.first()
    if (o !== undefined && (min === undefined || o.deadlineMs < min)) min = o.deadlineMs
    const p = this.provided.first()
    if (p !== undefined && (min === undefined || p.nextAtMs < min)) min = p.nextAtMs
    return min
  }

  /** Expires requests, republishes and prunes as due at `nowMs`. */
  handleTimeout (nowMs: number): DhtEffect[] {
    const out: DhtEffect[] = []
    // Size first: an entries iterator is an allocation, and most timer runs have nothing outstanding.
    if (this.outstanding.size > 0) {
      for (const [id, o] of this.outstanding) {
        if (o.deadlineMs > nowMs) break // send order: the rest are younger
        this.outstanding.delete(id)
        out.push(...this.requestFailed(nowMs, o))
      }
    }
    if (this.provided.size > 0) for (const p of this.provided.values()) {
      if (p.nextAtMs > nowMs) break // republish order; a re-provided key moves to the end
      if (this.lookups.size >= this.maxConcurrentLookups) break // retried at the next timeout
      out.push(...this.provide(nowMs, p.key).effects)
    }
    if (this.nextPruneAtMs === undefined) this.nextPruneAtMs = nowMs + this.pruneIntervalMs
    else if (this.nextPruneAtMs <= nowMs) {
      this.providers.prune(nowMs)
      for (const [h, at] of this.unprovidedAnnouncedAtMs) if (nowMs - at >= this.announceReuseMs) this.unprovidedAnnouncedAtMs.delete(h)
      this.nextPruneAtMs = nowMs + this.pruneIntervalMs
    }
    return out
  }

  private handleRequest (nowMs: number, from: Contact, m: DhtRequest): DhtEffect[] {
    if (this.limiter.isBanned(nowMs, from.peerId)) return []
    const take = this.limiter.take(nowMs, from.peerId)
    if (!take.allowed) {
      if (take.banned) return this.ban(from.peerId, 'rate limit')
      return [{ type: 'send', to: from, message: { type: 'error', requestId: m.requestId, code: 'rate-limited' } }]
    }
    const reply = (message: DhtMessage): DhtEffect[] => [{ type: 'send', to: from, message }]
    switch (m.type) {
      case 'ping': return reply({ type: 'pong', requestId: m.requestId })
      case 'find-node':
        return reply({ type: 'find-node-reply', requestId: m.requestId, closer: this.closestExcept(m.target, from) })
      case 'get-providers':
        return reply({
          type: 'get-providers-reply',
          requestId: m.requestId,
          providers: this.providers.get(nowMs, m.key, MAX_CONTACTS_PER_MESSAGE),
          closer: this.closestExcept(m.key, from)
        })
      case 'add-provider': {
        const source = this.providerAdmission.sourceOf(nowMs, from)
        if (source === undefined) return reply({ type: 'error', requestId: m.requestId, code: 'rate-limited' })
        const r = this.providers.add(nowMs, m.key, from, source)
        if (r === 'refused-provider-quota' || r === 'refused-network-quota') {
          if (this.limiter.fault(nowMs, from.peerId, QUOTA_REFUSAL_WEIGHT)) return this.ban(from.peerId, `provider records over quota (${r})`)
          return reply({ type: 'error', requestId: m.requestId, code: 'too-many-keys' })
        }
        return reply(r === 'refused-full'
          ? { type: 'error', requestId: m.requestId, code: 'rate-limited' }
          : { type: 'ack', requestId: m.requestId })
      }
      default: return []
    }
  }

  private handleResponse (nowMs: number, from: Contact, m: DhtMessage): DhtEffect[] {
    const o = this.outstanding.get(m.requestId)
    if (o == null) return [] // late or not ours
    if (o.to.peerId !== from.peerId) return this.fault(nowMs, from.peerId, this.violationWeight, 'answered a request sent to another peer')
    this.outstanding.delete(m.requestId)
    if (m.type === 'error') {
      if (m.code === 'not-a-dht-node') this.table.remove(from.id)
      return this.requestFailed(nowMs, o, true)
    }
    // It answered on an authenticated connection: it may now enter the table.
    const out = this.pingEffects(nowMs, this.table.addAuthenticated(from, nowMs))
    if (o.purpose.kind === 'ping') {
      this.table.pingAnswered(from.id, nowMs)
      return out
    }
    if (o.purpose.kind === 'add-provider') return out
    const running = this.lookups.get(o.purpose.lookupId)
    if (running == null) return out
    let reqs: LookupRequest[]
    if (m.type === 'find-node-reply') reqs = running.lookup.onResponse(nowMs, from.peerId, m.closer)
    else if (m.type === 'get-providers-reply') reqs = running.lookup.onResponse(nowMs, from.peerId, m.closer, m.providers)
    else reqs = running.lookup.onFailure(nowMs, from.peerId)
    out.push(...this.afterLookupStep(nowMs, o.purpose.lookupId, running, reqs))
    return out
  }

  /** `alive`: it answered (with an error), so it does not count toward eviction. */
  private requestFailed (nowMs: number, o: Outstanding, alive = false): DhtEffect[] {
    if (o.purpose.kind === 'ping') {
      return this.pingEffects(nowMs, this.table.pingFailed(o.to.id, nowMs))
    }
    if (!alive) this.table.recordFailure(o.to.id, this.evictAfterFailures)
    if (o.purpose.kind === 'add-provider') return []
    const lookupId = o.purpose.lookupId
    const running = this.lookups.get(lookupId)
    if (running == null) return []
    return this.afterLookupStep(nowMs, lookupId, running, running.lookup.onFailure(nowMs, o.to.peerId))
  }

  private startLookup (nowMs: number, target: Key, kind: LookupKind, purpose: LookupPurpose,
    wantedProviders?: number, localProviders: Contact[] = [], extraSeeds: readonly Contact[] = []): { lookupId: number, effects: DhtEffect[] } {
    if (this.lookups.size >= this.maxConcurrentLookups) throw new DhtBusyError(`${this.lookups.size} lookups already running`)
    const lookupId = this.nextLookupId++
    const lookup = new Lookup({
      target,
      kind,
      localId: this.self.id,
      seeds: [...this.seedsFor(target), ...extraSeeds],
      k: this.k,
      alpha: this.alpha,
      requestTimeoutMs: this.requestTimeoutMs,
      maxRpcs: this.maxRpcsPerLookup,
      resiliency: kind === 'get-providers' ? this.providerLookupResiliency : this.k,
      wantedProviders,
      regionOf: this.regionOf,
      maxPerRegionPerResponse: this.maxPerRegionPerResponse
    })
    const running: RunningLookup = { lookup, purpose, reportedProviders: 0 }
    this.lookups.set(lookupId, running)
    // Our own records count: a seeder asking for a key it stores itself needs no network.
    lookup.addKnownProviders(localProviders)
    return { lookupId, effects: this.afterLookupStep(nowMs, lookupId, running, lookup.start(nowMs)) }
  }

  private afterLookupStep (nowMs: number, lookupId: number, running: RunningLookup, reqs: LookupRequest[]): DhtEffect[] {
    const out: DhtEffect[] = []
    for (const r of reqs) {
      const requestId = this.nextRequestId()
      this.outstanding.set(requestId, { to: r.to, purpose: { kind: 'lookup', lookupId }, deadlineMs: nowMs + this.requestTimeoutMs })
      out.push({
        type: 'send',
        to: r.to,
        message: r.kind === 'find-node'
          ? { type: 'find-node', requestId, target: r.target }
          : { type: 'get-providers', requestId, key: r.target }
      })
    }
    if (!running.lookup.done) {
      if (running.purpose === 'get-providers') {
        const found = running.lookup.providersFrom(running.reportedProviders)
        running.reportedProviders += found.length
        if (found.length > 0) out.push({ type: 'lookup-providers', lookupId, target: running.lookup.target, providers: found })
      }
      return out
    }
    this.lookups.delete(lookupId)
    for (const [id, o] of this.outstanding) {
      if (o.purpose.kind === 'lookup' && o.purpose.lookupId === lookupId) this.outstanding.delete(id)
    }
    const result = running.lookup.result()
    if (running.purpose !== 'provide') {
      out.push({ type: 'lookup-done', lookupId, purpose: running.purpose, target: running.lookup.target, result })
      return out
    }
    let others = 0
    for (const p of result.providers) if (p.peerId !== this.self.peerId) others++
    const announce = others < this.wellProvidedAt && result.closestKnown.length > 0
    out.push({ type: 'lookup-done', lookupId, purpose: running.purpose, target: running.lookup.target, result, announced: announce })
    if (announce) {
      const entry = this.provided.get(keyToHex(running.lookup.target))
      if (entry != null) entry.announcedAtMs = nowMs
      for (const c of result.closestKnown) {
        const requestId = this.nextRequestId()
        this.outstanding.set(requestId, { to: c, purpose: { kind: 'add-provider' }, deadlineMs: nowMs + this.requestTimeoutMs })
        out.push({ type: 'send', to: c, message: { type: 'add-provider', requestId, key: running.lookup.target } })
      }
    }
    return out
  }

  private pingEffects (nowMs: number, r: AddContactResult | undefined): DhtEffect[] {
    if (r == null || r.status !== 'ping') return []
    return r.ping.map(c => {
      const requestId = this.nextRequestId()
      this.outstanding.set(requestId, { to: c, purpose: { kind: 'ping' }, deadlineMs: nowMs + this.requestTimeoutMs })
      return { type: 'send', to: c, message: { type: 'ping', requestId } } satisfies DhtEffect
    })
  }

  /** A lookup starts from the k closest contacts still connected (all of them when none is: a dead one costs a timeout, no seed costs the lookup). */
  private seedsFor (target: Key): Contact[] {
    const live = this.table.closest(target, this.k, undefined, true)
    return live.length > 0 ? live : this.table.closest(target, this.k)
  }

  /** What a reply names: the k closest contacts, never the asker nor one whose connection closed. */
  private closestExcept (target: Key, asker: Contact): Contact[] {
    return this.table.closest(target, this.k, asker.id, true)
  }

  private fault (nowMs: number, peerId: string, weight: number, reason: string): DhtEffect[] {
    return this.limiter.fault(nowMs, peerId, weight) ? this.ban(peerId, reason) : []
  }

  private ban (peerId: string, reason: string): DhtEffect[] {
    for (const c of this.table.toArray()) if (c.peerId === peerId) this.table.remove(c.id)
    this.providers.remove(peerId)
    return [{ type: 'penalize', peer: peerId, reason }]
  }
}
