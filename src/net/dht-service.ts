/**
 * The overlay runtime: drives the pure DHT and tier machines of src/core
 * over libp2p (DhtRpc), and offers the API downloaders use —
 * `findProviders`, `announce`, `withdraw` — plus events and a status.
 *
 * Rules (docs/ARCHITECTURE.md, "Driver checklist" and "Overlay binding"):
 * - One request-id counter per service, shared by every machine and by the
 *   driver's own requests (leaf discovery, provider queries).
 * - A leaf runs LeafAttachment only and does not answer DHT streams; a
 *   supernode or seeder runs DhtNode + SupernodeIndex and answers them.
 *   `role: 'auto'` starts as a leaf and asks SupernodePolicy every
 *   `policyIntervalMs` and on `promote-self`.
 * - A peer enters the DHT routing table (peerAuthenticated) only over an
 *   authenticated libp2p connection (Noise) AND when it is a DHT server:
 *   it declared supernode/seeder in a frame it sent us, or identify shows
 *   it handling the DHT protocol.
 * - Every input is followed by re-arming ONE timer at the earliest
 *   `nextDeadlineMs()` of the machines and of the driver's housekeeping.
 * - Effects: send → DhtRpc (responses go back on the stream the request
 *   came in on); failures → rpcFailed; penalize → hang up and event;
 *   lookup-done → the waiting findProviders, or the index's providersFound;
 *   dht-provide / dht-unprovide → DhtNode.
 * - Providers returned by findProviders are ranked with rankPeers by
 *   proximity to this peer (AS from the AsnResolver, shared prefix), unless
 *   `proximity: false`.
 */
import { randomInt } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import type { PeerId } from '@libp2p/interface'
import type { SwarmNode } from './swarm-node.js'
import { DhtRpc, DhtRpcError, type DhtRpcInit } from './dht-rpc.js'
import { keyOfPeerId, type DhtFrameContent } from './dht-codec.js'
import { DHT_PROTOCOL } from './protocol-ids.js'
import { DhtBusyError, DhtNode, requestIdCounter, type DhtEffect, type DhtNodeInit, type LookupDoneEffect, type RequestIdSource } from '../core/dht/dht-node.js'
import { prefixRegionOf, type Contact } from '../core/dht/contact.js'
import type { LookupResult } from '../core/dht/lookup.js'
import { LeafAttachment, type LeafAttachmentInit, type LeafEffect } from '../core/tier/leaf-attachment.js'
import { SupernodeIndex, type SupernodeEffect, type SupernodeIndexInit } from '../core/tier/supernode-index.js'
import { SupernodePolicy, type OverlayRole, type SupernodePolicyInit } from '../core/tier/supernode-policy.js'
import { isDhtRequest, MAX_ADDRS_PER_CONTACT, type DhtMessage } from '../core/messages/dht-messages.js'
import { keyToHex, type Key } from '../core/ids.js'
import { contentKey, parseContentId, type ContentId } from '../core/content/content-id.js'
import { AsnResolver } from '../core/proximity/asn-resolver.js'
import { rankPeers, peerTieKey, type PeerPlace, type RankCandidate } from '../core/proximity/peer-ranking.js'
import { ipOfMultiaddr, pickPublicAddress } from '../core/proximity/public-address.js'
import { addressScope, formatIpAddress, type IpAddress } from '../core/proximity/ip-address.js'

/** Role requested for a peer: a fixed one, or `auto` (start as leaf, let SupernodePolicy decide). */
export type OverlayRoleSetting = OverlayRole | 'auto'

/** One provider of an item, as findProviders returns it (nearest first). */
export interface ProviderInfo {
  /** libp2p peer id string. */
  peerId: string
  /** Where to dial it (multiaddr strings without /p2p/; dial with the peer id). */
  multiaddrs: string[]
  /** It declared itself an origin seeder (holds every item of its publisher; use as the fallback). */
  origin: boolean
  /** AS number of its first address by our prefix table; 0 when unknown. */
  asn: number
}

/** What `status()` reports. */
export interface OverlayStatus {
  peerId: string
  role: OverlayRole
  /** Supernodes this peer is attached to (leaves only). */
  attached: Array<{ peerId: string, multiaddrs: string[] }>
  /** Contacts in the DHT routing table (supernodes and seeders only). */
  routingTableSize: number
  /** Leaves attached to this peer (supernodes and seeders only). */
  leaves: number
  /** Items this peer announces. */
  itemsHeld: number
  /** This peer's address as used for proximity, and its AS (0 = unknown). */
  publicAddress: string | undefined
  asn: number
}

/** Events of an OverlayService (`noun:verb`, detail objects are plain JSON). */
export interface OverlayEvents {
  'role:changed': CustomEvent<{ role: OverlayRole, previous: OverlayRole | undefined, reason: string }>
  'supernode:attached': CustomEvent<{ peerId: string, multiaddrs: string[] }>
  'supernode:detached': CustomEvent<{ peerId: string, reason: string }>
  'provider:announced': CustomEvent<{ contentId: ContentId }>
  'provider:withdrawn': CustomEvent<{ contentId: ContentId }>
  'providers:found': CustomEvent<{ contentId: ContentId, providers: number, origins: number }>
  'peer:penalized': CustomEvent<{ peerId: string, reason: string }>
  'overlay:error': CustomEvent<{ message: string }>
}

/** Options of an OverlayService; every field optional. */
export interface OverlayInit {
  /** Role. Default 'auto' (leaf until SupernodePolicy promotes it). */
  role?: OverlayRoleSetting
  /** Bootstrap multiaddrs, each ending in /p2p/PEER_ID (supernodes or seeders). Default none. */
  bootstrap?: string[]
  /** Our public IP as configured (`--public-ip`); otherwise identify's observed addresses, then our listen addresses. */
  publicIp?: string
  /** Address → AS for proximity ranking. Default: an empty table (every AS unknown, ranking by shared prefix). */
  asnResolver?: AsnResolver
  /** Rank providers and supernodes by proximity. Default true. */
  proximity?: boolean
  /** Time any DHT/tier request has to answer, in ms (core and stream). Default 5000. */
  requestTimeoutMs?: number
  /** Leaf keep-alive interval asked by supernodes (and the leaf's ceiling), in ms. Default 15 000. */
  keepAliveIntervalMs?: number
  /** Time a supernode spends resolving a leaf's query (DHT lookup + forwards) before answering with what it has, in ms. Default requestTimeoutMs. A leaf waits queryBudgetMs + requestTimeoutMs for the answer, so its own timeout never fires first. */
  queryBudgetMs?: number
  /** Supernodes/seeders asked (localOnly) per query after the DHT lookup. Default 8. */
  maxForwardQueries?: number
  /** How often a leaf short of supernodes, or a DHT member with a thin table, looks for more, in ms. Default 30 000. */
  refreshIntervalMs?: number
  /** How often `role: 'auto'` consults SupernodePolicy, in ms. Default 5 min. */
  policyIntervalMs?: number
  /** Thresholds of SupernodePolicy (random is supplied). */
  policy?: Omit<SupernodePolicyInit, 'random'>
  /** Whether others can dial us, for promotion. Default: true when our address is public or `publicIp` is set. */
  reachable?: boolean
  /** Upload not used by transfers, in bytes/s, for promotion. Default 1 MiB/s (the transfer layer may set it). */
  spareUploadBytesPerSec?: number
  /** Time findProviders waits for a leaf's first attachment, in ms. Default 10 000. */
  attachWaitMs?: number
  /** Overrides for DhtNode (k, alpha, republish, rate limits). */
  dht?: Omit<DhtNodeInit, 'self' | 'nextRequestId'>
  /** Overrides for LeafAttachment (jitter, backoff). */
  leaf?: Omit<LeafAttachmentInit, 'self' | 'random' | 'nextRequestId' | 'queryTimeoutMs'>
  /** Overrides for SupernodeIndex (maxLeaves, timeouts). */
  index?: Omit<SupernodeIndexInit, 'self' | 'nextRequestId'>
  /** Stream limits of the DHT protocol. */
  rpc?: Omit<DhtRpcInit, 'requestTimeoutMs'>
  /** Uniform random in [0, 1). Default crypto-based. */
  random?: () => number
}

/** Thrown by findProviders when the overlay is stopped or not started. */
export class OverlayStoppedError extends Error {
  override name = 'OverlayStoppedError'
  readonly code = 'ERR_OVERLAY_STOPPED'
}

/** Items one peer may announce; more are refused (the core caps leaves at 100 000 keys too). */
export const MAX_HELD_ITEMS = 100_000
/** DHT servers remembered by the driver for leaf candidates and region counts. */
export const MAX_KNOWN_SERVERS = 256
/** Observed addresses kept from identify for pickPublicAddress. */
export const MAX_OBSERVED = 64
/** Provider announcements started per housekeeping round while the DHT is busy. */
const PROVIDES_PER_ROUND = 16

type Effect = DhtEffect | SupernodeEffect | LeafEffect

function cryptoRandom (): number { return randomInt(0, 2 ** 47) / 2 ** 47 }

function stripP2p (addr: string): string { return addr.replace(/\/p2p\/[^/]+$/, '') }

/** Parses a bootstrap multiaddr (must end in /p2p/PEER_ID) into a contact. */
export function contactOfMultiaddr (addr: string): Contact {
  const ma = multiaddr(addr)
  const peerId = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (peerId == null) throw new TypeError(`bootstrap address needs /p2p/PEER_ID: ${addr}`)
  return { id: keyOfPeerId(peerId), peerId, addrs: [stripP2p(addr)] }
}

/** The overlay of one peer: DHT + supernode tier over libp2p, and the provider API. */
export class OverlayService extends TypedEventEmitter<OverlayEvents> {
  private readonly init: OverlayInit
  private readonly setting: OverlayRoleSetting
  private readonly requestTimeoutMs: number
  private readonly keepAliveIntervalMs: number
  private readonly queryBudgetMs: number
  private readonly queryTimeoutMs: number
  private readonly maxForwardQueries: number
  private readonly refreshIntervalMs: number
  private readonly policyIntervalMs: number
  private readonly attachWaitMs: number
  private readonly proximity: boolean
  private readonly resolver: AsnResolver
  private readonly random: () => number
  private readonly policy: SupernodePolicy
  private readonly ids: RequestIdSource = requestIdCounter()
  private readonly rpc: DhtRpc
  private readonly bootstrapContacts: Contact[]
  private readonly selfId: Key
  private currentRole: OverlayRole | undefined
  private dht: DhtNode | undefined
  private index: SupernodeIndex | undefined
  private leaf: LeafAttachment | undefined
  private readonly held = new Map<string, { key: Key, contentId: ContentId }>()
  private readonly knownServers = new Map<string, Contact>()
  private readonly observed: string[] = []
  private readonly inboundWaiters = new Map<string, (m: DhtMessage | undefined) => void>()
  private readonly lookupWaiters = new Map<number, (r: LookupResult | undefined) => void>()
  private readonly indexLookups = new Map<number, number>()
  private readonly queryWaiters = new Map<number, (providers: Contact[]) => void>()
  private readonly attachWaiters = new Set<() => void>()
  private readonly pendingProvides = new Map<string, Key>()
  private timer: NodeJS.Timeout | undefined
  private timerAtMs: number | undefined
  private nextRefreshAtMs = 0
  private nextPolicyAtMs = 0
  private upSinceMs = 0
  private roleSinceMs = 0
  private running = false
  private discovering = false
  private readonly listeners: Array<[string, (e: Event) => void]> = []

  constructor (readonly node: SwarmNode, init: OverlayInit = {}) {
    super()
    this.setting = init.role ?? 'auto'
    this.requestTimeoutMs = init.requestTimeoutMs ?? 5000
    this.keepAliveIntervalMs = init.keepAliveIntervalMs ?? 15_000
    // A supernode answers a leaf's query after at most its budget; the leaf
    // waits that plus one request time. A budget below one request time
    // (it was 0.6 x) cannot fit a DHT lookup round plus a forward on a busy
    // host, and the supernode then answered with nothing.
    this.queryBudgetMs = init.queryBudgetMs ?? this.requestTimeoutMs
    this.queryTimeoutMs = this.queryBudgetMs + this.requestTimeoutMs
    this.maxForwardQueries = init.maxForwardQueries ?? 8
    this.refreshIntervalMs = init.refreshIntervalMs ?? 30_000
    this.policyIntervalMs = init.policyIntervalMs ?? 5 * 60_000
    this.attachWaitMs = init.attachWaitMs ?? 10_000
    this.proximity = init.proximity !== false
    this.resolver = init.asnResolver ?? new AsnResolver()
    this.random = init.random ?? cryptoRandom
    this.policy = new SupernodePolicy({ ...init.policy, random: this.random })
    this.init = init
    this.selfId = keyOfPeerId(node.peerId.toString())
    this.bootstrapContacts = (init.bootstrap ?? []).map(contactOfMultiaddr).filter(c => c.peerId !== node.peerId.toString())
    this.rpc = new DhtRpc(node, {
      onRequest: async (remote, request, signal) => await this.onRequest(remote, request, signal),
      onViolation: (peerId, reason) => { this.violation(peerId, reason) }
    }, { ...init.rpc, requestTimeoutMs: this.requestTimeoutMs, inboundTimeoutMs: init.rpc?.inboundTimeoutMs ?? this.queryTimeoutMs })
  }

  /** The current role (undefined before start). */
  get role (): OverlayRole { return this.currentRole ?? 'leaf' }

  /** Joins the overlay: takes the configured role and bootstraps. */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    const now = this.now()
    this.upSinceMs = now
    this.nextPolicyAtMs = now + this.policyIntervalMs
    this.on('peer:disconnect', (e: CustomEvent<PeerId>) => {
      const id = e.detail.toString()
      this.dht?.peerDisconnected(keyOfPeerId(id))
      this.input(nowMs => [...(this.leaf?.peerDisconnected(nowMs, id) ?? []), ...(this.index?.peerDisconnected(nowMs, id) ?? [])])
    })
    this.on('peer:identify', (e: CustomEvent<{ peerId: PeerId, listenAddrs: Array<{ toString: () => string }>, protocols: string[], observedAddr?: { toString: () => string } }>) => {
      const r = e.detail
      if (r.observedAddr != null) {
        this.observed.push(r.observedAddr.toString())
        if (this.observed.length > MAX_OBSERVED) this.observed.shift()
      }
      if (!r.protocols.includes(DHT_PROTOCOL)) return
      const peerId = r.peerId.toString()
      const known = this.knownServers.get(peerId)
      if (known != null) { this.input(nowMs => this.dht?.peerAuthenticated(nowMs, known) ?? []); return }
      // Identify says "DHT server" but not supernode or origin seeder: a ping's answer frame tells, then it enters the table.
      const addrs = r.listenAddrs.map(a => stripP2p(a.toString())).slice(0, MAX_ADDRS_PER_CONTACT)
      if (this.dht != null) this.probeServer({ id: keyOfPeerId(peerId), peerId, addrs })
    })
    await this.setRole(this.setting === 'auto' ? 'leaf' : this.setting, 'configured')
  }

  /** Leaves the overlay: stops timers and RPCs (the libp2p node is the caller's to stop). */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    if (this.timer != null) clearTimeout(this.timer)
    for (const [name, fn] of this.listeners) this.node.removeEventListener(name as 'peer:disconnect', fn)
    this.listeners.length = 0
    for (const w of this.attachWaiters) w()
    for (const w of this.queryWaiters.values()) w([])
    for (const w of this.lookupWaiters.values()) w(undefined)
    for (const w of this.inboundWaiters.values()) w(undefined)
    await this.rpc.stop()
  }

  /** Announces that this peer holds `contentId` (call after an item is complete and verified). */
  announce (contentId: ContentId): void {
    const id = parseContentId(contentId)
    const key = contentKey(id)
    const hex = keyToHex(key)
    if (this.held.has(hex)) return
    if (this.held.size >= MAX_HELD_ITEMS) throw new RangeError(`a peer announces at most ${MAX_HELD_ITEMS} items`)
    this.held.set(hex, { key, contentId: id })
    this.input(nowMs => this.holdEffects(nowMs, key))
    this.emit('provider:announced', { contentId: id })
  }

  /** Withdraws an announcement (the item was deleted). */
  withdraw (contentId: ContentId): void {
    const id = parseContentId(contentId)
    const key = contentKey(id)
    if (!this.held.delete(keyToHex(key))) return
    this.input(nowMs => [...(this.leaf?.drop(nowMs, key) ?? []), ...(this.index?.dropSelf(key) ?? [])])
    this.emit('provider:withdrawn', { contentId: id })
  }

  /**
   * Finds peers that hold `contentId`, nearest first. A leaf asks its
   * supernodes (waiting up to `attachWaitMs` for a first attachment); a
   * supernode or seeder looks the key up in the DHT and asks the
   * announcing supernodes for their leaves. Never includes this peer.
   * Resolves [] when nothing is found; rejects only on abort or stop.
   */
  async findProviders (contentId: ContentId, options: { signal?: AbortSignal } = {}): Promise<ProviderInfo[]> {
    if (!this.running) throw new OverlayStoppedError('overlay not running')
    const id = parseContentId(contentId)
    const key = contentKey(id)
    const signal = options.signal
    signal?.throwIfAborted()
    let contacts: Contact[]
    if (this.leaf != null) {
      if (this.leaf.attached().length === 0) await this.waitAttached(signal)
      contacts = await this.leafQuery(key, signal)
    } else {
      contacts = await this.serverFind(key, signal)
    }
    const self = this.node.peerId.toString()
    const unique = new Map<string, Contact>()
    for (const c of contacts) if (c.peerId !== self && !unique.has(c.peerId)) unique.set(c.peerId, c)
    const ranked = this.rankFor(this.selfPlace(), [...unique.values()])
    const out = ranked.map(c => ({ peerId: c.peerId, multiaddrs: [...c.addrs], origin: c.origin === true, asn: this.asnOf(c) }))
    this.emit('providers:found', { contentId: id, providers: out.length, origins: out.filter(p => p.origin).length })
    return out
  }

  /** A snapshot for `swarmcdn status` and the peer's JSON events. */
  status (): OverlayStatus {
    const place = this.selfPlace()
    return {
      peerId: this.node.peerId.toString(),
      role: this.role,
      attached: (this.leaf?.attached() ?? []).map(c => ({ peerId: c.peerId, multiaddrs: c.addrs })),
      routingTableSize: this.dht?.table.size ?? 0,
      leaves: this.index?.leafCount ?? 0,
      itemsHeld: this.held.size,
      publicAddress: place.address != null ? formatIpAddress(place.address) : undefined,
      asn: place.asn
    }
  }

  /** Switches role now (tests, policy); re-announces held items in the new role. */
  async setRole (role: OverlayRole, reason: string): Promise<void> {
    const previous = this.currentRole
    if (previous === role) return
    const nowMs = this.now()
    // What the old role knew about DHT servers seeds the new one.
    for (const c of this.dht?.table.toArray() ?? []) this.rememberServer(c)
    for (const c of this.leaf?.attached() ?? []) this.rememberServer(c)
    if (this.dht != null) for (const k of this.dht.providedKeys()) this.dht.unprovide(k)
    this.dht = undefined
    this.index = undefined
    this.leaf = undefined
    this.currentRole = role
    this.roleSinceMs = nowMs
    this.pendingProvides.clear()
    const self = this.selfContact()
    if (role === 'leaf') {
      await this.rpc.unlisten()
      this.leaf = new LeafAttachment({
        keepAliveIntervalMs: this.keepAliveIntervalMs,
        requestTimeoutMs: this.requestTimeoutMs,
        ...this.init.leaf,
        queryTimeoutMs: this.queryTimeoutMs,
        self,
        random: this.random,
        nextRequestId: this.ids,
        rank: cands => this.rankSupernodes(cands)
      })
    } else {
      this.dht = new DhtNode({ requestTimeoutMs: this.requestTimeoutMs, ...this.init.dht, self, nextRequestId: this.ids })
      const dht = this.dht
      this.index = new SupernodeIndex({
        keepAliveIntervalMs: this.keepAliveIntervalMs,
        requestTimeoutMs: this.requestTimeoutMs,
        queryBudgetMs: this.queryBudgetMs,
        maxForwardQueries: this.maxForwardQueries,
        ...this.init.index,
        self,
        nextRequestId: this.ids,
        alternatives: leaf => dht.table.closest(leaf.id, 20),
        rank: (asker, cands) => this.rankFor(this.placeOf(asker), cands)
      })
      await this.rpc.listen()
    }
    this.emit('role:changed', { role, previous, reason })
    this.input(now => {
      const out: Effect[] = []
      for (const h of this.held.values()) out.push(...this.holdEffects(now, h.key))
      out.push(...this.join(now))
      return out
    })
  }

  // ---- inputs ------------------------------------------------------------

  private now (): number { return Math.floor(performance.now()) }

  /** Feeds one input to the machines, performs the effects, re-arms the timer. */
  private input (fn: (nowMs: number) => Effect[]): void {
    if (!this.running) return
    const nowMs = this.now()
    this.exec(nowMs, fn(nowMs))
    this.arm()
  }

  private async onRequest (remote: PeerId, request: DhtFrameContent, signal: AbortSignal): Promise<DhtFrameContent | undefined> {
    if (!this.running || this.dht == null || this.index == null) return undefined
    const peerId = remote.toString()
    const from = this.contactOf(peerId, request.senderAddrs, request.senderRole)
    const m = request.message
    const waitKey = `${peerId} ${m.requestId}`
    if (this.inboundWaiters.has(waitKey)) return undefined
    let answer: DhtMessage | undefined
    const answered = new Promise<DhtMessage | undefined>(resolve => {
      this.inboundWaiters.set(waitKey, msg => { answer = msg; resolve(msg) })
      signal.addEventListener('abort', () => { resolve(undefined) }, { once: true })
    })
    this.input(nowMs => {
      const out: Effect[] = []
      if (request.senderRole !== 'leaf' && this.dht != null) {
        this.rememberServer(from)
        out.push(...this.dht.peerAuthenticated(nowMs, from))
      }
      out.push(...(this.dht?.handleMessage(nowMs, from, m) ?? []), ...(this.index?.handleMessage(nowMs, from, m) ?? []))
      return out
    })
    // Only a leaf's query may be answered later (after a DHT lookup); anything else unanswered now never will be.
    if (answer === undefined && m.type !== 'query') { this.inboundWaiters.delete(waitKey); return undefined }
    try {
      const msg = await answered
      return msg == null ? undefined : this.frame(msg)
    } finally {
      this.inboundWaiters.delete(waitKey)
    }
  }

  private violation (peerId: string, reason: string): void {
    this.emit('overlay:error', { message: `protocol violation by ${peerId}: ${reason}` })
    this.input(nowMs => this.dht?.protocolViolation(nowMs, peerId, reason) ?? [])
  }

  private tick (): void {
    this.timer = undefined
    this.timerAtMs = undefined
    this.input(nowMs => {
      const out: Effect[] = [
        ...(this.dht?.handleTimeout(nowMs) ?? []),
        ...(this.index?.handleTimeout(nowMs) ?? []),
        ...(this.leaf?.handleTimeout(nowMs) ?? [])
      ]
      if (nowMs >= this.nextRefreshAtMs) out.push(...this.join(nowMs))
      out.push(...this.drainProvides(nowMs))
      if (this.setting === 'auto' && nowMs >= this.nextPolicyAtMs) {
        this.nextPolicyAtMs = nowMs + this.policyIntervalMs
        this.checkPolicy(nowMs, 'periodic check')
      }
      return out
    })
  }

  private arm (): void {
    if (!this.running) return
    let at = this.nextRefreshAtMs
    const consider = (t: number | undefined): void => { if (t !== undefined && t < at) at = t }
    consider(this.dht?.nextDeadlineMs())
    consider(this.index?.nextDeadlineMs())
    consider(this.leaf?.nextDeadlineMs())
    if (this.setting === 'auto') consider(this.nextPolicyAtMs)
    if (this.pendingProvides.size > 0) consider(this.now() + 100)
    if (this.timer != null && this.timerAtMs !== undefined && this.timerAtMs <= at) return
    if (this.timer != null) clearTimeout(this.timer)
    this.timerAtMs = at
    this.timer = setTimeout(() => { this.tick() }, Math.max(0, Math.min(at - this.now(), 2 ** 31 - 1)))
    this.timer.unref()
  }

  // ---- effects -----------------------------------------------------------

  private exec (nowMs: number, effects: Effect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send': this.send(e.to, e.message); break
        case 'penalize': this.penalize(e.peer, e.reason); break
        case 'lookup-done': this.lookupDone(nowMs, e); break
        case 'lookup-providers': {
          const token = this.indexLookups.get(e.lookupId)
          if (token !== undefined) this.exec(nowMs, this.index?.providersSeen(nowMs, token, this.forwardOrder(e.providers)) ?? [])
          break
        }
        case 'dht-provide': this.pendingProvides.set(keyToHex(e.key), e.key); this.exec(nowMs, this.drainProvides(nowMs)); break
        case 'dht-unprovide': this.pendingProvides.delete(keyToHex(e.key)); this.dht?.unprovide(e.key); break
        case 'dht-get-providers': {
          if (this.dht == null || this.index == null) break
          try {
            const { lookupId, effects: more } = this.dht.getProviders(nowMs, e.key)
            this.indexLookups.set(lookupId, e.token)
            this.exec(nowMs, more)
          } catch (err) {
            if (!(err instanceof DhtBusyError)) throw err
            this.exec(nowMs, this.index.providersFound(nowMs, e.token, []))
          }
          break
        }
        case 'attached':
          this.rememberServer(e.supernode)
          for (const w of this.attachWaiters) w()
          this.attachWaiters.clear()
          this.emit('supernode:attached', { peerId: e.supernode.peerId, multiaddrs: e.supernode.addrs })
          break
        case 'detached': this.emit('supernode:detached', { peerId: e.supernode.peerId, reason: e.reason }); break
        case 'query-done': {
          const w = this.queryWaiters.get(e.queryId)
          this.queryWaiters.delete(e.queryId)
          w?.(e.providers)
          break
        }
        case 'promote-self':
          if (this.setting === 'auto') this.checkPolicy(nowMs, e.reason)
          this.nextRefreshAtMs = Math.min(this.nextRefreshAtMs, nowMs)
          break
      }
    }
  }

  private send (to: Contact, message: DhtMessage): void {
    if (!isDhtRequest(message)) {
      this.inboundWaiters.get(`${to.peerId} ${message.requestId}`)?.(message)
      return
    }
    // A leaf's query is resolved by the supernode (lookup + forwards) before it answers: it gets the longer wait.
    const timeoutMs = message.type === 'query' && message.localOnly !== true ? this.queryTimeoutMs : undefined
    void this.rpc.request(to, this.frame(message), { timeoutMs }).then(response => {
      const from = this.contactOf(to.peerId, response.senderAddrs.length > 0 ? response.senderAddrs : to.addrs, response.senderRole)
      if (response.senderRole !== 'leaf') this.rememberServer(from)
      this.input(nowMs => this.dispatchResponse(nowMs, from, response.message))
    }, (err: Error) => {
      if (!(err instanceof DhtRpcError)) this.emit('overlay:error', { message: err.message })
      this.input(nowMs => [
        ...(this.dht?.rpcFailed(nowMs, message.requestId) ?? []),
        ...(this.index?.rpcFailed(nowMs, message.requestId) ?? []),
        ...(this.leaf?.rpcFailed(nowMs, message.requestId) ?? [])
      ])
    })
  }

  private dispatchResponse (nowMs: number, from: Contact, m: DhtMessage): Effect[] {
    if (this.dht?.ownsRequest(m.requestId) === true) return this.dht.handleMessage(nowMs, from, m)
    if (this.index?.ownsRequest(m.requestId) === true) return this.index.handleMessage(nowMs, from, m)
    if (this.leaf?.ownsRequest(m.requestId) === true) return this.leaf.handleMessage(nowMs, from, m)
    return []
  }

  private penalize (peerId: string, reason: string): void {
    this.emit('peer:penalized', { peerId, reason })
    this.knownServers.delete(peerId)
    void this.node.hangUp(peerIdFromString(peerId)).catch(() => {})
  }

  private lookupDone (nowMs: number, e: LookupDoneEffect): void {
    for (const c of e.result.closest) this.rememberServer(c)
    const token = this.indexLookups.get(e.lookupId)
    if (token !== undefined) {
      this.indexLookups.delete(e.lookupId)
      this.exec(nowMs, this.index?.providersFound(nowMs, token, this.forwardOrder(e.result.providers)) ?? [])
    }
    const w = this.lookupWaiters.get(e.lookupId)
    if (w != null) { this.lookupWaiters.delete(e.lookupId); w(e.result) }
    if (e.purpose === 'bootstrap' && this.dht != null) {
      // Records stored while the table was empty reached nobody: announce again now that it is not.
      for (const k of this.dht.providedKeys()) this.pendingProvides.set(keyToHex(k), k)
      this.exec(nowMs, this.drainProvides(nowMs))
    }
  }

  private drainProvides (nowMs: number): Effect[] {
    const dht = this.dht
    if (dht == null) { this.pendingProvides.clear(); return [] }
    const out: Effect[] = []
    let started = 0
    for (const [hex, key] of this.pendingProvides) {
      if (started >= PROVIDES_PER_ROUND) break
      try {
        out.push(...dht.provide(nowMs, key).effects)
      } catch (err) {
        if (err instanceof DhtBusyError) break
        throw err
      }
      this.pendingProvides.delete(hex)
      started++
    }
    return out
  }

  // ---- joining, discovery, policy ------------------------------------------

  /** Bootstrap (DHT member) or find supernodes (leaf); repeated every refreshIntervalMs while short. */
  private join (nowMs: number): Effect[] {
    this.nextRefreshAtMs = nowMs + this.refreshIntervalMs
    const seeds = this.seedContacts()
    if (this.dht != null) {
      if (this.dht.table.size >= 20 || seeds.length === 0) return []
      try { return this.dht.bootstrap(nowMs, seeds).effects } catch (err) { if (err instanceof DhtBusyError) return []; throw err }
    }
    if (this.leaf == null) return []
    const out = this.leaf.addCandidates(nowMs, [...this.knownServers.values()])
    if (this.leaf.attached().length < 3 && !this.discovering) void this.discover(seeds.slice(0, 3))
    return out
  }

  private seedContacts (): Contact[] {
    const byPeer = new Map<string, Contact>()
    for (const c of this.bootstrapContacts) byPeer.set(c.peerId, c)
    for (const c of this.knownServers.values()) if (!byPeer.has(c.peerId)) byPeer.set(c.peerId, c)
    byPeer.delete(this.node.peerId.toString())
    return [...byPeer.values()]
  }

  /**
   * A leaf asks a few DHT servers for the servers closest to it (its
   * supernode candidates) and hands all answers to the leaf at once, so the
   * first attachments are chosen from the whole picture, not the first reply.
   */
  private async discover (servers: Contact[]): Promise<void> {
    this.discovering = true
    try {
      const replies = await Promise.allSettled(servers.map(async server => {
        const r = await this.rpc.request(server, this.frame({ type: 'find-node', requestId: this.ids(), target: this.selfId }))
        const found: Contact[] = r.message.type === 'find-node-reply' ? [...r.message.closer] : []
        if (r.senderRole !== 'leaf') found.unshift(this.contactOf(server.peerId, r.senderAddrs.length > 0 ? r.senderAddrs : server.addrs, r.senderRole))
        return found
      }))
      const found = replies.flatMap(r => r.status === 'fulfilled' ? r.value : [])
      for (const c of found) this.rememberServer(c)
      this.input(nowMs => this.leaf?.addCandidates(nowMs, found) ?? [])
    } finally {
      this.discovering = false
    }
  }

  /** Pings a peer identify showed as a DHT server; its answer carries its role and addresses. */
  private probeServer (c: Contact): void {
    void this.rpc.request(c, this.frame({ type: 'ping', requestId: this.ids() })).then(r => {
      if (r.senderRole === 'leaf') return
      const from = this.contactOf(c.peerId, r.senderAddrs.length > 0 ? r.senderAddrs : c.addrs, r.senderRole)
      this.rememberServer(from)
      this.input(nowMs => this.dht?.peerAuthenticated(nowMs, from) ?? [])
    }, () => {})
  }

  private checkPolicy (nowMs: number, reason: string): void {
    const role = this.role
    const myRegion = this.regionOf(this.selfContact())
    let regionSupernodes = role === 'leaf' ? 0 : 1
    for (const c of this.knownServers.values()) if (c.origin !== true && this.regionOf(c) === myRegion) regionSupernodes++
    const regionLeaves = Math.max(1, (this.index?.leafCount ?? 0) + (role === 'leaf' ? 1 : 0))
    const place = this.selfPlace()
    const reachable = this.init.reachable ?? (this.init.publicIp != null || (place.address != null && addressScope(place.address) === 'public'))
    const d = this.policy.decide({
      nowMs,
      role,
      upSinceMs: this.upSinceMs,
      roleSinceMs: this.roleSinceMs,
      reachable,
      spareUploadBytesPerSec: this.init.spareUploadBytesPerSec ?? 1024 * 1024,
      regionSupernodes,
      regionLeaves
    })
    if (d.action === 'stay') return
    const next: OverlayRole = d.action === 'promote' ? 'supernode' : 'leaf'
    void this.setRole(next, `${reason}: ${d.reason}`).catch((err: Error) => { this.emit('overlay:error', { message: err.message }) })
  }

  // ---- providers ---------------------------------------------------------

  private async waitAttached (signal: AbortSignal | undefined): Promise<void> {
    await new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(t); this.attachWaiters.delete(done); signal?.removeEventListener('abort', done); resolve() }
      const t = setTimeout(done, this.attachWaitMs)
      this.attachWaiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
      if (this.leaf == null || this.leaf.attached().length > 0) done()
    })
    signal?.throwIfAborted()
  }

  private async leafQuery (key: Key, signal: AbortSignal | undefined): Promise<Contact[]> {
    const leaf = this.leaf
    if (leaf == null) return await this.serverFind(key, signal)
    return await new Promise<Contact[]>((resolve, reject) => {
      let queryId = -1
      const onAbort = (): void => { this.queryWaiters.delete(queryId); reject(signal?.reason) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.input(nowMs => {
        const q = leaf.query(nowMs, key)
        queryId = q.queryId
        this.queryWaiters.set(queryId, providers => { signal?.removeEventListener('abort', onAbort); resolve(providers) })
        return q.effects
      })
    })
  }

  private async serverFind (key: Key, signal: AbortSignal | undefined): Promise<Contact[]> {
    const dht = this.dht
    const index = this.index
    if (dht == null || index == null) return []
    const self = this.selfContact()
    const found = index.localProviders(self, key)
    const result = await new Promise<LookupResult | undefined>((resolve, reject) => {
      let lookupId = -1
      const onAbort = (): void => { this.lookupWaiters.delete(lookupId); reject(signal?.reason) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.input(nowMs => {
        try {
          const l = dht.getProviders(nowMs, key)
          lookupId = l.lookupId
          this.lookupWaiters.set(lookupId, r => { signal?.removeEventListener('abort', onAbort); resolve(r) })
          return l.effects
        } catch (err) {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
          return []
        }
      })
    })
    if (result == null) return found
    // DHT records are aggregated (one per supernode for all its leaves): ask each announcer for its holders.
    const announcers = this.forwardOrder(result.providers).filter(p => p.peerId !== self.peerId).slice(0, this.maxForwardQueries)
    const replies = await Promise.allSettled(announcers.map(async p => {
      const r = await this.rpc.request(p, this.frame({ type: 'query', requestId: this.ids(), key, localOnly: true }), { signal })
      return r.message.type === 'query-reply' ? r.message.providers : []
    }))
    for (const r of replies) if (r.status === 'fulfilled') found.push(...r.value)
    return found
  }

  /** Order in which DHT announcers are asked: nearest first, but one origin seeder always among the first maxForwardQueries. */
  private forwardOrder (providers: readonly Contact[]): Contact[] {
    const ranked = this.rankFor(this.selfPlace(), [...providers])
    const originAt = ranked.findIndex(c => c.origin === true)
    if (originAt >= this.maxForwardQueries) {
      const [o] = ranked.splice(originAt, 1)
      ranked.splice(this.maxForwardQueries - 1, 0, o)
    }
    return ranked
  }

  private holdEffects (nowMs: number, key: Key): Effect[] {
    return [...(this.leaf?.hold(nowMs, key) ?? []), ...(this.index?.holdSelf(key) ?? [])]
  }

  // ---- contacts, places, ranking -----------------------------------------

  private frame (message: DhtMessage): DhtFrameContent {
    return { message, senderRole: this.role, senderAddrs: this.selfContact().addrs }
  }

  private selfContact (): Contact {
    const peerId = this.node.peerId.toString()
    const addrs = this.node.getMultiaddrs().map(a => stripP2p(a.toString())).slice(0, MAX_ADDRS_PER_CONTACT)
    const c: Contact = { id: this.selfId, peerId, addrs }
    if (this.currentRole === 'seeder') c.origin = true
    return c
  }

  private contactOf (peerId: string, addrs: readonly string[], role: OverlayRole): Contact {
    const c: Contact = { id: keyOfPeerId(peerId), peerId, addrs: addrs.map(stripP2p).slice(0, MAX_ADDRS_PER_CONTACT) }
    if (role === 'seeder') c.origin = true
    return c
  }

  private rememberServer (c: Contact): void {
    if (c.peerId === this.node.peerId.toString()) return
    this.knownServers.delete(c.peerId)
    this.knownServers.set(c.peerId, c)
    if (this.knownServers.size > MAX_KNOWN_SERVERS) {
      const oldest = this.knownServers.keys().next().value
      if (oldest !== undefined) this.knownServers.delete(oldest)
    }
  }

  private addressOf (c: Contact): IpAddress | undefined {
    for (const a of c.addrs) { const ip = ipOfMultiaddr(a); if (ip != null) return ip }
    return undefined
  }

  private asnOf (c: Contact): number { return this.resolver.asnOf(this.addressOf(c)) }

  private regionOf (c: Contact): string {
    const asn = this.asnOf(c)
    return asn !== 0 ? `as${asn}` : (prefixRegionOf(c) ?? 'local')
  }

  private placeOf (c: Contact): PeerPlace {
    const address = this.addressOf(c)
    return { address, asn: this.resolver.asnOf(address), tieKey: peerTieKey(c.id, address) }
  }

  private selfPlace (): PeerPlace {
    // Observed addresses win only when public (learned through a NAT); otherwise
    // our own listen address says more (on loopback every outbound dial comes from 127.0.0.1).
    let address: IpAddress | undefined
    if (this.init.publicIp != null) address = pickPublicAddress([], { overrideIp: this.init.publicIp })
    else {
      const observed = pickPublicAddress(this.observed)
      address = observed != null && addressScope(observed) === 'public' ? observed : undefined
      address ??= pickPublicAddress(this.selfContact().addrs) ?? observed
    }
    return { address, asn: this.resolver.asnOf(address), tieKey: peerTieKey(this.selfId, address) }
  }

  private rankFor (self: PeerPlace, contacts: Contact[]): Contact[] {
    const cands: Array<RankCandidate & { c: Contact }> = contacts.map(c => ({ ...this.placeOf(c), c }))
    return rankPeers(self, cands, { proximity: this.proximity }).map(x => x.c)
  }

  /** Leaf attachment order: nearest supernodes first, origin seeders last (their upload is for content). */
  private rankSupernodes (contacts: Contact[]): Contact[] {
    const ranked = this.rankFor(this.selfPlace(), contacts)
    return [...ranked.filter(c => c.origin !== true), ...ranked.filter(c => c.origin === true)]
  }

  private on<K extends 'peer:disconnect' | 'peer:identify'> (name: K, fn: (e: any) => void): void {
    this.node.addEventListener(name, fn)
    this.listeners.push([name, fn])
  }

  private emit<K extends keyof OverlayEvents> (name: K, detail: OverlayEvents[K]['detail']): void {
    this.safeDispatchEvent(name, { detail })
  }
}
