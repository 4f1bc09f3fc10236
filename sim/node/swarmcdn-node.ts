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
import { SupernodeIndex, type SupernodeEffect } from '../../src/core/tier/supernode-index.js'
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

/** Factory of swarmcdn node adapters for one world. */
export function swarmcdnFactory (world: World, dir: SimDirectory, params: Record<string, unknown>): ProtocolFactory {
  const p = swarmcdnParams(params)
  const n = world.nodeCount
  const rngs: Array<Rng | undefined> = new Array(n)
  const rngOf = (node: number): Rng => { let r = rngs[node]; if (r == null) { r = world.streams.stream('swarmcdn-node', node); rngs[node] = r } return r }
  /** Items each node holds (on disk: survives restarts). */
  const held: Array<number[] | undefined> = new Array(n)
  const asCount = world.net.ases.members.length
  const regionSupernodes = new Int32Array(asCount)
  const regionLeaves = new Int32Array(asCount)
  const keys: Array<Key | undefined> = new Array(world.scenario.workload.catalogItems + 1)
  const itemOfHex = new Map<string, number>()
  const keyOf = (item: number): Key => {
    let k = keys[item]
    if (k == null) { k = keyFromBytes(encoder.encode(`sim-item-${item}`)); keys[item] = k; itemOfHex.set(keyToHex(k), item) }
    return k
  }
  /** DHT members currently announcing each item (to tell an unanswerable lookup from a failed one). */
  const announcers = new Int32Array(world.scenario.workload.catalogItems + 1)
  const staticSupernodes: number[] = []
  for (let i = 0; i < world.peerCount; i++) if (world.role[i] === ROLE_SUPERNODE) staticSupernodes.push(i)
  const seeders: number[] = []
  for (let s = world.seederBase; s < n; s++) seeders.push(s)
  const unreachable = new Set(p.unreachableClasses.map(name => world.scenario.network.accessClasses.findIndex(c => c.name === name)).filter(i => i >= 0))
  const adapters: Array<SwarmcdnAdapter | undefined> = new Array(n)

  /** Appends up to `upTo` - out.length distinct entries of `pool` drawn uniformly (8 draws at most), never `node` itself. */
  const drawInto = (out: Contact[], pool: readonly number[], upTo: number, node: number, rng: Rng): void => {
    for (let t = 0; t < 8 && out.length < upTo && pool.length > 0; t++) {
      const c = pool[rng.int(pool.length)]
      if (c !== node && !out.some(x => x.peerId === String(c))) out.push(dir.contact(c))
    }
  }

  /** A random bootstrap list: seeders first, then static supernodes (what a real peer ships with). */
  const bootstrapList = (node: number, rng: Rng): Contact[] => {
    const out: Contact[] = []
    const pool = staticSupernodes.length > 0 ? staticSupernodes : seeders
    for (const s of seeders) if (s !== node && out.length < 2) out.push(dir.contact(s))
    drawInto(out, pool, BOOTSTRAP_CONTACTS, node, rng)
    if (out.length === 0 && !p.supernodes) {
      for (let t = 0; t < 8 && out.length < BOOTSTRAP_CONTACTS; t++) { const c = rng.int(world.peerCount); if (c !== node) out.push(dir.contact(c)) }
    }
    return out
  }

  /** leafDiscovery 'shipped-list': the leaf's first supernode, then entries of the seeders and static supernodes drawn uniformly. */
  const shippedPool = [...seeders, ...staticSupernodes]
  const shippedListServers = (node: number, attached: Contact[], rng: Rng): Contact[] => {
    const out = attached.slice(0, 1)
    drawInto(out, shippedPool, 2, node, rng)
    return out
  }
  const shippedList = p.leafDiscovery === 'shipped-list'

  const create: NodeAdapterFactory<SimMessage> = (node, startMs) => {
    const rng = rngOf(node)
    const random = (): number => rng.float()
    const self = dir.contact(node)
    const asIdx = world.net.asOf[node]
    const isSeeder = world.role[node] === ROLE_SEEDER
    const fixed = isSeeder || world.role[node] === ROLE_SUPERNODE || !p.supernodes
    const ids: RequestIdSource = requestIdCounter()
    const policy = new SupernodePolicy({ random, minUptimeMs: p.minUptimeS * 1000, targetLeavesPerSupernode: p.targetLeavesPerSupernode, minSupernodesPerRegion: p.minSupernodesPerRegion, minSpareUploadBytesPerSec: p.minSpareUploadBytesPerSec })
    const pieceTimeoutMs = p.pieceTimeoutS * 1000
    let role: OverlayRole = isSeeder ? 'seeder' : 'leaf'
    let dht: DhtNode | undefined
    let index: SupernodeIndex | undefined
    let leaf: LeafAttachment | undefined
    let roleSinceMs = startMs
    const upSinceMs = startMs
    let joinAtMs = startMs === 0 ? random() * p.joinSpreadS * 1000 : startMs
    let nextRefreshAtMs = joinAtMs
    let joined = false
    const refreshIntervalMs = p.refreshIntervalS * 1000
    let nextPolicyAtMs = fixed ? Infinity : startMs + p.policyIntervalS * 1000 * (0.5 + random())
    let discoveredViaAttached = false
    let discoveryRetriesLeft = 0
    let downloads: Map<number, Download> | undefined
    let driverReqs: Map<number, DriverRequest> | undefined
    const pendingProvides = new Map<string, Key>()
    let provideRetryAtMs = 0
    const lookupItems = new Map<number, { itemRank: number, token?: number, own: boolean, startMs: number, answerable: boolean }>()
    const announced = new Set<number>()
    let uploadsActive = 0
    let uploadQueue: UploadJob[] | undefined
    let stopped = false

    const holds = (item: number): boolean => held[node]?.includes(item) === true

    const rankSupernodes = (cands: Contact[]): Contact[] => {
      const ranked = dir.rank(node, cands, p.proximity)
      return [...ranked.filter(c => c.origin !== true), ...ranked.filter(c => c.origin === true)]
    }

    const countRegion = (sign: number): void => {
      if (isSeeder) return
      if (role === 'supernode') regionSupernodes[asIdx] += sign
      else regionLeaves[asIdx] += sign
    }

    const becomeMember = (nowMs: number, out: Array<Effect<SimMessage>>): void => {
      dht = new DhtNode({ self, k: p.k, alpha: p.alpha, providerLookupResiliency: p.providerLookupResiliency, regionOf: dir.regionOf, requestTimeoutMs: p.requestTimeoutMs, nextRequestId: ids })
      const table = dht.table
      index = new SupernodeIndex({
        self,
        maxLeaves: p.maxLeaves,
        keepAliveIntervalMs: p.keepAliveIntervalS * 1000,
        requestTimeoutMs: p.requestTimeoutMs,
        alternatives: (l) => table.closest(l.id, ALTERNATIVES_CONSIDERED),
        rank: (asker, cands) => dir.rank(dir.nodeOf(asker), cands, p.proximity),
        nextRequestId: ids
      })
      for (const item of held[node] ?? []) execSn(nowMs, index.holdSelf(keyOf(item)), out)
      if (nowMs >= joinAtMs) join(nowMs, out)
    }

    const becomeLeaf = (nowMs: number, out: Array<Effect<SimMessage>>): void => {
      leaf = new LeafAttachment({
        self,
        random,
        rank: rankSupernodes,
        targetAttachments: p.targetAttachments,
        maxCandidates: p.maxCandidates,
        requestTimeoutMs: p.requestTimeoutMs,
        keepAliveIntervalMs: p.keepAliveIntervalS * 1000,
        nextRequestId: ids
      })
      for (const item of held[node] ?? []) execLeaf(nowMs, leaf.hold(nowMs, keyOf(item)), out)
      discoveredViaAttached = false
      discoveryRetriesLeft = shippedList ? DISCOVERY_RETRIES : 0
      out.push({ type: 'attachments', count: 0 })
      if (nowMs >= joinAtMs) join(nowMs, out)
    }

    const dropAnnouncements = (): void => {
      for (const item of announced) announcers[item]--
      announced.clear()
    }

    const setRole = (nowMs: number, next: OverlayRole, out: Array<Effect<SimMessage>>): void => {
      countRegion(-1)
      role = next
      roleSinceMs = nowMs
      countRegion(+1)
      dropAnnouncements()
      pendingProvides.clear()
      lookupItems.clear()
      if (next === 'supernode') { leaf = undefined; becomeMember(nowMs, out) } else { dht = undefined; index = undefined; becomeLeaf(nowMs, out) }
      out.push({ type: 'role', supernode: next === 'supernode' })
    }

    // ---- joining ----------------------------------------------------------

    const join = (nowMs: number, out: Array<Effect<SimMessage>>): void => {
      joined = true
      nextRefreshAtMs = nowMs + refreshIntervalMs
      if (dht != null) {
        if (dht.table.size >= p.k) return
        const seeds = bootstrapList(node, rng)
        for (const c of leaf?.attached() ?? []) seeds.push(c)
        if (seeds.length === 0) return
        try { execDht(nowMs, dht.bootstrap(nowMs, seeds).effects, out) } catch (err) { if (!(err instanceof DhtBusyError)) throw err }
        return
      }
      if (leaf == null || leaf.attached().length >= p.targetAttachments) return
      const servers = shippedList ? shippedListServers(node, leaf.attached(), rng) : [...leaf.attached().slice(0, 1), ...bootstrapList(node, rng)].slice(0, 2)
      for (const s of servers) driverRequest(nowMs, dir.nodeOf(s), { type: 'find-node', requestId: 0, target: self.id }, 'discover', 0, out)
    }

    /** The periodic re-join has work: not joined yet, or short of attachments (leaf) or contacts (member). */
    const refreshWanted = (): boolean => !joined || (leaf != null ? leaf.attachedCount < p.targetAttachments : dht != null && dht.table.size < p.k)

    const driverRequest = (nowMs: number, to: number, m: DhtMessage, kind: DriverRequest['kind'], itemRank: number, out: Array<Effect<SimMessage>>): void => {
      const requestId = ids()
      driverReqs ??= new Map()
      driverReqs.set(requestId, { kind, itemRank, deadlineMs: nowMs + p.requestTimeoutMs })
      const message = { ...m, requestId } as DhtMessage
      out.push({ type: 'send', to, message, sizeBytes: simMessageBytes(message) })
    }

    const driverAnswered = (nowMs: number, requestId: number, m: DhtMessage | undefined, out: Array<Effect<SimMessage>>): void => {
      const r = driverReqs?.get(requestId)
      if (r == null) return
      driverReqs?.delete(requestId)
      if (r.kind === 'discover') {
        if (leaf == null) return
        let named = 0
        if (m?.type === 'find-node-reply') { named = m.closer.length; execLeaf(nowMs, leaf.addCandidates(nowMs, m.closer), out) }
        if (named < p.k / 2 && discoveryRetriesLeft > 0 && leaf.attachedCount < p.targetAttachments) {
          // A server that left, or joined moments ago, names few or none; without this the leaf waited refreshIntervalS (10 min) for its next try.
          const delayMs = DISCOVERY_RETRY_MS * 2 ** (DISCOVERY_RETRIES - discoveryRetriesLeft) * (0.5 + random())
          discoveryRetriesLeft--
          nextRefreshAtMs = Math.min(nextRefreshAtMs, nowMs + delayMs)
        }
        return
      }
      const d = downloads?.get(r.itemRank)
      if (d?.found == null) return
      if (m?.type === 'query-reply') for (const c of m.providers) if (c.peerId !== self.peerId) d.found.set(c.peerId, c)
      d.forwardsLeft = (d.forwardsLeft ?? 1) - 1
      if (d.forwardsLeft <= 0) startPieces(nowMs, d, [...d.found.values()], out)
    }

    // ---- machines' effects ----------------------------------------------

    const send = (to: Contact, message: DhtMessage, out: Array<Effect<SimMessage>>): void => {
      out.push({ type: 'send', to: dir.nodeOf(to), message, sizeBytes: simMessageBytes(message) })
    }

    const startLookupFor = (nowMs: number, itemRank: number, token: number | undefined, out: Array<Effect<SimMessage>>): boolean => {
      if (dht == null) return false
      try {
        const l = dht.getProviders(nowMs, keyOf(itemRank))
        lookupItems.set(l.lookupId, { itemRank, token, own: token === undefined, startMs: nowMs, answerable: announcers[itemRank] > (announced.has(itemRank) ? 1 : 0) })
        execDht(nowMs, l.effects, out)
        return true
      } catch (err) {
        if (!(err instanceof DhtBusyError)) throw err
        return false
      }
    }

    function execDht (nowMs: number, effects: DhtEffect[], out: Array<Effect<SimMessage>>): void {
      for (const e of effects) {
        if (e.type === 'send') send(e.to, e.message, out)
        else if (e.type === 'penalize') out.push({ type: 'observe', name: 'dht.penalized', value: 1 })
        else if (e.type === 'lookup-providers') {
          // Forward a leaf's query to announcers as soon as the lookup names them (as dht-service does).
          const li = lookupItems.get(e.lookupId)
          if (li?.token !== undefined && index != null) execSn(nowMs, index.providersSeen(nowMs, li.token, forwardOrder(dir.rank(node, e.providers.filter(c => c.peerId !== self.peerId), p.proximity))), out)
        } else {
          if (e.purpose === 'bootstrap' && dht != null) for (const k of dht.providedKeys()) pendingProvides.set(keyToHex(k), k)
          if (e.purpose === 'provide') {
            if (e.announced === true && dht?.isProviding(e.target) === true) markAnnounced(e.target)
          }
          const li = lookupItems.get(e.lookupId)
          if (li == null) continue
          lookupItems.delete(e.lookupId)
          if (li.answerable) {
            out.push({ type: 'observe', name: 'lookup.success', value: e.result.providers.some(c => c.peerId !== self.peerId) ? 1 : 0 })
            out.push({ type: 'observe', name: 'lookup.hops', value: e.result.hops })
            out.push({ type: 'observe', name: 'lookup.latencyMs', value: nowMs - li.startMs })
          }
          const ranked = dir.rank(node, e.result.providers.filter(c => c.peerId !== self.peerId), p.proximity)
          if (li.token !== undefined && index != null) execSn(nowMs, index.providersFound(nowMs, li.token, forwardOrder(ranked)), out)
          else if (li.own) ownLookupDone(nowMs, li.itemRank, forwardOrder(ranked), out)
        }
      }
    }

    /** Nearest announcers first, with an origin among the first three (as dht-service.forwardOrder). */
    const forwardOrder = (ranked: Contact[]): Contact[] => {
      const at = ranked.findIndex(c => c.origin === true)
      if (at >= 3) { const [o] = ranked.splice(at, 1); ranked.splice(2, 0, o) }
      return ranked
    }

    function execSn (nowMs: number, effects: SupernodeEffect[], out: Array<Effect<SimMessage>>): void {
      for (const e of effects) {
        switch (e.type) {
          case 'send': send(e.to, e.message, out); break
          case 'dht-provide': pendingProvides.set(keyToHex(e.key), e.key); break
          case 'dht-unprovide': {
            pendingProvides.delete(keyToHex(e.key))
            dht?.unprovide(e.key)
            const item = itemOfHex.get(keyToHex(e.key))
            if (item !== undefined && announced.delete(item)) announcers[item]--
            break
          }
          case 'dht-get-providers':
            if (!startLookupFor(nowMs, itemOfHex.get(keyToHex(e.key)) ?? 0, e.token, out) && index != null) execSn(nowMs, index.providersFound(nowMs, e.token, []), out)
            break
          case 'penalize': out.push({ type: 'observe', name: 'dht.penalized', value: 1 }); break
        }
      }
    }

    function execLeaf (nowMs: number, effects: LeafEffect[], out: Array<Effect<SimMessage>>): void {
      for (const e of effects) {
        switch (e.type) {
          case 'send': send(e.to, e.message, out); break
          case 'attached':
          case 'detached':
            out.push({ type: 'attachments', count: leaf?.attached().length ?? 0 })
            if (e.type === 'attached' && !discoveredViaAttached) {
              // Ask the first supernode for the servers nearest our id: candidates spread over the whole tier.
              discoveredViaAttached = true
              driverRequest(nowMs, dir.nodeOf(e.supernode), { type: 'find-node', requestId: 0, target: self.id }, 'discover', 0, out)
            }
            break
          case 'query-done': {
            const item = itemOfHex.get(keyToHex(e.key))
            const d = item === undefined ? undefined : downloads?.get(item)
            if (d != null && d.session == null) startPieces(nowMs, d, e.providers, out)
            break
          }
          case 'promote-self':
            checkPolicy(nowMs, out)
            nextRefreshAtMs = Math.min(nextRefreshAtMs, nowMs + 1000)
            break
        }
      }
    }

    const markAnnounced = (key: Key): void => {
      const item = itemOfHex.get(keyToHex(key))
      if (item !== undefined && !announced.has(item)) { announced.add(item); announcers[item]++ }
    }

    const drainProvides = (nowMs: number, out: Array<Effect<SimMessage>>): void => {
      if (dht == null) { pendingProvides.clear(); return }
      if (nowMs < provideRetryAtMs) return
      let started = 0
      for (const [hex, key] of pendingProvides) {
        if (started >= PROVIDES_PER_ROUND) break
        try {
          const r = dht.provide(nowMs, key)
          execDht(nowMs, r.effects, out)
          if (r.lookupId === undefined) markAnnounced(key) // records of a recent announcement are still live
        } catch (err) { if (err instanceof DhtBusyError) break; throw err }
        pendingProvides.delete(hex)
        started++
      }
      provideRetryAtMs = nowMs + PROVIDE_ROUND_MS
    }

    const checkPolicy = (nowMs: number, out: Array<Effect<SimMessage>>): void => {
      if (fixed) return
      const spare = world.net.upBps[node] * Math.max(0, 1 - uploadsActive / p.uploadSlots)
      const d = policy.decide({
        nowMs,
        role,
        upSinceMs,
        roleSinceMs,
        reachable: !unreachable.has(world.net.classOf[node]),
        spareUploadBytesPerSec: spare,
        regionSupernodes: regionSupernodes[asIdx],
        regionLeaves: Math.max(1, regionLeaves[asIdx])
      })
      if (d.action === 'promote') setRole(nowMs, 'supernode', out)
      else if (d.action === 'demote') setRole(nowMs, 'leaf', out)
    }

    // ---- content ------------------------------------------------------------

    const ownLookupDone = (nowMs: number, itemRank: number, announcersRanked: Contact[], out: Array<Effect<SimMessage>>): void => {
      const d = downloads?.get(itemRank)
      if (d?.found == null || d.session != null) return
      const targets = announcersRanked.slice(0, 3)
      d.forwardsLeft = targets.length
      if (targets.length === 0) { startPieces(nowMs, d, [...d.found.values()], out); return }
      for (const t of targets) driverRequest(nowMs, dir.nodeOf(t), { type: 'query', requestId: 0, key: keyOf(itemRank), localOnly: true }, 'forward', itemRank, out)
    }

    const startPieces = (nowMs: number, d: Download, providers: Contact[], out: Array<Effect<SimMessage>>): void => {
      const pieces = Math.max(1, Math.ceil(d.sizeBytes / d.pieceBytes))
      const session = new DownloadSession(pieces, { maxRequestsPerSource: p.maxRequestsPerSource, maxRequestsTotal: p.maxRequestsPerSource * (p.maxSourcesPerDownload + seeders.length), requestTimeoutMs: pieceTimeoutMs, maxRequestsPerPiece: p.maxRequestsPerPiece, random })
      d.session = d.session ?? session
      d.found = undefined
      const full = Bitfield.full(pieces)
      const peers = dir.rank(node, providers.filter(c => c.peerId !== self.peerId && c.origin !== true), p.proximity).slice(0, p.maxSourcesPerDownload)
      for (const c of peers) session.addSource(c.peerId, full)
      for (const s of seeders) session.addSource(String(s), full, { isOrigin: true })
      pump(nowMs, d, out)
    }

    const pump = (nowMs: number, d: Download, out: Array<Effect<SimMessage>>): void => {
      const s = d.session as DownloadSession
      if (s.isComplete) { finish(nowMs, d, out); return }
      requestPieces(nowMs, d, s.nextRequests(nowMs), out)
      if (s.stats().requestsInFlight === 0) {
        // Nobody can serve what is missing (every origin down or gone): give up.
        downloads?.delete(d.itemRank)
        out.push({ type: 'observe', name: 'bytes.aborted', value: s.verified.count * d.pieceBytes })
        out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
      }
    }

    const requestPieces = (_nowMs: number, d: Download, effects: SessionEffect[], out: Array<Effect<SimMessage>>): void => {
      for (const e of effects) {
        if (e.type !== 'request') continue // cancels: the uploader finishes what it started (no cancel message in the model)
        out.push({ type: 'send', to: Number(e.sourceId), message: { type: 'piece-request', itemRank: d.itemRank, index: e.index }, sizeBytes: 24 })
      }
    }

    const finish = (nowMs: number, d: Download, out: Array<Effect<SimMessage>>): void => {
      downloads?.delete(d.itemRank)
      const h = held[node] ?? []
      if (!h.includes(d.itemRank)) h.push(d.itemRank)
      held[node] = h
      out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: d.sizeBytes, completed: true })
      const key = keyOf(d.itemRank)
      if (leaf != null) execLeaf(nowMs, leaf.hold(nowMs, key), out)
      if (index != null) execSn(nowMs, index.holdSelf(key), out)
    }

    const pieceBytesOf = (item: number, index: number): number => {
      const size = world.itemSizeBytes[item - 1]
      const pb = Math.ceil(size / p.piecesPerItem)
      return Math.max(0, Math.min(pb, size - index * pb))
    }

    const serve = (job: UploadJob, out: Array<Effect<SimMessage>>): void => {
      uploadsActive++
      out.push({ type: 'transfer', to: job.to, message: { type: 'piece', itemRank: job.itemRank, index: job.index }, bytes: pieceBytesOf(job.itemRank, job.index) })
    }

    const onPieceMessage = (nowMs: number, from: number, m: SimMessage, out: Array<Effect<SimMessage>>): void => {
      if (m.type === 'piece-request') {
        if (!isSeeder && !holds(m.itemRank)) { out.push({ type: 'send', to: from, message: { type: 'piece-reject', itemRank: m.itemRank, index: m.index }, sizeBytes: 24 }); return }
        const job = { to: from, itemRank: m.itemRank, index: m.index }
        if (uploadsActive < (isSeeder ? p.seederUploadSlots : p.uploadSlots)) { serve(job, out); return }
        uploadQueue ??= []
        if (isSeeder || uploadQueue.length < p.uploadQueue) uploadQueue.push(job)
        else out.push({ type: 'send', to: from, message: { type: 'piece-reject', itemRank: m.itemRank, index: m.index }, sizeBytes: 24 })
        return
      }
      if (m.type !== 'piece' && m.type !== 'piece-reject') return
      const d = downloads?.get(m.itemRank)
      const s = d?.session
      if (d == null || s == null) {
        if (m.type === 'piece') out.push({ type: 'observe', name: 'bytes.duplicate', value: pieceBytesOf(m.itemRank, m.index) })
        return
      }
      if (m.type === 'piece-reject') s.onRequestRejected(String(from), m.index)
      else if (s.onPieceReceived(String(from), m.index)) s.onPieceVerified(String(from), m.index, nowMs)
      else out.push({ type: 'observe', name: 'bytes.duplicate', value: pieceBytesOf(m.itemRank, m.index) })
      pump(nowMs, d, out)
    }

    // ---- the adapter --------------------------------------------------------

    const adapter: SwarmcdnAdapter = {
      start: (nowMs) => {
        const out: Array<Effect<SimMessage>> = []
        countRegion(+1)
        if (isSeeder) becomeMember(nowMs, out)
        else if (fixed) { role = 'leaf'; countRegion(-1); role = 'supernode'; countRegion(+1); becomeMember(nowMs, out); out.push({ type: 'role', supernode: true }) } else { becomeLeaf(nowMs, out); out.push({ type: 'role', supernode: false }) }
        adapters[node] = adapter
        return out
      },
      stop: (nowMs) => {
        stopped = true
        adapters[node] = undefined
        countRegion(-1)
        dropAnnouncements()
        const out: Array<Effect<SimMessage>> = []
        // The connections this process held (its supernodes, or its leaves and DHT contacts) close with it.
        const peers = [...(leaf?.attached() ?? []).map(c => dir.nodeOf(c)), ...(index?.leafPeerIds() ?? []).map(Number), ...(dht?.table.toArray() ?? []).map(c => dir.nodeOf(c))]
        if (peers.length > 0) out.push({ type: 'disconnect', peers, afterMs: p.disconnectDetectS * 1000 })
        for (const d of downloads?.values() ?? []) {
          out.push({ type: 'observe', name: 'bytes.aborted', value: (d.session?.verified.count ?? 0) * d.pieceBytes })
          out.push({ type: 'download', itemRank: d.itemRank, startMs: d.startMs, bytes: 0, completed: false })
        }
        void nowMs
        return out
      },
      onMessage: (nowMs, from, m) => {
        const out: Array<Effect<SimMessage>> = []
        if (m.type === 'piece-request' || m.type === 'piece' || m.type === 'piece-reject') { onPieceMessage(nowMs, from, m, out); return out }
        const c = dir.contact(from)
        if (isDhtRequest(m)) {
          if (dht == null || index == null) {
            // A leaf does not serve the DHT protocol (the binding unlistens when it demotes): the stream fails at once, as this error.
            out.push({ type: 'send', to: from, message: { type: 'error', requestId: m.requestId, code: 'not-a-dht-node' }, sizeBytes: 32 })
            return out
          }
          if (world.isSupernode(from) || world.role[from] === ROLE_SEEDER) execDht(nowMs, dht.peerAuthenticated(nowMs, c), out)
          execDht(nowMs, dht.handleMessage(nowMs, c, m), out)
          execSn(nowMs, index.handleMessage(nowMs, c, m), out)
          return out
        }
        if (dht?.ownsRequest(m.requestId) === true) execDht(nowMs, dht.handleMessage(nowMs, c, m), out)
        else if (index?.ownsRequest(m.requestId) === true) execSn(nowMs, index.handleMessage(nowMs, c, m), out)
        else if (leaf?.ownsRequest(m.requestId) === true) execLeaf(nowMs, leaf.handleMessage(nowMs, c, m), out)
        else driverAnswered(nowMs, m.requestId, m, out)
        return out
      },
      onTimer: (nowMs) => {
        const out: Array<Effect<SimMessage>> = []
        if (dht != null) execDht(nowMs, dht.handleTimeout(nowMs), out)
        if (index != null) execSn(nowMs, index.handleTimeout(nowMs), out)
        if (leaf != null) execLeaf(nowMs, leaf.handleTimeout(nowMs), out)
        if (driverReqs != null) for (const [id, r] of driverReqs) if (r.deadlineMs <= nowMs) driverAnswered(nowMs, id, undefined, out)
        if (downloads != null) {
          for (const d of [...downloads.values()]) {
            const t = d.session?.nextTimeoutMs()
            if (d.session != null && t !== undefined && t <= nowMs) { d.session.onRequestTimeout(nowMs); pump(nowMs, d, out) }
          }
        }
        if (nowMs >= joinAtMs && nowMs >= nextRefreshAtMs) {
          // While the refresh had nothing to do its timer was not armed (an event per node per interval at scale); back on the same period.
          if (joined && nowMs - nextRefreshAtMs >= 1000) nextRefreshAtMs += Math.ceil((nowMs - nextRefreshAtMs) / refreshIntervalMs) * refreshIntervalMs
          if (nowMs >= nextRefreshAtMs) { joinAtMs = 0; join(nowMs, out) }
        }
        if (nowMs >= nextPolicyAtMs) { nextPolicyAtMs = nowMs + p.policyIntervalS * 1000; checkPolicy(nowMs, out) }
        if (pendingProvides.size > 0) drainProvides(nowMs, out)
        return out
      },
      nextDeadlineMs: () => {
        // Called after every input: no closures, no allocation.
        // The refresh runs only once the node's join time has come (see onTimer): a promote-self before it must not spin the timer.
        let m = nextPolicyAtMs
        if (refreshWanted()) m = Math.min(m, Math.max(nextRefreshAtMs, joinAtMs))
        let t = dht?.nextDeadlineMs()
        if (t !== undefined && t < m) m = t
        t = index?.nextDeadlineMs()
        if (t !== undefined && t < m) m = t
        t = leaf?.nextDeadlineMs()
        if (t !== undefined && t < m) m = t
        if (driverReqs != null) for (const r of driverReqs.values()) if (r.deadlineMs < m) m = r.deadlineMs
        if (downloads != null) {
          for (const d of downloads.values()) {
            t = d.session?.nextTimeoutMs()
            if (t !== undefined && t < m) m = t
          }
        }
        if (pendingProvides.size > 0 && dht != null && provideRetryAtMs < m) m = provideRetryAtMs
        return m
      },
      onRequest: (nowMs, itemRank, sizeBytes) => {
        const out: Array<Effect<SimMessage>> = []
        if (holds(itemRank)) { out.push({ type: 'observe', name: 'request.local', value: 1 }); return out }
        if (downloads?.has(itemRank) === true) { out.push({ type: 'observe', name: 'request.ongoing', value: 1 }); return out }
        const d: Download = { itemRank, startMs: nowMs, pieceBytes: Math.ceil(sizeBytes / p.piecesPerItem), sizeBytes }
        downloads ??= new Map()
        downloads.set(itemRank, d)
        if (isSeeder) { finish(nowMs, d, out); return out }
        if (leaf != null) {
          execLeaf(nowMs, leaf.query(nowMs, keyOf(itemRank)).effects, out)
          return out
        }
        d.found = new Map((index?.localProviders(self, keyOf(itemRank)) ?? []).map(c => [c.peerId, c]))
        if (!startLookupFor(nowMs, itemRank, undefined, out)) startPieces(nowMs, d, [...d.found.values()], out)
        return out
      },
      onPeerDisconnected: (nowMs, peer) => {
        const out: Array<Effect<SimMessage>> = []
        if (leaf != null) execLeaf(nowMs, leaf.peerDisconnected(nowMs, String(peer)), out)
        if (index != null) execSn(nowMs, index.peerDisconnected(nowMs, String(peer)), out)
        dht?.peerDisconnected(dir.contact(peer).id)
        return out
      },
      onTransferSent: (_nowMs: number) => {
        const out: Array<Effect<SimMessage>> = []
        uploadsActive--
        const next = uploadQueue?.shift()
        if (next != null && !stopped) serve(next, out)
        return out
      },
      leafCount: () => index?.leafCount
    }
    return adapter
  }

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
