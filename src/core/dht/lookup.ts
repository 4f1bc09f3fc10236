/**
 * Iterative Kademlia lookup (find-node, get-providers) as a sans-IO state machine.
 *
 * Rules (Maymounkov and Mazières 2002, section 2.3; libp2p kad-dht):
 * - At most `alpha` requests are in flight; each is failed after
 *   `requestTimeoutMs` (or at once on `onFailure`, e.g. the peer vanished).
 * - Candidates are kept sorted by exact XOR distance to the target; only the
 *   `maxCandidates` closest are remembered, the local node never is.
 * - From one response at most `k` contacts are taken, and at most
 *   `maxPerRegionPerResponse` of one region (exempt regions unlimited).
 * - The lookup ends when the `resiliency` closest non-failed candidates
 *   have all answered (the paper's rule is all k; go-libp2p-kad-dht's
 *   "beta" stops at 3), when nothing is left to ask, when `maxRpcs`
 *   requests were sent, or (get-providers) when `wantedProviders`
 *   providers were found.
 * - A candidate's hop is one more than the hop of the peer that named it
 *   (seeds are hop 1); candidates beyond `maxHops` are never asked.
 */
import { compareDistance, distancePrefix, keysEqual, type Key } from '../ids.js'
import { capPerRegion, prefixRegionOf, type Contact, type RegionOf } from './contact.js'

/** Which RPC the lookup sends. */
export type LookupKind = 'find-node' | 'get-providers'

/** Options of a Lookup. */
export interface LookupInit {
  /** Key looked up. */
  target: Key
  /** RPC sent to each candidate. Default 'find-node'. */
  kind?: LookupKind
  /** This node's key, never asked nor returned. */
  localId: Key
  /** Starting contacts (the routing table's closest). */
  seeds: readonly Contact[]
  /** Result size (Kademlia k). Default 20. */
  k?: number
  /** Requests in flight at once. Default 3. */
  alpha?: number
  /** Time a peer has to answer, in ms. Default 5000. */
  requestTimeoutMs?: number
  /** Most requests one lookup sends. Default 100. */
  maxRpcs?: number
  /** Deepest hop asked. Default 12. */
  maxHops?: number
  /** Candidates remembered (the closest are kept). Default 4 * k. */
  maxCandidates?: number
  /** get-providers: stop after this many distinct providers. Default 20. */
  wantedProviders?: number
  /**
   * Closest non-failed candidates that must have answered for the lookup to
   * end (go-libp2p-kad-dht's beta). Default k, the paper's rule: every one
   * of the k closest answered. Lower ends a lookup once it has converged,
   * without asking the rest of the k closest; `closestKnown` then holds
   * candidates nobody asked.
   */
  resiliency?: number
  /** Region labelling for the per-response cap. Default `prefixRegionOf`. */
  regionOf?: RegionOf
  /** Most contacts of one region taken from one response. Default 2. */
  maxPerRegionPerResponse?: number
}

/** A request the owner must send: `kind` RPC to `to`. */
export interface LookupRequest { to: Contact, kind: LookupKind, target: Key }

/** Final outcome of a lookup, with metrics. */
export interface LookupResult {
  /** The k closest peers that answered, closest first. */
  closest: Contact[]
  /** The k closest peers not known to have failed, answered or never asked, closest first (where to store a record). */
  closestKnown: Contact[]
  /** Distinct providers found (get-providers). */
  providers: Contact[]
  /** Hop depth of the closest peer that answered (0 if none did). */
  hops: number
  /** Requests sent. */
  rpcs: number
  /** Requests that failed or timed out. */
  failures: number
  /** True when the lookup stopped on its `maxRpcs` budget. */
  exhausted: boolean
}

/** `abandoned`: still in flight when the lookup ended; neither answered nor failed. */
type CandidateState = 'new' | 'inflight' | 'done' | 'failed' | 'abandoned'

/** `dist`: distancePrefix to the target, the cheap first sort key. */
interface Candidate { contact: Contact, hop: number, state: CandidateState, deadlineMs: number, dist: number }

/** One iterative lookup; feed it responses, failures and time, send what it returns. */
export class Lookup {
  readonly target: Key
  readonly kind: LookupKind
  private readonly localId: Key
  private readonly k: number
  private readonly alpha: number
  private readonly requestTimeoutMs: number
  private readonly maxRpcs: number
  private readonly maxHops: number
  private readonly maxCandidates: number
  private readonly wantedProviders: number
  private readonly resiliency: number
  private readonly regionOf: RegionOf
  private readonly maxPerRegionPerResponse: number
  /** Candidates by peer id (a contact's key is derived from its peer id: one per peer). */
  private readonly byPeer = new Map<string, Candidate>()
  private candidates: Candidate[] = []
  private readonly providers = new Map<string, Contact>()
  private inflight = 0
  private rpcs = 0
  private failures = 0
  private finished = false

  constructor (init: LookupInit) {
    this.target = init.target
    this.kind = init.kind ?? 'find-node'
    this.localId = init.localId
    this.k = init.k ?? 20
    this.alpha = init.alpha ?? 3
    this.requestTimeoutMs = init.requestTimeoutMs ?? 5000
    this.maxRpcs = init.maxRpcs ?? 100
    this.maxHops = init.maxHops ?? 12
    this.maxCandidates = init.maxCandidates ?? 4 * this.k
    this.wantedProviders = init.wantedProviders ?? 20
    this.resiliency = Math.max(1, Math.min(this.k, init.resiliency ?? this.k))
    this.regionOf = init.regionOf ?? prefixRegionOf
    this.maxPerRegionPerResponse = init.maxPerRegionPerResponse ?? 2
    this.addCandidates(init.seeds, 1)
  }

  /** Sends the first requests. */
  start (nowMs: number): LookupRequest[] { return this.pump(nowMs) }

  /** True once the lookup has ended; `result()` is final. */
  get done (): boolean { return this.finished }

  /** Requests currently awaiting an answer. */
  get inFlight (): number { return this.inflight }

  /** Adds providers known without asking anyone (our own provider store). */
  addKnownProviders (providers: readonly Contact[]): void {
    for (const p of providers) {
      if (this.providers.size >= this.wantedProviders) break
      if (!this.providers.has(p.peerId)) this.providers.set(p.peerId, p)
    }
  }

  /** A peer answered with closer contacts (and, for get-providers, providers). */
  onResponse (nowMs: number, peerId: string, closer: readonly Contact[], providers: readonly Contact[] = []): LookupRequest[] {
    const c = this.findInflight(peerId)
    if (c == null) return []
    c.state = 'done'
    this.inflight--
    this.addKnownProviders(providers)
    const capped = capPerRegion(closer.slice(0, this.k), this.regionOf, this.maxPerRegionPerResponse)
    this.addCandidates(capped, c.hop + 1)
    return this.pump(nowMs)
  }

  /** The request to `peerId` failed (peer vanished, stream reset, error reply). */
  onFailure (nowMs: number, peerId: string): LookupRequest[] {
    const c = this.findInflight(peerId)
    if (c == null) return []
    this.fail(c)
    return this.pump(nowMs)
  }

  /** Earliest request deadline, or undefined when nothing is in flight. */
  nextDeadlineMs (): number | undefined {
    let min: number | undefined
    for (const c of this.candidates) if (c.state === 'inflight' && (min === undefined || c.deadlineMs < min)) min = c.deadlineMs
    return min
  }

  /** Fails every request whose deadline passed and sends replacements. */
  handleTimeout (nowMs: number): LookupRequest[] {
    for (const c of this.candidates) if (c.state === 'inflight' && c.deadlineMs <= nowMs) this.fail(c)
    return this.pump(nowMs)
  }

  /** Providers found so far, from the `from`-th on (in the order they were found). */
  providersFrom (from: number): Contact[] {
    return this.providers.size <= from ? [] : [...this.providers.values()].slice(from)
  }

  /** Outcome so far (final once `done`). */
  result (): LookupResult {
    const answered = this.candidates.filter(c => c.state === 'done').slice(0, this.k)
    const known: Contact[] = []
    for (const c of this.candidates) {
      if (known.length >= this.k) break
      if (c.state !== 'failed') known.push(c.contact)
    }
    return {
      closest: answered.map(c => c.contact),
      closestKnown: known,
      providers: [...this.providers.values()],
      hops: answered.length > 0 ? answered[0].hop : 0,
      rpcs: this.rpcs,
      failures: this.failures,
      exhausted: this.rpcs >= this.maxRpcs
    }
  }

  private fail (c: Candidate): void {
    c.state = 'failed'
    this.inflight--
    this.failures++
  }

  private findInflight (peerId: string): Candidate | undefined {
    for (const c of this.candidates) if (c.contact.peerId === peerId && c.state === 'inflight') return c
    return undefined
  }

  private addCandidates (contacts: readonly Contact[], hop: number): void {
    let added = false
    for (const contact of contacts) {
      if (keysEqual(contact.id, this.localId)) continue
      if (this.byPeer.has(contact.peerId)) continue
      const c: Candidate = { contact, hop, state: 'new', deadlineMs: 0, dist: distancePrefix(this.target, contact.id) }
      this.byPeer.set(contact.peerId, c)
      this.insertSorted(c)
      added = true
    }
    if (!added) return
    if (this.candidates.length > this.maxCandidates) {
      // Forget far candidates that are not in flight; in-flight ones must stay to match their answers.
      const keep: Candidate[] = []
      for (const c of this.candidates) {
        if (keep.length < this.maxCandidates || c.state === 'inflight') keep.push(c)
        else this.byPeer.delete(c.contact.peerId)
      }
      this.candidates = keep
    }
  }

  /** Inserts after every candidate not farther (the order a stable sort gives); one response adds at most k. */
  private insertSorted (c: Candidate): void {
    const list = this.candidates
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const m = list[mid]
      if (m.dist < c.dist || (m.dist === c.dist && compareDistance(this.target, m.contact.id, c.contact.id) <= 0)) lo = mid + 1
      else hi = mid
    }
    list.splice(lo, 0, c)
  }

  private pump (nowMs: number): LookupRequest[] {
    if (this.finished) return []
    if (this.kind === 'get-providers' && this.providers.size >= this.wantedProviders) return this.finish()
    const out: LookupRequest[] = []
    // Walk the k closest non-failed candidates; ask the unasked ones, alpha at a time.
    let live = 0
    let waiting = false
    if (this.resiliency < this.k && this.converged()) return this.finish()
    for (const c of this.candidates) {
      if (c.state === 'failed') continue
      if (live++ >= this.k) break
      if (c.state === 'inflight') { waiting = true; continue }
      if (c.state !== 'new') continue
      if (c.hop > this.maxHops) { c.state = 'failed'; live--; continue }
      if (this.inflight >= this.alpha || this.rpcs >= this.maxRpcs) { waiting = waiting || this.inflight > 0; continue }
      c.state = 'inflight'
      c.deadlineMs = nowMs + this.requestTimeoutMs
      this.inflight++
      this.rpcs++
      waiting = true
      out.push({ to: c.contact, kind: this.kind, target: this.target })
    }
    if (!waiting && this.inflight === 0) return this.finish()
    return out
  }

  /** True when the `resiliency` closest candidates not failed (nor past maxHops, which will never be asked) have all answered. */
  private converged (): boolean {
    let answered = 0
    for (const c of this.candidates) {
      if (c.state === 'failed' || (c.state === 'new' && c.hop > this.maxHops)) continue
      if (c.state !== 'done') return false
      if (++answered >= this.resiliency) return true
    }
    return false // fewer live candidates than that: the lookup ends when nothing is left to ask
  }

  private finish (): LookupRequest[] {
    this.finished = true
    // Answers that arrive after the end are ignored; nothing in flight is awaited any more.
    for (const c of this.candidates) if (c.state === 'inflight') c.state = 'abandoned'
    this.inflight = 0
    return []
  }
}
