/**
 * The swarmcdn peer in the simulator: per online node, the same src/core
 * objects the real peer runs (src/net/dht-service.ts is the twin driver),
 * and nothing else that decides protocol behaviour.
 *
 * Rules (the driver checklist of docs/ARCHITECTURE.md, plus content):
 * - Seeders and supernodes run DhtNode + SupernodeIndex; leaves run
 *   LeafAttachment only (no routing table). One requestIdCounter per node.
 *   Requests go to every machine the node has; responses to the machine
 *   that owns the request id, else to the driver's own requests
 *   (supernode discovery, localOnly provider queries).
 * - Roles: seeders and the scenario's `supernode` populations are fixed;
 *   `peer` populations start as leaves and SupernodePolicy decides
 *   promotion and demotion every `policyIntervalS` and on `promote-self`,
 *   from the online supernodes and leaves in the node's AS (the simulator
 *   knows them; the binding estimates them).
 * - Ranking everywhere (candidate supernodes, providers answered by a
 *   supernode, sources a downloader uses) is rankPeers over the placement's
 *   AS and address; `proximity: false` drops rules 1-2 for comparisons.
 * - A request: a leaf asks its supernodes (query → query-done); a DHT
 *   member runs getProviders and asks up to 3 announcers localOnly, as
 *   dht-service's serverFind. The nearest `maxSourcesPerDownload` providers
 *   and every origin seeder (the manifest names them; `isOrigin`, used as
 *   fallback by DownloadSession) become sources; pieces travel as fair-share
 *   transfers. A completed item is held (leaf.hold / index.holdSelf → DHT
 *   provide) and kept across restarts (it is on disk).
 * - Uploads: at most `uploadSlots` at once (seeders `seederUploadSlots`),
 *   then a FIFO of `uploadQueue` requests; beyond that, or for an item not
 *   held, `piece-reject`.
 */
import type { Rng } from '../engine/rng.js'
import { keyFromBytes, keyToHex, type Key } from '../../src/core/ids.js'
import type { Contact } from '../../src/core/dht/contact.js'
import { DhtBusyError, DhtNode, requestIdCounter, type DhtEffect, type RequestIdSource } from '../../src/core/dht/dht-node.js'
import { isDhtRequest, type DhtMessage } from '../../src/core/messages/dht-messages.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'
import { DownloadSession, type SessionEffect } from '../../src/core/swarm/download-session.js'
import { LeafAttachment, type LeafEffect } from '../../src/core/tier/leaf-attachment.js'
import { SupernodeIndex, type RankForAsker, type SupernodeEffect } from '../../src/core/tier/supernode-index.js'
import { SupernodePolicy, type OverlayRole } from '../../src/core/tier/supernode-policy.js'
import type { ProtocolFactory } from './kademlia-node.js'
import type { Effect, NodeAdapter, NodeAdapterFactory } from './node-adapter.js'
import type { SimObserver } from './observer.js'
import type { ProtocolHost } from './protocol-host.js'
import type { SimDirectory } from './sim-directory.js'
import { simMessageBytes, type SimMessage } from './sim-messages.js'
import { ROLE_SEEDER, ROLE_SUPERNODE, type World } from './world.js'

/** protocol.params of a swarmcdn scenario; every field optional (defaults in swarmcdnParams). */
export interface SwarmcdnParams {
  /** Rank by AS and shared prefix (false: tie keys only, for comparison). Default true. */
  proximity: boolean
  /** Supernode tier on; false = every peer is a DHT member and queries the DHT itself. Default true. */
  supernodes: boolean
  /** Kademlia k. Default 20. */
  k: number
  /** Lookup parallelism. Default 3. */
  alpha: number
  /** Closest candidates that must have answered for a get-providers lookup to end (DhtNode providerLookupResiliency; k = 20 is the Kademlia paper's rule). Default 3. */
  providerLookupResiliency: number
  /** DHT/tier request timeout, ms. Default 5000. */
  requestTimeoutMs: number
  /** Leaf keep-alive interval, s (core default 15 s). Longer here because connection loss reaches the core as peerDisconnected (see disconnectDetectS) and a demoted supernode refuses the next request at once (not-a-dht-node); keep-alives then only refresh the supernode's leaf timeout (3x). Default 1800 (600 cost a quarter of all events at 10^5 peers). */
  keepAliveIntervalS: number
  /** Delay before the peers of a node that went offline see its connection close (peerDisconnected), s. Default 30 (yamux's keep-alive ping interval: what a silent crash costs; a clean exit is faster). */
  disconnectDetectS: number
  /** Supernodes a leaf attaches to. Default 3. */
  targetAttachments: number
  /** Supernodes a leaf remembers. Default 16 (core default 64; memory at 10^6 peers). */
  maxCandidates: number
  /** Leaves per supernode before attach-busy. Default 200. */
  maxLeaves: number
  /** SupernodePolicy check interval, s. Default 600. */
  policyIntervalS: number
  /** SupernodePolicy minUptimeMs, in s. Default 1800. */
  minUptimeS: number
  /** SupernodePolicy targetLeavesPerSupernode. Default 50. */
  targetLeavesPerSupernode: number
  /** SupernodePolicy minSupernodesPerRegion. Default 3. */
  minSupernodesPerRegion: number
  /** SupernodePolicy minSpareUploadBytesPerSec. Default 524288. */
  minSpareUploadBytesPerSec: number
  /** Re-join / rediscovery interval while short of contacts or attachments, s. Default 600. */
  refreshIntervalS: number
  /**
   * Where a leaf asks for supernodes (find-node of its own id, 2 servers, then its first supernode). 'seeders' (default): the
   * seeders, as a peer shipping only its publisher's seeders would. 'shipped-list': entries drawn uniformly from the seeders and
   * static supernodes, with an early re-discovery (after 5-15 s, doubling, up to DISCOVERY_RETRIES times a session) when a server
   * names fewer than k/2 contacts. A server answers a random id from its far buckets, the same 20 contacts for half of all askers,
   * so 'seeders' funnels every joining leaf onto a few supernodes (see sim/README, "Leaf discovery").
   */
  leafDiscovery: string
  /** Nodes online at t = 0 start joining at a uniform time in [0, joinSpreadS): the warm-up window, so the start-up burst is not every online node joining at once. Default 600. */
  joinSpreadS: number
  /** Pieces per item (coarse: the piece size is ceil(size / piecesPerItem)). Default 8. */
  piecesPerItem: number
  /** Peer sources a download uses (nearest first), plus every origin seeder. Default 5. */
  maxSourcesPerDownload: number
  /** Outstanding piece requests per source. Default 2. */
  maxRequestsPerSource: number
  /** Sources one piece may be requested from at once in endgame (DownloadSession maxRequestsPerPiece). Default 1: the model has no mid-transfer cancel, so with coarse pieces a duplicate would cost a whole piece. */
  maxRequestsPerPiece: number
  /** A piece request unanswered this long goes elsewhere, s. Default 600. */
  pieceTimeoutS: number
  /** Concurrent uploads of a peer. Default 4. */
  uploadSlots: number
  /** Queued piece requests of a peer beyond its slots. Default 8. */
  uploadQueue: number
  /** Concurrent uploads of a seeder (its queue is unbounded). Default 64. */
  seederUploadSlots: number
  /** Access classes that cannot be dialled from outside (never promoted). Default ['mobile']. */
  unreachableClasses: string[]
}

const DEFAULTS: SwarmcdnParams = {
  proximity: true,
  supernodes: true,
  k: 20,
  alpha: 3,
  providerLookupResiliency: 3,
  requestTimeoutMs: 5000,
  keepAliveIntervalS: 1800,
  disconnectDetectS: 30,
  targetAttachments: 3,
  maxCandidates: 16,
  maxLeaves: 200,
  policyIntervalS: 600,
  minUptimeS: 1800,
  targetLeavesPerSupernode: 50,
  minSupernodesPerRegion: 3,
  minSpareUploadBytesPerSec: 512 * 1024,
  refreshIntervalS: 600,
  leafDiscovery: 'seeders',
  joinSpreadS: 600,
  piecesPerItem: 8,
  maxSourcesPerDownload: 5,
  maxRequestsPerSource: 2,
  maxRequestsPerPiece: 1,
  pieceTimeoutS: 600,
  uploadSlots: 4,
  uploadQueue: 8,
  seederUploadSlots: 64,
  unreachableClasses: ['mobile']
}

/** Resolves swarmcdn params over the defaults; unknown names are errors. */
export function swarmcdnParams (p: Record<string, unknown>): SwarmcdnParams {
  const out: Record<string, unknown> = { ...DEFAULTS }
  for (const [k, v] of Object.entries(p)) {
    if (!(k in DEFAULTS)) throw new RangeError(`protocol.params.${k}: unknown swarmcdn parameter`)
    if (typeof v !== typeof (DEFAULTS as unknown as Record<string, unknown>)[k] && !Array.isArray(v)) throw new RangeError(`protocol.params.${k}: must be a ${typeof (DEFAULTS as unknown as Record<string, unknown>)[k]}`)
    out[k] = v
  }
  if (!LEAF_DISCOVERY.includes(out.leafDiscovery as string)) throw new RangeError(`protocol.params.leafDiscovery: must be one of ${LEAF_DISCOVERY.join(', ')}`)
  return out as unknown as SwarmcdnParams
}

const LEAF_DISCOVERY = ['seeders', 'shipped-list']
const encoder = new TextEncoder()
/** Early re-discoveries per leaf session with leafDiscovery 'shipped-list' when a server did not answer or named few supernodes (it left, or has not joined yet). */
const DISCOVERY_RETRIES = 6
/** Mean delay of the first early re-discovery, ms (uniform in [half, 1.5x)), doubling for each further one: servers still joining need time to fill a table. */
const DISCOVERY_RETRY_MS = 10_000
/** Most DHT provide lookups started per timer round (the rest wait, as in dht-service). */
const PROVIDES_PER_ROUND = 8
/** Time between two rounds of provide lookups while some wait, ms (dht-service retries after 100 ms). */
const PROVIDE_ROUND_MS = 100
/** Members a full supernode ranks for a busy leaf (its table's closest to the leaf's id): ranking the whole table cost a fifth of the CPU of a 10^5 day. */
const ALTERNATIVES_CONSIDERED = 20
/** Bootstrap servers asked in one discovery / named in one bootstrap. */
const BOOTSTRAP_CONTACTS = 4

interface Download {
  itemRank: number
  startMs: number
  session?: DownloadSession
  pieceBytes: number
  sizeBytes: number
  /** Providers collected before the pieces phase (DHT-member path). */
  found?: Map<string, Contact>
  forwardsLeft?: number
}

interface DriverRequest { kind: 'discover' | 'forward', itemRank: number, deadlineMs: number }

interface UploadJob { to: number, itemRank: number, index: number }

/** The swarmcdn adapter as the runner sees it (leafCount for the load samples). */
export interface SwarmcdnAdapter extends NodeAdapter<SimMessage> {
  /** Leaves attached, when a supernode; undefined otherwise. */
  leafCount: () => number | undefined
}

interface LookupItem { itemRank: number, token?: number, own: boolean, startMs: number, answerable: boolean }

/** Nearest announcers first, with an origin among the first three (as dht-service.forwardOrder). */
function forwardOrder (ranked: Contact[]): Contact[] {
  const at = ranked.findIndex(c => c.origin === true)
  if (at >= 3) { const [o] = ranked.splice(at, 1); ranked.splice(2, 0, o) }
  return ranked
}

/** What every node of one world shares: built once per factory, so a node carries one reference to it instead of a closure context. */
class SwarmcdnShared {
  readonly p: SwarmcdnParams
  readonly world: World
  readonly dir: SimDirectory
  private readonly rngs: Array<Rng | undefined>
  /** Items each node holds (on disk: survives restarts). */
  readonly held: Array<number[] | undefined>
  readonly regionSupernodes: Int32Array
  readonly regionLeaves: Int32Array
  private readonly keys: Array<Key | undefined>
  readonly itemOfHex: Map<string, number>
  /** DHT members currently announcing each item (to tell an unanswerable lookup from a failed one). */
  readonly announcers: Int32Array
  readonly staticSupernodes: number[]
  readonly seeders: number[]
  readonly unreachable: Set<number>
  readonly adapters: Array<SwarmcdnAdapter | undefined>
  /** leafDiscovery 'shipped-list': the seeders and static supernodes. */
  readonly shippedPool: number[]
  readonly shippedList: boolean
  readonly pieceTimeoutMs: number
  readonly refreshIntervalMs: number
  /** SupernodeIndex's provider ranking depends on the asker alone: one function serves every supernode. */
  readonly rankForAsker: RankForAsker

  constructor (world: World, dir: SimDirectory, p: SwarmcdnParams) {
    const n = world.nodeCount
    this.p = p
    this.world = world
    this.dir = dir
    this.rngs = new Array(n)
    this.held = new Array(n)
    const asCount = world.net.ases.members.length
    this.regionSupernodes = new Int32Array(asCount)
    this.regionLeaves = new Int32Array(asCount)
    this.keys = new Array(world.scenario.workload.catalogItems + 1)
    this.itemOfHex = new Map()
    this.announcers = new Int32Array(world.scenario.workload.catalogItems + 1)
    this.staticSupernodes = []
    for (let i = 0; i < world.peerCount; i++) if (world.role[i] === ROLE_SUPERNODE) this.staticSupernodes.push(i)
    this.seeders = []
    for (let s = world.seederBase; s < n; s++) this.seeders.push(s)
    this.unreachable = new Set(p.unreachableClasses.map(name => world.scenario.network.accessClasses.findIndex(c => c.name === name)).filter(i => i >= 0))
    this.adapters = new Array(n)
    this.shippedPool = [...this.seeders, ...this.staticSupernodes]
    this.shippedList = p.leafDiscovery === 'shipped-list'
    this.pieceTimeoutMs = p.pieceTimeoutS * 1000
    this.refreshIntervalMs = p.refreshIntervalS * 1000
    this.rankForAsker = (asker, cands) => dir.rank(dir.nodeOf(asker), cands, p.proximity)
  }

  rngOf (node: number): Rng {
    let r = this.rngs[node]
    if (r == null) { r = this.world.streams.stream('swarmcdn-node', node); this.rngs[node] = r }
    return r
  }

  keyOf (item: number): Key {
    let k = this.keys[item]
    if (k == null) { k = keyFromBytes(encoder.encode(`sim-item-${item}`)); this.keys[item] = k; this.itemOfHex.set(keyToHex(k), item) }
    return k
  }

  /** Appends up to `upTo` - out.length distinct entries of `pool` drawn uniformly (8 draws at most), never `node` itself. */
  drawInto (out: Contact[], pool: readonly number[], upTo: number, node: number, rng: Rng): void {
    for (let t = 0; t < 8 && out.length < upTo && pool.length > 0; t++) {
      const c = pool[rng.int(pool.length)]
      if (c !== node && !out.some(x => x.peerId === String(c))) out.push(this.dir.contact(c))
    }
  }

  /** A random bootstrap list: seeders first, then static supernodes (what a real peer ships with). */
  bootstrapList (node: number, rng: Rng): Contact[] {
    const out: Contact[] = []
    const pool = this.staticSupernodes.length > 0 ? this.staticSupernodes : this.seeders
    for (const s of this.seeders) if (s !== node && out.length < 2) out.push(this.dir.contact(s))
    this.drawInto(out, pool, BOOTSTRAP_CONTACTS, node, rng)
    if (out.length === 0 && !this.p.supernodes) {
      for (let t = 0; t < 8 && out.length < BOOTSTRAP_CONTACTS; t++) { const c = rng.int(this.world.peerCount); if (c !== node) out.push(this.dir.contact(c)) }
    }
    return out
  }

  /** leafDiscovery 'shipped-list': the leaf's first supernode, then entries of the seeders and static supernodes drawn uniformly. */
  shippedListServers (node: number, attached: Contact[], rng: Rng): Contact[] {
    const out = attached.slice(0, 1)
    this.drawInto(out, this.shippedPool, 2, node, rng)
    return out
  }
}

/**
 * One online node's stack. A class, not closures over create's scope: at
 * 10^6 peers ~41 closures per node (and their contexts) cost ~0.7 GiB. Every
 * field is set in the constructor, in one order, so all nodes share one
 * hidden class; the maps that usually stay empty are created on first use.
 */
class SwarmcdnNode implements SwarmcdnAdapter {
  private readonly s: SwarmcdnShared
  private readonly node: number
  private readonly rng: Rng
  /** Bound once: the core objects keep it and call it as their own method. */
  private readonly random: () => number
  private readonly self: Contact
  private readonly asIdx: number
  private readonly isSeeder: boolean
  private readonly fixed: boolean
  private readonly ids: RequestIdSource
  private readonly policy: SupernodePolicy
  private role: OverlayRole
  private dht: DhtNode | undefined
  private index: SupernodeIndex | undefined
  private leaf: LeafAttachment | undefined
  private roleSinceMs: number
  private readonly upSinceMs: number
  private joinAtMs: number
  private nextRefreshAtMs: number
  private joined: boolean
  private nextPolicyAtMs: number
  private discoveredViaAttached: boolean
  private discoveryRetriesLeft: number
  private downloads: Map<number, Download> | undefined
  private driverReqs: Map<number, DriverRequest> | undefined
  private pendingProvides: Map<string, Key> | undefined
  private provideRetryAtMs: number
  private lookupItems: Map<number, LookupItem> | undefined
  private announced: Set<number> | undefined
  private uploadsActive: number
  private uploadQueue: UploadJob[] | undefined
  private stopped: boolean

  constructor (s: SwarmcdnShared, node: number, startMs: number) {
    const { p, world } = s
    this.s = s
    this.node = node
    const rng = s.rngOf(node)
    this.rng = rng
    this.random = rng.float.bind(rng)
    this.self = s.dir.contact(node)
    this.asIdx = world.net.asOf[node]
    this.isSeeder = world.role[node] === ROLE_SEEDER
    this.fixed = this.isSeeder || world.role[node] === ROLE_SUPERNODE || !p.supernodes
    this.ids = requestIdCounter()
    this.policy = new SupernodePolicy({ random: this.random, minUptimeMs: p.minUptimeS * 1000, targetLeavesPerSupernode: p.targetLeavesPerSupernode, minSupernodesPerRegion: p.minSupernodesPerRegion, minSpareUploadBytesPerSec: p.minSpareUploadBytesPerSec })
    this.role = this.isSeeder ? 'seeder' : 'leaf'
    this.dht = undefined
    this.index = undefined
    this.leaf = undefined
    this.roleSinceMs = startMs
    this.upSinceMs = startMs
    this.joinAtMs = startMs === 0 ? this.random() * p.joinSpreadS * 1000 : startMs
    this.nextRefreshAtMs = this.joinAtMs
    this.joined = false
    this.nextPolicyAtMs = this.fixed ? Infinity : startMs + p.policyIntervalS * 1000 * (0.5 + this.random())
    this.discoveredViaAttached = false
    this.discoveryRetriesLeft = 0
    this.downloads = undefined
    this.driverReqs = undefined
    this.pendingProvides = undefined
    this.provideRetryAtMs = 0
    this.lookupItems = undefined
    this.announced = undefined
    this.uploadsActive = 0
    this.uploadQueue = undefined
    this.stopped = false
  }

  private holds (item: number): boolean { return this.s.held[this.node]?.includes(item) === true }

  private rankSupernodes (cands: Contact[]): Contact[] {
    const ranked = this.s.dir.rank(this.node, cands, this.s.p.proximity)
    return [...ranked.filter(c => c.origin !== true), ...ranked.filter(c => c.origin === true)]
  }

  private countRegion (sign: number): void {
    if (this.isSeeder) return
    if (this.role === 'supernode') this.s.regionSupernodes[this.asIdx] += sign
    else this.s.regionLeaves[this.asIdx] += sign
  }

  private becomeMember (nowMs: number, out: Array<Effect<SimMessage>>): void {
    const { p, dir } = this.s
    this.dht = new DhtNode({ self: this.self, k: p.k, alpha: p.alpha, providerLookupResiliency: p.providerLookupResiliency, regionOf: dir.regionOf, requestTimeoutMs: p.requestTimeoutMs, nextRequestId: this.ids })
    const table = this.dht.table
    this.index = new SupernodeIndex({
      self: this.self,
      maxLeaves: p.maxLeaves,
      keepAliveIntervalMs: p.keepAliveIntervalS * 1000,
      requestTimeoutMs: p.requestTimeoutMs,
      alternatives: (l) => table.closest(l.id, ALTERNATIVES_CONSIDERED),
      rank: this.s.rankForAsker,
      nextRequestId: this.ids
    })
    for (const item of this.s.held[this.node] ?? []) this.execSn(nowMs, this.index.holdSelf(this.s.keyOf(item)), out)
    if (nowMs >= this.joinAtMs) this.join(nowMs, out)
  }

  private becomeLeaf (nowMs: number, out: Array<Effect<SimMessage>>): void {
    const p = this.s.p
    this.leaf = new LeafAttachment({
      self: this.self,
      random: this.random,
      rank: this.rankSupernodes.bind(this),
      targetAttachments: p.targetAttachments,
      maxCandidates: p.maxCandidates,
      requestTimeoutMs: p.requestTimeoutMs,
      keepAliveIntervalMs: p.keepAliveIntervalS * 1000,
      nextRequestId: this.ids
    })
    for (const item of this.s.held[this.node] ?? []) this.execLeaf(nowMs, this.leaf.hold(nowMs, this.s.keyOf(item)), out)
    this.discoveredViaAttached = false
    this.discoveryRetriesLeft = this.s.shippedList ? DISCOVERY_RETRIES : 0
    out.push({ type: 'attachments', count: 0 })
    if (nowMs >= this.joinAtMs) this.join(nowMs, out)
  }

  private dropAnnouncements (): void {
    if (this.announced == null) return
    for (const item of this.announced) this.s.announcers[item]--
    this.announced.clear()
  }

  private setRole (nowMs: number, next: OverlayRole, out: Array<Effect<SimMessage>>): void {
    this.countRegion(-1)
    this.role = next
    this.roleSinceMs = nowMs
    this.countRegion(+1)
    this.dropAnnouncements()
    this.pendingProvides?.clear()
    this.lookupItems?.clear()
    if (next === 'supernode') { this.leaf = undefined; this.becomeMember(nowMs, out) } else { this.dht = undefined; this.index = undefined; this.becomeLeaf(nowMs, out) }
    out.push({ type: 'role', supernode: next === 'supernode' })
  }

  // ---- joining ----------------------------------------------------------

  private join (nowMs: number, out: Array<Effect<SimMessage>>): void {
    const s = this.s
    this.joined = true
    this.nextRefreshAtMs = nowMs + s.refreshIntervalMs
    if (this.dht != null) {
      if (this.dht.table.size >= s.p.k) return
      const seeds = s.bootstrapList(this.node, this.rng)
      for (const c of this.leaf?.attached() ?? []) seeds.push(c)
      if (seeds.length === 0) return
      try { this.execDht(nowMs, this.dht.bootstrap(nowMs, seeds).effects, out) } catch (err) { if (!(err instanceof DhtBusyError)) throw err }
      return
    }
    if (this.leaf == null || this.leaf.attached().length >= s.p.targetAttachments) return
    const servers = s.shippedList ? s.shippedListServers(this.node, this.leaf.attached(), this.rng) : [...this.leaf.attached().slice(0, 1), ...s.bootstrapList(this.node, this.rng)].slice(0, 2)
    for (const server of servers) this.driverRequest(nowMs, s.dir.nodeOf(server), { type: 'find-node', requestId: 0, target: this.self.id }, 'discover', 0, out)
  }

  /** The periodic re-join has work: not joined yet, or short of attachments (leaf) or contacts (member). */
  private refreshWanted (): boolean {
    return !this.joined || (this.leaf != null ? this.leaf.attachedCount < this.s.p.targetAttachments : this.dht != null && this.dht.table.size < this.s.p.k)
  }

  private driverRequest (nowMs: number, to: number, m: DhtMessage, kind: DriverRequest['kind'], itemRank: number, out: Array<Effect<SimMessage>>): void {
    const requestId = this.ids()
    this.driverReqs ??= new Map()
    this.driverReqs.set(requestId, { kind, itemRank, deadlineMs: nowMs + this.s.p.requestTimeoutMs })
    const message = { ...m, requestId } as DhtMessage
    out.push({ type: 'send', to, message, sizeBytes: simMessageBytes(message) })
  }

  private driverAnswered (nowMs: number, requestId: number, m: DhtMessage | undefined, out: Array<Effect<SimMessage>>): void {
    const p = this.s.p
    const r = this.driverReqs?.get(requestId)
    if (r == null) return
    this.driverReqs?.delete(requestId)
    if (r.kind === 'discover') {
      if (this.leaf == null) return
      let named = 0
      if (m?.type === 'find-node-reply') { named = m.closer.length; this.execLeaf(nowMs, this.leaf.addCandidates(nowMs, m.closer), out) }
      if (named < p.k / 2 && this.discoveryRetriesLeft > 0 && this.leaf.attachedCount < p.targetAttachments) {
        // A server that left, or joined moments ago, names few or none; without this the leaf waited refreshIntervalS (10 min) for its next try.
        const delayMs = DISCOVERY_RETRY_MS * 2 ** (DISCOVERY_RETRIES - this.discoveryRetriesLeft) * (0.5 + this.random())
        this.discoveryRetriesLeft--
        this.nextRefreshAtMs = Math.min(this.nextRefreshAtMs, nowMs + delayMs)
      }
      return
    }
    const d = this.downloads?.get(r.itemRank)
    if (d?.found == null) return
    if (m?.type === 'query-reply') for (const c of m.providers) if (c.peerId !== this.self.peerId) d.found.set(c.peerId, c)
    d.forwardsLeft = (d.forwardsLeft ?? 1) - 1
    if (d.forwardsLeft <= 0) this.startPieces(nowMs, d, [...d.found.values()], out)
  }

  // ---- machines' effects ----------------------------------------------

  private send (to: Contact, message: DhtMessage, out: Array<Effect<SimMessage>>): void {
    out.push({ type: 'send', to: this.s.dir.nodeOf(to), message, sizeBytes: simMessageBytes(message) })
  }

  private startLookupFor (nowMs: number, itemRank: number, token: number | undefined, out: Array<Effect<SimMessage>>): boolean {
    if (this.dht == null) return false
    try {
      const l = this.dht.getProviders(nowMs, this.s.keyOf(itemRank))
      this.lookupItems ??= new Map()
      this.lookupItems.set(l.lookupId, { itemRank, token, own: token === undefined, startMs: nowMs, answerable: this.s.announcers[itemRank] > (this.announced?.has(itemRank) === true ? 1 : 0) })
      this.execDht(nowMs, l.effects, out)
      return true
    } catch (err) {
      if (!(err instanceof DhtBusyError)) throw err
      return false
    }
  }

  private execDht (nowMs: number, effects: DhtEffect[], out: Array<Effect<SimMessage>>): void {
    const { p, dir } = this.s
    for (const e of effects) {
      if (e.type === 'send') this.send(e.to, e.message, out)
      else if (e.type === 'penalize') out.push({ type: 'observe', name: 'dht.penalized', value: 1 })
      else if (e.type === 'lookup-providers') {
        // Forward a leaf's query to announcers as soon as the lookup names them (as dht-service does).
        const li = this.lookupItems?.get(e.lookupId)
        if (li?.token !== undefined && this.index != null) this.execSn(nowMs, this.index.providersSeen(nowMs, li.token, forwardOrder(dir.rank(this.node, e.providers.filter(c => c.peerId !== this.self.peerId), p.proximity))), out)
      } else {
        if (e.purpose === 'bootstrap' && this.dht != null) {
          for (const k of this.dht.providedKeys()) {
            this.pendingProvides ??= new Map()
            this.pendingProvides.set(keyToHex(k), k)
          }
        }
        if (e.purpose === 'provide') {
          if (e.announced === true && this.dht?.isProviding(e.target) === true) this.markAnnounced(e.target)
        }
        const li = this.lookupItems?.get(e.lookupId)
        if (li == null) continue
        this.lookupItems?.delete(e.lookupId)
        if (li.answerable) {
          out.push({ type: 'observe', name: 'lookup.success', value: e.result.providers.some(c => c.peerId !== this.self.peerId) ? 1 : 0 })
          out.push({ type: 'observe', name: 'lookup.hops', value: e.result.hops })
          out.push({ type: 'observe', name: 'lookup.latencyMs', value: nowMs - li.startMs })
        }
        const ranked = dir.rank(this.node, e.result.providers.filter(c => c.peerId !== this.self.peerId), p.proximity)
        if (li.token !== undefined && this.index != null) this.execSn(nowMs, this.index.providersFound(nowMs, li.token, forwardOrder(ranked)), out)
        else if (li.own) this.ownLookupDone(nowMs, li.itemRank, forwardOrder(ranked), out)
      }
    }
  }

  private execSn (nowMs: number, effects: SupernodeEffect[], out: Array<Effect<SimMessage>>): void {
    const s = this.s
    for (const e of effects) {
      switch (e.type) {
        case 'send': this.send(e.to, e.message, out); break
        case 'dht-provide':
          this.pendingProvides ??= new Map()
          this.pendingProvides.set(keyToHex(e.key), e.key)
          break
        case 'dht-unprovide': {
          this.pendingProvides?.delete(keyToHex(e.key))
          this.dht?.unprovide(e.key)
          const item = s.itemOfHex.get(keyToHex(e.key))
          if (item !== undefined && this.announced?.delete(item) === true) s.announcers[item]--
          break
        }
        case 'dht-get-providers':
          if (!this.startLookupFor(nowMs, s.itemOfHex.get(keyToHex(e.key)) ?? 0, e.token, out) && this.index != null) this.execSn(nowMs, this.index.providersFound(nowMs, e.token, []), out)
          break
        case 'penalize': out.push({ type: 'observe', name: 'dht.penalized', value: 1 }); break
      }
    }
  }

  private execLeaf (nowMs: number, effects: LeafEffect[], out: Array<Effect<SimMessage>>): void {
    const s = this.s
    for (const e of effects) {
      switch (e.type) {
        case 'send': this.send(e.to, e.message, out); break
        case 'attached':
        case 'detached':
          out.push({ type: 'attachments', count: this.leaf?.attached().length ?? 0 })
          if (e.type === 'attached' && !this.discoveredViaAttached) {
            // Ask the first supernode for the servers nearest our id: candidates spread over the whole tier.
            this.discoveredViaAttached = true
            this.driverRequest(nowMs, s.dir.nodeOf(e.supernode), { type: 'find-node', requestId: 0, target: this.self.id }, 'discover', 0, out)
          }
          break
        case 'query-done': {
          const item = s.itemOfHex.get(keyToHex(e.key))
          const d = item === undefined ? undefined : this.downloads?.get(item)
          if (d != null && d.session == null) this.startPieces(nowMs, d, e.providers, out)
          break
        }
        case 'promote-self':
          this.checkPolicy(nowMs, out)
          this.nextRefreshAtMs = Math.min(this.nextRefreshAtMs, nowMs + 1000)
          break
      }
    }
  }

  private markAnnounced (key: Key): void {
    const item = this.s.itemOfHex.get(keyToHex(key))
    if (item === undefined) return
    this.announced ??= new Set()
    if (!this.announced.has(item)) { this.announced.add(item); this.s.announcers[item]++ }
  }

  private drainProvides (nowMs: number, out: Array<Effect<SimMessage>>): void {
    const pending = this.pendingProvides
    if (pending == null) return
    if (this.dht == null) { pending.clear(); return }
    if (nowMs < this.provideRetryAtMs) return
    let started = 0
    for (const [hex, key] of pending) {
      if (started >= PROVIDES_PER_ROUND) break
      try {
        const r = this.dht.provide(nowMs, key)
        this.execDht(nowMs, r.effects, out)
        if (r.lookupId === undefined) this.markAnnounced(key) // records of a recent announcement are still live
      } catch (err) { if (err instanceof DhtBusyError) break; throw err }
      pending.delete(hex)
      started++
    }
    this.provideRetryAtMs = nowMs + PROVIDE_ROUND_MS
  }

  private checkPolicy (nowMs: number, out: Array<Effect<SimMessage>>): void {
    if (this.fixed) return
    const { p, world } = this.s
    const spare = world.net.upBps[this.node] * Math.max(0, 1 - this.uploadsActive / p.uploadSlots)
    const d = this.policy.decide({
      nowMs,
      role: this.role,
      upSinceMs: this.upSinceMs,
      roleSinceMs: this.roleSinceMs,
      reachable: !this.s.unreachable.has(world.net.classOf[this.node]),
      spareUploadBytesPerSec: spare,
      regionSupernodes: this.s.regionSupernodes[this.asIdx],
      regionLeaves: Math.max(1, this.s.regionLeaves[this.asIdx])
    })
    if (d.action === 'promote') this.setRole(nowMs, 'supernode', out)
    else if (d.action === 'demote') this.setRole(nowMs, 'leaf', out)
  }

  // ---- content ------------------------------------------------------------

  private ownLookupDone (nowMs: number, itemRank: number, announcersRanked: Contact[], out: Array<Effect<SimMessage>>): void {
    const d = this.downloads?.get(itemRank)
    if (d?.found == null || d.session != null) return
    const targets = announcersRanked.slice(0, 3)
    d.forwardsLeft = targets.length
    if (targets.length === 0) { this.startPieces(nowMs, d, [...d.found.values()], out); return }
    for (const t of targets) this.driverRequest(nowMs, this.s.dir.nodeOf(t), { type: 'query', requestId: 0, key: this.s.keyOf(itemRank), localOnly: true }, 'forward', itemRank, out)
  }

  private startPieces (nowMs: number, d: Download, providers: Contact[], out: Array<Effect<SimMessage>>): void {
    const { p, seeders } = this.s
    const pieces = Math.max(1, Math.ceil(d.sizeBytes / d.pieceBytes))
    const session = new DownloadSession(pieces, { maxRequestsPerSource: p.maxRequestsPerSource, maxRequestsTotal: p.maxRequestsPerSource * (p.maxSourcesPerDownload + seeders.length), requestTimeoutMs: this.s.pieceTimeoutMs, maxRequestsPerPiece: p.maxRequestsPerPiece, random: this.random })
    d.session = d.session ?? session
    d.found = undefined
    const full = Bitfield.full(pieces)
    const peers = this.s.dir.rank(this.node, providers.filter(c => c.peerId !== this.self.peerId && c.origin !== true), p.proximity).slice(0, p.maxSourcesPerDownload)
    for (const c of peers) session.addSource(c.peerId, full)
    for (const s of seeders) session.addSource(String(s), full, { isOrigin: true })
    this.pump(nowMs, d, out)
  }

  private pump (nowMs: number, d: Download, out: Array<Effect<SimMessage>>): void {
    const s = d.session as DownloadSession
    if (s.isComplete) { this.finish(nowMs, d, out); return }
    this.requestPieces(nowMs, d, s.nextRequests(nowMs), out)
    if (s.stats().requestsInFlight === 0) {
      // Nobody can serve what is missing (every origin down or gone): give up.
      this.downloads?.delete(d.itemRank)
      out.push({ type: 'observe', name: 'bytes.aborted', value: s.verified.count * d.pieceBytes })
      out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
    }
  }

  private requestPieces (_nowMs: number, d: Download, effects: SessionEffect[], out: Array<Effect<SimMessage>>): void {
    for (const e of effects) {
      if (e.type !== 'request') continue // cancels: the uploader finishes what it started (no cancel message in the model)
      out.push({ type: 'send', to: Number(e.sourceId), message: { type: 'piece-request', itemRank: d.itemRank, index: e.index }, sizeBytes: 24 })
    }
  }

  private finish (nowMs: number, d: Download, out: Array<Effect<SimMessage>>): void {
    const held = this.s.held
    this.downloads?.delete(d.itemRank)
    const h = held[this.node] ?? []
    if (!h.includes(d.itemRank)) h.push(d.itemRank)
    held[this.node] = h
    out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: d.sizeBytes, completed: true })
    const key = this.s.keyOf(d.itemRank)
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.hold(nowMs, key), out)
    if (this.index != null) this.execSn(nowMs, this.index.holdSelf(key), out)
  }

  private pieceBytesOf (item: number, index: number): number {
    const size = this.s.world.itemSizeBytes[item - 1]
    const pb = Math.ceil(size / this.s.p.piecesPerItem)
    return Math.max(0, Math.min(pb, size - index * pb))
  }

  private serve (job: UploadJob, out: Array<Effect<SimMessage>>): void {
    this.uploadsActive++
    out.push({ type: 'transfer', to: job.to, message: { type: 'piece', itemRank: job.itemRank, index: job.index }, bytes: this.pieceBytesOf(job.itemRank, job.index) })
  }

  private onPieceMessage (nowMs: number, from: number, m: SimMessage, out: Array<Effect<SimMessage>>): void {
    const p = this.s.p
    if (m.type === 'piece-request') {
      if (!this.isSeeder && !this.holds(m.itemRank)) { out.push({ type: 'send', to: from, message: { type: 'piece-reject', itemRank: m.itemRank, index: m.index }, sizeBytes: 24 }); return }
      const job = { to: from, itemRank: m.itemRank, index: m.index }
      if (this.uploadsActive < (this.isSeeder ? p.seederUploadSlots : p.uploadSlots)) { this.serve(job, out); return }
      this.uploadQueue ??= []
      if (this.isSeeder || this.uploadQueue.length < p.uploadQueue) this.uploadQueue.push(job)
      else out.push({ type: 'send', to: from, message: { type: 'piece-reject', itemRank: m.itemRank, index: m.index }, sizeBytes: 24 })
      return
    }
    if (m.type !== 'piece' && m.type !== 'piece-reject') return
    const d = this.downloads?.get(m.itemRank)
    const s = d?.session
    if (d == null || s == null) {
      if (m.type === 'piece') out.push({ type: 'observe', name: 'bytes.duplicate', value: this.pieceBytesOf(m.itemRank, m.index) })
      return
    }
    if (m.type === 'piece-reject') s.onRequestRejected(String(from), m.index)
    else if (s.onPieceReceived(String(from), m.index)) s.onPieceVerified(String(from), m.index, nowMs)
    else out.push({ type: 'observe', name: 'bytes.duplicate', value: this.pieceBytesOf(m.itemRank, m.index) })
    this.pump(nowMs, d, out)
  }

  // ---- the adapter --------------------------------------------------------

  start (nowMs: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.countRegion(+1)
    if (this.isSeeder) this.becomeMember(nowMs, out)
    else if (this.fixed) { this.role = 'leaf'; this.countRegion(-1); this.role = 'supernode'; this.countRegion(+1); this.becomeMember(nowMs, out); out.push({ type: 'role', supernode: true }) } else { this.becomeLeaf(nowMs, out); out.push({ type: 'role', supernode: false }) }
    this.s.adapters[this.node] = this
    return out
  }

  stop (nowMs: number): Array<Effect<SimMessage>> {
    const dir = this.s.dir
    this.stopped = true
    this.s.adapters[this.node] = undefined
    this.countRegion(-1)
    this.dropAnnouncements()
    const out: Array<Effect<SimMessage>> = []
    // The connections this process held (its supernodes, or its leaves and DHT contacts) close with it.
    const peers = [...(this.leaf?.attached() ?? []).map(c => dir.nodeOf(c)), ...(this.index?.leafPeerIds() ?? []).map(Number), ...(this.dht?.table.toArray() ?? []).map(c => dir.nodeOf(c))]
    if (peers.length > 0) out.push({ type: 'disconnect', peers, afterMs: this.s.p.disconnectDetectS * 1000 })
    for (const d of this.downloads?.values() ?? []) {
      out.push({ type: 'observe', name: 'bytes.aborted', value: (d.session?.verified.count ?? 0) * d.pieceBytes })
      out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
    }
    void nowMs
    return out
  }

  onMessage (nowMs: number, from: number, m: SimMessage): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (m.type === 'piece-request' || m.type === 'piece' || m.type === 'piece-reject') { this.onPieceMessage(nowMs, from, m, out); return out }
    const { world, dir } = this.s
    const c = dir.contact(from)
    if (isDhtRequest(m)) {
      if (this.dht == null || this.index == null) {
        // A leaf does not serve the DHT protocol (the binding unlistens when it demotes): the stream fails at once, as this error.
        out.push({ type: 'send', to: from, message: { type: 'error', requestId: m.requestId, code: 'not-a-dht-node' }, sizeBytes: 32 })
        return out
      }
      if (world.isSupernode(from) || world.role[from] === ROLE_SEEDER) this.execDht(nowMs, this.dht.peerAuthenticated(nowMs, c), out)
      this.execDht(nowMs, this.dht.handleMessage(nowMs, c, m), out)
      this.execSn(nowMs, this.index.handleMessage(nowMs, c, m), out)
      return out
    }
    if (this.dht?.ownsRequest(m.requestId) === true) this.execDht(nowMs, this.dht.handleMessage(nowMs, c, m), out)
    else if (this.index?.ownsRequest(m.requestId) === true) this.execSn(nowMs, this.index.handleMessage(nowMs, c, m), out)
    else if (this.leaf?.ownsRequest(m.requestId) === true) this.execLeaf(nowMs, this.leaf.handleMessage(nowMs, c, m), out)
    else this.driverAnswered(nowMs, m.requestId, m, out)
    return out
  }

  onTimer (nowMs: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (this.dht != null) this.execDht(nowMs, this.dht.handleTimeout(nowMs), out)
    if (this.index != null) this.execSn(nowMs, this.index.handleTimeout(nowMs), out)
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.handleTimeout(nowMs), out)
    if (this.driverReqs != null) for (const [id, r] of this.driverReqs) if (r.deadlineMs <= nowMs) this.driverAnswered(nowMs, id, undefined, out)
    if (this.downloads != null) {
      for (const d of [...this.downloads.values()]) {
        const t = d.session?.nextTimeoutMs()
        if (d.session != null && t !== undefined && t <= nowMs) { d.session.onRequestTimeout(nowMs); this.pump(nowMs, d, out) }
      }
    }
    if (nowMs >= this.joinAtMs && nowMs >= this.nextRefreshAtMs) {
      const refreshIntervalMs = this.s.refreshIntervalMs
      // While the refresh had nothing to do its timer was not armed (an event per node per interval at scale); back on the same period.
      if (this.joined && nowMs - this.nextRefreshAtMs >= 1000) this.nextRefreshAtMs += Math.ceil((nowMs - this.nextRefreshAtMs) / refreshIntervalMs) * refreshIntervalMs
      if (nowMs >= this.nextRefreshAtMs) { this.joinAtMs = 0; this.join(nowMs, out) }
    }
    if (nowMs >= this.nextPolicyAtMs) { this.nextPolicyAtMs = nowMs + this.s.p.policyIntervalS * 1000; this.checkPolicy(nowMs, out) }
    if (this.pendingProvides != null && this.pendingProvides.size > 0) this.drainProvides(nowMs, out)
    return out
  }

  nextDeadlineMs (): number | undefined {
    // Called after every input: no closures, no allocation.
    // The refresh runs only once the node's join time has come (see onTimer): a promote-self before it must not spin the timer.
    let m = this.nextPolicyAtMs
    if (this.refreshWanted()) m = Math.min(m, Math.max(this.nextRefreshAtMs, this.joinAtMs))
    let t = this.dht?.nextDeadlineMs()
    if (t !== undefined && t < m) m = t
    t = this.index?.nextDeadlineMs()
    if (t !== undefined && t < m) m = t
    t = this.leaf?.nextDeadlineMs()
    if (t !== undefined && t < m) m = t
    if (this.driverReqs != null) for (const r of this.driverReqs.values()) if (r.deadlineMs < m) m = r.deadlineMs
    if (this.downloads != null) {
      for (const d of this.downloads.values()) {
        t = d.session?.nextTimeoutMs()
        if (t !== undefined && t < m) m = t
      }
    }
    if (this.pendingProvides != null && this.pendingProvides.size > 0 && this.dht != null && this.provideRetryAtMs < m) m = this.provideRetryAtMs
    return m
  }

  onRequest (nowMs: number, itemRank: number, sizeBytes: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (this.holds(itemRank)) { out.push({ type: 'observe', name: 'request.local', value: 1 }); return out }
    if (this.downloads?.has(itemRank) === true) { out.push({ type: 'observe', name: 'request.ongoing', value: 1 }); return out }
    const d: Download = { itemRank, startMs: nowMs, pieceBytes: Math.ceil(sizeBytes / this.s.p.piecesPerItem), sizeBytes }
    this.downloads ??= new Map()
    this.downloads.set(itemRank, d)
    if (this.isSeeder) { this.finish(nowMs, d, out); return out }
    if (this.leaf != null) {
      this.execLeaf(nowMs, this.leaf.query(nowMs, this.s.keyOf(itemRank)).effects, out)
      return out
    }
    d.found = new Map((this.index?.localProviders(this.self, this.s.keyOf(itemRank)) ?? []).map(c => [c.peerId, c]))
    if (!this.startLookupFor(nowMs, itemRank, undefined, out)) this.startPieces(nowMs, d, [...d.found.values()], out)
    return out
  }

  onPeerDisconnected (nowMs: number, peer: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    if (this.leaf != null) this.execLeaf(nowMs, this.leaf.peerDisconnected(nowMs, String(peer)), out)
    if (this.index != null) this.execSn(nowMs, this.index.peerDisconnected(nowMs, String(peer)), out)
    this.dht?.peerDisconnected(this.s.dir.contact(peer).id)
    return out
  }

  onTransferSent (_nowMs: number): Array<Effect<SimMessage>> {
    const out: Array<Effect<SimMessage>> = []
    this.uploadsActive--
    const next = this.uploadQueue?.shift()
    if (next != null && !this.stopped) this.serve(next, out)
    return out
  }

  leafCount (): number | undefined { return this.index?.leafCount }
}

/** Factory of swarmcdn node adapters for one world. */
export function swarmcdnFactory (world: World, dir: SimDirectory, params: Record<string, unknown>): ProtocolFactory {
  const shared = new SwarmcdnShared(world, dir, swarmcdnParams(params))
  const adapters = shared.adapters
  const create: NodeAdapterFactory<SimMessage> = (node, startMs) => new SwarmcdnNode(shared, node, startMs)

  const observer = (host: ProtocolHost<SimMessage>): SimObserver => ({
    onSample: (nowMs) => {
      for (let node = 0; node < world.peerCount; node++) {
        const a = adapters[node]
        if (a == null || !world.isSupernode(node)) continue
        const load = a.leafCount()
        if (load !== undefined) for (const o of world.observers) o.onObserve?.(node, 'tier.supernodeLoad', load, nowMs)
      }
      void host
    }
  })
  return { create, observer }
}
