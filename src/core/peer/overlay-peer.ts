/**
 * One overlay peer, sans-IO: the DHT and supernode-tier machines of its
 * role composed once, for the libp2p shell (src/net/overlay-service.ts)
 * and the simulator shell (sim/node/swarmcdn-node.ts) alike. It takes
 * `(nowMs, input)` and returns effects; it owns every overlay decision.
 *
 * Rules:
 * - Roles: a leaf runs LeafAttachment only and answers no DHT request
 *   (`not-a-dht-node`); a supernode or seeder runs DhtNode + SupernodeIndex.
 *   `role: 'auto'` starts as a leaf and asks SupernodePolicy every
 *   `policyIntervalMs` (first check at a random point of the first
 *   interval, so a crowd that starts together does not decide together)
 *   and when the leaf says the tier is too thin (`promote-self`). A role
 *   change withdraws the old role's DHT records, re-registers every held
 *   key (the host's `heldKeys`) and joins again; what the old role knew
 *   about DHT servers seeds the new one; finds in flight are answered
 *   with what they found so far.
 * - One request-id counter per peer, shared by the machines and the
 *   peer's own requests (discovery, forwards, probes). A response goes to
 *   the machine that owns its request id, else to the peer's own request.
 *   Every own request has a deadline (`requestTimeoutMs`).
 * - A contact enters the routing table (peerAuthenticated) only when it
 *   declared itself a DHT server (senderRole supernode or seeder) on an
 *   authenticated channel: a request it sent, or the answer to our probe
 *   of a peer that identify showed serving the DHT protocol.
 * - Joining: a member with fewer than k contacts bootstraps from up to
 *   `bootstrapContacts` drawn from the bootstrap list and the servers it
 *   heard of; a leaf short of supernodes asks `discoveryServers` of them
 *   (its first supernode first) for the servers nearest its own id, and,
 *   once attached, its first supernode too. A server that names fewer than
 *   k/2 contacts triggers an early re-discovery (up to `discoveryRetries`,
 *   doubling delays). Both repeat every `refreshIntervalMs` while short.
 * - A find: a leaf waits up to `attachWaitMs` for a first attachment and
 *   asks its supernodes (LeafAttachment.query); a member takes its own
 *   index's holders, runs a get-providers lookup, and asks the first
 *   `maxForwardQueries` announcers (nearest first, one origin seeder
 *   always among them) with `localOnly`. The answer excludes this peer and
 *   is ranked nearest first (rankPeers: same AS, shared prefix, tie key).
 * - A supernode indexes its leaves and announces aggregated records
 *   (SupernodeIndex); provide lookups start at most `providesPerRound` per
 *   `provideRoundMs` and wait when the DHT is busy. It sheds new leaves
 *   when the host reports load (`reportLoad`), not only at its leaf cap.
 * - Ranking (providers, supernode candidates, announcers, a busy
 *   supernode's alternatives) is rankPeers over the places the host
 *   reports; origin seeders come last among supernode candidates (their
 *   upload is for content).
 */
import { keyToHex, type Key } from '../ids.js'
import { DeadlineMap } from '../deadline-map.js'
import { prefixRegionOf, type Contact } from '../dht/contact.js'
import { DhtBusyError, DhtNode, requestIdCounter, type DhtEffect, type RequestIdSource } from '../dht/dht-node.js'
import { ProviderAdmission } from '../dht/provider-admission.js'
import { isDhtRequest, type DhtMessage } from '../messages/dht-messages.js'
import { LeafAttachment, type LeafEffect } from '../tier/leaf-attachment.js'
import { SupernodeIndex, type SupernodeEffect } from '../tier/supernode-index.js'
import { SupernodePolicy, type OverlayRole } from '../tier/supernode-policy.js'
import { rankPeers, type PeerPlace, type RankCandidate } from '../proximity/peer-ranking.js'
import { ReachabilityTracker, type ReachabilityStatus, type ReachVerdict } from '../reach/reachability.js'
import { relaysWanted, servesRelay } from '../reach/relay-choice.js'
import { resolveOverlayOptions, type OverlayPeerInit, type ResolvedOverlayOptions } from './overlay-options.js'
import { AnnouncerCache } from './announcer-cache.js'
import { estimateRegionLeaves } from '../tier/region-leaves.js'

/** What the peer asks its shell about the world: measurements and storage, never decisions. */
export interface OverlayPeerHost {
  /** Where a contact is (AS, address, tie key), for ranking. */
  placeOf: (c: Contact) => PeerPlace
  /** Where this peer is. */
  selfPlace: () => PeerPlace
  /** Content keys this peer holds now (on disk); re-registered on every role change. */
  heldKeys: () => Iterable<Key>
  /** Measured inputs of the supernode policy. */
  policyInputs: () => PolicyMeasurements
  /** An ISP's ALTO cost from one address to another (ranking rule 3 among equally near peers); absent or undefined: no cost. */
  altoCost?: (from: PeerPlace['address'], to: PeerPlace['address']) => number | undefined
}

/** The measured half of SupernodePolicy's input. */
export interface PolicyMeasurements {
  /** Others can dial this peer, when the shell knows it (a model, an operator's word); omitted: the peer's own dial-back verdicts decide (`reachabilityVerdict`). */
  reachable?: boolean
  /** Upload capacity not used by transfers, bytes/s (the libp2p shell: core/tier/spare-upload.ts). */
  spareUploadBytesPerSec: number
  /** Supernodes in this peer's region (itself included if it is one); default: counted from the servers it heard of. */
  regionSupernodes?: number
  /** Leaves in this peer's region (itself included if it is one); default: estimated from the networks of the leaves attached to it (core/tier/region-leaves.ts). */
  regionLeaves?: number
}

/** What the peer asks its shell to do. */
export type OverlayEffect =
  /** Send a request (isDhtRequest) on a new stream, or a response on the stream its request came in on. */
  | { type: 'send', to: Contact, message: DhtMessage }
  /** Hang up on `peer` (it broke the protocol or its rate limit). */
  | { type: 'penalize', peer: string, reason: string }
  | { type: 'role-changed', role: OverlayRole, previous: OverlayRole | undefined, reason: string }
  | { type: 'attached', supernode: Contact }
  | { type: 'detached', supernode: Contact, reason: string }
  /** The answer to `find(findId)`: holders, nearest first, never this peer. */
  | { type: 'providers-found', findId: number, key: Key, providers: Contact[] }
  /** A get-providers lookup (a find's or a leaf query's) started / ended: for metrics. */
  | { type: 'lookup-started', lookupId: number, key: Key }
  | { type: 'lookup-measured', lookupId: number, key: Key, hops: number, latencyMs: number, foundOthers: boolean }
  /** This peer's DHT record for `key` is live / withdrawn (for metrics). */
  | { type: 'announced', key: Key }
  | { type: 'withdrawn', key: Key }

type Effects = OverlayEffect[]
interface OwnRequest { kind: 'discover' | 'forward' | 'probe', readonly deadlineMs: number, findId: number, to: string }
interface Find { key: Key, found: Map<string, Contact>, forwardsLeft: number, attachDeadlineMs: number | undefined }
interface LookupWatch { findId: number, token: number, key: Key, startMs: number }

/** One peer's overlay: DHT + supernode tier + role policy (see the file's rules). */
export class OverlayPeer {
  readonly options: ResolvedOverlayOptions
  private self: Contact
  private readonly host: OverlayPeerHost
  private readonly random: () => number
  private readonly bootstrap: readonly Contact[]
  private readonly policy: SupernodePolicy
  private readonly ids: RequestIdSource
  /** Outlives role changes (connections opened while a leaf count for a later member); made on first use: 10^6 simulated leaves need none. */
  private admission: ProviderAdmission | undefined
  private currentRole: OverlayRole | undefined
  private dht: DhtNode | undefined
  private index: SupernodeIndex | undefined
  private leaf: LeafAttachment | undefined
  private knownServers: Map<string, Contact> | undefined
  private ownRequests: DeadlineMap<number, OwnRequest> | undefined
  private finds: Map<number, Find> | undefined
  /** Finds with an attach deadline set: nextDeadlineMs walks `finds` only when some are (a leaf before it attaches). */
  private findsWaitingAttach = 0
  private leafQueries: Map<number, number> | undefined
  private lookups: Map<number, LookupWatch> | undefined
  /** Announcers recent lookups named, reused by the next finds of a key (undefined when announcerCacheTtlMs is 0). */
  private readonly announcerCache: AnnouncerCache | undefined
  private pendingProvides: Map<string, Key> | undefined
  private nextFindId: number
  private provideRetryAtMs: number
  private upSinceMs: number
  private roleSinceMs: number
  private joinAtMs: number
  private joined: boolean
  private nextRefreshAtMs: number
  private nextPolicyAtMs: number
  private discoveredViaAttached: boolean
  private discoveryRetriesLeft: number
  private running: boolean
  /** Created by the first dial-back verdict, so the simulator's million peers pay nothing without one. */
  private reach: ReachabilityTracker | undefined

  /**
   * @param self this peer's contact (update it with `updateSelf` when its addresses change)
   * @param bootstrap DHT servers shipped with the peer or configured; may be shared by many peers (never modified)
   */
  constructor (self: Contact, host: OverlayPeerHost, random: () => number, bootstrap: readonly Contact[], init: OverlayPeerInit | ResolvedOverlayOptions = {}) {
    this.options = 'queryTimeoutMs' in init ? init : resolveOverlayOptions(init)
    this.self = self
    this.host = host
    this.random = random
    this.bootstrap = bootstrap
    this.policy = new SupernodePolicy({ ...this.options.policy, random })
    this.ids = requestIdCounter()
    this.admission = undefined
    this.currentRole = undefined
    this.dht = undefined
    this.index = undefined
    this.leaf = undefined
    this.knownServers = undefined
    this.ownRequests = undefined
    this.finds = undefined
    this.findsWaitingAttach = 0
    this.leafQueries = undefined
    this.lookups = undefined
    this.announcerCache = this.options.announcerCacheTtlMs > 0 ? new AnnouncerCache({ ttlMs: this.options.announcerCacheTtlMs, maxKeys: this.options.maxCachedAnnouncerKeys }) : undefined
    this.pendingProvides = undefined
    this.nextFindId = 1
    this.provideRetryAtMs = 0
    this.upSinceMs = 0
    this.roleSinceMs = 0
    this.joinAtMs = 0
    this.joined = false
    this.nextRefreshAtMs = 0
    this.nextPolicyAtMs = Infinity
    this.discoveredViaAttached = false
    this.discoveryRetriesLeft = 0
    this.running = false
    this.reach = undefined
  }

  // ---- state the shells read ------------------------------------------------

  /** The current role ('leaf' before start). */
  get role (): OverlayRole { return this.currentRole ?? 'leaf' }
  /** This peer's contact as machines see it. */
  get contact (): Contact { return this.self }
  /** Supernodes this leaf is attached to, best first. */
  attached (): Contact[] { return this.leaf?.attached() ?? [] }
  /** Supernodes attached, without allocating. */
  get attachedCount (): number { return this.leaf?.attachedCount ?? 0 }
  /** Contacts in the routing table (members only). */
  get routingTableSize (): number { return this.dht?.table.size ?? 0 }
  /** Leaves attached here (supernodes and seeders only). */
  get leafCount (): number | undefined { return this.index?.leafCount }

  // ---- reachability (rules in core/reach/reachability.ts) ----------------------

  /** A peer dialled one of our addresses back (or failed to): one verdict towards our reachability. */
  reachabilityVerdict (nowMs: number, v: ReachVerdict): void {
    this.reach ??= new ReachabilityTracker(this.options.reachability)
    this.reach.report(nowMs, v)
  }

  /** Whether a verifier should still be asked about `addr` (it is neither confirmed nor refuted). */
  wantsReachVerdict (nowMs: number, addr: string): boolean {
    return this.reach?.undecided(nowMs, addr) ?? true
  }

  /** What the verdicts add up to, for status documents. */
  reachability (nowMs: number): ReachabilityStatus {
    return this.reach?.status(nowMs) ?? { reachability: 'unknown', confirmedAddrs: [], refutedAddrs: [], verifierNetworks: 0 }
  }

  /** A router began forwarding `addr` to us (a UPnP mapping): its earlier verdicts are forgotten, new ones decide. */
  reachabilityPathChanged (addr: string): void { this.reach?.forget(addr) }

  /** Whether this peer dials others back for their reachability: members (supernodes, seeders) do, leaves do not. */
  get verifiesReachability (): boolean { return this.role !== 'leaf' }

  /** Whether this peer grants circuit relay reservations (core/reach/relay-choice.ts). */
  get servesRelay (): boolean { return servesRelay(this.role) }

  /** The supernodes this peer should hold relay reservations at now (core/reach/relay-choice.ts). */
  relaysWanted (nowMs: number): Contact[] { return relaysWanted(this.role, this.reachability(nowMs).reachability, this.attached()) }
  /** Peers this peer holds a connection to for the overlay (its supernodes, or its leaves and table). */
  connectedPeerIds (): string[] {
    return [...(this.leaf?.attached() ?? []).map(c => c.peerId), ...(this.index?.leafPeerIds() ?? []), ...(this.dht?.table.toArray() ?? []).map(c => c.peerId)]
  }

  /** The time a request of ours may take before the peer gives up on it, ms (a leaf's query waits for the supernode's budget too). */
  requestTimeoutFor (m: DhtMessage): number {
    return m.type === 'query' && m.localOnly !== true ? this.options.queryTimeoutMs : this.options.requestTimeoutMs
  }

  // ---- inputs ----------------------------------------------------------------

  /** The peer comes up: takes the configured role; joins at `joinAtMs` (default now). */
  start (nowMs: number, joinAtMs = nowMs): Effects {
    const out: Effects = []
    this.running = true
    this.upSinceMs = nowMs
    this.joinAtMs = joinAtMs
    this.nextRefreshAtMs = joinAtMs
    if (this.options.role === 'auto') this.nextPolicyAtMs = nowMs + this.options.policyIntervalMs * (0.5 + this.random())
    this.setRoleInto(nowMs, this.options.role === 'auto' ? 'leaf' : this.options.role, 'configured', out)
    return out
  }

  /** The peer stops: finds in flight are answered with what they have. */
  stop (): Effects {
    const out: Effects = []
    this.answerAllFinds(out)
    this.running = false
    return out
  }

  /** This peer's addresses changed (listen, observed): later frames and new machines carry them. */
  updateSelf (self: Contact): void { this.self = this.currentRole === 'seeder' ? { ...self, origin: true } : self }

  /** Our dialable addresses changed in a way others must learn now (a relay reservation): a leaf's supernodes hear them at once, through keep-alives. Call `updateSelf` first; the effects come from the timer. */
  addressesChanged (nowMs: number): void { this.leaf?.keepAliveNow(nowMs) }

  /** Switches role now (tests, an operator); policy does the same through `start`'s timer. */
  setRole (nowMs: number, role: OverlayRole, reason: string): Effects {
    const out: Effects = []
    this.setRoleInto(nowMs, role, reason, out)
    return out
  }

  /** A DHT message from `from`, which declared `senderRole` in its frame. */
  message (nowMs: number, from: Contact, senderRole: OverlayRole, m: DhtMessage): Effects {
    const out: Effects = []
    if (!this.running) return out
    if (senderRole !== 'leaf') this.rememberServer(from)
    if (isDhtRequest(m)) {
      if (this.dht == null || this.index == null) {
        out.push({ type: 'send', to: from, message: { type: 'error', requestId: m.requestId, code: 'not-a-dht-node' } })
        return out
      }
      if (senderRole !== 'leaf') this.execDht(nowMs, this.dht.peerAuthenticated(nowMs, from), out)
      this.execDht(nowMs, this.dht.handleMessage(nowMs, from, m), out)
      if (this.index != null) this.execIndex(nowMs, this.index.handleMessage(nowMs, from, m), out)
      return out
    }
    if (this.dht?.ownsRequest(m.requestId) === true) this.execDht(nowMs, this.dht.handleMessage(nowMs, from, m), out)
    else if (this.index?.ownsRequest(m.requestId) === true) this.execIndex(nowMs, this.index.handleMessage(nowMs, from, m), out)
    else if (this.leaf?.ownsRequest(m.requestId) === true) this.execLeaf(nowMs, this.leaf.handleMessage(nowMs, from, m), out)
    else this.ownAnswered(nowMs, m.requestId, from, senderRole, m, out)
    return out
  }

  /** Our request `requestId` failed (dial error, stream reset, timeout in the shell). */
  rpcFailed (nowMs: number, requestId: number): Effects {
    const out: Effects = []
    if (!this.running) return out
    if (this.dht != null) this.execDht(nowMs, this.dht.rpcFailed(nowMs, requestId), out)
    if (this.index != null) this.execIndex(nowMs, this.index.rpcFailed(nowMs, requestId), out)
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.rpcFailed(nowMs, requestId), out)
    this.ownAnswered(nowMs, requestId, undefined, 'leaf', undefined, out)
    return out
  }

  /** Our probe through supernode `peerId`'s relay did not reach us: a leaf drops it for another (LeafAttachment.relayBroken). */
  relayBroken (nowMs: number, peerId: string): Effects {
    const out: Effects = []
    if (this.running && this.leaf != null) this.execLeaf(nowMs, this.leaf.relayBroken(nowMs, peerId), out)
    return out
  }

  /** The connection to `peerId` closed: its requests in flight fail now (as their streams do in the libp2p shell), and each machine forgets it. */
  peerDisconnected (nowMs: number, peer: Contact): Effects {
    const out: Effects = []
    if (!this.running) return out
    // A lookup or a find that waited for a peer that is gone moves on at once instead of at its request timeout (the
    // simulator delivers nothing to an offline node, so without this its finds waited where the libp2p shell's did not).
    const inFlight: number[] = []
    this.dht?.requestsTo(peer.peerId, inFlight)
    this.index?.forwardsTo(peer.peerId, inFlight)
    if (this.ownRequests != null && this.ownRequests.size > 0) for (const [id, r] of this.ownRequests) if (r.to === peer.peerId) inFlight.push(id)
    this.dht?.peerDisconnected(peer.id)
    for (const id of inFlight) out.push(...this.rpcFailed(nowMs, id))
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.peerDisconnected(nowMs, peer.peerId), out)
    if (this.index != null) this.execIndex(nowMs, this.index.peerDisconnected(nowMs, peer.peerId), out)
    return out
  }

  /** An authenticated connection to `peerId` from `remoteAddr` opened (at `openedAtMs`, default now): provider records need one (ProviderAdmission). */
  connectionOpened (nowMs: number, peerId: string, connectionId: string, remoteAddr: string, openedAtMs = nowMs): void {
    this.providerAdmission().connectionOpened(nowMs, peerId, connectionId, remoteAddr, openedAtMs)
  }

  /** The connection `connectionId` to `peerId` closed; with its last one go its provider records that never counted. */
  connectionClosed (nowMs: number, peerId: string, connectionId: string): void {
    if (this.admission?.connectionClosed(peerId, connectionId) === true) this.dht?.providerGone(nowMs, peerId)
  }

  private providerAdmission (): ProviderAdmission {
    this.admission ??= new ProviderAdmission(this.options.providerAdmission)
    return this.admission
  }

  /** Provider records this peer's DHT store holds (0 for a leaf). */
  get providerRecords (): number { return this.dht?.providers.size ?? 0 }

  /** Peer ids of the providers of `key` this peer's DHT store would answer now (none for a leaf): diagnostics. */
  providersStored (nowMs: number, key: Key): string[] { return this.dht?.providers.get(nowMs, key).map(c => c.peerId) ?? [] }

  /** `peer` broke the DHT wire protocol (bad frame): scored by the DHT. */
  protocolViolation (nowMs: number, peerId: string, reason: string): Effects {
    const out: Effects = []
    if (this.dht != null) this.execDht(nowMs, this.dht.protocolViolation(nowMs, peerId, reason), out)
    return out
  }

  /** Identify showed `c` serving the DHT protocol: a known server enters the table, another is pinged (its answer tells its role). */
  dhtServerSeen (nowMs: number, c: Contact): Effects {
    const out: Effects = []
    if (this.dht == null || !this.running) return out
    const known = this.knownServers?.get(c.peerId)
    if (known != null) this.execDht(nowMs, this.dht.peerAuthenticated(nowMs, known), out)
    else this.ownRequest(nowMs, c, { type: 'ping', requestId: 0 }, 'probe', 0, out)
    return out
  }

  /** This peer now holds `key` (complete and verified): register it (leaf) or index and announce it (member). */
  hold (nowMs: number, key: Key): Effects {
    const out: Effects = []
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.hold(nowMs, key), out)
    if (this.index != null) this.execIndex(nowMs, this.index.holdSelf(key), out)
    return out
  }

  /** This peer no longer holds `key`. */
  drop (nowMs: number, key: Key): Effects {
    const out: Effects = []
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.drop(nowMs, key), out)
    if (this.index != null) this.execIndex(nowMs, this.index.dropSelf(key), out)
    return out
  }

  /** Starts finding holders of `key`; the answer is one `providers-found` effect with this `findId`. */
  find (nowMs: number, key: Key): { findId: number, effects: Effects } {
    const out: Effects = []
    const findId = this.nextFindId++
    const f: Find = { key, found: new Map(), forwardsLeft: 0, attachDeadlineMs: undefined }
    this.finds ??= new Map()
    this.finds.set(findId, f)
    if (!this.running) this.answerFind(findId, out)
    else if (this.leaf != null) {
      if (this.leaf.attachedCount > 0) this.leafQuery(nowMs, findId, out)
      else { f.attachDeadlineMs = nowMs + this.options.attachWaitMs; this.findsWaitingAttach++ }
    } else this.memberFind(nowMs, findId, out)
    return { findId, effects: out }
  }

  /** The host's load now (a supernode sheds new leaves while overloaded): upload in use / capacity, event-loop lag. */
  reportLoad (load: { uploadUtilization?: number, eventLoopLagMs?: number }): void {
    const o = this.options
    this.index?.setOverloaded((load.uploadUtilization ?? 0) >= o.overloadUploadUtilization || (load.eventLoopLagMs ?? 0) >= o.overloadEventLoopLagMs)
  }

  /** Earliest time `timer` has work, or undefined. Allocates nothing (runs after every input). */
  nextDeadlineMs (): number | undefined {
    if (!this.running) return undefined
    let m = this.nextPolicyAtMs
    if (this.refreshWanted()) m = Math.min(m, Math.max(this.nextRefreshAtMs, this.joinAtMs))
    let t = this.dht?.nextDeadlineMs()
    if (t !== undefined && t < m) m = t
    t = this.index?.nextDeadlineMs()
    if (t !== undefined && t < m) m = t
    t = this.leaf?.nextDeadlineMs()
    if (t !== undefined && t < m) m = t
    // Size first: an iterator is an allocation, and most peers have neither most of the time.
    t = this.ownRequests?.earliestMs()
    if (t !== undefined && t < m) m = t
    if (this.findsWaitingAttach > 0 && this.finds != null) for (const f of this.finds.values()) if (f.attachDeadlineMs !== undefined && f.attachDeadlineMs < m) m = f.attachDeadlineMs
    if (this.pendingProvides != null && this.pendingProvides.size > 0 && this.dht != null && this.provideRetryAtMs < m) m = this.provideRetryAtMs
    return m === Infinity ? undefined : m
  }

  /** The timer fired: expire requests, keep-alives, refresh, policy, provide rounds. */
  timer (nowMs: number): Effects {
    const out: Effects = []
    if (!this.running) return out
    if (this.dht != null) this.execDht(nowMs, this.dht.handleTimeout(nowMs), out)
    if (this.index != null) this.execIndex(nowMs, this.index.handleTimeout(nowMs), out)
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.handleTimeout(nowMs), out)
    const due = this.ownRequests?.earliestMs()
    if (due !== undefined && due <= nowMs) for (const [id, r] of this.ownRequests as DeadlineMap<number, OwnRequest>) if (r.deadlineMs <= nowMs) this.ownAnswered(nowMs, id, undefined, 'leaf', undefined, out)
    if (this.findsWaitingAttach > 0 && this.finds != null) {
      for (const [id, f] of this.finds) {
        if (f.attachDeadlineMs === undefined || f.attachDeadlineMs > nowMs) continue
        this.stopAttachWait(f)
        if (this.leaf != null) this.leafQuery(nowMs, id, out)
        else this.answerFind(id, out)
      }
    }
    if (nowMs >= this.joinAtMs && nowMs >= this.nextRefreshAtMs) {
      // While the refresh had nothing to do its timer was not armed (an event per peer per interval at scale): back on the same period.
      if (this.joined && nowMs - this.nextRefreshAtMs >= 1000) this.nextRefreshAtMs += Math.ceil((nowMs - this.nextRefreshAtMs) / this.options.refreshIntervalMs) * this.options.refreshIntervalMs
      if (nowMs >= this.nextRefreshAtMs) { this.joinAtMs = 0; this.join(nowMs, out) }
    }
    if (nowMs >= this.nextPolicyAtMs) {
      this.nextPolicyAtMs = nowMs + this.options.policyIntervalMs
      this.checkPolicy(nowMs, 'periodic check', out)
    }
    this.drainProvides(nowMs, out)
    return out
  }

  // ---- roles -----------------------------------------------------------------

  private setRoleInto (nowMs: number, role: OverlayRole, reason: string, out: Effects): void {
    const previous = this.currentRole
    if (previous === role) return
    const { options: o } = this
    for (const c of this.dht?.table.toArray() ?? []) this.rememberServer(c)
    for (const c of this.leaf?.attached() ?? []) this.rememberServer(c)
    if (this.dht != null) for (const k of this.dht.providedKeys()) { this.dht.unprovide(k); out.push({ type: 'withdrawn', key: k }) }
    this.answerAllFinds(out)
    this.dht = undefined
    this.index = undefined
    this.leaf = undefined
    this.pendingProvides?.clear()
    this.lookups?.clear()
    this.announcerCache?.clear()
    this.leafQueries?.clear()
    this.ownRequests?.clear()
    this.currentRole = role
    this.roleSinceMs = nowMs
    const self = role === 'seeder' ? { ...this.self, origin: true } : this.self
    this.self = self
    if (role === 'leaf') {
      this.leaf = new LeafAttachment({
        ...o.leaf,
        self,
        random: this.random,
        rank: cands => this.rankSupernodes(cands),
        requestTimeoutMs: o.requestTimeoutMs,
        keepAliveIntervalMs: o.keepAliveIntervalMs,
        queryTimeoutMs: o.queryTimeoutMs,
        nextRequestId: this.ids
      })
      this.discoveredViaAttached = false
      this.discoveryRetriesLeft = o.discoveryRetries
    } else {
      const dht = new DhtNode({ ...o.dht, self, k: o.k, requestTimeoutMs: o.requestTimeoutMs, nextRequestId: this.ids, providerAdmission: this.providerAdmission() })
      this.dht = dht
      this.index = new SupernodeIndex({
        ...o.index,
        self,
        requestTimeoutMs: o.requestTimeoutMs,
        keepAliveIntervalMs: o.keepAliveIntervalMs,
        queryBudgetMs: o.queryBudgetMs,
        maxForwardQueries: o.maxForwardQueries,
        nextRequestId: this.ids,
        alternatives: leaf => dht.table.closest(leaf.id, o.alternativesConsidered),
        rank: (asker, cands) => this.rankFor(this.host.placeOf(asker), cands)
      })
    }
    out.push({ type: 'role-changed', role, previous, reason })
    for (const key of this.host.heldKeys()) out.push(...this.hold(nowMs, key))
    if (nowMs >= this.joinAtMs) this.join(nowMs, out)
  }

  private checkPolicy (nowMs: number, reason: string, out: Effects): void {
    if (this.options.role !== 'auto') return
    const role = this.role
    const m = this.host.policyInputs()
    const regionSupernodes = m.regionSupernodes ?? this.countRegionSupernodes()
    const d = this.policy.decide({
      nowMs,
      role,
      upSinceMs: this.upSinceMs,
      roleSinceMs: this.roleSinceMs,
      reachable: m.reachable ?? this.reach?.reachable(nowMs) ?? false,
      spareUploadBytesPerSec: m.spareUploadBytesPerSec,
      regionSupernodes,
      regionLeaves: m.regionLeaves ?? this.estimateRegionLeaves(regionSupernodes)
    })
    if (d.action === 'stay') return
    this.setRoleInto(nowMs, d.action === 'promote' ? 'supernode' : 'leaf', `${reason}: ${d.reason}`, out)
  }

  private countRegionSupernodes (): number {
    const mine = this.regionOf(this.self, this.host.selfPlace())
    let n = this.role === 'leaf' ? 0 : 1
    for (const c of this.knownServers?.values() ?? []) if (c.origin !== true && this.regionOf(c, this.host.placeOf(c)) === mine) n++
    return n
  }

  /** The region's leaves: a supernode's from the networks of the leaves attached to it, a leaf's from its supernodes' counts (core/tier/region-leaves.ts). */
  private estimateRegionLeaves (regionSupernodes: number): number {
    const mine = this.regionOf(this.self, this.host.selfPlace())
    let attachedInRegion = 0
    for (const c of this.index?.leafContacts() ?? []) if (this.regionOf(c, this.host.placeOf(c)) === mine) attachedInRegion++
    const supernodeLeafCounts = (this.leaf?.attachedLeafCounts() ?? []).filter(x => x.contact.origin !== true && this.regionOf(x.contact, this.host.placeOf(x.contact)) === mine).map(x => x.leaves)
    return estimateRegionLeaves({ attachedInRegion, supernodeLeafCounts, regionSupernodes, attachmentsPerLeaf: this.options.leaf.targetAttachments ?? 3, selfIsLeaf: this.role === 'leaf' })
  }

  private regionOf (c: Contact, place: PeerPlace): string {
    return place.asn !== 0 ? `as${place.asn}` : (prefixRegionOf(c) ?? 'local')
  }

  // ---- joining -----------------------------------------------------------------

  private join (nowMs: number, out: Effects): void {
    const o = this.options
    this.joined = true
    this.nextRefreshAtMs = nowMs + o.refreshIntervalMs
    if (this.dht != null) {
      if (this.dht.table.size >= o.k) return
      const seeds = this.drawServers([], o.bootstrapContacts)
      if (seeds.length === 0) return
      try { this.execDht(nowMs, this.dht.bootstrap(nowMs, seeds).effects, out) } catch (err) { if (!(err instanceof DhtBusyError)) throw err }
      return
    }
    const leaf = this.leaf
    if (leaf == null || leaf.attachedCount >= (o.leaf.targetAttachments ?? 3)) return
    if (this.knownServers != null && this.knownServers.size > 0) this.execLeaf(nowMs, leaf.addCandidates(nowMs, [...this.knownServers.values()]), out)
    if (this.hasOwnRequest('discover')) return
    for (const server of this.drawServers(leaf.attached().slice(0, 1), o.discoveryServers)) this.discover(nowMs, server, out)
  }

  /** `first`, then distinct entries drawn uniformly from the bootstrap list and the known servers (8 draws at most), never this peer. */
  private drawServers (first: Contact[], upTo: number): Contact[] {
    const out = first
    const known = this.knownServers
    const nBoot = this.bootstrap.length
    const n = nBoot + (known?.size ?? 0)
    if (n === 0) return out
    const knownList = known != null && known.size > 0 ? [...known.values()] : undefined
    for (let t = 0; t < 8 && out.length < upTo; t++) {
      const i = Math.floor(this.random() * n)
      const c = i < nBoot ? this.bootstrap[i] : (knownList as Contact[])[i - nBoot]
      if (c.peerId !== this.self.peerId && !out.some(x => x.peerId === c.peerId)) out.push(c)
    }
    return out
  }

  private discover (nowMs: number, server: Contact, out: Effects): void {
    this.ownRequest(nowMs, server, { type: 'find-node', requestId: 0, target: this.self.id }, 'discover', 0, out)
  }

  /** The periodic re-join has work: not joined yet, or short of attachments (leaf) or contacts (member). */
  private refreshWanted (): boolean {
    if (!this.joined) return true
    if (this.leaf != null) return this.leaf.attachedCount < (this.options.leaf.targetAttachments ?? 3)
    return this.dht != null && this.dht.table.size < this.options.k
  }

  // ---- our own requests --------------------------------------------------------

  private hasOwnRequest (kind: OwnRequest['kind']): boolean {
    if (this.ownRequests != null) for (const r of this.ownRequests.values()) if (r.kind === kind) return true
    return false
  }

  private ownRequest (nowMs: number, to: Contact, m: DhtMessage, kind: OwnRequest['kind'], findId: number, out: Effects): void {
    const requestId = this.ids()
    const message = { ...m, requestId } as DhtMessage
    this.ownRequests ??= new DeadlineMap()
    this.ownRequests.set(requestId, { kind, findId, deadlineMs: nowMs + this.requestTimeoutFor(message), to: to.peerId })
    out.push({ type: 'send', to, message })
  }

  private ownAnswered (nowMs: number, requestId: number, from: Contact | undefined, senderRole: OverlayRole, m: DhtMessage | undefined, out: Effects): void {
    const r = this.ownRequests?.get(requestId)
    if (r == null) return
    this.ownRequests?.delete(requestId)
    if (r.kind === 'probe') {
      if (from != null && senderRole !== 'leaf' && this.dht != null) this.execDht(nowMs, this.dht.peerAuthenticated(nowMs, from), out)
      return
    }
    if (r.kind === 'discover') {
      const leaf = this.leaf
      if (leaf == null) return
      let named = 0
      const found: Contact[] = []
      if (from != null && senderRole !== 'leaf') found.push(from)
      if (m?.type === 'find-node-reply') { named = m.closer.length; for (const c of m.closer) { found.push(c); this.rememberServer(c) } }
      if (found.length > 0) this.execLeaf(nowMs, leaf.addCandidates(nowMs, found), out)
      if (named < this.options.k / 2 && this.discoveryRetriesLeft > 0 && leaf.attachedCount < (this.options.leaf.targetAttachments ?? 3)) {
        const o = this.options
        const delayMs = o.discoveryRetryMs * 2 ** (o.discoveryRetries - this.discoveryRetriesLeft) * (0.5 + this.random())
        this.discoveryRetriesLeft--
        this.nextRefreshAtMs = Math.min(this.nextRefreshAtMs, nowMs + delayMs)
      }
      return
    }
    const f = this.finds?.get(r.findId)
    if (f == null) return
    if (m?.type === 'query-reply') for (const c of m.providers) if (c.peerId !== this.self.peerId) f.found.set(c.peerId, c)
    if (--f.forwardsLeft <= 0) this.answerFind(r.findId, out)
  }

  // ---- finds -------------------------------------------------------------------

  private leafQuery (nowMs: number, findId: number, out: Effects): void {
    const f = this.finds?.get(findId)
    if (f == null || this.leaf == null) return
    const q = this.leaf.query(nowMs, f.key)
    this.leafQueries ??= new Map()
    this.leafQueries.set(q.queryId, findId)
    this.execLeaf(nowMs, q.effects, out)
  }

  private memberFind (nowMs: number, findId: number, out: Effects): void {
    const f = this.finds?.get(findId) as Find
    for (const c of this.index?.localProviders(this.self, f.key) ?? []) if (c.peerId !== this.self.peerId) f.found.set(c.peerId, c)
    const cached = this.announcerCache?.get(nowMs, f.key)
    if (cached !== undefined) this.forwardFind(nowMs, findId, cached, out)
    else if (!this.startLookup(nowMs, f.key, findId, 0, out)) this.answerFind(findId, out)
  }

  private startLookup (nowMs: number, key: Key, findId: number, token: number, out: Effects): boolean {
    if (this.dht == null) return false
    try {
      const l = this.dht.getProviders(nowMs, key)
      this.lookups ??= new Map()
      this.lookups.set(l.lookupId, { findId, token, key, startMs: nowMs })
      out.push({ type: 'lookup-started', lookupId: l.lookupId, key })
      this.execDht(nowMs, l.effects, out)
      return true
    } catch (err) {
      if (!(err instanceof DhtBusyError)) throw err
      return false
    }
  }

  private answerFind (findId: number, out: Effects): void {
    const f = this.finds?.get(findId)
    if (f == null) return
    this.stopAttachWait(f)
    this.finds?.delete(findId)
    out.push({ type: 'providers-found', findId, key: f.key, providers: this.rankFor(this.host.selfPlace(), [...f.found.values()]) })
  }

  private stopAttachWait (f: Find): void {
    if (f.attachDeadlineMs === undefined) return
    f.attachDeadlineMs = undefined
    this.findsWaitingAttach--
  }

  private answerAllFinds (out: Effects): void {
    if (this.finds == null) return
    for (const id of [...this.finds.keys()]) this.answerFind(id, out)
  }

  /** Announcers to ask, nearest first, with an origin seeder among the first maxForwardQueries. */
  private forwardOrder (providers: readonly Contact[]): Contact[] {
    const ranked = this.rankFor(this.host.selfPlace(), providers.filter(c => c.peerId !== this.self.peerId))
    const n = this.options.maxForwardQueries
    const at = ranked.findIndex(c => c.origin === true)
    if (at >= n) { const [o] = ranked.splice(at, 1); ranked.splice(n - 1, 0, o) }
    return ranked
  }

  // ---- machines' effects -------------------------------------------------------

  private execDht (nowMs: number, effects: DhtEffect[], out: Effects): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send': out.push(e); break
        case 'penalize': this.penalize(e.peer, e.reason, out); break
        case 'lookup-providers': {
          // Forward a leaf's query to announcers as soon as the lookup names them.
          const w = this.lookups?.get(e.lookupId)
          if (w !== undefined && w.token !== 0 && this.index != null) this.execIndex(nowMs, this.index.providersSeen(nowMs, w.token, this.forwardOrder(e.providers)), out)
          break
        }
        case 'lookup-done': {
          for (const c of e.result.closest) this.rememberServer(c)
          if (e.purpose === 'bootstrap' && this.dht != null) {
            // Records stored while the table was empty reached nobody: announce again now that it is not.
            for (const k of this.dht.providedKeys()) this.queueProvide(k)
            this.drainProvides(nowMs, out)
          }
          if (e.purpose === 'provide' && e.announced === true && this.dht?.isProviding(e.target) === true) out.push({ type: 'announced', key: e.target })
          const w = this.lookups?.get(e.lookupId)
          if (w === undefined) break
          this.lookups?.delete(e.lookupId)
          out.push({ type: 'lookup-measured', lookupId: e.lookupId, key: w.key, hops: e.result.hops, latencyMs: nowMs - w.startMs, foundOthers: e.result.providers.some(c => c.peerId !== this.self.peerId) })
          const announcers = this.forwardOrder(e.result.providers)
          this.announcerCache?.set(nowMs, w.key, announcers)
          if (w.token !== 0) {
            if (this.index != null) this.execIndex(nowMs, this.index.providersFound(nowMs, w.token, announcers), out)
          } else this.forwardFind(nowMs, w.findId, announcers, out)
          break
        }
      }
    }
  }

  /** A member's find: ask the first announcers for their holders (records are aggregated: one per supernode for all its leaves). */
  private forwardFind (nowMs: number, findId: number, announcers: readonly Contact[], out: Effects): void {
    const f = this.finds?.get(findId)
    if (f == null) return
    const targets = announcers.slice(0, this.options.maxForwardQueries)
    f.forwardsLeft = targets.length
    if (targets.length === 0) { this.answerFind(findId, out); return }
    for (const t of targets) this.ownRequest(nowMs, t, { type: 'query', requestId: 0, key: f.key, localOnly: true }, 'forward', findId, out)
  }

  private execIndex (nowMs: number, effects: SupernodeEffect[], out: Effects): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send': out.push(e); break
        case 'penalize': this.penalize(e.peer, e.reason, out); break
        case 'dht-provide': this.queueProvide(e.key); this.drainProvides(nowMs, out); break
        case 'dht-unprovide':
          this.pendingProvides?.delete(keyToHex(e.key))
          if (this.dht?.isProviding(e.key) === true) out.push({ type: 'withdrawn', key: e.key })
          this.dht?.unprovide(e.key)
          break
        case 'dht-get-providers': {
          const cached = this.announcerCache?.get(nowMs, e.key)
          if (cached !== undefined && this.index != null) this.execIndex(nowMs, this.index.providersFound(nowMs, e.token, cached), out)
          else if (!this.startLookup(nowMs, e.key, 0, e.token, out) && this.index != null) this.execIndex(nowMs, this.index.providersFound(nowMs, e.token, []), out)
          break
        }
      }
    }
  }

  private execLeaf (nowMs: number, effects: LeafEffect[], out: Effects): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send': out.push(e); break
        case 'attached':
          this.rememberServer(e.supernode)
          out.push(e)
          if (!this.discoveredViaAttached) {
            // Ask the first supernode for the servers nearest our id: candidates spread over the whole tier.
            this.discoveredViaAttached = true
            this.discover(nowMs, e.supernode, out)
          }
          if (this.finds != null) for (const [id, f] of this.finds) if (f.attachDeadlineMs !== undefined) { this.stopAttachWait(f); this.leafQuery(nowMs, id, out) }
          break
        case 'detached': out.push(e); break
        case 'query-done': {
          const findId = this.leafQueries?.get(e.queryId)
          if (findId === undefined) break
          this.leafQueries?.delete(e.queryId)
          const f = this.finds?.get(findId)
          if (f != null) for (const c of e.providers) if (c.peerId !== this.self.peerId) f.found.set(c.peerId, c)
          this.answerFind(findId, out)
          break
        }
        case 'promote-self':
          this.checkPolicy(nowMs, e.reason, out)
          this.nextRefreshAtMs = Math.min(this.nextRefreshAtMs, nowMs + 1000)
          break
      }
    }
  }

  private penalize (peer: string, reason: string, out: Effects): void {
    this.knownServers?.delete(peer)
    this.announcerCache?.forget(peer)
    out.push({ type: 'penalize', peer, reason })
  }

  private queueProvide (key: Key): void {
    this.pendingProvides ??= new Map()
    this.pendingProvides.set(keyToHex(key), key)
  }

  private drainProvides (nowMs: number, out: Effects): void {
    const pending = this.pendingProvides
    if (pending == null || pending.size === 0) return
    if (this.dht == null) { pending.clear(); return }
    if (nowMs < this.provideRetryAtMs) return
    let started = 0
    for (const [hex, key] of pending) {
      if (started >= this.options.providesPerRound) break
      try {
        const r = this.dht.provide(nowMs, key)
        this.execDht(nowMs, r.effects, out)
        // A recent announcement's records are still live.
        if (r.lookupId === undefined) out.push({ type: 'announced', key })
      } catch (err) { if (err instanceof DhtBusyError) break; throw err }
      pending.delete(hex)
      started++
    }
    this.provideRetryAtMs = nowMs + this.options.provideRoundMs
  }

  // ---- contacts and ranking ----------------------------------------------------

  private rememberServer (c: Contact): void {
    const max = this.options.maxKnownServers
    if (max === 0 || c.peerId === this.self.peerId) return
    this.knownServers ??= new Map()
    this.knownServers.delete(c.peerId)
    this.knownServers.set(c.peerId, c)
    if (this.knownServers.size > max) {
      const oldest = this.knownServers.keys().next().value
      if (oldest !== undefined) this.knownServers.delete(oldest)
    }
  }

  private rankFor (self: PeerPlace, contacts: Contact[]): Contact[] {
    const host = this.host
    const cands: Array<RankCandidate & { c: Contact }> = contacts.map(c => { const p = host.placeOf(c); return { address: p.address, asn: p.asn, tieKey: p.tieKey, cost: host.altoCost?.(self.address, p.address), c } })
    return rankPeers(self, cands, { proximity: this.options.proximity, rtt: false }).map(x => x.c)
  }

  /** Leaf attachment order: nearest supernodes first, origin seeders last (their upload is for content). */
  private rankSupernodes (contacts: Contact[]): Contact[] {
    const ranked = this.rankFor(this.host.selfPlace(), contacts)
    // Usually no origin is among them: the ranking stands as it is (this runs whenever a leaf learns supernodes).
    if (!ranked.some(c => c.origin === true)) return ranked
    return [...ranked.filter(c => c.origin !== true), ...ranked.filter(c => c.origin === true)]
  }
}
