/**
 * The leaf side of the supernode tier: which supernodes a leaf attaches to,
 * what it registers there, how it queries, and what happens when one vanishes.
 *
 * Rules:
 * - A leaf holds no routing table: only up to `maxCandidates` known
 *   supernodes, ranked by the injected `rank` (nearest first), and its
 *   `targetAttachments` (default 3) attachments.
 * - It attaches to the best-ranked candidates that are not backing off. On
 *   attach-ok it registers every held key (in messages of at most
 *   MAX_KEYS_PER_MESSAGE keys) and sends keep-alive every interval the
 *   supernode asked for (clamped to [1 s, keepAliveIntervalMs]).
 * - Exactly one attached supernode, the announcer, is asked to announce the
 *   leaf's keys in the DHT; the others get them `indexOnly` (they answer
 *   queries with this leaf but publish no record for it). The first
 *   attach-ok makes its supernode the announcer. When the announcer is lost,
 *   the best-ranked supernode still attached becomes it and gets every held
 *   key registered again without `indexOnly`; with none attached, the next
 *   attach-ok does. One announcement per leaf is what a query needs to find
 *   it; three (one per attachment) tripled the DHT's provide traffic.
 * - A supernode is lost when a keep-alive, register or attach gets no answer
 *   within `requestTimeoutMs`, an RPC fails, the connection drops, or it
 *   answers not-attached. While another attachment remains the leaf attaches
 *   to the next candidate at once, so recovery takes at most
 *   keepAliveIntervalMs + requestTimeoutMs to detect plus one attach and one
 *   register round trip. When the leaf lost ALL its supernodes (a mass
 *   restart) it waits a uniform random delay in [0, reattachJitterMs) first,
 *   so the survivors are not hit by every leaf in the same instant.
 * - A failed or busy candidate backs off with "full jitter": a uniform delay
 *   in [0, min(backoffMaxMs, backoffBaseMs * 2^(failures-1))).
 *   attach-busy alternatives join the candidates and are tried at once.
 * - A candidate that answered attach-busy is full (it keeps its leaves until
 *   they leave, minutes to hours): it is not asked again for a uniform
 *   delay in [busyBackoffMs / 2, busyBackoffMs), and when the candidate
 *   list is over `maxCandidates` such candidates are forgotten before
 *   others, so the alternatives it named are kept and tried instead of the
 *   same full supernodes being asked again every minute. Each further
 *   busy answer in a row doubles that delay, up to `busyBackoffMaxMs`: a
 *   supernode full now is most likely still full in ten minutes, and at
 *   scale the retries of leaves that already have two attachments were most
 *   of the tier's traffic.
 * - A candidate that failed `forgetAfterFailures` times in a row (no answer,
 *   an error, a dropped connection) is gone, not slow: it is forgotten,
 *   unless the leaf would then know fewer than `targetAttachments`
 *   candidates (after a mass restart the same few come back). Without this a
 *   leaf kept cycling through dead supernodes from its bootstrap list every
 *   few seconds for as long as it stayed short of attachments.
 * - When fewer than `minAttachments` are attached or pending and no
 *   candidate is usable, the tier is too thin here: the leaf emits
 *   `promote-self` (at most once per `selfPromoteIntervalMs`); the owner
 *   runs the SupernodePolicy eligibility check before acting on it.
 * - A query goes to the best attached supernode; on failure (error, no
 *   answer within `queryTimeoutMs`) or an EMPTY answer, to the next attached
 *   supernode not yet asked; it completes with no providers only when every
 *   attached supernode was asked. An empty answer is not final: a supernode
 *   whose DHT lookup ran out of budget (slow peers, a loaded host) or that
 *   has not yet seen an announcement answers with nothing, and another
 *   supernode may know better. A query waits `queryTimeoutMs`, longer than
 *   other requests: the supernode spends up to its query budget resolving it
 *   (DHT lookup + forwards) before it answers.
 */
import { keyToHex, type Key } from '../ids.js'
import { DeadlineMap } from '../deadline-map.js'
import type { Contact } from '../dht/contact.js'
import type { RequestIdSource } from '../dht/dht-node.js'
import { requestIdCounter } from '../dht/dht-node.js'
import { MAX_KEYS_PER_MESSAGE, type DhtMessage } from '../messages/dht-messages.js'

/** Ranks candidate supernodes, best first (the proximity module supplies the real one). */
export type RankSupernodes = (candidates: Contact[]) => Contact[]

/** Options of a LeafAttachment; `self` and `random` are required. */
export interface LeafAttachmentInit {
  self: Contact
  /** Uniform random in [0, 1) for jitter; seeded in the simulator. */
  random: () => number
  /** Candidate ranking, best first. Default: the order they were learned in. */
  rank?: RankSupernodes
  /** Supernodes to attach to. Default 3. */
  targetAttachments?: number
  /** Fewer attached (or pending) than this with no usable candidate means the tier is too thin. Default 2. */
  minAttachments?: number
  /** Known supernodes remembered. Default 64. */
  maxCandidates?: number
  /** Content keys held (and registered). Default 100 000. */
  maxHeldKeys?: number
  /** Time a supernode has to answer, in ms. Default 5000. */
  requestTimeoutMs?: number
  /** Time a supernode has to answer a query (its query budget plus one request time), in ms. Default requestTimeoutMs + 8000 (SupernodeIndex's default budget). */
  queryTimeoutMs?: number
  /** Longest keep-alive interval, in ms (the supernode may ask for shorter). Default 15 000. */
  keepAliveIntervalMs?: number
  /** Re-attach spread after losing every supernode at once, in ms. Default 5000. */
  reattachJitterMs?: number
  /** First backoff step for a failed candidate, in ms. Default 1000. */
  backoffBaseMs?: number
  /** Longest backoff, in ms. Default 60 000. */
  backoffMaxMs?: number
  /** Backoff after attach-busy, in ms (uniform in [half, whole)); doubles with each busy answer in a row. Default 300 000. */
  busyBackoffMs?: number
  /** Longest backoff after repeated attach-busy, in ms. Default 3 600 000. */
  busyBackoffMaxMs?: number
  /** Failures in a row after which a candidate is forgotten (if enough others remain). Default 4. */
  forgetAfterFailures?: number
  /** Least time between two promote-self effects, in ms. Default 60 000. */
  selfPromoteIntervalMs?: number
  /** Shared request id allocator. Default a private counter. */
  nextRequestId?: RequestIdSource
}

/** Effects of a LeafAttachment. */
export type LeafEffect =
  | { type: 'send', to: Contact, message: DhtMessage }
  | { type: 'attached', supernode: Contact }
  | { type: 'detached', supernode: Contact, reason: string }
  | { type: 'query-done', queryId: number, key: Key, providers: Contact[] }
  | { type: 'promote-self', reason: string }

type ReqKind = 'attach' | 'register' | 'unregister' | 'keep-alive' | 'query'

interface Outstanding { peerId: string, kind: ReqKind, readonly deadlineMs: number, queryId?: number }
/** `leaves`: the supernode's leaf count its attach-ok reported. */
interface Attachment { contact: Contact, attached: boolean, keepAliveIntervalMs: number, nextKeepAliveAtMs: number, keepAliveInFlight: boolean, leaves: number | undefined }
/** True when `list` has a contact of `peerId`. */
function hasPeer (list: readonly Contact[], peerId: string): boolean {
  for (const c of list) if (c.peerId === peerId) return true
  return false
}

/** `listed`: the peer is still among the candidates (kept current so nextDeadlineMs needs no lookup per candidate). */
interface Backoff { failures: number, busyAnswers: number, retryAtMs: number, busy: boolean, listed: boolean }
interface PendingQuery { key: Key, tried: Set<string> }

/** Leaf-side tier state machine. */
export class LeafAttachment {
  readonly self: Contact
  private readonly random: () => number
  private readonly rank: RankSupernodes
  private readonly targetAttachments: number
  private readonly minAttachments: number
  private readonly maxCandidates: number
  private readonly maxHeldKeys: number
  private readonly requestTimeoutMs: number
  private readonly queryTimeoutMs: number
  private readonly keepAliveIntervalMs: number
  private readonly reattachJitterMs: number
  private readonly backoffBaseMs: number
  private readonly backoffMaxMs: number
  private readonly busyBackoffMs: number
  private readonly busyBackoffMaxMs: number
  private readonly forgetAfterFailures: number
  private readonly selfPromoteIntervalMs: number
  private readonly nextRequestId: RequestIdSource
  private candidates: Contact[] = []
  private readonly backoff = new Map<string, Backoff>()
  private readonly attachments = new Map<string, Attachment>()
  private readonly outstanding = new DeadlineMap<number, Outstanding>()
  private readonly held = new Map<string, Key>()
  private readonly queries = new Map<number, PendingQuery>()
  private nextQueryId = 1
  private fillAtMs: number | undefined
  private lastPromoteMs = -Infinity
  /** Peer id of the attached supernode asked to announce our keys, if any. */
  private announcer: string | undefined

  constructor (init: LeafAttachmentInit) {
    this.self = init.self
    this.random = init.random
    this.rank = init.rank ?? (c => c)
    this.targetAttachments = init.targetAttachments ?? 3
    this.minAttachments = init.minAttachments ?? 2
    this.maxCandidates = init.maxCandidates ?? 64
    this.maxHeldKeys = init.maxHeldKeys ?? 100_000
    this.requestTimeoutMs = init.requestTimeoutMs ?? 5000
    this.queryTimeoutMs = init.queryTimeoutMs ?? this.requestTimeoutMs + 8000
    this.keepAliveIntervalMs = init.keepAliveIntervalMs ?? 15_000
    this.reattachJitterMs = init.reattachJitterMs ?? 5000
    this.backoffBaseMs = init.backoffBaseMs ?? 1000
    this.backoffMaxMs = init.backoffMaxMs ?? 60_000
    this.busyBackoffMs = init.busyBackoffMs ?? 300_000
    this.busyBackoffMaxMs = init.busyBackoffMaxMs ?? 3_600_000
    this.forgetAfterFailures = init.forgetAfterFailures ?? 4
    this.selfPromoteIntervalMs = init.selfPromoteIntervalMs ?? 60_000
    this.nextRequestId = init.nextRequestId ?? requestIdCounter()
  }

  /** Supernodes the leaf is attached to (attach-ok received), best first. */
  attached (): Contact[] {
    return this.candidatesInOrder().filter(c => this.attachments.get(c.peerId)?.attached === true)
  }

  /** The attached supernodes with the leaf count each reported when it took us (the policy's region estimate). */
  attachedLeafCounts (): Array<{ contact: Contact, leaves: number }> {
    const out: Array<{ contact: Contact, leaves: number }> = []
    for (const a of this.attachments.values()) if (a.attached && a.leaves !== undefined) out.push({ contact: a.contact, leaves: a.leaves })
    return out
  }

  /** Number of supernodes attached (attach-ok received); no allocation, for deadline checks. */
  get attachedCount (): number {
    let n = 0
    for (const a of this.attachments.values()) if (a.attached) n++
    return n
  }

  /** Keys currently held. */
  get heldCount (): number { return this.held.size }

  /** True when `requestId` is one of this leaf's outstanding requests. */
  ownsRequest (requestId: number): boolean { return this.outstanding.has(requestId) }

  /** Learns supernodes (from a seeder, a bootstrap list, attach-busy, a DHT reply) and attaches if short. */
  addCandidates (nowMs: number, contacts: readonly Contact[]): LeafEffect[] {
    // Nothing new (attach-busy alternatives usually are known already): the ranking would not change.
    // Loops and one array, not maps of the known candidates: a leaf gets lists of 20 often, and the maps were a tenth of a simulation's allocations.
    let merged: Contact[] | undefined
    for (const c of contacts) {
      if (c.peerId === this.self.peerId || hasPeer(this.candidates, c.peerId) || (merged !== undefined && hasPeer(merged, c.peerId))) continue
      merged ??= this.candidates.slice()
      merged.push(c)
    }
    if (merged === undefined) return this.fill(nowMs)
    let ranked = this.rank(merged)
    if (ranked.length > this.maxCandidates) {
      // Never forget a supernode we are attached to; forget full (busy) ones before the others.
      const keep = new Set<string>()
      for (const c of ranked) if (this.attachments.has(c.peerId)) keep.add(c.peerId)
      for (const c of ranked) if (keep.size < this.maxCandidates && !this.isBusy(nowMs, c.peerId)) keep.add(c.peerId)
      for (const c of ranked) if (keep.size < this.maxCandidates) keep.add(c.peerId)
      ranked = ranked.filter(c => keep.has(c.peerId))
    }
    // Backoffs of forgotten candidates matter only until they expire (bounds the map).
    if (this.backoff.size > 0) {
      const listed = new Set(ranked.map(c => c.peerId))
      for (const [id, b] of this.backoff) {
        b.listed = listed.has(id)
        if (!b.listed && this.backoff.size > this.maxCandidates && b.retryAtMs <= nowMs) this.backoff.delete(id)
      }
    }
    this.candidates = ranked
    return this.fill(nowMs)
  }

  /** Starts attaching (call once after the first candidates are known). */
  start (nowMs: number): LeafEffect[] { return this.fill(nowMs) }

  /** The leaf now holds `key`: registers it with every attached supernode. */
  hold (nowMs: number, key: Key): LeafEffect[] {
    const hex = keyToHex(key)
    if (this.held.has(hex) || this.held.size >= this.maxHeldKeys) return []
    this.held.set(hex, key)
    const out: LeafEffect[] = []
    for (const a of this.attachments.values()) if (a.attached) out.push(this.register(nowMs, a.contact, [key]))
    return out
  }

  /** The attached supernode asked to announce our keys in the DHT, if any. */
  announcingSupernode (): Contact | undefined {
    return this.announcer === undefined ? undefined : this.attachments.get(this.announcer)?.contact
  }

  /** The leaf no longer holds `key`: unregisters it. */
  drop (nowMs: number, key: Key): LeafEffect[] {
    if (!this.held.delete(keyToHex(key))) return []
    const out: LeafEffect[] = []
    for (const a of this.attachments.values()) if (a.attached) out.push(this.request(nowMs, a.contact, 'unregister', { type: 'unregister', requestId: 0, keys: [key] }))
    return out
  }

  /** Asks the best attached supernode for providers of `key`; the answer comes as `query-done`. */
  query (nowMs: number, key: Key): { queryId: number, effects: LeafEffect[] } {
    const queryId = this.nextQueryId++
    this.queries.set(queryId, { key, tried: new Set() })
    return { queryId, effects: this.sendQuery(nowMs, queryId) }
  }

  /** A message from the authenticated peer `from`. */
  handleMessage (nowMs: number, from: Contact, m: DhtMessage): LeafEffect[] {
    const o = this.outstanding.get(m.requestId)
    if (o == null || o.peerId !== from.peerId) return []
    this.outstanding.delete(m.requestId)
    const a = this.attachments.get(from.peerId)
    if (m.type === 'error') {
      if (o.kind === 'query') return this.sendQuery(nowMs, o.queryId as number)
      if (m.code === 'rate-limited' && o.kind !== 'attach') return []
      return this.lose(nowMs, from.peerId, `error ${m.code}`)
    }
    switch (o.kind) {
      case 'attach': {
        if (a == null) return []
        if (m.type === 'attach-busy') {
          const out = this.lose(nowMs, from.peerId, 'busy', true)
          out.push(...this.addCandidates(nowMs, m.alternatives))
          return out
        }
        if (m.type !== 'attach-ok') return this.lose(nowMs, from.peerId, `unexpected ${m.type}`)
        a.attached = true
        a.leaves = m.leaves
        a.keepAliveIntervalMs = Math.max(1000, Math.min(this.keepAliveIntervalMs, m.keepAliveIntervalMs))
        a.nextKeepAliveAtMs = nowMs + a.keepAliveIntervalMs
        this.backoff.delete(from.peerId)
        if (this.announcer === undefined) this.announcer = from.peerId
        return [{ type: 'attached', supernode: a.contact }, ...this.registerAll(nowMs, a.contact)]
      }
      case 'keep-alive':
        if (a != null) { a.keepAliveInFlight = false; a.nextKeepAliveAtMs = nowMs + a.keepAliveIntervalMs }
        return []
      case 'query': {
        const q = this.queries.get(o.queryId as number)
        if (q == null) return []
        const providers = m.type === 'query-reply' ? m.providers.filter(p => p.peerId !== this.self.peerId) : []
        // Nothing from this supernode is not "nobody has it": ask the next one first.
        if (providers.length === 0) return this.sendQuery(nowMs, o.queryId as number)
        this.queries.delete(o.queryId as number)
        return [{ type: 'query-done', queryId: o.queryId as number, key: q.key, providers }]
      }
      default: return []
    }
  }

  /** The request `requestId` failed to be delivered (dial error, stream reset). */
  rpcFailed (nowMs: number, requestId: number): LeafEffect[] {
    const o = this.outstanding.get(requestId)
    if (o == null) return []
    this.outstanding.delete(requestId)
    return this.requestFailed(nowMs, o)
  }

  /** The connection to `peerId` closed. */
  peerDisconnected (nowMs: number, peerId: string): LeafEffect[] {
    return this.attachments.has(peerId) ? this.lose(nowMs, peerId, 'disconnected') : []
  }

  /**
   * The relay of attached supernode `peerId` grants reservations but did not
   * carry a relayed connection to us: for a leaf others reach only through
   * relays, such a supernode names us at an address that leads nowhere. It
   * is dropped and avoided like a full one (busy backoff), so the leaf
   * attaches, and reserves, elsewhere.
   */
  relayBroken (nowMs: number, peerId: string): LeafEffect[] {
    return this.lose(nowMs, peerId, 'its relay did not carry a relayed connection to us', true)
  }

  /** Our addresses changed (a relay reservation): every attached supernode gets a keep-alive, which carries them, at `nowMs` rather than at its interval. */
  keepAliveNow (nowMs: number): void {
    for (const a of this.attachments.values()) if (a.attached) a.nextKeepAliveAtMs = Math.min(a.nextKeepAliveAtMs, nowMs)
  }

  /** Earliest time `handleTimeout` has work, or undefined. */
  nextDeadlineMs (): number | undefined {
    // Runs after every input of the owner: no closure, and backoffs are walked, not looked up per candidate.
    let min = this.fillAtMs ?? Infinity
    const o = this.outstanding.earliestMs()
    if (o !== undefined && o < min) min = o
    for (const a of this.attachments.values()) if (a.attached && !a.keepAliveInFlight && a.nextKeepAliveAtMs < min) min = a.nextKeepAliveAtMs
    if (this.attachments.size < this.targetAttachments) {
      const floor = this.fillAtMs ?? -Infinity
      for (const [id, b] of this.backoff) if (b.listed && b.retryAtMs > floor && b.retryAtMs < min && !this.attachments.has(id)) min = b.retryAtMs
    }
    return min === Infinity ? undefined : min
  }

  /** Expires requests, sends due keep-alives and retries attachments at `nowMs`. */
  handleTimeout (nowMs: number): LeafEffect[] {
    const out: LeafEffect[] = []
    // Only when one is due: an entries iterator is an allocation, and most timer runs (policy ticks) expire nothing.
    const due = this.outstanding.earliestMs()
    if (due !== undefined && due <= nowMs) {
      for (const [id, o] of this.outstanding) {
        if (o.deadlineMs > nowMs) continue
        this.outstanding.delete(id)
        out.push(...this.requestFailed(nowMs, o))
      }
    }
    for (const a of this.attachments.values()) {
      if (!a.attached || a.keepAliveInFlight || a.nextKeepAliveAtMs > nowMs) continue
      a.keepAliveInFlight = true
      out.push(this.request(nowMs, a.contact, 'keep-alive', { type: 'keep-alive', requestId: 0 }))
    }
    out.push(...this.fill(nowMs))
    return out
  }

  private candidatesInOrder (): Contact[] { return this.candidates }

  private requestFailed (nowMs: number, o: Outstanding): LeafEffect[] {
    if (o.kind === 'query') {
      const out = this.attachments.has(o.peerId) ? this.lose(nowMs, o.peerId, 'query timed out') : []
      return [...out, ...this.sendQuery(nowMs, o.queryId as number)]
    }
    if (o.kind === 'unregister') return []
    return this.attachments.has(o.peerId) ? this.lose(nowMs, o.peerId, `${o.kind} timed out`) : []
  }

  private isBusy (nowMs: number, peerId: string): boolean {
    const b = this.backoff.get(peerId)
    return b != null && b.busy && b.retryAtMs > nowMs
  }

  private lose (nowMs: number, peerId: string, reason: string, busy = false): LeafEffect[] {
    const a = this.attachments.get(peerId)
    if (a == null) return []
    this.attachments.delete(peerId)
    const b = this.backoff.get(peerId) ?? { failures: 0, busyAnswers: 0, retryAtMs: 0, busy, listed: true }
    b.busy = busy
    if (busy) {
      b.failures = 0 // it answered: alive, only full
      b.busyAnswers++
      b.retryAtMs = nowMs + Math.min(this.busyBackoffMaxMs, this.busyBackoffMs * 2 ** (b.busyAnswers - 1)) * (0.5 + 0.5 * this.random())
    } else {
      b.failures++
      b.retryAtMs = nowMs + this.random() * Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (b.failures - 1))
    }
    this.backoff.set(peerId, b)
    if (!busy && b.failures >= this.forgetAfterFailures && this.candidates.length > this.targetAttachments) {
      this.candidates = this.candidates.filter(c => c.peerId !== peerId)
      b.listed = false
    }
    const out: LeafEffect[] = []
    if (a.attached) out.push({ type: 'detached', supernode: a.contact, reason })
    if (peerId === this.announcer) {
      this.announcer = undefined
      const next = this.attached()[0]
      if (next != null) {
        this.announcer = next.peerId
        out.push(...this.registerAll(nowMs, next))
      }
    }
    // Requests still out to it are moot; pending queries move on to the next supernode.
    for (const [id, o] of this.outstanding) {
      if (o.peerId !== peerId) continue
      this.outstanding.delete(id)
      if (o.kind === 'query') out.push(...this.sendQuery(nowMs, o.queryId as number))
    }
    if (this.attachments.size === 0 && a.attached) {
      // Lost every supernode at once: spread the reconnects of all leaves that saw the same loss.
      const at = nowMs + this.random() * this.reattachJitterMs
      this.fillAtMs = this.fillAtMs === undefined ? at : Math.min(this.fillAtMs, at)
      return out
    }
    out.push(...this.fill(nowMs))
    return out
  }

  private fill (nowMs: number): LeafEffect[] {
    if (this.fillAtMs !== undefined) {
      if (this.fillAtMs > nowMs) return []
      this.fillAtMs = undefined
    }
    const out: LeafEffect[] = []
    for (const c of this.candidates) {
      if (this.attachments.size >= this.targetAttachments) break
      if (this.attachments.has(c.peerId)) continue
      const b = this.backoff.get(c.peerId)
      if (b != null && b.retryAtMs > nowMs) continue
      this.attachments.set(c.peerId, { contact: c, attached: false, keepAliveIntervalMs: this.keepAliveIntervalMs, nextKeepAliveAtMs: Infinity, keepAliveInFlight: false, leaves: undefined })
      out.push(this.request(nowMs, c, 'attach', { type: 'attach', requestId: 0 }))
    }
    if (this.attachments.size < this.minAttachments && nowMs - this.lastPromoteMs >= this.selfPromoteIntervalMs) {
      this.lastPromoteMs = nowMs
      out.push({ type: 'promote-self', reason: `only ${this.attachments.size} supernodes reachable of ${this.candidates.length} known` })
    }
    return out
  }

  private sendQuery (nowMs: number, queryId: number): LeafEffect[] {
    const q = this.queries.get(queryId)
    if (q == null) return []
    for (const c of this.candidates) {
      const a = this.attachments.get(c.peerId)
      if (a == null || !a.attached || q.tried.has(c.peerId)) continue
      q.tried.add(c.peerId)
      return [this.request(nowMs, c, 'query', { type: 'query', requestId: 0, key: q.key }, queryId)]
    }
    this.queries.delete(queryId)
    return [{ type: 'query-done', queryId, key: q.key, providers: [] }]
  }

  /** Registers `keys` with `to`, index-only unless `to` is the announcer. */
  private register (nowMs: number, to: Contact, keys: Key[]): LeafEffect {
    const message: DhtMessage = to.peerId === this.announcer
      ? { type: 'register', requestId: 0, keys }
      : { type: 'register', requestId: 0, keys, indexOnly: true }
    return this.request(nowMs, to, 'register', message)
  }

  /** Registers every held key with `to`, in messages of at most MAX_KEYS_PER_MESSAGE keys. */
  private registerAll (nowMs: number, to: Contact): LeafEffect[] {
    const out: LeafEffect[] = []
    const keys = [...this.held.values()]
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_MESSAGE) out.push(this.register(nowMs, to, keys.slice(i, i + MAX_KEYS_PER_MESSAGE)))
    return out
  }

  private request (nowMs: number, to: Contact, kind: ReqKind, message: DhtMessage, queryId?: number): LeafEffect {
    const requestId = this.nextRequestId()
    const timeoutMs = kind === 'query' ? this.queryTimeoutMs : this.requestTimeoutMs
    this.outstanding.set(requestId, { peerId: to.peerId, kind, deadlineMs: nowMs + timeoutMs, queryId })
    return { type: 'send', to, message: { ...message, requestId } }
  }
}
